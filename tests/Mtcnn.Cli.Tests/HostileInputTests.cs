using System.Diagnostics;
using System.Text.Json;
using Mtcnn.TestSupport;

namespace Mtcnn.Cli.Tests;

/// <summary>
/// The rough edges a hostile test of <c>detect</c> and <c>align</c> found: folder scans (link loops, unreadable folders,
/// names that are not UTF-8), truncated progressive JPEGs, PNG size limits, a bad <c>--output</c>, <c>--</c>, one record
/// per input from <c>align</c>, the candidate cap, and names with control characters.
/// </summary>
public sealed class HostileInputTests
{
    private static string Fixture(string name) => Path.Combine(SharedData.RepoRoot, "tests", "fixtures", name);

    [SkippableFact]
    public void A_folder_link_loop_is_scanned_once_with_a_warning()
    {
        Skip.If(OperatingSystem.IsWindows(), "symbolic links to folders need privileges on Windows");
        using var temp = CliHarness.TempFolder();
        temp.CopySample("in/a/x.png");
        temp.CopySample("in/b/y.png");
        string root = Path.Combine(temp.Path, "in");
        Directory.CreateSymbolicLink(Path.Combine(root, "a", "up"), "..");        // a loop back to the root
        Directory.CreateSymbolicLink(Path.Combine(root, "b", "to-a"), "../a");    // a second way into a
        Directory.CreateSymbolicLink(Path.Combine(root, "c"), Path.Combine(root, "b")); // a link to a folder not yet seen from here

        var run = CliHarness.Run(["detect", root, "-r", "--format", "jsonl"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        string[] images = [.. run.JsonLines.Select(r => r.GetProperty("image").GetString()!)];
        Assert.Equal(2, images.Length);
        Assert.Equal(images.Length, images.Distinct().Count());
        Assert.Contains(Path.Join(root, "a/x.png"), images);
        Assert.Contains(run.ErrorLines, l => l.StartsWith($"mtcnn: warning: {Path.Join(root, "a/up")}: skipped: it leads to {root}, which is already scanned", StringComparison.Ordinal));
        Assert.Contains(run.ErrorLines, l => l.Contains("which is already scanned", StringComparison.Ordinal) && l.Contains("to-a", StringComparison.Ordinal));
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void An_unreadable_folder_in_a_scan_is_a_failed_input_naming_it()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix permissions");
        using var temp = CliHarness.TempFolder();
        File.SetUnixFileMode(temp.Path, (UnixFileMode)0b111_101_101);
        temp.CopySample("in/ok/x.png");
        temp.CopySample("in/locked/y.png");
        string root = Path.Combine(temp.Path, "in");
        foreach (string d in new[] { root, Path.Combine(root, "ok") })
        {
            File.SetUnixFileMode(d, (UnixFileMode)0b111_101_101);
        }

        File.SetUnixFileMode(Path.Combine(root, "ok", "x.png"), (UnixFileMode)0b110_100_100);
        string locked = Path.Combine(root, "locked");
        File.SetUnixFileMode(locked, UnixFileMode.None);
        try
        {
            var run = CliHarness.RunUnprivileged(["detect", root, "-r", "--format", "jsonl"]);
            Skip.If(run is null, "running as root without setpriv: permissions cannot be tested");

            Assert.True(run!.ExitCode == 1, run.ToString());
            var records = run.JsonLines;
            Assert.Equal(2, records.Length);
            Assert.Equal("cannot read the folder: permission denied", Schema.AssertErrorRecord(records[0], locked));
            Assert.Equal(Path.Join(root, "ok/x.png"), records[1].GetProperty("image").GetString());
            Assert.Contains($"mtcnn: error: {locked}: cannot read the folder: permission denied", run.StdErr, StringComparison.Ordinal);

            // Named directly, it is the same error, not "no images found".
            var direct = CliHarness.RunUnprivileged(["detect", locked, "--format", "jsonl"])!;
            Assert.True(direct.ExitCode == 1, direct.ToString());
            Assert.Equal("cannot read the folder: permission denied", Schema.AssertErrorRecord(Assert.Single(direct.JsonLines), locked));
        }
        finally
        {
            File.SetUnixFileMode(locked, (UnixFileMode)0b111_000_000);
        }
    }

    [SkippableFact]
    public void A_file_name_that_is_not_utf8_is_reported_as_such()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "Linux file names are bytes");
        using var temp = CliHarness.TempFolder();
        string folder = Path.Combine(temp.Path, "in");
        Directory.CreateDirectory(folder);
        File.Copy(CliHarness.Sample, Path.Combine(folder, "good.png"));

        // .NET cannot make such a name (it encodes strings as UTF-8), so the shell does: the byte 0xFF is never UTF-8.
        var cp = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "cp \"$1\" \"$2/bad$(printf '\\377').png\"", "sh", CliHarness.Sample, folder]))!;
        cp.WaitForExit();
        Assert.Equal(0, cp.ExitCode);

        var run = CliHarness.Run(["detect", folder, "--format", "jsonl"]);

        Assert.True(run.ExitCode == 1, run.ToString());
        var records = run.JsonLines;
        Assert.Equal(2, records.Length);
        Assert.Equal("the file name is not valid UTF-8, so it cannot be opened by name (rename the file)", records[0].GetProperty("error").GetString());
        Assert.StartsWith(Path.Join(folder, "bad"), records[0].GetProperty("image").GetString(), StringComparison.Ordinal);
        Assert.Equal(Path.Join(folder, "good.png"), records[1].GetProperty("image").GetString());
    }

    [Fact]
    public void A_truncated_progressive_jpeg_is_called_truncated_and_allow_incomplete_decodes_it()
    {
        using var temp = CliHarness.TempFolder();
        byte[] jpeg = File.ReadAllBytes(Fixture("grace_hopper_512x512.jpg"));
        string cut = temp.File("cut.jpg");
        File.WriteAllBytes(cut, jpeg[..(jpeg.Length * 6 / 10)]);

        var refused = CliHarness.Run(["detect", cut, "--format", "jsonl"]);
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Equal(
            "the JPEG data ends before the image is complete (truncated file: no end-of-image marker). Pass --allow-incomplete to accept partially decoded images.",
            Schema.AssertErrorRecord(Assert.Single(refused.JsonLines), cut));

        var detect = CliHarness.Run(["detect", cut, "--format", "jsonl", "--allow-incomplete"]);
        Assert.True(detect.ExitCode == 0, detect.ToString());
        var record = Assert.Single(detect.JsonLines);
        Assert.Equal((512, 512), (record.GetProperty("width").GetInt32(), record.GetProperty("height").GetInt32()));
        Assert.Single(record.GetProperty("faces").EnumerateArray());

        // align has the option too, and says the crop comes from a partial image.
        var align = CliHarness.Run(["align", cut, "-o", Path.Combine(temp.Path, "crops"), "--allow-incomplete"]);
        Assert.True(align.ExitCode == 0, align.ToString());
        Assert.Equal("cut_0.png", Assert.Single(align.JsonLines).GetProperty("crop").GetString());
        Assert.Contains($"mtcnn: warning: {cut}: the image is truncated or partly corrupt", align.StdErr, StringComparison.Ordinal);
        var alignRefused = CliHarness.Run(["align", cut, "-o", Path.Combine(temp.Path, "crops2")]);
        Assert.True(alignRefused.ExitCode == 1, alignRefused.ToString());
        Assert.Contains("Pass --allow-incomplete", alignRefused.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("ImageLoadOptions", alignRefused.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Align_writes_one_record_for_every_input()
    {
        using var temp = CliHarness.TempFolder();
        string good = temp.CopySample("good.png");
        string blank = temp.File("blank.png");
        Schema.WriteBlank(blank, 200, 150);
        string bad = temp.File("bad.jpg");
        File.WriteAllText(bad, "not an image");
        string output = Path.Combine(temp.Path, "out");

        var run = CliHarness.Run(["align", good, blank, bad, "-o", output]);

        Assert.True(run.ExitCode == 1, run.ToString());
        var records = run.JsonLines;
        Assert.Equal(3, records.Length);
        Assert.Equal("good_0.png", records[0].GetProperty("crop").GetString());
        Assert.Equal(["image", "face", "crop", "reason"], records[1].EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(blank, records[1].GetProperty("image").GetString());
        Assert.Equal(JsonValueKind.Null, records[1].GetProperty("crop").ValueKind);
        Assert.Equal("no face found", records[1].GetProperty("reason").GetString());
        Assert.StartsWith("not a supported image", Schema.AssertErrorRecord(records[2], bad), StringComparison.Ordinal);
        Assert.Equal(run.StdOut, File.ReadAllText(Path.Combine(output, "align.jsonl")));
        Assert.Contains("3 images, 1 aligned face, 1 failed", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_output_folder_is_one_error_before_any_image()
    {
        using var temp = CliHarness.TempFolder();
        string file = temp.File("taken");
        File.WriteAllText(file, "x");
        foreach (string verb in new[] { "detect", "align" })
        {
            var run = CliHarness.Run([verb, CliHarness.Sample, CliHarness.Sample, "--output", file]);
            Assert.True(run.ExitCode == 1, run.ToString());
            Assert.Equal("", run.StdOut);
            Assert.Equal([$"mtcnn: error: --output: '{file}' is a file; give a folder (it is created if needed)."], run.ErrorLines);
        }

        var below = CliHarness.Run(["detect", CliHarness.Sample, "--output", Path.Combine(file, "sub")]);
        Assert.True(below.ExitCode == 1, below.ToString());
        Assert.StartsWith($"mtcnn: error: --output: cannot create the folder '{Path.Combine(file, "sub")}'", Assert.Single(below.ErrorLines), StringComparison.Ordinal);
    }

    [Fact]
    public void A_double_dash_ends_the_options()
    {
        using var temp = CliHarness.TempFolder();
        string named = temp.CopySample("-x.png");

        var refused = CliHarness.RunInProcess(["detect", "-x.png"]);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("unknown option '-x.png'", refused.StdErr, StringComparison.Ordinal);

        var run = CliHarness.Run(["detect", "--format", "jsonl", "--", "-x.png"], workingDirectory: temp.Path);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("-x.png", Assert.Single(run.JsonLines).GetProperty("image").GetString());
        Assert.True(File.Exists(named));
    }

    [Fact]
    public void The_candidate_cap_bounds_a_near_zero_threshold_run_and_warns()
    {
        var run = CliHarness.Run(["detect", CliHarness.Sample, "--thresholds", "0,0,0", "--max-candidates", "300", "--format", "jsonl"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"mtcnn: warning: {CliHarness.Sample}: more candidates than --max-candidates survived a stage", run.StdErr, StringComparison.Ordinal);
        var record = Assert.Single(run.JsonLines);
        Assert.NotEmpty(record.GetProperty("faces").EnumerateArray());
        Assert.True(record.GetProperty("candidateLimitReached").GetBoolean());
        Schema.AssertImageRecord(record, landmarks: true);

        var pnet = CliHarness.Run(["detect", CliHarness.Sample, "--thresholds", "0,0,0", "--max-candidates", "300", "--stage", "pnet", "--format", "jsonl", "-q"]);
        Assert.True(pnet.ExitCode == 0, pnet.ToString());
        Assert.Equal(300, Assert.Single(pnet.JsonLines).GetProperty("faces").GetArrayLength());
        Assert.Equal("", pnet.StdErr);

        var normal = CliHarness.Run(["detect", CliHarness.Sample, "--format", "jsonl"]);
        Assert.DoesNotContain("--max-candidates", normal.StdErr, StringComparison.Ordinal);
        Assert.False(Assert.Single(normal.JsonLines).TryGetProperty("candidateLimitReached", out _));

        // The indented document carries the same key.
        var document = CliHarness.Run(["detect", CliHarness.Sample, "--thresholds", "0,0,0", "--max-candidates", "300", "--format", "json", "-q"]);
        Assert.True(document.ExitCode == 0, document.ToString());
        using var parsed = System.Text.Json.JsonDocument.Parse(document.StdOut);
        Assert.True(parsed.RootElement[0].GetProperty("candidateLimitReached").GetBoolean());
    }

    [SkippableFact]
    public void Names_with_control_characters_stay_on_one_line_in_text_output()
    {
        Skip.If(OperatingSystem.IsWindows(), "a newline cannot be part of a Windows file name");
        using var temp = CliHarness.TempFolder();
        temp.CopySample("in/a\nb.png");
        var run = CliHarness.Run(["detect", Path.Combine(temp.Path, "in")]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith(Path.Join(temp.Path, "in", "a\\nb.png") + ": 1 face (512x512)", run.Lines[0], StringComparison.Ordinal);
        Assert.Equal(3, run.Lines.Length);
    }

    [Theory]
    [InlineData("json", "[]")]
    [InlineData("csv", "image,width,height,face,")]
    [InlineData("jsonl", "")]
    [InlineData("text", "")]
    public void No_inputs_give_an_error_and_still_a_complete_empty_document(string format, string stdout)
    {
        var run = CliHarness.RunInProcess(["detect", "-", "--format", format], stdin: "\n\n");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith(stdout, run.StdOut.Trim(), StringComparison.Ordinal);
        Assert.Equal(["mtcnn: error: no images to process."], run.ErrorLines);
    }

    [Fact]
    public void Help_shows_list_defaults_as_the_option_takes_them_and_the_thread_range()
    {
        var run = CliHarness.RunInProcess(["detect", "--help"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        string[] expected = ["[default: 0.6,0.7,0.7]", "[default: 0.5,0.7,0.7,0.7]", "--max-candidates <int>"];
        Assert.All(expected, e => Assert.Contains(e, run.StdOut, StringComparison.Ordinal));
        Assert.DoesNotContain("0.6|0.7", run.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"--threads <int>.*\[0, 1024\]", run.StdOut);

        var margin = CliHarness.RunInProcess(["align", CliHarness.Sample, "-o", "x", "--margin", "-0.1"]);
        Assert.Equal(2, margin.ExitCode);
        Assert.Contains("got -0.1 (see", margin.StdErr, StringComparison.Ordinal);
    }
}
