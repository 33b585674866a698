using System.Text.Json;
using Mtcnn.TestSupport;
using Mtcnn.Training.Models;
using Mtcnn.Training.Tests.Support;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Mtcnn.Training.Tests;

/// <summary>
/// The reference project's own weights (../shared/data/reference_weights/*.pt, imported by the core's
/// <see cref="ReferenceWeightsImporter"/>) loaded into the TorchSharp reference-variant networks reproduce its PyTorch
/// outputs in ../shared/reference/reference_project_test_vectors.json within 1e-4. The recorded uint8 BGR crops go
/// through <see cref="InputEncoding"/> (as RGB bytes), so the variant's BGR / 255 encoding is checked too. Skipped
/// when ../shared is absent; those files are never copied into the repository.
/// </summary>
public sealed class ReferenceProjectVectorTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    private static MtcnnWeights ReferenceWeights()
    {
        string Path(string name) => SharedData.Require(System.IO.Path.Combine("data", "reference_weights", name));
        return ReferenceWeightsImporter.Import(
            File.ReadAllBytes(Path(ReferenceWeightsImporter.PNetFileName)),
            File.ReadAllBytes(Path(ReferenceWeightsImporter.RNetFileName)),
            File.ReadAllBytes(Path(ReferenceWeightsImporter.ONetFileName)));
    }

    private static JsonDocument Vectors() =>
        JsonDocument.Parse(File.ReadAllBytes(SharedData.Require(Path.Combine("reference", "reference_project_test_vectors.json"))));

    /// <summary>A <c>[y][x][c]</c> BGR uint8 JSON array as CHW floats via <see cref="InputEncoding"/>.</summary>
    private static (float[] Chw, int H, int W) Input(JsonElement hwc)
    {
        var rgb = new List<byte>();
        int h = 0, w = 0;
        foreach (var row in hwc.EnumerateArray())
        {
            h++;
            w = 0;
            foreach (var px in row.EnumerateArray())
            {
                w++;
                var bgr = px.EnumerateArray().Select(c => c.GetByte()).ToArray();
                rgb.AddRange([bgr[2], bgr[1], bgr[0]]);
            }
        }

        var chw = new float[3 * h * w];
        InputEncoding.Encode(rgb.ToArray(), h, w, ModelVariant.Reference, chw);
        return (chw, h, w);
    }

    private static float[] Flatten(JsonElement e)
    {
        var values = new List<float>();
        void Walk(JsonElement x)
        {
            if (x.ValueKind == JsonValueKind.Array)
            {
                foreach (var c in x.EnumerateArray())
                {
                    Walk(c);
                }
            }
            else
            {
                values.Add((float)x.GetDouble());
            }
        }

        Walk(e);
        return [.. values];
    }

    private static MtcnnNet Net(NetKind kind, MtcnnWeights weights)
    {
        var net = MtcnnNets.Create(kind, ModelVariant.Reference);
        WeightExchange.Import(net, weights);
        return net;
    }

    private void Compare(string what, float[] expected, float[] actual) =>
        output.WriteLine($"{what}: {expected.Length} values, max |diff| {TorchTestData.AssertClose(expected, actual, Tolerance, what):E2}");

    [SkippableFact]
    public void PNet_maps_on_the_64x64_crop()
    {
        var weights = ReferenceWeights();
        using var doc = Vectors();
        var p = doc.RootElement.GetProperty("pnet");
        var (chw, h, w) = Input(p.GetProperty("input_bgr_hwc"));
        using var net = (PNetModule)Net(NetKind.PNet, weights);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var maps = net.ForwardMaps(TorchTestData.Batch([chw], h, w));
        Assert.Equal(p.GetProperty("cls_shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(), maps.FaceLogits.shape);
        Assert.Equal(p.GetProperty("reg_shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(), maps.Box.shape);
        Compare("pnet cls", Flatten(p.GetProperty("cls")), TorchTestData.Values(net.FaceProbability(maps.FaceLogits)));
        Compare("pnet reg", Flatten(p.GetProperty("reg")), TorchTestData.Values(maps.Box));
    }

    [SkippableTheory]
    [InlineData("RNet")]
    [InlineData("ONet")]
    public void Crop_nets_on_the_recorded_inputs(string kindName)
    {
        var kind = Enum.Parse<NetKind>(kindName);
        var weights = ReferenceWeights();
        using var doc = Vectors();
        var v = doc.RootElement.GetProperty(MtcnnNets.WeightPrefix(kind));
        var (chw, h, w) = Input(v.GetProperty("input_bgr_hwc"));
        using var net = Net(kind, weights);
        Assert.Equal((net.InputSize, net.InputSize), (h, w));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var o = net.forward(TorchTestData.Batch([chw], h, w));
        var outs = v.GetProperty("outputs");
        Compare($"{kind} det", Flatten(outs[0]), TorchTestData.Values(net.FaceProbability(o.FaceLogits)));
        Compare($"{kind} box", Flatten(outs[1]), TorchTestData.Values(o.Box));
        if (kind == NetKind.ONet)
        {
            Compare($"{kind} landmarks", Flatten(outs[2]), TorchTestData.Values(o.Landmarks));
        }
    }
}
