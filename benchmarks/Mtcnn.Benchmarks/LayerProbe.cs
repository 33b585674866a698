using System.Diagnostics;
using System.Globalization;
using Mtcnn.Cascade;
using Mtcnn.Inference;

namespace Mtcnn.Benchmarks;

/// <summary>
/// Single-thread CPU time of each P-Net step summed over a whole pyramid (resampling, each layer, pooling), next to
/// the detector's P-Net stage, to show how much of the stage is outside the network.
/// </summary>
internal static class LayerProbe
{
    public static void Run(int width, int height, float minFace)
    {
        var img = BenchImages.Load(BenchImages.Sources()[0], width, height);
        var nets = new Networks(MtcnnWeights.Default, Simd.Best);
        var p = nets.P;
        var ii = new IntegralImage();
        var levels = new List<PyramidLevel>();
        var options = new DetectorOptions { MinFaceSize = minFace, MaxDegreeOfParallelism = 1, LastStage = CascadeStage.PNet };
        ii.Build(img.Pixels.Span, width, height, img.Stride, img.Format, false);
        CascadeRunner.PlanPyramid(height, width, options, levels, p);
        int maxW = levels[0].Width, maxH = levels[0].Height;
        var inputs = levels.Select(lv => new float[lv.Width * lv.Height * 3]).ToArray();
        var ints = new int[Math.Max(maxW, maxH) * 4];
        var a = new float[p.ScratchSize(maxH, maxW)];
        var b = new float[a.Length];
        var c1 = levels.Select(lv => new float[p.ScratchSize(lv.Height, lv.Width)]).ToArray();
        var pooled = levels.Select(lv => new float[p.ScratchSize(lv.Height, lv.Width)]).ToArray();
        var c2 = levels.Select(lv => new float[p.ScratchSize(lv.Height, lv.Width)]).ToArray();
        var c3 = levels.Select(lv => new float[p.ScratchSize(lv.Height, lv.Width)]).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{width}x{height} min face {minFace}: {levels.Count} levels, {levels.Sum(l => (long)l.Width * l.Height)} pyramid pixels, level 0 {levels[0].Width}x{levels[0].Height}"));
        ProbeTimer.Time("integral image", () => ii.Build(img.Pixels.Span, width, height, img.Stride, img.Format, false));
        ProbeTimer.Time("resample", () =>
        {
            for (int l = 0; l < levels.Count; l++)
            {
                var lv = levels[l];
                ii.Resample(0, 0, width, height, lv.Width, lv.Height, 0, lv.Height, 127.5f, 0.0078125f, inputs[l], ints);
            }
        });
        ProbeTimer.Time("conv1", () =>
        {
            for (int l = 0; l < levels.Count; l++)
            {
                var lv = levels[l];
                int h1 = lv.Height - 2, w1 = lv.Width - 2;
                p.Conv1.Forward(inputs[l], c1[l], 0, ((h1 - 1) * lv.Width) + w1, lv.Width);
            }
        });
        ProbeTimer.Time("pool", () =>
        {
            for (int l = 0; l < levels.Count; l++)
            {
                var lv = levels[l];
                MaxPool.Forward(c1[l], lv.Height - 2, lv.Width - 2, lv.Width, p.Conv1.OutputChannelStride, 2, 2, true, pooled[l], Simd.Best);
            }
        });
        if (PNetFirstLayer.Fits(p.Conv1))
        {
            // What the network runs instead of the two lines above at this level: conv1, PReLU and pooling fused, its
            // output channels five at a time (20 accumulators) and two at a time (8); the network picks one by the
            // instruction set's register count.
            var w = MtcnnWeights.Default;
            var planes = new float[PNetFirstLayer.ScratchSize(maxW)];
            foreach (bool five in new[] { true, false })
            {
                var fused = new PNetFirstLayer(w.Get("pnet.conv1.weight").Data, w.Get("pnet.conv1.bias").Data, w.Get("pnet.prelu1.weight").Data, Simd.Best, five);
                ProbeTimer.Time(five ? "conv1 + pool fused, 5 ch" : "conv1 + pool fused, 2 ch", () =>
                {
                    for (int l = 0; l < levels.Count; l++)
                    {
                        var lv = levels[l];
                        fused.Forward(inputs[l], lv.Height, lv.Width, MaxPool.OutputSize(lv.Height - 2, 2, 2, true), MaxPool.OutputSize(lv.Width - 2, 2, 2, true),
                            planes, pooled[l]);
                    }
                });
            }
        }

        // conv2, conv3 and the heads run on the pooled grid: 'shrink' is how many rows and columns the layers so far
        // have taken off it (2 after conv2, 4 after conv3), the run covers the rest.
        var grids = levels.Select(lv => (H: MaxPool.OutputSize(lv.Height - 2, 2, 2, true), W: MaxPool.OutputSize(lv.Width - 2, 2, 2, true))).ToArray();
        void TimeLayer(string name, ConvLayer layer, float[][] from, float[][] to, int shrink) => ProbeTimer.Time(name, () =>
        {
            for (int l = 0; l < levels.Count; l++)
            {
                var (hp, wp) = grids[l];
                layer.Forward(from[l], to[l], 0, ((hp - shrink - 1) * wp) + wp - shrink, wp);
            }
        });

        TimeLayer("conv2", p.Conv2, pooled, c2, 2);
        TimeLayer("conv3", p.Conv3, c2, c3, 4);
        TimeLayer("head", p.Head, c3, c2, 4);
        ProbeTimer.Time("forward (whole levels)", () =>
        {
            for (int l = 0; l < levels.Count; l++)
            {
                p.Forward(inputs[l], levels[l].Height, levels[l].Width, a, b);
            }
        });
        var det = new FaceDetector(options);
        int cands = 0;
        ProbeTimer.Time("detector P-Net stage", () => cands = det.Detect(img).PNetCandidates.Count);
        Console.WriteLine($"candidates after P-Net: {cands}");
    }
}
