using SkiaSharp;
using static Mtcnn.Imaging.Tests.Fixtures;

namespace Mtcnn.Imaging.Tests;

public sealed class ConversionTests
{
    private const int W = 7;
    private const int H = 5;

    /// <summary>A view of <see cref="Pattern"/> (grey: its red channel) in <paramref name="format"/> with <paramref name="padding"/> bytes after each row.</summary>
    private static ImageData View(PixelFormat format, int padding)
    {
        int bpp = ImageData.BytesPerPixelOf(format);
        int stride = (W * bpp) + padding;
        byte[] bytes = new byte[stride * H];
        Array.Fill(bytes, (byte)0xEE); // padding that must never show up
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                SKColor c = Pattern(x, y);
                Span<byte> p = bytes.AsSpan((y * stride) + (x * bpp), bpp);
                switch (format)
                {
                    case PixelFormat.Rgb24: p[0] = c.Red; p[1] = c.Green; p[2] = c.Blue; break;
                    case PixelFormat.Bgr24: p[0] = c.Blue; p[1] = c.Green; p[2] = c.Red; break;
                    case PixelFormat.Rgba32: p[0] = c.Red; p[1] = c.Green; p[2] = c.Blue; p[3] = 3; break;
                    case PixelFormat.Bgra32: p[0] = c.Blue; p[1] = c.Green; p[2] = c.Red; p[3] = 0; break;
                    default: p[0] = c.Red; break;
                }
            }
        }

        return new ImageData(bytes, W, H, format, stride);
    }

    private static SKColor Expected(PixelFormat format, int x, int y)
    {
        SKColor c = Pattern(x, y);
        return format == PixelFormat.Gray8 ? new SKColor(c.Red, c.Red, c.Red) : new SKColor(c.Red, c.Green, c.Blue);
    }

    [Theory]
    [InlineData(PixelFormat.Rgb24, 0)]
    [InlineData(PixelFormat.Rgb24, 5)]
    [InlineData(PixelFormat.Bgr24, 3)]
    [InlineData(PixelFormat.Rgba32, 8)]
    [InlineData(PixelFormat.Bgra32, 0)]
    [InlineData(PixelFormat.Gray8, 1)]
    public void ImageData_to_SKBitmap_and_back_keeps_the_pixels(PixelFormat format, int padding)
    {
        ImageData view = View(format, padding);
        using SKBitmap bitmap = view.ToSKBitmap();
        Assert.Equal((W, H), (bitmap.Width, bitmap.Height));
        Assert.Equal(SKColorType.Rgba8888, bitmap.ColorType);
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                SKColor e = Expected(format, x, y);
                Assert.Equal(new SKColor(e.Red, e.Green, e.Blue, 255), bitmap.GetPixel(x, y));
            }
        }

        ImageData back = bitmap.ToImageData();
        Assert.Equal(PixelFormat.Rgb24, back.Format);
        Assert.Equal(W * 3, back.Stride);
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                SKColor e = Expected(format, x, y);
                Assert.Equal((e.Red, e.Green, e.Blue), Rgb(back, x, y));
            }
        }
    }

    [Fact]
    public void Bgra_bitmap_converts_directly()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(3, 2, SKColorType.Bgra8888, SKAlphaType.Opaque));
        bitmap.SetPixel(0, 0, new SKColor(10, 20, 30));
        bitmap.SetPixel(2, 1, new SKColor(200, 150, 100));
        ImageData data = bitmap.ToImageData();
        Assert.Equal(((byte)10, (byte)20, (byte)30), Rgb(data, 0, 0));
        Assert.Equal(((byte)200, (byte)150, (byte)100), Rgb(data, 2, 1));
    }

    [Fact]
    public void Other_colour_types_are_converted_by_skia()
    {
        using var grey = new SKBitmap(new SKImageInfo(2, 1, SKColorType.Gray8, SKAlphaType.Opaque));
        grey.GetPixelSpan()[0] = 77;
        grey.GetPixelSpan()[1] = 200;
        ImageData g = grey.ToImageData();
        Assert.Equal(((byte)77, (byte)77, (byte)77), Rgb(g, 0, 0));
        Assert.Equal(((byte)200, (byte)200, (byte)200), Rgb(g, 1, 0));

        // Premultiplied: (100, 50, 0) at alpha 128 is stored as about (50, 25, 0); dropping alpha un-premultiplies.
        using var premul = new SKBitmap(new SKImageInfo(1, 1, SKColorType.Rgba8888, SKAlphaType.Premul));
        premul.Erase(new SKColor(100, 50, 0, 128));
        AssertNear(Rgb(premul.ToImageData(), 0, 0), new SKColor(100, 50, 0), 2, "premultiplied");
    }

    [Fact]
    public void Loaded_image_round_trips_through_SKBitmap()
    {
        using var source = Bitmap(13, 9, Pattern);
        var loaded = ImageLoader.Decode(Encode(source, SKEncodedImageFormat.Png));
        using SKBitmap bitmap = loaded.Image.ToSKBitmap();
        Assert.Equal(loaded.Pixels.ToArray(), bitmap.ToImageData().Pixels.ToArray());
    }

    [Fact]
    public void Empty_inputs_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => default(ImageData).ToSKBitmap());
        using var empty = new SKBitmap();
        Assert.Throws<ArgumentException>(() => empty.ToImageData());
        Assert.Throws<ArgumentNullException>(() => ((SKBitmap)null!).ToImageData());
    }
}
