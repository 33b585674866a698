using Mtcnn.Tests.Reference;

namespace Mtcnn.Tests.Weights;

/// <summary>
/// The embedded default weights, run through the naive float64 nets, reproduce the golden outputs of
/// ../shared/reference/golden_vectors.json. This pins the whole conversion: PReLU sign, kernel transposition and the
/// first dense layer's input order.
/// </summary>
public sealed class GoldenForwardTests
{
    private static readonly NaiveMtcnn Nets = NaiveMtcnn.Default;

    [Fact]
    public void PNet_12x12_matches_golden()
    {
        var r = Nets.RunPNet(GoldenVectors.Input(12, 12), 12, 12);
        Assert.Equal((1, 1), (r.Height, r.Width));
        GoldenVectors.AssertClose(GoldenVectors.PNet12Prob, r.Prob, "prob");
        GoldenVectors.AssertClose(GoldenVectors.PNet12Reg, r.Reg, "reg");
    }

    [Fact]
    public void PNet_17x23_matches_golden_in_all_fields()
    {
        var r = Nets.RunPNet(GoldenVectors.Input(17, 23), 17, 23);
        Assert.Equal(GoldenVectors.PNet17x23OutShape, new[] { 1, 2, r.Height, r.Width });
        GoldenVectors.AssertClose(GoldenVectors.PNet17x23ProbFaceRow0, Enumerable.Range(0, r.Width).Select(x => r.FaceProb(0, x)).ToArray(), "prob_face_ch1_row0");
        GoldenVectors.AssertClose(GoldenVectors.PNet17x23RegCh0Row0, Enumerable.Range(0, r.Width).Select(x => r.RegAt(0, 0, x)).ToArray(), "reg_ch0_row0");
        double probFaceSum = Enumerable.Range(0, r.Height * r.Width).Sum(p => r.FaceProb(p / r.Width, p % r.Width));
        GoldenVectors.AssertClose([GoldenVectors.PNet17x23ProbFaceSum], [probFaceSum], "prob_face_sum");
        GoldenVectors.AssertClose([GoldenVectors.PNet17x23RegSum], [r.Reg.Sum()], "reg_sum");

        // Softmax: the two class maps add up to one everywhere.
        int plane = r.Height * r.Width;
        Assert.All(Enumerable.Range(0, plane), p => Assert.Equal(1.0, r.Prob[p] + r.Prob[plane + p], 12));
    }

    [Fact]
    public void PNet_17x23_top_left_cell_equals_the_12x12_run()
    {
        // The fully convolutional P-Net's cell (0, 0) sees exactly the 12x12 top-left window, which is the 12x12 input.
        var full = Nets.RunPNet(GoldenVectors.Input(17, 23), 17, 23);
        var small = Nets.RunPNet(GoldenVectors.Input(12, 12), 12, 12);
        Assert.Equal(small.Prob[1], full.FaceProb(0, 0), 12);
        Assert.Equal(small.Reg[3], full.RegAt(3, 0, 0), 12);
    }

    [Fact]
    public void RNet_24x24_matches_golden()
    {
        var r = Nets.RunRNet(GoldenVectors.Input(24, 24));
        GoldenVectors.AssertClose(GoldenVectors.RNet24Prob, r.Prob, "prob");
        GoldenVectors.AssertClose(GoldenVectors.RNet24Reg, r.Reg, "reg");
    }

    [Fact]
    public void ONet_48x48_matches_golden()
    {
        var r = Nets.RunONet(GoldenVectors.Input(48, 48));
        GoldenVectors.AssertClose(GoldenVectors.ONet48Prob, r.Prob, "prob");
        GoldenVectors.AssertClose(GoldenVectors.ONet48Reg, r.Reg, "reg");
        GoldenVectors.AssertClose(GoldenVectors.ONet48Landmarks, r.Landmarks, "landmarks");
    }

    [Fact]
    public void ONet_on_the_transposed_input_gives_the_transposed_golden_and_not_the_normal_one()
    {
        var normal = Nets.RunONet(GoldenVectors.Input(48, 48));
        var transposed = Nets.RunONet(GoldenVectors.Input(48, 48, transposed: true));

        // The golden file records what the transposition trap looks like; the nets reproduce it ...
        GoldenVectors.AssertClose(GoldenVectors.ONet48TransposedReg, transposed.Reg, "transposed reg");
        GoldenVectors.AssertClose(GoldenVectors.ONet48TransposedProb, transposed.Prob, "transposed prob");

        // ... and it is far from the normal answer, both in the golden file and in our outputs.
        Assert.True(GoldenVectors.MaxAbsDiff(GoldenVectors.ONet48Reg, GoldenVectors.ONet48TransposedReg) > 100 * GoldenVectors.Tolerance);
        Assert.True(GoldenVectors.MaxAbsDiff(normal.Reg, transposed.Reg) > 100 * GoldenVectors.Tolerance);
    }
}
