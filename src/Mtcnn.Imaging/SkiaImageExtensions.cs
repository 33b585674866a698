using SkiaSharp;

namespace Mtcnn.Imaging;

/// <summary>
/// Copies between the detector's <see cref="ImageData"/> view and SkiaSharp bitmaps, so that callers with their own
/// <see cref="SKBitmap"/> can run the detector and annotated output can be drawn with SkiaSharp. Both directions copy the
/// pixels; neither keeps a reference to its input. Thread-safe for distinct inputs.
/// </summary>
public static class SkiaImageExtensions
{
    /// <summary>
    /// Copies a pixel view of any <see cref="PixelFormat"/> and stride into a new opaque
    /// <see cref="SKColorType.Rgba8888"/> bitmap of the same size (grey is expanded, BGR reordered, alpha set to 255
    /// because <see cref="ImageData"/> ignores alpha). The caller owns and must dispose the bitmap.
    /// </summary>
    /// <param name="image">The pixels to copy.</param>
    /// <returns>A new bitmap.</returns>
    /// <exception cref="ArgumentException">The view is empty (the default value).</exception>
    /// <exception cref="InvalidOperationException">SkiaSharp could not allocate the bitmap.</exception>
    public static SKBitmap ToSKBitmap(this ImageData image)
    {
        if (image.IsEmpty)
        {
            throw new ArgumentException("The image holds no pixels (default ImageData).", nameof(image));
        }

        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var bitmap = new SKBitmap();
        if (!bitmap.TryAllocPixels(info))
        {
            bitmap.Dispose();
            throw new InvalidOperationException($"Cannot allocate a {image.Width}x{image.Height} bitmap.");
        }

        IntPtr basePtr = bitmap.GetPixels();
        int rowBytes = bitmap.RowBytes;
        ReadOnlySpan<byte> all = image.Pixels.Span;
        int width = image.Width;
        int srcRow = width * image.BytesPerPixel;
        for (int y = 0; y < image.Height; y++)
        {
            ReadOnlySpan<byte> src = all.Slice(y * image.Stride, srcRow);
            Span<byte> dst = NativeRows.Row(basePtr, rowBytes, y, width * 4);
            CopyRowToRgba(src, dst, width, image.Format);
        }

        bitmap.NotifyPixelsChanged();
        return bitmap;
    }

    /// <summary>
    /// Copies a bitmap of any colour type into a new tightly packed <see cref="PixelFormat.Rgb24"/> view (alpha dropped
    /// without compositing; premultiplied colours are un-premultiplied first; no colour-space conversion).
    /// </summary>
    /// <param name="bitmap">The bitmap to copy; it is not modified.</param>
    /// <returns>A view over a new array of <c>Width * Height * 3</c> bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="bitmap"/> is null.</exception>
    /// <exception cref="ArgumentException">The bitmap has no pixels or its colour type cannot be converted.</exception>
    public static ImageData ToImageData(this SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        if (bitmap.Width <= 0 || bitmap.Height <= 0 || bitmap.GetPixels() == IntPtr.Zero)
        {
            throw new ArgumentException("The bitmap holds no pixels.", nameof(bitmap));
        }

        int width = bitmap.Width;
        int height = bitmap.Height;
        byte[] pixels = GC.AllocateUninitializedArray<byte>(checked(width * height * 3));
        bool direct = bitmap.ColorType is SKColorType.Rgba8888 or SKColorType.Bgra8888 && bitmap.AlphaType != SKAlphaType.Premul;
        if (direct)
        {
            PackRgb(bitmap, pixels, bitmap.ColorType == SKColorType.Bgra8888);
        }
        else
        {
            // Let Skia convert everything else (premultiplied, 565, grey, float, 16-bit ...) to unpremultiplied RGBA first.
            using var rgba = new SKBitmap();
            if (!rgba.TryAllocPixels(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
            {
                throw new ArgumentException($"Cannot allocate a {width}x{height} conversion buffer.", nameof(bitmap));
            }

            using SKPixmap source = bitmap.PeekPixels();
            using SKPixmap target = rgba.PeekPixels();
            if (source is null || target is null || !source.ReadPixels(target))
            {
                throw new ArgumentException($"Cannot convert a {bitmap.ColorType}/{bitmap.AlphaType} bitmap to RGB.", nameof(bitmap));
            }

            PackRgb(rgba, pixels, swapRedBlue: false);
        }

        return new ImageData(pixels, width, height, PixelFormat.Rgb24);
    }

    private static void PackRgb(SKBitmap bitmap, byte[] output, bool swapRedBlue)
    {
        int width = bitmap.Width;
        IntPtr basePtr = bitmap.GetPixels();
        int rowBytes = bitmap.RowBytes;
        int r = swapRedBlue ? 2 : 0;
        int b = 2 - r;
        for (int y = 0; y < bitmap.Height; y++)
        {
            ReadOnlySpan<byte> src = NativeRows.Row(basePtr, rowBytes, y, width * 4);
            Span<byte> dst = output.AsSpan(y * width * 3, width * 3);
            for (int x = 0, s = 0, d = 0; x < width; x++, s += 4, d += 3)
            {
                dst[d] = src[s + r];
                dst[d + 1] = src[s + 1];
                dst[d + 2] = src[s + b];
            }
        }
    }

    private static void CopyRowToRgba(ReadOnlySpan<byte> src, Span<byte> dst, int width, PixelFormat format)
    {
        switch (format)
        {
            case PixelFormat.Rgb24:
            case PixelFormat.Bgr24:
            {
                int r = format == PixelFormat.Rgb24 ? 0 : 2;
                int b = 2 - r;
                for (int x = 0, s = 0, d = 0; x < width; x++, s += 3, d += 4)
                {
                    dst[d] = src[s + r];
                    dst[d + 1] = src[s + 1];
                    dst[d + 2] = src[s + b];
                    dst[d + 3] = 255;
                }

                break;
            }

            case PixelFormat.Rgba32:
            case PixelFormat.Bgra32:
            {
                int r = format == PixelFormat.Rgba32 ? 0 : 2;
                int b = 2 - r;
                for (int x = 0, s = 0; x < width; x++, s += 4)
                {
                    dst[s] = src[s + r];
                    dst[s + 1] = src[s + 1];
                    dst[s + 2] = src[s + b];
                    dst[s + 3] = 255;
                }

                break;
            }

            default:
                for (int x = 0, d = 0; x < width; x++, d += 4)
                {
                    byte g = src[x];
                    dst[d] = g;
                    dst[d + 1] = g;
                    dst[d + 2] = g;
                    dst[d + 3] = 255;
                }

                break;
        }
    }
}
