using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Mtcnn.Inference;

/// <summary>
/// The few vector operations the kernels (convolution, Winograd transforms, pooling) need, over one vector type.
/// Kernels are written once as generic methods over a struct implementing this; the JIT specialises and inlines each
/// width.
/// </summary>
internal unsafe interface IVectorOps<TVector>
    where TVector : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Width { get; }

    static abstract TVector Load(float* p);

    static abstract void Store(float* p, TVector v);

    static abstract TVector Add(TVector a, TVector b);

    static abstract TVector Subtract(TVector a, TVector b);

    /// <summary><c>a * s + c</c>.</summary>
    static abstract TVector MultiplyAdd(TVector a, float s, TVector c);

    /// <summary><c>a * b + c</c>, rounded once.</summary>
    static abstract TVector FusedMultiplyAdd(TVector a, TVector b, TVector c);

    /// <summary>The float at <paramref name="p"/> in every lane (one broadcast load).</summary>
    static abstract TVector LoadBroadcast(float* p);

    /// <summary>PReLU: <c>max(x, 0) + slope * min(x, 0)</c>.</summary>
    static abstract TVector Prelu(TVector x, TVector slope);

    /// <summary>Lane-wise maximum (the platform's instruction: which operand a NaN yields is not specified).</summary>
    static abstract TVector Max(TVector a, TVector b);
}

/// <summary>512-bit vectors (16 floats).</summary>
internal readonly unsafe struct Ops512 : IVectorOps<Vector512<float>>
{
    public static int Width => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector512<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, float s, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, Vector512.Create(s), c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FusedMultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadBroadcast(float* p) => Vector512.Create(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Prelu(Vector512<float> x, Vector512<float> slope) =>
        Vector512.FusedMultiplyAdd(Vector512.MinNative(x, Vector512<float>.Zero), slope, Vector512.MaxNative(x, Vector512<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);
}

/// <summary>256-bit vectors (8 floats).</summary>
internal readonly unsafe struct Ops256 : IVectorOps<Vector256<float>>
{
    public static int Width => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector256<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, float s, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, Vector256.Create(s), c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FusedMultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBroadcast(float* p) => Vector256.Create(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Prelu(Vector256<float> x, Vector256<float> slope) =>
        Vector256.FusedMultiplyAdd(Vector256.MinNative(x, Vector256<float>.Zero), slope, Vector256.MaxNative(x, Vector256<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);
}

/// <summary>128-bit vectors (4 floats): SSE/AVX on x64 (FMA3 for the fused multiply-add), AdvSimd on ARM64 (FMLA).</summary>
internal readonly unsafe struct Ops128 : IVectorOps<Vector128<float>>
{
    public static int Width => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* p) => Vector128.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, Vector128<float> v) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, float s, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, Vector128.Create(s), c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FusedMultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadBroadcast(float* p) => Vector128.Create(*p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Prelu(Vector128<float> x, Vector128<float> slope) =>
        Vector128.FusedMultiplyAdd(Vector128.MinNative(x, Vector128<float>.Zero), slope, Vector128.MaxNative(x, Vector128<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.MaxNative(a, b);
}

/// <summary>Plain floats: the scalar reference path.</summary>
internal readonly unsafe struct OpsScalar : IVectorOps<float>
{
    public static int Width => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(float* p) => *p;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* p, float v) => *p = v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float a, float b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Subtract(float a, float b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MultiplyAdd(float a, float s, float c) => MathF.FusedMultiplyAdd(a, s, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FusedMultiplyAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadBroadcast(float* p) => *p;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Prelu(float x, float slope) => x < 0 ? x * slope : x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float a, float b) => Math.Max(a, b);
}
