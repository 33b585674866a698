using System.Text.Json;
using Mtcnn.Inference;
using Mtcnn.Tests.Inference;
using Xunit.Abstractions;

namespace Mtcnn.Tests.ReferenceProject;

/// <summary>
/// The imported reference weights run by the core's engine against the outputs of the reference project's own PyTorch
/// nets (reference_project_test_vectors.json: float32, CPU, eval mode) on crops of reference_mid.png, within 1e-4, for
/// every kernel family this machine can run. The inputs are the recorded uint8 BGR pixels, fed as <c>v / 255</c>.
/// </summary>
public sealed class ReferenceNetOutputTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Levels() => GoldenVectorTests.Levels();

    private static Networks Nets(string level) => new(ReferenceProjectData.Weights, Enum.Parse<SimdLevel>(level));

    private static float[] Input(JsonElement net) =>
        ReferenceProjectData.Hwc(net.GetProperty("input_bgr_hwc")).Select(b => b / 255f).ToArray();

    private static double Sigmoid(float logit) => 1.0 / (1.0 + Math.Exp(-logit));

    private double Compare(string what, double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - actual[i]);
            max = Math.Max(max, d);
            Assert.True(d <= Tolerance, $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
        }

        output.WriteLine($"{what}: {expected.Length} values, max |diff| {max:E2}");
        return max;
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void PNet_maps_on_the_64x64_crop(string level)
    {
        using var doc = ReferenceProjectData.TestVectors();
        var p = doc.RootElement.GetProperty("pnet");
        var nets = Nets(level);
        Assert.Equal(1, nets.P.ClassOutputs);
        int scratch = nets.P.ScratchSize(64, 64);
        var a = new float[scratch];
        var (oh, ow, row) = nets.P.Forward(Input(p), 64, 64, a, new float[scratch]);
        Assert.Equal((27, 27), (oh, ow));
        int cs = nets.P.Head.OutputChannelStride;
        var cls = new double[oh * ow];
        var reg = new double[4 * oh * ow];
        for (int i = 0; i < oh; i++)
        {
            for (int j = 0; j < ow; j++)
            {
                int o = ((i * row) + j) * cs;
                cls[(i * ow) + j] = Sigmoid(a[o]);
                for (int k = 0; k < 4; k++)
                {
                    reg[(((k * oh) + i) * ow) + j] = a[o + 1 + k];
                }
            }
        }

        Compare("pnet cls", ReferenceProjectData.Flatten(p.GetProperty("cls")), cls);
        Compare("pnet reg", ReferenceProjectData.Flatten(p.GetProperty("reg")), reg);
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void RNet_on_the_24x24_input(string level)
    {
        using var doc = ReferenceProjectData.TestVectors();
        var r = doc.RootElement.GetProperty("rnet");
        var o = GoldenVectorTests.RunCrop(Nets(level).R, Input(r));
        var outs = r.GetProperty("outputs");
        Compare("rnet det", ReferenceProjectData.Flatten(outs[0]), [Sigmoid(o[0])]);
        Compare("rnet box", ReferenceProjectData.Flatten(outs[1]), o[1..5].Select(v => (double)v).ToArray());
    }

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void ONet_on_the_48x48_input(string level)
    {
        using var doc = ReferenceProjectData.TestVectors();
        var n = doc.RootElement.GetProperty("onet");
        var o = GoldenVectorTests.RunCrop(Nets(level).O, Input(n));
        var outs = n.GetProperty("outputs");
        Compare("onet det", ReferenceProjectData.Flatten(outs[0]), [Sigmoid(o[0])]);
        Compare("onet box", ReferenceProjectData.Flatten(outs[1]), o[1..5].Select(v => (double)v).ToArray());
        Compare("onet landmarks", ReferenceProjectData.Flatten(outs[2]), o[5..15].Select(v => (double)v).ToArray());
    }
}
