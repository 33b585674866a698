using Mtcnn.Evaluation.Fddb;
using Mtcnn.Evaluation.Wider;

namespace Mtcnn.Evaluation.Tests;

/// <summary>The official text layouts: WIDER prediction files and FDDB fold/detection files, written, read back and rejected when malformed.</summary>
public sealed class FileFormatTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "mtcnn-eval-files-" + Guid.NewGuid().ToString("N"));

    public FileFormatTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Wider_prediction_files_round_trip_in_the_official_layout()
    {
        var image = new WiderImage("0--Parade", "0_Parade_marchingband_1_465", [], [], [], []);
        string path = WiderPredictionFiles.PathFor(dir, image);
        Assert.Equal(Path.Combine(dir, "0--Parade", "0_Parade_marchingband_1_465.txt"), path);
        WiderPrediction[] preds = [new(1.5, 2, 30.25, 40, 0.99912345), new(100, 200, 10, 12, 0.5)];
        WiderPredictionFiles.Write(path, "0_Parade_marchingband_1_465.jpg", preds);
        Assert.Equal("0_Parade_marchingband_1_465.jpg\n2\n1.5 2 30.25 40 0.99912345\n100 200 10 12 0.5\n", File.ReadAllText(path));
        Assert.Equal(preds, WiderPredictionFiles.ReadFile(path));
        Assert.False(File.Exists(path + ".tmp"));

        var all = WiderPredictionFiles.ReadDirectory(dir);
        Assert.Equal(preds, all["0--Parade/0_Parade_marchingband_1_465"]);

        var face = new Face(new BoundingBox(10, 20, 40, 60), 0.9f, default);
        Assert.Equal(new WiderPrediction(10, 20, 30, 40, 0.9f), WiderPrediction.FromFace(face));
    }

    [Theory]
    [InlineData("name\n", "at least two lines")]
    [InlineData("name\nabc\n", "line 2")]
    [InlineData("name\n2\n1 2 3 4 0.5\n", "announces 2")]
    [InlineData("name\n1\n1 2 3 0.5\n", "line 3")]
    [InlineData("name\n1\n1 2 x 4 0.5\n", "'x' is not a finite number")]
    [InlineData("name\n1\n1 2 3 4 NaN\n", "not a finite number")]
    public void Malformed_wider_prediction_files_name_the_file_and_line(string content, string expected)
    {
        string path = Path.Combine(dir, "bad.txt");
        File.WriteAllText(path, content);
        var e = Assert.Throws<EvaluationDataException>(() => WiderPredictionFiles.ReadFile(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wider_prediction_files_accept_empty_lists_and_windows_line_endings()
    {
        Assert.Empty(WiderPredictionFiles.Parse(["img.jpg", "0"]));
        string path = Path.Combine(dir, "crlf.txt");
        File.WriteAllText(path, "img.jpg\r\n1\r\n1 2 3 4 0.5 extra\r\n\r\n");
        Assert.Equal([new WiderPrediction(1, 2, 3, 4, 0.5)], WiderPredictionFiles.ReadFile(path));
        Assert.Throws<EvaluationDataException>(() => WiderPredictionFiles.ReadDirectory(Path.Combine(dir, "missing")));
    }

    [Fact]
    public void Fddb_folds_and_detections_round_trip()
    {
        string folds = Path.Combine(dir, "FDDB-folds");
        Directory.CreateDirectory(folds);
        File.WriteAllText(Path.Combine(folds, "FDDB-fold-02-ellipseList.txt"), "2002/08/11/big/img_591\n1\n123.583300 85.549500 1.265839 269.693400 161.781200  1\n2002/08/26/big/img_265\n2\n67.363819 44.511485 -1.476417 105.249970 87.209036  1\n41.936870 27.064477 1.471906 184.070915 129.345601  1\n");
        File.WriteAllText(Path.Combine(folds, "FDDB-fold-01-ellipseList.txt"), "img_a\n0\n");
        File.WriteAllText(Path.Combine(folds, "FDDB-fold-01.txt"), "img_a\n");
        var read = FddbFiles.ReadFolds(folds);
        Assert.Equal([1, 2], read.Select(f => f.Number));
        Assert.Empty(read[0].Images[0].Faces);
        var img = read[1].Images[1];
        Assert.Equal("2002/08/26/big/img_265", img.Name);
        Assert.Equal(new FddbEllipse(41.936870, 27.064477, 1.471906, 184.070915, 129.345601), img.Faces[1]);

        string out1 = Path.Combine(dir, "out", FddbFiles.DetectionFileName(1));
        Assert.EndsWith("fold-01-out.txt", out1, StringComparison.Ordinal);
        FddbDetection[] d = [new(1, 2, 3, 4, 0.75), new(5.5, 6, 7, 8, 0.25)];
        FddbFiles.WriteDetections(out1, [("img_a", d), ("img_b", Array.Empty<FddbDetection>())]);
        Assert.Equal("img_a\n2\n1 2 3 4 0.75\n5.5 6 7 8 0.25\nimg_b\n0\n", File.ReadAllText(out1));
        var back = FddbFiles.ReadDetections(out1);
        Assert.Equal(d, back["img_a"]);
        Assert.Empty(back["img_b"]);
    }

    [Fact]
    public void Malformed_fddb_files_are_rejected_with_the_line()
    {
        string path = Path.Combine(dir, "FDDB-fold-01-ellipseList.txt");
        File.WriteAllText(path, "img\n2\n1 2 3 4 5 1\n");
        Assert.Contains("announces 2", Assert.Throws<EvaluationDataException>(() => FddbFiles.ReadEllipseList(path)).Message, StringComparison.Ordinal);
        File.WriteAllText(path, "img\nx\n");
        Assert.Contains("line 2", Assert.Throws<EvaluationDataException>(() => FddbFiles.ReadEllipseList(path)).Message, StringComparison.Ordinal);
        File.WriteAllText(path, "img\n1\n1 2 3\n");
        Assert.Contains("line 3", Assert.Throws<EvaluationDataException>(() => FddbFiles.ReadEllipseList(path)).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<EvaluationDataException>(() => FddbFiles.ReadFolds(Path.Combine(dir, "nope"))).Message, StringComparison.Ordinal);
        Directory.CreateDirectory(Path.Combine(dir, "empty"));
        Assert.Contains("no FDDB-fold", Assert.Throws<EvaluationDataException>(() => FddbFiles.ReadFolds(Path.Combine(dir, "empty"))).Message, StringComparison.Ordinal);
    }
}
