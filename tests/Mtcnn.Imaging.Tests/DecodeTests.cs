using SkiaSharp;
using static Mtcnn.Imaging.Tests.Fixtures;

namespace Mtcnn.Imaging.Tests;

public sealed class DecodeTests
{
    private static void AssertExact(LoadedImage image, int width, int height, Func<int, int, SKColor> expected)
    {
        Assert.Equal(width, image.Width);
        Assert.Equal(height, image.Height);
        Assert.Equal(PixelFormat.Rgb24, image.Image.Format);
        Assert.Equal(width * 3, image.Image.Stride);
        Assert.Equal(width * height * 3, image.Pixels.Length);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                SKColor e = expected(x, y);
                var a = Rgb(image.Image, x, y);
                Assert.True(a == (e.Red, e.Green, e.Blue), $"pixel ({x}, {y}): got {a}, expected ({e.Red}, {e.Green}, {e.Blue})");
            }
        }
    }

    [Fact]
    public void Png_rgb_from_skia_decodes_exactly()
    {
        using var bitmap = Bitmap(37, 23, Pattern);
        var image = ImageLoader.Decode(Encode(bitmap, SKEncodedImageFormat.Png), "rgb.png");
        Assert.Equal(ImageFileFormat.Png, image.Format);
        Assert.Equal(ExifOrientation.TopLeft, image.FileOrientation);
        Assert.False(image.IsIncomplete);
        Assert.Equal("rgb.png", image.Name);
        AssertExact(image, 37, 23, Pattern);
    }

    [Fact]
    public void Png_rgba_drops_alpha_without_compositing()
    {
        // Colour type 6: the colour bytes must come back unchanged whatever the alpha (0, 128, 255).
        byte[][] rows =
        [
            [200, 100, 50, 0, 10, 20, 30, 128, 1, 2, 3, 255],
            [255, 255, 255, 0, 0, 0, 0, 0, 90, 80, 70, 7],
        ];
        var image = ImageLoader.Decode(Png(3, 2, 8, 6, rows), "rgba.png");
        var expected = new SKColor[,] { { new(200, 100, 50), new(10, 20, 30), new(1, 2, 3) }, { new(255, 255, 255), new(0, 0, 0), new(90, 80, 70) } };
        AssertExact(image, 3, 2, (x, y) => expected[y, x]);
    }

    [Fact]
    public void Png_grey_is_expanded_to_rgb()
    {
        byte[][] rows = [[0, 17, 128, 255], [1, 2, 3, 4]];
        var image = ImageLoader.Decode(Png(4, 2, 8, 0, rows), "grey.png");
        AssertExact(image, 4, 2, (x, y) => new SKColor(rows[y][x], rows[y][x], rows[y][x]));
    }

    [Fact]
    public void Png_grey_alpha_is_expanded_and_alpha_dropped()
    {
        byte[][] rows = [[10, 0, 20, 128, 30, 255], [240, 1, 250, 0, 5, 77]];
        var image = ImageLoader.Decode(Png(3, 2, 8, 4, rows), "grey-alpha.png");
        AssertExact(image, 3, 2, (x, y) => new SKColor(rows[y][2 * x], rows[y][2 * x], rows[y][2 * x]));
    }

    [Fact]
    public void Png_palette_with_transparency_gives_palette_colours()
    {
        byte[] palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 12, 34, 56];
        byte[] trns = [255, 0, 128]; // entry 3 has no alpha entry: opaque
        byte[][] rows = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 1, 3, 3]];
        var image = ImageLoader.Decode(Png(4, 3, 8, 3, rows, palette, trns), "palette.png");
        AssertExact(image, 4, 3, (x, y) =>
        {
            int i = rows[y][x] * 3;
            return new SKColor(palette[i], palette[i + 1], palette[i + 2]);
        });
    }

    [Fact]
    public void Png_palette_with_4_bit_indices()
    {
        byte[] palette = [9, 8, 7, 100, 110, 120];
        byte[][] rows = [[0x01, 0x10], [0x11, 0x00]]; // 4 pixels a row, two per byte, high nibble first
        var image = ImageLoader.Decode(Png(4, 2, 4, 3, rows, palette), "palette4.png");
        int[,] idx = { { 0, 1, 1, 0 }, { 1, 1, 0, 0 } };
        AssertExact(image, 4, 2, (x, y) => idx[y, x] == 0 ? new SKColor(9, 8, 7) : new SKColor(100, 110, 120));
    }

    [Fact]
    public void Png_16_bit_rgb_is_reduced_to_8_bit()
    {
        // v * 257 is exactly representable in 8 bits whether the decoder truncates or rounds.
        int[,,] v = { { { 0, 1, 2 }, { 255, 254, 128 } }, { { 77, 88, 99 }, { 200, 100, 50 } } };
        byte[][] rows = new byte[2][];
        for (int y = 0; y < 2; y++)
        {
            rows[y] = new byte[2 * 3 * 2];
            for (int x = 0; x < 2; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    int s = v[y, x, c] * 257;
                    rows[y][(x * 6) + (c * 2)] = (byte)(s >> 8);
                    rows[y][(x * 6) + (c * 2) + 1] = (byte)s;
                }
            }
        }

        var image = ImageLoader.Decode(Png(2, 2, 16, 2, rows), "rgb16.png");
        AssertExact(image, 2, 2, (x, y) => new SKColor((byte)v[y, x, 0], (byte)v[y, x, 1], (byte)v[y, x, 2]));
    }

    [Fact]
    public void Png_16_bit_grey_alpha_is_reduced_and_expanded()
    {
        // Colour type 4 at 16 bits: grey 0x4D4D (77), alpha 0x0000; grey 0xFFFF, alpha 0x8080.
        byte[][] rows = [[0x4D, 0x4D, 0x00, 0x00, 0xFF, 0xFF, 0x80, 0x80]];
        var image = ImageLoader.Decode(Png(2, 1, 16, 4, rows), "ga16.png");
        AssertExact(image, 2, 1, (x, _) => x == 0 ? new SKColor(77, 77, 77) : new SKColor(255, 255, 255));
    }

    [Fact]
    public void Jpeg_decodes_with_size_and_approximate_colours()
    {
        static SKColor Quadrants(int x, int y) => (x < 32, y < 24) switch
        {
            (true, true) => new SKColor(220, 30, 30),
            (false, true) => new SKColor(30, 200, 40),
            (true, false) => new SKColor(40, 50, 210),
            _ => new SKColor(128, 128, 128),
        };

        using var bitmap = Bitmap(64, 48, Quadrants);
        var image = ImageLoader.Decode(Encode(bitmap, SKEncodedImageFormat.Jpeg, 95), "q.jpg");
        Assert.Equal(ImageFileFormat.Jpeg, image.Format);
        Assert.Equal((64, 48), (image.Width, image.Height));
        foreach (var (x, y) in new[] { (8, 8), (56, 8), (8, 40), (56, 40) })
        {
            AssertNear(Rgb(image.Image, x, y), Quadrants(x, y), 12, $"JPEG pixel ({x}, {y})");
        }
    }

    [Fact]
    public void Webp_lossless_decodes_exactly_and_lossy_approximately()
    {
        using var bitmap = Bitmap(30, 20, Pattern);
        var lossless = ImageLoader.Decode(Encode(bitmap, SKEncodedImageFormat.Webp, 100), "a.webp");
        Assert.Equal(ImageFileFormat.Webp, lossless.Format);
        AssertExact(lossless, 30, 20, Pattern);

        using var flat = Bitmap(30, 20, (x, _) => x < 15 ? new SKColor(200, 60, 20) : new SKColor(20, 90, 200));
        var lossy = ImageLoader.Decode(Encode(flat, SKEncodedImageFormat.Webp, 90), "b.webp");
        Assert.Equal((30, 20), (lossy.Width, lossy.Height));
        AssertNear(Rgb(lossy.Image, 4, 10), new SKColor(200, 60, 20), 16, "lossy WebP left");
        AssertNear(Rgb(lossy.Image, 26, 10), new SKColor(20, 90, 200), 16, "lossy WebP right");
    }

    [Fact]
    public void Bmp_bottom_up_24_bit_decodes_exactly()
    {
        var image = ImageLoader.Decode(Bmp24(5, 3, Pattern), "p.bmp");
        Assert.Equal(ImageFileFormat.Bmp, image.Format);
        AssertExact(image, 5, 3, Pattern);
    }

    [Fact]
    public void Gif_decodes_the_first_frame_exactly()
    {
        SKColor[] palette = Enumerable.Range(0, 16).Select(i => new SKColor((byte)(i * 16), (byte)(255 - (i * 15)), (byte)(i * 7))).ToArray();
        const int w = 7, h = 5;
        byte[] first = Enumerable.Range(0, w * h).Select(i => (byte)((i * 5) % 16)).ToArray();
        byte[] second = Enumerable.Range(0, w * h).Select(i => (byte)(15 - (i % 16))).ToArray();
        var image = ImageLoader.Decode(Gif(w, h, palette, first, second), "anim.gif");
        Assert.Equal(ImageFileFormat.Gif, image.Format);
        AssertExact(image, w, h, (x, y) => palette[first[(y * w) + x]]);
    }

    [Fact]
    public void Format_is_detected_by_content_not_extension()
    {
        using var folder = new TempFolder();
        using var bitmap = Bitmap(6, 4, Pattern);
        string path = folder.Write("actually-a-png.jpg", Encode(bitmap, SKEncodedImageFormat.Png));
        var image = ImageLoader.Load(path);
        Assert.Equal(ImageFileFormat.Png, image.Format);
        Assert.Equal(path, image.Name);
        AssertExact(image, 6, 4, Pattern);
    }

    [Fact]
    public void File_stream_non_seekable_stream_and_span_give_the_same_pixels()
    {
        using var folder = new TempFolder();
        using var bitmap = Bitmap(19, 11, Pattern);
        byte[] png = Encode(bitmap, SKEncodedImageFormat.Png);
        string path = folder.Write("x.png", png);

        var fromFile = ImageLoader.Load(path);
        var fromSpan = ImageLoader.Decode(png);
        using var seekable = new MemoryStream(png);
        var fromStream = ImageLoader.Decode(seekable, "mem");
        using var pipe = new NonSeekableStream(png);
        var fromPipe = ImageLoader.Decode(pipe, "pipe");

        Assert.Null(fromSpan.Name);
        Assert.Equal(fromFile.Pixels.ToArray(), fromSpan.Pixels.ToArray());
        Assert.Equal(fromFile.Pixels.ToArray(), fromStream.Pixels.ToArray());
        Assert.Equal(fromFile.Pixels.ToArray(), fromPipe.Pixels.ToArray());
    }

    [Fact]
    public void Real_progressive_jpeg_photo_decodes()
    {
        string path = FixturePath("grace_hopper_512x512.jpg");
        var image = ImageLoader.Load(path);
        Assert.Equal(ImageFileFormat.Jpeg, image.Format);
        Assert.Equal((512, 512), (image.Width, image.Height));

        // Not a flat picture: the channels vary and are not all equal (it is a colour photo).
        var distinct = new HashSet<(byte, byte, byte)>();
        for (int y = 0; y < 512; y += 16)
        {
            for (int x = 0; x < 512; x += 16)
            {
                distinct.Add(Rgb(image.Image, x, y));
            }
        }

        Assert.True(distinct.Count > 200, $"only {distinct.Count} distinct sampled colours");
        Assert.Contains(distinct, c => c.Item1 != c.Item3);
    }

    [Fact]
    public void Concurrent_loads_give_identical_pixels()
    {
        using var bitmap = Noise(40, 30, 9);
        byte[] jpeg = WithExifOrientation(Encode(bitmap, SKEncodedImageFormat.Jpeg, 85), 6);
        byte[] expected = ImageLoader.Decode(jpeg).Pixels.ToArray();
        Parallel.For(0, 32, _ => Assert.Equal(expected, ImageLoader.Decode(jpeg).Pixels.ToArray()));
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Equal(256L * 1024 * 1024, ImageLoadOptions.Default.MaxFileSizeBytes);
        Assert.Equal(100_000_000, ImageLoadOptions.Default.MaxPixelCount);
        Assert.True(ImageLoadOptions.Default.ApplyExifOrientation);
        Assert.False(ImageLoadOptions.Default.AllowIncompleteData);

        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => ImageLoader.Decode([1, 2, 3], null, new ImageLoadOptions { MaxPixelCount = 0 }));
        Assert.Equal(nameof(ImageLoadOptions.MaxPixelCount), e1.ParamName);
        Assert.Contains("must be in", e1.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => new ImageLoadOptions { MaxFileSizeBytes = -1 }.Validate());
        Assert.Equal(nameof(ImageLoadOptions.MaxFileSizeBytes), e2.ParamName);
    }

    /// <summary>A read-only stream without seeking or length, like a pipe.</summary>
    internal sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
