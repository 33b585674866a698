using System.Text.Json;
using Mtcnn.Alignment;
using Mtcnn.Imaging;

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
        Assert.Single(run.JsonLines);
        Assert.Contains($"mtcnn: error: {bad}: ", run.StdErr, StringComparison.Ordinal);
        Assert.Contains($"mtcnn: error: {missing}: file not found", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("3 images, 1 aligned face, 2 failed", run.StdErr, StringComparison.Ordinal);
        Schema.AssertNoStackTrace(run.StdErr);
    }

    [Fact]
    public void An_image_without_faces_warns_and_succeeds()
    {
        using var temp = CliHarness.TempFolder();
        string blank = temp.File("blank.png");
        Schema.WriteBlank(blank, 200, 150);
        var run = CliHarness.Run(["align", blank, "-o", Path.Combine(temp.Path, "out")]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.StdOut);
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
    public void Help_lists_the_options_with_examples()
    {
        var run = CliHarness.RunInProcess(["align", "--help"]);
        Assert.Equal(0, run.ExitCode);
        foreach (string option in new[] { "--output", "--largest", "--template", "--size", "--margin", "--recursive", "Examples:" })
        {
            Assert.Contains(option, run.StdOut, StringComparison.Ordinal);
        }
    }
}
