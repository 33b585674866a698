using Mtcnn.TestSupport;

namespace Mtcnn.Web.Tests;

/// <summary>What the API says of images the loader refuses: the real reason, without library settings a client cannot change.</summary>
public sealed class LoaderMessageTests
{
    [Fact]
    public async Task A_png_over_the_decoders_side_limit_is_422_naming_that_limit()
    {
        await using var app = await TestApp.StartAsync();
        byte[] wide = PngBytes.Write(1_000_001, 2, 8, 0, [new byte[1_000_001], new byte[1_000_001]]);
        using var response = await app.Client.PostAsync("/api/detect", Fixtures.Form(wide, "wide.png"));
        string message = await Fixtures.ErrorAsync(response, 422);
        Assert.Contains("PNG images wider or taller than 1000000 pixels cannot be decoded", message, StringComparison.Ordinal);
        Assert.DoesNotContain("truncated", message, StringComparison.Ordinal);

        byte[] empty = PngBytes.Write(0, 0, 8, 0, []);
        using var zero = await app.Client.PostAsync("/api/detect", Fixtures.Raw(empty));
        Assert.Contains("empty size (0x0)", await Fixtures.ErrorAsync(zero, 422), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_truncated_progressive_jpeg_is_called_truncated_and_no_library_option_is_named()
    {
        await using var app = await TestApp.StartAsync();
        byte[] jpeg = File.ReadAllBytes(Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg"));
        using var cut = await app.Client.PostAsync("/api/detect", Fixtures.Raw(jpeg[..(jpeg.Length / 2)], "image/jpeg"));
        string truncated = await Fixtures.ErrorAsync(cut, 422);
        Assert.Contains("the JPEG data ends before the image is complete (truncated file", truncated, StringComparison.Ordinal);

        await using var small = await TestApp.StartAsync(new WebServerOptions { MaxPixels = 100_000 });
        using var big = await small.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        string limit = await Fixtures.ErrorAsync(big, 422);
        Assert.Contains("more than the limit of 100000", limit, StringComparison.Ordinal);
        Assert.All(new[] { truncated, limit }, m => Assert.DoesNotContain("ImageLoadOptions", m, StringComparison.Ordinal));
    }
}
