using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Mtcnn.Tests.Weights.Support;

namespace Mtcnn.Tests.Weights;

/// <summary>
/// The converter, offline: the default weights written back into TFLite files laid out like the released ones must
/// convert back unchanged; wrong checksums, a wrong PReLU graph, missing tensors and bad tarballs are format errors.
/// </summary>
public sealed class ConverterTests
{
    private static readonly Lazy<(byte[] P, byte[] R, byte[] O)> Synthetic = new(() => (
        SyntheticTflite.Export(MtcnnWeights.Default, "pnet"),
        SyntheticTflite.Export(MtcnnWeights.Default, "rnet"),
        SyntheticTflite.Export(MtcnnWeights.Default, "onet")));

    [Fact]
    public void Converting_an_export_of_the_default_weights_gives_them_back()
    {
        var (p, r, o) = Synthetic.Value;
        var w = OriginalWeightsConverter.Convert(p, r, o, verifyChecksums: false);

        Assert.Equal(ModelVariant.Original, w.Variant);
        Assert.Equal(MtcnnWeights.Default.Tensors.Keys, w.Tensors.Keys);
        foreach (var (name, expected) in MtcnnWeights.Default.Tensors)
        {
            Assert.Equal(expected.Shape, w.Tensors[name].Shape);
            Assert.True(expected.Data.AsSpan().SequenceEqual(w.Tensors[name].Data), $"{name} differs");
        }

        // The metadata records the checksums of the files actually converted.
        string pHash = Convert.ToHexStringLower(SHA256.HashData(p));
        Assert.Contains("pnet.tflite=" + pHash, w.Metadata["source_sha256"], StringComparison.Ordinal);
        Assert.Equal(OriginalWeightsConverter.SourceDescription, w.Metadata["source"]);
    }

    [Fact]
    public void A_wrong_sha256_names_expected_and_actual()
    {
        var (p, r, o) = Synthetic.Value;
        var e = Assert.Throws<MtcnnFormatException>(() => OriginalWeightsConverter.Convert(p, r, o));
        Assert.Contains("pnet.tflite", e.Message, StringComparison.Ordinal);
        Assert.Contains("expected sha256 " + OriginalWeightsConverter.PNetSha256, e.Message, StringComparison.Ordinal);
        Assert.Contains("actual " + Convert.ToHexStringLower(SHA256.HashData(p)), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_PReLU_graph_that_would_flip_the_slope_sign_is_refused()
    {
        var (p, r, o) = Synthetic.Value;
        var badR = SyntheticTflite.Export(MtcnnWeights.Default, "rnet", SyntheticTflite.PreluGraph.MissingOuterNeg);
        var e = Assert.Throws<MtcnnFormatException>(() => OriginalWeightsConverter.Convert(p, badR, o, verifyChecksums: false));
        Assert.Contains("rnet.tflite", e.Message, StringComparison.Ordinal);
        Assert.Contains("rnet/prelu1/alpha/read", e.Message, StringComparison.Ordinal);
        Assert.Contains("sign", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var (p, r, _) = Synthetic.Value;
        var badO = SyntheticTflite.Export(MtcnnWeights.Default, "onet", skipTensor: "onet/conv6-3/weights/read/transpose");
        var e = Assert.Throws<MtcnnFormatException>(() => OriginalWeightsConverter.Convert(p, r, badO, verifyChecksums: false));
        Assert.Contains("onet.tflite has no tensor named 'onet/conv6-3/weights/read/transpose'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nets_passed_in_the_wrong_order_are_refused()
    {
        var (p, r, o) = Synthetic.Value;
        var e = Assert.Throws<MtcnnFormatException>(() => OriginalWeightsConverter.Convert(r, p, o, verifyChecksums: false));
        Assert.Contains("pnet.tflite has no tensor named 'pnet/conv1/weights/read'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_that_is_not_gzip_is_a_format_error()
    {
        using var s = new MemoryStream("this is not a tarball"u8.ToArray());
        var e = Assert.Throws<MtcnnFormatException>(() => OriginalWeightsConverter.ConvertNpmPackage(s));
        Assert.Contains("not a valid gzip-compressed tar archive", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tarball_without_the_models_names_what_is_missing()
    {
        using var tgz = MakeTarball(("package/package.json", "{}"u8.ToArray()), ("package/android/src/main/assets/pnet.tflite", [1, 2, 3]));
        var e = Assert.Throws<MtcnnFormatException>(() => OriginalWeightsConverter.ConvertNpmPackage(tgz));
        Assert.Contains("package/android/src/main/assets/rnet.tflite, package/android/src/main/assets/onet.tflite", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("assets/pnet.tflite", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tarball_with_other_model_files_fails_the_checksum()
    {
        var (p, r, o) = Synthetic.Value;
        using var tgz = MakeTarball(
            (OriginalWeightsConverter.TarballAssetFolder + "pnet.tflite", p),
            (OriginalWeightsConverter.TarballAssetFolder + "rnet.tflite", r),
            (OriginalWeightsConverter.TarballAssetFolder + "onet.tflite", o));
        var e = Assert.Throws<MtcnnFormatException>(() => OriginalWeightsConverter.ConvertNpmPackage(tgz));
        Assert.Contains("expected sha256 " + OriginalWeightsConverter.PNetSha256, e.Message, StringComparison.Ordinal);
    }

    private static MemoryStream MakeTarball(params (string Name, byte[] Data)[] entries)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
            }
        }

        ms.Position = 0;
        return ms;
    }
}
