using System.Net;
using System.Net.Http.Headers;

namespace Mtcnn.Web.Tests;

/// <summary>How an upload is framed: one image field per form, the part limit to the part, no compressed bodies.</summary>
public sealed class UploadFramingTests
{
    private static MultipartFormDataContent FormWith(int otherParts, int imageFields, bool imageFirst = false)
    {
        var form = new MultipartFormDataContent();
        void AddImages()
        {
            for (int i = 0; i < imageFields; i++)
            {
                var file = new ByteArrayContent(Fixtures.Sample);
                file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                form.Add(file, "image", $"face{i}.png");
            }
        }

        if (imageFirst)
        {
            AddImages();
        }

        for (int i = 0; i < otherParts; i++)
        {
            form.Add(new StringContent("x"), $"note{i}");
        }

        if (!imageFirst)
        {
            AddImages();
        }

        return form;
    }

    [Fact]
    public async Task Several_image_fields_are_400_saying_how_many()
    {
        await using var app = await TestApp.StartAsync();
        using var response = await app.Client.PostAsync("/api/detect", FormWith(0, 3));
        Assert.Equal(
            "one image per request: the multipart/form-data body has 3 fields named 'image'; send each image in its own request.",
            await Fixtures.ErrorAsync(response, 400));
    }

    [Theory]
    [InlineData(100, false, 200)]
    [InlineData(101, false, 400)]
    [InlineData(100, true, 200)]
    [InlineData(101, true, 400)]
    public async Task The_part_limit_is_exact_before_and_after_the_image(int others, bool imageFirst, int status)
    {
        await using var app = await TestApp.StartAsync();
        using var response = await app.Client.PostAsync("/api/detect", FormWith(others, 1, imageFirst));
        if (status == 200)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Single((await Fixtures.JsonAsync(response)).GetProperty("faces").EnumerateArray());
        }
        else
        {
            Assert.Contains("more than 100 parts", await Fixtures.ErrorAsync(response, 400), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_compressed_body_is_415_naming_the_encoding()
    {
        await using var app = await TestApp.StartAsync();
        foreach (var content in new HttpContent[] { Fixtures.Raw(Fixtures.Sample), Fixtures.Form(Fixtures.Sample) })
        {
            content.Headers.ContentEncoding.Add("gzip");
            using var response = await app.Client.PostAsync("/api/detect", content);
            Assert.StartsWith("compressed request bodies are not accepted (Content-Encoding: gzip)", await Fixtures.ErrorAsync(response, 415), StringComparison.Ordinal);
        }

        using var identity = Fixtures.Raw(Fixtures.Sample);
        identity.Headers.ContentEncoding.Add("identity");
        using var ok = await app.Client.PostAsync("/api/detect", identity);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}
