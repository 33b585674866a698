namespace Mtcnn;

/// <summary>Byte layout of one pixel in an <see cref="ImageData"/>.</summary>
public enum PixelFormat
{
    /// <summary>3 bytes: red, green, blue.</summary>
    Rgb24,

    /// <summary>3 bytes: blue, green, red (OpenCV's order).</summary>
    Bgr24,

    /// <summary>4 bytes: red, green, blue, alpha (alpha is ignored).</summary>
    Rgba32,

    /// <summary>4 bytes: blue, green, red, alpha (alpha is ignored).</summary>
    Bgra32,

    /// <summary>1 byte: grey level, used for all three colour channels.</summary>
    Gray8,
}

/// <summary>
/// A read-only view of 8-bit pixels in memory: the detector's only input type, so the core never decodes files.
/// Rows are <see cref="Stride"/> bytes apart; a stride larger than <c>Width * BytesPerPixel</c> (padding) is allowed.
/// </summary>
public readonly struct ImageData
{
    /// <summary>Creates a view; validates that the buffer holds <paramref name="height"/> rows of <paramref name="stride"/> bytes.</summary>
    /// <param name="pixels">The pixel bytes, first row first.</param>
    /// <param name="width">Width in pixels (at least 1).</param>
    /// <param name="height">Height in pixels (at least 1).</param>
    /// <param name="format">The byte layout of a pixel.</param>
    /// <param name="stride">Bytes from one row to the next; 0 means tightly packed (<c>width * BytesPerPixel</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, the stride is too small, or the buffer is too short.</exception>
    public ImageData(ReadOnlyMemory<byte> pixels, int width, int height, PixelFormat format, int stride = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (!Enum.IsDefined(format))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown pixel format.");
        }

        int bpp = BytesPerPixelOf(format);
        long minStride = (long)width * bpp;
        if (minStride > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "The image is too wide.");
        }

        if (stride == 0)
        {
            stride = (int)minStride;
        }
        else if (stride < minStride)
        {
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"The stride must be at least width * {bpp} = {minStride} bytes.");
        }

        long needed = ((long)(height - 1) * stride) + minStride;
        if (pixels.Length < needed)
        {
            throw new ArgumentOutOfRangeException(nameof(pixels), pixels.Length, $"A {width}x{height} {format} image with stride {stride} needs at least {needed} bytes.");
        }

        Pixels = pixels;
        Width = width;
        Height = height;
        Format = format;
        Stride = stride;
    }

    /// <summary>The pixel bytes.</summary>
    public ReadOnlyMemory<byte> Pixels { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The byte layout of a pixel.</summary>
    public PixelFormat Format { get; }

    /// <summary>Bytes from one row to the next.</summary>
    public int Stride { get; }

    /// <summary>Bytes per pixel of <see cref="Format"/>.</summary>
    public int BytesPerPixel => BytesPerPixelOf(Format);

    /// <summary>True for the default value, which holds no image.</summary>
    public bool IsEmpty => Width == 0;

    /// <summary>Bytes per pixel of a format.</summary>
    public static int BytesPerPixelOf(PixelFormat format) => format switch
    {
        PixelFormat.Rgb24 or PixelFormat.Bgr24 => 3,
        PixelFormat.Rgba32 or PixelFormat.Bgra32 => 4,
        PixelFormat.Gray8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown pixel format."),
    };
}
