using System.Diagnostics;
using System.Globalization;
using Mtcnn.Inference;
using Mtcnn.OnnxRuntime;

namespace Mtcnn.Benchmarks;

/// <summary>
/// <c>networks [threads]</c>: per-network throughput of the built-in kernels and of ONNX Runtime's CPU provider side by
/// side on random inputs: P-Net on the first pyramid level of a 1920x1080 image at min face 20 (1152x648) and of a
/// 640x480 one (384x288), R-Net and O-Net on batches of 1, 32 and 256 crops (crops per second). Wall time, median of
/// five rounds of about half a second each.
/// </summary>
internal static class NetworkProbe
{
    public static void Run(int threads)
    {
        var weights = MtcnnWeights.Default;
        var nets = new Networks(weights, Simd.Best);
        using var onnx = OnnxRuntimeBackend.Create(weights, new OnnxRuntimeBackendOptions { IntraOpThreads = threads });
        var rng = new Random(1);
        Console.WriteLine($"networks probe: {Environment.ProcessorCount} cores, built-in kernels {Simd.Best} on one thread, ONNX Runtime CPU with {threads} intra-op thread(s)");
        Console.WriteLine("| network | input | built-in | ONNX Runtime CPU |");
        Console.WriteLine("|---|---|---:|---:|");
        foreach (var (w, h) in new[] { (1152, 648), (384, 288) })
        {
            var input = Random(w * h * 3, rng);
            int scratch = nets.P.ScratchSize(h, w);
            float[] a = new float[scratch], b = new float[scratch];
            var (oh, ow) = FaceDetector.PNetOutputSize(h, w, weights.Variant);
            var output = new float[oh * ow * 6];
            double builtIn = Median(() => nets.P.Forward(input, h, w, a, b));
            double ort = Median(() => onnx.RunPNet(input, h, w, output));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| P-Net | one level {w}x{h} | {builtIn:F2} ms | {ort:F2} ms |"));
        }

        foreach (var (net, stage, name) in new[] { (nets.R, CascadeStage.RNet, "R-Net"), (nets.O, CascadeStage.ONet, "O-Net") })
        {
            foreach (int n in new[] { 1, 32, 256 })
            {
                var crops = Random(n * net.InputLength, rng);
                var output = new float[n * net.OutputStride];
                float[] a = new float[net.ScratchPerCrop], b = new float[net.ScratchPerCrop], flat = new float[n * net.FlatLength], dense = new float[net.DenseSize(n)], batch = new float[net.BatchSize(n)];
                double builtIn = Median(() => net.Forward(crops, n, a, b, flat, dense, output, batch));
                double ort = Median(() => onnx.RunCrops(stage, crops, n, output, net.OutputStride));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | batch {n} | {n / builtIn * 1000:F0} crops/s | {n / ort * 1000:F0} crops/s |"));
            }
        }
    }

    private static float[] Random(int n, Random rng)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return v;
    }

    /// <summary>Milliseconds per call: the median of five rounds of about half a second.</summary>
    private static double Median(Action action)
    {
        action();
        var rounds = new double[5];
        for (int r = 0; r < rounds.Length; r++)
        {
            var sw = Stopwatch.StartNew();
            int calls = 0;
            while (sw.ElapsedMilliseconds < 500 || calls < 3)
            {
                action();
                calls++;
            }

            rounds[r] = sw.Elapsed.TotalMilliseconds / calls;
        }

        Array.Sort(rounds);
        return rounds[2];
    }
}
