using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Mtcnn.Web.Tests;

/// <summary>
/// What a hostile test of the server found: several image fields, the part limit, security headers on the timeout and
/// 500 paths, HEAD, Kestrel's refusals and slow uploads, the log lines of timeouts, compressed bodies and the formats.
/// </summary>
public sealed class HardeningTests
{
    private static readonly string[] SecurityHeaders = ["X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy", "Permissions-Policy"];

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Several_image_fields_are_a_400_that_says_how_many(int count)
    {
        await using var app = await TestApp.StartAsync();
        using var form = new MultipartFormDataContent();
        for (int i = 0; i < count; i++)
        {
            form.Add(new ByteArrayContent(Fixtures.BlankPng(64, 48)), "image", $"blank{i}.png");
        }

        using var response = await app.Client.PostAsync("/api/detect", form);
        string message = await Fixtures.ErrorAsync(response, 400);
        Assert.Contains("one image per request", message, StringComparison.Ordinal);
        Assert.Contains($"{count} fields named 'image'", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(100, 0, 200)]
    [InlineData(101, 0, 400)]
    [InlineData(50, 50, 200)]
    [InlineData(50, 51, 400)]
    public async Task At_most_100_parts_besides_the_image_are_read(int before, int after, int status)
    {
        await using var app = await TestApp.StartAsync();
        using var form = new MultipartFormDataContent();
        for (int i = 0; i < before; i++)
        {
            form.Add(new StringContent("v"), $"f{i}");
        }

        form.Add(new ByteArrayContent(Fixtures.BlankPng(64, 48)), "image", "blank.png");
        for (int i = 0; i < after; i++)
        {
            form.Add(new StringContent("v"), $"g{i}");
        }

        using var response = await app.Client.PostAsync("/api/detect", form);
        if (status == 200)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            Assert.Contains("more than 100 parts", await Fixtures.ErrorAsync(response, 400), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_timeout_503_and_the_500_carry_the_security_headers()
    {
        await using (var app = await TestApp.StartAsync(new WebServerOptions { RequestTimeout = TimeSpan.FromMilliseconds(200), Backend = new Backend(t => Task.Delay(Timeout.Infinite, t)) }))
        {
            using var response = await app.Client.PostAsync("/api/detect", Fixtures.Raw(Fixtures.BlankPng()));
            Assert.Contains("time limit", await Fixtures.ErrorAsync(response, 503), StringComparison.Ordinal);
            AssertSecurityHeaders(response);
        }

        await using (var app = await TestApp.StartAsync(new WebServerOptions { Backend = new Backend(_ => throw new InvalidOperationException("a bug")) }))
        {
            using var response = await app.Client.PostAsync("/api/detect", Fixtures.Raw(Fixtures.BlankPng()));
            Assert.Equal("internal server error.", await Fixtures.ErrorAsync(response, 500));
            AssertSecurityHeaders(response);
        }
    }

    [Fact]
    public async Task Head_works_wherever_get_does()
    {
        await using var app = await TestApp.StartKestrelAsync();
        foreach (string path in new[] { "/api/health", WebDemoHost.OpenApiPath, "/", "/app.js" })
        {
            using var get = await app.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            using var head = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
            Assert.True(head.StatusCode == HttpStatusCode.OK, $"HEAD {path}: {(int)head.StatusCode}");
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
            Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
            AssertSecurityHeaders(head);
        }

        using var headDetect = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/detect"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, headDetect.StatusCode);
        using var postHealth = await app.Client.PostAsync("/api/health", new StringContent(string.Empty));
        Assert.Contains("use GET, HEAD", await Fixtures.ErrorAsync(postHealth, 405), StringComparison.Ordinal);
        Assert.Equal("GET, HEAD", postHealth.Content.Headers.Allow.Count > 0 ? string.Join(", ", postHealth.Content.Headers.Allow) : string.Join(", ", postHealth.Headers.GetValues("Allow")));
    }

    [Fact]
    public async Task A_slow_upload_is_a_json_408_that_names_the_rate_and_logs_one_line()
    {
        var logs = new LogCollector();
        await using var app = await TestApp.StartKestrelAsync(null, b =>
        {
            QuietLogging(b, logs);
            b.WebHost.ConfigureKestrel(k => k.Limits.MinRequestBodyDataRate = new MinDataRate(240, TimeSpan.FromSeconds(2)));
        });

        using (var tcp = await RawHttp.ConnectAsync(app.BaseAddress!))
        {
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /api/detect HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n\x89PNG"));
            var response = await RawHttp.ReadResponseAsync(stream);
            Assert.True(response.Status == 408, response.ToString());
            Assert.StartsWith("application/json", response.Header("Content-Type"), StringComparison.Ordinal);
            Assert.Contains("the upload arrived too slowly: less than 240 bytes per second after the first 2 s", response.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("MinRequestBodyDataRate", response.Body, StringComparison.Ordinal);
            Assert.All(SecurityHeaders, h => Assert.NotNull(response.Header(h)));
        }

        await app.DisposeAsync();
        var warnings = logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        var line = Assert.Single(warnings);
        Assert.Null(line.Exception);
        Assert.Contains("POST /api/detect from 127.0.0.1:", line.Message, StringComparison.Ordinal);
        Assert.Contains("slower than 240 bytes/s", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_timeout_during_a_slow_upload_is_one_log_line_and_the_rest_of_the_body_is_drained_cleanly()
    {
        var logs = new LogCollector();
        await using var app = await TestApp.StartKestrelAsync(new WebServerOptions { RequestTimeout = TimeSpan.FromMilliseconds(500) }, b =>
        {
            QuietLogging(b, logs);
            b.WebHost.ConfigureKestrel(k => k.Limits.MinRequestBodyDataRate = null);
        });

        const int Length = 20_000;
        using (var tcp = await RawHttp.ConnectAsync(app.BaseAddress!))
        {
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /api/detect HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: image/png\r\nContent-Length: {Length}\r\n\r\n"));
            var read = RawHttp.ReadResponseAsync(stream);
            int sent = 0;
            while (!read.IsCompleted && sent < Length - 1)
            {
                // A trickle: the request timeout, not the rate limit, ends it.
                await stream.WriteAsync(new byte[1]);
                sent++;
                await Task.WhenAny(read, Task.Delay(20));
            }

            var response = await read;
            Assert.True(response.Status == 503, response.ToString());
            Assert.Contains("time limit of 0.5 s", response.Body, StringComparison.Ordinal);
            Assert.All(SecurityHeaders, h => Assert.NotNull(response.Header(h)));

            // The rest of the body: the server drains it and closes the connection (or gives up); it must not fail.
            try
            {
                await stream.WriteAsync(new byte[Length - sent]);
                byte[] buffer = new byte[1024];
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                while (await stream.ReadAsync(buffer, cts.Token) > 0)
                {
                }
            }
            catch (IOException)
            {
                // A reset after the drain is also an end of the connection.
            }
        }

        await app.DisposeAsync();
        var warnings = logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        Assert.True(warnings.Count == 1, string.Join("\n", warnings));
        Assert.Null(warnings[0].Exception);
        Assert.Contains("timed out while its upload was being read (the limit is 0.5 s", warnings[0].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, e => e.ToString().Contains("already in progress", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_detection_timeout_is_one_log_line_without_a_stack_trace()
    {
        var logs = new LogCollector();
        await using var app = await TestApp.StartKestrelAsync(
            new WebServerOptions { RequestTimeout = TimeSpan.FromMilliseconds(300), Backend = new Backend(t => Task.Delay(Timeout.Infinite, t)) },
            b => QuietLogging(b, logs));
        using (var response = await app.Client.PostAsync("/api/detect", Fixtures.Raw(Fixtures.BlankPng())))
        {
            await Fixtures.ErrorAsync(response, 503);
        }

        await app.DisposeAsync();
        var line = Assert.Single(logs.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Null(line.Exception);
        Assert.Contains("POST /api/detect from 127.0.0.1:", line.Message, StringComparison.Ordinal);
        Assert.Contains("timed out while the backend processed its image (the limit is 0.3 s", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kestrel_refusals_before_the_application_have_the_documented_codes_and_limits()
    {
        await using var app = await TestApp.StartKestrelAsync(null, b => b.WebHost.ConfigureKestrel(k => k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(2)));
        string address = app.BaseAddress!;

        // The request line (method, URL, version) may be 8 KiB.
        string Line(int length) => "GET /api/health?x=" + new string('a', length - "GET /api/health?x= HTTP/1.1\r\n".Length) + " HTTP/1.1\r\n";
        Assert.Equal(200, (await RawHttp.SendAsync(address, Line(WebDemoHost.MaxRequestLineBytes - 100) + "Host: x\r\nConnection: close\r\n\r\n")).Status);
        var tooLong = await RawHttp.SendAsync(address, Line(WebDemoHost.MaxRequestLineBytes + 100) + "Host: x\r\n\r\n");
        Assert.Equal(414, tooLong.Status);
        Assert.Equal(string.Empty, tooLong.Body);

        Assert.Equal(400, (await RawHttp.SendAsync(address, "GET /api/%00 HTTP/1.1\r\nHost: x\r\n\r\n")).Status);
        Assert.Equal(431, (await RawHttp.SendAsync(address, $"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: {new string('h', WebDemoHost.MaxRequestHeadersBytes)}\r\n\r\n")).Status);

        using var tcp = await RawHttp.ConnectAsync(address);
        var stream = tcp.GetStream();
        await stream.WriteAsync("GET /api/hea"u8.ToArray());
        Assert.Equal(408, (await RawHttp.ReadResponseAsync(stream)).Status);
    }

    [Fact]
    public async Task Compressed_bodies_are_415_and_say_so()
    {
        await using var app = await TestApp.StartAsync();
        using var packed = new MemoryStream();
        using (var gzip = new GZipStream(packed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Fixtures.BlankPng());
        }

        var raw = Fixtures.Raw(packed.ToArray());
        raw.Headers.ContentEncoding.Add("gzip");
        using var response = await app.Client.PostAsync("/api/detect", raw);
        Assert.Contains("compressed request bodies are not accepted (Content-Encoding: gzip)", await Fixtures.ErrorAsync(response, 415), StringComparison.Ordinal);

        var form = Fixtures.Form(packed.ToArray());
        form.Headers.ContentEncoding.Add("br");
        using var formResponse = await app.Client.PostAsync("/api/detect", form);
        Assert.Contains("(Content-Encoding: br)", await Fixtures.ErrorAsync(formResponse, 415), StringComparison.Ordinal);

        var identity = Fixtures.Raw(Fixtures.BlankPng());
        identity.Headers.ContentEncoding.Add("identity");
        using var plain = await app.Client.PostAsync("/api/detect", identity);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public async Task Ico_and_wbmp_images_are_accepted_as_documented()
    {
        await using var app = await TestApp.StartAsync();

        // An icon holding one 32x32 PNG.
        byte[] png = Fixtures.BlankPng(32, 32);
        using var ico = new MemoryStream();
        using (var w = new BinaryWriter(ico, Encoding.ASCII, leaveOpen: true))
        {
            w.Write((ushort)0);
            w.Write((ushort)1);
            w.Write((ushort)1);
            w.Write((byte)32);
            w.Write((byte)32);
            w.Write((byte)0);
            w.Write((byte)0);
            w.Write((ushort)1);
            w.Write((ushort)32);
            w.Write(png.Length);
            w.Write(22);
            w.Write(png);
        }

        // A 64x48 wireless bitmap (type 0, one bit per pixel).
        byte[] wbmp = [0, 0, 64, 48, .. new byte[8 * 48]];

        foreach (var (bytes, width, height) in new[] { (ico.ToArray(), 32, 32), (wbmp, 64, 48) })
        {
            using var response = await app.Client.PostAsync("/api/detect", Fixtures.Raw(bytes, "application/octet-stream"));
            var json = await Fixtures.JsonAsync(response);
            Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
            Assert.Equal((width, height), (json.GetProperty("width").GetInt32(), json.GetProperty("height").GetInt32()));
        }
    }

    private static void QuietLogging(WebApplicationBuilder builder, LogCollector logs)
    {
        // As `mtcnn serve --quiet`: warnings and errors only.
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        foreach (string header in SecurityHeaders)
        {
            Assert.True(response.Headers.Contains(header), $"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}: no {header}");
        }
    }

    private sealed class Backend(Func<CancellationToken, Task> run) : IImageWorkBackend
    {
        public string Description => "test backend";

        public async Task<ImageWorkResult> RunAsync(ImageWork work, CancellationToken cancellationToken)
        {
            await run(cancellationToken);
            return new ImageWorkResult { Status = 200, Body = "{}"u8.ToArray() };
        }
    }
}
