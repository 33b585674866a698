using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mtcnn.Cli.Bench;

/// <summary>What a benchmark ran on: processor, core count, OS, runtime and the vector width the detector's kernels use.</summary>
/// <param name="Cpu">Processor model (from /proc/cpuinfo where present, else the architecture).</param>
/// <param name="Cores">Logical processors available to the process.</param>
/// <param name="Os">Operating system description.</param>
/// <param name="Runtime">.NET runtime description.</param>
/// <param name="Simd">Kernel vector width the detector picks: Vector512, Vector256, Vector128 or Scalar (honours <c>MTCNN_SIMD</c>).</param>
/// <param name="Vector512Accelerated">Whether <see cref="Vector512"/> is hardware accelerated.</param>
/// <param name="Vector256Accelerated">Whether <see cref="Vector256"/> is hardware accelerated.</param>
internal sealed record MachineInfo(string Cpu, int Cores, string Os, string Runtime, string Simd, bool Vector512Accelerated, bool Vector256Accelerated)
{
    /// <summary>Describes this machine.</summary>
    public static MachineInfo Current()
    {
        bool v512 = Vector512.IsHardwareAccelerated;
        bool v256 = Vector256.IsHardwareAccelerated;
        return new MachineInfo(CpuModel(), Environment.ProcessorCount, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription, SimdInUse(v512, v256), v512, v256);
    }

    /// <summary>
    /// The detector's own rule (Mtcnn.Inference.Simd, internal): <c>MTCNN_SIMD=scalar|128|256|512</c> when supported, else
    /// the widest accelerated vector of 512, 256 and 128 bits, else scalar.
    /// </summary>
    private static string SimdInUse(bool v512, bool v256)
    {
        string? forced = Environment.GetEnvironmentVariable("MTCNN_SIMD");
        return forced switch
        {
            "scalar" => "Scalar",
            "128" when Vector128.IsHardwareAccelerated => "Vector128",
            "256" when v256 => "Vector256",
            "512" when v512 => "Vector512",
            _ => v512 ? "Vector512" : v256 ? "Vector256" : Vector128.IsHardwareAccelerated ? "Vector128" : "Scalar",
        };
    }

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal) || line.StartsWith("Model", StringComparison.Ordinal))
                    {
                        int colon = line.IndexOf(':', StringComparison.Ordinal);
                        if (colon > 0)
                        {
                            return string.Join(' ', line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
                        }
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Fall through to the architecture.
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
