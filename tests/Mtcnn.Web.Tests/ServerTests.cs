using System.Net;
using System.Text.Json;

namespace Mtcnn.Web.Tests;

/// <summary>Annotated images, health, OpenAPI, the page and the API's JSON fallbacks.</summary>
public sealed class ServerTests : IClassFixture<DefaultServer>
{
    private readonly HttpClient client;

    public ServerTests(DefaultServer server)
    {
        client = server.Client;
    }

    [Fact]
    public async Task Annotate_returns_a_png_of_the_image_size()
    {
        using var response = await client.PostAsync("/api/annotate", Fixtures.Form(Fixtures.Sample));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("1", response.Headers.GetValues("X-Face-Count").Single());
        byte[] png = await response.Content.ReadAsByteArrayAsync();
        var image = Mtcnn.Imaging.ImageLoader.Decode(png);
        Assert.Equal(Mtcnn.Imaging.ImageFileFormat.Png, image.Format);
        Assert.Equal((512, 512), (image.Width, image.Height));
        Assert.NotEqual(Mtcnn.Imaging.ImageLoader.Decode(Fixtures.Sample).Pixels.ToArray(), image.Pixels.ToArray());
    }

    [Theory]
    [InlineData("format=jpeg", "image/jpeg", Mtcnn.Imaging.ImageFileFormat.Jpeg)]
    [InlineData("format=webp&stage=rnet", "image/webp", Mtcnn.Imaging.ImageFileFormat.Webp)]
    public async Task Annotate_can_encode_other_formats(string query, string contentType, Mtcnn.Imaging.ImageFileFormat format)
    {
        using var response = await client.PostAsync($"/api/annotate?{query}", Fixtures.Raw(Fixtures.Sample));
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(format, Mtcnn.Imaging.ImageLoader.Decode(await response.Content.ReadAsByteArrayAsync()).Format);
    }

    [Fact]
    public async Task Annotate_errors_are_json()
    {
        using var badFormat = await client.PostAsync("/api/annotate?format=tiff", Fixtures.Form(Fixtures.Sample));
        Assert.Equal("format: expected one of png, jpeg, webp, got 'tiff'.", await Fixtures.ErrorAsync(badFormat, 400));
        using var notImage = await client.PostAsync("/api/annotate", Fixtures.Form("hello"u8.ToArray()));
        await Fixtures.ErrorAsync(notImage, 415);
    }

    [Fact]
    public async Task Uploads_are_not_buffered_to_disk()
    {
        // ASP.NET Core's form reader and request buffering spill bodies over 64 KiB to ASPNETCORE_*.tmp files in the
        // temp folder (ASPNETCORE_TEMP or the system's); the API reads uploads itself, in memory.
        string temp = Environment.GetEnvironmentVariable("ASPNETCORE_TEMP") is { Length: > 0 } t ? t : Path.GetTempPath();
        var created = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var watcher = new FileSystemWatcher(temp, "ASPNETCORE_*") { EnableRaisingEvents = true };
        watcher.Created += (_, e) => created.Add(e.FullPath);

        Assert.True(Fixtures.Sample.Length > 10 * 65536);
        using (var form = await client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample)))
        using (var raw = await client.PostAsync("/api/annotate", Fixtures.Raw(Fixtures.Sample)))
        {
            Assert.Equal(HttpStatusCode.OK, form.StatusCode);
            Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        }

        await Task.Delay(200);
        Assert.Empty(created);
    }

    [Fact]
    public async Task Health_reports_workers_and_limits()
    {
        using var response = await client.GetAsync("/api/health");
        var json = await Fixtures.JsonAsync(response);
        Assert.Equal("ok", json.GetProperty("status").GetString());
        Assert.Equal(Environment.ProcessorCount, json.GetProperty("workers").GetInt32());
        Assert.Matches(@"^\d+\.\d+\.\d+", json.GetProperty("version").GetString());
        var limits = json.GetProperty("limits");
        Assert.Equal(WebServerOptions.DefaultMaxUploadBytes, limits.GetProperty("maxUploadBytes").GetInt64());
        Assert.Equal(WebServerOptions.DefaultMaxPixels, limits.GetProperty("maxPixels").GetInt64());
        Assert.Equal(30, limits.GetProperty("requestTimeoutSeconds").GetDouble());
        Assert.Equal(DetectorOptions.Default.MaxCandidates, limits.GetProperty("maxCandidates").GetInt32());
    }

    [Fact]
    public async Task OpenApi_document_describes_the_endpoints_and_parameters()
    {
        using var response = await client.GetAsync(WebDemoHost.OpenApiPath);
        var doc = await Fixtures.JsonAsync(response);
        Assert.StartsWith("3.", doc.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = doc.GetProperty("paths");
        Assert.Equal(["/api/annotate", "/api/detect", "/api/health"], paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

        var detect = paths.GetProperty("/api/detect").GetProperty("post");
        var parameters = detect.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(
            ["minFaceSize", "scaleFactor", "thresholds", "pnetThreshold", "rnetThreshold", "onetThreshold", "stage", "maxFaces", "cropBorder", "rotations"],
            parameters.Keys);
        Assert.Equal(4, parameters["minFaceSize"].GetProperty("schema").GetProperty("minimum").GetDouble());
        Assert.Equal(["pnet", "rnet", "onet"], parameters["stage"].GetProperty("schema").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        var body = detect.GetProperty("requestBody").GetProperty("content");
        Assert.True(body.TryGetProperty("multipart/form-data", out _));
        Assert.True(body.TryGetProperty("image/*", out _));
        var responses = detect.GetProperty("responses");
        Assert.Equal(["200", "400", "408", "413", "415", "422", "503"], responses.EnumerateObject().Select(r => r.Name));

        var annotate = paths.GetProperty("/api/annotate").GetProperty("post");
        Assert.Contains(annotate.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "format");
        Assert.True(annotate.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("image/png", out _));
        Assert.True(paths.GetProperty("/api/health").TryGetProperty("get", out _));
    }

    [Fact]
    public async Task The_page_and_its_assets_are_served_with_a_strict_policy()
    {
        using var page = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("id=\"face-count\"", html, StringComparison.Ordinal);
        Assert.Contains("id=\"file-input\"", html, StringComparison.Ordinal);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());

        using var js = await client.GetAsync("/app.js");
        Assert.Equal("text/javascript", js.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/api/detect", await js.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var css = await client.GetAsync("/app.css");
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Unknown_api_paths_are_a_json_404_and_other_paths_a_plain_404()
    {
        using var api = await client.GetAsync("/api/faces");
        Assert.Contains("no API endpoint GET /api/faces", await Fixtures.ErrorAsync(api, 404), StringComparison.Ordinal);
        using var other = await client.GetAsync("/nothing-here.txt");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Theory]
    [InlineData("photo.jpg", "photo.jpg")]
    [InlineData("C:\\Users\\me\\photo.jpg", "photo.jpg")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("two\nlines.png", "two_lines.png")]
    [InlineData("   ", "upload")]
    [InlineData(null, "upload")]
    public void Client_file_names_are_cleaned(string? given, string expected)
    {
        Assert.Equal(expected, Api.UploadReader.CleanName(given));
        Assert.Equal(200, Api.UploadReader.CleanName(new string('a', 500)).Length);
    }

    [Fact]
    public void Rounding_drops_negative_zero_and_rounds_half_away_from_zero()
    {
        Assert.Equal(0d, Api.DetectionJson.Round(-0.00001f, 4));
        Assert.False(double.IsNegative(Api.DetectionJson.Round(-0.00001f, 4)));
        Assert.Equal(181.0514, Api.DetectionJson.Round(181.05139f, 4));
        Assert.Equal("{\"error\":\"a \\\"quote\\\"\"}", System.Text.Encoding.UTF8.GetString(Api.DetectionJson.Error("a \"quote\"")));
        using var doc = JsonDocument.Parse(Api.DetectionJson.Error("é <tag>"));
        Assert.Equal("é <tag>", doc.RootElement.GetProperty("error").GetString());
    }
}
