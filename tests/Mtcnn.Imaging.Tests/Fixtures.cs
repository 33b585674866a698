using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace Mtcnn.Imaging.Tests;

/// <summary>Builds small encoded images in memory: via SkiaSharp where it can encode, by hand (PNG chunks, BMP, GIF) elsewhere.</summary>
internal static class Fixtures
{
    public static string FixturePath(string name) =>
        Path.Combine(Mtcnn.TestSupport.SharedData.RepoRoot, "tests", "fixtures", name);

    /// <summary>An RGBA (unpremultiplied) bitmap whose pixels come from <paramref name="color"/>.</summary>
    public static SKBitmap Bitmap(int width, int height, Func<int, int, SKColor> color)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, color(x, y));
            }
        }

        return bitmap;
    }

    /// <summary>A deterministic opaque pattern: distinct values in each channel so that swaps and flips show.</summary>
    public static SKColor Pattern(int x, int y) => new((byte)((x * 7) + (y * 3)), (byte)((x * 5) ^ (y * 11)), (byte)(255 - (x + (2 * y))), 255);

    /// <summary>Deterministic noise that compresses badly (so truncated files lose real data).</summary>
    public static SKBitmap Noise(int width, int height, int seed)
    {
        var rng = new Random(seed);
        return Bitmap(width, height, (_, _) => new SKColor((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256), 255));
    }

    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality = 100)
    {
        using SKPixmap pixmap = bitmap.PeekPixels();
        using SKData? data = format switch
        {
            SKEncodedImageFormat.Jpeg => pixmap.Encode(new SKJpegEncoderOptions(quality)),
            SKEncodedImageFormat.Webp => pixmap.Encode(new SKWebpEncoderOptions(quality == 100 ? SKWebpEncoderCompression.Lossless : SKWebpEncoderCompression.Lossy, quality)),
            _ => pixmap.Encode(SKPngEncoderOptions.Default),
        };
        Assert.NotNull(data);
        return data.ToArray();
    }

    /// <summary>Inserts an APP1 Exif segment carrying only an orientation tag right after the JPEG's SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        Assert.True(jpeg[0] == 0xFF && jpeg[1] == 0xD8, "not a JPEG");
        var tiff = new List<byte>();
        tiff.AddRange("MM"u8.ToArray());               // big-endian TIFF
        tiff.AddRange(new byte[] { 0x00, 0x2A });      // magic 42
        tiff.AddRange(new byte[] { 0, 0, 0, 8 });      // IFD0 at offset 8
        tiff.AddRange(new byte[] { 0x00, 0x01 });      // one entry
        tiff.AddRange(new byte[] { 0x01, 0x12 });      // tag 0x0112 Orientation
        tiff.AddRange(new byte[] { 0x00, 0x03 });      // type SHORT
        tiff.AddRange(new byte[] { 0, 0, 0, 1 });      // count 1
        tiff.AddRange(new byte[] { 0x00, (byte)orientation, 0, 0 }); // value, left-justified
        tiff.AddRange(new byte[] { 0, 0, 0, 0 });      // no next IFD
        byte[] payload = [.. "Exif\0\0"u8.ToArray(), .. tiff];
        int length = payload.Length + 2;
        byte[] segment = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload];
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    /// <summary>A PNG written chunk by chunk (see <see cref="Mtcnn.TestSupport.PngBytes.Write"/>).</summary>
    public static byte[] Png(int width, int height, int bitDepth, int colorType, byte[][] rows, byte[]? palette = null, byte[]? transparency = null) =>
        Mtcnn.TestSupport.PngBytes.Write(width, height, bitDepth, colorType, rows, palette, transparency);

    /// <summary>A 24-bit bottom-up BMP (BITMAPINFOHEADER, BI_RGB) with rows padded to 4 bytes.</summary>
    public static byte[] Bmp24(int width, int height, Func<int, int, SKColor> color)
    {
        int rowSize = ((width * 3) + 3) & ~3;
        int imageSize = rowSize * height;
        var bmp = new byte[54 + imageSize];
        bmp[0] = (byte)'B';
        bmp[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), height); // positive: bottom-up
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(34), imageSize);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(38), 2835);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(42), 2835);
        for (int y = 0; y < height; y++)
        {
            int row = 54 + ((height - 1 - y) * rowSize);
            for (int x = 0; x < width; x++)
            {
                SKColor c = color(x, y);
                bmp[row + (3 * x)] = c.Blue;
                bmp[row + (3 * x) + 1] = c.Green;
                bmp[row + (3 * x) + 2] = c.Red;
            }
        }

        return bmp;
    }

    /// <summary>
    /// A GIF89a with a 16-colour global palette and one full-size frame per index array. The LZW stream emits only
    /// literal codes and a clear code often enough that the code width never grows past 5 bits.
    /// </summary>
    public static byte[] Gif(int width, int height, SKColor[] palette, params byte[][] frames)
    {
        Assert.Equal(16, palette.Length);
        using var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        WriteUInt16(gif, width);
        WriteUInt16(gif, height);
        gif.WriteByte(0b1_011_0_011); // global table present, 4-bit colour resolution, 2^(3+1) = 16 entries
        gif.WriteByte(0);             // background colour index
        gif.WriteByte(0);             // pixel aspect
        foreach (SKColor c in palette)
        {
            gif.Write([c.Red, c.Green, c.Blue]);
        }

        foreach (byte[] indices in frames)
        {
            Assert.Equal(width * height, indices.Length);
            gif.WriteByte(0x2C);
            WriteUInt16(gif, 0);
            WriteUInt16(gif, 0);
            WriteUInt16(gif, width);
            WriteUInt16(gif, height);
            gif.WriteByte(0);          // no local table, not interlaced
            const int minCodeSize = 4; // 16 colours
            gif.WriteByte(minCodeSize);
            byte[] lzw = LiteralLzw(indices, minCodeSize);
            for (int i = 0; i < lzw.Length; i += 255)
            {
                int n = Math.Min(255, lzw.Length - i);
                gif.WriteByte((byte)n);
                gif.Write(lzw, i, n);
            }

            gif.WriteByte(0);
        }

        gif.WriteByte(0x3B);
        return gif.ToArray();
    }

    private static byte[] LiteralLzw(byte[] indices, int minCodeSize)
    {
        int clear = 1 << minCodeSize;
        int end = clear + 1;
        int width = minCodeSize + 1;

        // After a clear the decoder adds one table entry per code except the first; the width grows when the next
        // free code reaches 2^width. Free codes start at clear + 2, so clear - 2 codes per run keep the width fixed.
        int perRun = clear - 2;
        var bits = new List<byte>();
        int acc = 0;
        int count = 0;
        void Emit(int code)
        {
            acc |= code << count;
            count += width;
            while (count >= 8)
            {
                bits.Add((byte)acc);
                acc >>= 8;
                count -= 8;
            }
        }

        for (int i = 0; i < indices.Length; i++)
        {
            if (i % perRun == 0)
            {
                Emit(clear);
            }

            Emit(indices[i]);
        }

        Emit(end);
        if (count > 0)
        {
            bits.Add((byte)acc);
        }

        return bits.ToArray();
    }

    private static void WriteUInt16(Stream s, int value)
    {
        s.WriteByte((byte)value);
        s.WriteByte((byte)(value >> 8));
    }

    /// <summary>The RGB bytes at (x, y) of a tightly packed RGB24 view.</summary>
    public static (byte R, byte G, byte B) Rgb(ImageData image, int x, int y)
    {
        Assert.Equal(PixelFormat.Rgb24, image.Format);
        ReadOnlySpan<byte> p = image.Pixels.Span.Slice((y * image.Stride) + (x * 3), 3);
        return (p[0], p[1], p[2]);
    }

    public static void AssertNear((byte R, byte G, byte B) actual, SKColor expected, int tolerance, string what)
    {
        int d = Math.Max(Math.Abs(actual.R - expected.Red), Math.Max(Math.Abs(actual.G - expected.Green), Math.Abs(actual.B - expected.Blue)));
        Assert.True(d <= tolerance, $"{what}: got ({actual.R}, {actual.G}, {actual.B}), expected ({expected.Red}, {expected.Green}, {expected.Blue}) within {tolerance}.");
    }

    /// <summary>A fresh empty folder under the system temp folder, deleted on dispose.</summary>
    public sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mtcnn-imaging-tests-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public string Write(string name, byte[] bytes)
        {
            string p = File(name);
            System.IO.File.WriteAllBytes(p, bytes);
            return p;
        }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
