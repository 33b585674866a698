using System.Globalization;
using System.Text.Json;
using Mtcnn.Evaluation.Tests;
using Mtcnn.Evaluation.Wider;
using Mtcnn.Imaging;
using Mtcnn.TestSupport;
using static Mtcnn.Evaluation.Tests.MatWriter;

namespace Mtcnn.Cli.Tests;

/// <summary>`mtcnn eval wider|fddb`, run as a real process on miniature benchmarks built from the sample and on the official WIDER ground truth.</summary>
public sealed class EvalTests
{
    /// <summary>A WIDER-style miniature: event 0--Test with images a and b (the sample), boxes = what the detector finds.</summary>
    private static (string Images, string Gt) MiniWider(TempFolder temp)
    {
        temp.CopySample("WIDER_val/images/0--Test/a.jpg"); // the loader reads the format from the content
        temp.CopySample("WIDER_val/images/0--Test/b.jpg");
        var faces = new FaceDetector().Detect(ImageLoader.Load(CliHarness.Sample).Image).Faces;
        var boxes = Boxes([.. faces.Select(f => ((double)f.Box.X1, (double)f.Box.Y1, (double)f.Box.Width, (double)f.Box.Height))]);
        var keep = Column([.. Enumerable.Range(1, faces.Count).Select(i => (double)i)]);
        (string, Value)[] common =
        [
            ("event_list", ColumnCell(new Chars("0--Test"))),
            ("file_list", ColumnCell(ColumnCell(new Chars("a"), new Chars("b")))),
            ("face_bbx_list", ColumnCell(ColumnCell(boxes, boxes))),
        ];
        File.WriteAllBytes(temp.File("gt/wider_face_val.mat"), Write(common));
        foreach (string s in new[] { "easy", "medium", "hard" })
        {
            File.WriteAllBytes(temp.File($"gt/wider_{s}_val.mat"), Write([.. common, ("gt_list", ColumnCell(ColumnCell(keep, keep)))]));
        }

        return (Path.Combine(temp.Path, "WIDER_val"), Path.Combine(temp.Path, "gt"));
    }

    private static double[] ApLines(CliRun run)
    {
        Assert.Equal(3, run.Lines.Length);
        Assert.StartsWith("easy    AP ", run.Lines[0], StringComparison.Ordinal);
        Assert.StartsWith("medium  AP ", run.Lines[1], StringComparison.Ordinal);
        Assert.StartsWith("hard    AP ", run.Lines[2], StringComparison.Ordinal);
        return [.. run.Lines.Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture))];
    }

    [Fact]
    public void Eval_wider_detects_writes_the_official_layout_scores_and_resumes()
    {
        using var temp = CliHarness.TempFolder();
        var (images, gt) = MiniWider(temp);
        string output = Path.Combine(temp.Path, "run");
        var run = CliHarness.Run(["eval", "wider", "--images", images, "--gt", gt, "--output", output]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal([1.0, 1.0, 1.0], ApLines(run));
        foreach (string file in new[] { "predictions/0--Test/a.txt", "predictions/0--Test/b.txt", "pr.png", "results.json", "options.json" })
        {
            Assert.True(File.Exists(Path.Combine(output, file)), file);
        }

        Assert.Equal("a.jpg", File.ReadLines(Path.Combine(output, "predictions/0--Test/a.txt")).First());
        using (var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "results.json"))))
        {
            Assert.Equal(1.0, results.RootElement.GetProperty("hard").GetDouble());
            Assert.Equal(2, results.RootElement.GetProperty("images").GetInt32());
        }

        // The same folder again resumes (nothing left to detect) and gives the same numbers, as JSON this time.
        var again = CliHarness.Run(["eval", "wider", "--images", images, "--gt", gt, "--output", output, "--format", "json", "-q"]);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("", again.StdErr);
        using var json = JsonDocument.Parse(again.StdOut);
        Assert.Equal(1.0, json.RootElement.GetProperty("easy").GetDouble());

        // Other detector settings in the same folder would mix results: refused.
        var mixed = CliHarness.Run(["eval", "wider", "--images", images, "--gt", gt, "--output", output, "--paper"]);
        Assert.True(mixed.ExitCode == 1, mixed.ToString());
        Assert.Contains("other detector settings", mixed.StdErr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Eval_wider_scores_the_official_ground_truth_fed_back_as_predictions()
    {
        string gtDir = SharedData.Require("data/wider");
        using var temp = CliHarness.TempFolder();
        var gt = WiderGroundTruth.Load(gtDir);
        var rng = new Random(7);
        string predictions = Path.Combine(temp.Path, "pred");
        foreach (var image in gt.Images)
        {
            WiderPredictionFiles.Write(WiderPredictionFiles.PathFor(predictions, image), image.Name + ".jpg",
                [.. image.Boxes.Select(b => new WiderPrediction(b.X, b.Y, b.Width, b.Height, rng.NextDouble()))]);
        }

        string output = Path.Combine(temp.Path, "scored");
        var run = CliHarness.Run(["eval", "wider", "--gt", gtDir, "--predictions", predictions, "--output", output]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.All(ApLines(run), ap => Assert.True(ap >= 0.999, run.StdOut));
        Assert.Contains("(7211 faces)", run.Lines[0], StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(output, "pr.png")));
    }

    [Fact]
    public void Eval_fddb_detects_per_fold_scores_and_rescores_existing_detections()
    {
        using var temp = CliHarness.TempFolder();
        temp.CopySample("pics/2002/x/img_1.jpg");
        var face = new FaceDetector().Detect(ImageLoader.Load(CliHarness.Sample).Image).Faces[0];
        var b = face.Box;
        string ellipse = FormattableString.Invariant($"{b.Height / 2} {b.Width / 2} {Math.PI / 2} {b.Center.X} {b.Center.Y} 1");
        File.WriteAllText(temp.File("folds/FDDB-fold-01-ellipseList.txt"), $"2002/x/img_1\n1\n{ellipse}\n");
        string output = Path.Combine(temp.Path, "fddb");
        var run = CliHarness.Run(["eval", "fddb", "--images", Path.Combine(temp.Path, "pics"), "--folds", Path.Combine(temp.Path, "folds"), "-o", output]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("discrete   TPR 1.0000 at 1000 false positives", run.Lines[0]);
        Assert.StartsWith("continuous TPR 0.7", run.Lines[1], StringComparison.Ordinal);
        foreach (string file in new[] { "fold-01-out.txt", "DiscROC.txt", "ContROC.txt", "roc.png", "results.json" })
        {
            Assert.True(File.Exists(Path.Combine(output, file)), file);
        }

        var rescored = CliHarness.Run(["eval", "fddb", "--folds", Path.Combine(temp.Path, "folds"), "--detections", Path.Combine(output, "fold-01-out.txt"), "-o", Path.Combine(temp.Path, "again"), "-f", "json"]);
        Assert.True(rescored.ExitCode == 0, rescored.ToString());
        using var json = JsonDocument.Parse(rescored.StdOut);
        Assert.Equal(1.0, json.RootElement.GetProperty("discrete_tpr_at_1000").GetDouble());
        Assert.Equal(1, json.RootElement.GetProperty("faces").GetInt32());
    }

    [Fact]
    public void Bad_evaluation_inputs_fail_with_one_line_and_exit_1()
    {
        using var temp = CliHarness.TempFolder();
        File.WriteAllText(temp.File("folds/FDDB-fold-01-ellipseList.txt"), "img\n2\n1 2 3 4 5 1\n");
        File.WriteAllText(temp.File("gt/wider_face_val.mat"), "not a mat file");
        foreach (string s in new[] { "easy", "medium", "hard" })
        {
            File.WriteAllText(temp.File($"gt/wider_{s}_val.mat"), "x");
        }

        Directory.CreateDirectory(Path.Combine(temp.Path, "pred"));
        Directory.CreateDirectory(Path.Combine(temp.Path, "pics"));
        (string[] Args, string Message)[] cases =
        [
            (["eval", "wider", "--gt", Path.Combine(temp.Path, "nope"), "--predictions", Path.Combine(temp.Path, "pred")], "--gt: '"),
            (["eval", "wider", "--gt", Path.Combine(temp.Path, "gt"), "--predictions", Path.Combine(temp.Path, "pred")], "wider_face_val.mat: not a MAT file"),
            (["eval", "fddb", "--folds", Path.Combine(temp.Path, "folds"), "--images", Path.Combine(temp.Path, "pics")], "FDDB-fold-01-ellipseList.txt: 'img' announces 2 lines"),
            (["eval", "fddb", "--folds", Path.Combine(temp.Path, "folds"), "--detections", Path.Combine(temp.Path, "none.txt")], "--detections: '"),
        ];
        foreach (var (args, message) in cases)
        {
            var run = CliHarness.Run([.. args, "-o", Path.Combine(temp.Path, "out")]);
            Assert.True(run.ExitCode == 1, run.ToString());
            Assert.Equal("", run.StdOut);
            string line = Assert.Single(run.ErrorLines);
            Assert.StartsWith("mtcnn: error: ", line, StringComparison.Ordinal);
            Assert.Contains(message, line, StringComparison.Ordinal);
            Schema.AssertNoStackTrace(run.StdErr);
        }
    }

    [Theory]
    [InlineData(new[] { "eval" }, "Required command")]
    [InlineData(new[] { "eval", "wider", "--images", "x" }, "--gt")]
    [InlineData(new[] { "eval", "wider", "--gt", "x" }, "give --images to run the detector, or --predictions")]
    [InlineData(new[] { "eval", "wider", "--gt", "x", "--images", "y", "--predictions", "z" }, "not both")]
    [InlineData(new[] { "eval", "wider", "--gt", "x", "--images", "y", "--paper", "--thresholds", "0.5,0.5,3" }, "ONetThreshold must be in [0, 1], got 3 (see 'mtcnn eval wider --help')")]
    [InlineData(new[] { "eval", "fddb", "--images", "x" }, "--folds")]
    [InlineData(new[] { "eval", "fddb", "--folds", "x" }, "give --images to run the detector, or --detections")]
    [InlineData(new[] { "eval", "fddb", "--folds", "x", "--images", "y", "--min-face-size", "1" }, "MinFaceSize must be in [4, 100000]")]
    [InlineData(new[] { "eval", "wider", "--gt", "x", "--images", "y", "--format", "xml" }, "expected one of text, json")]
    public void Usage_errors_exit_with_2(string[] args, string mentioned)
    {
        var run = CliHarness.RunInProcess(args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal("", run.StdOut);
        Assert.Contains(mentioned, run.StdErr, StringComparison.Ordinal);
        Assert.All(run.ErrorLines, l => Assert.StartsWith("mtcnn: ", l, StringComparison.Ordinal));
    }
}
