using Mtcnn.Training.Data;
using Mtcnn.Training.Data.Tests;

namespace Mtcnn.Cli.Tests;

/// <summary><c>mtcnn prepare-data</c>: runs, summaries, reported bad inputs and usage errors.</summary>
public sealed class PrepareDataTests : IDisposable
{
    private readonly TrainingFixtures.Folder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Writes_the_sample_file_and_a_summary()
    {
        string list = TrainingFixtures.LandmarkSet(folder.Path, 6);
        string output = Path.Combine(folder.Path, "out");
        var run = CliHarness.RunInProcess(["prepare-data", "--net", "pnet", "--landmarks", list, "--output", output, "--seed", "3", "--threads", "2"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var set = SampleSet.Read(Path.Combine(output, "pnet.samples"));
        Assert.Equal(12, set.Size);
        Assert.StartsWith("pnet: 6 images (0 skipped), 0 bad annotation lines, ", run.Lines[0], StringComparison.Ordinal);
        string kept(string kind) => run.Lines.Single(l => l.StartsWith(kind + " ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];
        Assert.Equal(set.CountOf(SampleKind.Positive).ToString(System.Globalization.CultureInfo.InvariantCulture), kept("positive"));
        Assert.Equal(set.CountOf(SampleKind.Landmark).ToString(System.Globalization.CultureInfo.InvariantCulture), kept("landmark"));
        Assert.Contains(run.Lines, l => l.StartsWith("wrote ", StringComparison.Ordinal) && l.Contains("pnet.samples", StringComparison.Ordinal));
        Assert.Equal(list, set.Metadata["landmarks"]);
        Assert.Equal("3", set.Metadata["seed"]);
        Assert.Equal("", run.StdErr); // 6 images: too few for progress lines
    }

    [Fact]
    public void Bad_lines_and_missing_images_are_named_and_the_rest_is_written()
    {
        string list = TrainingFixtures.LandmarkSet(folder.Path, 6);
        var lines = File.ReadAllLines(list);
        lines[1] = "images\\img1.png 10 20";
        lines[4] = lines[4].Replace("img4.png", "gone.png", StringComparison.Ordinal);
        File.WriteAllLines(list, lines);
        string output = Path.Combine(folder.Path, "out");
        var run = CliHarness.RunInProcess(["prepare-data", "--net", "pnet", "--landmarks", list, "--output", output, "--quiet"]);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains(run.ErrorLines, l => l.StartsWith($"mtcnn: error: {list}:2: expected 15 fields", StringComparison.Ordinal));
        Assert.Contains(run.ErrorLines, l => l.StartsWith($"mtcnn: error: {list}:5: ", StringComparison.Ordinal) && l.Contains("gone.png", StringComparison.Ordinal));
        Assert.StartsWith("pnet: 5 images (1 skipped), 1 bad annotation line, ", run.Lines[0], StringComparison.Ordinal);
        var set = SampleSet.Read(Path.Combine(output, "pnet.samples"));
        Assert.True(set.Count > 0);
        Assert.Equal(4, Enumerable.Range(0, set.Count).Select(set.SourceImage).Distinct().Count());
    }

    [Fact]
    public void Lines_select_the_split_and_rnet_mines_with_the_bundled_weights()
    {
        string list = TrainingFixtures.HopperSet(folder.Path, 4);
        string output = Path.Combine(folder.Path, "out");
        var run = CliHarness.RunInProcess(["prepare-data", "--net", "rnet", "--landmarks", list, "--lines", "1:3", "--output", output]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.StartsWith("rnet: 3 images", run.Lines[0], StringComparison.Ordinal);
        Assert.Contains("mined", run.Lines[1], StringComparison.Ordinal);
        var set = SampleSet.Read(Path.Combine(output, "rnet.samples"));
        Assert.Equal(24, set.Size);
        Assert.Equal("1:3", set.Metadata["landmark_lines"]);
    }

    [Theory]
    [InlineData(new[] { "--net", "pnet", "--output", "o" }, "give --wider-annotations")]
    [InlineData(new[] { "--net", "xnet", "--landmarks", "l.txt", "--output", "o" }, "--net: expected one of pnet, rnet, onet")]
    [InlineData(new[] { "--landmarks", "l.txt", "--output", "o" }, "--net")]
    [InlineData(new[] { "--net", "pnet", "--landmarks", "l.txt" }, "--output")]
    [InlineData(new[] { "--net", "pnet", "--wider-annotations", "w.txt", "--output", "o" }, "--wider-annotations and --wider-images go together")]
    [InlineData(new[] { "--net", "pnet", "--wider-annotations", "w.txt", "--wider-images", "i", "--lines", "1:5", "--output", "o" }, "--lines selects lines of the landmark list")]
    [InlineData(new[] { "--net", "pnet", "--landmarks", "l.txt", "--lines", "5:1", "--output", "o" }, "--lines: expected A:B")]
    [InlineData(new[] { "--net", "pnet", "--landmarks", "l.txt", "--ratio", "3:1:1", "--output", "o" }, "--ratio: expected four whole numbers")]
    [InlineData(new[] { "--net", "pnet", "--landmarks", "l.txt", "--threads", "-1", "--output", "o" }, "--threads: MaxDegreeOfParallelism must be in [0, 1024], got -1")]
    [InlineData(new[] { "--net", "pnet", "--landmarks", "l.txt", "--flip-probability", "2", "--output", "o" }, "--flip-probability: FlipProbability must be in [0, 1], got 2")]
    [InlineData(new[] { "--net", "pnet", "--landmarks", "l.txt", "--weights", "w", "--output", "o" }, "--weights: pnet samples are not mined")]
    public void Usage_errors_exit_with_2(string[] args, string message)
    {
        var run = CliHarness.RunInProcess(["prepare-data", .. args]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal("", run.StdOut);
        Assert.Contains(message, run.StdErr, StringComparison.Ordinal);
        Assert.All(run.ErrorLines, l => Assert.StartsWith("mtcnn: ", l, StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_list_is_a_failure_naming_it()
    {
        var run = CliHarness.RunInProcess(["prepare-data", "--net", "pnet", "--landmarks", Path.Combine(folder.Path, "none.txt"), "--output", folder.Path]);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--landmarks: ", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("none.txt", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_describes_the_options()
    {
        var run = CliHarness.RunInProcess(["prepare-data", "--help"]);

        Assert.Equal(0, run.ExitCode);
        foreach (string option in new[] { "--net", "--lines", "--ratio", "--faces-from-landmarks", "--max-negatives-per-image", "--seed", "--threads" })
        {
            Assert.Contains(option, run.StdOut, StringComparison.Ordinal);
        }

        Assert.Contains("Examples:\n  mtcnn prepare-data", run.StdOut, StringComparison.Ordinal);
    }
}
