using Mtcnn.Imaging;
using SkiaSharp;

namespace Mtcnn.Cli.Tests;

/// <summary><c>--rotations</c> in <c>detect</c>, <c>align</c> and <c>video</c>: turned photos, output keys, parse errors.</summary>
public sealed class RotationCliTests
{
    /// <summary>Writes the sample turned a quarter turn clockwise (so its face is upright after 270 more degrees).</summary>
    private static string TurnedSample(TempFolder temp)
    {
        using var source = SKBitmap.Decode(CliHarness.Sample);
        using var turned = new SKBitmap(source.Height, source.Width, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(turned))
        {
            canvas.Translate(source.Height, 0);
            canvas.RotateDegrees(90);
            canvas.DrawBitmap(source, 0, 0);
        }

        string path = temp.File("turned.png");
        using var data = turned.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    private static BoundingBox TurnedSampleFace()
    {
        var f = CliHarness.SampleFace;
        return new BoundingBox(513 - f.Y2, f.X1, 513 - f.Y1, f.X2);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("270")]
    [InlineData("0,90,180,270")]
    public void Detect_finds_the_face_of_a_turned_photo_and_reports_its_rotation(string rotations)
    {
        using var temp = CliHarness.TempFolder();
        string turned = TurnedSample(temp);
        var run = CliHarness.RunInProcess(["detect", turned, "--rotations", rotations, "-f", "jsonl"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var face = Assert.Single(Schema.AssertImageRecord(Assert.Single(run.JsonLines), landmarks: true));
        Assert.Equal(270, face.GetProperty("rotation").GetInt32());
        Assert.True(Schema.Box(face).IntersectionOverUnion(TurnedSampleFace()) >= 0.9f, run.StdOut);

        // The landmark names keep their meaning: in the upright face (turned back 270 degrees clockwise, i.e. 90
        // counter-clockwise: upright x = y) the left eye is left of the right eye, and the eyes are above the mouth.
        var p = face.GetProperty("landmarks").EnumerateArray().Select(l => (X: l[0].GetSingle(), Y: l[1].GetSingle())).ToArray();
        Assert.True(p[0].Y < p[1].Y && p[3].Y < p[4].Y, run.StdOut);
        Assert.True(p[0].X > p[3].X && p[1].X > p[4].X, run.StdOut);

        var text = CliHarness.RunInProcess(["detect", turned, "--rotations", rotations]);
        Assert.Contains("upright when turned 270 degrees clockwise", text.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Detect_without_rotations_reports_no_rotation_key()
    {
        var run = CliHarness.RunInProcess(["detect", CliHarness.Sample, "--rotations", "auto", "-f", "jsonl"]);

        Assert.Equal(0, run.ExitCode);
        var face = Assert.Single(Schema.AssertImageRecord(run.JsonLines[0], landmarks: true));
        Assert.False(face.TryGetProperty("rotation", out _), "an upright face has no rotation key");
    }

    [Fact]
    public void Align_gives_an_upright_crop_from_a_turned_photo()
    {
        using var temp = CliHarness.TempFolder();
        string turned = TurnedSample(temp);
        string uprightOut = Path.Combine(temp.Path, "upright"), turnedOut = Path.Combine(temp.Path, "turned-crops");
        var a = CliHarness.RunInProcess(["align", CliHarness.Sample, "--output", uprightOut, "-q"]);
        var b = CliHarness.RunInProcess(["align", turned, "--output", turnedOut, "--rotations", "auto", "-q"]);

        Assert.True(a.ExitCode == 0, a.ToString());
        Assert.True(b.ExitCode == 0, b.ToString());
        Assert.Equal(270, Assert.Single(b.JsonLines).GetProperty("rotation").GetInt32());
        var upright = ImageLoader.Load(Path.Combine(uprightOut, "astronaut_0.png")).Pixels.ToArray();
        var fromTurned = ImageLoader.Load(Path.Combine(turnedOut, "turned_0.png")).Pixels.ToArray();
        Assert.Equal(upright.Length, fromTurned.Length);
        double diff = upright.Zip(fromTurned, (x, y) => Math.Abs(x - y)).Average();
        Assert.True(diff < 1.0, $"the crop from the turned photo differs from the upright one by {diff:F2} levels on average");
    }

    [Theory]
    [InlineData("detect", "45")]
    [InlineData("detect", "0,,90")]
    [InlineData("detect", "sideways")]
    [InlineData("align", "360")]
    [InlineData("video", "45,90")]
    public void Bad_rotations_are_usage_errors(string verb, string value)
    {
        string[] args = verb switch
        {
            "align" => ["align", CliHarness.Sample, "--output", Path.Combine(Path.GetTempPath(), "unused-mtcnn-crops"), "--rotations", value],
            _ => [verb, CliHarness.Sample, "--rotations", value],
        };
        var run = CliHarness.RunInProcess(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.StdOut);
        string line = Assert.Single(run.ErrorLines);
        Assert.Equal($"mtcnn: --rotations: expected 0, 90, 180 or 270 separated by commas (like 0,90,180,270), all, or auto, got '{value}'", line.Split(" (see", 2)[0]);
    }

    [Theory]
    [InlineData("detect")]
    [InlineData("align")]
    [InlineData("video")]
    public void Help_lists_the_rotations_option(string verb)
    {
        var run = CliHarness.RunInProcess([verb, "--help"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("--rotations", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("auto", run.StdOut, StringComparison.Ordinal);
    }
}
