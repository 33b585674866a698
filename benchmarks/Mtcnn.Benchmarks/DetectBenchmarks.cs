using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace Mtcnn.Benchmarks;

/// <summary>
/// End-to-end detection per image (median over the benchmark photos) at the sizes of the speed target, single image
/// with 1 or 2 threads, and a batch of all photos through <see cref="FaceDetector.DetectBatch"/>.
/// Run: <c>dotnet run -c Release --project benchmarks/Mtcnn.Benchmarks -- --filter *DetectBenchmarks*</c>.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class DetectBenchmarks
{
    private ImageData[] images = [];
    private FaceDetector detector = null!;

    /// <summary>Image sizes; <c>MTCNN_BENCH_SIZES=640x480,1280x720</c> restricts them (BenchmarkDotNet has no parameter filter).</summary>
    public static IEnumerable<string> Sizes() =>
        Environment.GetEnvironmentVariable("MTCNN_BENCH_SIZES")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? ["640x480", "1280x720", "1920x1080"];

    [ParamsSource(nameof(Sizes))]
    public string Size { get; set; } = "640x480";

    [Params(20, 40)]
    public int MinFace { get; set; } = 20;

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        var parts = Size.Split('x');
        int w = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), h = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        images = BenchImages.Sources().Select(s => BenchImages.Load(s, w, h)).ToArray();
        detector = new FaceDetector(new DetectorOptions { MinFaceSize = MinFace, MaxDegreeOfParallelism = Threads });
    }

    /// <summary>All photos one after the other, each with <see cref="Threads"/> threads; divide by the photo count for per-image time.</summary>
    [Benchmark]
    public int SingleImages()
    {
        int faces = 0;
        foreach (var img in images)
        {
            faces += detector.Detect(img).Faces.Count;
        }

        return faces;
    }

    /// <summary>All photos as one batch (images in parallel, one thread each).</summary>
    [Benchmark]
    public int Batch() => detector.DetectBatch(images).Sum(r => r.Faces.Count);

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.ShortRun.WithWarmupCount(2).WithIterationCount(5));
        }
    }
}
