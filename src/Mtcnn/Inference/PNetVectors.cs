using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Mtcnn.Inference;

/// <summary>
/// What P-Net's fused first layer (<see cref="PNetFirstLayer"/>) and its head screen (<see cref="PNet"/>) need from one
/// vector width: the arithmetic is written once over this, the data movement (splitting interleaved pixels into column
/// planes, transposing pooled columns back to channels-last, summing the lanes of several vectors) has a version per
/// width, with x64 intrinsics (guarded by their <c>IsSupported</c>), ARM64 AdvSimd where it has a better instruction,
/// and the portable <c>Vector128/256/512</c> API or plain loops otherwise.
/// </summary>
internal unsafe interface IPNetVectors<TVector>
    where TVector : unmanaged
{
    /// <summary>Floats per vector.</summary>
    static abstract int Width { get; }

    /// <summary>Floats per pooled pixel the fused layer writes: its 10 channels rounded up to the lanes of the level.</summary>
    static abstract int PixelStride { get; }

    /// <summary>Pixels one <see cref="SplitPixels"/> call takes.</summary>
    static abstract int SplitBlock { get; }

    static abstract TVector Create(float value);

    static abstract TVector Load(float* p);

    static abstract void Store(float* p, TVector v);

    /// <summary><c>a * b + c</c>, rounded once.</summary>
    static abstract TVector FusedMultiplyAdd(TVector a, TVector b, TVector c);

    static abstract TVector Multiply(TVector a, TVector b);

    static abstract TVector Add(TVector a, TVector b);

    /// <summary>PReLU: <c>max(x, 0) + slope * min(x, 0)</c>.</summary>
    static abstract TVector Prelu(TVector x, TVector slope);

    /// <summary>Lane-wise maximum (the platform's instruction).</summary>
    static abstract TVector Max(TVector a, TVector b);

    /// <summary>Lanes of <paramref name="ifSet"/> where <paramref name="mask"/> is all ones, else of <paramref name="otherwise"/>.</summary>
    static abstract TVector Select(TVector mask, TVector ifSet, TVector otherwise);

    /// <summary>All ones in lane <paramref name="lane"/> (none when it is outside the vector), zeros elsewhere.</summary>
    static abstract TVector LaneMask(int lane);

    /// <summary>Bit k set where lane k of <paramref name="a"/> is at least that of <paramref name="b"/>.</summary>
    static abstract uint AtLeast(TVector a, TVector b);

    /// <summary>
    /// Splits <see cref="SplitBlock"/> interleaved pixels (3 floats each) at <paramref name="src"/> into column planes:
    /// channel c's even pixels to <c>dst + 2 c stride</c>, its odd ones to <c>dst + (2 c + 1) stride</c>.
    /// </summary>
    static abstract void SplitPixels(float* src, float* dst, int stride);

    /// <summary>
    /// <paramref name="t"/> holds 10 rows (channels) of <see cref="Width"/> pooled columns; writes the first
    /// <paramref name="count"/> columns as pixels of <see cref="PixelStride"/> floats (channels 10 and up zero).
    /// </summary>
    static abstract void Transpose(float* t, float* output, int count);

    /// <summary>Replaces <paramref name="dots"/>[0] by the vector whose lane k is the sum of the lanes of <paramref name="dots"/>[k] (k below <see cref="Width"/>; the others are clobbered).</summary>
    static abstract void SumLanes(TVector* dots);
}

/// <summary>Shared by the widths: the plain-loop forms of the data movement.</summary>
internal static unsafe class PNetVectorLoops
{
    public static void SplitPixels(float* src, float* dst, int stride, int pixels)
    {
        for (int x = 0; x < pixels; x++)
        {
            for (int c = 0; c < 3; c++)
            {
                dst[(((2 * c) + (x & 1)) * stride) + (x >> 1)] = src[(3 * x) + c];
            }
        }
    }

    public static void Transpose(float* t, float* output, int count, int width, int pixelStride)
    {
        for (int j = 0; j < count; j++)
        {
            float* o = output + (j * pixelStride);
            for (int k = 0; k < pixelStride; k++)
            {
                o[k] = k < 10 ? t[(k * width) + j] : 0f;
            }
        }
    }
}

/// <summary>512-bit vectors (AVX-512F): the permutes and 128-bit-lane shuffles of that instruction set.</summary>
internal readonly unsafe struct PNet512 : IPNetVectors<Vector512<float>>
{
    // Lane l of channel c's split vector: lanes 0-7 pixels 0, 2, .., 14 (even), lanes 8-15 pixels 1, 3, .., 15 (odd) of a
    // 16-pixel chunk; the first permute takes the floats of the first two loads, the second those of the third.
    private static readonly Vector512<int>[] First = new Vector512<int>[3];
    private static readonly Vector512<int>[] Second = new Vector512<int>[3];
    private static readonly Vector512<int> Evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

#pragma warning disable CA1810 // the index tables are computed, not literal
    static PNet512()
#pragma warning restore CA1810
    {
        var f1 = new int[16];
        var f2 = new int[16];
        for (int c = 0; c < 3; c++)
        {
            for (int l = 0; l < 16; l++)
            {
                int pixel = l < 8 ? 2 * l : (2 * (l - 8)) + 1, f = (3 * pixel) + c;
                f1[l] = f < 32 ? f : 0;
                f2[l] = f < 32 ? l : 16 + (f - 32);
            }

            First[c] = Vector512.Create(f1);
            Second[c] = Vector512.Create(f2);
        }
    }

    public static int Width => 16;

    public static int PixelStride => 16;

    public static int SplitBlock => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Create(float value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector512<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FusedMultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Prelu(Vector512<float> x, Vector512<float> slope) =>
        Vector512.FusedMultiplyAdd(Vector512.MinNative(x, Vector512<float>.Zero), slope, Vector512.MaxNative(x, Vector512<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Select(Vector512<float> mask, Vector512<float> ifSet, Vector512<float> otherwise) => Vector512.ConditionalSelect(mask, ifSet, otherwise);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LaneMask(int lane) => Vector512.Equals(Vector512.Create(lane), Vector512<int>.Indices).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint AtLeast(Vector512<float> a, Vector512<float> b) => (uint)Vector512.GreaterThanOrEqual(a, b).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SplitPixels(float* src, float* dst, int stride)
    {
        var v0 = Vector512.Load(src);
        var v1 = Vector512.Load(src + 16);
        var v2 = Vector512.Load(src + 32);
        for (int c = 0; c < 3; c++)
        {
            var z = Avx512F.PermuteVar16x32x2(Avx512F.PermuteVar16x32x2(v0, First[c], v1), Second[c], v2);
            float* e = dst + (2 * c * stride);
            z.GetLower().Store(e);
            z.GetUpper().Store(e + stride);
        }
    }

    public static void Transpose(float* t, float* output, int count)
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
    public static void SumLanes(Vector512<float>* dots)
    {
        // Pairwise sums of neighbouring lanes, four times, leave vector k's sum in lane k.
        for (int width = 16; width > 1; width /= 2)
        {
            for (int k = 0; k < width / 2; k++)
            {
                var lo = dots[2 * k];
                var hi = dots[(2 * k) + 1];
                dots[k] = Avx512F.PermuteVar16x32x2(lo, Evens, hi) + Avx512F.PermuteVar16x32x2(lo, Odds, hi);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
}

/// <summary>256-bit vectors (AVX2 on x64; plain loops for the data movement elsewhere).</summary>
internal readonly unsafe struct PNet256 : IPNetVectors<Vector256<float>>
{
    // Channel c of an 8-pixel chunk (24 floats in three loads): lanes 0-3 pixels 0, 2, 4, 6, lanes 4-7 pixels 1, 3, 5, 7.
    // Float f = 3 pixel + c is lane f % 8 of load f / 8: one permute per load, two blends.
    private static readonly Vector256<int>[] Index = new Vector256<int>[3];
    private static readonly Vector256<float>[] FromSecond = new Vector256<float>[3];
    private static readonly Vector256<float>[] FromThird = new Vector256<float>[3];

#pragma warning disable CA1810 // the index tables are computed, not literal
    static PNet256()
#pragma warning restore CA1810
    {
        var index = new int[8];
        var second = new float[8];
        var third = new float[8];
        for (int c = 0; c < 3; c++)
        {
            for (int l = 0; l < 8; l++)
            {
                int pixel = l < 4 ? 2 * l : (2 * (l - 4)) + 1, f = (3 * pixel) + c;
                index[l] = f % 8;
                second[l] = f / 8 == 1 ? BitConverter.Int32BitsToSingle(-1) : 0f;
                third[l] = f / 8 == 2 ? BitConverter.Int32BitsToSingle(-1) : 0f;
            }

            Index[c] = Vector256.Create(index);
            FromSecond[c] = Vector256.Create(second);
            FromThird[c] = Vector256.Create(third);
        }
    }

    public static int Width => 8;

    public static int PixelStride => 16;

    public static int SplitBlock => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Create(float value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector256<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FusedMultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Prelu(Vector256<float> x, Vector256<float> slope) =>
        Vector256.FusedMultiplyAdd(Vector256.MinNative(x, Vector256<float>.Zero), slope, Vector256.MaxNative(x, Vector256<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Select(Vector256<float> mask, Vector256<float> ifSet, Vector256<float> otherwise) => Vector256.ConditionalSelect(mask, ifSet, otherwise);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LaneMask(int lane) => Vector256.Equals(Vector256.Create(lane), Vector256<int>.Indices).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint AtLeast(Vector256<float> a, Vector256<float> b) => Vector256.GreaterThanOrEqual(a, b).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SplitPixels(float* src, float* dst, int stride)
    {
        if (!Avx2.IsSupported)
        {
            PNetVectorLoops.SplitPixels(src, dst, stride, 8);
            return;
        }

        var v0 = Vector256.Load(src);
        var v1 = Vector256.Load(src + 8);
        var v2 = Vector256.Load(src + 16);
        for (int c = 0; c < 3; c++)
        {
            var i = Index[c];
            var z = Avx.BlendVariable(Avx.BlendVariable(Avx2.PermuteVar8x32(v0, i), Avx2.PermuteVar8x32(v1, i), FromSecond[c]), Avx2.PermuteVar8x32(v2, i), FromThird[c]);
            float* e = dst + (2 * c * stride);
            z.GetLower().Store(e);
            z.GetUpper().Store(e + stride);
        }
    }

    public static void Transpose(float* t, float* output, int count)
    {
        if (!Avx.IsSupported)
        {
            PNetVectorLoops.Transpose(t, output, count, 8, 16);
            return;
        }

        // Channels 0-7: an 8x8 transpose (unpack pairs of rows, pairs of pairs as doubles, then the 128-bit halves).
        var r0 = Vector256.Load(t);
        var r1 = Vector256.Load(t + 8);
        var r2 = Vector256.Load(t + 16);
        var r3 = Vector256.Load(t + 24);
        var r4 = Vector256.Load(t + 32);
        var r5 = Vector256.Load(t + 40);
        var r6 = Vector256.Load(t + 48);
        var r7 = Vector256.Load(t + 56);
        var r8 = Vector256.Load(t + 64);
        var r9 = Vector256.Load(t + 72);
        var z = Vector256<float>.Zero;
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var t8 = Avx.UnpackLow(r8, r9);
        var t9 = Avx.UnpackHigh(r8, r9);

        // u_k (k < 4) holds, in 128-bit half q, channels 0-3 of pooled column 4q + k; u_(4 + k) channels 4-7; w_k
        // channels 8, 9 and two zeros.
        var u0 = Lo(t0, t2);
        var u1 = Hi(t0, t2);
        var u2 = Lo(t1, t3);
        var u3 = Hi(t1, t3);
        var u4 = Lo(t4, t6);
        var u5 = Hi(t4, t6);
        var u6 = Lo(t5, t7);
        var u7 = Hi(t5, t7);
        Span<Vector256<float>> low = [Avx.Permute2x128(u0, u4, 0x20), Avx.Permute2x128(u1, u5, 0x20), Avx.Permute2x128(u2, u6, 0x20), Avx.Permute2x128(u3, u7, 0x20),
            Avx.Permute2x128(u0, u4, 0x31), Avx.Permute2x128(u1, u5, 0x31), Avx.Permute2x128(u2, u6, 0x31), Avx.Permute2x128(u3, u7, 0x31)];
        var w0 = Lo(t8, z);
        var w1 = Hi(t8, z);
        var w2 = Lo(t9, z);
        var w3 = Hi(t9, z);
        Span<Vector128<float>> high = [w0.GetLower(), w1.GetLower(), w2.GetLower(), w3.GetLower(), w0.GetUpper(), w1.GetUpper(), w2.GetUpper(), w3.GetUpper()];
        for (int j = 0; j < count; j++)
        {
            float* o = output + (j * 16);
            low[j].Store(o);
            high[j].Store(o + 8);
            Vector128<float>.Zero.Store(o + 12);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SumLanes(Vector256<float>* dots)
    {
        if (!Avx.IsSupported)
        {
            dots[0] = Vector256.Create(
                Vector256.Sum(dots[0]), Vector256.Sum(dots[1]), Vector256.Sum(dots[2]), Vector256.Sum(dots[3]),
                Vector256.Sum(dots[4]), Vector256.Sum(dots[5]), Vector256.Sum(dots[6]), Vector256.Sum(dots[7]));
            return;
        }

        // Two rounds of horizontal adds leave, per 128-bit half, the sums of that half of vectors 4m .. 4m + 3; adding
        // the halves finishes them.
        var g0 = Avx.HorizontalAdd(Avx.HorizontalAdd(dots[0], dots[1]), Avx.HorizontalAdd(dots[2], dots[3]));
        var g1 = Avx.HorizontalAdd(Avx.HorizontalAdd(dots[4], dots[5]), Avx.HorizontalAdd(dots[6], dots[7]));
        dots[0] = Avx.Permute2x128(g0, g1, 0x20) + Avx.Permute2x128(g0, g1, 0x31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Lo(Vector256<float> a, Vector256<float> b) => Avx.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Hi(Vector256<float> a, Vector256<float> b) => Avx.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();
}

/// <summary>
/// 128-bit vectors: SSE/AVX on x64, AdvSimd on ARM64 (three-register table lookups split the pixels, zips and pairwise
/// adds do the rest), the portable API elsewhere.
/// </summary>
internal readonly unsafe struct PNet128 : IPNetVectors<Vector128<float>>
{
    // Channel c of a 4-pixel chunk (12 floats in three loads): lanes 0, 1 pixels 0, 2, lanes 2, 3 pixels 1, 3. Float
    // f = 3 pixel + c is lane f % 4 of load f / 4 (x64 and portable: a shuffle per load and two selects) or bytes 4 f to
    // 4 f + 3 of the 48-byte table (ARM64: one lookup).
    private static readonly Vector128<int>[] Index = new Vector128<int>[3];
    private static readonly Vector128<float>[] FromSecond = new Vector128<float>[3];
    private static readonly Vector128<float>[] FromThird = new Vector128<float>[3];
    private static readonly Vector128<byte>[] TableBytes = new Vector128<byte>[3];

#pragma warning disable CA1810 // the index tables are computed, not literal
    static PNet128()
#pragma warning restore CA1810
    {
        var index = new int[4];
        var second = new float[4];
        var third = new float[4];
        var bytes = new byte[16];
        for (int c = 0; c < 3; c++)
        {
            for (int l = 0; l < 4; l++)
            {
                int pixel = l < 2 ? 2 * l : (2 * (l - 2)) + 1, f = (3 * pixel) + c;
                index[l] = f % 4;
                second[l] = f / 4 == 1 ? BitConverter.Int32BitsToSingle(-1) : 0f;
                third[l] = f / 4 == 2 ? BitConverter.Int32BitsToSingle(-1) : 0f;
                for (int b = 0; b < 4; b++)
                {
                    bytes[(4 * l) + b] = (byte)((4 * f) + b);
                }
            }

            Index[c] = Vector128.Create(index);
            FromSecond[c] = Vector128.Create(second);
            FromThird[c] = Vector128.Create(third);
            TableBytes[c] = Vector128.Create(bytes);
        }
    }

    public static int Width => 4;

    public static int PixelStride => 12;

    public static int SplitBlock => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Create(float value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* p) => Vector128.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector128<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FusedMultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Prelu(Vector128<float> x, Vector128<float> slope) =>
        Vector128.FusedMultiplyAdd(Vector128.MinNative(x, Vector128<float>.Zero), slope, Vector128.MaxNative(x, Vector128<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.MaxNative(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Select(Vector128<float> mask, Vector128<float> ifSet, Vector128<float> otherwise) => Vector128.ConditionalSelect(mask, ifSet, otherwise);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LaneMask(int lane) => Vector128.Equals(Vector128.Create(lane), Vector128<int>.Indices).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint AtLeast(Vector128<float> a, Vector128<float> b) => Vector128.GreaterThanOrEqual(a, b).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SplitPixels(float* src, float* dst, int stride)
    {
        // Two 4-pixel chunks, each [even, even, odd, odd] per channel, then their halves paired up.
        for (int c = 0; c < 3; c++)
        {
            var a = Chunk(src, c);
            var b = Chunk(src + 12, c);
            float* e = dst + (2 * c * stride);
            Lo64(a, b).Store(e);
            Hi64(a, b).Store(e + stride);
        }
    }

    public static void Transpose(float* t, float* output, int count)
    {
        // Three 4x4 transposes: channels 0-3, 4-7, and 8, 9 with two zero rows.
        var z = Vector128<float>.Zero;
        Span<Vector128<float>> columns = stackalloc Vector128<float>[12];
        for (int q = 0; q < 3; q++)
        {
            float* r = t + (16 * q);
            var r0 = Vector128.Load(r);
            var r1 = Vector128.Load(r + 4);
            var r2 = q < 2 ? Vector128.Load(r + 8) : z;
            var r3 = q < 2 ? Vector128.Load(r + 12) : z;
            var t0 = ZipLo(r0, r1);
            var t1 = ZipHi(r0, r1);
            var t2 = ZipLo(r2, r3);
            var t3 = ZipHi(r2, r3);
            columns[q] = Lo64(t0, t2);
            columns[3 + q] = Hi64(t0, t2);
            columns[6 + q] = Lo64(t1, t3);
            columns[9 + q] = Hi64(t1, t3);
        }

        for (int j = 0; j < count; j++)
        {
            float* o = output + (j * 12);
            columns[3 * j].Store(o);
            columns[(3 * j) + 1].Store(o + 4);
            columns[(3 * j) + 2].Store(o + 8);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SumLanes(Vector128<float>* dots) =>
        dots[0] = PairwiseAdd(PairwiseAdd(dots[0], dots[1]), PairwiseAdd(dots[2], dots[3]));

    // Channel c of the 4 pixels at src: [pixel 0, pixel 2, pixel 1, pixel 3].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Chunk(float* src, int c)
    {
        var v0 = Vector128.Load(src);
        var v1 = Vector128.Load(src + 4);
        var v2 = Vector128.Load(src + 8);
        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.VectorTableLookup((v0.AsByte(), v1.AsByte(), v2.AsByte()), TableBytes[c]).AsSingle();
        }

        var i = Index[c];
        if (Avx.IsSupported)
        {
            return Sse41.BlendVariable(Sse41.BlendVariable(Avx.PermuteVar(v0, i), Avx.PermuteVar(v1, i), FromSecond[c]), Avx.PermuteVar(v2, i), FromThird[c]);
        }

        return Vector128.ConditionalSelect(FromThird[c], Vector128.Shuffle(v2, i),
            Vector128.ConditionalSelect(FromSecond[c], Vector128.Shuffle(v1, i), Vector128.Shuffle(v0, i)));
    }

    // [a0, b0, a1, b1] and [a2, b2, a3, b3].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> ZipLo(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.UnpackLow(a, b)
        : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.ZipLow(a, b)
        : Vector128.Create(a[0], b[0], a[1], b[1]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> ZipHi(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.UnpackHigh(a, b)
        : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.ZipHigh(a, b)
        : Vector128.Create(a[2], b[2], a[3], b[3]);

    // [a0, a1, b0, b1] and [a2, a3, b2, b3].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Lo64(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.MoveLowToHigh(a, b)
        : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.ZipLow(a.AsUInt64(), b.AsUInt64()).AsSingle()
        : Vector128.Create(a.GetLower(), b.GetLower());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Hi64(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.MoveHighToLow(b, a)
        : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.ZipHigh(a.AsUInt64(), b.AsUInt64()).AsSingle()
        : Vector128.Create(a.GetUpper(), b.GetUpper());

    // [a0 + a1, a2 + a3, b0 + b1, b2 + b3].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> PairwiseAdd(Vector128<float> a, Vector128<float> b) =>
        Sse3.IsSupported ? Sse3.HorizontalAdd(a, b)
        : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.AddPairwise(a, b)
        : Vector128.Create(a[0] + a[1], a[2] + a[3], b[0] + b[1], b[2] + b[3]);
}
