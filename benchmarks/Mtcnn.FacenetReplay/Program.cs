using System.Diagnostics;
using System.Globalization;
using Mtcnn.Benchmarks;
using Mtcnn.Training.Cascade;
using Mtcnn.Training.Diagnostics;
using TorchSharp;

namespace Mtcnn.FacenetReplay;

/// <summary>
/// <c>[iterations] [WxH]</c>: the speed table of docs/benchmarks.md measured side by side in one process: facenet-pytorch's
/// cascade replayed on libtorch (<see cref="FacenetCascadeReplay"/>) and Mtcnn.NET's <see cref="FaceDetector"/>, the same
/// photos, weights (the embedded default), thresholds 0.6/0.7/0.7, factor 0.709 and border rule (facenet-pytorch's
/// clipping, <see cref="CropBorder.Clip"/>), photo by photo, in blocks of calls (replay, then the detector); wall time per call, median per photo, median
/// over the photos; libtorch and the detector get the same thread count. Also prints how well the two agree (faces
/// matched at IoU 0.8, largest landmark difference), which checks that the replay does the same work.
/// </summary>
internal static class Program
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(400);

    public static int Main(string[] args)
    {
        int iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        string? only = args.Length > 1 ? args[1] : null;
        var check = TorchSelfCheck.Run();
        if (!check.Passed)
        {
            Console.Error.WriteLine($"facenet replay: libtorch computes wrong results on this CPU ({check.DescribeFailures()}); " +
                "run `mtcnn-train check` to find the oneDNN setting that works and set it in the environment (e.g. DNNL_MAX_CPU_ISA=SSE41) before running this.");
            return 3;
        }

        var thresholds = new[] { 0.6f, 0.7f, 0.7f };
        using var replay = new FacenetCascadeReplay(MtcnnWeights.Default);
        var sources = BenchImages.Sources();
        Console.WriteLine($"facenet replay: {sources.Count} photos, {Environment.ProcessorCount} cores, MTCNN_SIMD={Environment.GetEnvironmentVariable("MTCNN_SIMD") ?? "(best)"}, " +
            $"libtorch self-check passed (max |diff| {check.MaxDifference:E1}), {iterations} timed calls per photo and side");
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
                    var replayMedians = new List<double>();
                    var ownMedians = new List<double>();
                    int replayFaces = 0, ownFaces = 0, matched = 0;
                    double worstPoint = 0;
                    for (int p = 0; p < images.Length; p++)
                    {
                        IReadOnlyList<ReplayFace> replayed = [];
                        DetectionResult own = null!;
                        for (int i = 0; i < 3; i++)
                        {
                            replayed = replay.Detect(pixels[p], w, h, minFace, thresholds, 0.709f);
                            own = detector.Detect(images[p]);
                        }

                        // In blocks with a pause between them: libtorch's OpenMP workers keep spinning for a while after
                        // each call, which would take the second core from the detector if the calls alternated.
                        var rt = new List<double>();
                        var ot = new List<double>();
                        Thread.Sleep(Pause);
                        for (int i = 0; i < iterations; i++)
                        {
                            var sw = Stopwatch.StartNew();
                            replay.Detect(pixels[p], w, h, minFace, thresholds, 0.709f);
                            rt.Add(sw.Elapsed.TotalMilliseconds);
                        }

                        Thread.Sleep(Pause);
                        for (int i = 0; i < iterations; i++)
                        {
                            var sw = Stopwatch.StartNew();
                            detector.Detect(images[p]);
                            ot.Add(sw.Elapsed.TotalMilliseconds);
                        }

                        replayMedians.Add(Median(rt));
                        ownMedians.Add(Median(ot));
                        replayFaces += replayed.Count;
                        ownFaces += own.Faces.Count;
                        foreach (var face in own.Faces)
                        {
                            var best = replayed.MaxBy(r => Iou(face.Box, r));
                            if (best is not null && Iou(face.Box, best) >= 0.8)
                            {
                                matched++;
                                worstPoint = Math.Max(worstPoint, PointDifference(face, best));
                            }
                        }
                    }

                    double rm = Median(replayMedians), om = Median(ownMedians);
                    table.Add(string.Create(CultureInfo.InvariantCulture,
                        $"| {w}x{h} | {minFace} | {threads} | {rm:F1} | {om:F1} | {rm / om:F1}x | {ownFaces} / {replayFaces} / {matched} | {worstPoint:F2} |"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{w}x{h} min {minFace} threads {threads}: replay {rm,7:F1} ms, Mtcnn.NET {om,6:F1} ms, {rm / om:F1}x; faces {ownFaces} / {replayFaces}, {matched} matched at IoU 0.8, landmarks within {worstPoint:F2} px"));
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine("| size | min face | threads | facenet-pytorch replayed on libtorch, ms | Mtcnn.NET ms | speed-up | faces: Mtcnn.NET / replay / matched at IoU 0.8 | largest landmark difference px |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (string row in table)
        {
            Console.WriteLine(row);
        }

        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted[sorted.Length / 2];
    }

    private static double Iou(BoundingBox a, ReplayFace b)
    {
        double iw = Math.Max(0, Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1));
        double ih = Math.Max(0, Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1));
        double inter = iw * ih;
        double union = ((a.X2 - a.X1) * (a.Y2 - a.Y1)) + ((b.X2 - b.X1) * (b.Y2 - b.Y1)) - inter;
        return union > 0 ? inter / union : 0;
    }

    private static double PointDifference(Face face, ReplayFace replayed)
    {
        var own = new[] { face.Landmarks.LeftEye, face.Landmarks.RightEye, face.Landmarks.Nose, face.Landmarks.MouthLeft, face.Landmarks.MouthRight };
        double worst = 0;
        for (int k = 0; k < 5; k++)
        {
            worst = Math.Max(worst, Math.Max(Math.Abs(own[k].X - replayed.Points[2 * k]), Math.Abs(own[k].Y - replayed.Points[(2 * k) + 1])));
        }

        return worst;
    }
}
