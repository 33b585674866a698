using System.Runtime.Intrinsics.X86;
using Mtcnn.Inference;
using Mtcnn.Weights;

namespace Mtcnn.Tests.Inference;

/// <summary>
/// P-Net's fused first layer (lanes over pooled columns, AVX-512) against the channel-vectorised convolution followed by
/// max pooling: equal up to float rounding for every parity of height and width, in ceil and floor pooling, with the
/// padding lanes zero.
/// </summary>
public sealed class PNetFirstLayerTests
{
    [SkippableTheory]
    [InlineData(12, 12, true)]
    [InlineData(13, 13, true)]
    [InlineData(13, 13, false)]
    [InlineData(14, 31, true)]
    [InlineData(15, 47, true)]
    [InlineData(15, 47, false)]
    [InlineData(20, 64, true)]
    [InlineData(33, 100, true)]
    [InlineData(12, 201, false)]
    [InlineData(17, 35, true)]
    [InlineData(40, 16, true)]
    public void Matches_convolution_then_pooling(int rows, int width, bool ceil)
    {
        Skip.IfNot(Avx512F.IsSupported, "AVX-512 is not available on this processor: the fused first layer is not used here.");

        var weights = MtcnnWeights.Default;
        var conv1 = Networks.Layer(weights, "pnet", "conv1", "prelu1", 3, SimdLevel.Vector512, 3);
        Assert.True(PNetFirstLayer.Fits(conv1));
        Assert.Throws<ArgumentException>(() => new PNetFirstLayer(weights.Get("pnet.conv1.weight").Data, weights.Get("pnet.conv1.bias").Data,
            weights.Get("pnet.prelu1.weight").Data).Forward(new float[12 * 12 * 3], 12, 12, 6, 6, new float[10], new float[6 * 6 * 16]));
        var fused = new PNetFirstLayer(weights.Get("pnet.conv1.weight").Data, weights.Get("pnet.conv1.bias").Data, weights.Get("pnet.prelu1.weight").Data);

        var rnd = new Random((rows * 1000) + width);
        var input = Enumerable.Range(0, rows * width * 3).Select(_ => (rnd.NextSingle() * 2) - 1).ToArray();
        int h1 = rows - 2, w1 = width - 2;
        int hp = MaxPool.OutputSize(h1, 2, 2, ceil), wp = MaxPool.OutputSize(w1, 2, 2, ceil);

        var expected = new float[hp * wp * 16];
        var convRows = new float[2 * width * 16];
        for (int py = 0; py < hp; py++)
        {
            int n = Math.Min(2, h1 - (2 * py));
            conv1.Forward(input.AsSpan(2 * py * width * 3), convRows, 0, ((n - 1) * width) + w1, width);
            MaxPool.Forward(convRows, n, w1, width, 16, 2, 2, ceil, expected.AsSpan(py * wp * 16, wp * 16), SimdLevel.Vector512);
        }

        var scratch = new float[PNetFirstLayer.ScratchSize(width)];
        Array.Fill(scratch, float.NaN); // what the split rows do not cover must not reach a pooled value
        var actual = new float[hp * wp * 16];
        Array.Fill(actual, float.NaN);
        fused.Forward(input, rows, width, hp, wp, scratch, actual);

        for (int i = 0; i < actual.Length; i++)
        {
            if (i % 16 >= 10)
            {
                Assert.Equal(0f, actual[i]);
            }
            else
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * Math.Max(1f, Math.Abs(expected[i])),
                    $"pooled ({i / 16 / wp}, {i / 16 % wp}) channel {i % 16}: expected {expected[i]}, got {actual[i]}");
            }
        }
    }
}
