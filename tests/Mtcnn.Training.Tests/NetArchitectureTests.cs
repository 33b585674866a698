using Mtcnn.Training.Models;
using Mtcnn.Training.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtcnn.Training.Tests;

/// <summary>Shapes, parameter names, initialisation and head layouts of the TorchSharp networks.</summary>
public sealed class NetArchitectureTests
{
    /// <summary>The reference variant's tensors (docs/weights-format.md) plus the optional P-/R-Net landmark heads.</summary>
    private static readonly Dictionary<string, int[]> ReferenceShapes = new()
    {
        ["pnet.conv1.weight"] = [10, 3, 3, 3], ["pnet.conv1.bias"] = [10], ["pnet.prelu1.weight"] = [1],
        ["pnet.conv2.weight"] = [16, 10, 3, 3], ["pnet.conv2.bias"] = [16], ["pnet.prelu2.weight"] = [1],
        ["pnet.conv3.weight"] = [32, 16, 3, 3], ["pnet.conv3.bias"] = [32], ["pnet.prelu3.weight"] = [1],
        ["pnet.conv4_1.weight"] = [1, 32, 1, 1], ["pnet.conv4_1.bias"] = [1],
        ["pnet.conv4_2.weight"] = [4, 32, 1, 1], ["pnet.conv4_2.bias"] = [4],
        ["pnet.conv4_3.weight"] = [10, 32, 1, 1], ["pnet.conv4_3.bias"] = [10],
        ["rnet.conv1.weight"] = [28, 3, 3, 3], ["rnet.conv1.bias"] = [28], ["rnet.prelu1.weight"] = [1],
        ["rnet.conv2.weight"] = [48, 28, 3, 3], ["rnet.conv2.bias"] = [48], ["rnet.prelu2.weight"] = [1],
        ["rnet.conv3.weight"] = [64, 48, 2, 2], ["rnet.conv3.bias"] = [64], ["rnet.prelu3.weight"] = [1],
        ["rnet.dense4.weight"] = [128, 256], ["rnet.dense4.bias"] = [128], ["rnet.prelu4.weight"] = [1],
        ["rnet.dense5_1.weight"] = [1, 128], ["rnet.dense5_1.bias"] = [1],
        ["rnet.dense5_2.weight"] = [4, 128], ["rnet.dense5_2.bias"] = [4],
        ["rnet.dense5_3.weight"] = [10, 128], ["rnet.dense5_3.bias"] = [10],
        ["onet.conv1.weight"] = [32, 3, 3, 3], ["onet.conv1.bias"] = [32], ["onet.prelu1.weight"] = [1],
        ["onet.conv2.weight"] = [64, 32, 3, 3], ["onet.conv2.bias"] = [64], ["onet.prelu2.weight"] = [1],
        ["onet.conv3.weight"] = [64, 64, 3, 3], ["onet.conv3.bias"] = [64], ["onet.prelu3.weight"] = [1],
        ["onet.conv4.weight"] = [128, 64, 2, 2], ["onet.conv4.bias"] = [128], ["onet.prelu4.weight"] = [1],
        ["onet.dense5.weight"] = [256, 512], ["onet.dense5.bias"] = [256], ["onet.prelu5.weight"] = [1],
        ["onet.dense6_1.weight"] = [1, 256], ["onet.dense6_1.bias"] = [1],
        ["onet.dense6_2.weight"] = [4, 256], ["onet.dense6_2.bias"] = [4],
        ["onet.dense6_3.weight"] = [10, 256], ["onet.dense6_3.bias"] = [10],
    };

    public static TheoryData<string, string> KindsAndVariants()
    {
        var data = new TheoryData<string, string>();
        foreach (var k in Enum.GetNames<NetKind>())
        {
            foreach (var v in Enum.GetNames<ModelVariant>())
            {
                data.Add(k, v);
            }
        }

        return data;
    }

    private static Dictionary<string, int[]> Shapes(MtcnnNet net) =>
        net.named_parameters().ToDictionary(
            p => $"{MtcnnNets.WeightPrefix(net.Kind)}.{p.name}",
            p => p.parameter.shape.Select(d => (int)d).ToArray());

    [Fact]
    public void Original_nets_have_the_bundled_tensors_plus_the_two_optional_landmark_heads()
    {
        var names = TorchTestData.SeededNets(ModelVariant.Original, 1).SelectMany(Shapes).ToDictionary(kv => kv.Key, kv => kv.Value);
        var expected = MtcnnWeights.Default.Tensors.Values.ToDictionary(t => t.Name, t => t.Shape.ToArray());
        expected["pnet.conv4_3.weight"] = [10, 32, 1, 1];
        expected["pnet.conv4_3.bias"] = [10];
        expected["rnet.dense5_3.weight"] = [10, 128];
        expected["rnet.dense5_3.bias"] = [10];
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), names.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expected)
        {
            Assert.True(shape.SequenceEqual(names[name]), $"{name}: expected [{string.Join(", ", shape)}], got [{string.Join(", ", names[name])}]");
        }

        // 50 tensors and 495,850 values in the bundled file; the heads add 330 + 1,290.
        Assert.Equal(54, names.Count);
        Assert.Equal(495_850 + 330 + 1_290, names.Values.Sum(s => s.Aggregate(1, (a, b) => a * b)));
    }

    [Fact]
    public void Reference_nets_have_the_documented_tensors()
    {
        var names = TorchTestData.SeededNets(ModelVariant.Reference, 1).SelectMany(Shapes).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(ReferenceShapes.Keys.Order(StringComparer.Ordinal), names.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in ReferenceShapes)
        {
            Assert.True(shape.SequenceEqual(names[name]), $"{name}: expected [{string.Join(", ", shape)}], got [{string.Join(", ", names[name])}]");
        }

        Assert.Equal(289_773 + 330 + 1_290, names.Values.Sum(s => s.Aggregate(1, (a, b) => a * b)));
    }

    [Theory]
    [MemberData(nameof(KindsAndVariants))]
    public void Forward_gives_N_by_C_heads(string kindName, string variantName)
    {
        var kind = Enum.Parse<NetKind>(kindName);
        var variant = Enum.Parse<ModelVariant>(variantName);
        torch.manual_seed(3);
        using var net = MtcnnNets.Create(kind, variant);
        Assert.Equal(kind, net.Kind);
        Assert.Equal(variant, net.Variant);
        int s = net.InputSize;
        Assert.Equal(kind switch { NetKind.PNet => 12, NetKind.RNet => 24, _ => 48 }, s);
        using var scope = NewDisposeScope();
        var output = net.forward(torch.randn(5, 3, s, s));
        int classes = variant == ModelVariant.Original ? 2 : 1;
        Assert.Equal([5L, classes], output.FaceLogits.shape);
        Assert.Equal([5L, 4], output.Box.shape);
        Assert.Equal([5L, 10], output.Landmarks.shape);
        Assert.Equal([5L], net.FaceProbability(output.FaceLogits).shape);
    }

    [Theory]
    [InlineData("Original", 11, 7)]
    [InlineData("Reference", 10, 6)]
    public void PNet_maps_follow_the_pooling_mode(string variantName, int h, int w)
    {
        // 31 rows: conv 29, pool 2/2 -> 15 (ceil) or 14 (floor), two convs -> 11 or 10; 23 columns: 21 -> 11 or 10 -> 7 or 6.
        var variant = Enum.Parse<ModelVariant>(variantName);
        using var net = (PNetModule)MtcnnNets.Create(NetKind.PNet, variant);
        using var scope = NewDisposeScope();
        var maps = net.ForwardMaps(torch.randn(2, 3, 31, 23));
        Assert.Equal([2L, variant == ModelVariant.Original ? 2 : 1, h, w], maps.FaceLogits.shape);
        Assert.Equal([2L, 4, h, w], maps.Box.shape);
        Assert.Equal([2L, 10, h, w], maps.Landmarks.shape);
        Assert.Equal([2L, h, w], net.FaceProbability(maps.FaceLogits).shape);

        var e = Assert.Throws<ArgumentException>(() => net.forward(torch.randn(2, 3, 31, 23)));
        Assert.Contains("ForwardMaps", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => net.ForwardMaps(torch.randn(2, 3, 11, 23)));
    }

    [Theory]
    [InlineData("Original", 3)]
    [InlineData("Reference", 2)]
    public void Crop_nets_flatten_the_map_of_their_pooling_mode(string variantName, int flat)
    {
        var variant = Enum.Parse<ModelVariant>(variantName);
        using var r = (CropNetModule)MtcnnNets.Create(NetKind.RNet, variant);
        using var o = (CropNetModule)MtcnnNets.Create(NetKind.ONet, variant);
        Assert.Equal(flat, r.FlatSize);
        Assert.Equal(flat, o.FlatSize);
        Assert.Throws<ArgumentException>(() => r.forward(torch.zeros(1, 3, 48, 48)));
        Assert.Throws<ArgumentException>(() => o.forward(torch.zeros(1, 3, 24, 24)));
    }

    [Theory]
    [MemberData(nameof(KindsAndVariants))]
    public void Landmarks_come_out_interleaved(string kindName, string variantName)
    {
        var kind = Enum.Parse<NetKind>(kindName);
        var variant = Enum.Parse<ModelVariant>(variantName);
        using var net = MtcnnNets.Create(kind, variant);
        var head = net.named_parameters().Where(p => p.name.StartsWith(net.LandmarkHeadName + ".", StringComparison.Ordinal)).ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            head[net.LandmarkHeadName + ".weight"].zero_();
            head[net.LandmarkHeadName + ".bias"].copy_(torch.arange(10, ScalarType.Float32));
        }

        using var scope = NewDisposeScope();
        var lm = TorchTestData.Values(net.forward(torch.randn(1, 3, net.InputSize, net.InputSize)).Landmarks);

        // Bias k is output k of the head: original heads are x1..x5, y1..y5, so interleaving reads 0, 5, 1, 6, ...
        float[] expected = variant == ModelVariant.Original ? [0, 5, 1, 6, 2, 7, 3, 8, 4, 9] : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        Assert.Equal(expected, lm);
    }

    [Theory]
    [MemberData(nameof(KindsAndVariants))]
    public void Initialisation_is_seeded_and_every_parameter_gets_a_gradient(string kindName, string variantName)
    {
        var kind = Enum.Parse<NetKind>(kindName);
        var variant = Enum.Parse<ModelVariant>(variantName);
        torch.manual_seed(11);
        using var a = MtcnnNets.Create(kind, variant);
        torch.manual_seed(11);
        using var b = MtcnnNets.Create(kind, variant);
        foreach (var ((name, pa), (_, pb)) in a.named_parameters().Zip(b.named_parameters()))
        {
            Assert.Equal(TorchTestData.Values(pa), TorchTestData.Values(pb));
            if (name.StartsWith("prelu", StringComparison.Ordinal))
            {
                Assert.All(TorchTestData.Values(pa), v => Assert.Equal(0.25f, v));
            }
            else if (name.EndsWith(".bias", StringComparison.Ordinal))
            {
                Assert.All(TorchTestData.Values(pa), v => Assert.Equal(0f, v));
            }
            else
            {
                Assert.True(pa.std().item<float>() > 0, $"{name} is not initialised randomly");
            }
        }

        using var scope = NewDisposeScope();
        var o = a.forward(torch.randn(4, 3, a.InputSize, a.InputSize));
        (o.FaceLogits.square().sum() + o.Box.square().sum() + o.Landmarks.square().sum()).backward();
        foreach (var (name, p) in a.named_parameters())
        {
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} got no gradient");
        }
    }

    [Fact]
    public void Face_probability_is_softmax_index_1_or_the_sigmoid()
    {
        using var original = MtcnnNets.Create(NetKind.RNet, ModelVariant.Original);
        using var reference = MtcnnNets.Create(NetKind.RNet, ModelVariant.Reference);
        using var scope = NewDisposeScope();
        var p2 = TorchTestData.Values(original.FaceProbability(torch.tensor(new float[] { 0, 0, 1, 3 }, [2, 2])));
        Assert.Equal(0.5f, p2[0], 6);
        Assert.Equal((float)(1 / (1 + Math.Exp(-2))), p2[1], 6);
        var p1 = TorchTestData.Values(reference.FaceProbability(torch.tensor(new float[] { 0, -1 }, [2, 1])));
        Assert.Equal(0.5f, p1[0], 6);
        Assert.Equal((float)(1 / (1 + Math.Exp(1))), p1[1], 6);
    }

    [Fact]
    public void Names_parse()
    {
        Assert.Equal(NetKind.RNet, MtcnnNets.ParseKind("rnet"));
        Assert.Equal(NetKind.ONet, MtcnnNets.ParseKind("ONet"));
        Assert.Equal(ModelVariant.Reference, MtcnnNets.ParseVariant("reference"));
        Assert.Equal(ModelVariant.Original, MtcnnNets.ParseVariant("Original"));
        Assert.Contains("pnet, rnet or onet", Assert.Throws<ArgumentException>(() => MtcnnNets.ParseKind("qnet")).Message, StringComparison.Ordinal);
        Assert.Contains("original or reference", Assert.Throws<ArgumentException>(() => MtcnnNets.ParseVariant("caffe")).Message, StringComparison.Ordinal);
    }
}
