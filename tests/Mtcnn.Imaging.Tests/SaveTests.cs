using SkiaSharp;
using static Mtcnn.Imaging.Tests.Fixtures;

namespace Mtcnn.Imaging.Tests;

public sealed class SaveTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static AnnotatedImage Annotated()
    {
        using var bitmap = Bitmap(160, 120, (x, y) => new SKColor((byte)(x + 40), (byte)(y + 60), 120));
        Candidate[] box = [new(new BoundingBox(30, 40, 100, 100), 0.95f)];
        return new FaceAnnotator().Annotate(bitmap.ToImageData(), box);
    }

    private static double MeanAbsoluteDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        Assert.Equal(a.Length, b.Length);
        long sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += Math.Abs(a[i] - b[i]);
        }

        return (double)sum / a.Length;
    }

    [Theory]
    [InlineData("out.png", ImageFileFormat.Png, 0.0)]
    [InlineData("OUT.PNG", ImageFileFormat.Png, 0.0)]
    [InlineData("out.jpg", ImageFileFormat.Jpeg, 4.0)]
    [InlineData("out.jpeg", ImageFileFormat.Jpeg, 4.0)]
    [InlineData("out.webp", ImageFileFormat.Webp, 4.0)]
    public void Saved_files_round_trip(string name, ImageFileFormat format, double tolerance)
    {
        using AnnotatedImage annotated = Annotated();
        string path = _folder.File(name);
        annotated.Save(path);
        LoadedImage loaded = ImageLoader.Load(path);
        Assert.Equal(format, loaded.Format);
        Assert.Equal((annotated.Width, annotated.Height), (loaded.Width, loaded.Height));
        double mad = MeanAbsoluteDifference(annotated.ToImageData().Pixels.Span, loaded.Pixels.Span);
        Assert.True(mad <= tolerance, $"{name}: mean absolute difference {mad} > {tolerance}");
    }

    [Fact]
    public void Quality_and_lossless_options_apply()
    {
        using AnnotatedImage annotated = Annotated();
        byte[] low = annotated.Encode(ImageFileFormat.Jpeg, new ImageSaveOptions { Quality = 10 });
        byte[] high = annotated.Encode(ImageFileFormat.Jpeg, new ImageSaveOptions { Quality = 100 });
        Assert.True(low.Length < high.Length, $"quality 10 gave {low.Length} bytes, quality 100 gave {high.Length}");

        byte[] lossless = annotated.Encode(ImageFileFormat.Webp, new ImageSaveOptions { WebpLossless = true });
        Assert.Equal(annotated.ToImageData().Pixels.ToArray(), ImageLoader.Decode(lossless).Pixels.ToArray());

        Assert.Throws<ArgumentOutOfRangeException>(() => annotated.Encode(ImageFileFormat.Jpeg, new ImageSaveOptions { Quality = 0 }));
        Assert.Throws<ArgumentException>(() => annotated.Encode(ImageFileFormat.Gif));
    }

    [Theory]
    [InlineData("out.bmp", ".bmp")]
    [InlineData("out.gif", ".gif")]
    [InlineData("out.tiff", ".tiff")]
    [InlineData("out.jpg.txt", ".txt")]
    public void Unsupported_extensions_are_named_in_the_error(string name, string extension)
    {
        using AnnotatedImage annotated = Annotated();
        string path = _folder.File(name);
        var e = Assert.Throws<ArgumentException>(() => annotated.Save(path));
        Assert.Contains($"'{extension}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(".png", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_path_without_extension_is_rejected()
    {
        using AnnotatedImage annotated = Annotated();
        var e = Assert.Throws<ArgumentException>(() => annotated.Save(_folder.File("noext")));
        Assert.Contains("no extension", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ImageData_can_be_saved_directly()
    {
        var view = new ImageData(new byte[] { 1, 2, 3, 0, 4, 5, 6, 0 }, 1, 2, PixelFormat.Bgr24, stride: 4);
        string path = _folder.File("view.png");
        ImageSaver.Save(view, path);
        LoadedImage loaded = ImageLoader.Load(path);
        Assert.Equal(new byte[] { 3, 2, 1, 6, 5, 4 }, loaded.Pixels.ToArray());
    }
}
