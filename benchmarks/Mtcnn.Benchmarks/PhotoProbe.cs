using System.Globalization;

namespace Mtcnn.Benchmarks;

/// <summary>Per-photo stage times and candidate counts at one size (median of runs), to see what the median photo costs.</summary>
internal static class PhotoProbe
{
    public static void Run(int width, int height, float minFace, int threads, int iterations)
    {
        var det = new FaceDetector(new DetectorOptions { MinFaceSize = minFace, MaxDegreeOfParallelism = threads });
        foreach (var src in BenchImages.Sources())
        {
            var img = BenchImages.Load(src, width, height);
            for (int i = 0; i < 3; i++)
            {
                det.Detect(img);
            }

            var runs = Enumerable.Range(0, iterations).Select(_ => det.Detect(img).Timings).OrderBy(t => t.Total).ToArray();
            var t = runs[runs.Length / 2];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(src),-20} total {t.Total.TotalMilliseconds,7:F1}  pyr {t.Pyramid.TotalMilliseconds,5:F1}  P {t.PNet.TotalMilliseconds,6:F1}  R {t.RNet.TotalMilliseconds,6:F1}  O {t.ONet.TotalMilliseconds,6:F1}  candidates {t.PNetCount}/{t.RNetCount}/{t.ONetCount}"));
        }
    }
}
