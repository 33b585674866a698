using Mtcnn.Inference;

namespace Mtcnn.Tests.Inference;

/// <summary>
/// Net-level outputs of the embedded original weights against ../shared/reference/golden_vectors.json (computed in
/// float64 numpy; numbers copied here), for every kernel family this machine can run.
/// </summary>
public sealed class GoldenVectorTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Levels()
    {
        var data = new TheoryData<string>();
        foreach (SimdLevel l in Enum.GetValues<SimdLevel>())
        {
            if (Simd.IsSupported(l))
            {
                data.Add(l.ToString());
            }
        }

        return data;
    }

    /// <summary>The golden input pattern v(c, y, x) = ((c*31 + y*17 + x*7) mod 256 - 127.5) / 128, channels-last.</summary>
    internal static float[] Pattern(int h, int w, bool transposed = false)
    {
        var data = new float[h * w * 3];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    int yy = transposed ? x : y, xx = transposed ? y : x;
                    data[(((y * w) + x) * 3) + c] = (float)((((c * 31) + (yy * 17) + (xx * 7)) % 256 - 127.5) * 0.0078125);
                }
            }
        }

        return data;
    }

    internal static Networks Nets(string level) => new(MtcnnWeights.Default, Enum.Parse<SimdLevel>(level));

    internal static (float[] Map, int H, int W, int Row, int Stride) RunPNet(Networks nets, int h, int w)
    {
        int scratch = nets.P.ScratchSize(h, w);
        var a = new float[scratch];
        var b = new float[scratch];
        var (oh, ow, row) = nets.P.Forward(Pattern(h, w), h, w, a, b);
        return (a, oh, ow, row, nets.P.Head.OutputChannelStride);
    }

    internal static float[] RunCrop(CropNet net, float[] input)
    {
        var outp = new float[net.OutputStride];
        net.Forward(input, 1, new float[net.ScratchPerCrop], new float[net.ScratchPerCrop], new float[net.FlatLength], new float[net.DenseSize(1)], outp);
        return outp;
    }

    private static double Softmax1(float l0, float l1) => 1.0 / (1.0 + Math.Exp(l0 - l1));

    private static void Near(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= Tolerance, $"{what}: expected {expected}, got {actual}");

    [Theory]
    [MemberData(nameof(Levels))]
    public void PNet_12x12(string level)
    {
        var (m, oh, ow, _, _) = RunPNet(Nets(level), 12, 12);
        Assert.Equal((1, 1), (oh, ow));
        double[] reg = [0.028321495180098633, 0.01705562709097988, -0.10782556782657449, 0.09786720822539285];
        for (int i = 0; i < 4; i++)
        {
            Near(reg[i], m[2 + i], $"reg[{i}]");
        }

        Near(0.005256622455165086, Softmax1(m[0], m[1]), "prob");
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void PNet_17x23(string level)
    {
        var (m, oh, ow, row, cs) = RunPNet(Nets(level), 17, 23);
        Assert.Equal((4, 7), (oh, ow));
        double[] prob0 = [0.005256622455165077, 0.025068331103326083, 0.03914891941276032, 0.03810272220388295, 0.03312220268974719, 0.020996429527077157, 0.003335836514276818];
        double[] reg0 = [0.028321495180098584, 0.022860399793849115, 0.004837739119611814, 0.023900069725747305, -0.0015544015059267766, 0.03776244098102666, 0.028890501377722234];
        double probSum = 0, regSum = 0;
        for (int i = 0; i < oh; i++)
        {
            for (int j = 0; j < ow; j++)
            {
                int o = ((i * row) + j) * cs;
                double p = Softmax1(m[o], m[o + 1]);
                probSum += p;
                regSum += m[o + 2] + m[o + 3] + m[o + 4] + m[o + 5];
                if (i == 0)
                {
                    Near(prob0[j], p, $"prob[0,{j}]");
                    Near(reg0[j], m[o + 2], $"reg0[0,{j}]");
                }
            }
        }

        Near(0.3396216111011078, probSum, "prob sum");
        Near(2.8916144977794707, regSum, "reg sum");
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void RNet_24x24(string level)
    {
        var o = RunCrop(Nets(level).R, Pattern(24, 24));
        Near(0.00011974883391289485, Softmax1(o[0], o[1]), "prob");
        double[] reg = [-0.0055412742991634255, 0.008619729044132857, -0.000763169943589076, 0.21224894744131884];
        for (int i = 0; i < 4; i++)
        {
            Near(reg[i], o[2 + i], $"reg[{i}]");
        }
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void ONet_48x48(string level)
    {
        var o = RunCrop(Nets(level).O, Pattern(48, 48));
        Near(0.004294296394660118, Softmax1(o[0], o[1]), "prob");
        double[] reg = [-0.035420482127243136, 0.010126130658380358, -0.021942205439251294, 0.06665651107100003];
        double[] lm = [0.34269137215092765, 0.6991168917548463, 0.5629106596087766, 0.3964584242734932, 0.6845449976066973, 0.360322630470359, 0.3016473717415251, 0.6239263230800014, 0.8224311220445785, 0.7755904483277143];
        for (int i = 0; i < 4; i++)
        {
            Near(reg[i], o[2 + i], $"reg[{i}]");
        }

        for (int i = 0; i < 10; i++)
        {
            Near(lm[i], o[6 + i], $"landmark[{i}]");
        }
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public void ONet_on_transposed_input_gives_the_transposition_trap_values_not_the_golden_ones(string level)
    {
        var o = RunCrop(Nets(level).O, Pattern(48, 48, transposed: true));
        Near(1.548073067174177e-05, Softmax1(o[0], o[1]), "prob");
        Near(0.037502911347194974, o[2], "reg[0]");
        Assert.True(Math.Abs(o[2] - -0.035420482127243136) > 0.01);
    }
}
