using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Mtcnn.Inference;

/// <summary>
/// P-Net's first layer (3x3, 3 to 10 channels, PReLU) fused with its 2x2 max pooling, with the vector lanes over
/// pooled columns instead of output channels: the channel-vectorised kernel of <see cref="ConvLayer"/> fills only 10 of
/// 16 lanes at 512 bits (10 of 16 in two 256-bit blocks, 10 of 12 in three 128-bit ones), this one fills all of them
/// and does 37.5 % fewer multiply-adds. Written once over the vector width (<see cref="IPNetVectors{TVector}"/>) for
/// the 512-, 256- and 128-bit levels.
/// </summary>
/// <remarks>
/// <para>
/// The interleaved input rows are split into planes of even and odd columns per channel as the pooled rows reach
/// them (a ring of four rows, which stays in the cache). Pooled column j reads conv columns 2j and 2j + 1, whose windows start at input columns 2j
/// and 2j + 1: even column 2j + kx is E[j], O[j], E[j + 1] for kx = 0, 1, 2 and odd column 2j + 1 + kx is O[j],
/// E[j + 1], O[j + 1], so every vector is a plain load. A block of one vector of pooled columns and two conv rows keeps
/// four accumulators per output channel (even/odd x 2 rows) and goes through the channels in two groups of five (20
/// accumulators, where the instruction set has 32 vector registers: AVX-512, ARM64) or five groups of two (8
/// accumulators, for the 16 registers of AVX2/SSE); PReLU, the 2x2 maximum and a transpose back to channels-last
/// (lanes 10 and up zero) finish it.
/// </para>
/// <para>
/// Ceil-mode pooling: a last conv row without a partner (odd height) pools alone, as does the last conv column of an
/// odd width. Every width and grouping adds the taps of an output in the same order, so all give the same bits; the
/// sums run in a different order than <see cref="ConvLayer"/>'s, so results differ from it by float rounding only; they
/// do not depend on where a band starts.
/// </para>
/// </remarks>
internal sealed class PNetFirstLayer
{
    private const int Outputs = 10;

    // Whether the vector registers hold the five-channel grouping's 20 accumulators plus its operands: 32 registers with
    // AVX-512 (EVEX encodes them at every width) and on ARM64, 16 otherwise.
    private static readonly bool ManyRegisters = Avx512F.IsSupported || AdvSimd.Arm64.IsSupported;

    private readonly float[] weights; // [output][ky][kx][channel]
    private readonly float[] bias;
    private readonly float[] slopes;
    private readonly bool fiveChannels;

    /// <summary>Prepares the layer for the kernels of <paramref name="level"/> (a vector level <see cref="Supports"/> accepts).</summary>
    public PNetFirstLayer(ReadOnlySpan<float> weightOihw, ReadOnlySpan<float> biasValues, ReadOnlySpan<float> preluSlopes, SimdLevel level)
        : this(weightOihw, biasValues, preluSlopes, level, ManyRegisters)
    {
    }

    /// <summary>As above, with the channel grouping chosen (five channels at a time or two; both give the same bits).</summary>
    internal PNetFirstLayer(ReadOnlySpan<float> weightOihw, ReadOnlySpan<float> biasValues, ReadOnlySpan<float> preluSlopes, SimdLevel level, bool fiveChannels)
    {
        if (!Supports(level))
        {
            throw new ArgumentException($"P-Net first layer: no fused kernel for {level} on this processor.", nameof(level));
        }

        Level = level;
        this.fiveChannels = fiveChannels;
        weights = new float[Outputs * 27];
        for (int o = 0; o < Outputs; o++)
        {
            for (int c = 0; c < 3; c++)
            {
                for (int ky = 0; ky < 3; ky++)
                {
                    for (int kx = 0; kx < 3; kx++)
                    {
                        weights[(o * 27) + (ky * 9) + (kx * 3) + c] = weightOihw[(((o * 3) + c) * 9) + (ky * 3) + kx];
                    }
                }
            }
        }

        bias = biasValues[..Outputs].ToArray();
        slopes = new float[Outputs];
        for (int o = 0; o < Outputs; o++)
        {
            slopes[o] = preluSlopes.Length == 1 ? preluSlopes[0] : preluSlopes[o];
        }
    }

    /// <summary>The kernel family this instance runs.</summary>
    public SimdLevel Level { get; }

    /// <summary>Floats per pooled pixel of the output: 10 channels rounded up to the lanes of the level (16, 16, 12).</summary>
    public int PixelStride => PixelStrideOf(Level);

    /// <summary>Whether the fused kernel runs at <paramref name="level"/> on this processor.</summary>
    public static bool Supports(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => Avx512F.IsSupported,
        SimdLevel.Vector256 => Vector256.IsHardwareAccelerated,
        SimdLevel.Vector128 => Vector128.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>Whether this kernel can stand in for <paramref name="conv1"/> (P-Net's shape, a vector level this processor runs).</summary>
    public static bool Fits(ConvLayer conv1) =>
        Supports(conv1.Level) && conv1.Cout == Outputs && conv1.Cin == 3 && conv1.K == 3
        && conv1.InputChannelStride == 3 && conv1.HasPrelu && conv1.OutputChannelStride == PixelStrideOf(conv1.Level);

    /// <summary>Floats between consecutive column planes for a band <paramref name="width"/> pixels wide.</summary>
    public static int PlaneStride(int width) => ((((width + 1) / 2) + 17 + 15) / 16) * 16;

    /// <summary>Floats of scratch <see cref="Forward"/> needs for a band <paramref name="width"/> pixels wide: four split rows.</summary>
    public static int ScratchSize(int width) => (4 * 6 * PlaneStride(width)) + 32;

    private static int PixelStrideOf(SimdLevel level) => level == SimdLevel.Vector128 ? 12 : 16;

    /// <summary>
    /// Runs conv1, PReLU and the 2x2 pooling over a band of <paramref name="rows"/> x <paramref name="width"/> pixels
    /// (interleaved, 3 floats a pixel): writes the <paramref name="pooledHeight"/> x <paramref name="pooledWidth"/>
    /// pooled map channels-last (<see cref="PixelStride"/> floats a pixel, rows <paramref name="pooledWidth"/> pixels
    /// apart) to <paramref name="output"/>. Input rows are split into their column planes as the pooled rows reach them,
    /// four at a time in <paramref name="scratch"/>, so the planes stay in the cache.
    /// </summary>
    public void Forward(ReadOnlySpan<float> input, int rows, int width, int pooledHeight, int pooledWidth, Span<float> scratch, Span<float> output)
    {
        int convRows = rows - 2, convWidth = width - 2;
        if (input.Length < rows * width * 3 || scratch.Length < ScratchSize(width) || output.Length < pooledHeight * pooledWidth * PixelStride
            || (pooledHeight - 1) * 2 >= convRows || (pooledWidth - 1) * 2 >= convWidth)
        {
            throw new ArgumentException("P-Net first layer: band, scratch or output buffer does not match the sizes.");
        }

        switch (Level)
        {
            case SimdLevel.Vector512:
                Run<PNet512, Vector512<float>>(input, rows, width, pooledHeight, pooledWidth, scratch, output);
                break;
            case SimdLevel.Vector256:
                Run<PNet256, Vector256<float>>(input, rows, width, pooledHeight, pooledWidth, scratch, output);
                break;
            default:
                Run<PNet128, Vector128<float>>(input, rows, width, pooledHeight, pooledWidth, scratch, output);
                break;
        }
    }

    private unsafe void Run<TOps, TV>(ReadOnlySpan<float> input, int rows, int width, int pooledHeight, int pooledWidth, Span<float> scratch, Span<float> output)
        where TOps : IPNetVectors<TV>
        where TV : unmanaged
    {
        int stride = PlaneStride(width), convRows = rows - 2, convWidth = width - 2, lanes = TOps.Width, ps = TOps.PixelStride;
        var t = stackalloc float[Outputs * 16];
        var rowAt = stackalloc float*[4];
        fixed (float* pin = input)
        fixed (float* ring = scratch)
        fixed (float* pout = output)
        fixed (float* pw = weights)
        fixed (float* pbias = bias)
        fixed (float* pslope = slopes)
        {
            int split = 0; // input rows split so far (row y lives in slot y % 4)
            for (int py = 0; py < pooledHeight; py++)
            {
                int n = Math.Min(2, convRows - (2 * py));
                for (; split < (2 * py) + n + 2; split++)
                {
                    Split<TOps, TV>(pin + ((long)split * width * 3), width, ring + ((split & 3) * 6 * stride), stride);
                }

                for (int iy = 0; iy < 4; iy++)
                {
                    rowAt[iy] = ring + ((((2 * py) + iy) & 3) * 6 * stride);
                }

                float* o = pout + ((long)py * pooledWidth * ps);
                for (int j0 = 0; j0 < pooledWidth; j0 += lanes)
                {
                    // The last conv column of an odd width has no partner: its pooled column takes the even value only.
                    int lone = (convWidth & 1) == 1 && pooledWidth * 2 > convWidth ? pooledWidth - 1 - j0 : -1;
                    var lastOdd = TOps.LaneMask(lone);
                    if (fiveChannels)
                    {
                        Half5<TOps, TV>(rowAt, j0, stride, pw, pbias, pslope, n == 2, lastOdd, t);
                        Half5<TOps, TV>(rowAt, j0, stride, pw + (5 * 27), pbias + 5, pslope + 5, n == 2, lastOdd, t + (5 * lanes));
                    }
                    else
                    {
                        for (int g = 0; g < Outputs; g += 2)
                        {
                            Half2<TOps, TV>(rowAt, j0, stride, pw + (g * 27), pbias + g, pslope + g, n == 2, lastOdd, t + (g * lanes));
                        }
                    }

                    TOps.Transpose(t, o + ((long)j0 * ps), Math.Min(lanes, pooledWidth - j0));
                }
            }
        }
    }

    // One input row (3 floats a pixel) into its planes: channel c, parity p at dst + (2 c + p) * stride.
    private static unsafe void Split<TOps, TV>(float* src, int width, float* dst, int stride)
        where TOps : IPNetVectors<TV>
        where TV : unmanaged
    {
        int x = 0, block = TOps.SplitBlock;
        for (; x + block <= width; x += block)
        {
            TOps.SplitPixels(src + (3 * x), dst + (x / 2), stride);
        }

        PNetVectorLoops.SplitPixels(src + (3 * x), dst + (x / 2), stride, width - x);
    }

    // Five output channels of one block: pooled columns j0 .. j0 + Width - 1 from the split input rows, written as five
    // vectors of pooled columns at t (20 accumulators: for 32 vector registers).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Half5<TOps, TV>(float** rows, int j0, int stride, float* pw, float* pb, float* ps, bool two, TV lastOdd, float* t)
        where TOps : IPNetVectors<TV>
        where TV : unmanaged
    {
        TV e00 = TOps.Create(pb[0]), o00 = e00, e10 = e00, o10 = e00;
        TV e01 = TOps.Create(pb[1]), o01 = e01, e11 = e01, o11 = e01;
        TV e02 = TOps.Create(pb[2]), o02 = e02, e12 = e02, o12 = e02;
        TV e03 = TOps.Create(pb[3]), o03 = e03, e13 = e03, o13 = e03;
        TV e04 = TOps.Create(pb[4]), o04 = e04, e14 = e04, o14 = e04;
        TV a, b, d;
        int inputRows = two ? 4 : 3;
        for (int c = 0; c < 3; c++)
        {
            for (int iy = 0; iy < inputRows; iy++)
            {
                float* pe = rows[iy] + (2 * c * stride) + j0;
                var e = TOps.Load(pe);
                var e1 = TOps.Load(pe + 1);
                var o = TOps.Load(pe + stride);
                var o1 = TOps.Load(pe + stride + 1);
                if (iy <= 2)
                {
                    float* wk = pw + (iy * 9) + c;
                    a = TOps.Create(wk[0]);
                    b = TOps.Create(wk[3]);
                    d = TOps.Create(wk[6]);
                    e00 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e00)));
                    o00 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o00)));
                    a = TOps.Create(wk[27]);
                    b = TOps.Create(wk[30]);
                    d = TOps.Create(wk[33]);
                    e01 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e01)));
                    o01 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o01)));
                    a = TOps.Create(wk[54]);
                    b = TOps.Create(wk[57]);
                    d = TOps.Create(wk[60]);
                    e02 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e02)));
                    o02 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o02)));
                    a = TOps.Create(wk[81]);
                    b = TOps.Create(wk[84]);
                    d = TOps.Create(wk[87]);
                    e03 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e03)));
                    o03 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o03)));
                    a = TOps.Create(wk[108]);
                    b = TOps.Create(wk[111]);
                    d = TOps.Create(wk[114]);
                    e04 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e04)));
                    o04 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o04)));
                }

                if (iy >= 1)
                {
                    float* wk = pw + ((iy - 1) * 9) + c;
                    a = TOps.Create(wk[0]);
                    b = TOps.Create(wk[3]);
                    d = TOps.Create(wk[6]);
                    e10 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e10)));
                    o10 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o10)));
                    a = TOps.Create(wk[27]);
                    b = TOps.Create(wk[30]);
                    d = TOps.Create(wk[33]);
                    e11 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e11)));
                    o11 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o11)));
                    a = TOps.Create(wk[54]);
                    b = TOps.Create(wk[57]);
                    d = TOps.Create(wk[60]);
                    e12 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e12)));
                    o12 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o12)));
                    a = TOps.Create(wk[81]);
                    b = TOps.Create(wk[84]);
                    d = TOps.Create(wk[87]);
                    e13 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e13)));
                    o13 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o13)));
                    a = TOps.Create(wk[108]);
                    b = TOps.Create(wk[111]);
                    d = TOps.Create(wk[114]);
                    e14 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e14)));
                    o14 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o14)));
                }
            }
        }

        TOps.Store(t + (0 * TOps.Width), Pool<TOps, TV>(e00, o00, e10, o10, TOps.Create(ps[0]), two, lastOdd));
        TOps.Store(t + (1 * TOps.Width), Pool<TOps, TV>(e01, o01, e11, o11, TOps.Create(ps[1]), two, lastOdd));
        TOps.Store(t + (2 * TOps.Width), Pool<TOps, TV>(e02, o02, e12, o12, TOps.Create(ps[2]), two, lastOdd));
        TOps.Store(t + (3 * TOps.Width), Pool<TOps, TV>(e03, o03, e13, o13, TOps.Create(ps[3]), two, lastOdd));
        TOps.Store(t + (4 * TOps.Width), Pool<TOps, TV>(e04, o04, e14, o14, TOps.Create(ps[4]), two, lastOdd));
    }

    // The same for two output channels (8 accumulators, for 16 vector registers); the sums run in the same order.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Half2<TOps, TV>(float** rows, int j0, int stride, float* pw, float* pb, float* ps, bool two, TV lastOdd, float* t)
        where TOps : IPNetVectors<TV>
        where TV : unmanaged
    {
        TV e00 = TOps.Create(pb[0]), o00 = e00, e10 = e00, o10 = e00;
        TV e01 = TOps.Create(pb[1]), o01 = e01, e11 = e01, o11 = e01;
        TV a, b, d;
        int inputRows = two ? 4 : 3;
        for (int c = 0; c < 3; c++)
        {
            for (int iy = 0; iy < inputRows; iy++)
            {
                float* pe = rows[iy] + (2 * c * stride) + j0;
                var e = TOps.Load(pe);
                var e1 = TOps.Load(pe + 1);
                var o = TOps.Load(pe + stride);
                var o1 = TOps.Load(pe + stride + 1);
                if (iy <= 2)
                {
                    float* wk = pw + (iy * 9) + c;
                    a = TOps.Create(wk[0]);
                    b = TOps.Create(wk[3]);
                    d = TOps.Create(wk[6]);
                    e00 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e00)));
                    o00 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o00)));
                    a = TOps.Create(wk[27]);
                    b = TOps.Create(wk[30]);
                    d = TOps.Create(wk[33]);
                    e01 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e01)));
                    o01 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o01)));
                }

                if (iy >= 1)
                {
                    float* wk = pw + ((iy - 1) * 9) + c;
                    a = TOps.Create(wk[0]);
                    b = TOps.Create(wk[3]);
                    d = TOps.Create(wk[6]);
                    e10 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e10)));
                    o10 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o10)));
                    a = TOps.Create(wk[27]);
                    b = TOps.Create(wk[30]);
                    d = TOps.Create(wk[33]);
                    e11 = TOps.FusedMultiplyAdd(e1, d, TOps.FusedMultiplyAdd(o, b, TOps.FusedMultiplyAdd(e, a, e11)));
                    o11 = TOps.FusedMultiplyAdd(o1, d, TOps.FusedMultiplyAdd(e1, b, TOps.FusedMultiplyAdd(o, a, o11)));
                }
            }
        }

        TOps.Store(t + (0 * TOps.Width), Pool<TOps, TV>(e00, o00, e10, o10, TOps.Create(ps[0]), two, lastOdd));
        TOps.Store(t + (1 * TOps.Width), Pool<TOps, TV>(e01, o01, e11, o11, TOps.Create(ps[1]), two, lastOdd));
    }

    // PReLU, then the maximum over the 2x2 window (one row when 'two' is false; the even column alone in the lanes
    // of 'lastOdd').
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Pool<TOps, TV>(TV e0, TV o0, TV e1, TV o1, TV slope, bool two, TV lastOdd)
        where TOps : IPNetVectors<TV>
        where TV : unmanaged
    {
        e0 = TOps.Prelu(e0, slope);
        o0 = TOps.Select(lastOdd, e0, TOps.Prelu(o0, slope));
        var m = TOps.Max(e0, o0);
        if (two)
        {
            e1 = TOps.Prelu(e1, slope);
            o1 = TOps.Select(lastOdd, e1, TOps.Prelu(o1, slope));
            m = TOps.Max(m, TOps.Max(e1, o1));
        }

        return m;
    }
}
