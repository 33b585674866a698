using System.Diagnostics;
using System.Globalization;

namespace Mtcnn.Benchmarks;

/// <summary>CPU time per image of the cascade cut after each stage (single thread), to see where the time goes.</summary>
internal static class StageProbe
{
    public static void Run(string size)
    {
        var parts = size.Split('x');
        int w = int.Parse(parts[0], CultureInfo.InvariantCulture), h = int.Parse(parts[1], CultureInfo.InvariantCulture);
        var images = BenchImages.Sources().Select(s => BenchImages.Load(s, w, h)).ToArray();
        foreach (var stage in new[] { CascadeStage.PNet, CascadeStage.RNet, CascadeStage.ONet })
        {
            var det = new FaceDetector(new DetectorOptions { LastStage = stage, MaxDegreeOfParallelism = 1 });
            foreach (var img in images)
            {
                det.Detect(img);
            }

            var cpu0 = Environment.CpuUsage.UserTime;
            var sw = Stopwatch.StartNew();
            int n = 0;
            while (sw.ElapsedMilliseconds < 3000)
            {
                foreach (var img in images)
                {
                    det.Detect(img);
                    n++;
                }
            }

            double ms = (Environment.CpuUsage.UserTime - cpu0).TotalMilliseconds / n;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{size} up to {stage}: {ms:F2} ms CPU per image (mean of {images.Length} photos)"));
        }
    }
}
