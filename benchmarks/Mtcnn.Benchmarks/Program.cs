using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;

namespace Mtcnn.Benchmarks;

/// <summary>
/// Entry point. <c>quick [iterations]</c> runs a plain stopwatch table (median ms per image over the photos, per
/// size, min face and thread count); anything else goes to BenchmarkDotNet's switcher.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "networks")
        {
            NetworkProbe.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1);
            return 0;
        }

        if (args.Length > 1 && args[0] == "stages")
        {
            StageProbe.Run(args[1]);
            return 0;
        }

        if (args.Length > 1 && args[0] == "layers")
        {
            var wh = args[1].Split('x');
            LayerProbe.Run(int.Parse(wh[0], CultureInfo.InvariantCulture), int.Parse(wh[1], CultureInfo.InvariantCulture),
                args.Length > 2 ? float.Parse(args[2], CultureInfo.InvariantCulture) : 20f);
            return 0;
        }

        if (args.Length > 1 && args[0] == "photos")
        {
            var wh = args[1].Split('x');
            PhotoProbe.Run(int.Parse(wh[0], CultureInfo.InvariantCulture), int.Parse(wh[1], CultureInfo.InvariantCulture),
                args.Length > 2 ? float.Parse(args[2], CultureInfo.InvariantCulture) : 20f,
                args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1,
                args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 5);
            return 0;
        }

        if (args.Length > 2 && args[0] == "loop")
        {
            // loop SIZE PHOTO [seconds] [min face]: detects one photo again and again on one thread (for a profiler).
            var wh = args[1].Split('x');
            int w = int.Parse(wh[0], CultureInfo.InvariantCulture), h = int.Parse(wh[1], CultureInfo.InvariantCulture);
            var img = BenchImages.Load(BenchImages.Sources()[int.Parse(args[2], CultureInfo.InvariantCulture)], w, h);
            var det = new FaceDetector(new DetectorOptions { MaxDegreeOfParallelism = 1, MinFaceSize = args.Length > 4 ? float.Parse(args[4], CultureInfo.InvariantCulture) : 20f, LastStage = args.Length > 5 ? Enum.Parse<CascadeStage>(args[5]) : CascadeStage.ONet });
            var sw = Stopwatch.StartNew();
            int n = 0;
            while (sw.Elapsed.TotalSeconds < (args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 10))
            {
                det.Detect(img);
                n++;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{n} detections, {sw.Elapsed.TotalMilliseconds / n:F2} ms each"));
            return 0;
        }

        if (args.Length > 0 && args[0] == "resample")
        {
            ResampleProbe.Run();
            return 0;
        }

        if (args.Length > 0 && args[0] == "chunks")
        {
            ChunkProbe.Run();
            return 0;
        }

        if (args.Length > 0 && args[0] == "bands")
        {
            BandProbe.Run();
            return 0;
        }

        if (args.Length > 0 && args[0] == "pnet")
        {
            PNetProbe.Run();
            PNetStageProbe.Run();
            return 0;
        }

        if (args.Length > 0 && args[0] == "alloc")
        {
            AllocProbe.Run();
            return 0;
        }

        if (args.Length > 0 && args[0] == "profile")
        {
            LoopProfileProbe.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5);
            return 0;
        }

        if (args.Length > 0 && args[0] == "throughput")
        {
            ThroughputProbe.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100,
                args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3);
            return 0;
        }

        if (args.Length > 0 && args[0] == "peak")
        {
            PeakProbe.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3);
            return 0;
        }

        if (args.Length > 0 && args[0] == "kernels")
        {
            KernelProbe.Run();
            return 0;
        }

        if (args.Length > 0 && args[0] == "quick")
        {
            int iterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
            Quick(iterations, args.Length > 2 ? args[2] : null);
            return 0;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }

    // facenet-pytorch (PyTorch 1.13 CPU, same weights and thresholds) on this project's 2-core machine, ms per image,
    // median over five photos, from the detector issue: (size, min face, threads) -> ms.
    private static readonly Dictionary<(string, int, int), double> Facenet = new()
    {
        [("640x480", 20, 2)] = 116, [("640x480", 40, 2)] = 81, [("1280x720", 20, 2)] = 205, [("1280x720", 40, 2)] = 135,
        [("1920x1080", 20, 2)] = 372, [("1920x1080", 40, 2)] = 238,
        [("640x480", 20, 1)] = 178, [("640x480", 40, 1)] = 101, [("1280x720", 20, 1)] = 298, [("1280x720", 40, 1)] = 164,
        [("1920x1080", 20, 1)] = 635, [("1920x1080", 40, 1)] = 270,
    };

    private static void Quick(int iterations, string? only)
    {
        var sources = BenchImages.Sources();
        var table = new List<string>();
        Console.WriteLine($"photos: {sources.Count}, cores: {Environment.ProcessorCount}, SIMD: {Mtcnn.Inference.Simd.Best}");
        foreach (var (w, h) in new[] { (640, 480), (1280, 720), (1920, 1080) })
        {
            if (only is not null && only != $"{w}x{h}")
            {
                continue;
            }

            var images = sources.Select(s => BenchImages.Load(s, w, h)).ToArray();
            foreach (int minFace in new[] { 20, 40 })
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    var det = new FaceDetector(new DetectorOptions { MinFaceSize = minFace, MaxDegreeOfParallelism = threads });
                    var medians = new List<double>();
                    var stages = new double[4];
                    var counts = new double[3];
                    foreach (var img in images)
                    {
                        for (int i = 0; i < 3; i++)
                        {
                            det.Detect(img);
                        }

                        var times = new List<double>();
                        for (int i = 0; i < iterations; i++)
                        {
                            var r = det.Detect(img);
                            times.Add(r.Timings.Total.TotalMilliseconds);
                            stages[0] += r.Timings.Pyramid.TotalMilliseconds;
                            stages[1] += r.Timings.PNet.TotalMilliseconds;
                            stages[2] += r.Timings.RNet.TotalMilliseconds;
                            stages[3] += r.Timings.ONet.TotalMilliseconds;
                            counts[0] += r.Timings.PNetCount;
                            counts[1] += r.Timings.RNetCount;
                            counts[2] += r.Timings.ONetCount;
                        }

                        times.Sort();
                        medians.Add(times[times.Count / 2]);
                    }

                    medians.Sort();
                    int n = iterations * images.Length;
                    double med = medians[medians.Count / 2];
                    double fn = Facenet.GetValueOrDefault(($"{w}x{h}", minFace, threads), double.NaN);
                    table.Add(string.Create(CultureInfo.InvariantCulture,
                        $"| {w}x{h} | {minFace} | {threads} | {med:F1} | {fn:F0} | {fn / med:F1}x | {stages[0] / n:F1} / {stages[1] / n:F1} / {stages[2] / n:F1} / {stages[3] / n:F1} | {counts[0] / n:F0} / {counts[1] / n:F0} / {counts[2] / n:F0} |"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{w}x{h} min {minFace} threads {threads}: median {med,7:F2} ms  (per image: {string.Join(" ", medians.Select(m => m.ToString("F1", CultureInfo.InvariantCulture)))})  stages pyr {stages[0] / n:F2} P {stages[1] / n:F2} R {stages[2] / n:F2} O {stages[3] / n:F2}  candidates {counts[0] / n:F0}/{counts[1] / n:F0}/{counts[2] / n:F0}"));
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("| size | min face | threads | Mtcnn.NET ms/image (median of photos) | facenet-pytorch ms | speed-up | mean stage ms: pyramid / P / R / O | mean candidates P / R / faces |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var row in table)
        {
            Console.WriteLine(row);
        }
    }
}