using Mtcnn.TestSupport;
using Mtcnn.Weights.PyTorch;

namespace Mtcnn.Tests.ReferenceProject;

/// <summary>Import of the reference project's checkpoints (real ones from ../shared, and synthetic ones built here).</summary>
public sealed class ReferenceWeightsImporterTests
{
    /// <summary>The reference variant's tensors as docs/weights-format.md lists them.</summary>
    private static readonly (string Name, int[] Shape)[] ExpectedTensors =
    [
        ("onet.conv1.bias", [32]), ("onet.conv1.weight", [32, 3, 3, 3]), ("onet.conv2.bias", [64]), ("onet.conv2.weight", [64, 32, 3, 3]),
        ("onet.conv3.bias", [64]), ("onet.conv3.weight", [64, 64, 3, 3]), ("onet.conv4.bias", [128]), ("onet.conv4.weight", [128, 64, 2, 2]),
        ("onet.dense5.bias", [256]), ("onet.dense5.weight", [256, 512]), ("onet.dense6_1.bias", [1]), ("onet.dense6_1.weight", [1, 256]),
        ("onet.dense6_2.bias", [4]), ("onet.dense6_2.weight", [4, 256]), ("onet.dense6_3.bias", [10]), ("onet.dense6_3.weight", [10, 256]),
        ("onet.prelu1.weight", [1]), ("onet.prelu2.weight", [1]), ("onet.prelu3.weight", [1]), ("onet.prelu4.weight", [1]), ("onet.prelu5.weight", [1]),
        ("pnet.conv1.bias", [10]), ("pnet.conv1.weight", [10, 3, 3, 3]), ("pnet.conv2.bias", [16]), ("pnet.conv2.weight", [16, 10, 3, 3]),
        ("pnet.conv3.bias", [32]), ("pnet.conv3.weight", [32, 16, 3, 3]), ("pnet.conv4_1.bias", [1]), ("pnet.conv4_1.weight", [1, 32, 1, 1]),
        ("pnet.conv4_2.bias", [4]), ("pnet.conv4_2.weight", [4, 32, 1, 1]),
        ("pnet.prelu1.weight", [1]), ("pnet.prelu2.weight", [1]), ("pnet.prelu3.weight", [1]),
        ("rnet.conv1.bias", [28]), ("rnet.conv1.weight", [28, 3, 3, 3]), ("rnet.conv2.bias", [48]), ("rnet.conv2.weight", [48, 28, 3, 3]),
        ("rnet.conv3.bias", [64]), ("rnet.conv3.weight", [64, 48, 2, 2]), ("rnet.dense4.bias", [128]), ("rnet.dense4.weight", [128, 256]),
        ("rnet.dense5_1.bias", [1]), ("rnet.dense5_1.weight", [1, 128]), ("rnet.dense5_2.bias", [4]), ("rnet.dense5_2.weight", [4, 128]),
        ("rnet.prelu1.weight", [1]), ("rnet.prelu2.weight", [1]), ("rnet.prelu3.weight", [1]), ("rnet.prelu4.weight", [1]),
    ];

    /// <summary>Project name, source net and state_dict name of tensors whose values must be copied unchanged.</summary>
    public static TheoryData<string, string, string> Mapping() => new()
    {
        { "pnet.conv1.weight", "pnet", "pre_layer.0.weight" },
        { "pnet.prelu3.weight", "pnet", "pre_layer.6.weight" },
        { "pnet.conv4_2.bias", "pnet", "conv4_2.bias" },
        { "rnet.conv3.weight", "rnet", "pre_layer.6.weight" },
        { "rnet.dense4.weight", "rnet", "conv4.weight" },
        { "rnet.prelu4.weight", "rnet", "prelu4.weight" },
        { "rnet.dense5_1.weight", "rnet", "conv5_1.weight" },
        { "onet.conv4.weight", "onet", "pre_layer.9.weight" },
        { "onet.prelu4.weight", "onet", "pre_layer.10.weight" },
        { "onet.dense5.weight", "onet", "conv5.weight" },
        { "onet.dense6_3.weight", "onet", "conv6_3.weight" },
        { "onet.dense6_3.bias", "onet", "conv6_3.bias" },
    };

    private static byte[] Ref(string net) => File.ReadAllBytes(ReferenceProjectData.WeightFile($"{net}_epoch_20.pt"));

    private static float[] Source(byte[] checkpoint, string name)
    {
        using var ms = new MemoryStream(checkpoint);
        return TorchStateDict.Read(ms, "x").Single(t => t.Name == name).Data;
    }

    [SkippableFact]
    public void The_reference_checkpoints_import_with_the_documented_tensors_and_metadata()
    {
        var w = ReferenceProjectData.Weights;

        Assert.Equal(ModelVariant.Reference, w.Variant);
        Assert.Equal(ExpectedTensors.Select(t => t.Name), w.Tensors.Keys);
        foreach (var (name, shape) in ExpectedTensors)
        {
            Assert.Equal(shape, w.Tensors[name].Shape);
        }

        Assert.Equal(ReferenceWeightsImporter.SourceDescription, w.Metadata["source"]);
        Assert.Equal($"pnet={ReferenceWeightsImporter.PNetSha256} rnet={ReferenceWeightsImporter.RNetSha256} onet={ReferenceWeightsImporter.ONetSha256}",
            w.Metadata["source_sha256"]);
        Assert.Equal("Mtcnn.ReferenceWeightsImporter", w.Metadata["converter"]);
        Assert.Contains("no licence", w.Metadata["license"], StringComparison.Ordinal);

        // The file round-trips: same tensors, same variant, same bytes.
        var bytes = w.ToBytes();
        var back = MtcnnWeights.Read(bytes);
        Assert.Equal(ModelVariant.Reference, back.Variant);
        Assert.Equal(bytes, back.ToBytes());

        // The size and checksum docs/weights-format.md gives for this file.
        Assert.Equal(1_168_420, bytes.Length);
        Assert.Equal("b43457041fcf14391e65e202fab1a21c47df60b695b63b437152c2831f9c2b27", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
    }

    [SkippableTheory]
    [MemberData(nameof(Mapping))]
    public void Reference_values_are_copied_unchanged(string project, string net, string source)
    {
        Assert.Equal(Source(Ref(net), source), ReferenceProjectData.Weights.Tensors[project].Data);
    }

    [Theory]
    [MemberData(nameof(Mapping))]
    public void Synthetic_checkpoints_map_names_and_keep_values(string project, string net, string source)
    {
        var files = new Dictionary<string, byte[]>
        {
            ["pnet"] = ReferenceCheckpoints.Synthetic("pnet", 1),
            ["rnet"] = ReferenceCheckpoints.Synthetic("rnet", 2),
            ["onet"] = ReferenceCheckpoints.Synthetic("onet", 3),
        };

        var w = ReferenceWeightsImporter.Import(files["pnet"], files["rnet"], files["onet"]);

        Assert.Equal(ModelVariant.Reference, w.Variant);
        Assert.Equal(50, w.Tensors.Count);
        Assert.Equal(Source(files[net], source), w.Tensors[project].Data);
        Assert.StartsWith("PyTorch state_dicts in the architecture of", w.Metadata["source"], StringComparison.Ordinal);
        Assert.DoesNotContain(w.Tensors.Keys, k => k.Contains("conv4_3", StringComparison.Ordinal) || k.Contains("conv5_3", StringComparison.Ordinal));
    }

    [Fact]
    public void A_detector_runs_on_imported_weights()
    {
        var w = ReferenceWeightsImporter.Import(ReferenceCheckpoints.Synthetic("pnet"), ReferenceCheckpoints.Synthetic("rnet"), ReferenceCheckpoints.Synthetic("onet"));
        var pixels = new byte[64 * 48 * 3];
        new Random(5).NextBytes(pixels);
        var detector = new FaceDetector(new DetectorOptions { MinFaceSize = 12, PNetThreshold = 0, RNetThreshold = 0, ONetThreshold = 0 }, w);

        var result = detector.Detect(new ImageData(pixels, 64, 48, PixelFormat.Rgb24));

        Assert.NotEmpty(result.Faces);
        Assert.All(result.Faces, f => Assert.InRange(f.Score, 0f, 1f));
    }

    [Fact]
    public void Checkpoints_given_for_the_wrong_net_are_named()
    {
        var p = ReferenceCheckpoints.Synthetic("pnet");
        var r = ReferenceCheckpoints.Synthetic("rnet");
        var o = ReferenceCheckpoints.Synthetic("onet");

        var e = Assert.Throws<MtcnnFormatException>(() => ReferenceWeightsImporter.Import(r, p, o));

        Assert.StartsWith("The pnet checkpoint does not have the reference architecture's tensors: missing ", e.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected conv4.bias", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("It looks like the rnet checkpoint.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_tensors_and_wrong_shapes_are_format_errors()
    {
        var r = ReferenceCheckpoints.Synthetic("rnet");
        var o = ReferenceCheckpoints.Synthetic("onet");

        var missing = ReferenceCheckpoints.Synthetic("pnet", edit: (n, s) => n == "conv4_2.bias" ? null : s);
        var e = Assert.Throws<MtcnnFormatException>(() => ReferenceWeightsImporter.Import(missing, r, o));
        Assert.Equal("The pnet checkpoint does not have the reference architecture's tensors: missing conv4_2.bias.", e.Message);

        var shape = ReferenceCheckpoints.Synthetic("pnet", edit: (n, s) => n == "pre_layer.3.weight" ? [16, 10, 5, 5] : s);
        e = Assert.Throws<MtcnnFormatException>(() => ReferenceWeightsImporter.Import(shape, r, o));
        Assert.Equal("The pnet checkpoint's pre_layer.3.weight has shape [16, 10, 5, 5]; expected [16, 10, 3, 3].", e.Message);

        var prelu = ReferenceCheckpoints.Synthetic("pnet", edit: (n, s) => n == "pre_layer.1.weight" ? [3] : s);
        e = Assert.Throws<MtcnnFormatException>(() => ReferenceWeightsImporter.Import(prelu, r, o));
        Assert.Equal("The pnet checkpoint's pre_layer.1.weight has shape [3]; expected [1] or [10].", e.Message);

        // The untrained landmark heads may be absent.
        var noHead = ReferenceCheckpoints.Synthetic("pnet", edit: (n, s) => n.StartsWith("conv4_3", StringComparison.Ordinal) ? null : s);
        Assert.Equal(50, ReferenceWeightsImporter.Import(noHead, r, o).Tensors.Count);
    }

    [Fact]
    public void Per_channel_prelu_slopes_are_accepted()
    {
        var p = ReferenceCheckpoints.Synthetic("pnet", edit: (n, s) => n == "pre_layer.4.weight" ? [16] : s);
        var w = ReferenceWeightsImporter.Import(p, ReferenceCheckpoints.Synthetic("rnet"), ReferenceCheckpoints.Synthetic("onet"));
        Assert.Equal([16], w.Tensors["pnet.prelu2.weight"].Shape);
    }

    [Fact]
    public void Streams_give_the_same_weights_as_bytes()
    {
        var p = ReferenceCheckpoints.Synthetic("pnet");
        var r = ReferenceCheckpoints.Synthetic("rnet");
        var o = ReferenceCheckpoints.Synthetic("onet");
        using MemoryStream ps = new(p), rs = new(r), os = new(o);
        Assert.Equal(ReferenceWeightsImporter.Import(p, r, o).ToBytes(), ReferenceWeightsImporter.Import(ps, rs, os).ToBytes());
    }
}
