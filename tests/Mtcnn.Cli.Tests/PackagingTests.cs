using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using System.Xml.Linq;
using Mtcnn.TestSupport;

namespace Mtcnn.Cli.Tests;

/// <summary>
/// The NuGet packages: the tool package installs with <c>dotnet tool install</c> from a local folder and its
/// <c>mtcnn</c> command detects the sample; the libraries pack with symbols. Packs the existing build output
/// (<c>--no-build</c>, same configuration as the tests) so that the CLI other tests are running is not rebuilt underneath
/// them. Slow (about a minute): filter with <c>--filter Category!=Packaging</c> to leave it out.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class PackagingTests
{
    private static string Configuration =>
        typeof(PackagingTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "Configuration").Value!;

    private static string Version =>
        XDocument.Load(Path.Combine(SharedData.RepoRoot, "Directory.Build.props")).Descendants("Version").First().Value;

    [Fact]
    public void Tool_package_installs_from_a_local_folder_and_detects_the_sample()
    {
        using var temp = CliHarness.TempFolder();
        string feed = Path.Combine(temp.Path, "feed");
        Pack("src/Mtcnn.Cli", feed);

        string nupkg = Path.Combine(feed, $"Mtcnn.NET.Cli.{Version}.nupkg");
        Assert.True(File.Exists(nupkg), string.Join(", ", Directory.GetFiles(feed)));
        Assert.True(File.Exists(Path.ChangeExtension(nupkg, ".snupkg")));
        using (var zip = ZipFile.OpenRead(nupkg))
        {
            var names = zip.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains(names, n => n.StartsWith("tools/net10.0/", StringComparison.Ordinal) && n.EndsWith("/libSkiaSharp.so", StringComparison.Ordinal));
            Assert.Contains(names, n => n.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal));
            Assert.Contains("README.md", names);
        }

        // A private package cache, so that a stale copy of this version from an earlier run cannot be picked up.
        string tools = Path.Combine(temp.Path, "tools");
        var install = Exec(
            Dotnet(),
            ["tool", "install", "Mtcnn.NET.Cli", "--tool-path", tools, "--add-source", feed, "--version", Version],
            SharedData.RepoRoot,
            ("NUGET_PACKAGES", Path.Combine(temp.Path, "packages")));
        Assert.True(install.ExitCode == 0, install.ToString());

        var run = Exec(Path.Combine(tools, "mtcnn"), ["detect", "samples/astronaut.png", "--format", "jsonl"], SharedData.RepoRoot);

        Assert.True(run.ExitCode == 0, run.ToString());
        var record = Assert.Single(run.JsonLines);
        var face = Assert.Single(Schema.AssertImageRecord(record, landmarks: true));
        Assert.True(Schema.Box(face).IntersectionOverUnion(CliHarness.SampleFace) >= 0.9f);
    }

    [SkippableFact]
    public void Library_packages_pack_with_symbols_and_dependencies()
    {
        // Mtcnn.NET packs the repository README; until it exists, packing cannot succeed.
        Skip.IfNot(File.Exists(Path.Combine(SharedData.RepoRoot, "README.md")), "README.md at the repository root is missing: Mtcnn.NET cannot be packed yet.");
        using var temp = CliHarness.TempFolder();
        string feed = Path.Combine(temp.Path, "feed");
        Pack("src/Mtcnn", feed);
        Pack("src/Mtcnn.Imaging", feed);

        foreach (string id in new[] { "Mtcnn.NET", "Mtcnn.NET.Imaging" })
        {
            Assert.True(File.Exists(Path.Combine(feed, $"{id}.{Version}.nupkg")), id);
            Assert.True(File.Exists(Path.Combine(feed, $"{id}.{Version}.snupkg")), id);
        }

        using var zip = ZipFile.OpenRead(Path.Combine(feed, $"Mtcnn.NET.Imaging.{Version}.nupkg"));
        using var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
        var dependencies = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).ToArray();
        Assert.Contains("Mtcnn.NET", dependencies);
        Assert.Contains("SkiaSharp", dependencies);
    }

    private static void Pack(string project, string output)
    {
        var pack = Exec(Dotnet(), ["pack", Path.Combine(SharedData.RepoRoot, project), "-c", Configuration, "--no-build", "-o", output], SharedData.RepoRoot);
        Assert.True(pack.ExitCode == 0, pack.ToString());
    }

    private static string Dotnet()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }

    private static CliRun Exec(string file, string[] args, string workingDirectory, params (string Name, string Value)[] environment)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }

        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(300_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} ran longer than 5 minutes.");
        }

        process.WaitForExit();
        return new CliRun(process.ExitCode, stdout.Result, stderr.Result);
    }
}
