using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Mtcnn.Imaging;
using SkiaSharp;

namespace Mtcnn.Cli.Bench;

/// <summary>
/// <c>mtcnn bench</c>: milliseconds per image (median and p90) end to end and per stage, candidates per stage and
/// allocated bytes per image, for an image scaled to several sizes, several minimum face sizes and thread counts;
/// optionally <c>DetectBatch</c> throughput. Measurements are reported, never judged.
/// </summary>
internal static class BenchCommand
{
    /// <summary>Name of the bundled sample in the assembly's resources.</summary>
    public const string SampleResource = "Mtcnn.Cli.Samples.astronaut.png";

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var image = new Option<string>("--image")
        {
            Description = "Image to scale to each size; default: the bundled sample (astronaut.png, 512x512, one face).",
            HelpName = "path",
        };
        var sizes = OptionFactory.SizeList("--sizes", [new(640, 480), new(1280, 720), new(1920, 1080)],
            "Image sizes, WIDTHxHEIGHT, comma-separated (the image is stretched to each).");
        var minFaces = OptionFactory.FloatList("--min-face-size", [20f, 40f], 0, "Minimum face sizes in pixels, comma-separated.");
        int cores = Environment.ProcessorCount;
        int[] defaultThreads = cores > 1 ? [1, cores] : [1];
        var threads = OptionFactory.IntList("--threads", defaultThreads, 1, 1024,
            "Threads per detection call, comma-separated; the default is 1 and every core.");
        var iterations = OptionFactory.Int("--iterations", 20, "Measured calls per row [1, 100000].");
        var warmup = OptionFactory.Int("--warmup", 3, "Unmeasured calls before each row [0, 1000].");
        var batch = OptionFactory.Int("--batch", 0, "Also measure DetectBatch with this many images per call (0: skip) [0, 10000].");
        var weights = new Option<string>("--weights")
        {
            Description = "Weight file or folder (as in detect); default: the embedded original weights.",
            HelpName = "path",
        };
        var format = OptionFactory.Choice("--format", "text", BenchReportWriter.Formats, "Report format on stdout; markdown prints tables ready to paste into docs.");
        format.Aliases.Add("-f");
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress lines on stderr." };
        var backend = new BackendOptionSet();

        var command = new Command("bench",
            "Measure detection speed: milliseconds per image (median and p90) end to end and per stage, candidates per stage, "
            + "allocated bytes per image, with a machine header. Speed depends on the machine and its load: compare runs made on the same one.")
        {
            image, sizes, minFaces, threads, iterations, warmup, batch, weights, format, quiet,
        };
        backend.AddTo(command);
        command.With(
            "mtcnn bench",
            "mtcnn bench --sizes 640x480 --min-face-size 40 --threads 1 --iterations 50",
            "mtcnn bench --image group.jpg --batch 16 --format markdown >> docs/performance.md",
            "mtcnn bench --backend onnxruntime --sizes 640x480,1920x1080");
        command.SetAction(pr =>
        {
            var settings = new BenchSettings(
                pr.GetValue(image),
                pr.GetValue(sizes)!,
                pr.GetValue(minFaces)!,
                pr.GetValue(threads)!,
                pr.GetValue(iterations),
                pr.GetValue(warmup),
                pr.GetValue(batch),
                pr.GetValue(weights),
                pr.GetValue(format)!,
                pr.GetValue(quiet));
            return Execute(settings, console, (w, t) => backend.Create(pr, w, t, console));
        });
        return command;
    }

    private static int Execute(BenchSettings s, CliConsole console, Func<MtcnnWeights?, int, Mtcnn.OnnxRuntime.OnnxRuntimeBackend?> makeBackend)
    {
        Check(s.Iterations, 1, 100_000, "--iterations");
        Check(s.Warmup, 0, 1000, "--warmup");
        Check(s.Batch, 0, 10_000, "--batch");
        foreach (float m in s.MinFaceSizes)
        {
            Detect.DetectCommand.ValidateOptions(new DetectorOptions { MinFaceSize = m });
        }

        var weights = WeightsFile.Load(s.WeightsPath, "--weights", console);
        var (source, name) = LoadSource(s.ImagePath);
        var rows = new List<SingleImageRow>();
        var batchRows = new List<BatchRow>();
        using var sourceBitmap = source.Image.ToSKBitmap();

        // With ONNX Runtime: one backend per thread count (its sessions' thread pools are fixed when they are made).
        var backends = new Dictionary<int, Mtcnn.OnnxRuntime.OnnxRuntimeBackend?>();
        string? backendName = null;
        foreach (var size in s.Sizes)
        {
            var image = Scale(sourceBitmap, size);
            foreach (float minFace in s.MinFaceSizes)
            {
                foreach (int threads in s.Threads)
                {
                    Progress(console, s.Quiet, $"{size} min face {OptionFactory.Format(minFace)}, {threads} thread{(threads == 1 ? "" : "s")}");
                    if (!backends.TryGetValue(threads, out var onnx))
                    {
                        onnx = makeBackend(weights, threads);
                        backends[threads] = onnx;
                        backendName ??= onnx?.Name;
                    }

                    var detector = onnx is null
                        ? new FaceDetector(new DetectorOptions { MinFaceSize = minFace, MaxDegreeOfParallelism = threads }, weights)
                        : new FaceDetector(new DetectorOptions { MinFaceSize = minFace, MaxDegreeOfParallelism = 1 }, onnx);
                    rows.Add(MeasureSingle(detector, image, size, minFace, threads, s.Iterations, s.Warmup));
                    if (s.Batch > 0)
                    {
                        Progress(console, s.Quiet, $"{size} min face {OptionFactory.Format(minFace)}, DetectBatch of {s.Batch}, {threads} at a time");
                        batchRows.Add(MeasureBatch(detector, image, size, minFace, threads, s.Batch, s.Iterations));
                    }
                }
            }
        }

        foreach (var b in backends.Values)
        {
            b?.Dispose();
        }

        var machine = MachineInfo.Current();
        machine = backendName is null ? machine : machine with { Simd = $"{machine.Simd}; networks on {backendName}" };
        var report = new BenchReport(machine, name, source.Width, source.Height, s.Iterations, s.Warmup, rows, batchRows);
        console.Out.Write(BenchReportWriter.Render(report, s.Format));
        console.Out.Flush();
        return ExitCodes.Success;
    }

    private static SingleImageRow MeasureSingle(FaceDetector detector, ImageData image, ImageSize size, float minFace, int threads, int iterations, int warmup)
    {
        for (int i = 0; i < warmup; i++)
        {
            detector.Detect(image);
        }

        var total = new double[iterations];
        var pyramid = new double[iterations];
        var pnet = new double[iterations];
        var rnet = new double[iterations];
        var onet = new double[iterations];
        DetectionResult? last = null;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            last = detector.Detect(image);
            total[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var t = last.Timings;
            pyramid[i] = t.Pyramid.TotalMilliseconds;
            pnet[i] = t.PNet.TotalMilliseconds;
            rnet[i] = t.RNet.TotalMilliseconds;
            onet[i] = t.ONet.TotalMilliseconds;
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var timings = last!.Timings;
        return new SingleImageRow(
            size, minFace, threads, Percentiles.Of(total), Percentiles.Of(pyramid), Percentiles.Of(pnet), Percentiles.Of(rnet), Percentiles.Of(onet),
            timings.PNetCount, timings.RNetCount, timings.ONetCount, allocated / iterations);
    }

    private static BatchRow MeasureBatch(FaceDetector detector, ImageData image, ImageSize size, float minFace, int threads, int batchSize, int iterations)
    {
        var images = Enumerable.Repeat(image, batchSize).ToArray();
        detector.DetectBatch(images);
        int runs = Math.Max(1, (iterations + batchSize - 1) / batchSize);
        var wall = new double[runs];
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int r = 0; r < runs; r++)
        {
            long start = Stopwatch.GetTimestamp();
            detector.DetectBatch(images);
            wall[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        double median = Percentiles.Of(wall).Median;
        return new BatchRow(size, minFace, threads, batchSize, runs, median / batchSize, batchSize * 1000.0 / Math.Max(median, 1e-9), allocated / ((long)runs * batchSize));
    }

    private static (LoadedImage Image, string Name) LoadSource(string? path)
    {
        try
        {
            if (path is not null)
            {
                return (ImageLoader.Load(path), path);
            }

            using var stream = typeof(BenchCommand).Assembly.GetManifestResourceStream(SampleResource)
                ?? throw new CliFailureException("the bundled sample image is missing from this build; pass --image.");
            return (ImageLoader.Decode(stream, "astronaut.png"), "bundled sample astronaut.png");
        }
        catch (ImageLoadException e)
        {
            throw new CliFailureException("--image: " + e.Message, e);
        }
    }

    private static ImageData Scale(SKBitmap source, ImageSize size)
    {
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var scaled = source.Resize(info, new SKSamplingOptions(SKCubicResampler.Mitchell))
            ?? throw new CliFailureException($"SkiaSharp could not scale the image to {size}.");
        return scaled.ToImageData();
    }

    private static void Check(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{name}: must be in [{min}, {max}], got {value} (see 'mtcnn bench --help')"));
        }
    }

    private static void Progress(CliConsole console, bool quiet, string what)
    {
        if (!quiet)
        {
            console.WriteErrorLine($"{CliApp.Name} bench: {what} ...");
        }
    }

    private sealed record BenchSettings(
        string? ImagePath, ImageSize[] Sizes, float[] MinFaceSizes, int[] Threads, int Iterations, int Warmup, int Batch, string? WeightsPath, string Format, bool Quiet);
}
