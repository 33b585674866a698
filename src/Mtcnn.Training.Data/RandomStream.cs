namespace Mtcnn.Training.Data;

/// <summary>
/// A small deterministic random number generator (xoshiro256** seeded through SplitMix64) whose sequence depends only
/// on its seed: the same on every machine, runtime and thread count. Data preparation gives every image its own stream,
/// derived from the run's seed and the image's index, so results do not depend on which thread handles which image.
/// </summary>
internal struct RandomStream
{
    private ulong s0;
    private ulong s1;
    private ulong s2;
    private ulong s3;

    /// <summary>A stream for one image of a run: a function of the run's seed and the image's index only.</summary>
    public RandomStream(long seed, long stream)
    {
        ulong x = unchecked((ulong)seed ^ ((ulong)stream * 0xD1B54A32D192ED03UL) ^ 0x4D544E4E5F44415AUL);
        s0 = SplitMix(ref x);
        s1 = SplitMix(ref x);
        s2 = SplitMix(ref x);
        s3 = SplitMix(ref x);
    }

    /// <summary>64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = RotateLeft(s3, 45);
        return result;
    }

    /// <summary>A uniform integer in [<paramref name="min"/>, <paramref name="max"/>] (both included; max &gt;= min).</summary>
    public int NextInt(int min, int max)
    {
        ulong range = (ulong)((long)max - min) + 1;

        // Lemire's multiply-and-reject: unbiased for any range.
        ulong x = NextUInt64();
        UInt128 m = (UInt128)x * range;
        ulong low = (ulong)m;
        if (low < range)
        {
            ulong threshold = (0UL - range) % range;
            while (low < threshold)
            {
                x = NextUInt64();
                m = (UInt128)x * range;
                low = (ulong)m;
            }
        }

        return (int)((long)min + (long)(ulong)(m >> 64));
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform float in [<paramref name="min"/>, <paramref name="max"/>).</summary>
    public float NextFloat(float min, float max) => (float)(min + ((max - (double)min) * NextDouble()));

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => NextDouble() < p;

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
