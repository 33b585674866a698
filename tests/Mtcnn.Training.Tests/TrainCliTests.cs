using System.Diagnostics;
using System.Reflection;
using Mtcnn.TestSupport;
using Mtcnn.Training.Data.Tests;

namespace Mtcnn.Training.Tests;

/// <summary>mtcnn-train as a program, and `mtcnn train` forwarding to it.</summary>
[Collection("torch")]
public sealed class TrainCliTests : IDisposable
{
    private readonly TrainingFixtures.Folder temp = new();

    private string Root => temp.Path;

    public void Dispose() => temp.Dispose();

    private static string Built(string key) =>
        typeof(TrainCliTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;

    private static (int Code, string Out, string Err) Run(string dll, IEnumerable<string> args, string? trainTool = null)
    {
        var start = new ProcessStartInfo(CliLocator.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        if (trainTool is not null)
        {
            start.Environment["MTCNN_TRAIN"] = trainTool;
        }

        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(180_000), "the program did not finish in 3 minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Mtcnn_train_forwards_to_the_training_tool_and_detect_uses_the_result()
    {
        var samples = Path.Combine(Root, "pnet.samples");
        TrainerTests.Synthetic(12, 96, seed: 2).Write(samples);
        var runs = Path.Combine(Root, "runs");
        var (code, stdout, stderr) = Run(Built("MtcnnCliDll"),
            ["train", "--net", "pnet", "--samples", samples, "--epochs", "1", "--batch-size", "32", "--threads", "1", "--project", runs],
            trainTool: Built("MtcnnTrainDll"));
        Assert.True(code == 0, stderr);
        Assert.Contains("weights:", stdout, StringComparison.Ordinal);
        Assert.Contains("epoch 1:", stderr, StringComparison.Ordinal);
        var run = Path.Combine(runs, "pnet1");
        Assert.True(File.Exists(Path.Combine(run, "weights.safetensors")));

        var image = Path.Combine(SharedData.RepoRoot, "samples", "astronaut.png");
        var detect = Run(Built("MtcnnCliDll"), ["detect", image, "--weights", run, "--format", "json"]);
        Assert.True(detect.Code == 0, detect.Err);
        Assert.Contains("\"faces\"", detect.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_arguments_are_one_line_errors()
    {
        var train = Built("MtcnnTrainDll");
        var missing = Run(train, ["train", "--net", "pnet", "--samples", Path.Combine(Root, "none.samples")]);
        Assert.Equal(2, missing.Code);
        Assert.Contains("none.samples", missing.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", missing.Err, StringComparison.Ordinal);

        var net = Run(train, ["train", "--net", "xnet", "--samples", "x"]);
        Assert.Equal(2, net.Code);
        Assert.Contains("'xnet' is not pnet, rnet or onet", net.Err, StringComparison.Ordinal);

        var resume = Run(train, ["train", "--resume", Root]);
        Assert.Equal(2, resume.Code);
        Assert.Contains("options.json", resume.Err, StringComparison.Ordinal);

        var cascade = Run(train, ["train-cascade", "--output", Path.Combine(Root, "c"), "--epochs", "1,2"]);
        Assert.Equal(2, cascade.Code);
        Assert.Contains("three comma-separated values", cascade.Err, StringComparison.Ordinal);

        var notFound = Run(Built("MtcnnCliDll"), ["train", "--help"], trainTool: Path.Combine(Root, "no-such-tool"));
        Assert.Equal(1, notFound.Code);
        Assert.Contains("cannot start", notFound.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_cascade_with_init_default_uses_the_fine_tuning_recipe_and_says_what_it_kept()
    {
        var list = Mtcnn.Training.Data.Tests.TrainingFixtures.HopperSet(Path.Combine(Root, "data"), count: 8);
        var folder = Path.Combine(Root, "ft");
        var (code, stdout, stderr) = Run(Built("MtcnnTrainDll"),
            ["train-cascade", "--output", folder, "--init", "default", "--landmarks", list, "--threads", "1", "--seed", "1",
             "--epochs", "1,1,1", "--batch-sizes", "64,32,16", "--val-fraction", "0.3"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("cascade weights:", stdout, StringComparison.Ordinal);
        Assert.Contains("pnet: not trained", stderr, StringComparison.Ordinal);
        Assert.Contains("onet: kept ", stderr, StringComparison.Ordinal);
        Assert.Contains("onet epoch 1 time: batch encoding", stderr, StringComparison.Ordinal);
        var options = Mtcnn.Training.Cascade.CascadeOptions.FromJson(File.ReadAllText(Path.Combine(folder, "cascade.json")));
        var recipe = Mtcnn.Training.Cascade.CascadeOptions.FineTuneRecipe("default");
        Assert.Equal(recipe.Stages, options.Stages);
        Assert.Equal(recipe.Freeze, options.Freeze);
        Assert.Equal(recipe.LearningRates, options.LearningRates);
        Assert.Equal(recipe.Patience, options.Patience);
        Assert.Equal([1, 1, 1], options.Epochs);

        var train = Built("MtcnnTrainDll");
        var stages = Run(train, ["train-cascade", "--output", Path.Combine(Root, "x"), "--landmarks", list, "--stages", "xnet"]);
        Assert.Equal(2, stages.Code);
        Assert.Contains("'xnet' is not pnet, rnet or onet", stages.Err, StringComparison.Ordinal);
        var scratch = Run(train, ["train-cascade", "--output", Path.Combine(Root, "y"), "--landmarks", list, "--stages", "onet"]);
        Assert.Equal(2, scratch.Code);
        Assert.Contains("--init", scratch.Err, StringComparison.Ordinal);
        var freeze = Run(train, ["train", "--net", "onet", "--samples", list, "--freeze", "heads"]);
        Assert.Equal(2, freeze.Code);
        Assert.Contains("'heads'", freeze.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", freeze.Err + scratch.Err + stages.Err, StringComparison.Ordinal);
    }
}
