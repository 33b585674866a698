using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Mtcnn.TestSupport;

namespace Mtcnn.Cli.Tests;

/// <summary>What one run of the command produced.</summary>
internal sealed record CliRun(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Non-empty stdout lines.</summary>
    public string[] Lines => StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Non-empty stderr lines.</summary>
    public string[] ErrorLines => StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The stdout lines parsed as JSON objects (format jsonl).</summary>
    public JsonElement[] JsonLines => Lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}";
}

/// <summary>
/// Runs the real <c>mtcnn</c> program (the CLI project's build output, <c>dotnet Mtcnn.Cli.dll</c>) as a child process,
/// or the same entry point in-process with string streams.
/// </summary>
internal static class CliHarness
{
    private static readonly Lazy<string> Dll = new(() => CliLocator.CliDll(typeof(CliHarness).Assembly));

    /// <summary>The repository's bundled sample image (absolute path).</summary>
    public static string Sample => Path.Combine(SharedData.RepoRoot, "samples", "astronaut.png");

    /// <summary>The sample's face as given in the task: [x1, y1, x2, y2].</summary>
    public static BoundingBox SampleFace { get; } = new(181.05f, 62.16f, 267.75f, 172.05f);

    /// <summary>The CLI assembly that is run.</summary>
    public static string DllPath => Dll.Value;

    /// <summary>The dotnet executable that runs the CLI.</summary>
    public static string DotnetHostPath => CliLocator.DotnetHost();

    /// <summary>Runs the program as a child process; fails the test after <paramref name="timeoutSeconds"/>.</summary>
    public static CliRun Run(IEnumerable<string> args, string? stdin = null, string? workingDirectory = null, int timeoutSeconds = 120) =>
        Run([], args, stdin, workingDirectory, timeoutSeconds);

    /// <summary>
    /// As <see cref="Run(IEnumerable{string}, string?, string?, int)"/>, but as an unprivileged user: when the tests run
    /// as root (as in CI), the program runs as <c>nobody</c> through <c>setpriv</c>, so that file permissions apply to it.
    /// Null when that is not possible here (no setpriv; the caller skips).
    /// </summary>
    public static CliRun? RunUnprivileged(IEnumerable<string> args)
    {
        if (Environment.UserName != "root")
        {
            return Run(args);
        }

        string? setpriv = new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(System.IO.File.Exists);
        return setpriv is null
            ? null
            : Run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp"], args, null, "/tmp", 120);
    }

    private static CliRun Run(string[] prefix, IEnumerable<string> args, string? stdin, string? workingDirectory, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo(prefix.Length > 0 ? prefix[0] : CliLocator.DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? SharedData.RepoRoot,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string p in prefix.Skip(1))
        {
            psi.ArgumentList.Add(p);
        }

        if (prefix.Length > 0)
        {
            psi.ArgumentList.Add(CliLocator.DotnetHost());
        }

        psi.ArgumentList.Add(DllPath);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("MTCNN_DEBUG");
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start dotnet.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"mtcnn {string.Join(' ', args)} ran longer than {timeoutSeconds} s.");
        }

        process.WaitForExit();
        return new CliRun(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs the program's entry point in this process with string streams (paths must be absolute).</summary>
    public static CliRun RunInProcess(string[] args, string stdin = "")
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        int code = CliApp.Run(args, new CliConsole(new StringReader(stdin), output, error));
        return new CliRun(code, output.ToString(), error.ToString());
    }

    /// <summary>A fresh empty folder under the system temp folder, deleted by the caller's <c>using</c>.</summary>
    public static TempFolder TempFolder() => new();

}

/// <summary>A temporary folder, removed on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = Directory.CreateTempSubdirectory("mtcnn-cli-tests-").FullName;
    }

    public string Path { get; }

    /// <summary>Creates the parent folders of <paramref name="relative"/> and returns its full path.</summary>
    public string File(string relative)
    {
        string full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return full;
    }

    /// <summary>Copies the sample image to <paramref name="relative"/>.</summary>
    public string CopySample(string relative)
    {
        string full = File(relative);
        System.IO.File.Copy(CliHarness.Sample, full, overwrite: true);
        return full;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
