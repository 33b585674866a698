using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Mtcnn.Inference;

namespace Mtcnn.Benchmarks;

/// <summary>
/// What this machine can do right now, to read the other probes against: the register-only FMA rate per vector width
/// (no memory traffic: the kernels' ceiling) and the read rate from an L2-sized and a DRAM-sized buffer, on one thread
/// and on every core at once (per thread, and as a share of the one-thread rate). Shared VMs vary from run to run and
/// from day to day; a slow day shows here first.
/// </summary>
internal static class PeakProbe
{
    private static float Sink;

    private const int Chains = 12; // independent FMA chains: more than latency x ports on current x64 and ARM cores

    public static void Run(int rounds)
    {
        int cores = Environment.ProcessorCount;
        Console.WriteLine($"peak probe: {cores} cores, Vector512 {Vector512.IsHardwareAccelerated}, Vector256 {Vector256.IsHardwareAccelerated}, Vector128 {Vector128.IsHardwareAccelerated}; best of {rounds} rounds of 0.3 s");
        Console.WriteLine("| what | 1 thread | per thread with " + cores + " | share |");
        Console.WriteLine("|---|---:|---:|---:|");
        if (Vector512.IsHardwareAccelerated)
        {
            Row("FMA 512-bit, GFLOP/s", rounds, cores, Fma512);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            Row("FMA 256-bit, GFLOP/s", rounds, cores, Fma256);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            Row("FMA 128-bit, GFLOP/s", rounds, cores, Fma128);
        }

        Row("read 256 KB (L2), GB/s", rounds, cores, () => Reader(256 << 10));
        Row("read 256 MB (DRAM), GB/s", rounds, cores, () => Reader(256 << 20));
    }

    // Best of the rounds on one thread, then on every core at once (each thread its own work), per thread.
    private static void Row(string name, int rounds, int cores, Func<Func<double>> make)
    {
        double one = 0, many = 0;
        for (int r = 0; r < rounds; r++)
        {
            one = Math.Max(one, make()());
            var work = Enumerable.Range(0, cores).Select(_ => make()).ToArray();
            var rates = new double[cores];
            var threads = Enumerable.Range(0, cores).Select(i => new Thread(() => rates[i] = work[i]())).ToArray();
            foreach (var t in threads)
            {
                t.Start();
            }

            foreach (var t in threads)
            {
                t.Join();
            }

            many = Math.Max(many, rates.Min());
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {one:F1} | {many:F1} | {many / one:P0} |"));
    }

    private static Func<double> Fma512() => Fma<Ops512, Vector512<float>>;

    private static Func<double> Fma256() => Fma<Ops256, Vector256<float>>;

    private static Func<double> Fma128() => Fma<Ops128, Vector128<float>>;

    // Runs for 0.3 s on the kernels' own vector operations; returns GFLOP/s (2 per lane per FMA).
    private static unsafe double Fma<TOps, TV>()
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        float one = 0.999f, small = 1e-3f;
        TV m = TOps.LoadBroadcast(&one), a = TOps.LoadBroadcast(&small);
        TV* chains = stackalloc TV[Chains];
        for (int i = 0; i < Chains; i++)
        {
            chains[i] = a;
        }

        const int Burst = 65536;
        long fmas = 0;
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 300)
        {
            Fmas<TOps, TV>(chains, m, a, Burst);
            fmas += (long)Burst * Chains;
        }

        double seconds = sw.Elapsed.TotalSeconds;
        TV sum = chains[0];
        for (int i = 1; i < Chains; i++)
        {
            sum = TOps.Add(sum, chains[i]);
        }

        float* lanes = stackalloc float[TOps.Width];
        TOps.Store(lanes, sum);
        Sink += lanes[0]; // a result that is used, so that the JIT keeps the chains
        return fmas * TOps.Width * 2 / seconds / 1e9;
    }

    // Twelve independent chains c = c * m + a in registers (optimised at once: a loop entered a few times would
    // otherwise run as on-stack-replacement code, which keeps the chains in memory).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Fmas<TOps, TV>(TV* chains, TV m, TV a, int count)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        TV c0 = chains[0], c1 = chains[1], c2 = chains[2], c3 = chains[3], c4 = chains[4], c5 = chains[5];
        TV c6 = chains[6], c7 = chains[7], c8 = chains[8], c9 = chains[9], c10 = chains[10], c11 = chains[11];
        for (int i = 0; i < count; i++)
        {
            c0 = TOps.FusedMultiplyAdd(c0, m, a); c1 = TOps.FusedMultiplyAdd(c1, m, a); c2 = TOps.FusedMultiplyAdd(c2, m, a);
            c3 = TOps.FusedMultiplyAdd(c3, m, a); c4 = TOps.FusedMultiplyAdd(c4, m, a); c5 = TOps.FusedMultiplyAdd(c5, m, a);
            c6 = TOps.FusedMultiplyAdd(c6, m, a); c7 = TOps.FusedMultiplyAdd(c7, m, a); c8 = TOps.FusedMultiplyAdd(c8, m, a);
            c9 = TOps.FusedMultiplyAdd(c9, m, a); c10 = TOps.FusedMultiplyAdd(c10, m, a); c11 = TOps.FusedMultiplyAdd(c11, m, a);
        }

        chains[0] = c0; chains[1] = c1; chains[2] = c2; chains[3] = c3; chains[4] = c4; chains[5] = c5;
        chains[6] = c6; chains[7] = c7; chains[8] = c8; chains[9] = c9; chains[10] = c10; chains[11] = c11;
    }

    // A buffer of its own (filled, so that its pages exist), summed again and again for 0.3 s when called; returns GB/s.
    private static Func<double> Reader(int bytes)
    {
        var data = new float[bytes / sizeof(float)];
        data.AsSpan().Fill(1f);
        return () => Read(data, bytes);
    }

    private static double Read(float[] data, int bytes)
    {
        long read = 0;
        float sink = 0;
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 300)
        {
            sink += Sum(data);
            read += bytes;
        }

        Sink += sink;
        return read / sw.Elapsed.TotalSeconds / 1e9;
    }

    private static float Sum(float[] data)
    {
        var v = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(data);
        System.Numerics.Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int i = 0; i + 3 < v.Length; i += 4)
        {
            s0 += v[i];
            s1 += v[i + 1];
            s2 += v[i + 2];
            s3 += v[i + 3];
        }

        return System.Numerics.Vector.Sum(s0 + s1 + s2 + s3);
    }
}
