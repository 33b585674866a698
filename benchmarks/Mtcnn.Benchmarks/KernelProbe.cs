using System.Diagnostics;
using System.Globalization;
using Mtcnn.Inference;

namespace Mtcnn.Benchmarks;

/// <summary>Measures the sustained GFLOP/s of each P-Net/R-Net/O-Net layer kernel on realistic shapes.</summary>
internal static class KernelProbe
{
    public static void Run()
    {
        var nets = new Networks(MtcnnWeights.Default, Simd.Best);
        Console.WriteLine($"SIMD: {Simd.Best}");
        int h = 200, w = 300;
        var input = new float[h * w * 3];
        new Random(1).NextSingle();
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (i % 97) / 97f - 0.5f;
        }

        int scratch = nets.P.ScratchSize(h, w);
        var a = new float[scratch];
        var b = new float[scratch];
        Time("pnet whole 200x300", () => nets.P.Forward(input, h, w, a, b), 1830.0 * h * w * 2);
        var big = new float[scratch];
        Array.Fill(big, 0.1f);
        int n1 = ((h - 3) * w) + (w - 2);
        Time("pnet conv1", () => nets.P.Conv1.Forward(input, a, 0, n1, w), nets.P.Conv1.MacsPerPosition * n1 * 2);
        int wp = 149, n2 = ((97 - 1) * wp) + 147;
        Time("pnet conv2", () => nets.P.Conv2.Forward(big, a, 0, n2, wp), nets.P.Conv2.MacsPerPosition * n2 * 2);
        Time("pnet conv3", () => nets.P.Conv3.Forward(big, a, 0, n2, wp), nets.P.Conv3.MacsPerPosition * n2 * 2);
        var wscratch = new float[Math.Max(nets.P.Conv2.WinogradScratch, nets.P.Conv3.WinogradScratch)];
        if (nets.P.Conv2.Winograd is { } w2)
        {
            Time("pnet conv2 winograd", () => w2.Forward(big, a, 99, 149, wp, wscratch), nets.P.Conv2.MacsPerPosition * n2 * 2);
        }

        Time("pnet conv3 winograd", () => nets.P.Conv3.Winograd!.Forward(big, a, 99, 149, wp, wscratch), nets.P.Conv3.MacsPerPosition * n2 * 2);
        // Crops of noise in [-1, 1] (the nets' input range), not a constant, so that activations vary as they do on photos.
        var rng = new Random(7);
        var crops = new float[32 * 24 * 24 * 3];
        for (int i = 0; i < crops.Length; i++)
        {
            crops[i] = (rng.NextSingle() * 2) - 1;
        }

        var r = nets.R;
        var outp = new float[32 * r.OutputStride];
        var ra = new float[r.ScratchPerCrop];
        var rb = new float[r.ScratchPerCrop];
        var flat = new float[32 * r.FlatLength];
        var dense = new float[r.DenseSize(32)];
        Time("rnet x32", () => r.Forward(crops, 32, ra, rb, flat, dense, outp), 32 * 3.1e6);
        var rbatch = new float[r.BatchSize(32)];
        Time("rnet x32 batched", () => r.Forward(crops, 32, ra, rb, flat, dense, outp, rbatch), 32 * 3.1e6);

        // The first layers of R-Net and O-Net alone (3 input channels, direct), and their pooling, on 32 crops.
        foreach (var (net, side) in new[] { ("rnet", 24), ("onet", 48) })
        {
            var conv1 = Networks.Layer(MtcnnWeights.Default, net, "conv1", "prelu1", 3, Simd.Best, 3);
            int os = side - 2;
            var positions = Enumerable.Range(0, os * os).Select(i => ((i / os) * side) + (i % os)).ToArray();
            var src = new float[side * side * 3];
            Array.Fill(src, 0.2f);
            var dst = new float[side * side * conv1.OutputChannelStride];
            var pooled = new float[side * side * conv1.OutputChannelStride];
            Time($"{net} conv1 x32", () =>
            {
                for (int i = 0; i < 32; i++)
                {
                    conv1.Forward(src, dst, positions, side);
                }
            }, 32.0 * os * os * conv1.MacsPerPosition * 2);
            Time($"{net} pool1 x32", () =>
            {
                for (int i = 0; i < 32; i++)
                {
                    MaxPool.Forward(dst, os, os, side, conv1.OutputChannelStride, 3, 2, true, pooled, Simd.Best);
                }
            }, 0);
        }

        // R-Net conv3 (2x2, 48 to 64 channels, 9 positions per crop: one block of eight and a lone position).
        var rconv3 = Networks.Layer(MtcnnWeights.Default, "rnet", "conv3", "prelu3", 48, Simd.Best, 48);
        int[] nine = [0, 1, 2, 4, 5, 6, 8, 9, 10];
        var c3in = new float[4 * 4 * 48];
        Array.Fill(c3in, 0.1f);
        var c3out = new float[4 * 4 * rconv3.OutputChannelStride];
        Time("rnet conv3 x32", () =>
        {
            for (int i = 0; i < 32; i++)
            {
                rconv3.Forward(c3in, c3out, nine, 4);
            }
        }, 32.0 * 9 * rconv3.MacsPerPosition * 2);

        var o = nets.O;
        var ocrops = new float[32 * 48 * 48 * 3];
        for (int i = 0; i < ocrops.Length; i++)
        {
            ocrops[i] = (rng.NextSingle() * 2) - 1;
        }
        var oout = new float[32 * o.OutputStride];
        var oa = new float[o.ScratchPerCrop];
        var ob = new float[o.ScratchPerCrop];
        var oflat = new float[32 * o.FlatLength];
        var odense = new float[o.DenseSize(32)];
        Time("onet x32", () => o.Forward(ocrops, 32, oa, ob, oflat, odense, oout), 32 * 25.8e6);
        var obatch = new float[o.BatchSize(32)];
        Time("onet x32 batched", () => o.Forward(ocrops, 32, oa, ob, oflat, odense, oout, obatch), 32 * 25.8e6);
    }

    private static void Time(string name, Action action, double flops)
    {
        for (int i = 0; i < 3; i++)
        {
            action();
        }

        // Thread CPU time rather than wall time, so that other processes on the machine disturb the figure less.
        var cpu0 = Environment.CpuUsage.UserTime;
        var sw = Stopwatch.StartNew();
        int n = 0;
        while (sw.ElapsedMilliseconds < 700)
        {
            action();
            n++;
        }

        double ms = (Environment.CpuUsage.UserTime - cpu0).TotalMilliseconds / n;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-22} {ms,8:F3} ms  {flops / ms / 1e6,7:F1} GFLOP/s"));
    }
}
