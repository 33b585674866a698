using System.Runtime.Intrinsics;
using Mtcnn.Inference;
using Mtcnn.Weights;

namespace Mtcnn.Tests.Inference;

/// <summary>
/// P-Net's fused first layer (lanes over pooled columns) at every vector level this processor runs and in both channel
/// groupings, against the channel-vectorised convolution of the same level followed by max pooling: equal up to float
/// rounding for every parity of height and width, in ceil and floor pooling, with the padding lanes zero; and equal bit
/// for bit across levels and groupings. Its data movement (splitting pixels into column planes, the transpose back,
/// the lane sums of the head screen) against plain loops.
/// </summary>
public sealed class PNetFirstLayerTests
{
    public static TheoryData<string, bool> Levels()
    {
        var data = new TheoryData<string, bool>();
        foreach (SimdLevel l in Enum.GetValues<SimdLevel>())
        {
            if (PNetFirstLayer.Supports(l))
            {
                data.Add(l.ToString(), true);
                data.Add(l.ToString(), false);
            }
        }

        if (data.Count == 0)
        {
            data.Add(nameof(SimdLevel.Scalar), true); // the skipped case: no vector level here
        }

        return data;
    }

    private static readonly (int Rows, int Width, bool Ceil)[] Shapes =
    [
        (12, 12, true), (13, 13, true), (13, 13, false), (14, 31, true), (15, 47, true), (15, 47, false), (20, 64, true),
        (33, 100, true), (12, 201, false), (17, 35, true), (40, 16, true), (13, 22, true), (16, 27, false),
    ];

    [SkippableTheory]
    [MemberData(nameof(Levels))]
    public void Matches_convolution_then_pooling(string level, bool fiveChannels)
    {
        var simd = Enum.Parse<SimdLevel>(level);
        Skip.IfNot(PNetFirstLayer.Supports(simd), "No vector level is accelerated here: the fused first layer is not used.");

        var weights = MtcnnWeights.Default;
        var conv1 = Networks.Layer(weights, "pnet", "conv1", "prelu1", 3, simd, 3);
        Assert.True(PNetFirstLayer.Fits(conv1));
        var fused = Fused(simd, fiveChannels);
        int ps = fused.PixelStride;
        Assert.Equal(conv1.OutputChannelStride, ps);
        Assert.Throws<ArgumentException>(() => fused.Forward(new float[12 * 12 * 3], 12, 12, 6, 6, new float[10], new float[6 * 6 * ps]));

        foreach (var (rows, width, ceil) in Shapes)
        {
            var input = Input(rows, width);
            int h1 = rows - 2, w1 = width - 2;
            int hp = MaxPool.OutputSize(h1, 2, 2, ceil), wp = MaxPool.OutputSize(w1, 2, 2, ceil);

            var expected = new float[hp * wp * ps];
            var convRows = new float[2 * width * ps];
            for (int py = 0; py < hp; py++)
            {
                int n = Math.Min(2, h1 - (2 * py));
                conv1.Forward(input.AsSpan(2 * py * width * 3), convRows, 0, ((n - 1) * width) + w1, width);
                MaxPool.Forward(convRows, n, w1, width, ps, 2, 2, ceil, expected.AsSpan(py * wp * ps, wp * ps), simd);
            }

            var actual = RunFused(fused, input, rows, width, hp, wp);
            for (int i = 0; i < actual.Length; i++)
            {
                if (i % ps >= 10)
                {
                    Assert.Equal(0f, actual[i]);
                }
                else
                {
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * Math.Max(1f, Math.Abs(expected[i])),
                        $"{rows}x{width}: pooled ({i / ps / wp}, {i / ps % wp}) channel {i % ps}: expected {expected[i]}, got {actual[i]}");
                }
            }
        }
    }

    [SkippableFact]
    public void Every_level_and_grouping_gives_the_same_bits()
    {
        var levels = Enum.GetValues<SimdLevel>().Where(PNetFirstLayer.Supports).ToArray();
        Skip.If(levels.Length == 0, "No vector level is accelerated here: the fused first layer is not used.");
        foreach (var (rows, width, ceil) in Shapes)
        {
            var input = Input(rows, width);
            int hp = MaxPool.OutputSize(rows - 2, 2, 2, ceil), wp = MaxPool.OutputSize(width - 2, 2, 2, ceil);
            float[]? reference = null;
            foreach (var level in levels)
            {
                foreach (bool five in new[] { true, false })
                {
                    var fused = Fused(level, five);
                    var map = RunFused(fused, input, rows, width, hp, wp);
                    var channels = new float[hp * wp * 10];
                    for (int p = 0; p < hp * wp; p++)
                    {
                        Array.Copy(map, p * fused.PixelStride, channels, p * 10, 10);
                    }

                    reference ??= channels;
                    Assert.Equal(reference, channels);
                }
            }
        }
    }

    [SkippableFact]
    public unsafe void Data_movement_matches_plain_loops()
    {
        Skip.IfNot(Vector128.IsHardwareAccelerated, "No vector level is accelerated here.");
        var rnd = new Random(5);
        if (PNetFirstLayer.Supports(SimdLevel.Vector512))
        {
            Check<PNet512, Vector512<float>>(rnd);
        }

        if (PNetFirstLayer.Supports(SimdLevel.Vector256))
        {
            Check<PNet256, Vector256<float>>(rnd);
        }

        Check<PNet128, Vector128<float>>(rnd);
    }

    private static unsafe void Check<TOps, TV>(Random rnd)
        where TOps : IPNetVectors<TV>
        where TV : unmanaged
    {
        int lanes = TOps.Width, block = TOps.SplitBlock, ps = TOps.PixelStride, stride = 40;

        // Split: one block of pixels into the six planes.
        var src = Enumerable.Range(0, 3 * block).Select(_ => rnd.NextSingle()).ToArray();
        var planes = new float[6 * stride];
        var loops = new float[6 * stride];
        fixed (float* s = src)
        fixed (float* p = planes)
        fixed (float* q = loops)
        {
            TOps.SplitPixels(s, p, stride);
            PNetVectorLoops.SplitPixels(s, q, stride, block);
        }

        Assert.Equal(loops, planes);

        // Transpose: 10 rows of pooled columns to pixels, for every column count.
        var t = Enumerable.Range(0, 10 * lanes).Select(_ => rnd.NextSingle() + 1).ToArray();
        for (int count = 1; count <= lanes; count++)
        {
            var outV = Enumerable.Repeat(float.NaN, (lanes + 1) * ps).ToArray();
            var outL = Enumerable.Repeat(float.NaN, (lanes + 1) * ps).ToArray();
            fixed (float* pt = t)
            fixed (float* a = outV)
            fixed (float* b = outL)
            {
                TOps.Transpose(pt, a, count);
                PNetVectorLoops.Transpose(pt, b, count, lanes, ps);
            }

            Assert.Equal(outL, outV); // NaN compares equal to NaN here: nothing written past 'count' pixels
        }

        // Lane sums: lane k of the result is the sum of vector k (in some order: within rounding).
        var values = Enumerable.Range(0, lanes * lanes).Select(_ => (rnd.NextSingle() * 2) - 1).ToArray();
        var dots = stackalloc TV[16];
        var sums = new float[lanes];
        fixed (float* pv = values)
        {
            for (int k = 0; k < lanes; k++)
            {
                dots[k] = TOps.Load(pv + (k * lanes));
            }

            TOps.SumLanes(dots);
            fixed (float* ps2 = sums)
            {
                TOps.Store(ps2, dots[0]);
            }
        }

        for (int k = 0; k < lanes; k++)
        {
            float expected = values.Skip(k * lanes).Take(lanes).Sum();
            Assert.True(Math.Abs(expected - sums[k]) <= 1e-5f, $"width {lanes}, vector {k}: expected {expected}, got {sums[k]}");
        }
    }

    private static PNetFirstLayer Fused(SimdLevel level, bool fiveChannels)
    {
        var weights = MtcnnWeights.Default;
        return new PNetFirstLayer(weights.Get("pnet.conv1.weight").Data, weights.Get("pnet.conv1.bias").Data, weights.Get("pnet.prelu1.weight").Data,
            level, fiveChannels);
    }

    private static float[] Input(int rows, int width)
    {
        var rnd = new Random((rows * 1000) + width);
        return Enumerable.Range(0, rows * width * 3).Select(_ => (rnd.NextSingle() * 2) - 1).ToArray();
    }

    private static float[] RunFused(PNetFirstLayer fused, float[] input, int rows, int width, int hp, int wp)
    {
        var scratch = new float[PNetFirstLayer.ScratchSize(width)];
        Array.Fill(scratch, float.NaN); // what the split rows do not cover must not reach a pooled value
        var actual = new float[hp * wp * fused.PixelStride];
        Array.Fill(actual, float.NaN);
        fused.Forward(input, rows, width, hp, wp, scratch, actual);
        return actual;
    }
}
