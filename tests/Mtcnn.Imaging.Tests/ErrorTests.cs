using SkiaSharp;
using static Mtcnn.Imaging.Tests.Fixtures;

namespace Mtcnn.Imaging.Tests;

public sealed class ErrorTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static ImageLoadException AssertLoadFails(string path, ImageLoadError error, ImageLoadOptions? options = null)
    {
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(path, options));
        Assert.Equal(error, e.Error);
        Assert.Equal(path, e.FileName);
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        return e;
    }

    private static byte[] NoisePng()
    {
        using var bitmap = Noise(64, 64, 1);
        return Encode(bitmap, SKEncodedImageFormat.Png);
    }

    private static byte[] NoiseJpeg()
    {
        using var bitmap = Noise(64, 64, 2);
        return Encode(bitmap, SKEncodedImageFormat.Jpeg, 90);
    }

    [Fact]
    public void Missing_file()
    {
        var e = AssertLoadFails(_folder.File("nope.jpg"), ImageLoadError.NotFound);
        Assert.Contains("not found", e.Message, StringComparison.Ordinal);
        Assert.IsType<FileNotFoundException>(e.InnerException);
    }

    [Fact]
    public void Missing_folder()
    {
        var e = AssertLoadFails(Path.Combine(_folder.Path, "no-such-dir", "a.png"), ImageLoadError.NotFound);
        Assert.Contains("folder does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory()
    {
        string dir = _folder.File("images.png");
        Directory.CreateDirectory(dir);
        var e = AssertLoadFails(dir, ImageLoadError.Unreadable);
        Assert.Contains("is a directory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_file()
    {
        var e = AssertLoadFails(_folder.Write("empty.png", []), ImageLoadError.Empty);
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes()
    {
        var rng = new Random(42);
        byte[] bytes = new byte[4096];
        rng.NextBytes(bytes);
        bytes[0] = 0xA7; // never a WBMP header (which starts with two zero bytes)
        var e = AssertLoadFails(_folder.Write("noise.jpg", bytes), ImageLoadError.UnsupportedFormat);
        Assert.Contains("not a supported image", e.Message, StringComparison.Ordinal);
        Assert.Contains("starts with bytes A7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_text_file_named_jpg()
    {
        var e = AssertLoadFails(_folder.Write("notes.jpg", "hello, this is not a picture\n"u8.ToArray()), ImageLoadError.UnsupportedFormat);
        Assert.Contains("looks like text", e.Message, StringComparison.Ordinal);
        Assert.Contains("JPEG, PNG, BMP, WebP, GIF, ICO/CUR and WBMP", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_png()
    {
        byte[] png = NoisePng();
        var e = AssertLoadFails(_folder.Write("cut.png", png[..(png.Length * 6 / 10)]), ImageLoadError.Truncated);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(ImageLoadOptions.AllowIncompleteData), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_png_cut_inside_its_header()
    {
        byte[] png = NoisePng();
        var e = AssertLoadFails(_folder.Write("header.png", png[..20]), ImageLoadError.Truncated);
        Assert.Contains("header", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_jpeg()
    {
        byte[] jpeg = NoiseJpeg();
        var e = AssertLoadFails(_folder.Write("cut.jpg", jpeg[..(jpeg.Length * 6 / 10)]), ImageLoadError.Truncated);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_jpeg_is_accepted_as_incomplete_when_allowed()
    {
        byte[] jpeg = NoiseJpeg();
        string path = _folder.Write("cut.jpg", jpeg[..(jpeg.Length * 6 / 10)]);
        var image = ImageLoader.Load(path, new ImageLoadOptions { AllowIncompleteData = true });
        Assert.True(image.IsIncomplete);
        Assert.Equal((64, 64), (image.Width, image.Height));
        Assert.False(ImageLoader.Load(_folder.Write("whole.jpg", jpeg)).IsIncomplete);
    }

    [Fact]
    public void A_png_with_a_corrupt_chunk()
    {
        byte[] png = NoisePng();
        int idat = png.AsSpan().IndexOf("IDAT"u8);
        for (int i = idat + 40; i < idat + 240; i++)
        {
            png[i] ^= 0x5A;
        }

        var e = AssertLoadFails(_folder.Write("bad.png", png), ImageLoadError.Corrupt);
        Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_image_over_the_pixel_limit_is_rejected_from_its_header()
    {
        using var bitmap = Bitmap(20, 20, Pattern);
        string path = _folder.Write("big.png", Encode(bitmap, SKEncodedImageFormat.Png));
        var e = AssertLoadFails(path, ImageLoadError.TooLarge, new ImageLoadOptions { MaxPixelCount = 399 });
        Assert.Contains("20x20 = 400 pixels", e.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(ImageLoadOptions.MaxPixelCount), e.Message, StringComparison.Ordinal);
        Assert.Equal(400, ImageLoader.Load(path, new ImageLoadOptions { MaxPixelCount = 400 }).Pixels.Length / 3);
    }

    [Fact]
    public void A_header_claiming_a_huge_size_is_rejected_before_decoding()
    {
        // A 1x1 PNG whose IHDR claims 100000 x 100000 pixels (10^10 > the 10^8 default): no pixel data is needed to reject it.
        byte[] png = Png(100_000, 100_000, 8, 0, [[0]]);
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Decode(png, "claims-huge.png"));
        Assert.Equal(ImageLoadError.TooLarge, e.Error);
        Assert.Contains("claims-huge.png", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_over_the_size_limit()
    {
        string path = _folder.Write("x.png", NoisePng());
        var e = AssertLoadFails(path, ImageLoadError.TooLarge, new ImageLoadOptions { MaxFileSizeBytes = 1000 });
        Assert.Contains("limit of 1000 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Streams_over_the_size_limit_stop_early()
    {
        using var pipe = new DecodeTests.NonSeekableStream(NoisePng());
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Decode(pipe, "pipe", new ImageLoadOptions { MaxFileSizeBytes = 1000 }));
        Assert.Equal(ImageLoadError.TooLarge, e.Error);
        Assert.StartsWith("pipe: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Failing_and_empty_streams()
    {
        var failing = Assert.Throws<ImageLoadException>(() => ImageLoader.Decode(new FailingStream(), "camera"));
        Assert.Equal(ImageLoadError.Unreadable, failing.Error);
        Assert.Contains("disk on fire", failing.Message, StringComparison.Ordinal);
        Assert.IsType<IOException>(failing.InnerException);

        var empty = Assert.Throws<ImageLoadException>(() => ImageLoader.Decode(new MemoryStream(), "nothing"));
        Assert.Equal(ImageLoadError.Empty, empty.Error);

        var unnamed = Assert.Throws<ImageLoadException>(() => ImageLoader.Decode(ReadOnlySpan<byte>.Empty));
        Assert.Null(unnamed.FileName);
        Assert.StartsWith("<image>: ", unnamed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Programmer_errors_are_argument_exceptions()
    {
        Assert.Throws<ArgumentException>(() => ImageLoader.Load(""));
        Assert.Throws<ArgumentNullException>(() => ImageLoader.Load(null!));
        Assert.Throws<ArgumentNullException>(() => ImageLoader.Decode((Stream)null!));
    }

    [Fact]
    public void A_png_wider_or_taller_than_the_decoders_limit_is_too_large_not_truncated()
    {
        // 1,000,001 x 2 grey pixels: 2 Mpx, far below the pixel limit, but over libpng's 1,000,000 px side limit.
        byte[][] rows = [new byte[1_000_001], new byte[1_000_001]];
        var wide = AssertLoadFails(_folder.Write("wide.png", Png(1_000_001, 2, 8, 0, rows)), ImageLoadError.TooLarge);
        Assert.Contains("the PNG is 1000001x2 pixels; PNG images wider or taller than 1000000 pixels cannot be decoded", wide.Message, StringComparison.Ordinal);
        Assert.Equal(ImageLoadRemedy.None, wide.Remedy);

        byte[][] column = [.. Enumerable.Range(0, 1_000_001).Select(_ => new byte[1])];
        var tall = AssertLoadFails(_folder.Write("tall.png", Png(1, 1_000_001, 8, 0, column)), ImageLoadError.TooLarge);
        Assert.Contains("1x1000001", tall.Message, StringComparison.Ordinal);

        // At the limit it decodes.
        var edge = ImageLoader.Load(_folder.Write("edge.png", Png(1_000_000, 1, 8, 0, [new byte[1_000_000]])));
        Assert.Equal((1_000_000, 1), (edge.Width, edge.Height));

        // The pixel limit is still named first when both apply.
        var both = AssertLoadFails(_folder.File("wide.png"), ImageLoadError.TooLarge, new ImageLoadOptions { MaxPixelCount = 1000 });
        Assert.Contains("more than the limit of 1000", both.Message, StringComparison.Ordinal);
        Assert.Equal(ImageLoadRemedy.MaxPixelCount, both.Remedy);
    }

    [Fact]
    public void A_png_of_zero_size_is_corrupt_not_truncated()
    {
        var e = AssertLoadFails(_folder.Write("zero.png", Png(0, 0, 8, 0, [])), ImageLoadError.Corrupt);
        Assert.Contains("the PNG header gives an empty size (0x0)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_progressive_jpeg_is_truncated_and_decodes_in_part_when_allowed()
    {
        // The fixture is a progressive JPEG (Skia reports a cut one as invalid input, not as incomplete).
        byte[] jpeg = File.ReadAllBytes(FixturePath("grace_hopper_512x512.jpg"));
        string path = _folder.Write("cut.jpg", jpeg[..(jpeg.Length / 2)]);
        var e = AssertLoadFails(path, ImageLoadError.Truncated);
        Assert.Equal("the JPEG data ends before the image is complete (truncated file: no end-of-image marker).", e.Problem);
        Assert.Equal(ImageLoadRemedy.AllowIncompleteData, e.Remedy);
        Assert.Contains(nameof(ImageLoadOptions.AllowIncompleteData), e.Message, StringComparison.Ordinal);

        var partial = ImageLoader.Load(path, new ImageLoadOptions { AllowIncompleteData = true });
        var whole = ImageLoader.Load(FixturePath("grace_hopper_512x512.jpg"));
        Assert.True(partial.IsIncomplete);
        Assert.Equal((512, 512), (partial.Width, partial.Height));

        // Half the scans give a coarser but recognisable picture: close to the whole image on average.
        double diff = 0;
        var a = partial.Pixels.Span;
        var b = whole.Pixels.Span;
        for (int i = 0; i < a.Length; i++)
        {
            diff += Math.Abs(a[i] - b[i]);
        }

        Assert.InRange(diff / a.Length, 0.01, 12);
    }

    [Fact]
    public void Problem_leaves_out_the_file_name_and_the_librarys_remedy()
    {
        byte[] png = NoisePng();
        string path = _folder.Write("cut.png", png[..(png.Length * 6 / 10)]);
        var e = AssertLoadFails(path, ImageLoadError.Truncated);
        Assert.Equal("the PNG data ends before the image is complete (truncated file).", e.Problem);
        Assert.Equal($"{path}: {e.Problem} Set ImageLoadOptions.AllowIncompleteData to accept partially decoded images.", e.Message);

        var big = AssertLoadFails(path, ImageLoadError.TooLarge, new ImageLoadOptions { MaxFileSizeBytes = 10 });
        Assert.Equal(ImageLoadRemedy.MaxFileSizeBytes, big.Remedy);
        Assert.DoesNotContain("ImageLoadOptions", big.Problem, StringComparison.Ordinal);

        var plain = new ImageLoadException("something else");
        Assert.Equal("something else", plain.Problem);
        Assert.Equal(ImageLoadRemedy.None, plain.Remedy);
    }

    private sealed class FailingStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("disk on fire");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
