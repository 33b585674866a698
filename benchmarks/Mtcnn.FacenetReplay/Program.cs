using System.Diagnostics;
using System.Globalization;
using Mtcnn.Benchmarks;
using Mtcnn.Training.Cascade;
using Mtcnn.Training.Diagnostics;
using TorchSharp;

namespace Mtcnn.FacenetReplay;

/// <summary>
/// <c>[iterations] [WxH] [--facenet-pytorch CHECKOUT] [--python EXE] [--no-replay]</c>: the speed table of
/// docs/benchmarks.md measured side by side: Mtcnn.NET's <see cref="FaceDetector"/> against facenet-pytorch's cascade
/// replayed on libtorch in this process (<see cref="FacenetCascadeReplay"/>) and, with <c>--facenet-pytorch</c>, against
/// facenet-pytorch itself (its <c>MTCNN.detect</c> in a Python worker process, <see cref="FacenetPytorchWorker"/>). The
/// same photos, weights (the embedded default; facenet-pytorch's own files), thresholds 0.6/0.7/0.7, factor 0.709 and
/// border rule (facenet-pytorch's clipping, <see cref="CropBorder.Clip"/>), photo by photo, in blocks of calls
/// (facenet-pytorch, replay, then the detector, with a pause between blocks); wall time per call, median per photo,
/// median over the photos; all sides get the same thread count. Also prints how well they agree (faces matched at IoU
/// 0.8, largest landmark difference), which checks that they do the same work.
/// </summary>
internal static class Program
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(400);

    public static int Main(string[] args)
    {
        var positional = new List<string>();
        string? checkout = null;
        string python = "python3";
        bool withReplay = true;
        for (int a = 0; a < args.Length; a++)
        {
            switch (args[a])
            {
                case "--facenet-pytorch" when a + 1 < args.Length:
                    checkout = Path.GetFullPath(args[++a]);
                    break;
                case "--python" when a + 1 < args.Length:
                    python = args[++a];
                    break;
                case "--no-replay":
                    withReplay = false;
                    break;
                default:
                    positional.Add(args[a]);
                    break;
            }
        }

        int iterations = positional.Count > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 5;
        string? only = positional.Count > 1 ? positional[1] : null;
        if (!withReplay && checkout is null)
        {
            Console.Error.WriteLine("facenet replay: --no-replay needs --facenet-pytorch (nothing to compare with otherwise)");
            return 2;
        }

        string selfCheck = "libtorch not used";
        if (withReplay)
        {
            var check = TorchSelfCheck.Run();
            if (!check.Passed)
            {
                Console.Error.WriteLine($"facenet replay: libtorch computes wrong results on this CPU ({check.DescribeFailures()}); " +
                    "run `mtcnn-train check` to find the oneDNN setting that works and set it in the environment (e.g. DNNL_MAX_CPU_ISA=SSE41) before running this.");
                return 3;
            }

            selfCheck = $"libtorch self-check passed (max |diff| {check.MaxDifference:E1})";
        }

        FacenetPytorchWorker? pytorch = null;
        if (checkout is not null)
        {
            try
            {
                pytorch = FacenetPytorchWorker.Start(python, checkout);
            }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine("facenet replay: " + e.Message);
                return 2;
            }
        }

        using var worker = pytorch;
        var thresholds = new[] { 0.6f, 0.7f, 0.7f };
        using var replay = withReplay ? new FacenetCascadeReplay(MtcnnWeights.Default) : null;
        var sources = BenchImages.Sources();
        Console.WriteLine($"facenet replay: {sources.Count} photos, {Environment.ProcessorCount} cores, MTCNN_SIMD={Environment.GetEnvironmentVariable("MTCNN_SIMD") ?? "(best)"}, " +
            $"{selfCheck}, {iterations} timed calls per photo and side");
        if (pytorch is not null)
        {
            Console.WriteLine($"facenet-pytorch: {checkout} on {pytorch.Description}");
        }

        var table = new List<string>();
        foreach (var (w, h) in new[] { (640, 480), (1280, 720), (1920, 1080) })
        {
            if (only is not null && only != $"{w}x{h}")
            {
                continue;
            }

            var images = sources.Select(s => BenchImages.Load(s, w, h)).ToArray();
            var pixels = images.Select(i => i.Pixels.ToArray()).ToArray();
            foreach (int minFace in new[] { 20, 40 })
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    torch.set_num_threads(threads);
                    var detector = new FaceDetector(new DetectorOptions
                    {
                        MinFaceSize = minFace, MaxDegreeOfParallelism = threads, CropBorder = CropBorder.Clip,
                        PNetThreshold = thresholds[0], RNetThreshold = thresholds[1], ONetThreshold = thresholds[2], ScaleFactor = 0.709f,
                    });
                    var pytorchMedians = new List<double>();
                    var replayMedians = new List<double>();
                    var ownMedians = new List<double>();
                    var replayAgreement = new Agreement();
                    var pytorchAgreement = new Agreement();
                    for (int p = 0; p < images.Length; p++)
                    {
                        IReadOnlyList<ReplayFace> replayed = [];
                        DetectionResult own = null!;
                        for (int i = 0; i < 3; i++)
                        {
                            if (replay is not null)
                            {
                                replayed = replay.Detect(pixels[p], w, h, minFace, thresholds, 0.709f);
                            }

                            own = detector.Detect(images[p]);
                        }

                        // In blocks with a pause between them: libtorch's OpenMP workers keep spinning for a while after
                        // each call, which would take the second core from the detector if the calls alternated.
                        if (pytorch is not null)
                        {
                            Thread.Sleep(Pause);
                            var timed = pytorch.Time(pixels[p], w, h, Path.GetFileNameWithoutExtension(sources[p]), minFace, threads, 3, iterations);
                            pytorchMedians.Add(Median(timed.Milliseconds));
                            pytorchAgreement.Add(own, timed.Faces.Select(f => (f.X1, f.Y1, f.X2, f.Y2, f.Points)).ToList());
                        }

                        if (replay is not null)
                        {
                            var rt = new List<double>();
                            Thread.Sleep(Pause);
                            for (int i = 0; i < iterations; i++)
                            {
                                var sw = Stopwatch.StartNew();
                                replay.Detect(pixels[p], w, h, minFace, thresholds, 0.709f);
                                rt.Add(sw.Elapsed.TotalMilliseconds);
                            }

                            replayMedians.Add(Median(rt));
                            replayAgreement.Add(own, replayed.Select(r => (r.X1, r.Y1, r.X2, r.Y2, r.Points)).ToList());
                        }

                        var ot = new List<double>();
                        Thread.Sleep(Pause);
                        for (int i = 0; i < iterations; i++)
                        {
                            var sw = Stopwatch.StartNew();
                            detector.Detect(images[p]);
                            ot.Add(sw.Elapsed.TotalMilliseconds);
                        }

                        ownMedians.Add(Median(ot));
                    }

                    double om = Median(ownMedians);
                    string pyCells = pytorch is null ? "" : string.Create(CultureInfo.InvariantCulture,
                        $" {Median(pytorchMedians):F1} | {Median(pytorchMedians) / om:F1}x | {pytorchAgreement} |");
                    string replayCells = replay is null ? "" : string.Create(CultureInfo.InvariantCulture,
                        $" {Median(replayMedians):F1} | {Median(replayMedians) / om:F1}x | {replayAgreement} |");
                    table.Add(string.Create(CultureInfo.InvariantCulture, $"| {w}x{h} | {minFace} | {threads} | {om:F1} |{pyCells}{replayCells}"));
                    string pyText = pytorch is null ? "" : string.Create(CultureInfo.InvariantCulture,
                        $"; facenet-pytorch {Median(pytorchMedians),7:F1} ms ({Median(pytorchMedians) / om:F1}x; {pytorchAgreement})");
                    string replayText = replay is null ? "" : string.Create(CultureInfo.InvariantCulture,
                        $"; replay {Median(replayMedians),7:F1} ms ({Median(replayMedians) / om:F1}x; {replayAgreement})");
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{w}x{h} min {minFace} threads {threads}: Mtcnn.NET {om,6:F1} ms{pyText}{replayText}"));
                }
            }
        }

        Console.WriteLine();
        string pyHead = pytorch is null ? "" : " facenet-pytorch ms | speed-up | faces: Mtcnn.NET / facenet-pytorch / matched, largest landmark difference |";
        string replayHead = replay is null ? "" : " replay on libtorch ms | speed-up | faces: Mtcnn.NET / replay / matched, largest landmark difference |";
        Console.WriteLine($"| size | min face | threads | Mtcnn.NET ms |{pyHead}{replayHead}");
        Console.WriteLine("|---|---|---|---|" + string.Concat(Enumerable.Repeat("---|", (pytorch is null ? 0 : 3) + (replay is null ? 0 : 3))));
        foreach (string row in table)
        {
            Console.WriteLine(row);
        }

        return 0;
    }

    /// <summary>Faces of the detector matched (IoU 0.8) among another side's, and their largest landmark difference.</summary>
    private sealed class Agreement
    {
        private int own;
        private int other;
        private int matched;
        private double worstPoint;

        public void Add(DetectionResult result, List<(float X1, float Y1, float X2, float Y2, float[] Points)> faces)
        {
            own += result.Faces.Count;
            other += faces.Count;
            foreach (var face in result.Faces)
            {
                var best = faces.OrderByDescending(f => Iou(face.Box, f.X1, f.Y1, f.X2, f.Y2)).FirstOrDefault();
                if (best.Points is not null && Iou(face.Box, best.X1, best.Y1, best.X2, best.Y2) >= 0.8)
                {
                    matched++;
                    worstPoint = Math.Max(worstPoint, PointDifference(face, best.Points));
                }
            }
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{own} / {other} / {matched}, {worstPoint:F2} px");
    }

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted[sorted.Length / 2];
    }

    private static double Iou(BoundingBox a, float x1, float y1, float x2, float y2)
    {
        double iw = Math.Max(0, Math.Min(a.X2, x2) - Math.Max(a.X1, x1));
        double ih = Math.Max(0, Math.Min(a.Y2, y2) - Math.Max(a.Y1, y1));
        double inter = iw * ih;
        double union = ((a.X2 - a.X1) * (a.Y2 - a.Y1)) + ((x2 - x1) * (y2 - y1)) - inter;
        return union > 0 ? inter / union : 0;
    }

    private static double PointDifference(Face face, float[] points)
    {
        var own = new[] { face.Landmarks.LeftEye, face.Landmarks.RightEye, face.Landmarks.Nose, face.Landmarks.MouthLeft, face.Landmarks.MouthRight };
        double worst = 0;
        for (int k = 0; k < 5; k++)
        {
            worst = Math.Max(worst, Math.Max(Math.Abs(own[k].X - points[2 * k]), Math.Abs(own[k].Y - points[(2 * k) + 1])));
        }

        return worst;
    }
}
