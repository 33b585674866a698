using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Mtcnn.TestSupport;
using SkiaSharp;

namespace Mtcnn.Web.Tests;

/// <summary>A running web demo: in memory (ASP.NET Core's TestServer) or on Kestrel at a free loopback port.</summary>
internal sealed class TestApp : IAsyncDisposable
{
    private TestApp(WebApplication app, HttpClient client, string? baseAddress)
    {
        App = app;
        Client = client;
        BaseAddress = baseAddress;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    /// <summary>The real address (Kestrel only), e.g. http://127.0.0.1:41234.</summary>
    public string? BaseAddress { get; }

    /// <summary>Starts the app on the in-memory test server.</summary>
    public static async Task<TestApp> StartAsync(WebServerOptions? options = null)
    {
        var app = WebDemoHost.Create(options, b => b.WebHost.UseTestServer());
        await app.StartAsync();
        return new TestApp(app, app.GetTestClient(), null);
    }

    /// <summary>Starts the app on Kestrel at a free port of 127.0.0.1.</summary>
    /// <param name="options">Limits; the address is replaced.</param>
    /// <param name="configure">Optional changes to the builder (Kestrel limits, a log collector).</param>
    public static async Task<TestApp> StartKestrelAsync(WebServerOptions? options = null, Action<WebApplicationBuilder>? configure = null)
    {
        var app = WebDemoHost.Create((options ?? new WebServerOptions()) with { Urls = "http://127.0.0.1:0" }, configure);
        await app.StartAsync();
        string address = WebDemoHost.ListeningAddresses(app).Single();
        return new TestApp(app, new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(2) }, address);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>The shared default server of a test class.</summary>
public sealed class DefaultServer : IAsyncLifetime
{
    private TestApp? app;

    internal HttpClient Client => app!.Client;

    public async Task InitializeAsync() => app = await TestApp.StartAsync();

    public async Task DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }
    }
}

/// <summary>Images and requests used by the tests.</summary>
internal static class Fixtures
{
    private static readonly Lazy<byte[]> SampleBytes = new(() => File.ReadAllBytes(SamplePath));

    /// <summary>The repository's sample (512x512 PNG, one face).</summary>
    public static string SamplePath => Path.Combine(SharedData.RepoRoot, "samples", "astronaut.png");

    public static byte[] Sample => SampleBytes.Value;

    /// <summary>The sample's face as reported by <c>mtcnn detect</c>: [x1, y1, x2, y2].</summary>
    public static BoundingBox SampleFace { get; } = new(181.05f, 62.16f, 267.75f, 172.05f);

    /// <summary>A PNG of one flat colour (no faces).</summary>
    public static byte[] BlankPng(int width = 320, int height = 240)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(new SKColor(200, 205, 210));
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>The sample turned a quarter turn clockwise, as PNG (512x512, so the size is unchanged).</summary>
    public static byte[] SampleTurnedClockwise()
    {
        using var source = SKBitmap.Decode(Sample);
        using var turned = new SKBitmap(source.Height, source.Width, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(turned))
        {
            canvas.Translate(source.Height, 0);
            canvas.RotateDegrees(90);
            canvas.DrawBitmap(source, 0, 0);
        }

        using var data = turned.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A large PNG with a smooth gradient (compresses well, slow to search).</summary>
    public static byte[] GradientPng(int width, int height)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint())
        {
            paint.Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height), [SKColors.SkyBlue, SKColors.SaddleBrown], SKShaderTileMode.Clamp);
            canvas.DrawRect(0, 0, width, height, paint);
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A multipart form with <paramref name="bytes"/> in the field <paramref name="field"/>.</summary>
    public static MultipartFormDataContent Form(byte[] bytes, string fileName = "astronaut.png", string field = "image", string contentType = "image/png")
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return new MultipartFormDataContent { { file, field, fileName } };
    }

    /// <summary>A raw body with the given content type.</summary>
    public static ByteArrayContent Raw(byte[] bytes, string? contentType = "image/png")
    {
        var content = new ByteArrayContent(bytes);
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        return content;
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"expected JSON, got {response.Content.Headers.ContentType}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts a JSON error response with <paramref name="status"/> and returns its message.</summary>
    public static async Task<string> ErrorAsync(HttpResponseMessage response, int status)
    {
        var json = await JsonAsync(response);
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {json}");
        Assert.Equal(JsonValueKind.Object, json.ValueKind);
        Assert.Single(json.EnumerateObject());
        string message = json.GetProperty("error").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message;
    }

    public static BoundingBox Box(JsonElement face)
    {
        var b = face.GetProperty("box").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(4, b.Length);
        return new BoundingBox(b[0], b[1], b[2], b[3]);
    }
}
