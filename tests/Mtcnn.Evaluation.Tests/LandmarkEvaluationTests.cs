using System.Globalization;
using System.Text.Json;
using Mtcnn.Evaluation.Annotations;
using Mtcnn.Evaluation.Landmarks;
using Mtcnn.Imaging;
using Mtcnn.TestSupport;

namespace Mtcnn.Evaluation.Tests;

/// <summary>
/// The landmark evaluation: matching and normalisation on hand-computed cases, the summary arithmetic, line ranges,
/// the runner on the fixture photo (with a missing and an unreadable image), the report files, and a sanity run of the
/// bundled weights on the shared 80x80 landmark set.
/// </summary>
public sealed class LandmarkEvaluationTests : IDisposable
{
    private const double Tolerance = 1e-9;
    private readonly string root = Path.Combine(Path.GetTempPath(), "mtcnn-eval-lm-" + Guid.NewGuid().ToString("N"));

    public LandmarkEvaluationTests() => Directory.CreateDirectory(root);

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static string Fixture => Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg");

    /// <summary>Eyes 20 px apart, box 40x40 (size 40).</summary>
    private static FacePointEntry Truth(int line = 1, string image = "a.jpg") => new(
        line, image, new BoundingBox(0, 0, 40, 40),
        new FaceLandmarks(new(10, 15), new(30, 15), new(20, 22), new(12, 30), new(28, 30)));

    private static FaceLandmarks Shift(FaceLandmarks l, params (float Dx, float Dy)[] d) => new(
        new(l.LeftEye.X + d[0].Dx, l.LeftEye.Y + d[0].Dy),
        new(l.RightEye.X + d[1].Dx, l.RightEye.Y + d[1].Dy),
        new(l.Nose.X + d[2].Dx, l.Nose.Y + d[2].Dy),
        new(l.MouthLeft.X + d[3].Dx, l.MouthLeft.Y + d[3].Dy),
        new(l.MouthRight.X + d[4].Dx, l.MouthRight.Y + d[4].Dy));

    [Fact]
    public void Errors_are_normalised_by_the_eye_distance_and_by_the_box_size()
    {
        var truth = Truth();
        // Left eye off by (3, 4) = 5 px, nose by (0, -2) = 2 px, mouth right by (-6, 8) = 10 px: mean (5 + 0 + 2 + 0 + 10) / 5 = 3.4 px.
        var found = Shift(truth.Landmarks, (3, 4), (0, 0), (0, -2), (0, 0), (-6, 8));
        var r = LandmarkMetrics.Measure(truth, [new Face(truth.Box, 0.99f, found)]);

        Assert.Equal(LandmarkImageStatus.Detected, r.Status);
        Assert.Equal(1.0, r.BestIou, Tolerance);
        Assert.Equal([5.0, 0.0, 2.0, 0.0, 10.0], r.PointErrors.Select(e => Math.Round(e, 9)));
        Assert.Equal(20.0, r.InterOcularDistance, Tolerance);
        Assert.Equal(40.0, r.BoxSize, Tolerance);
        Assert.Equal(3.4, r.MeanError, Tolerance);
        Assert.Equal(3.4 / 20, r.InterOcularError, Tolerance);
        Assert.Equal(3.4 / 40, r.BoxError, Tolerance);
    }

    [Fact]
    public void Eye_distance_is_euclidean_and_the_box_size_is_the_geometric_mean_of_its_sides()
    {
        // Tilted eyes (6, 8) apart = 10 px; box 20 wide and 45 high: sqrt(20 * 45) = 30.
        var truth = new FacePointEntry(7, "t.jpg", new BoundingBox(5, 10, 25, 55),
            new FaceLandmarks(new(10, 20), new(16, 28), new(14, 30), new(10, 40), new(18, 42)));
        var found = Shift(truth.Landmarks, (0, 0), (0, 0), (1.5f, 2), (0, 0), (0, 0)); // nose 2.5 px off, mean 0.5 px
        var r = LandmarkMetrics.Measure(truth, [new Face(truth.Box, 1, found)]);

        Assert.Equal(10.0, r.InterOcularDistance, Tolerance);
        Assert.Equal(30.0, r.BoxSize, Tolerance);
        Assert.Equal(0.05, r.InterOcularError, 1e-7);
        Assert.Equal(0.5 / 30, r.BoxError, 1e-7);
        Assert.Equal(7, r.LineNumber);
    }

    [Fact]
    public void The_detection_of_largest_iou_is_matched_and_needs_the_threshold()
    {
        var truth = Truth();
        var exact = truth.Landmarks;
        var far = new Face(new BoundingBox(100, 100, 140, 140), 1.0f, exact);          // IoU 0, best score, listed first
        var half = new Face(new BoundingBox(0, 0, 40, 20), 0.9f, Shift(exact, (1, 0), (1, 0), (1, 0), (1, 0), (1, 0))); // IoU 800/1600 = 0.5
        var good = new Face(new BoundingBox(0, 0, 40, 36), 0.8f, exact);               // IoU 1440/1600 = 0.9

        var r = LandmarkMetrics.Measure(truth, [far, half, good]);
        Assert.Equal(LandmarkImageStatus.Detected, r.Status);
        Assert.Equal(3, r.DetectionCount);
        Assert.Equal(0.9, r.BestIou, 1e-6);
        Assert.Equal(good, r.Match);
        Assert.All(r.PointErrors, e => Assert.Equal(0.0, e));

        // IoU exactly at the threshold counts; just below does not, and the near miss is still reported.
        var atThreshold = LandmarkMetrics.Measure(truth, [far, half]);
        Assert.Equal(LandmarkImageStatus.Detected, atThreshold.Status);
        Assert.Equal(1.0, atThreshold.MeanError, 1e-6);
        var below = LandmarkMetrics.Measure(truth, [far, half], iouThreshold: 0.51);
        Assert.Equal(LandmarkImageStatus.Missed, below.Status);
        Assert.Equal(0.5, below.BestIou, 1e-6);
        Assert.Equal(half, below.Match);
        Assert.Empty(below.PointErrors);
        Assert.True(double.IsNaN(below.InterOcularError));

        var none = LandmarkMetrics.Measure(truth, []);
        Assert.Equal(LandmarkImageStatus.Missed, none.Status);
        Assert.Equal(0, none.DetectionCount);
        Assert.Null(none.Match);

        // Ties keep the first (higher-scored) detection.
        var twin = good with { Score = 0.1f, Landmarks = far.Landmarks };
        Assert.Equal(0.8f, LandmarkMetrics.Measure(truth, [good, twin]).Match!.Value.Score);

        Assert.Throws<ArgumentOutOfRangeException>(() => LandmarkMetrics.Measure(truth, [], iouThreshold: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LandmarkMetrics.Measure(truth, [], iouThreshold: 1.5));
    }

    [Fact]
    public void A_degenerate_annotation_fails_with_the_list_and_line()
    {
        var truth = new FacePointEntry(12, "x/y.jpg", new BoundingBox(0, 0, 40, 40),
            new FaceLandmarks(new(10, 15), new(10, 15), new(20, 22), new(12, 30), new(28, 30)));
        var r = LandmarkMetrics.Measure(truth, [new Face(truth.Box, 1, truth.Landmarks)], listFile: "list.txt");

        Assert.Equal(LandmarkImageStatus.Failed, r.Status);
        Assert.Equal("list.txt:12: x/y.jpg: the annotated eye centres coincide (inter-ocular distance 0); the face cannot be measured", r.Error);
    }

    [Fact]
    public void The_summary_averages_over_detected_faces_and_counts_failures_separately()
    {
        var t1 = Truth(1);
        var t2 = Truth(2);
        var t3 = Truth(3);
        var t4 = Truth(4);
        var t5 = Truth(5);
        // Face 1: every point (+1, 0): 1 px, NME 0.05 / 0.025.
        var r1 = LandmarkMetrics.Measure(t1, [new Face(t1.Box, 1, Shift(t1.Landmarks, (1, 0), (1, 0), (1, 0), (1, 0), (1, 0)))]);
        // Face 2: left eye (0, 6) and mouth left (0, -4): errors 6, 0, 0, 4, 0 px, mean 2 px, NME 0.1 (exactly the threshold: not a failure).
        var r2 = LandmarkMetrics.Measure(t2, [new Face(t2.Box, 1, Shift(t2.Landmarks, (0, 6), (0, 0), (0, 0), (0, -4), (0, 0)))]);
        // Face 3: every point (0, 3): 3 px, NME 0.15, a failure.
        var r3 = LandmarkMetrics.Measure(t3, [new Face(t3.Box, 1, Shift(t3.Landmarks, (0, 3), (0, 3), (0, 3), (0, 3), (0, 3)))]);
        var r4 = LandmarkMetrics.Measure(t4, [new Face(new BoundingBox(50, 50, 90, 90), 1, t4.Landmarks)]); // missed
        var r5 = LandmarkMetrics.Failure(t5, "cannot be decoded", "list.txt");
        var issues = new[] { new AnnotationIssue("list.txt", 6, "expected 15 fields") };
        var result = new LandmarkEvaluationResult("list.txt", LineRange.All, [r1, r2, r3, r4, r5], issues, 0.5, 0.1);

        Assert.Equal((3, 1, 1, 4), (result.Detected, result.Missed, result.Failed, result.Evaluated));
        Assert.Equal(0.75, result.DetectionRate, Tolerance);
        Assert.Equal((0.05 + 0.1 + 0.15) / 3, result.MeanInterOcularError, Tolerance);
        Assert.Equal(0.1, result.MedianInterOcularError, Tolerance);
        Assert.Equal((0.025 + 0.05 + 0.075) / 3, result.MeanBoxError, Tolerance);
        Assert.Equal(2.0, result.MeanPixelError, Tolerance);
        Assert.Equal(1.0 / 3, result.FailureRate, Tolerance);
        // Per point: left eye (1 + 6 + 3) / 3 px, right eye (1 + 0 + 3) / 3, nose (1 + 0 + 3) / 3, mouth left (1 + 4 + 3) / 3.
        Assert.Equal(10.0 / 3, result.PointPixelErrors[0], Tolerance);
        Assert.Equal(4.0 / 3, result.PointPixelErrors[1], Tolerance);
        Assert.Equal(8.0 / 3, result.PointPixelErrors[3], Tolerance);
        Assert.Equal(10.0 / 3 / 20, result.PointInterOcularErrors[0], Tolerance);
        Assert.Equal(8.0 / 3 / 40, result.PointBoxErrors[3], Tolerance);
        // Signed offsets: x (5 * 1) / 15, y (6 - 4 + 15) / 15.
        Assert.Equal(5.0 / 15, result.MeanOffsetX, Tolerance);
        Assert.Equal(17.0 / 15, result.MeanOffsetY, Tolerance);
        Assert.Equal(1.0, result.MeanIou, Tolerance);
        Assert.Equal("list.txt:5: a.jpg: cannot be decoded", r5.Error);
    }

    [Fact]
    public void A_summary_without_detections_has_no_means()
    {
        var t = Truth();
        var result = new LandmarkEvaluationResult("l", LineRange.All, [LandmarkMetrics.Measure(t, [])], [], 0.5, 0.1);
        Assert.Equal(0.0, result.DetectionRate);
        Assert.True(double.IsNaN(result.MeanInterOcularError));
        Assert.True(double.IsNaN(result.FailureRate));
        using var json = JsonDocument.Parse(LandmarkReport.SummaryJson(result));
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("nme_inter_ocular").ValueKind);
        Assert.Equal(0.0, json.RootElement.GetProperty("detection_rate").GetDouble());
    }

    [Theory]
    [InlineData("9001:10000", 9001, 10000)]
    [InlineData("5:5", 5, 5)]
    [InlineData("7:", 7, int.MaxValue)]
    [InlineData(":50", 1, 50)]
    [InlineData(" 2 : 3 ", 2, 3)]
    public void Line_ranges_parse(string text, int first, int last)
    {
        var range = LineRange.Parse(text);
        Assert.Equal(new LineRange(first, last), range);
        Assert.True(range.Contains(first));
        Assert.False(range.Contains(first - 1));
        Assert.Equal(range, LineRange.Parse(range.ToString()));
    }

    [Theory]
    [InlineData("9001")]
    [InlineData("0:5")]
    [InlineData("5:3")]
    [InlineData("a:b")]
    [InlineData("1:2:3")]
    [InlineData("-1:4")]
    public void Bad_line_ranges_are_rejected(string text)
    {
        var e = Assert.Throws<FormatException>(() => LineRange.Parse(text));
        Assert.Contains(text.Trim(), e.Message, StringComparison.Ordinal);
    }

    /// <summary>A list on the fixture photo: line 1 the detector's own face, 2 a bad line, 3 a missing image,
    /// 4 the face in a subfolder written with a backslash, 5 an unreadable image, 6 the face shifted so that nothing matches.</summary>
    private (FacePointListResult List, string Images, Face Face) FixtureList()
    {
        string images = Path.Combine(root, "imgs");
        Directory.CreateDirectory(Path.Combine(images, "sub"));
        File.Copy(Fixture, Path.Combine(images, "a.jpg"));
        File.Copy(Fixture, Path.Combine(images, "sub", "b.jpg"));
        File.WriteAllText(Path.Combine(images, "broken.jpg"), "not an image");
        var face = new FaceDetector().Detect(ImageLoader.Load(Fixture).Image).Faces.OrderByDescending(f => f.Box.Area).First();
        var entry = new FacePointEntry(1, "a.jpg", face.Box, face.Landmarks);
        var moved = entry with { Box = new BoundingBox(face.Box.X2, face.Box.Y2, face.Box.X2 + face.Box.Width, face.Box.Y2 + face.Box.Height) };
        string text = string.Join('\n',
            FacePointList.FormatLine(entry),
            "a.jpg 1 2 3",
            FacePointList.FormatLine(entry with { ImagePath = "missing.jpg" }),
            FacePointList.FormatLine(entry with { ImagePath = "sub/b.jpg" }).Replace("sub/b.jpg", "sub\\b.jpg", StringComparison.Ordinal),
            FacePointList.FormatLine(entry with { ImagePath = "broken.jpg" }),
            FacePointList.FormatLine(moved)) + "\n";
        string listFile = Path.Combine(root, "list.txt");
        File.WriteAllText(listFile, text);
        return (FacePointList.Read(listFile), images, face);
    }

    [Fact]
    public void The_runner_measures_each_image_reports_bad_images_by_line_and_continues()
    {
        var (list, images, _) = FixtureList();
        var reports = new System.Collections.Concurrent.ConcurrentBag<EvaluationProgress>();
        var result = LandmarkEvaluator.Run(list, images, new LandmarkEvaluationOptions { Detector = DetectorOptions.Default with { MaxDegreeOfParallelism = 2 } },
            progress: new SyncProgress(reports.Add));

        Assert.Equal([1, 3, 4, 5, 6], result.Images.Select(i => i.LineNumber));
        Assert.Equal(
            [LandmarkImageStatus.Detected, LandmarkImageStatus.Failed, LandmarkImageStatus.Detected, LandmarkImageStatus.Failed, LandmarkImageStatus.Missed],
            result.Images.Select(i => i.Status));
        var issue = Assert.Single(result.ListIssues);
        Assert.Equal(2, issue.LineNumber);
        Assert.StartsWith($"{list.FileName}:3: ", result.Images[1].Error, StringComparison.Ordinal);
        Assert.Contains("missing.jpg", result.Images[1].Error, StringComparison.Ordinal);
        Assert.StartsWith($"{list.FileName}:5: ", result.Images[3].Error, StringComparison.Ordinal);
        Assert.Contains("broken.jpg", result.Images[3].Error, StringComparison.Ordinal);
        Assert.Equal((2, 1, 2), (result.Detected, result.Missed, result.Failed));
        Assert.Equal(2.0 / 3, result.DetectionRate, Tolerance);
        Assert.True(result.MeanInterOcularError < 1e-3, result.MeanInterOcularError.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(0.0, result.FailureRate);
        Assert.Equal(5, reports.Count);
        Assert.Equal(5, reports.Max(r => r.Completed));
    }

    [Fact]
    public void Results_do_not_depend_on_the_thread_count_and_lines_select_entries()
    {
        var (list, images, _) = FixtureList();
        string Csv(int threads, LineRange lines)
        {
            var options = new LandmarkEvaluationOptions { Detector = DetectorOptions.Default with { MaxDegreeOfParallelism = threads }, Lines = lines };
            var result = LandmarkEvaluator.Run(list, images, options);
            using var w = new StringWriter();
            LandmarkReport.WriteCsv(result, w);
            return w + LandmarkReport.SummaryJson(result);
        }

        Assert.Equal(Csv(1, LineRange.All), Csv(3, LineRange.All));

        var part = LandmarkEvaluator.Run(list, images, new LandmarkEvaluationOptions { Lines = new LineRange(2, 4) });
        Assert.Equal([3, 4], part.Images.Select(i => i.LineNumber));
        Assert.Equal(2, Assert.Single(part.ListIssues).LineNumber);
        var noBadLine = LandmarkEvaluator.Run(list, images, new LandmarkEvaluationOptions { Lines = LineRange.Parse("4:") });
        Assert.Empty(noBadLine.ListIssues);
        Assert.Equal([4, 5, 6], noBadLine.Images.Select(i => i.LineNumber));

        var e = Assert.Throws<EvaluationDataException>(() => LandmarkEvaluator.Run(list, images, new LandmarkEvaluationOptions { Lines = new LineRange(100, 200) }));
        Assert.Contains("no readable entry in lines 100:200", e.Message, StringComparison.Ordinal);
        Assert.Throws<EvaluationDataException>(() => LandmarkEvaluator.Run(list, Path.Combine(root, "nope")));
        Assert.Throws<ArgumentOutOfRangeException>(() => LandmarkEvaluator.Run(list, images, new LandmarkEvaluationOptions { IouThreshold = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => LandmarkEvaluator.Run(list, images, new LandmarkEvaluationOptions { FailureThreshold = -1 }));
    }

    [Fact]
    public void Reports_write_csv_json_and_the_error_curves()
    {
        var (list, images, face) = FixtureList();
        var result = LandmarkEvaluator.Run(list, images);
        string csv = Path.Combine(root, "out", "landmarks.csv");
        string json = Path.Combine(root, "out", "results.json");
        string png = Path.Combine(root, "out", "ced.png");
        LandmarkReport.WriteCsv(result, csv);
        LandmarkReport.WriteSummary(result, json, DetectorOptions.Default, new Dictionary<string, string?> { ["weights"] = null });
        EvaluationPlots.SaveCumulativeError(result, png);

        string[] rows = File.ReadAllLines(csv);
        Assert.Equal(string.Join(',', LandmarkReport.CsvColumns), rows[0]);
        Assert.Equal(6, rows.Length);
        var first = rows[1].Split(',');
        Assert.Equal(["1", "a.jpg", "detected", "1"], first[..4]);
        Assert.Equal(face.Landmarks.LeftEye.X, float.Parse(first[Array.IndexOf([.. LandmarkReport.CsvColumns], "lx1")], CultureInfo.InvariantCulture), 3);
        Assert.Equal("failed", rows[2].Split(',')[2]);
        Assert.Equal("missed", rows[5].Split(',')[2]);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var r = doc.RootElement;
        Assert.Equal(5, r.GetProperty("entries").GetInt32());
        Assert.Equal(2, r.GetProperty("detected").GetInt32());
        Assert.Equal(2, r.GetProperty("failed").GetInt32());
        Assert.Equal(1, r.GetProperty("bad_lines").GetInt32());
        Assert.Equal(0.666667, r.GetProperty("detection_rate").GetDouble());
        Assert.Equal(3, r.GetProperty("errors").GetArrayLength());
        Assert.Equal(20, r.GetProperty("detector").GetProperty("min_face_size").GetDouble());
        Assert.True(r.GetProperty("points").TryGetProperty("mouth_right", out _));

        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Assert.Equal((900, 680), (bitmap.Width, bitmap.Height));
        Assert.Throws<ArgumentOutOfRangeException>(() => EvaluationPlots.SaveCumulativeError(result, png, maxError: 0));
    }

    [Fact]
    public void Csv_fields_with_commas_and_quotes_are_quoted()
    {
        var t = Truth(3, "odd, \"name\".jpg");
        var result = new LandmarkEvaluationResult("l", LineRange.All, [LandmarkMetrics.Failure(t, "cannot read, sorry")], [], 0.5, 0.1);
        using var w = new StringWriter();
        LandmarkReport.WriteCsv(result, w);
        string row = w.ToString().Split('\n')[1];
        Assert.StartsWith("3,\"odd, \"\"name\"\".jpg\",failed,", row, StringComparison.Ordinal);
        Assert.EndsWith(",\"line 3: odd, \"\"name\"\".jpg: cannot read, sorry\"", row, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Bundled_weights_find_most_faces_of_the_shared_80x80_set()
    {
        string listFile = SharedData.Require("data/landmarks/trainImageList_80x80.txt");
        var list = FacePointList.Read(listFile);
        var result = LandmarkEvaluator.Run(list, Path.GetDirectoryName(listFile)!, new LandmarkEvaluationOptions { Lines = new LineRange(1, 50) });

        Assert.Equal(50, result.Images.Count);
        Assert.Equal(0, result.Failed);
        Assert.Empty(result.ListIssues);
        Assert.True(result.DetectionRate > 0.8, $"detection rate {result.DetectionRate}");
        // The README measured a mean inter-ocular error of about 0.09 for the original weights on this set.
        Assert.InRange(result.MeanInterOcularError, 0.02, 0.2);
        Assert.True(result.MeanBoxError < result.MeanInterOcularError);
    }

    private sealed class SyncProgress(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }
}
