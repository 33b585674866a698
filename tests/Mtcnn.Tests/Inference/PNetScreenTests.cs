using Mtcnn.Inference;

namespace Mtcnn.Tests.Inference;

/// <summary>
/// P-Net with screened heads (the heads computed only where a dot product over conv3's channels says the class logit
/// can reach the bound): every window the full heads put at or above the bound is listed, in ascending order, with
/// the same head values bit for bit; windows far below it are left out (at every vector level; the scalar level lists all).
/// </summary>
public sealed class PNetScreenTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (SimdLevel l in Enum.GetValues<SimdLevel>())
        {
            if (Simd.IsSupported(l))
            {
                data.Add(l.ToString(), 1000);
                data.Add(l.ToString(), 7);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Screened_heads_match_the_full_heads(string level, int maxRows)
    {
        const int h = 90, w = 77;
        var nets = GoldenVectorTests.Nets(level);
        var (whole, oh, ow, row, stride) = GoldenVectorTests.RunPNet(nets, h, w);
        float Logit(int pos) => nets.P.ClassOutputs == 2 ? whole[(pos * stride) + 1] - whole[pos * stride] : whole[pos * stride];

        // A bound near the middle of this input's logits, so that about half the windows pass.
        int rows = Math.Min(maxRows, oh);
        var logits = new List<float>();
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < ow; j++)
            {
                logits.Add(Logit((i * row) + j));
            }
        }

        logits.Sort();
        float bound = logits[logits.Count / 2];

        int scratch = nets.P.ScratchSize(h, w);
        var a = new float[scratch];
        var b = new float[scratch];
        var passing = new int[rows * ow];
        var (sh, sw, srow, n) = nets.P.Forward(GoldenVectorTests.Pattern(h, w), h, w, a, b, bound, maxRows, passing);
        Assert.Equal((oh, ow, row), (sh, sw, srow));
        var listed = passing[..n];
        Assert.Equal(listed.Order(), listed);
        Assert.Equal(listed.Distinct().Count(), n);
        var set = listed.ToHashSet();
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < ow; j++)
            {
                int pos = (i * row) + j;
                if (Logit(pos) >= bound)
                {
                    Assert.Contains(pos, set);
                }

                if (set.Contains(pos))
                {
                    for (int c = 0; c < nets.P.Head.Cout; c++)
                    {
                        Assert.Equal(whole[(pos * stride) + c], a[(pos * stride) + c]);
                    }
                }
                else
                {
                    Assert.True(Logit(pos) < bound - 1e-3f, $"({i}, {j}) left out at logit {Logit(pos)}, bound {bound}");
                }
            }
        }

        Assert.All(listed, pos => Assert.True(pos / row < rows && pos % row < ow));
        if (level != nameof(SimdLevel.Scalar))
        {
            Assert.True(n < rows * ow * 0.75, $"{n} of {rows * ow} windows listed: the screen should leave out those far below the bound");
        }
        else
        {
            Assert.Equal(rows * ow, n);
        }
    }

    [Fact]
    public void Without_a_bound_every_window_is_listed()
    {
        const int h = 40, w = 33;
        var nets = GoldenVectorTests.Nets(Simd.Best.ToString());
        var (whole, oh, ow, row, stride) = GoldenVectorTests.RunPNet(nets, h, w);
        int scratch = nets.P.ScratchSize(h, w);
        var a = new float[scratch];
        var passing = new int[oh * ow];
        var (_, _, _, n) = nets.P.Forward(GoldenVectorTests.Pattern(h, w), h, w, a, new float[scratch], float.NegativeInfinity, oh, passing);
        Assert.Equal(oh * ow, n);
        for (int k = 0; k < n; k++)
        {
            Assert.Equal(whole[passing[k] * stride], a[passing[k] * stride]);
        }
    }
}
