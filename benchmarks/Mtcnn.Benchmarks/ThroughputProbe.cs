using System.Diagnostics;
using System.Globalization;

namespace Mtcnn.Benchmarks;

/// <summary>
/// <c>-- throughput [N] [rounds]</c>: images per second over N photos of each size (the benchmark photos repeated, each
/// copy its own buffer) in three ways: one thread, one image after another; <c>DetectBatch</c> on every core (one image
/// per thread); and one image after another with every core inside each image. The batch rate is compared with
/// cores x the one-thread rate. Rounds alternate the three ways; the table gives the median round.
/// </summary>
internal static class ThroughputProbe
{
    public static void Run(int count, int rounds)
    {
        var sources = BenchImages.Sources();
        int cores = Environment.ProcessorCount;
        Console.WriteLine($"photos: {count} per size from {sources.Count} sources, cores: {cores}, SIMD: {Mtcnn.Inference.Simd.Best}, rounds: {rounds}");
        Console.WriteLine($"| size / min face | 1 thread img/s | DetectBatch {cores} threads img/s | within-image {cores} threads img/s | batch / ({cores} x 1 thread) | within / ({cores} x 1 thread) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (w, h) in new[] { (640, 480), (1280, 720), (1920, 1080) })
        {
            var decoded = sources.Select(s => BenchImages.Load(s, w, h)).ToArray();
            var images = Enumerable.Range(0, count).Select(i => Copy(decoded[i % decoded.Length])).ToArray();
            foreach (int minFace in new[] { 20, 40 })
            {
                var one = new FaceDetector(new DetectorOptions { MinFaceSize = minFace, MaxDegreeOfParallelism = 1 });
                var all = new FaceDetector(new DetectorOptions { MinFaceSize = minFace, MaxDegreeOfParallelism = cores });
                Sequential(one, images.Take(10).ToArray());
                all.DetectBatch(images.Take(10).ToArray());
                Sequential(all, images.Take(10).ToArray());
                var single = new List<double>();
                var batch = new List<double>();
                var within = new List<double>();
                for (int r = 0; r < rounds; r++)
                {
                    single.Add(count / Time(() => Sequential(one, images)));
                    batch.Add(count / Time(() => all.DetectBatch(images)));
                    within.Add(count / Time(() => Sequential(all, images)));
                }

                double s = Median(single), b = Median(batch), i = Median(within);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {w}x{h} / {minFace} | {s:F1} | {b:F1} | {i:F1} | {b / (cores * s):F2} | {i / (cores * s):F2} |"));
            }
        }
    }

    private static ImageData Copy(ImageData image) => new(image.Pixels.ToArray(), image.Width, image.Height, image.Format);

    private static void Sequential(FaceDetector detector, ImageData[] images)
    {
        foreach (var image in images)
        {
            detector.Detect(image);
        }
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
