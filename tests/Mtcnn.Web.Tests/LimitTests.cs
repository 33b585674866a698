using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Mtcnn.Web.Api;

namespace Mtcnn.Web.Tests;

/// <summary>Upload size, pixel count, request time and queue limits, each on its own server.</summary>
public sealed class LimitTests
{
    [Fact]
    public async Task An_upload_over_the_byte_limit_is_413_as_multipart_and_raw()
    {
        await using var app = await TestApp.StartAsync(new WebServerOptions { MaxUploadBytes = 100_000 });
        using var form = await app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        Assert.Equal("the upload is larger than the limit of 100000 bytes.", await Fixtures.ErrorAsync(form, 413));
        using var raw = await app.Client.PostAsync("/api/detect", Fixtures.Raw(Fixtures.Sample));
        Assert.Equal("the upload is larger than the limit of 100000 bytes.", await Fixtures.ErrorAsync(raw, 413));
    }

    [Fact]
    public async Task An_upload_without_a_declared_length_is_counted()
    {
        await using var app = await TestApp.StartAsync(new WebServerOptions { MaxUploadBytes = 100_000 });

        // A stream of unknown length: the limit is found while reading, not from Content-Length.
        using var content = new StreamContent(new UnknownLengthStream(Fixtures.Sample));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await app.Client.PostAsync("/api/detect", content);
        await Fixtures.ErrorAsync(response, 413);
    }

    [Fact]
    public async Task An_upload_exactly_at_the_limit_is_accepted()
    {
        await using var app = await TestApp.StartAsync(new WebServerOptions { MaxUploadBytes = Fixtures.Sample.Length });
        using var raw = await app.Client.PostAsync("/api/detect", Fixtures.Raw(Fixtures.Sample));
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        using var content = new StreamContent(new UnknownLengthStream(Fixtures.Sample));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var streamed = await app.Client.PostAsync("/api/detect", content);
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
    }

    [Theory]
    [InlineData(0, 200)]
    [InlineData(-1, 413)]
    public async Task The_byte_limit_is_exact_for_every_framing(int slack, int status)
    {
        // Pooled buffers are larger than asked for: the limit must still hold to the byte.
        await using var app = await TestApp.StartAsync(new WebServerOptions { MaxUploadBytes = Fixtures.Sample.Length + slack });
        using var form = await app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        Assert.Equal(status, (int)form.StatusCode);
        using var raw = await app.Client.PostAsync("/api/detect", Fixtures.Raw(Fixtures.Sample));
        Assert.Equal(status, (int)raw.StatusCode);
        using var content = new StreamContent(new UnknownLengthStream(Fixtures.Sample));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var streamed = await app.Client.PostAsync("/api/detect", content);
        Assert.Equal(status, (int)streamed.StatusCode);
    }

    [Fact]
    public async Task An_image_over_the_pixel_limit_is_422()
    {
        await using var app = await TestApp.StartAsync(new WebServerOptions { MaxPixels = 100_000 });
        using var response = await app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        string message = await Fixtures.ErrorAsync(response, 422);
        Assert.Contains("512x512 = 262144 pixels, more than the limit of 100000", message, StringComparison.Ordinal);
        using var small = await app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.BlankPng(320, 240)));
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }

    [Fact]
    public async Task Over_a_real_socket_oversized_uploads_get_a_json_413()
    {
        await using var app = await TestApp.StartKestrelAsync(new WebServerOptions { MaxUploadBytes = 100_000 });
        using var response = await app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        Assert.Equal("the upload is larger than the limit of 100000 bytes.", await Fixtures.ErrorAsync(response, 413));

        // Without Content-Length and with a large field before the image, Kestrel's own body limit (image limit plus
        // room for form framing) is what stops it; the answer is still the JSON 413.
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[300_000]), "padding" }, { new ByteArrayContent(Fixtures.BlankPng()), "image", "blank.png" } };
        byte[] body = await form.ReadAsByteArrayAsync();
        using var chunked = new StreamContent(new UnknownLengthStream(body));
        chunked.Headers.ContentType = form.Headers.ContentType;
        using var response2 = await app.Client.PostAsync("/api/detect", chunked);
        Assert.Equal("the upload is larger than the limit of 100000 bytes.", await Fixtures.ErrorAsync(response2, 413));

        using var ok = await app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.BlankPng()));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task After_a_413_the_rest_of_the_body_is_drained_so_the_connection_stays_usable(bool chunked)
    {
        // 600 KB over a 100 KB limit, within the drain allowance: the server answers 413 and reads the rest, so the
        // connection is still in step for a second request (without the drain it would be closed, or reset under a
        // client still sending).
        await using var app = await TestApp.StartKestrelAsync(new WebServerOptions { MaxUploadBytes = 100_000 });
        Assert.True(600_000 < 100_000 + UploadReader.MultipartOverheadBytes + UploadReader.DrainBytes);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[600_000]), "padding" }, { new ByteArrayContent(Fixtures.BlankPng()), "image", "blank.png" } };
        byte[] body = await form.ReadAsByteArrayAsync();
        string framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {body.Length}";
        byte[] head = System.Text.Encoding.Latin1.GetBytes($"POST /api/detect HTTP/1.1\r\nHost: x\r\nContent-Type: {form.Headers.ContentType}\r\n{framing}\r\n\r\n");

        using var tcp = await RawHttp.ConnectAsync(app.BaseAddress!);
        var stream = tcp.GetStream();
        await stream.WriteAsync(head);
        if (chunked)
        {
            for (int i = 0; i < body.Length; i += 50_000)
            {
                int n = Math.Min(50_000, body.Length - i);
                await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"{n:x}\r\n"));
                await stream.WriteAsync(body.AsMemory(i, n));
                await stream.WriteAsync("\r\n"u8.ToArray());
            }

            await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
        }
        else
        {
            await stream.WriteAsync(body);
        }

        var refused = await RawHttp.ReadResponseAsync(stream);
        Assert.Equal(413, refused.Status);
        Assert.Contains("the upload is larger than the limit of 100000 bytes.", refused.Body, StringComparison.Ordinal);

        await stream.WriteAsync("GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var health = await RawHttp.ReadResponseAsync(stream);
        Assert.Equal(200, health.Status);
    }

    [Fact]
    public async Task The_server_candidate_limit_applies_to_every_request_and_is_reported()
    {
        // The sample has 167 P-Net candidates at the default settings: a limit of 100 caps them.
        await using var app = await TestApp.StartAsync(new WebServerOptions { MaxCandidates = 100 });
        Assert.Equal(100, (await HealthAsync(app.Client)).GetProperty("limits").GetProperty("maxCandidates").GetInt32());

        using var pnet = await app.Client.PostAsync("/api/detect?stage=pnet", Fixtures.Form(Fixtures.Sample));
        var json = await Fixtures.JsonAsync(pnet);
        Assert.True(pnet.StatusCode == HttpStatusCode.OK, json.ToString());
        Assert.Equal(100, json.GetProperty("faces").GetArrayLength());
        Assert.True(json.GetProperty("candidateLimitReached").GetBoolean());

        // The face itself is still found: the best-scoring candidates went on.
        using var full = await app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        var faces = await Fixtures.JsonAsync(full);
        Assert.Equal(1, faces.GetProperty("faces").GetArrayLength());
        Assert.True(faces.GetProperty("candidateLimitReached").GetBoolean());
    }

    [Fact]
    public async Task A_request_over_the_time_limit_is_503()
    {
        await using var app = await TestApp.StartAsync(new WebServerOptions { RequestTimeout = TimeSpan.FromMilliseconds(1) });

        // Decoding and searching 4 megapixels takes far longer than 1 ms.
        using var response = await app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.GradientPng(2400, 1800)));
        string message = await Fixtures.ErrorAsync(response, 503);
        Assert.Contains("time limit of 0.001 s", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_full_queue_is_503_before_the_upload_is_read()
    {
        await using var app = await TestApp.StartAsync(new WebServerOptions { MaxConcurrentDetections = 1, MaxQueuedRequests = 0 });

        // The first request is admitted and then stalls in the middle of its upload, holding the only place.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stalled = new StreamContent(new StallingStream(Fixtures.Sample, 1000, gate.Task));
        stalled.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        var first = app.Client.PostAsync("/api/detect", stalled);
        await WaitUntilAsync(async () => (await HealthAsync(app.Client)).GetProperty("admitted").GetInt32() == 1);

        using var second = await app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        Assert.Contains("the server is busy", await Fixtures.ErrorAsync(second, 503), StringComparison.Ordinal);
        Assert.Equal("1", second.Headers.RetryAfter?.ToString());

        gate.SetResult();
        using var firstResponse = await first;
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        Assert.Equal(0, (await HealthAsync(app.Client)).GetProperty("admitted").GetInt32());
        using var third = await app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
    }

    [Fact]
    public void Options_out_of_range_are_refused()
    {
        Assert.Contains("MaxUploadBytes must be in [1, 1073741824]", Assert.Throws<ArgumentOutOfRangeException>(() => new WebServerOptions { MaxUploadBytes = 0 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("MaxPixels must be in [1, 500000000]", Assert.Throws<ArgumentOutOfRangeException>(() => new WebServerOptions { MaxPixels = 600_000_000 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebServerOptions { RequestTimeout = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebServerOptions { MaxConcurrentDetections = -1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new WebServerOptions { MaxQueuedRequests = -1 }.Validate());
        Assert.Contains("MaxCandidates must be in [1, 10000000]", Assert.Throws<ArgumentOutOfRangeException>(() => new WebServerOptions { MaxCandidates = 0 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("https is not supported", Assert.Throws<ArgumentException>(() => new WebServerOptions { Urls = "https://127.0.0.1:5001" }.Validate()).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new WebServerOptions { Urls = " ; " }.Validate());
        new WebServerOptions { Urls = "http://127.0.0.1:0;http://*:8080" }.Validate();
    }

    private static async Task<JsonElement> HealthAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/health");
        return await Fixtures.JsonAsync(response);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; i < 200; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail("the condition did not become true within 10 s.");
    }

    /// <summary>A read-only stream over bytes that does not report its length.</summary>
    private class UnknownLengthStream : ReadOnlyForwardStream
    {
        private readonly byte[] data;
        private int position;

        public UnknownLengthStream(byte[] data)
        {
            this.data = data;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(count, data.Length - position);
            Array.Copy(data, position, buffer, offset, n);
            position += n;
            return n;
        }
    }

    /// <summary>Gives the first <c>head</c> bytes, then waits for a signal before giving the rest.</summary>
    private sealed class StallingStream : UnknownLengthStream
    {
        private readonly int head;
        private readonly Task gate;
        private int given;

        public StallingStream(byte[] data, int head, Task gate)
            : base(data)
        {
            this.head = head;
            this.gate = gate;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (given >= head)
            {
                await gate.WaitAsync(cancellationToken);
            }

            byte[] chunk = new byte[given < head ? Math.Min(buffer.Length, head - given) : buffer.Length];
            int n = Read(chunk, 0, chunk.Length);
            chunk.AsSpan(0, n).CopyTo(buffer.Span);
            given += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
