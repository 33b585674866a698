using System.Text.Json;
using Mtcnn.Alignment;
using Mtcnn.Imaging;
using Mtcnn.TestSupport;

namespace Mtcnn.Cli.Tests;

/// <summary>`mtcnn align`, run as a real process: crops, records, options and failures.</summary>
public sealed class AlignTests
{
    private static readonly string[] RecordKeys = ["image", "face", "crop", "box", "score", "landmarks", "matrix", "template", "width", "height"];

    [Fact]
    public void The_sample_gives_one_112px_crop_and_one_record_on_stdout_and_in_the_record_file()
    {
        using var temp = CliHarness.TempFolder();
        string output = Path.Combine(temp.Path, "crops");
        var run = CliHarness.Run(["align", "samples/astronaut.png", "--output", output]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var record = Assert.Single(run.JsonLines);
        Assert.Equal(RecordKeys, record.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("samples/astronaut.png", record.GetProperty("image").GetString());
        Assert.Equal(0, record.GetProperty("face").GetInt32());
        Assert.Equal("astronaut_0.png", record.GetProperty("crop").GetString());
        Assert.Equal("arcface112", record.GetProperty("template").GetString());
        var box = record.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.True(new BoundingBox(box[0], box[1], box[2], box[3]).IntersectionOverUnion(CliHarness.SampleFace) >= 0.9f);
        Assert.Equal(run.StdOut, File.ReadAllText(Path.Combine(output, "align.jsonl")));

        var crop = ImageLoader.Load(Path.Combine(output, "astronaut_0.png"));
        Assert.Equal((112, 112), (crop.Width, crop.Height));

        // The matrix is the least-squares similarity from the reported landmarks onto the template.
        var m = record.GetProperty("matrix").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var points = record.GetProperty("landmarks").EnumerateArray().Select(p => new Point2F(p[0].GetSingle(), p[1].GetSingle())).ToArray();
        var fit = SimilarityTransform.Estimate(points, [.. AlignmentTemplate.ArcFace112.Points]);
        double[][] expected = [[fit.M11, fit.M12, fit.M13], [fit.M21, fit.M22, fit.M23]];
        for (int r = 0; r < 2; r++)
        {
            for (int c = 0; c < 3; c++)
            {
                Assert.Equal(expected[r][c], m[r][c], c == 2 ? 1e-3 : 1e-5);
            }
        }

        Assert.Contains("1 image, 1 aligned face, 0 failed", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Folders_template_size_margin_and_largest()
    {
        using var temp = CliHarness.TempFolder();
        temp.CopySample("in/a.png");
        temp.CopySample("in/sub/b.png");
        string output = Path.Combine(temp.Path, "out");
        var run = CliHarness.Run(["align", Path.Combine(temp.Path, "in"), "-r", "-o", output, "--largest", "--template", "arcface112x96", "--size", "224", "--margin", "0.1", "--border", "replicate"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["a_0.png", "sub/b_0.png"], run.JsonLines.Select(r => r.GetProperty("crop").GetString()!).ToArray());
        Assert.All(run.JsonLines, r => Assert.Equal((192, 224), (r.GetProperty("width").GetInt32(), r.GetProperty("height").GetInt32())));
        var crop = ImageLoader.Load(Path.Combine(output, "sub", "b_0.png"));
        Assert.Equal((192, 224), (crop.Width, crop.Height));

        var wide = CliHarness.Run(["align", CliHarness.Sample, "-o", output, "--size", "100x120", "-q"]);
        Assert.True(wide.ExitCode == 0, wide.ToString());
        Assert.Equal("", wide.StdErr);
        Assert.Equal((100, 120), (ImageLoader.Load(Path.Combine(output, "astronaut_0.png")).Width, ImageLoader.Load(Path.Combine(output, "astronaut_0.png")).Height));
    }

    [Fact]
    public void A_bad_image_fails_cleanly_while_the_others_are_aligned()
    {
        using var temp = CliHarness.TempFolder();
        string good = temp.CopySample("good.png");
        string bad = temp.File("bad.jpg");
        File.WriteAllText(bad, "this is not an image");
        string missing = Path.Combine(temp.Path, "missing.jpg");
        string output = Path.Combine(temp.Path, "out");
        var run = CliHarness.Run(["align", good, bad, missing, "-o", output]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(3, run.JsonLines.Length);
        Assert.Equal("good_0.png", run.JsonLines[0].GetProperty("crop").GetString());
        Schema.AssertErrorRecord(run.JsonLines[1], bad);
        Assert.Equal("file not found.", Schema.AssertErrorRecord(run.JsonLines[2], missing));
        Assert.Contains($"mtcnn: error: {bad}: ", run.StdErr, StringComparison.Ordinal);
        Assert.Contains($"mtcnn: error: {missing}: file not found", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("3 images, 1 aligned face, 2 failed", run.StdErr, StringComparison.Ordinal);
        Schema.AssertNoStackTrace(run.StdErr);
    }

    [Fact]
    public void An_image_without_faces_warns_succeeds_and_has_a_record()
    {
        using var temp = CliHarness.TempFolder();
        string blank = temp.File("blank.png");
        Schema.WriteBlank(blank, 200, 150);
        var run = CliHarness.Run(["align", blank, "-o", Path.Combine(temp.Path, "out")]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var record = Assert.Single(run.JsonLines);
        Assert.Equal("no face found", record.GetProperty("reason").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, record.GetProperty("face").ValueKind);
        Assert.Contains($"mtcnn: warning: {blank}: no face found", run.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "align", "samples/astronaut.png" }, "--output")]
    [InlineData(new[] { "align", "--output", "x" }, "INPUT")]
    [InlineData(new[] { "align", "samples/astronaut.png", "-o", "x", "--size", "3" }, "--size: expected N or WxH")]
    [InlineData(new[] { "align", "samples/astronaut.png", "-o", "x", "--size", "12by12" }, "--size: expected N or WxH")]
    [InlineData(new[] { "align", "samples/astronaut.png", "-o", "x", "--margin", "-1" }, "--margin: Margin must be in [0, 10], got -1")]
    [InlineData(new[] { "align", "samples/astronaut.png", "-o", "x", "--template", "vgg" }, "expected one of arcface112, arcface112x96")]
    [InlineData(new[] { "align", "samples/astronaut.png", "-o", "x", "--thresholds", "0.6,2,0.7" }, "see 'mtcnn align --help'")]
    [InlineData(new[] { "align", "samples/astronaut.png", "-o", "x", "--bogus" }, "--bogus")]
    [InlineData(new[] { "align", "samples/astronaut.png", "-o", "x", "--template", "facenet160", "--margin", "160" }, "--margin: with facenet160, whole output pixels in [0, 159], got 160")]
    [InlineData(new[] { "align", "samples/astronaut.png", "-o", "x", "--template", "facenet160", "--margin", "2.5" }, "--margin: with facenet160, whole output pixels")]
    [InlineData(new[] { "align", "samples/astronaut.png", "-o", "x", "--template", "facenet160", "--size", "160x120" }, "--size: facenet160 crops are square, got 160x120")]
    [InlineData(new[] { "align", "samples/astronaut.png", "-o", "x", "--largest", "--select", "center" }, "--largest contradicts --select center")]
    [InlineData(new[] { "align", "samples/astronaut.png", "-o", "x", "--select", "widest" }, "expected one of all, largest, best, center")]
    public void Usage_errors_exit_with_2(string[] args, string mentioned)
    {
        var run = CliHarness.RunInProcess([.. args.Select(a => a == "samples/astronaut.png" ? CliHarness.Sample : a)]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal("", run.StdOut);
        Assert.Contains(mentioned, run.StdErr, StringComparison.Ordinal);
        Assert.All(run.ErrorLines, l => Assert.StartsWith("mtcnn: ", l, StringComparison.Ordinal));
        Assert.False(Directory.Exists("x"));
    }

    [Fact]
    public void Facenet160_writes_the_box_crop_with_its_region_and_an_edge_to_edge_matrix()
    {
        using var temp = CliHarness.TempFolder();
        string output = Path.Combine(temp.Path, "crops");
        var run = CliHarness.Run(["align", "samples/astronaut.png", "--output", output, "--template", "facenet160", "--margin", "32"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var record = Assert.Single(run.JsonLines);
        Assert.Equal([.. RecordKeys, "region"], record.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("facenet160", record.GetProperty("template").GetString());
        Assert.Equal((160, 160), (record.GetProperty("width").GetInt32(), record.GetProperty("height").GetInt32()));
        var box = record.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        int[] region = [.. record.GetProperty("region").EnumerateArray().Select(v => v.GetInt32())];
        Assert.Equal(new FaceNetCrop(160, 32).Region(new BoundingBox(box[0], box[1], box[2], box[3]), 512, 512), (region[0], region[1], region[2], region[3]));

        var m = record.GetProperty("matrix").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        Assert.Equal(0.0, m[0][0] * region[0] + m[0][2], 1e-6);
        Assert.Equal(160.0, m[0][0] * region[2] + m[0][2], 1e-6);
        Assert.Equal(160.0, m[1][1] * region[3] + m[1][2], 1e-6);
        Assert.Equal((0.0, 0.0), (m[0][1], m[1][0]));

        // The crop is the library's, pixel for pixel (the library's crop is checked against Pillow in the core tests).
        var crop = ImageLoader.Load(Path.Combine(output, "astronaut_0.png"));
        var sample = ImageLoader.Load(CliHarness.Sample);
        var expected = new FaceNetCrop(160, 32).Crop(sample.Image, new BoundingBox(box[0], box[1], box[2], box[3])).Image;
        Assert.Equal(expected.Pixels.ToArray(), crop.Image.Pixels.ToArray());
    }

    [SkippableTheory]
    [InlineData("all")]
    [InlineData("largest")]
    [InlineData("best")]
    [InlineData("center")]
    public void Select_chooses_the_faces_in_detect_and_align_alike(string select)
    {
        var group = SharedData.Require("data/images/2008_002079.jpg");
        using var temp = CliHarness.TempFolder();
        var all = CliHarness.Run(["detect", group, "--format", "jsonl", "-q"]);
        var faces = Assert.Single(all.JsonLines).GetProperty("faces").EnumerateArray().ToArray();
        Assert.True(faces.Length >= 3, all.ToString());

        var detect = CliHarness.Run(["detect", group, "--format", "jsonl", "-q", "--select", select]);
        var kept = Assert.Single(detect.JsonLines).GetProperty("faces").EnumerateArray().Select(f => f.GetRawText()).ToArray();
        var align = CliHarness.Run(["align", group, "-o", Path.Combine(temp.Path, select), "-q", "--select", select]);
        var cropped = align.JsonLines.Select(r => r.GetProperty("face").GetInt32()).ToArray();

        var boxes = faces.Select(f => f.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        int[] expected = select switch
        {
            "all" => [.. Enumerable.Range(0, faces.Length)],
            "best" => [0],
            "largest" => [Enumerable.Range(0, faces.Length).MaxBy(i => (boxes[i][2] - boxes[i][0]) * (boxes[i][3] - boxes[i][1]))],
            _ => [Enumerable.Range(0, faces.Length).MaxBy(i => Center(boxes[i], Assert.Single(all.JsonLines)))],
        };
        Assert.Equal(expected.Select(i => faces[i].GetRawText()), kept);
        Assert.Equal(expected, cropped);
    }

    private static double Center(float[] b, JsonElement record)
    {
        double cx = record.GetProperty("width").GetInt32() / 2.0, cy = record.GetProperty("height").GetInt32() / 2.0;
        double dx = ((b[0] + b[2]) / 2.0) - cx, dy = ((b[1] + b[3]) / 2.0) - cy;
        return ((b[2] - b[0]) * (b[3] - b[1])) - (2 * ((dx * dx) + (dy * dy)));
    }

    [Fact]
    public void Help_lists_the_options_with_examples()
    {
        var run = CliHarness.RunInProcess(["align", "--help"]);
        Assert.Equal(0, run.ExitCode);
        foreach (string option in new[] { "--output", "--largest", "--select", "facenet160", "--template", "--size", "--margin", "--recursive", "Examples:" })
        {
            Assert.Contains(option, run.StdOut, StringComparison.Ordinal);
        }
    }
}
