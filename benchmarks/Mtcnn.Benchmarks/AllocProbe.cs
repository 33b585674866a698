using System.Globalization;

namespace Mtcnn.Benchmarks;

/// <summary>Bytes allocated per Detect call in steady state (all threads), for 1 and 2 threads.</summary>
internal static class AllocProbe
{
    public static void Run()
    {
        var img = BenchImages.Load(BenchImages.Sources()[0], 640, 480);
        foreach (int threads in new[] { 1, 2 })
        {
            var det = new FaceDetector(new DetectorOptions { MaxDegreeOfParallelism = threads });
            for (int i = 0; i < 5; i++)
            {
                det.Detect(img);
            }

            long before = GC.GetTotalAllocatedBytes(true);
            const int n = 20;
            int faces = 0;
            for (int i = 0; i < n; i++)
            {
                faces += det.Detect(img).Faces.Count;
            }

            long per = (GC.GetTotalAllocatedBytes(true) - before) / n;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"threads {threads}: {per} bytes allocated per Detect ({faces / n} faces)"));
        }
    }
}
