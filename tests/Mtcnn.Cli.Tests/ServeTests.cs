using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Mtcnn.Cli.Tests;

/// <summary><c>mtcnn serve</c>: usage errors, a real server process answering requests, and a clean stop on SIGINT.</summary>
public sealed partial class ServeTests
{
    [Theory]
    [InlineData("--max-upload-bytes", "0", "MaxUploadBytes must be in [1, 1073741824], got 0")]
    [InlineData("--max-upload-bytes", "lots", "expected a whole number")]
    [InlineData("--max-pixels", "600000000", "MaxPixels must be in [1, 500000000], got 600000000")]
    [InlineData("--request-timeout-seconds", "0", "must be in [0.001, 3600], got 0")]
    [InlineData("--threads", "-1", "MaxConcurrentDetections must be in [0, 1024]")]
    [InlineData("--max-queue", "-5", "MaxQueuedRequests must be in [0, 100000]")]
    [InlineData("--max-candidates", "0", "MaxCandidates must be in [1, 10000000], got 0")]
    [InlineData("--urls", "https://127.0.0.1:5001", "https is not supported")]
    [InlineData("--urls", "localhost", "is not an http address")]
    public void Bad_server_options_are_usage_errors(string option, string value, string message)
    {
        var run = CliHarness.RunInProcess(["serve", option, value]);

        Assert.Equal(2, run.ExitCode);
        string line = Assert.Single(run.ErrorLines);
        Assert.StartsWith($"mtcnn: {option}: ", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_the_options_with_examples()
    {
        var run = CliHarness.RunInProcess(["serve", "--help"]);
        Assert.Equal(0, run.ExitCode);
        foreach (string option in new[] { "--urls", "--max-upload-bytes", "--max-pixels", "--request-timeout-seconds", "--threads", "--max-queue", "--max-candidates", "--weights" })
        {
            Assert.Contains(option, run.StdOut, StringComparison.Ordinal);
        }

        Assert.Contains("mtcnn serve --urls http://127.0.0.1:8080", run.StdOut, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Serves_with_the_networks_on_onnx_runtime()
    {
        using var server = ServerProcess.Start(["--urls", "http://127.0.0.1:0", "--backend", "onnxruntime"]);
        string address = await server.AddressAsync();
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        using var content = new ByteArrayContent(File.ReadAllBytes(CliHarness.Sample));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var detect = await client.PostAsync("/api/detect", content);
        Assert.Equal(HttpStatusCode.OK, detect.StatusCode);
        using var json = JsonDocument.Parse(await detect.Content.ReadAsStringAsync());
        var face = Assert.Single(json.RootElement.GetProperty("faces").EnumerateArray());
        var box = face.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.True(new BoundingBox(box[0], box[1], box[2], box[3]).IntersectionOverUnion(CliHarness.SampleFace) >= 0.99f);
        Assert.True(server.Interrupt(), "the server did not exit within 30 s of SIGINT");
        Assert.Equal(0, server.ExitCode);
    }

    [SkippableFact]
    public async Task Serves_detections_and_stops_cleanly_on_sigint()
    {
        using var server = ServerProcess.Start(["--urls", "http://127.0.0.1:0", "--threads", "2", "--max-upload-bytes", "1000000"]);
        string address = await server.AddressAsync();
        using var client = new HttpClient { BaseAddress = new Uri(address) };

        using var health = await client.GetAsync("/api/health");
        using var healthJson = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
        Assert.Equal(2, healthJson.RootElement.GetProperty("workers").GetInt32());
        Assert.Equal(1_000_000, healthJson.RootElement.GetProperty("limits").GetProperty("maxUploadBytes").GetInt64());

        using var content = new ByteArrayContent(File.ReadAllBytes(CliHarness.Sample));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var detect = await client.PostAsync("/api/detect", content);
        Assert.Equal(HttpStatusCode.OK, detect.StatusCode);
        using var json = JsonDocument.Parse(await detect.Content.ReadAsStringAsync());
        Assert.Equal(1, json.RootElement.GetProperty("faces").GetArrayLength());

        using var page = await client.GetAsync("/");
        Assert.Contains("face-count", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.True(server.Interrupt(), "the server did not exit within 30 s of SIGINT");
        Assert.Equal(0, server.ExitCode);
        string stderr = server.StdErr;
        Assert.Contains("mtcnn: press Ctrl+C to stop.", stderr, StringComparison.Ordinal);

        // The detector is warmed up before the server reports that it listens.
        int ready = stderr.IndexOf("mtcnn: detector ready (warm-up ", StringComparison.Ordinal);
        Assert.True(ready >= 0 && ready < stderr.IndexOf("listening on", StringComparison.Ordinal), stderr);
        Assert.Contains("/api/detect upload 512x512: 1 faces", stderr, StringComparison.Ordinal);
        Assert.EndsWith("mtcnn: stopped.\n", stderr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_taken_port_is_a_one_line_failure()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var run = CliHarness.Run(["serve", "--urls", $"http://127.0.0.1:{port}"], timeoutSeconds: 60);
        Assert.Equal(1, run.ExitCode);
        string line = Assert.Single(run.ErrorLines, l => l.StartsWith("mtcnn: error:", StringComparison.Ordinal));
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StdErr, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex ListeningLine();

    /// <summary>
    /// <c>mtcnn serve</c> as a child process. It is started through <c>env --default-signal=INT</c> because a process
    /// started from a non-interactive background job inherits an ignored SIGINT, which .NET then leaves ignored.
    /// </summary>
    private sealed class ServerProcess : IDisposable
    {
        private readonly Process process;
        private readonly StringBuilder stderr = new();
        private readonly TaskCompletionSource<string> address = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private ServerProcess(Process process)
        {
            this.process = process;
        }

        public int ExitCode => process.ExitCode;

        public string StdErr
        {
            get
            {
                lock (stderr)
                {
                    return stderr.ToString();
                }
            }
        }

        public static ServerProcess Start(string[] args)
        {
            Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/usr/bin/env"), "needs Linux and /usr/bin/env to send SIGINT to the server.");
            var psi = new ProcessStartInfo("/usr/bin/env")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardErrorEncoding = Encoding.UTF8,
            };
            foreach (string a in (string[])["--default-signal=INT", CliHarness.DotnetHostPath, CliHarness.DllPath, "serve", .. args])
            {
                psi.ArgumentList.Add(a);
            }

            var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the server");
            var server = new ServerProcess(process);
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    server.address.TrySetException(new InvalidOperationException("the server exited before listening:\n" + server.StdErr));
                    return;
                }

                lock (server.stderr)
                {
                    server.stderr.Append(e.Data).Append('\n');
                }

                if (ListeningLine().Match(e.Data) is { Success: true } m)
                {
                    server.address.TrySetResult(m.Groups[1].Value);
                }
            };
            process.OutputDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            return server;
        }

        public async Task<string> AddressAsync() => await address.Task.WaitAsync(TimeSpan.FromSeconds(60));

        /// <summary>Sends SIGINT (what Ctrl+C sends) and waits for the exit.</summary>
        public bool Interrupt()
        {
            using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }

            bool exited = process.WaitForExit(30_000);
            if (exited)
            {
                process.WaitForExit(); // drains the redirected streams
            }

            return exited;
        }

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }
    }
}
