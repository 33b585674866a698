using System.Collections.Concurrent;
using Mtcnn.Evaluation.Fddb;
using Mtcnn.Evaluation.Wider;
using Mtcnn.Imaging;
using Mtcnn.TestSupport;
using static Mtcnn.Evaluation.Tests.MatWriter;

namespace Mtcnn.Evaluation.Tests;

/// <summary>
/// The runners end to end on a miniature benchmark built from the committed fixture photo: ground truth in the official
/// file formats (MAT files written by the test writer, an FDDB fold file), detection, resume and scoring.
/// </summary>
public sealed class RunnerTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "mtcnn-eval-run-" + Guid.NewGuid().ToString("N"));

    public RunnerTests() => Directory.CreateDirectory(root);

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static string Fixture => Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg");

    private sealed class Collect : IProgress<EvaluationProgress>
    {
        public ConcurrentQueue<EvaluationProgress> Reports { get; } = new();

        public void Report(EvaluationProgress value) => Reports.Enqueue(value);
    }

    /// <summary>Builds WIDER-style data: event 0--Test with images a and b (the fixture), boxes = what the detector finds.</summary>
    private (string Images, string Gt, IReadOnlyList<Face> Faces) WiderData(DetectorOptions options)
    {
        string images = Path.Combine(root, "WIDER_val", "images", "0--Test");
        Directory.CreateDirectory(images);
        File.Copy(Fixture, Path.Combine(images, "a.jpg"));
        File.Copy(Fixture, Path.Combine(images, "b.jpg"));
        var faces = new FaceDetector(options).Detect(ImageLoader.Load(Fixture).Image).Faces;
        var boxes = Boxes([.. faces.Select(f => ((double)f.Box.X1, (double)f.Box.Y1, (double)f.Box.Width, (double)f.Box.Height))]);
        var keep = Column([.. Enumerable.Range(1, faces.Count).Select(i => (double)i)]);
        string gt = Path.Combine(root, "gt");
        Directory.CreateDirectory(gt);
        (string, Value)[] common =
        [
            ("event_list", ColumnCell(new Chars("0--Test"))),
            ("file_list", ColumnCell(ColumnCell(new Chars("a"), new Chars("b")))),
            ("face_bbx_list", ColumnCell(ColumnCell(boxes, boxes))),
        ];
        File.WriteAllBytes(Path.Combine(gt, "wider_face_val.mat"), Write(common));
        foreach (string setting in new[] { "easy", "medium", "hard" })
        {
            File.WriteAllBytes(Path.Combine(gt, $"wider_{setting}_val.mat"), Write([.. common, ("gt_list", ColumnCell(ColumnCell(keep, keep)))]));
        }

        return (Path.Combine(root, "WIDER_val"), gt, faces);
    }

    [Fact]
    public void Wider_run_detects_writes_scores_and_resumes()
    {
        var options = WiderEvaluator.PaperOptions;
        var (images, gt, faces) = WiderData(options);
        Assert.NotEmpty(faces);
        string preds = Path.Combine(root, "pred");
        var progress = new Collect();
        var result = WiderEvaluator.Run(images, gt, preds, options, progress: progress);
        foreach (var s in result.Settings)
        {
            Assert.Equal(1.0, s.AveragePrecision, 1e-9);
            Assert.Equal(2 * faces.Count, s.FaceCount);
        }

        string file = Path.Combine(preds, "0--Test", "a.txt");
        var lines = File.ReadAllLines(file);
        Assert.Equal("a.jpg", lines[0]);
        Assert.Equal(faces.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), lines[1]);
        Assert.Equal(2, progress.Reports.Count(r => r.Stage == "detect"));
        Assert.Equal(0, progress.Reports.Max(r => r.Skipped));

        // Resume: nothing is detected again; a removed file is recreated.
        File.Delete(file);
        var again = new Collect();
        var second = WiderEvaluator.Run(images, gt, preds, options, progress: again);
        Assert.Equal(1, again.Reports.Where(r => r.Stage == "detect").Max(r => r.Skipped));
        Assert.True(File.Exists(file));
        Assert.Equal(result.Hard.AveragePrecision, second.Hard.AveragePrecision);

        // Scoring existing predictions alone gives the same numbers.
        Assert.Equal(result.Easy.AveragePrecision, WiderEvaluator.Score(preds, gt).Easy.AveragePrecision);
    }

    [Fact]
    public void Wider_run_reports_missing_and_undecodable_images()
    {
        var (images, gt, _) = WiderData(DetectorOptions.Default);
        File.WriteAllText(Path.Combine(images, "images", "0--Test", "b.jpg"), "not an image");
        string preds = Path.Combine(root, "pred");
        var e = Assert.Throws<EvaluationDataException>(() => WiderEvaluator.Run(images, gt, preds));
        Assert.Contains("1 images could not be read", e.Message, StringComparison.Ordinal);
        Assert.Contains("b.jpg", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(preds, "0--Test", "a.txt")));
        Assert.False(File.Exists(Path.Combine(preds, "0--Test", "b.txt")));

        File.Delete(Path.Combine(images, "images", "0--Test", "b.jpg"));
        var missing = Assert.Throws<EvaluationDataException>(() => WiderEvaluator.Run(images, gt, preds));
        Assert.Contains("1 of 2 validation images are missing", missing.Message, StringComparison.Ordinal);
        Assert.Contains("missing: the ground-truth folder", Assert.Throws<EvaluationDataException>(() => WiderEvaluator.Score(preds, root)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fddb_run_detects_per_fold_writes_roc_files_and_resumes()
    {
        string images = Path.Combine(root, "originalPics");
        Directory.CreateDirectory(Path.Combine(images, "2002", "x"));
        File.Copy(Fixture, Path.Combine(images, "2002", "x", "img_1.jpg"));
        File.Copy(Fixture, Path.Combine(images, "2002", "x", "img_2.jpg"));

        // Annotate the face as the ellipse inscribed in the detected box (IoU of an ellipse with its box: about pi/4).
        var face = new FaceDetector().Detect(ImageLoader.Load(Fixture).Image).Faces[0];
        var b = face.Box;
        string ellipse = FormattableString.Invariant($"{b.Height / 2} {b.Width / 2} {Math.PI / 2} {b.Center.X} {b.Center.Y} 1");
        string folds = Path.Combine(root, "FDDB-folds");
        Directory.CreateDirectory(folds);
        File.WriteAllText(Path.Combine(folds, "FDDB-fold-01-ellipseList.txt"), $"2002/x/img_1\n1\n{ellipse}\n");
        File.WriteAllText(Path.Combine(folds, "FDDB-fold-02-ellipseList.txt"), $"2002/x/img_2\n1\n{ellipse}\n");

        string output = Path.Combine(root, "fddb-out");
        var result = FddbEvaluator.Run(images, folds, output);
        Assert.Equal(2, result.FaceCount);
        Assert.Equal(1.0, result.DiscreteTruePositiveRateAt1000);
        Assert.InRange(result.ContinuousTruePositiveRateAt1000, 0.72, 0.82);
        Assert.True(File.Exists(Path.Combine(output, "fold-01-out.txt")));
        Assert.True(File.Exists(Path.Combine(output, "DiscROC.txt")));
        Assert.True(File.Exists(Path.Combine(output, "ContROC.txt")));

        var progress = new Collect();
        var again = FddbEvaluator.Run(images, folds, output, progress: progress);
        Assert.Equal(2, progress.Reports.Where(r => r.Stage == "detect").Max(r => r.Skipped));
        Assert.Equal(result.Continuous.Select(p => p.TruePositiveRate), again.Continuous.Select(p => p.TruePositiveRate));

        var scored = FddbEvaluator.Score(Path.Combine(output, "fold-02-out.txt"), folds, images);
        Assert.Equal(0.5, scored.DiscreteTruePositiveRateAt1000); // one of two folds' detections
    }

    [Fact]
    public void Plots_are_written_as_png()
    {
        var gt = new WiderGroundTruth([new WiderImage("e", "a", [new(10, 10, 20, 20), new(100, 10, 20, 20)], [0], [0, 1], [0, 1])]);
        var preds = new Dictionary<string, IReadOnlyList<WiderPrediction>> { ["e/a"] = [new(10, 10, 20, 20, 0.9), new(300, 300, 5, 5, 0.6), new(100, 10, 20, 20, 0.3)] };
        string pr = Path.Combine(root, "plots", "pr.png");
        EvaluationPlots.SavePrecisionRecall(WiderProtocol.Evaluate(gt, preds), pr);
        var fddb = FddbProtocol.Evaluate([new FddbImage("a", [new FddbEllipse(10, 8, 1.5, 50, 50)])], new Dictionary<string, IReadOnlyList<FddbDetection>> { ["a"] = [new(42, 40, 16, 20, 0.9), new(0, 0, 5, 5, 0.2)] });
        string roc = Path.Combine(root, "plots", "roc.png");
        EvaluationPlots.SaveRoc(fddb, roc);
        foreach (string file in new[] { pr, roc })
        {
            var loaded = ImageLoader.Load(file);
            Assert.Equal(ImageFileFormat.Png, loaded.Format);
            Assert.Equal((900, 680), (loaded.Width, loaded.Height));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => EvaluationPlots.SaveRoc(fddb, roc, maxFalsePositives: 1));
    }
}
