using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Mtcnn.Web.Tests;

/// <summary>
/// Hostile or broken uploads get a 4xx whose message says what is wrong, never the 500 "internal server error.":
/// unterminated and truncated parts, wrong or missing boundaries, oversized header lines, empty bodies, wrong content
/// types and floods of parts.
/// </summary>
public sealed class MalformedUploadTests(DefaultServer server) : IClassFixture<DefaultServer>
{
    private const string Disposition = "Content-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n";

    public static TheoryData<string, string, string, int, string> Cases() => new()
    {
        {
            "unterminated part (the issue's example)", "multipart/form-data; boundary=xyz",
            "--xyz\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc", 400,
            "the 'image' part ends before its closing boundary '--xyz'"
        },
        {
            "part without its header block's end", "multipart/form-data; boundary=xyz",
            "--xyz\r\n" + Disposition, 400, "ends"
        },
        {
            "opening boundary only", "multipart/form-data; boundary=xyz", "--xyz", 400, "ends"
        },
        {
            "body with another boundary", "multipart/form-data; boundary=abc",
            "--xyz\r\n" + Disposition + "\r\nabc\r\n--xyz--\r\n", 400, "no boundary '--abc' found"
        },
        {
            "20,000 bytes with another boundary", "multipart/form-data; boundary=abc",
            "--xyz\r\n" + Disposition + "\r\n" + new string('a', 20_000) + "\r\n--xyz--\r\n", 400, "does not start with the boundary '--abc'"
        },
        {
            "second part's header line of 20,000 characters", "multipart/form-data; boundary=xyz",
            "--xyz\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n--xyz\r\n" + Disposition + "X-Long: " + new string('h', 20_000) + "\r\n\r\nabc\r\n--xyz--\r\n",
            400, "the headers of part 2"
        },
        {
            "empty body", "multipart/form-data; boundary=xyz", string.Empty, 400, "empty"
        },
        {
            "missing boundary parameter", "multipart/form-data", "--xyz\r\n" + Disposition + "\r\nabc\r\n--xyz--\r\n", 400, "no valid boundary"
        },
        {
            "empty boundary parameter", "multipart/form-data; boundary=\"\"", "--\r\n", 400, "no valid boundary"
        },
        {
            "boundary over 256 characters", "multipart/form-data; boundary=" + new string('b', 300), "--b\r\n", 400, "no valid boundary"
        },
        {
            "header line of 20,000 characters", "multipart/form-data; boundary=xyz",
            "--xyz\r\n" + Disposition + "X-Long: " + new string('h', 20_000) + "\r\n\r\nabc\r\n--xyz--\r\n", 400, "header"
        },
        {
            "40 header lines in one part", "multipart/form-data; boundary=xyz",
            "--xyz\r\n" + Disposition + string.Concat(Enumerable.Range(0, 40).Select(i => $"X-H{i}: v\r\n")) + "\r\nabc\r\n--xyz--\r\n", 400, "header"
        },
        {
            "closing boundary and nothing else", "multipart/form-data; boundary=xyz", "--xyz--\r\n", 400, "no field named 'image'"
        },
        {
            "empty image part", "multipart/form-data; boundary=xyz", "--xyz\r\n" + Disposition + "\r\n\r\n--xyz--\r\n", 400, "empty"
        },
        {
            "image part that is not an image", "multipart/form-data; boundary=xyz", "--xyz\r\n" + Disposition + "\r\nabc\r\n--xyz--\r\n", 415, "not a supported image"
        },
        {
            "10,000 small parts and no image", "multipart/form-data; boundary=xyz",
            string.Concat(Enumerable.Range(0, 10_000).Select(i => $"--xyz\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nv\r\n")) + "--xyz--\r\n",
            400, "more than 100 parts"
        },
        {
            "content type that is not a media type", "multipart", "--xyz\r\n", 415, "unsupported content type"
        },
        {
            "text/plain", "text/plain; charset=utf-8", "hello", 415, "unsupported content type"
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Malformed_uploads_are_4xx_with_a_message_saying_what_is_wrong(string what, string contentType, string body, int status, string expected)
    {
        using var response = await server.Client.PostAsync("/api/detect", Content(body, contentType));
        await AssertRefusedAsync(response, what, status, expected);
    }

    [Fact]
    public async Task A_truncated_multipart_upload_of_a_real_image_is_400_at_every_cut()
    {
        using var form = Fixtures.Form(Fixtures.Sample);
        byte[] whole = await form.ReadAsByteArrayAsync();
        string type = form.Headers.ContentType!.ToString();
        foreach (int length in new[] { 1, 10, 60, 120, whole.Length / 2, whole.Length - 10 })
        {
            var content = new ByteArrayContent(whole.AsSpan(0, length).ToArray());
            content.Headers.TryAddWithoutValidation("Content-Type", type);
            using var response = await server.Client.PostAsync("/api/detect", content);
            await AssertRefusedAsync(response, $"cut at {length} of {whole.Length}", 400, "truncated");
        }
    }

    [Fact]
    public async Task On_kestrel_unterminated_and_chunked_oversized_multipart_bodies_are_refused_not_500()
    {
        await using var app = await TestApp.StartKestrelAsync(new WebServerOptions { MaxUploadBytes = 100_000 });

        using (var response = await app.Client.PostAsync("/api/detect", Content("--xyz\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc", "multipart/form-data; boundary=xyz")))
        {
            await AssertRefusedAsync(response, "unterminated", 400, "before its closing boundary");
        }

        // No Content-Length (chunked): Kestrel's body limit stops a body of endless small parts.
        var parts = string.Concat(Enumerable.Range(0, 60).Select(i => $"--xyz\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\n{new string('v', 4000)}\r\n"));
        var stream = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes(parts)));
        stream.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=xyz");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/detect") { Content = stream };
        request.Headers.TransferEncodingChunked = true;
        using (var response = await app.Client.SendAsync(request))
        {
            await AssertRefusedAsync(response, "chunked flood", 413, "larger than the limit");
        }
    }

    private static ByteArrayContent Content(string body, string contentType)
    {
        var content = new ByteArrayContent(Encoding.ASCII.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string what, int status, string expected)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode != HttpStatusCode.InternalServerError, $"{what}: 500 {text}");
        Assert.True((int)response.StatusCode == status, $"{what}: expected {status}, got {(int)response.StatusCode} {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(text.Contains(expected, StringComparison.Ordinal), $"{what}: \"{expected}\" not in {text}");
        Assert.DoesNotContain("internal server error", text, StringComparison.Ordinal);
    }
}
