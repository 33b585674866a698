using Mtcnn.Inference;
using Mtcnn.Training.Models;
using Mtcnn.Training.Tests.Support;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Mtcnn.Training.Tests;

/// <summary>
/// The TorchSharp networks and the core's inference engine compute the same function: weights exported from
/// TorchSharp and read back by the core (through the file bytes), and the bundled weights imported into TorchSharp,
/// give the same outputs within 1e-5 on random 8-bit inputs encoded as the detector encodes them.
/// </summary>
public sealed class CoreParityTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-5;
    private const long Seed = 20260628;

    public static TheoryData<string, string> VariantsAndLevels()
    {
        var data = new TheoryData<string, string>();
        foreach (var v in Enum.GetNames<ModelVariant>())
        {
            foreach (var l in Enum.GetValues<SimdLevel>().Where(Simd.IsSupported))
            {
                data.Add(v, l.ToString());
            }
        }

        return data;
    }

    public static TheoryData<string> Levels()
    {
        var data = new TheoryData<string>();
        foreach (var l in Enum.GetValues<SimdLevel>().Where(Simd.IsSupported))
        {
            data.Add(l.ToString());
        }

        return data;
    }

    /// <summary>Exports seeded nets to bytes and reads them back as the core does with a weight file.</summary>
    private static (MtcnnNet[] Nets, MtcnnWeights Reloaded) ExportedNets(ModelVariant variant)
    {
        var nets = TorchTestData.SeededNets(variant, Seed);
        var weights = WeightExchange.Export(nets, null, new Dictionary<string, string> { ["source"] = "test" });
        return (nets, MtcnnWeights.Read(weights.ToBytes()));
    }

    /// <summary>The bundled weights imported into fresh original nets (P-/R-Net landmark heads keep their random init).</summary>
    private static MtcnnNet[] DefaultNets()
    {
        var nets = TorchTestData.SeededNets(ModelVariant.Original, Seed);
        foreach (var net in nets)
        {
            WeightExchange.Import(net, MtcnnWeights.Default);
        }

        return nets;
    }

    [Theory]
    [MemberData(nameof(VariantsAndLevels))]
    public void Exported_PNet_matches_the_core_on_12x12_crops_and_a_31x23_map(string variantName, string level)
    {
        var variant = Enum.Parse<ModelVariant>(variantName);
        var (nets, reloaded) = ExportedNets(variant);
        ComparePNet((PNetModule)nets[0], new Networks(reloaded, Enum.Parse<SimdLevel>(level)), variant);
    }

    [Theory]
    [MemberData(nameof(VariantsAndLevels))]
    public void Exported_RNet_and_ONet_match_the_core(string variantName, string level)
    {
        var variant = Enum.Parse<ModelVariant>(variantName);
        var (nets, reloaded) = ExportedNets(variant);
        var core = new Networks(reloaded, Enum.Parse<SimdLevel>(level));
        CompareCrops(nets[1], core.R, variant);
        CompareCrops(nets[2], core.O, variant);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void Bundled_weights_imported_into_TorchSharp_match_the_core(string level)
    {
        var nets = DefaultNets();
        var core = new Networks(MtcnnWeights.Default, Enum.Parse<SimdLevel>(level));
        ComparePNet((PNetModule)nets[0], core, ModelVariant.Original);
        CompareCrops(nets[1], core.R, ModelVariant.Original);
        CompareCrops(nets[2], core.O, ModelVariant.Original);
    }

    [Fact]
    public void Bundled_weights_give_a_confident_face_score_on_the_golden_12x12_pattern()
    {
        // ../shared/reference/golden_vectors.json (also in tests/Mtcnn.Tests/Reference/GoldenVectors.cs): P-Net on the
        // pattern ((c*31 + y*17 + x*7) mod 256 - 127.5) / 128 gives probabilities [0.99474, 0.00526] and this box.
        var chw = new float[3 * 12 * 12];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < 12; y++)
            {
                for (int x = 0; x < 12; x++)
                {
                    chw[(((c * 12) + y) * 12) + x] = (float)(((((c * 31) + (y * 17) + (x * 7)) % 256) - 127.5) * 0.0078125);
                }
            }
        }

        var pnet = DefaultNets()[0];
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var o = pnet.forward(TorchTestData.Batch([chw], 12, 12));
        var prob = TorchTestData.Values(nn.functional.softmax(o.FaceLogits, 1));
        TorchTestData.AssertClose([0.9947433775448349f, 0.005256622455165086f], prob, 1e-4, "pnet prob");
        TorchTestData.AssertClose([0.028321495180098633f, 0.01705562709097988f, -0.10782556782657449f, 0.09786720822539285f], TorchTestData.Values(o.Box), 1e-4, "pnet box");
    }

    private void ComparePNet(PNetModule net, Networks core, ModelVariant variant)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int classes = variant == ModelVariant.Original ? 2 : 1;
        double max = 0;

        // A batch of 12x12 crops through forward ([N, C]) against the core one crop at a time (1x1 maps).
        var crops = TorchTestData.RandomCrops(3, 12, 12, 1).Select(c => TorchTestData.Encode(c, 12, 12, variant)).ToArray();
        var o = net.forward(TorchTestData.Batch(crops.Select(c => c.Chw).ToArray(), 12, 12));
        var face = TorchTestData.Values(o.FaceLogits);
        var box = TorchTestData.Values(o.Box);
        for (int i = 0; i < crops.Length; i++)
        {
            var (maps, channels, h, w) = TorchTestData.CorePNet(core, crops[i].Hwc, 12, 12);
            Assert.Equal((classes + 4, 1, 1), (channels, h, w));
            max = Math.Max(max, TorchTestData.AssertClose(maps.AsSpan(0, classes), face.AsSpan(i * classes, classes), Tolerance, $"pnet 12x12 crop {i} face"));
            max = Math.Max(max, TorchTestData.AssertClose(maps.AsSpan(classes, 4), box.AsSpan(i * 4, 4), Tolerance, $"pnet 12x12 crop {i} box"));
        }

        // A 31x23 input through ForwardMaps ([1, C, H, W]) against the core's map.
        var big = TorchTestData.Encode(TorchTestData.RandomCrops(1, 31, 23, 2)[0], 31, 23, variant);
        var m = net.ForwardMaps(TorchTestData.Batch([big.Chw], 31, 23));
        var (coreMaps, _, ch, cw) = TorchTestData.CorePNet(core, big.Hwc, 31, 23);
        Assert.Equal([1L, classes, ch, cw], m.FaceLogits.shape);
        int cells = ch * cw;
        max = Math.Max(max, TorchTestData.AssertClose(coreMaps.AsSpan(0, classes * cells), TorchTestData.Values(m.FaceLogits), Tolerance, "pnet 31x23 face map"));
        max = Math.Max(max, TorchTestData.AssertClose(coreMaps.AsSpan(classes * cells, 4 * cells), TorchTestData.Values(m.Box), Tolerance, "pnet 31x23 box map"));
        output.WriteLine($"pnet {variant}: max |diff| {max:E2} ({ch}x{cw} map)");
    }

    private void CompareCrops(MtcnnNet net, CropNet core, ModelVariant variant)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int s = net.InputSize, classes = variant == ModelVariant.Original ? 2 : 1;
        bool landmarks = net.Kind == NetKind.ONet;
        var crops = TorchTestData.RandomCrops(4, s, s, s).Select(c => TorchTestData.Encode(c, s, s, variant)).ToArray();
        var o = net.forward(TorchTestData.Batch(crops.Select(c => c.Chw).ToArray(), s, s));
        var face = TorchTestData.Values(o.FaceLogits);
        var box = TorchTestData.Values(o.Box);
        var lm = TorchTestData.Values(o.Landmarks);
        var expected = TorchTestData.CoreCrops(core, crops.Select(c => c.Hwc).ToArray(), classes + 4 + (landmarks ? 10 : 0));
        double max = 0;
        for (int i = 0; i < crops.Length; i++)
        {
            max = Math.Max(max, TorchTestData.AssertClose(expected[i].AsSpan(0, classes), face.AsSpan(i * classes, classes), Tolerance, $"{net.Kind} crop {i} face"));
            max = Math.Max(max, TorchTestData.AssertClose(expected[i].AsSpan(classes, 4), box.AsSpan(i * 4, 4), Tolerance, $"{net.Kind} crop {i} box"));
            if (landmarks)
            {
                // The core keeps the weight layout: x1..x5, y1..y5 (original) or interleaved (reference).
                var coreLm = expected[i].AsSpan(classes + 4, 10);
                float[] interleaved = variant == ModelVariant.Original ? TorchTestData.Interleave(coreLm) : coreLm.ToArray();
                max = Math.Max(max, TorchTestData.AssertClose(interleaved, lm.AsSpan(i * 10, 10), Tolerance, $"{net.Kind} crop {i} landmarks"));
            }
        }

        output.WriteLine($"{net.Kind} {variant}: max |diff| {max:E2}");
    }
}
