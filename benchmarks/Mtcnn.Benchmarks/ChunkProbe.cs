using System.Diagnostics;
using System.Globalization;
using Mtcnn.Inference;

namespace Mtcnn.Benchmarks;

/// <summary>Same conv3 work done in one call or in chunks: isolates any per-call cost.</summary>
internal static class ChunkProbe
{
    public static void Run()
    {
        var nets = new Networks(MtcnnWeights.Default, Simd.Best);
        int wp = 574, rows = 320, n = ((rows - 1) * wp) + 572;
        var a = new float[(rows + 4) * wp * 16];
        var rnd = new Random(1);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (rnd.NextSingle() * 2) - 1;
        }

        var b = new float[(rows + 4) * wp * 32];
        foreach (int chunk in new[] { n, n / 4, n / 16, 8192, 2048 })
        {
            double best = double.MaxValue;
            for (int rep = 0; rep < 3; rep++)
            {
                var sw = Stopwatch.StartNew();
                for (int f = 0; f < n; f += chunk)
                {
                    nets.P.Conv3.Forward(a, b, f, Math.Min(chunk, n - f), wp);
                }

                best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"chunk {chunk,7}: {best,8:F2} ms"));
        }
    }
}
