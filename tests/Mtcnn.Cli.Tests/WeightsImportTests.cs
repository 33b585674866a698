using Mtcnn.TestSupport;

namespace Mtcnn.Cli.Tests;

/// <summary>`mtcnn weights import`: the reference project's PyTorch checkpoints to a weight file of variant reference.</summary>
public sealed class WeightsImportTests
{
    private static void WriteCheckpoints(string folder, string suffix = "_epoch_20.pt")
    {
        Directory.CreateDirectory(folder);
        foreach (var net in new[] { "pnet", "rnet", "onet" })
        {
            File.WriteAllBytes(Path.Combine(folder, net + suffix), ReferenceCheckpoints.Synthetic(net));
        }
    }

    [Fact]
    public void Import_of_a_folder_writes_a_reference_weight_file()
    {
        using var temp = CliHarness.TempFolder();
        string store = Path.Combine(temp.Path, "model_store");
        WriteCheckpoints(store);
        string output = Path.Combine(temp.Path, "out", "reference.safetensors");

        var run = CliHarness.Run(["weights", "import", store, "--output", output]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(string.Empty, run.StdOut);
        Assert.Matches(@"^mtcnn: wrote .*reference\.safetensors \(\d+ bytes, variant reference, 50 tensors, \d+ parameters, sha256 [0-9a-f]{64}\)\n$", run.StdErr);
        var weights = MtcnnWeights.Read(File.ReadAllBytes(output));
        Assert.Equal(ModelVariant.Reference, weights.Variant);
        Assert.Equal([1, 32, 1, 1], weights.Tensors["pnet.conv4_1.weight"].Shape);

        // The file runs in `detect`.
        var detect = CliHarness.RunInProcess(["detect", CliHarness.Sample, "-f", "jsonl", "--weights", output]);
        Assert.True(detect.ExitCode == 0, detect.ToString());
    }

    [Fact]
    public void Options_name_the_checkpoints_and_override_the_folder()
    {
        using var temp = CliHarness.TempFolder();
        string a = Path.Combine(temp.Path, "a");
        WriteCheckpoints(a, "_last.pt");
        string other = Path.Combine(temp.Path, "other-pnet.pt");
        File.WriteAllBytes(other, ReferenceCheckpoints.Synthetic("pnet", seed: 9));

        string fromFolder = Path.Combine(temp.Path, "folder.safetensors");
        string overridden = Path.Combine(temp.Path, "overridden.safetensors");
        var r1 = CliHarness.RunInProcess(["weights", "import", a, "-o", fromFolder]);
        var r2 = CliHarness.RunInProcess(["weights", "import", a, "--pnet", other, "-o", overridden]);

        Assert.True(r1.ExitCode == 0, r1.ToString());
        Assert.True(r2.ExitCode == 0, r2.ToString());
        var w1 = MtcnnWeights.Read(File.ReadAllBytes(fromFolder));
        var w2 = MtcnnWeights.Read(File.ReadAllBytes(overridden));
        Assert.NotEqual(w1.Tensors["pnet.conv1.weight"].Data, w2.Tensors["pnet.conv1.weight"].Data);
        Assert.Equal(w1.Tensors["onet.dense5.weight"].Data, w2.Tensors["onet.dense5.weight"].Data);
    }

    [Fact]
    public void Missing_checkpoints_are_usage_errors()
    {
        using var temp = CliHarness.TempFolder();
        string empty = Path.Combine(temp.Path, "empty");
        Directory.CreateDirectory(empty);
        string output = Path.Combine(temp.Path, "w.safetensors");

        var noneGiven = CliHarness.RunInProcess(["weights", "import", "-o", output]);
        var emptyFolder = CliHarness.RunInProcess(["weights", "import", empty, "-o", output]);
        var missingFile = CliHarness.RunInProcess(["weights", "import", "--pnet", "/nonexistent/p.pt", "--rnet", "r.pt", "--onet", "o.pt", "-o", output]);

        Assert.Equal(2, noneGiven.ExitCode);
        Assert.Contains("Name the pnet checkpoint with --pnet, or give a FOLDER that holds it.", noneGiven.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, emptyFolder.ExitCode);
        Assert.Contains("holds no pnet*.pt checkpoint", emptyFolder.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, missingFile.ExitCode);
        Assert.Contains("--pnet: '/nonexistent/p.pt' does not exist", missingFile.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void A_checkpoint_of_the_wrong_net_is_a_runtime_error_naming_it()
    {
        using var temp = CliHarness.TempFolder();
        string store = Path.Combine(temp.Path, "store");
        WriteCheckpoints(store);
        string output = Path.Combine(temp.Path, "w.safetensors");

        var run = CliHarness.Run(["weights", "import", store, "--pnet", Path.Combine(store, "onet_epoch_20.pt"), "-o", output]);

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("mtcnn: error: ", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("It looks like the onet checkpoint.", run.StdErr, StringComparison.Ordinal);
        Schema.AssertNoStackTrace(run.StdErr);
        Assert.False(File.Exists(output));
    }

    /// <summary>The reference project's own files from ../shared (not in the repository: they carry no licence).</summary>
    [SkippableFact]
    public void Import_of_the_reference_projects_model_store()
    {
        string store = SharedData.Require(Path.Combine("data", "reference_weights"));
        using var temp = CliHarness.TempFolder();
        string output = Path.Combine(temp.Path, "reference.safetensors");

        var run = CliHarness.RunInProcess(["weights", "import", store, "--output", output]);
        var info = CliHarness.RunInProcess(["weights", "info", output]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("variant: reference\n", info.StdOut, StringComparison.Ordinal);
        Assert.Contains("  source: Enderfga/mtCNN_sysu model_store/{pnet,rnet,onet}_epoch_20.pt\n", info.StdOut, StringComparison.Ordinal);
        Assert.Contains("tensors: 50 (289773 parameters)\n", info.StdOut, StringComparison.Ordinal);
    }
}
