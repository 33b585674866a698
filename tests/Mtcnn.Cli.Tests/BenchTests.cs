using System.Text.Json;

namespace Mtcnn.Cli.Tests;

/// <summary>`mtcnn bench` runs and reports (timings are never asserted).</summary>
public sealed class BenchTests
{
    private static readonly string[] Quick = ["bench", "--iterations", "1", "--warmup", "0", "--sizes", "320x240", "--min-face-size", "40", "--threads", "1"];

    [Fact]
    public void Text_report_has_the_machine_header_and_a_row_per_setting()
    {
        var run = CliHarness.Run([.. Quick, "--batch", "2"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("mtcnn bench: bundled sample astronaut.png (512x512)", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("\nmachine: ", run.StdOut, StringComparison.Ordinal);
        Assert.Contains(" logical cores, ", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("SIMD ", run.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"\nsize +min face +threads +total +pyramid +P-Net +R-Net +O-Net", run.StdOut);
        Assert.Matches(@"\n320x240 +40 +1 +[\d.]+ / [\d.]+", run.StdOut);
        Assert.Contains("DetectBatch", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("bench: 320x240 min face 40, 1 thread", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_and_json_reports()
    {
        var markdown = CliHarness.RunInProcess([.. Quick, "--format", "markdown", "--quiet", "--image", CliHarness.Sample]);
        var json = CliHarness.RunInProcess([.. Quick, "--format", "json", "-q"]);

        Assert.Equal(0, markdown.ExitCode);
        Assert.Equal("", markdown.StdErr);
        Assert.Contains("| size | min face | threads | total |", markdown.StdOut, StringComparison.Ordinal);
        Assert.Contains("|---|---:|", markdown.StdOut, StringComparison.Ordinal);
        Assert.Contains("| 320x240 | 40 | 1 | ", markdown.StdOut, StringComparison.Ordinal);

        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.StdOut);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("machine").GetProperty("cores").GetInt32() >= 1);
        var row = Assert.Single(root.GetProperty("single").EnumerateArray().ToArray());
        Assert.Equal(320, row.GetProperty("width").GetInt32());
        Assert.True(row.GetProperty("totalMs").GetProperty("median").GetDouble() > 0);
        Assert.True(row.GetProperty("pnetCandidates").GetInt32() >= row.GetProperty("rnetCandidates").GetInt32());
        Assert.True(row.GetProperty("allocatedBytesPerImage").GetInt64() >= 0);
        Assert.Empty(root.GetProperty("batch").EnumerateArray());
    }

    [Fact]
    public void A_missing_image_is_a_failure()
    {
        var run = CliHarness.RunInProcess([.. Quick, "--image", "/nonexistent/x.png"]);

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("mtcnn: error: --image: ", run.StdErr, StringComparison.Ordinal);
    }
}
