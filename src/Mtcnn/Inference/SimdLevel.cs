using System.Runtime.Intrinsics;

namespace Mtcnn.Inference;

/// <summary>Which instruction set the inference kernels use. Chosen once per process from the hardware.</summary>
internal enum SimdLevel
{
    /// <summary>Plain scalar loops (any processor; also the reference the vector paths are tested against).</summary>
    Scalar,

    /// <summary>128-bit vectors (SSE/AVX on x64, AdvSimd/NEON on ARM64).</summary>
    Vector128,

    /// <summary>256-bit vectors (AVX2 + FMA on x64, or emulated where not accelerated).</summary>
    Vector256,

    /// <summary>512-bit vectors (AVX-512F).</summary>
    Vector512,
}

/// <summary>Kernel selection: the widest accelerated vector, overridable by <c>MTCNN_SIMD=scalar|128|256|512</c>.</summary>
internal static class Simd
{
    /// <summary>The level the detector uses by default.</summary>
    public static SimdLevel Best { get; } = Detect();

    /// <summary>Lanes per vector for a level: the channel blocking of packed weights and activations.</summary>
    public static int LanesOf(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => 16,
        SimdLevel.Vector256 => 8,
        SimdLevel.Vector128 => 4,
        _ => 8,
    };

    /// <summary>True when the level can run on this machine.</summary>
    public static bool IsSupported(SimdLevel level) => level switch
    {
        SimdLevel.Vector512 => Vector512.IsHardwareAccelerated,
        SimdLevel.Vector256 => Vector256.IsHardwareAccelerated,
        SimdLevel.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    private static SimdLevel Detect()
    {
        string? forced = Environment.GetEnvironmentVariable("MTCNN_SIMD");
        SimdLevel? wanted = forced switch
        {
            "scalar" => SimdLevel.Scalar,
            "128" => SimdLevel.Vector128,
            "256" => SimdLevel.Vector256,
            "512" => SimdLevel.Vector512,
            _ => null,
        };
        if (wanted is { } w && IsSupported(w))
        {
            return w;
        }

        if (Vector512.IsHardwareAccelerated)
        {
            return SimdLevel.Vector512;
        }

        if (Vector256.IsHardwareAccelerated)
        {
            return SimdLevel.Vector256;
        }

        return Vector128.IsHardwareAccelerated ? SimdLevel.Vector128 : SimdLevel.Scalar;
    }
}
