namespace Mtcnn.Tests.Reference;

/// <summary>
/// Net-level outputs of the original MTCNN weights on a synthetic input, copied unchanged from
/// ../shared/reference/golden_vectors.json (float64 numpy, see ../shared/reference/README.md). Never edit these to make
/// a test pass.
/// </summary>
internal static class GoldenVectors
{
    /// <summary>Tolerance for comparing a float64 or float32 forward pass with the golden values (absolute).</summary>
    public const double Tolerance = 1e-4;

    public static readonly double[] PNet12Reg = [0.028321495180098633, 0.01705562709097988, -0.10782556782657449, 0.09786720822539285];
    public static readonly double[] PNet12Prob = [0.9947433775448349, 0.005256622455165086];

    public static readonly int[] PNet17x23OutShape = [1, 2, 4, 7];

    public static readonly double[] PNet17x23ProbFaceRow0 =
    [
        0.005256622455165077, 0.025068331103326083, 0.03914891941276032, 0.03810272220388295,
        0.03312220268974719, 0.020996429527077157, 0.003335836514276818,
    ];

    public static readonly double[] PNet17x23RegCh0Row0 =
    [
        0.028321495180098584, 0.022860399793849115, 0.004837739119611814, 0.023900069725747305,
        -0.0015544015059267766, 0.03776244098102666, 0.028890501377722234,
    ];

    public const double PNet17x23ProbFaceSum = 0.3396216111011078;
    public const double PNet17x23RegSum = 2.8916144977794707;

    public static readonly double[] RNet24Reg = [-0.0055412742991634255, 0.008619729044132857, -0.000763169943589076, 0.21224894744131884];
    public static readonly double[] RNet24Prob = [0.9998802511660871, 0.00011974883391289485];

    public static readonly double[] ONet48Reg = [-0.035420482127243136, 0.010126130658380358, -0.021942205439251294, 0.06665651107100003];

    public static readonly double[] ONet48Landmarks =
    [
        0.34269137215092765, 0.6991168917548463, 0.5629106596087766, 0.3964584242734932, 0.6845449976066973,
        0.360322630470359, 0.3016473717415251, 0.6239263230800014, 0.8224311220445785, 0.7755904483277143,
    ];

    public static readonly double[] ONet48Prob = [0.9957057036053398, 0.004294296394660118];

    public static readonly double[] ONet48TransposedReg = [0.037502911347194974, -0.21440328650811097, -0.07094077425336184, -0.006754779768661366];
    public static readonly double[] ONet48TransposedProb = [0.9999845192693282, 1.548073067174177e-05];

    /// <summary>
    /// The golden input pattern, CHW: <c>v(c, y, x) = ((c*31 + y*17 + x*7) mod 256 - 127.5) * 0.0078125</c>.
    /// With <paramref name="transposed"/> the H/W-transposed pattern, <c>v(c, x, y)</c>, is returned instead.
    /// </summary>
    public static double[] Input(int h, int w, bool transposed = false)
    {
        var data = new double[3 * h * w];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    int a = transposed ? x : y, b = transposed ? y : x;
                    data[(((c * h) + y) * w) + x] = ((((c * 31) + (a * 17) + (b * 7)) % 256) - 127.5) * 0.0078125;
                }
            }
        }

        return data;
    }

    /// <summary>Largest absolute difference between two equally long sequences.</summary>
    public static double MaxAbsDiff(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        Assert.Equal(b.Count, a.Count);
        return a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
    }

    /// <summary>Asserts <c>|actual - expected| &lt;= Tolerance</c> element-wise, naming the first element that fails.</summary>
    public static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(
                Math.Abs(actual[i] - expected[i]) <= Tolerance,
                $"{what}[{i}]: expected {expected[i]:R}, actual {actual[i]:R} (tolerance {Tolerance}).");
        }
    }
}
