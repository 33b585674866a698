using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Mtcnn.TestSupport;

namespace Mtcnn.Video.Tests;

/// <summary>What one run of <c>mtcnn</c> produced.</summary>
internal sealed record CliRun(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Non-empty stdout lines.</summary>
    public string[] Lines => StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Non-empty stderr lines.</summary>
    public string[] ErrorLines => StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The stdout lines parsed as JSON.</summary>
    public JsonElement[] JsonLines => Lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();

    public override string ToString() => $"exit {ExitCode}\n--- stdout (first 2000 chars)\n{StdOut[..Math.Min(StdOut.Length, 2000)]}\n--- stderr\n{StdErr}";
}

/// <summary>
/// Runs the real <c>mtcnn</c> program (the CLI project's build output) as a child process, to completion or until the
/// test sends it a signal.
/// </summary>
internal static partial class VideoCli
{
    private const int SigInt = 2;
    private static readonly Lazy<string> Dll = new(() => CliLocator.CliDll(typeof(VideoCli).Assembly));

    /// <summary>Runs <c>mtcnn ARGS</c> and waits for it; fails the test after <paramref name="timeoutSeconds"/>.</summary>
    public static CliRun Run(IEnumerable<string> args, int timeoutSeconds = 120)
    {
        using var process = Start(args, out var stdout, out var stderr);
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"mtcnn {string.Join(' ', args)} ran longer than {timeoutSeconds} s.");
        }

        process.WaitForExit();
        return new CliRun(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// Runs <c>mtcnn ARGS</c>, sends SIGINT (as Ctrl+C does) <paramref name="signals"/> times in a row once
    /// <paramref name="ready"/> holds for the stdout seen so far, and waits for the process to end.
    /// </summary>
    public static CliRun RunAndInterrupt(IEnumerable<string> args, Func<string, bool> ready, int signals = 1, int timeoutSeconds = 120)
    {
        using var process = Start(args, out var stdout, out var stderr);
        var deadline = Stopwatch.StartNew();
        while (!ready(Snapshot(stdout)))
        {
            if (process.HasExited || deadline.Elapsed.TotalSeconds > timeoutSeconds)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                process.WaitForExit();
                throw new InvalidOperationException($"mtcnn did not reach the point to interrupt: exit {(process.HasExited ? process.ExitCode : -1)}\n{stderr}");
            }

            Thread.Sleep(20);
        }

        for (int i = 0; i < signals; i++)
        {
            Assert.Equal(0, Kill(process.Id, SigInt));
        }

        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("mtcnn did not stop after SIGINT.");
        }

        process.WaitForExit();
        return new CliRun(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    private static Process Start(IEnumerable<string> args, out StringBuilder stdout, out StringBuilder stderr)
    {
        var psi = new ProcessStartInfo(CliLocator.DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = SharedData.RepoRoot,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add(Dll.Value);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment.Remove("MTCNN_DEBUG");
        psi.Environment.Remove("OPENCV_LOG_LEVEL");
        psi.Environment.Remove("OPENCV_FFMPEG_LOGLEVEL");
        var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start dotnet.");
        var o = new StringBuilder();
        var e = new StringBuilder();
        process.OutputDataReceived += (_, d) => Append(o, d.Data);
        process.ErrorDataReceived += (_, d) => Append(e, d.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        stdout = o;
        stderr = e;
        return process;
    }

    private static void Append(StringBuilder sb, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (sb)
        {
            sb.Append(line).Append('\n');
        }
    }

    private static string Snapshot(StringBuilder sb)
    {
        lock (sb)
        {
            return sb.ToString();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
