using System.Diagnostics;
using System.Globalization;
using Mtcnn.Cascade;
using Mtcnn.Inference;

namespace Mtcnn.Benchmarks;

/// <summary>Splits the P-Net stage's CPU time into resampling and network forward passes.</summary>
internal static class PNetProbe
{
    public static void Run()
    {
        var img = BenchImages.Load(BenchImages.Sources()[0], 640, 480);
        var nets = new Networks(MtcnnWeights.Default, Simd.Best);
        var ii = new IntegralImage();
        var levels = new List<PyramidLevel>();
        CascadeRunner.PlanPyramid(480, 640, DetectorOptions.Default, levels, nets.P);
        var input = new float[400 * 400 * 3];
        var ints = new int[ii.ScratchInts(400)];
        var a = new float[nets.P.ScratchSize(400, 400)];
        var b = new float[a.Length];
        ProbeTimer.Time("integral", () => ii.Build(img.Pixels.Span, 640, 480, img.Stride, img.Format, false));
        ProbeTimer.Time("resample all levels", () =>
        {
            foreach (var lv in levels)
            {
                ii.Resample(0, 0, 640, 480, lv.Width, lv.Height, 0, lv.Height, 127.5f, 0.0078125f, input, ints);
            }
        });
        ProbeTimer.Time("pnet all levels", () =>
        {
            foreach (var lv in levels)
            {
                nets.P.Forward(input, lv.Height, lv.Width, a, b);
            }
        });
        foreach (int band in new[] { 24, 48, 1000 })
        {
            ProbeTimer.Time($"pnet bands of {band}", () =>
            {
                foreach (var lv in levels)
                {
                    for (int r = 0; r < lv.OutHeight; r += band)
                    {
                        var (first, rows) = PNet.InputRows(r, Math.Min(band, lv.OutHeight - r), lv.Height);
                        ii.Resample(0, 0, 640, 480, lv.Width, lv.Height, first, rows, 127.5f, 0.0078125f, input, ints);
                        nets.P.Forward(input, rows, lv.Width, a, b);
                    }
                }
            });
        }

        foreach (int band in new[] { 24, 1000 })
        {
            ProbeTimer.Time($"resample bands {band}", () =>
            {
                foreach (var lv in levels)
                {
                    for (int r = 0; r < lv.OutHeight; r += band)
                    {
                        var (first, rows) = PNet.InputRows(r, Math.Min(band, lv.OutHeight - r), lv.Height);
                        ii.Resample(0, 0, 640, 480, lv.Width, lv.Height, first, rows, 127.5f, 0.0078125f, input, ints);
                    }
                }
            });
            ProbeTimer.Time($"forward bands {band}", () =>
            {
                foreach (var lv in levels)
                {
                    for (int r = 0; r < lv.OutHeight; r += band)
                    {
                        var (first, rows) = PNet.InputRows(r, Math.Min(band, lv.OutHeight - r), lv.Height);
                        nets.P.Forward(input, rows, lv.Width, a, b);
                    }
                }
            });
        }

        foreach (int band in new[] { 24, 1000 })
        {
            var lv = levels[0];
            var (first0, rows0) = PNet.InputRows(0, Math.Min(band, lv.OutHeight), lv.Height);
            ii.Resample(0, 0, 640, 480, lv.Width, lv.Height, first0, rows0, 127.5f, 0.0078125f, input, ints);
            int h1 = rows0 - 2, w1 = lv.Width - 2;
            ProbeTimer.Time($"L0 conv1 band {band}", () => nets.P.Conv1.Forward(input, a, 0, ((h1 - 1) * lv.Width) + w1, lv.Width));
            ProbeTimer.Time($"L0 pool band {band}", () => MaxPool.Forward(a, h1, w1, lv.Width, nets.P.Conv1.OutputChannelStride, 2, 2, true, b, Simd.Best));
            ProbeTimer.Time($"L0 fwd band {band}", () => nets.P.Forward(input, rows0, lv.Width, a, b));
        }

        long px = levels.Sum(l => (long)l.Width * l.Height);
        Console.WriteLine($"levels {levels.Count}, pyramid pixels {px}");
    }
}

/// <summary>P-Net stage through the detector, per photo.</summary>
internal static class PNetStageProbe
{
    public static void Run()
    {
        foreach (var src in BenchImages.Sources())
        {
            var img = BenchImages.Load(src, 640, 480);
            var det = new FaceDetector(new DetectorOptions { LastStage = CascadeStage.PNet, MaxDegreeOfParallelism = 1 });
            det.Detect(img);
            var cpu0 = Environment.CpuUsage.UserTime;
            var sw = Stopwatch.StartNew();
            int n = 0;
            int c = 0;
            while (sw.ElapsedMilliseconds < 1000)
            {
                c = det.Detect(img).PNetCandidates.Count;
                n++;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(src),-20} {(Environment.CpuUsage.UserTime - cpu0).TotalMilliseconds / n,8:F3} ms CPU, {c} candidates"));
        }
    }
}
