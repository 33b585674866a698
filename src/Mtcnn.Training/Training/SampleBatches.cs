using Mtcnn.Training.Data;
using Mtcnn.Training.Models;

namespace Mtcnn.Training.Training;

/// <summary>
/// Splits a sample set into training and validation parts by source image (so no face is seen in both), shuffles the
/// training part per epoch, and encodes batches into the network's input layout with their targets. Everything is a
/// pure function of the seed and the epoch number, so an interrupted run that resumes at epoch k sees exactly the
/// batches an uninterrupted run would.
/// </summary>
public sealed class SampleBatches
{
    private readonly SampleSet samples;
    private readonly ModelVariant variant;

    /// <summary>Creates the split.</summary>
    /// <param name="samples">The samples.</param>
    /// <param name="variant">The input encoding to use.</param>
    /// <param name="validationFraction">Fraction of source images held out.</param>
    /// <param name="seed">The seed of the split, shuffles and flips.</param>
    public SampleBatches(SampleSet samples, ModelVariant variant, double validationFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(samples);
        this.samples = samples;
        this.variant = variant;
        Seed = seed;
        var train = new List<int>(samples.Count);
        var validation = new List<int>();
        for (var i = 0; i < samples.Count; i++)
        {
            var u = SplitMix.Uniform((ulong)(uint)seed, 0x5eed_5917UL, (ulong)(uint)samples.SourceImage(i));
            (u < validationFraction ? validation : train).Add(i);
        }

        Training = train.ToArray();
        Validation = validation.ToArray();
    }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>Sample size (12, 24 or 48).</summary>
    public int Size => samples.Size;

    /// <summary>Indices of the training samples, in file order.</summary>
    public IReadOnlyList<int> Training { get; }

    /// <summary>Indices of the validation samples, in file order.</summary>
    public IReadOnlyList<int> Validation { get; }

    /// <summary>The underlying samples.</summary>
    public SampleSet Samples => samples;

    /// <summary>The training indices in the order of an epoch (a seeded Fisher–Yates shuffle).</summary>
    /// <param name="epoch">The epoch, 1-based.</param>
    /// <returns>A new array.</returns>
    public int[] EpochOrder(int epoch)
    {
        var order = Training.ToArray();
        var state = SplitMix.Mix((ulong)(uint)Seed ^ ((ulong)(uint)epoch << 32) ^ 0x0bad_cafe_f00dUL);
        for (var i = order.Length - 1; i > 0; i--)
        {
            state = SplitMix.Next(state);
            var j = (int)(state % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }

    /// <summary>Whether sample <paramref name="index"/> is mirrored in <paramref name="epoch"/> (a coin per sample and epoch).</summary>
    /// <param name="epoch">The epoch.</param>
    /// <param name="index">The sample index.</param>
    /// <returns>True to mirror.</returns>
    public bool FlipAt(int epoch, int index) =>
        SplitMix.Uniform((ulong)(uint)Seed, (ulong)(uint)epoch, (ulong)(uint)index ^ 0xf11bUL << 32) < 0.5;

    /// <summary>Encodes a batch.</summary>
    /// <param name="indices">The sample indices.</param>
    /// <param name="flips">Per sample: mirror it; null = none.</param>
    /// <param name="batch">The buffers to fill; resized as needed.</param>
    public void Encode(ReadOnlySpan<int> indices, ReadOnlySpan<bool> flips, BatchBuffers batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var n = indices.Length;
        var s = samples.Size;
        var plane = 3 * s * s;
        batch.Resize(n, s);
        var mirrored = new byte[plane];
        for (var b = 0; b < n; b++)
        {
            var i = indices[b];
            var flip = !flips.IsEmpty && flips[b];
            var pixels = samples.Pixels(i);
            if (flip)
            {
                MirrorPixels(pixels, s, mirrored);
                pixels = mirrored;
            }

            InputEncoding.Encode(pixels, s, variant, batch.Input.AsSpan(b * plane, plane));
            var kind = samples.Kind(i);
            batch.Labels[b] = (long)kind;
            var box = samples.Box(i);
            var marks = samples.Landmarks(i);
            var boxOut = batch.Boxes.AsSpan(b * 4, 4);
            var marksOut = batch.Landmarks.AsSpan(b * 10, 10);
            if (flip)
            {
                MirrorTargets(box, marks, boxOut, marksOut);
            }
            else
            {
                box.CopyTo(boxOut);
                marks.CopyTo(marksOut);
            }
        }
    }

    /// <summary>Mirrors an RGB HWC square image left to right.</summary>
    /// <param name="source">Size*Size*3 bytes.</param>
    /// <param name="size">Side length.</param>
    /// <param name="destination">Receives the mirrored image.</param>
    public static void MirrorPixels(ReadOnlySpan<byte> source, int size, Span<byte> destination)
    {
        for (var y = 0; y < size; y++)
        {
            var row = y * size * 3;
            for (var x = 0; x < size; x++)
            {
                var from = row + x * 3;
                var to = row + (size - 1 - x) * 3;
                destination[to] = source[from];
                destination[to + 1] = source[from + 1];
                destination[to + 2] = source[from + 2];
            }
        }
    }

    /// <summary>
    /// Mirrors box offsets and landmark targets with the crop: <c>dx1' = −dx2</c>, <c>dx2' = −dx1</c>, landmark
    /// <c>x' = 1 − x</c>, and the left/right eyes and mouth corners swap places.
    /// </summary>
    /// <param name="box">dx1, dy1, dx2, dy2.</param>
    /// <param name="landmarks">x1, y1, …, x5, y5 relative to the crop.</param>
    /// <param name="boxOut">Receives the mirrored offsets.</param>
    /// <param name="landmarksOut">Receives the mirrored points.</param>
    public static void MirrorTargets(ReadOnlySpan<float> box, ReadOnlySpan<float> landmarks, Span<float> boxOut, Span<float> landmarksOut)
    {
        boxOut[0] = -box[2];
        boxOut[1] = box[1];
        boxOut[2] = -box[0];
        boxOut[3] = box[3];
        ReadOnlySpan<int> partner = [1, 0, 2, 4, 3];
        var zero = true;
        foreach (var v in landmarks)
        {
            zero &= v == 0;
        }

        for (var p = 0; p < 5; p++)
        {
            var q = partner[p];
            landmarksOut[2 * p] = zero ? 0 : 1 - landmarks[2 * q];
            landmarksOut[2 * p + 1] = landmarks[2 * q + 1];
        }
    }
}

/// <summary>Reusable host buffers of one encoded batch.</summary>
public sealed class BatchBuffers
{
    /// <summary>N×3×S×S input values.</summary>
    public float[] Input { get; private set; } = [];

    /// <summary>Per sample: 0 negative, 1 positive, −1 part, −2 landmark.</summary>
    public long[] Labels { get; private set; } = [];

    /// <summary>N×4 box targets.</summary>
    public float[] Boxes { get; private set; } = [];

    /// <summary>N×10 landmark targets (interleaved).</summary>
    public float[] Landmarks { get; private set; } = [];

    /// <summary>Samples in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>Side length of the samples.</summary>
    public int Size { get; private set; }

    internal void Resize(int count, int size)
    {
        Count = count;
        Size = size;
        var inputLength = count * 3 * size * size;
        if (Input.Length != inputLength)
        {
            Input = new float[inputLength];
        }

        if (Labels.Length != count)
        {
            Labels = new long[count];
            Boxes = new float[count * 4];
            Landmarks = new float[count * 10];
        }
    }
}

/// <summary>SplitMix64: a tiny, fast, well-mixed generator whose output depends only on its inputs.</summary>
internal static class SplitMix
{
    public static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Next(ulong state) => Mix(state);

    public static double Uniform(ulong a, ulong b, ulong c) =>
        (Mix(Mix(Mix(a) ^ b) ^ c) >> 11) * (1.0 / (1UL << 53));
}
