using SkiaSharp;

namespace Mtcnn.Imaging;

/// <summary>Immutable encoder settings for <see cref="ImageSaver"/> and <see cref="AnnotatedImage.Save"/>.</summary>
public sealed record ImageSaveOptions
{
    /// <summary>The default options (quality 90, lossy WebP).</summary>
    public static ImageSaveOptions Default { get; } = new();

    /// <summary>Quality of JPEG and lossy WebP output, from 1 (smallest) to 100 (best). Default 90; PNG ignores it.</summary>
    public int Quality { get; init; } = 90;

    /// <summary>Write WebP losslessly (then <see cref="Quality"/> sets the compression effort). Default false.</summary>
    public bool WebpLossless { get; init; }

    /// <summary>Checks every value against its documented range.</summary>
    /// <returns>This instance, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names it and the valid range.</exception>
    public ImageSaveOptions Validate()
    {
        if (Quality is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(Quality), Quality, "Quality must be in [1, 100].");
        }

        return this;
    }
}

/// <summary>
/// Encodes bitmaps as PNG, JPEG or WebP, choosing the format from the output file's extension
/// (<c>.png</c>, <c>.jpg</c> / <c>.jpeg</c>, <c>.webp</c>, case-insensitive). Thread-safe.
/// </summary>
public static class ImageSaver
{
    /// <summary>The extensions <see cref="Save(SKBitmap, string, ImageSaveOptions?)"/> accepts, with their leading dot.</summary>
    public static IReadOnlyList<string> SupportedExtensions { get; } = [".png", ".jpg", ".jpeg", ".webp"];

    /// <summary>The output format a file name's extension selects.</summary>
    /// <param name="path">A file name or path.</param>
    /// <returns><see cref="ImageFileFormat.Png"/>, <see cref="ImageFileFormat.Jpeg"/> or <see cref="ImageFileFormat.Webp"/>.</returns>
    /// <exception cref="ArgumentException">The path is empty, has no extension or an unsupported one; the message names it.</exception>
    public static ImageFileFormat FormatFromPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string extension = Path.GetExtension(path);
        return extension.ToUpperInvariant() switch
        {
            ".PNG" => ImageFileFormat.Png,
            ".JPG" or ".JPEG" => ImageFileFormat.Jpeg,
            ".WEBP" => ImageFileFormat.Webp,
            "" => throw new ArgumentException($"Cannot choose an image format for '{path}': it has no extension (use {string.Join(", ", SupportedExtensions)}).", nameof(path)),
            _ => throw new ArgumentException($"Cannot save '{path}': the extension '{extension}' is not supported (use {string.Join(", ", SupportedExtensions)}).", nameof(path)),
        };
    }

    /// <summary>Encodes a bitmap in memory.</summary>
    /// <param name="bitmap">The pixels; any colour type SkiaSharp can encode.</param>
    /// <param name="format"><see cref="ImageFileFormat.Png"/>, <see cref="ImageFileFormat.Jpeg"/> or <see cref="ImageFileFormat.Webp"/>.</param>
    /// <param name="options">Quality settings; null uses <see cref="ImageSaveOptions.Default"/>.</param>
    /// <returns>The encoded file content.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="bitmap"/> is null.</exception>
    /// <exception cref="ArgumentException">The format cannot be written or the bitmap has no pixels.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The encoder failed.</exception>
    public static byte[] Encode(SKBitmap bitmap, ImageFileFormat format, ImageSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        options = (options ?? ImageSaveOptions.Default).Validate();
        if (format is not (ImageFileFormat.Png or ImageFileFormat.Jpeg or ImageFileFormat.Webp))
        {
            throw new ArgumentException($"Cannot encode {format}: only Png, Jpeg and Webp can be written.", nameof(format));
        }

        using SKPixmap? pixmap = bitmap.PeekPixels();
        if (pixmap is null || bitmap.Width <= 0 || bitmap.Height <= 0)
        {
            throw new ArgumentException("The bitmap holds no pixels.", nameof(bitmap));
        }

        using SKData? data = format switch
        {
            ImageFileFormat.Png => pixmap.Encode(SKPngEncoderOptions.Default),
            ImageFileFormat.Jpeg => pixmap.Encode(new SKJpegEncoderOptions(options.Quality)),
            _ => pixmap.Encode(new SKWebpEncoderOptions(options.WebpLossless ? SKWebpEncoderCompression.Lossless : SKWebpEncoderCompression.Lossy, options.Quality)),
        };
        return data?.ToArray() ?? throw new InvalidOperationException($"SkiaSharp could not encode the {bitmap.Width}x{bitmap.Height} {bitmap.ColorType} bitmap as {format}.");
    }

    /// <summary>Encodes a bitmap in the format its path's extension names and writes the file (replacing an existing one).</summary>
    /// <param name="bitmap">The pixels.</param>
    /// <param name="path">The output file; its folder must exist. The extension picks the format (see <see cref="FormatFromPath"/>).</param>
    /// <param name="options">Quality settings; null uses <see cref="ImageSaveOptions.Default"/>.</param>
    /// <exception cref="ArgumentException">The extension is missing or unsupported (checked before encoding), or the bitmap has no pixels.</exception>
    /// <exception cref="IOException">Writing failed (e.g. the folder does not exist).</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be written.</exception>
    public static void Save(SKBitmap bitmap, string path, ImageSaveOptions? options = null)
    {
        ImageFileFormat format = FormatFromPath(path);
        File.WriteAllBytes(path, Encode(bitmap, format, options));
    }

    /// <summary>Encodes a pixel view (any <see cref="PixelFormat"/> and stride) and writes it like <see cref="Save(SKBitmap, string, ImageSaveOptions?)"/>.</summary>
    /// <param name="image">The pixels.</param>
    /// <param name="path">The output file; the extension picks the format.</param>
    /// <param name="options">Quality settings; null uses <see cref="ImageSaveOptions.Default"/>.</param>
    /// <exception cref="ArgumentException">The extension is missing or unsupported, or the view is empty.</exception>
    /// <exception cref="IOException">Writing failed.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be written.</exception>
    public static void Save(ImageData image, string path, ImageSaveOptions? options = null)
    {
        FormatFromPath(path);
        using SKBitmap bitmap = image.ToSKBitmap();
        Save(bitmap, path, options);
    }
}
