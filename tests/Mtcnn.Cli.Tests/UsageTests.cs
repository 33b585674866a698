namespace Mtcnn.Cli.Tests;

/// <summary>Usage errors exit with 2 and one clear line on stderr; help exits with 0.</summary>
public sealed class UsageTests
{
    [Theory]
    [InlineData("--thresholds", "0.6,1.5,0.7", "RNetThreshold must be in [0, 1], got 1.5")]
    [InlineData("--thresholds", "0.6,0.7", "expected 3 comma-separated numbers")]
    [InlineData("--thresholds", "a,b,c", "expected 3 comma-separated numbers")]
    [InlineData("--nms-thresholds", "0,0.7,0.7,0.7", "PNetNmsThreshold must be in (0, 1], got 0")]
    [InlineData("--nms-thresholds", "0.5,0.7,0.7", "expected 4 comma-separated numbers")]
    [InlineData("--min-face-size", "2", "MinFaceSize must be in [4, 100000], got 2")]
    [InlineData("--min-face-size", "big", "expected a number")]
    [InlineData("--scale-factor", "1.5", "ScaleFactor must be in [0.1, 0.95], got 1.5")]
    [InlineData("--max-faces", "-1", "MaxFaces must be in [0, 100000]")]
    [InlineData("--threads", "-3", "MaxDegreeOfParallelism must be in [0, 1024]")]
    [InlineData("--crop-border", "mirror", "expected one of zero, clip")]
    [InlineData("--stage", "xnet", "expected one of pnet, rnet, onet")]
    [InlineData("--format", "xml", "expected one of text, json, jsonl, csv")]
    public void Bad_detector_option_values_are_usage_errors(string option, string value, string message)
    {
        var run = CliHarness.RunInProcess(["detect", CliHarness.Sample, option, value]);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.StdOut);
        string line = Assert.Single(run.ErrorLines);
        Assert.StartsWith($"mtcnn: {option}: ", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "detect" }, "INPUT")]
    [InlineData(new[] { "detect", "--format", "json" }, "INPUT")]
    [InlineData(new[] { "detect", "samples/astronaut.png", "--bogus" }, "unknown option '--bogus'")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    [InlineData(new[] { "weights", "convert", "--output", "x.safetensors" }, "--npm-package")]
    [InlineData(new[] { "bench", "--sizes", "640by480" }, "--sizes")]
    [InlineData(new[] { "bench", "--iterations", "0" }, "--iterations")]
    public void Malformed_command_lines_exit_with_2(string[] args, string mentioned)
    {
        var run = CliHarness.Run(args);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal("", run.StdOut);
        Assert.Contains(mentioned, run.StdErr, StringComparison.Ordinal);
        Assert.All(run.ErrorLines, l => Assert.StartsWith("mtcnn: ", l, StringComparison.Ordinal));
        Schema.AssertNoStackTrace(run.StdErr);
    }

    [Fact]
    public void No_arguments_shows_help_on_stderr_and_exits_with_2()
    {
        var run = CliHarness.RunInProcess([]);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.StdOut);
        Assert.Contains("detect", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("bench", run.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("detect", "--min-face-size")]
    [InlineData("bench", "--iterations")]
    [InlineData("weights", "convert")]
    public void Help_lists_options_and_examples(string verb, string expected)
    {
        var run = CliHarness.RunInProcess([verb, "--help"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(expected, run.StdOut, StringComparison.Ordinal);
        Assert.Contains("Examples:\n  mtcnn ", run.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_option_problems_are_reported_without_a_stack_trace()
    {
        using var temp = CliHarness.TempFolder();
        File.WriteAllText(temp.File("one/a.safetensors"), "x");
        File.WriteAllText(temp.File("two/a.safetensors"), "x");
        File.WriteAllText(temp.File("two/b.safetensors"), "x");

        var missing = CliHarness.RunInProcess(["detect", CliHarness.Sample, "--weights", Path.Combine(temp.Path, "nope")]);
        var ambiguous = CliHarness.RunInProcess(["detect", CliHarness.Sample, "--weights", Path.Combine(temp.Path, "two")]);
        var invalid = CliHarness.RunInProcess(["detect", CliHarness.Sample, "--weights", Path.Combine(temp.Path, "one")]);

        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("does not exist", missing.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, ambiguous.ExitCode);
        Assert.Contains("a.safetensors, b.safetensors", ambiguous.StdErr, StringComparison.Ordinal);
        Assert.Equal(1, invalid.ExitCode);
        Assert.StartsWith("mtcnn: error: --weights: ", invalid.StdErr, StringComparison.Ordinal);
        Assert.Contains("not a valid weight file", invalid.StdErr, StringComparison.Ordinal);
        Assert.All([missing, ambiguous, invalid], r => Schema.AssertNoStackTrace(r.StdErr));
    }
}
