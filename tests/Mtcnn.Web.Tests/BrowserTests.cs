using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Mtcnn.TestSupport;
using Xunit.Abstractions;

namespace Mtcnn.Web.Tests;

/// <summary>
/// The demo page in a real browser: the server runs on Kestrel at a free loopback port, and <c>e2e/e2e.mjs</c> drives
/// Debian's Chromium with playwright-core to upload the sample, wait for <c>#face-count</c> to read 1, switch views,
/// move a slider and run the webcam mode on Chromium's fake camera. Screenshots are saved under <c>artifacts/</c>
/// next to the test assembly. Skips with a message when node, npm packages or Chromium are missing
/// (<c>scripts/test.sh</c> installs them).
/// </summary>
public sealed class BrowserTests
{
    private readonly ITestOutputHelper output;

    public BrowserTests(ITestOutputHelper output)
    {
        this.output = output;
    }

    private static string E2eFolder => Path.Combine(SharedData.RepoRoot, "tests", "Mtcnn.Web.Tests", "e2e");

    [SkippableFact]
    [Trait("Category", "Browser")]
    public async Task Page_shows_the_sample_face_and_its_views_in_chromium()
    {
        string chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } c ? c : "/usr/bin/chromium";
        Skip.IfNot(File.Exists(chromium), $"{chromium} is missing: install the Debian package chromium (scripts/test.sh does) to run the browser test.");
        string? node = FindOnPath("node");
        Skip.If(node is null, "node is not installed: install Node.js 18 or later (scripts/test.sh does) to run the browser test.");
        int major = NodeMajorVersion(node!);
        Skip.If(major < 18, $"node {major} is too old for playwright-core: install Node.js 18 or later.");
        EnsurePackages();

        string artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        await using var app = await TestApp.StartKestrelAsync();
        var run = await RunAsync(node!, [Path.Combine(E2eFolder, "e2e.mjs"), app.BaseAddress!, Fixtures.SamplePath, artifacts], E2eFolder, TimeSpan.FromMinutes(3));
        output.WriteLine(run.StdOut);
        output.WriteLine(run.StdErr);
        Assert.True(run.ExitCode == 0, $"e2e.mjs exited with {run.ExitCode}:\n{run.StdOut}\n{run.StdErr}");

        var result = JsonDocument.Parse(run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.True(result.GetProperty("ok").GetBoolean());
        Assert.Equal(1, result.GetProperty("faces").GetInt32());
        Assert.Equal([512, 512], result.GetProperty("canvas").EnumerateArray().Select(e => e.GetInt32()));
        Assert.True(result.GetProperty("pnetCandidates").GetInt32() > result.GetProperty("rnetCandidates").GetInt32());
        Assert.Equal(0, result.GetProperty("facesAtMinFace300").GetInt32());
        Assert.True(result.GetProperty("webcamFrames").GetInt32() >= 3);
        foreach (var shot in result.GetProperty("screenshots").EnumerateArray())
        {
            string path = shot.GetString()!;
            Assert.True(new FileInfo(path).Length > 10_000, path);
            output.WriteLine($"screenshot: {path}");
        }
    }

    /// <summary>Installs playwright-core from the lock file when node_modules is missing; skips when that fails.</summary>
    private static void EnsurePackages()
    {
        if (File.Exists(Path.Combine(E2eFolder, "node_modules", "playwright-core", "package.json")))
        {
            return;
        }

        string? npm = FindOnPath("npm");
        Skip.If(npm is null, "playwright-core is not installed and npm is missing: run 'npm ci --prefix tests/Mtcnn.Web.Tests/e2e' (scripts/test.sh does).");
        var run = RunAsync(npm!, ["ci", "--no-audit", "--no-fund"], E2eFolder, TimeSpan.FromMinutes(3)).GetAwaiter().GetResult();
        Skip.If(run.ExitCode != 0, $"'npm ci' in {E2eFolder} failed (no registry access?): {run.StdErr.Trim()}");
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static int NodeMajorVersion(string node)
    {
        var run = RunAsync(node, ["--version"], E2eFolder, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        string v = run.StdOut.Trim().TrimStart('v');
        return int.TryParse(v.Split('.')[0], out int major) ? major : 0;
    }

    private static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(string file, string[] args, string workingDirectory, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} ran longer than {timeout.TotalSeconds} s.\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
