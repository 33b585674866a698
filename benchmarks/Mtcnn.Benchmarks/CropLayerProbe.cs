using System.Diagnostics;
using System.Globalization;
using Mtcnn.Inference;

namespace Mtcnn.Benchmarks;

/// <summary>Per-crop CPU time of R-Net and O-Net cut after each convolution (differences give each layer's share).</summary>
internal static class CropLayerProbe
{
    public static void Run()
    {
        var nets = new Networks(MtcnnWeights.Default, Simd.Best);
        foreach (var net in new[] { nets.R, nets.O })
        {
            var rnd = new Random(5);
            var crops = Enumerable.Range(0, 32 * net.InputLength).Select(_ => (rnd.NextSingle() * 2) - 1).ToArray();
            var a = new float[net.ScratchPerCrop];
            var b = new float[net.ScratchPerCrop];
            var flat = new float[32 * net.FlatLength];
            var dense = new float[net.DenseSize(32)];
            var output = new float[32 * net.OutputStride];
            for (int layers = 1; layers <= net.ConvCount + 1; layers++)
            {
                int l = layers;
                Time($"{net.InputSize}: first {l} layer(s)", () => net.Forward(crops, 32, a, b, flat, dense, output, l));
            }
        }
    }

    private static void Time(string name, Action action)
    {
        action();
        var cpu0 = Environment.CpuUsage.UserTime;
        var sw = Stopwatch.StartNew();
        int n = 0;
        while (sw.ElapsedMilliseconds < 1000)
        {
            action();
            n++;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-26} {(Environment.CpuUsage.UserTime - cpu0).TotalMilliseconds * 1000 / n / 32,8:F2} us per crop"));
    }
}
