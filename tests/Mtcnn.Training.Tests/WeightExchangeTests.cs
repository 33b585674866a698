using Mtcnn.Training.Models;
using Mtcnn.Training.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtcnn.Training.Tests;

/// <summary>Export and import between TorchSharp networks and the core's weight format: round trips and refusals.</summary>
public sealed class WeightExchangeTests
{
    private static MtcnnWeights Without(MtcnnWeights weights, params string[] names) =>
        new(weights.Variant, weights.Tensors.Values.Where(t => !names.Contains(t.Name)), weights.Metadata);

    private static MtcnnWeights With(MtcnnWeights weights, WeightTensor extra) =>
        new(weights.Variant, weights.Tensors.Values.Where(t => t.Name != extra.Name).Append(extra), weights.Metadata);

    [Theory]
    [InlineData("Original")]
    [InlineData("Reference")]
    public void Export_then_import_restores_every_parameter_exactly_and_exports_the_same_bytes(string variantName)
    {
        var variant = Enum.Parse<ModelVariant>(variantName);
        var trained = TorchTestData.SeededNets(variant, 1);
        var bytes = WeightExchange.Export(trained, null, null).ToBytes();
        var read = MtcnnWeights.Read(bytes);
        Assert.Equal(variant, read.Variant);
        Assert.Equal(MtcnnWeights.VariantName(variant), read.Metadata["variant"]);
        Assert.Equal("onet,pnet,rnet".Split(',').Order(), read.Metadata["trained_nets"].Split(',').Order());
        Assert.Equal(54, read.Tensors.Count);

        var fresh = TorchTestData.SeededNets(variant, 2);
        for (int n = 0; n < 3; n++)
        {
            WeightExchange.Import(fresh[n], read, allowMissingLandmarkHead: false);
            foreach (var ((name, a), (_, b)) in trained[n].named_parameters().Zip(fresh[n].named_parameters()))
            {
                Assert.True(TorchTestData.Values(a).SequenceEqual(TorchTestData.Values(b)), $"{fresh[n].Kind} {name} differs after the round trip");
            }
        }

        Assert.Equal(bytes, WeightExchange.Export(fresh, null, null).ToBytes());
    }

    [Fact]
    public void Export_over_base_weights_replaces_only_the_trained_net()
    {
        torch.manual_seed(4);
        using var onet = MtcnnNets.Create(NetKind.ONet, ModelVariant.Original);
        var merged = WeightExchange.Export([onet], MtcnnWeights.Default, new Dictionary<string, string> { ["source"] = "fine-tuned in a test" });
        var bundled = MtcnnWeights.Default;
        foreach (var t in bundled.Tensors.Values.Where(t => !t.Name.StartsWith("onet.", StringComparison.Ordinal)))
        {
            Assert.Equal(t.Data, merged.Get(t.Name).Data);
        }

        var conv1 = onet.named_parameters().Single(p => p.name == "conv1.weight").parameter;
        Assert.Equal(TorchTestData.Values(conv1), merged.Get("onet.conv1.weight").Data);
        Assert.NotEqual(bundled.Get("onet.conv1.weight").Data, merged.Get("onet.conv1.weight").Data);
        Assert.Equal(bundled.Tensors.Count, merged.Tensors.Count);
        Assert.Equal("onet", merged.Metadata["trained_nets"]);
        Assert.Equal("fine-tuned in a test", merged.Metadata["source"]);
        Assert.Equal(bundled.Metadata["source"], merged.Metadata["base_source"]);
        Assert.False(merged.Metadata.ContainsKey("license"));

        // The merged set loads in the core's detector.
        Assert.NotNull(new FaceDetector(new DetectorOptions(), merged));
    }

    [Fact]
    public void Export_refuses_mixed_variants_duplicates_and_a_base_of_the_other_variant()
    {
        using var p1 = MtcnnNets.Create(NetKind.PNet, ModelVariant.Original);
        using var p2 = MtcnnNets.Create(NetKind.PNet, ModelVariant.Original);
        using var r = MtcnnNets.Create(NetKind.RNet, ModelVariant.Reference);
        Assert.Contains("one variant", Assert.Throws<ArgumentException>(() => WeightExchange.Export([p1, r], null, null)).Message, StringComparison.Ordinal);
        Assert.Contains("Two pnet", Assert.Throws<ArgumentException>(() => WeightExchange.Export([p1, p2], null, null)).Message, StringComparison.Ordinal);
        Assert.Contains("base weights are for the original variant", Assert.Throws<ArgumentException>(() => WeightExchange.Export([r], MtcnnWeights.Default, null)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => WeightExchange.Export([], null, null));
    }

    [Fact]
    public void Import_refuses_the_other_variant()
    {
        using var net = MtcnnNets.Create(NetKind.PNet, ModelVariant.Reference);
        var e = Assert.Throws<MtcnnFormatException>(() => WeightExchange.Import(net, MtcnnWeights.Default));
        Assert.Contains("'original' variant", e.Message, StringComparison.Ordinal);
        Assert.Contains("pnet network is 'reference'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_names_missing_wrongly_shaped_and_unexpected_tensors_and_leaves_the_net_unchanged()
    {
        torch.manual_seed(8);
        using var net = MtcnnNets.Create(NetKind.RNet, ModelVariant.Original);
        var before = net.named_parameters().Select(p => TorchTestData.Values(p.parameter)).ToArray();

        var missing = Without(MtcnnWeights.Default, "rnet.conv2.bias", "rnet.dense4.weight");
        var e = Assert.Throws<MtcnnFormatException>(() => WeightExchange.Import(net, missing));
        Assert.Contains("missing tensors rnet.conv2.bias, rnet.dense4.weight", e.Message, StringComparison.Ordinal);

        var misshaped = With(MtcnnWeights.Default, new WeightTensor("rnet.dense4.weight", [128, 256], new float[128 * 256]));
        e = Assert.Throws<MtcnnFormatException>(() => WeightExchange.Import(net, misshaped));
        Assert.Contains("rnet.dense4.weight has shape [128, 256], the network needs [128, 576]", e.Message, StringComparison.Ordinal);

        var extra = With(MtcnnWeights.Default, new WeightTensor("rnet.dense7.weight", [2], new float[2]));
        e = Assert.Throws<MtcnnFormatException>(() => WeightExchange.Import(net, extra));
        Assert.Contains("unexpected tensor rnet.dense7.weight", e.Message, StringComparison.Ordinal);

        var after = net.named_parameters().Select(p => TorchTestData.Values(p.parameter)).ToArray();
        Assert.Equal(before, after);
    }

    [Fact]
    public void Missing_landmark_heads_are_optional_for_PNet_and_RNet_only_when_allowed()
    {
        using var pnet = MtcnnNets.Create(NetKind.PNet, ModelVariant.Original);
        var head = TorchTestData.Values(pnet.named_parameters().Single(p => p.name == "conv4_3.weight").parameter);
        WeightExchange.Import(pnet, MtcnnWeights.Default);
        Assert.Equal(head, TorchTestData.Values(pnet.named_parameters().Single(p => p.name == "conv4_3.weight").parameter));
        Assert.Equal(MtcnnWeights.Default.Get("pnet.conv1.weight").Data, TorchTestData.Values(pnet.named_parameters().Single(p => p.name == "conv1.weight").parameter));

        var e = Assert.Throws<MtcnnFormatException>(() => WeightExchange.Import(pnet, MtcnnWeights.Default, allowMissingLandmarkHead: false));
        Assert.Contains("missing tensors pnet.conv4_3.weight, pnet.conv4_3.bias", e.Message, StringComparison.Ordinal);

        using var onet = MtcnnNets.Create(NetKind.ONet, ModelVariant.Original);
        e = Assert.Throws<MtcnnFormatException>(() => WeightExchange.Import(onet, Without(MtcnnWeights.Default, "onet.dense6_3.weight")));
        Assert.Contains("missing tensor onet.dense6_3.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shared_slope_fills_a_per_channel_PReLU_but_not_the_reverse()
    {
        var shared = With(MtcnnWeights.Default, new WeightTensor("pnet.prelu2.weight", [1], [-0.3f]));
        using var original = MtcnnNets.Create(NetKind.PNet, ModelVariant.Original);
        WeightExchange.Import(original, shared);
        Assert.All(TorchTestData.Values(original.named_parameters().Single(p => p.name == "prelu2.weight").parameter), v => Assert.Equal(-0.3f, v));

        torch.manual_seed(9);
        var reference = TorchTestData.SeededNets(ModelVariant.Reference, 9);
        var exported = WeightExchange.Export(reference, null, null);
        var perChannel = With(exported, new WeightTensor("pnet.prelu2.weight", [16], new float[16]));
        var e = Assert.Throws<MtcnnFormatException>(() => WeightExchange.Import(reference[0], perChannel));
        Assert.Contains("pnet.prelu2.weight has shape [16], the network needs [1]", e.Message, StringComparison.Ordinal);
    }
}
