using System.Diagnostics;
using System.Globalization;
using Mtcnn.Cascade;
using Mtcnn.Inference;

namespace Mtcnn.Benchmarks;

/// <summary>
/// P-Net forward cost of the largest 1080p level for several band heights, per layer. With correct band geometry
/// the cost barely depends on the band height (each band adds 10 input rows of receptive field). It found a bug:
/// <c>PNet.InputRows</c> once returned the band's last input row as its row count, so small bands cost 4x more.
/// </summary>
internal static class BandProbe
{
    public static void Run()
    {
        var img = BenchImages.Load(BenchImages.Sources()[0], 1920, 1080);
        var nets = new Networks(MtcnnWeights.Default, Simd.Best);
        var ii = new IntegralImage();
        ii.Build(img.Pixels.Span, 1920, 1080, img.Stride, img.Format, false);
        var levels = new List<PyramidLevel>();
        CascadeRunner.PlanPyramid(1080, 1920, DetectorOptions.Default, levels, nets.P);
        var lv = levels[0];
        var input = new float[lv.Height * lv.Width * 3];
        var ints = new int[ii.ScratchInts(lv.Width)];
        ii.Resample(0, 0, 1920, 1080, lv.Width, lv.Height, 0, lv.Height, 127.5f, 0.0078125f, input, ints);
        var a = new float[nets.P.ScratchSize(lv.Height, lv.Width)];
        var b = new float[a.Length];
        Console.WriteLine($"level 0: {lv.Height}x{lv.Width}, out rows {lv.OutHeight}");
        foreach (int band in new[] { lv.OutHeight, 160, 80, 40, 20 })
        {
            double best = double.MaxValue;
            for (int rep = 0; rep < 3; rep++)
            {
                var cpu0 = Environment.CpuUsage.UserTime;
                for (int r = 0; r < lv.OutHeight; r += band)
                {
                    var (first, rows) = PNet.InputRows(r, Math.Min(band, lv.OutHeight - r), lv.Height);
                    nets.P.Forward(input.AsSpan(first * lv.Width * 3), rows, lv.Width, a, b);
                }

                best = Math.Min(best, (Environment.CpuUsage.UserTime - cpu0).TotalMilliseconds);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bands of {band,4}: {best,8:F2} ms for the level"));
            var t = new double[5];
            for (int r = 0; r < lv.OutHeight; r += band)
            {
                var (first, rows) = PNet.InputRows(r, Math.Min(band, lv.OutHeight - r), lv.Height);
                var inp = input.AsSpan(first * lv.Width * 3);
                int width = lv.Width, h1 = rows - 2, w1 = width - 2;
                var P = nets.P;
                long s0 = Stopwatch.GetTimestamp();
                P.Conv1.Forward(inp, a, 0, ((h1 - 1) * width) + w1, width);
                long s1 = Stopwatch.GetTimestamp();
                int hp = MaxPool.OutputSize(h1, 2, 2, true), wp = MaxPool.OutputSize(w1, 2, 2, true);
                MaxPool.Forward(a, h1, w1, width, P.Conv1.OutputChannelStride, 2, 2, true, b, Simd.Best);
                long s2 = Stopwatch.GetTimestamp();
                int h2 = hp - 2, w2 = wp - 2;
                P.Conv2.Forward(b, a, 0, ((h2 - 1) * wp) + w2, wp);
                long s3 = Stopwatch.GetTimestamp();
                int h3 = h2 - 2, w3 = w2 - 2, n3 = ((h3 - 1) * wp) + w3;
                P.Conv3.Forward(a, b, 0, n3, wp);
                long s4 = Stopwatch.GetTimestamp();
                P.Head.Forward(b, a, 0, n3, wp);
                long s5 = Stopwatch.GetTimestamp();
                t[0] += Stopwatch.GetElapsedTime(s0, s1).TotalMilliseconds; t[1] += Stopwatch.GetElapsedTime(s1, s2).TotalMilliseconds;
                t[2] += Stopwatch.GetElapsedTime(s2, s3).TotalMilliseconds; t[3] += Stopwatch.GetElapsedTime(s3, s4).TotalMilliseconds;
                t[4] += Stopwatch.GetElapsedTime(s4, s5).TotalMilliseconds;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   conv1 {t[0]:F1} pool {t[1]:F1} conv2 {t[2]:F1} conv3 {t[3]:F1} head {t[4]:F1}"));
        }
    }
}
