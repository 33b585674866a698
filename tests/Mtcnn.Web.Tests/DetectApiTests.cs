using System.Net;
using System.Text.Json;

namespace Mtcnn.Web.Tests;

/// <summary><c>POST /api/detect</c> through the ASP.NET Core test host with the default limits.</summary>
public sealed class DetectApiTests : IClassFixture<DefaultServer>
{
    private readonly HttpClient client;

    public DetectApiTests(DefaultServer server)
    {
        client = server.Client;
    }

    [Fact]
    public async Task Sample_as_multipart_gives_one_face_in_the_detect_schema()
    {
        using var response = await client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        var json = await Fixtures.JsonAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["image", "width", "height", "faces"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("astronaut.png", json.GetProperty("image").GetString());
        Assert.Equal(512, json.GetProperty("width").GetInt32());
        Assert.Equal(512, json.GetProperty("height").GetInt32());
        var face = Assert.Single(json.GetProperty("faces").EnumerateArray());
        Assert.Equal(["box", "score", "landmarks"], face.EnumerateObject().Select(p => p.Name));
        Assert.True(Fixtures.Box(face).IntersectionOverUnion(Fixtures.SampleFace) > 0.95f, face.ToString());
        Assert.InRange(face.GetProperty("score").GetDouble(), 0.99, 1.0);
        var landmarks = face.GetProperty("landmarks").EnumerateArray().ToArray();
        Assert.Equal(5, landmarks.Length);
        Assert.All(landmarks, p => Assert.Equal(2, p.GetArrayLength()));
        Assert.Equal("1", response.Headers.GetValues("X-Face-Count").Single());
        Assert.Contains("detect;dur=", response.Headers.GetValues("Server-Timing").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Numbers_are_rounded_like_the_cli()
    {
        using var response = await client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        var face = (await Fixtures.JsonAsync(response)).GetProperty("faces")[0];
        foreach (var v in face.GetProperty("box").EnumerateArray().Concat(face.GetProperty("landmarks").EnumerateArray().SelectMany(p => p.EnumerateArray())))
        {
            string raw = v.GetRawText();
            int dot = raw.IndexOf('.', StringComparison.Ordinal);
            Assert.True(dot < 0 || raw.Length - dot - 1 <= 4, raw);
        }

        string score = face.GetProperty("score").GetRawText();
        Assert.True(score.Length - score.IndexOf('.', StringComparison.Ordinal) - 1 <= 6, score);
    }

    [Fact]
    public async Task Raw_body_gives_the_same_faces_as_multipart()
    {
        using var multipart = await client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        using var raw = await client.PostAsync("/api/detect", Fixtures.Raw(Fixtures.Sample, "image/png"));
        var a = await Fixtures.JsonAsync(multipart);
        var b = await Fixtures.JsonAsync(raw);
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        Assert.Equal("upload", b.GetProperty("image").GetString());
        Assert.Equal(a.GetProperty("faces").GetRawText(), b.GetProperty("faces").GetRawText());
    }

    [Theory]
    [InlineData("image/jpeg")]
    [InlineData("image/gif")]
    [InlineData("application/octet-stream")]
    public async Task The_format_comes_from_the_bytes_not_the_declared_type_or_name(string declared)
    {
        using var raw = await client.PostAsync("/api/detect", Fixtures.Raw(Fixtures.Sample, declared));
        Assert.Single((await Fixtures.JsonAsync(raw)).GetProperty("faces").EnumerateArray());
        using var form = await client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample, "notes.txt", contentType: declared));
        var json = await Fixtures.JsonAsync(form);
        Assert.Equal("notes.txt", json.GetProperty("image").GetString());
        Assert.Single(json.GetProperty("faces").EnumerateArray());
    }

    [Fact]
    public async Task Blank_image_gives_no_faces()
    {
        using var response = await client.PostAsync("/api/detect", Fixtures.Form(Fixtures.BlankPng(), "blank.png"));
        var json = await Fixtures.JsonAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(320, json.GetProperty("width").GetInt32());
        Assert.Equal(240, json.GetProperty("height").GetInt32());
        Assert.Equal(0, json.GetProperty("faces").GetArrayLength());
    }

    [Fact]
    public async Task Truncated_png_is_422()
    {
        byte[] half = Fixtures.Sample[..(Fixtures.Sample.Length / 2)];
        using var response = await client.PostAsync("/api/detect", Fixtures.Form(half, "half.png"));
        string message = await Fixtures.ErrorAsync(response, 422);
        Assert.Contains("half.png", message, StringComparison.Ordinal);
        Assert.Contains("truncated", message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Png_with_a_broken_header_is_422()
    {
        byte[] broken = (byte[])Fixtures.Sample.Clone();
        // Zero the width in the IHDR chunk (bytes 16..19): the signature says PNG, the header is invalid.
        Array.Clear(broken, 16, 4);
        using var response = await client.PostAsync("/api/detect", Fixtures.Form(broken, "broken.png"));
        string message = await Fixtures.ErrorAsync(response, 422);
        Assert.Contains("broken.png", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bytes_that_are_no_image_are_415()
    {
        using var response = await client.PostAsync("/api/detect", Fixtures.Form("%PDF-1.7 not an image"u8.ToArray(), "doc.pdf", contentType: "image/png"));
        string message = await Fixtures.ErrorAsync(response, 415);
        Assert.Contains("not a supported image", message, StringComparison.Ordinal);
        Assert.Contains("PDF", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/json")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task A_content_type_that_is_neither_multipart_nor_an_image_is_415(string? contentType)
    {
        using var response = await client.PostAsync("/api/detect", Fixtures.Raw(Fixtures.Sample, contentType));
        string message = await Fixtures.ErrorAsync(response, 415);
        Assert.Contains("multipart/form-data field 'image'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Multipart_without_an_image_field_is_400()
    {
        using var response = await client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample, field: "file"));
        string message = await Fixtures.ErrorAsync(response, 400);
        Assert.Contains("no field named 'image'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Other_form_fields_are_skipped()
    {
        using var form = Fixtures.Form(Fixtures.Sample);
        form.Add(new StringContent("hello"), "comment");
        using var response = await client.PostAsync("/api/detect", form);
        Assert.Single((await Fixtures.JsonAsync(response)).GetProperty("faces").EnumerateArray());
    }

    [Fact]
    public async Task Empty_upload_is_400()
    {
        using var response = await client.PostAsync("/api/detect", Fixtures.Raw([], "image/png"));
        string message = await Fixtures.ErrorAsync(response, 400);
        Assert.Contains("empty", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stage_views_report_candidates_without_landmarks()
    {
        var counts = new Dictionary<string, int>();
        foreach (string stage in new[] { "pnet", "rnet", "onet" })
        {
            using var response = await client.PostAsync($"/api/detect?stage={stage}", Fixtures.Form(Fixtures.Sample));
            var faces = (await Fixtures.JsonAsync(response)).GetProperty("faces").EnumerateArray().ToArray();
            counts[stage] = faces.Length;
            Assert.All(faces, f => Assert.Equal(stage == "onet", f.TryGetProperty("landmarks", out _)));
            Assert.All(faces, f => Assert.InRange(f.GetProperty("score").GetDouble(), 0, 1));
            Assert.Equal(faces.Select(f => f.GetProperty("score").GetDouble()).OrderDescending(), faces.Select(f => f.GetProperty("score").GetDouble()));
            Assert.Equal(faces.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("X-Face-Count").Single());
        }

        Assert.Equal(1, counts["onet"]);
        Assert.True(counts["pnet"] > counts["rnet"] && counts["rnet"] >= counts["onet"], string.Join(", ", counts));
    }

    [Theory]
    [InlineData("minFaceSize=600", 0)]
    [InlineData("minFaceSize=40", 1)]
    [InlineData("onetThreshold=1", 0)]
    [InlineData("thresholds=0.6,0.7,0.99", 1)]
    [InlineData("maxFaces=1&stage=pnet", 1)]
    [InlineData("scaleFactor=0.5&cropBorder=clip", 1)]
    [InlineData("STAGE=ONET&MinFaceSize=30", 1)]
    public async Task Options_change_the_result(string query, int faces)
    {
        using var response = await client.PostAsync($"/api/detect?{query}", Fixtures.Form(Fixtures.Sample));
        var json = await Fixtures.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        Assert.Equal(faces, json.GetProperty("faces").GetArrayLength());
    }

    [Fact]
    public async Task A_capped_candidate_search_says_so_in_the_json()
    {
        // Zero thresholds and the smallest face size on a 240x200 image: the first pyramid level alone has about
        // 355 x 295 P-Net windows, more than the server's candidate limit (DetectorOptions.MaxCandidates, 50,000).
        using var capped = await client.PostAsync("/api/detect?stage=pnet&thresholds=0,0,0&minFaceSize=4", Fixtures.Form(Fixtures.GradientPng(240, 200), "g.png"));
        var json = await Fixtures.JsonAsync(capped);
        Assert.True(capped.StatusCode == HttpStatusCode.OK, json.ToString());
        Assert.True(json.GetProperty("candidateLimitReached").GetBoolean());
        Assert.Equal(["image", "width", "height", "faces", "candidateLimitReached"], json.EnumerateObject().Select(p => p.Name).ToArray());

        using var normal = await client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        var plain = await Fixtures.JsonAsync(normal);
        Assert.False(plain.TryGetProperty("candidateLimitReached", out _), plain.ToString());
    }

    [Theory]
    [InlineData("minFaceSize=2", "minFaceSize: MinFaceSize must be in [4, 100000], got 2.")]
    [InlineData("scaleFactor=0.99", "scaleFactor: ScaleFactor must be in [0.1, 0.95], got 0.99.")]
    [InlineData("thresholds=1.5,0.7,0.7", "pnetThreshold: PNetThreshold must be in [0, 1], got 1.5.")]
    [InlineData("onetThreshold=-0.1", "onetThreshold: ONetThreshold must be in [0, 1], got -0.1.")]
    [InlineData("maxFaces=-1", "maxFaces: MaxFaces must be in [0, 100000] (0 keeps all faces), got -1.")]
    [InlineData("thresholds=0.6,0.7", "thresholds: expected 3 comma-separated numbers like 0.6,0.7,0.7, got '0.6,0.7'.")]
    [InlineData("minFaceSize=abc", "minFaceSize: expected a number like 20, got 'abc'.")]
    [InlineData("minFaceSize=NaN", "minFaceSize: expected a number like 20, got 'NaN'.")]
    [InlineData("maxFaces=1.5", "maxFaces: expected a whole number, got '1.5'.")]
    [InlineData("stage=xnet", "stage: expected one of pnet, rnet, onet, got 'xnet'.")]
    [InlineData("thresholds=0.6,0.7,0.7&pnetThreshold=0.5", "give either thresholds=P,R,O or pnetThreshold / rnetThreshold / onetThreshold, not both.")]
    [InlineData("minFaceSize=20&minFaceSize=30", "query parameter 'minFaceSize' is given 2 times; give it once.")]
    [InlineData("rotations=45", "rotations: expected 0, 90, 180 or 270 separated by commas (like 0,90,180,270), all, or auto, got '45'.")]
    [InlineData("rotations=", "rotations: expected 0, 90, 180 or 270 separated by commas (like 0,90,180,270), all, or auto, got ''.")]
    [InlineData("rotations=0,,90", "rotations: expected 0, 90, 180 or 270 separated by commas (like 0,90,180,270), all, or auto, got '0,,90'.")]
    [InlineData("format=png", "unknown query parameter 'format'; known parameters are minFaceSize, scaleFactor, thresholds, pnetThreshold, rnetThreshold, onetThreshold, stage, maxFaces, cropBorder, rotations.")]
    public async Task Invalid_options_are_400_with_the_range_message(string query, string expected)
    {
        using var response = await client.PostAsync($"/api/detect?{query}", Fixtures.Form(Fixtures.Sample));
        Assert.Equal(expected, await Fixtures.ErrorAsync(response, 400));
    }

    [Theory]
    [InlineData("rotations=auto")]
    [InlineData("rotations=270")]
    [InlineData("rotations=0,90,180,270")]
    [InlineData("Rotations=ALL")]
    public async Task A_turned_photo_is_found_upright_with_rotations(string query)
    {
        byte[] turned = Fixtures.SampleTurnedClockwise();
        using var response = await client.PostAsync($"/api/detect?{query}", Fixtures.Form(turned));
        var json = await Fixtures.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        var face = Assert.Single(json.GetProperty("faces").EnumerateArray());
        Assert.Equal(["box", "score", "landmarks", "rotation"], face.EnumerateObject().Select(p => p.Name));
        Assert.Equal(270, face.GetProperty("rotation").GetInt32());

        // The sample's face box turned a quarter turn clockwise in a 512-pixel square: (x, y) -> (513 - y, x).
        var f = Fixtures.SampleFace;
        var expected = new BoundingBox(513 - f.Y2, f.X1, 513 - f.Y1, f.X2);
        Assert.True(Fixtures.Box(face).IntersectionOverUnion(expected) > 0.9f, face.ToString());
    }

    [Fact]
    public async Task Invalid_options_are_refused_before_the_upload_is_read()
    {
        // No body at all: the query alone decides.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/detect?minFaceSize=1");
        using var response = await client.SendAsync(request);
        Assert.Contains("MinFaceSize must be in [4, 100000]", await Fixtures.ErrorAsync(response, 400), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Thirty_two_concurrent_requests_all_get_the_right_answer()
    {
        using var reference = await client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        string expected = (await Fixtures.JsonAsync(reference)).GetProperty("faces").GetRawText();
        byte[] blank = Fixtures.BlankPng();
        byte[] corrupt = Fixtures.Sample[..1000];

        // A mix: samples (1 face), blank images (0 faces), truncated files (422), P-Net views.
        var tasks = Enumerable.Range(0, 32).Select(async i =>
        {
            (string url, byte[] body, int status, int? faces) = (i % 4) switch
            {
                0 => ("/api/detect", Fixtures.Sample, 200, (int?)1),
                1 => ("/api/detect", blank, 200, 0),
                2 => ("/api/detect", corrupt, 422, null),
                _ => ("/api/detect?stage=pnet", Fixtures.Sample, 200, null),
            };
            using var response = await client.PostAsync(url, Fixtures.Form(body));
            var json = await Fixtures.JsonAsync(response);
            Assert.True((int)response.StatusCode == status, $"request {i}: {(int)response.StatusCode} {json}");
            if (faces is { } n)
            {
                Assert.Equal(n, json.GetProperty("faces").GetArrayLength());
                if (n == 1)
                {
                    Assert.Equal(expected, json.GetProperty("faces").GetRawText());
                }
            }
            else if (status == 200)
            {
                Assert.True(json.GetProperty("faces").GetArrayLength() > 1);
            }
        });
        await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task Get_is_a_json_405()
    {
        using var response = await client.GetAsync("/api/detect");
        Assert.Equal("GET is not allowed on /api/detect; use POST.", await Fixtures.ErrorAsync(response, 405));
        Assert.Equal("POST", response.Content.Headers.Allow.Single());
    }
}
