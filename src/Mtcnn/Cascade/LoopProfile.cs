using System.Diagnostics;

namespace Mtcnn.Cascade;

/// <summary>
/// Optional accounting of the cascade's parallel loops, for the benchmark probe <c>-- profile</c>: per loop, the wall
/// time of the loop (from hand-out to the last index done) and each thread's busy time inside it. Off by default; when
/// off it costs one volatile read per loop. Not thread-safe across concurrent detections (the probe runs one).
/// </summary>
internal static class LoopProfile
{
    /// <summary>The loops: the pyramid's resampling bands, P-Net's bands, the per-level NMS, R-Net's and O-Net's crop chunks.</summary>
    public static readonly string[] Names = ["resample", "pnet", "level-nms", "rnet", "onet"];

    /// <summary>Thread slots: 0 is the calling thread, 1.. the team's helpers.</summary>
    public const int Slots = 8;

    private static readonly long[] Wall = new long[5];
    private static readonly long[] Calls = new long[5];
    private static readonly long[,] Busy = new long[5, Slots];
    private static volatile bool enabled;

    /// <summary>Whether loops are accounted.</summary>
    public static bool Enabled
    {
        get => enabled;
        set => enabled = value;
    }

    /// <summary>Clears the counters.</summary>
    public static void Reset()
    {
        Array.Clear(Wall);
        Array.Clear(Calls);
        Array.Clear(Busy);
    }

    /// <summary>Adds a loop's wall time.</summary>
    public static void AddWall(int loop, long ticks)
    {
        Interlocked.Add(ref Wall[loop], ticks);
        Interlocked.Increment(ref Calls[loop]);
    }

    /// <summary>Adds a thread's busy time in a loop.</summary>
    public static void AddBusy(int loop, int slot, long ticks) =>
        Interlocked.Add(ref Busy[loop, Math.Min(slot, Slots - 1)], ticks);

    /// <summary>Per loop: calls, wall seconds and busy seconds per slot.</summary>
    public static (long Calls, double Wall, double[] Busy)[] Snapshot()
    {
        var result = new (long, double, double[])[Names.Length];
        for (int l = 0; l < Names.Length; l++)
        {
            var busy = new double[Slots];
            for (int s = 0; s < Slots; s++)
            {
                busy[s] = (double)Busy[l, s] / Stopwatch.Frequency;
            }

            result[l] = (Calls[l], (double)Wall[l] / Stopwatch.Frequency, busy);
        }

        return result;
    }
}
