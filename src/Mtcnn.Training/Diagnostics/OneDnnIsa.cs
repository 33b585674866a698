using System.Runtime.Intrinsics.X86;

namespace Mtcnn.Training.Diagnostics;

/// <summary>
/// oneDNN's instruction-set limit, <c>DNNL_MAX_CPU_ISA</c> (or <c>ONEDNN_MAX_CPU_ISA</c>, which takes precedence).
/// oneDNN reads it from the C library's environment once, when it first generates a kernel, so it has to be set
/// before the process starts: a child process is the only way to try another value.
/// </summary>
public static class OneDnnIsa
{
    /// <summary>The variable mtcnn-train sets.</summary>
    public const string Variable = "DNNL_MAX_CPU_ISA";

    /// <summary>The newer spelling, which oneDNN prefers when both are set.</summary>
    public const string NewVariable = "ONEDNN_MAX_CPU_ISA";

    // oneDNN's x64 names from narrow to wide (its order is partial; for float32 convolutions this chain is what counts).
    private static readonly string[][] Ranked =
    [
        ["SSE41"],
        ["AVX"],
        ["AVX2"],
        ["AVX2_VNNI"],
        ["AVX2_VNNI_2"],
        ["AVX512_CORE"],
        ["AVX512_CORE_VNNI"],
        ["AVX512_CORE_BF16"],
        ["AVX10_1_512", "AVX512_CORE_FP16"],
        ["AVX10_1_512_AMX", "AVX512_CORE_AMX"],
        ["AVX10_1_512_AMX_FP16", "AVX512_CORE_AMX_FP16"],
        ["AVX10_2_512"],
        ["AVX10_2_512_AMX_2"],
    ];

    /// <summary>The limit in effect for this process's oneDNN (null: none, oneDNN uses all the CPU offers).</summary>
    public static string? Limit =>
        LibTorchNative.NativeEnvironmentVariable(NewVariable) is { Length: > 0 } v ? v
        : LibTorchNative.NativeEnvironmentVariable(Variable) is { Length: > 0 } d ? d : null;

    /// <summary>Which variable holds <see cref="Limit"/>, for messages.</summary>
    public static string LimitVariable => LibTorchNative.NativeEnvironmentVariable(NewVariable) is { Length: > 0 } ? NewVariable : Variable;

    /// <summary>
    /// The limits worth trying when the unlimited configuration fails, widest first: those the CPU supports (a limit
    /// at or above the CPU's widest behaves as no limit), down to SSE4.1. Float32 convolutions have AVX-512, AVX2, AVX
    /// and SSE4.1 kernels; the VNNI, BF16 and AMX levels between them add kernels for other data types only.
    /// </summary>
    /// <returns>ISA names for <see cref="Variable"/>.</returns>
    public static IReadOnlyList<string> Candidates()
    {
        var list = new List<string>();
        if (Avx512F.IsSupported && Avx512F.VL.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported)
        {
            list.Add("AVX512_CORE");
        }

        if (Avx2.IsSupported)
        {
            list.Add("AVX2");
        }

        if (Avx.IsSupported)
        {
            list.Add("AVX");
        }

        if (Sse41.IsSupported)
        {
            list.Add("SSE41");
        }

        return list;
    }

    /// <summary>The rank of an ISA name in the narrow-to-wide order (case-insensitive); null for names not listed, <c>ALL</c> or <c>DEFAULT</c>.</summary>
    /// <param name="name">An ISA name.</param>
    /// <returns>0 for SSE41, higher for wider.</returns>
    public static int? Rank(string name)
    {
        for (int i = 0; i < Ranked.Length; i++)
        {
            if (Ranked[i].Any(n => string.Equals(n, name.Trim(), StringComparison.OrdinalIgnoreCase)))
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>Whether a limit (null: none) lets oneDNN go wider than <paramref name="isa"/>.</summary>
    /// <param name="limit">The limit in effect, or null.</param>
    /// <param name="isa">A listed ISA name.</param>
    /// <returns>True when the limit is unset, unknown or wider.</returns>
    public static bool AllowsWiderThan(string? limit, string isa)
    {
        int bound = Rank(isa) ?? throw new ArgumentException($"'{isa}' is not a oneDNN ISA name this program knows.", nameof(isa));
        return limit is null || !(Rank(limit) is { } r) || r > bound;
    }
}
