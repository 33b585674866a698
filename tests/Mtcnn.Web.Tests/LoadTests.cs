using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SkiaSharp;
using Xunit.Abstractions;

namespace Mtcnn.Web.Tests;

/// <summary>
/// A short load run against Kestrel on loopback, reported and never judged (speed depends on the machine and its
/// load). Off by default: set <c>MTCNN_LOAD_TEST=1</c> (optionally <c>MTCNN_LOAD_REQUESTS</c>, default 500, and
/// <c>MTCNN_LOAD_CONCURRENCY</c>, default 16) and run
/// <c>dotnet test tests/Mtcnn.Web.Tests -c Release --filter Category=Load --logger "console;verbosity=detailed"</c>.
/// The report also goes to <c>artifacts/load.md</c> next to the test assembly. Only correctness is asserted: every
/// response must be 200 with the expected number of faces.
/// </summary>
public sealed class LoadTests
{
    private readonly ITestOutputHelper output;

    public LoadTests(ITestOutputHelper output)
    {
        this.output = output;
    }

    [SkippableFact]
    [Trait("Category", "Load")]
    public async Task Load_run_on_loopback()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("MTCNN_LOAD_TEST") == "1", "load run: set MTCNN_LOAD_TEST=1 to run it (it takes about a minute).");
        int requests = EnvInt("MTCNN_LOAD_REQUESTS", 500);
        int concurrency = EnvInt("MTCNN_LOAD_CONCURRENCY", 16);

        await using var app = await TestApp.StartKestrelAsync(new WebServerOptions { MaxQueuedRequests = Math.Max(64, concurrency) });
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, load average before: {LoadAverage()}");
        report.AppendLine(CultureInfo.InvariantCulture, $"Server: Kestrel on {app.BaseAddress}, {Environment.ProcessorCount} detection workers, default limits; client: HttpClient in the same process, {concurrency} concurrent, {requests} requests per row after 20 warm-up requests.");
        report.AppendLine();
        report.AppendLine("| request | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors |");
        report.AppendLine("|---|---|---|---|---|---|---|");

        byte[] webcamJpeg = WebcamFrame();
        var rows = new (string Name, Func<HttpContent> Body, string Query, int Faces)[]
        {
            ("astronaut.png 512x512, multipart", () => Fixtures.Form(Fixtures.Sample), string.Empty, 1),
            ("640x480 JPEG frame, raw body (webcam mode)", () => Raw(webcamJpeg, "image/jpeg"), string.Empty, 1),
            ("640x480 JPEG frame, raw, minFaceSize=40", () => Raw(webcamJpeg, "image/jpeg"), "?minFaceSize=40", 1),
        };
        int totalErrors = 0;
        foreach (var row in rows)
        {
            var (stats, errors) = await RunAsync(app.Client, row.Body, "/api/detect" + row.Query, row.Faces, requests, concurrency);
            totalErrors += errors.Count;
            report.AppendLine(CultureInfo.InvariantCulture, $"| {row.Name} | {stats.Throughput:F1} | {stats.P50:F0} | {stats.P90:F0} | {stats.P99:F0} | {stats.Max:F0} | {errors.Count} |");
            foreach (string e in errors.Take(5))
            {
                output.WriteLine($"error: {e}");
            }
        }

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Load average after: {LoadAverage()}");
        string text = report.ToString();
        output.WriteLine(text);
        string artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        await File.WriteAllTextAsync(Path.Combine(artifacts, "load.md"), text);
        Assert.Equal(0, totalErrors);
    }

    private static async Task<(Stats Stats, List<string> Errors)> RunAsync(HttpClient client, Func<HttpContent> body, string url, int faces, int requests, int concurrency)
    {
        var errors = new List<string>();
        async Task<double> OneAsync()
        {
            long start = Stopwatch.GetTimestamp();
            using var content = body();
            using var response = await client.PostAsync(url, content);
            string text = await response.Content.ReadAsStringAsync();
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (response.StatusCode != HttpStatusCode.OK)
            {
                lock (errors)
                {
                    errors.Add($"{(int)response.StatusCode} {text}");
                }
            }
            else
            {
                using var json = JsonDocument.Parse(text);
                int n = json.RootElement.GetProperty("faces").GetArrayLength();
                if (n != faces)
                {
                    lock (errors)
                    {
                        errors.Add($"{n} faces instead of {faces}");
                    }
                }
            }

            return ms;
        }

        await Parallel.ForEachAsync(Enumerable.Range(0, 20), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (_, _) => await OneAsync());
        errors.Clear();

        var latencies = new double[requests];
        long t0 = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, requests), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, _) => latencies[i] = await OneAsync());
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        Array.Sort(latencies);
        return (new Stats(requests / seconds, Percentile(latencies, 0.50), Percentile(latencies, 0.90), Percentile(latencies, 0.99), latencies[^1]), errors);
    }

    /// <summary>The sample centred on a grey 640x480 canvas, as JPEG quality 85 (what the page sends in webcam mode).</summary>
    private static byte[] WebcamFrame()
    {
        using var sample = SKBitmap.Decode(Fixtures.Sample);
        using var frame = new SKBitmap(640, 480, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(frame))
        {
            canvas.Clear(new SKColor(128, 128, 128));
            canvas.DrawBitmap(sample, new SKRect(80, 0, 560, 480));
        }

        using var data = frame.Encode(SKEncodedImageFormat.Jpeg, 85);
        return data.ToArray();
    }

    private static ByteArrayContent Raw(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : fallback;

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private sealed record Stats(double Throughput, double P50, double P90, double P99, double Max);
}
