using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mtcnn.Inference;

/// <summary>
/// P-Net's first layer (3x3, 3 to 10 channels, PReLU) fused with its 2x2 max pooling, with the 512-bit lanes over
/// pooled columns instead of output channels: the channel-vectorised kernel of <see cref="ConvLayer"/> fills only 10 of
/// 16 lanes here, this one fills all of them and does 37.5 % fewer multiply-adds.
/// </summary>
/// <remarks>
/// <para>
/// The interleaved input rows are split into planes of even and odd columns per channel as the pooled rows reach
/// them (a ring of four rows, which stays in the cache). Pooled column j reads conv columns 2j and 2j + 1, whose windows start at input columns 2j
/// and 2j + 1: even column 2j + kx is E[j], O[j], E[j + 1] for kx = 0, 1, 2 and odd column 2j + 1 + kx is O[j],
/// E[j + 1], O[j + 1], so every vector is a plain load. A block of 16 pooled columns and two conv rows keeps 20
/// accumulators (5 channels x even/odd x 2 rows) and goes through the channels in two halves; PReLU, the 2x2 maximum
/// and a 16x16 transpose back to channels-last (lanes 10 to 15 zero) finish it.
/// </para>
/// <para>
/// Ceil-mode pooling: a last conv row without a partner (odd height) pools alone, as does the last conv column of an
/// odd width. The sums run in a different order than <see cref="ConvLayer"/>'s, so results differ from it by float
/// rounding only; they do not depend on where a band starts.
/// </para>
/// </remarks>
internal sealed class PNetFirstLayer
{
    private const int Outputs = 10;

    private readonly float[] weights; // [output][ky][kx][channel]
    private readonly float[] bias;
    private readonly float[] slopes;

    public PNetFirstLayer(ReadOnlySpan<float> weightOihw, ReadOnlySpan<float> biasValues, ReadOnlySpan<float> preluSlopes)
    {
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

    /// <summary>Whether this kernel can stand in for <paramref name="conv1"/> (P-Net's shape, AVX-512).</summary>
    public static bool Fits(ConvLayer conv1) =>
        conv1.Level == SimdLevel.Vector512 && Avx512F.IsSupported && conv1.Cout == Outputs && conv1.Cin == 3 && conv1.K == 3
        && conv1.InputChannelStride == 3 && conv1.HasPrelu && conv1.OutputChannelStride == 16;

    /// <summary>Floats between consecutive column planes for a band <paramref name="width"/> pixels wide.</summary>
    public static int PlaneStride(int width) => ((((width + 1) / 2) + 17 + 15) / 16) * 16;

    /// <summary>Floats of scratch <see cref="Forward"/> needs for a band <paramref name="width"/> pixels wide: four split rows.</summary>
    public static int ScratchSize(int width) => (4 * 6 * PlaneStride(width)) + 32;

    /// <summary>
    /// Runs conv1, PReLU and the 2x2 pooling over a band of <paramref name="rows"/> x <paramref name="width"/> pixels
    /// (interleaved, 3 floats a pixel): writes the <paramref name="pooledHeight"/> x <paramref name="pooledWidth"/>
    /// pooled map channels-last (16 floats a pixel, rows <paramref name="pooledWidth"/> pixels apart) to
    /// <paramref name="output"/>. Input rows are split into their column planes as the pooled rows reach them, four at
    /// a time in <paramref name="scratch"/>, so the planes stay in the cache.
    /// </summary>
    public unsafe void Forward(ReadOnlySpan<float> input, int rows, int width, int pooledHeight, int pooledWidth, Span<float> scratch, Span<float> output)
    {
        int stride = PlaneStride(width), convRows = rows - 2, convWidth = width - 2;
        if (input.Length < rows * width * 3 || scratch.Length < ScratchSize(width) || output.Length < pooledHeight * pooledWidth * 16
            || (pooledHeight - 1) * 2 >= convRows || (pooledWidth - 1) * 2 >= convWidth)
        {
            throw new ArgumentException("P-Net first layer: band, scratch or output buffer does not match the sizes.");
        }

        // Lane l of channel c's vector: lanes 0-7 pixels 0, 2, .., 14 (even), lanes 8-15 pixels 1, 3, .., 15 (odd) of a
        // 16-pixel chunk; the first permute takes the floats of the first two loads, the second those of the third.
        var first = stackalloc Vector512<int>[3];
        var second = stackalloc Vector512<int>[3];
        var f1 = stackalloc int[16];
        var f2 = stackalloc int[16];
        for (int c = 0; c < 3; c++)
        {
            for (int l = 0; l < 16; l++)
            {
                int pixel = l < 8 ? 2 * l : (2 * (l - 8)) + 1, f = (3 * pixel) + c;
                f1[l] = f < 32 ? f : 0;
                f2[l] = f < 32 ? l : 16 + (f - 32);
            }

            first[c] = Vector512.Load(f1);
            second[c] = Vector512.Load(f2);
        }

        var t = stackalloc float[16 * 16];
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
                    Split(pin + ((long)split * width * 3), width, ring + ((split & 3) * 6 * stride), stride, first, second);
                }

                for (int iy = 0; iy < 4; iy++)
                {
                    rowAt[iy] = ring + ((((2 * py) + iy) & 3) * 6 * stride);
                }

                float* o = pout + ((long)py * pooledWidth * 16);
                for (int j0 = 0; j0 < pooledWidth; j0 += 16)
                {
                    // The last conv column of an odd width has no partner: its pooled column takes the even value only.
                    int lone = (convWidth & 1) == 1 && pooledWidth * 2 > convWidth ? pooledWidth - 1 - j0 : -1;
                    var lastOdd = lone is >= 0 and < 16 ? Vector512.Equals(Vector512.Create(lone), Iota) : Vector512<int>.Zero;
                    Half(rowAt, j0, stride, pw, pbias, pslope, n == 2, lastOdd.AsSingle(), t);
                    Half(rowAt, j0, stride, pw + (5 * 27), pbias + 5, pslope + 5, n == 2, lastOdd.AsSingle(), t + (5 * 16));
                    Transpose(t, o + ((long)j0 * 16), Math.Min(16, pooledWidth - j0));
                }
            }
        }
    }

    // One input row (3 floats a pixel) into its planes: channel c, parity p at dst + (2 c + p) * stride.
    private static unsafe void Split(float* src, int width, float* dst, int stride, Vector512<int>* first, Vector512<int>* second)
    {
        int x = 0;
        for (; x + 16 <= width; x += 16)
        {
            var v0 = Vector512.Load(src + (3 * x));
            var v1 = Vector512.Load(src + (3 * x) + 16);
            var v2 = Vector512.Load(src + (3 * x) + 32);
            for (int c = 0; c < 3; c++)
            {
                var z = Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(v0, first[c], v1), second[c], v2);
                float* e = dst + (2 * c * stride) + (x / 2);
                z.GetLower().Store(e);
                z.GetUpper().Store(e + stride);
            }
        }

        for (; x < width; x++)
        {
            for (int c = 0; c < 3; c++)
            {
                dst[(((2 * c) + (x & 1)) * stride) + (x >> 1)] = src[(3 * x) + c];
            }
        }
    }

    private static readonly Vector512<int> Iota = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    // Five output channels of one block: pooled columns j0 .. j0 + 15 from the split input rows, written as five
    // vectors of pooled columns at t.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Half(float** rows, int j0, int stride, float* pw, float* pb, float* ps, bool two, Vector512<float> lastOdd, float* t)
    {
            Vector512<float> e00 = Vector512.Create(pb[0]), o00 = e00, e10 = e00, o10 = e00;
            Vector512<float> e01 = Vector512.Create(pb[1]), o01 = e01, e11 = e01, o11 = e01;
            Vector512<float> e02 = Vector512.Create(pb[2]), o02 = e02, e12 = e02, o12 = e02;
            Vector512<float> e03 = Vector512.Create(pb[3]), o03 = e03, e13 = e03, o13 = e03;
            Vector512<float> e04 = Vector512.Create(pb[4]), o04 = e04, e14 = e04, o14 = e04;
            Vector512<float> a, b, d;
            int inputRows = two ? 4 : 3;
            for (int c = 0; c < 3; c++)
            {
                for (int iy = 0; iy < inputRows; iy++)
                {
                    float* pe = rows[iy] + (2 * c * stride) + j0;
                    var e = Vector512.Load(pe);
                    var e1 = Vector512.Load(pe + 1);
                    var o = Vector512.Load(pe + stride);
                    var o1 = Vector512.Load(pe + stride + 1);
                    if (iy <= 2)
                    {
                        float* wk = pw + (iy * 9) + c;
                        a = Vector512.Create(wk[0]);
                        b = Vector512.Create(wk[3]);
                        d = Vector512.Create(wk[6]);
                        e00 = Vector512.FusedMultiplyAdd(e1, d, Vector512.FusedMultiplyAdd(o, b, Vector512.FusedMultiplyAdd(e, a, e00)));
                        o00 = Vector512.FusedMultiplyAdd(o1, d, Vector512.FusedMultiplyAdd(e1, b, Vector512.FusedMultiplyAdd(o, a, o00)));
                        a = Vector512.Create(wk[27]);
                        b = Vector512.Create(wk[30]);
                        d = Vector512.Create(wk[33]);
                        e01 = Vector512.FusedMultiplyAdd(e1, d, Vector512.FusedMultiplyAdd(o, b, Vector512.FusedMultiplyAdd(e, a, e01)));
                        o01 = Vector512.FusedMultiplyAdd(o1, d, Vector512.FusedMultiplyAdd(e1, b, Vector512.FusedMultiplyAdd(o, a, o01)));
                        a = Vector512.Create(wk[54]);
                        b = Vector512.Create(wk[57]);
                        d = Vector512.Create(wk[60]);
                        e02 = Vector512.FusedMultiplyAdd(e1, d, Vector512.FusedMultiplyAdd(o, b, Vector512.FusedMultiplyAdd(e, a, e02)));
                        o02 = Vector512.FusedMultiplyAdd(o1, d, Vector512.FusedMultiplyAdd(e1, b, Vector512.FusedMultiplyAdd(o, a, o02)));
                        a = Vector512.Create(wk[81]);
                        b = Vector512.Create(wk[84]);
                        d = Vector512.Create(wk[87]);
                        e03 = Vector512.FusedMultiplyAdd(e1, d, Vector512.FusedMultiplyAdd(o, b, Vector512.FusedMultiplyAdd(e, a, e03)));
                        o03 = Vector512.FusedMultiplyAdd(o1, d, Vector512.FusedMultiplyAdd(e1, b, Vector512.FusedMultiplyAdd(o, a, o03)));
                        a = Vector512.Create(wk[108]);
                        b = Vector512.Create(wk[111]);
                        d = Vector512.Create(wk[114]);
                        e04 = Vector512.FusedMultiplyAdd(e1, d, Vector512.FusedMultiplyAdd(o, b, Vector512.FusedMultiplyAdd(e, a, e04)));
                        o04 = Vector512.FusedMultiplyAdd(o1, d, Vector512.FusedMultiplyAdd(e1, b, Vector512.FusedMultiplyAdd(o, a, o04)));
                    }

                    if (iy >= 1)
                    {
                        float* wk = pw + ((iy - 1) * 9) + c;
                        a = Vector512.Create(wk[0]);
                        b = Vector512.Create(wk[3]);
                        d = Vector512.Create(wk[6]);
                        e10 = Vector512.FusedMultiplyAdd(e1, d, Vector512.FusedMultiplyAdd(o, b, Vector512.FusedMultiplyAdd(e, a, e10)));
                        o10 = Vector512.FusedMultiplyAdd(o1, d, Vector512.FusedMultiplyAdd(e1, b, Vector512.FusedMultiplyAdd(o, a, o10)));
                        a = Vector512.Create(wk[27]);
                        b = Vector512.Create(wk[30]);
                        d = Vector512.Create(wk[33]);
                        e11 = Vector512.FusedMultiplyAdd(e1, d, Vector512.FusedMultiplyAdd(o, b, Vector512.FusedMultiplyAdd(e, a, e11)));
                        o11 = Vector512.FusedMultiplyAdd(o1, d, Vector512.FusedMultiplyAdd(e1, b, Vector512.FusedMultiplyAdd(o, a, o11)));
                        a = Vector512.Create(wk[54]);
                        b = Vector512.Create(wk[57]);
                        d = Vector512.Create(wk[60]);
                        e12 = Vector512.FusedMultiplyAdd(e1, d, Vector512.FusedMultiplyAdd(o, b, Vector512.FusedMultiplyAdd(e, a, e12)));
                        o12 = Vector512.FusedMultiplyAdd(o1, d, Vector512.FusedMultiplyAdd(e1, b, Vector512.FusedMultiplyAdd(o, a, o12)));
                        a = Vector512.Create(wk[81]);
                        b = Vector512.Create(wk[84]);
                        d = Vector512.Create(wk[87]);
                        e13 = Vector512.FusedMultiplyAdd(e1, d, Vector512.FusedMultiplyAdd(o, b, Vector512.FusedMultiplyAdd(e, a, e13)));
                        o13 = Vector512.FusedMultiplyAdd(o1, d, Vector512.FusedMultiplyAdd(e1, b, Vector512.FusedMultiplyAdd(o, a, o13)));
                        a = Vector512.Create(wk[108]);
                        b = Vector512.Create(wk[111]);
                        d = Vector512.Create(wk[114]);
                        e14 = Vector512.FusedMultiplyAdd(e1, d, Vector512.FusedMultiplyAdd(o, b, Vector512.FusedMultiplyAdd(e, a, e14)));
                        o14 = Vector512.FusedMultiplyAdd(o1, d, Vector512.FusedMultiplyAdd(e1, b, Vector512.FusedMultiplyAdd(o, a, o14)));
                    }
                }
            }

            Store(t + (0 * 16), Pool(e00, o00, e10, o10, Vector512.Create(ps[0]), two, lastOdd));
            Store(t + (1 * 16), Pool(e01, o01, e11, o11, Vector512.Create(ps[1]), two, lastOdd));
            Store(t + (2 * 16), Pool(e02, o02, e12, o12, Vector512.Create(ps[2]), two, lastOdd));
            Store(t + (3 * 16), Pool(e03, o03, e13, o13, Vector512.Create(ps[3]), two, lastOdd));
            Store(t + (4 * 16), Pool(e04, o04, e14, o14, Vector512.Create(ps[4]), two, lastOdd));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(float* t, Vector512<float> v) => v.Store(t);

    // PReLU, then the maximum over the 2x2 window (one row when 'two' is false; the even column alone in the lanes
    // of 'lastOdd').
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pool(Vector512<float> e0, Vector512<float> o0, Vector512<float> e1, Vector512<float> o1, Vector512<float> slope,
        bool two, Vector512<float> lastOdd)
    {
        e0 = Prelu(e0, slope);
        o0 = Vector512.ConditionalSelect(lastOdd, e0, Prelu(o0, slope));
        var m = Vector512.MaxNative(e0, o0);
        if (two)
        {
            e1 = Prelu(e1, slope);
            o1 = Vector512.ConditionalSelect(lastOdd, e1, Prelu(o1, slope));
            m = Vector512.MaxNative(m, Vector512.MaxNative(e1, o1));
        }

        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Prelu(Vector512<float> x, Vector512<float> slope) =>
        Vector512.FusedMultiplyAdd(Vector512.MinNative(x, Vector512<float>.Zero), slope, Vector512.MaxNative(x, Vector512<float>.Zero));

    // t holds 16 rows (channels; rows 10-15 zero) of 16 pooled columns; writes the first 'count' columns as pixels of
    // 16 channels.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Transpose(float* t, float* output, int count)
    {
        // 4x4 blocks of 4x4: unpack pairs of rows, then pairs of pairs (as doubles), then swap 128-bit lanes twice.
        var r0 = Vector512.Load(t);
        var r1 = Vector512.Load(t + 16);
        var r2 = Vector512.Load(t + 32);
        var r3 = Vector512.Load(t + 48);
        var r4 = Vector512.Load(t + 64);
        var r5 = Vector512.Load(t + 80);
        var r6 = Vector512.Load(t + 96);
        var r7 = Vector512.Load(t + 112);
        var r8 = Vector512.Load(t + 128);
        var r9 = Vector512.Load(t + 144);
        var z = Vector512<float>.Zero;
        var t0 = Avx512F.UnpackLow(r0, r1);
        var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3);
        var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5);
        var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7);
        var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9);
        var t9 = Avx512F.UnpackHigh(r8, r9);

        // Rows 10-15 are zero: their unpacks are zero.
        var u0 = Lo(t0, t2);
        var u1 = Hi(t0, t2);
        var u2 = Lo(t1, t3);
        var u3 = Hi(t1, t3);
        var u4 = Lo(t4, t6);
        var u5 = Hi(t4, t6);
        var u6 = Lo(t5, t7);
        var u7 = Hi(t5, t7);
        var u8 = Lo(t8, z);
        var u9 = Hi(t8, z);
        var u10 = Lo(t9, z);
        var u11 = Hi(t9, z);

        // u_k (k < 4) holds, in each 128-bit lane q, channels 0-3 of pooled column 4q + k; u_(4 + k) channels 4-7,
        // u_(8 + k) channels 8-11 (12-15 are zero).
        var v0 = Avx512F.Shuffle4x128(u0, u4, 0x88);
        var v1 = Avx512F.Shuffle4x128(u1, u5, 0x88);
        var v2 = Avx512F.Shuffle4x128(u2, u6, 0x88);
        var v3 = Avx512F.Shuffle4x128(u3, u7, 0x88);
        var v4 = Avx512F.Shuffle4x128(u0, u4, 0xDD);
        var v5 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        var v6 = Avx512F.Shuffle4x128(u2, u6, 0xDD);
        var v7 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        var v8 = Avx512F.Shuffle4x128(u8, z, 0x88);
        var v9 = Avx512F.Shuffle4x128(u9, z, 0x88);
        var v10 = Avx512F.Shuffle4x128(u10, z, 0x88);
        var v11 = Avx512F.Shuffle4x128(u11, z, 0x88);
        var v12 = Avx512F.Shuffle4x128(u8, z, 0xDD);
        var v13 = Avx512F.Shuffle4x128(u9, z, 0xDD);
        var v14 = Avx512F.Shuffle4x128(u10, z, 0xDD);
        var v15 = Avx512F.Shuffle4x128(u11, z, 0xDD);

        Span<Vector512<float>> columns =
        [
            Avx512F.Shuffle4x128(v0, v8, 0x88), Avx512F.Shuffle4x128(v1, v9, 0x88), Avx512F.Shuffle4x128(v2, v10, 0x88), Avx512F.Shuffle4x128(v3, v11, 0x88),
            Avx512F.Shuffle4x128(v4, v12, 0x88), Avx512F.Shuffle4x128(v5, v13, 0x88), Avx512F.Shuffle4x128(v6, v14, 0x88), Avx512F.Shuffle4x128(v7, v15, 0x88),
            Avx512F.Shuffle4x128(v0, v8, 0xDD), Avx512F.Shuffle4x128(v1, v9, 0xDD), Avx512F.Shuffle4x128(v2, v10, 0xDD), Avx512F.Shuffle4x128(v3, v11, 0xDD),
            Avx512F.Shuffle4x128(v4, v12, 0xDD), Avx512F.Shuffle4x128(v5, v13, 0xDD), Avx512F.Shuffle4x128(v6, v14, 0xDD), Avx512F.Shuffle4x128(v7, v15, 0xDD),
        ];
        for (int j = 0; j < count; j++)
        {
            columns[j].Store(output + (j * 16));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
}
