using Mtcnn.Tests.Reference;
using Xunit.Abstractions;

namespace Mtcnn.Tests.Weights;

/// <summary>
/// Shows that the golden tests can fail: the converted weights with one conversion step done wrong (kernel axes
/// swapped, first dense layer not reordered, PReLU slopes negated) must not reproduce the golden outputs.
/// </summary>
public sealed class ConversionControlTests(ITestOutputHelper output)
{
    /// <summary>A wrong conversion must miss the golden values by far more than the tolerance.</summary>
    private const double MinimumMiss = 100 * GoldenVectors.Tolerance;

    [Fact]
    public void Unchanged_weights_hit_the_golden_outputs()
    {
        Assert.True(GoldenMiss(MtcnnWeights.Default).Max() <= GoldenVectors.Tolerance);
    }

    [Fact]
    public void Kernels_with_kx_and_ky_swapped_miss_the_golden_outputs_of_every_net()
    {
        // What a converter that read the kernels as [out, ky, kx, in] would produce.
        var wrong = Mutate(MtcnnWeights.Default, t => t.Shape.Count == 4 && t.Shape[2] > 1 ? SwapKernelAxes(t) : t);
        var miss = GoldenMiss(wrong);
        output.WriteLine($"kx/ky swapped: largest miss P {miss[0]:G3}, R {miss[1]:G3}, O {miss[2]:G3}");
        Assert.All(miss, m => Assert.True(m > MinimumMiss, $"miss {m} is not above {MinimumMiss}"));
    }

    [Fact]
    public void First_dense_layer_without_the_reorder_misses_the_golden_outputs_of_R_and_O()
    {
        // What a converter that copied the first dense layer as stored ((x, y, c) input order) would produce.
        var wrong = Mutate(MtcnnWeights.Default, t => t.Name switch
        {
            "rnet.dense4.weight" => UndoFirstDenseReorder(t, 64),
            "onet.dense5.weight" => UndoFirstDenseReorder(t, 128),
            _ => t,
        });
        var miss = GoldenMiss(wrong);
        output.WriteLine($"no FC reorder: largest miss P {miss[0]:G3}, R {miss[1]:G3}, O {miss[2]:G3}");
        Assert.True(miss[0] <= GoldenVectors.Tolerance, "P-Net has no dense layer and must be unaffected");
        Assert.True(miss[1] > MinimumMiss, $"R-Net miss {miss[1]}");
        Assert.True(miss[2] > MinimumMiss, $"O-Net miss {miss[2]}");
    }

    [Fact]
    public void Negated_PReLU_slopes_miss_the_golden_outputs_of_every_net()
    {
        var wrong = Mutate(MtcnnWeights.Default, t => t.Name.Contains(".prelu", StringComparison.Ordinal)
            ? t with { Data = t.Data.Select(v => -v).ToArray() }
            : t);
        var miss = GoldenMiss(wrong);
        output.WriteLine($"PReLU negated: largest miss P {miss[0]:G3}, R {miss[1]:G3}, O {miss[2]:G3}");
        Assert.All(miss, m => Assert.True(m > MinimumMiss, $"miss {m} is not above {MinimumMiss}"));
    }

    [Fact]
    public void The_converter_permutations_match_the_spec_formulas_on_index_data()
    {
        // T holds its own flat index, so the output says where every value came from.
        int o = 2, i = 3, k = 2;
        var t = Enumerable.Range(0, o * i * k * k).Select(v => (float)v).ToArray();
        var w = OriginalWeightsConverter.ConvKernelToOihw(t, o, i, k);
        for (int oo = 0; oo < o; oo++)
        {
            for (int ii = 0; ii < i; ii++)
            {
                for (int ky = 0; ky < k; ky++)
                {
                    for (int kx = 0; kx < k; kx++)
                    {
                        Assert.Equal((((((oo * k) + kx) * k) + ky) * i) + ii, (int)w[(((((oo * i) + ii) * k) + ky) * k) + kx]);
                    }
                }
            }
        }

        int c = 2, side = 3, outF = 2, inF = c * side * side;
        var tf = Enumerable.Range(0, outF * inF).Select(v => (float)v).ToArray();
        var wf = OriginalWeightsConverter.FirstDenseToChw(tf, outF, c, side);
        for (int of = 0; of < outF; of++)
        {
            for (int cc = 0; cc < c; cc++)
            {
                for (int y = 0; y < side; y++)
                {
                    for (int x = 0; x < side; x++)
                    {
                        Assert.Equal((of * inF) + (((x * side) + y) * c) + cc, (int)wf[(of * inF) + (((cc * side) + y) * side) + x]);
                    }
                }
            }
        }
    }

    /// <summary>Largest absolute miss against the golden values for P-Net (12x12 and 17x23), R-Net and O-Net.</summary>
    internal static double[] GoldenMiss(MtcnnWeights weights)
    {
        var nets = new NaiveMtcnn(weights);
        var p12 = nets.RunPNet(GoldenVectors.Input(12, 12), 12, 12);
        var p17 = nets.RunPNet(GoldenVectors.Input(17, 23), 17, 23);
        double pMiss = new[]
        {
            GoldenVectors.MaxAbsDiff(GoldenVectors.PNet12Prob, p12.Prob),
            GoldenVectors.MaxAbsDiff(GoldenVectors.PNet12Reg, p12.Reg),
            GoldenVectors.MaxAbsDiff(GoldenVectors.PNet17x23RegCh0Row0, Enumerable.Range(0, p17.Width).Select(x => p17.RegAt(0, 0, x)).ToArray()),
            Math.Abs(GoldenVectors.PNet17x23RegSum - p17.Reg.Sum()),
        }.Max();

        var r = nets.RunRNet(GoldenVectors.Input(24, 24));
        double rMiss = Math.Max(GoldenVectors.MaxAbsDiff(GoldenVectors.RNet24Prob, r.Prob), GoldenVectors.MaxAbsDiff(GoldenVectors.RNet24Reg, r.Reg));

        var on = nets.RunONet(GoldenVectors.Input(48, 48));
        double oMiss = new[]
        {
            GoldenVectors.MaxAbsDiff(GoldenVectors.ONet48Prob, on.Prob),
            GoldenVectors.MaxAbsDiff(GoldenVectors.ONet48Reg, on.Reg),
            GoldenVectors.MaxAbsDiff(GoldenVectors.ONet48Landmarks, on.Landmarks),
        }.Max();
        return [pMiss, rMiss, oMiss];
    }

    private static MtcnnWeights Mutate(MtcnnWeights weights, Func<WeightTensor, WeightTensor> change) =>
        new(weights.Variant, weights.Tensors.Values.Select(change), weights.Metadata);

    /// <summary>OIHW with H and W swapped in every kernel: W'[o, i, a, b] = W[o, i, b, a].</summary>
    private static WeightTensor SwapKernelAxes(WeightTensor t)
    {
        int o = t.Shape[0], i = t.Shape[1], k = t.Shape[2];
        var d = new float[t.Data.Length];
        for (int n = 0; n < o * i; n++)
        {
            for (int a = 0; a < k; a++)
            {
                for (int b = 0; b < k; b++)
                {
                    d[(((n * k) + a) * k) + b] = t.Data[(((n * k) + b) * k) + a];
                }
            }
        }

        return t with { Data = d };
    }

    /// <summary>Back to the stored (x, y, c) input order of a 3x3 map: T[o, (x*3+y)*C + c] = W[o, (c*3+y)*3 + x].</summary>
    private static WeightTensor UndoFirstDenseReorder(WeightTensor t, int channels)
    {
        int outF = t.Shape[0], inF = t.Shape[1];
        var d = new float[t.Data.Length];
        for (int o = 0; o < outF; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int y = 0; y < 3; y++)
                {
                    for (int x = 0; x < 3; x++)
                    {
                        d[(o * inF) + (((x * 3) + y) * channels) + c] = t.Data[(o * inF) + (((c * 3) + y) * 3) + x];
                    }
                }
            }
        }

        return t with { Data = d };
    }
}
