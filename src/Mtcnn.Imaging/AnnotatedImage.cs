using SkiaSharp;

namespace Mtcnn.Imaging;

/// <summary>
/// A drawn-on copy of an image, produced by <see cref="FaceAnnotator"/>. Owns its <see cref="Bitmap"/>; dispose it to
/// free the native pixels. Not thread-safe for concurrent drawing, safe for concurrent reading.
/// </summary>
public sealed class AnnotatedImage : IDisposable
{
    internal AnnotatedImage(SKBitmap bitmap)
    {
        Bitmap = bitmap;
    }

    /// <summary>The annotated pixels: an opaque <see cref="SKColorType.Rgba8888"/> bitmap the size of the input image.</summary>
    public SKBitmap Bitmap { get; }

    /// <summary>Width in pixels (the input image's).</summary>
    public int Width => Bitmap.Width;

    /// <summary>Height in pixels (the input image's).</summary>
    public int Height => Bitmap.Height;

    /// <summary>Writes the image in the format the extension names (<c>.png</c>, <c>.jpg</c>/<c>.jpeg</c>, <c>.webp</c>).</summary>
    /// <param name="path">The output file; its folder must exist.</param>
    /// <param name="options">Quality settings; null uses <see cref="ImageSaveOptions.Default"/> (quality 90).</param>
    /// <exception cref="ArgumentException">The extension is missing or unsupported; the message names it.</exception>
    /// <exception cref="IOException">Writing failed.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be written.</exception>
    public void Save(string path, ImageSaveOptions? options = null) => ImageSaver.Save(Bitmap, path, options);

    /// <summary>Encodes the image in memory.</summary>
    /// <param name="format"><see cref="ImageFileFormat.Png"/>, <see cref="ImageFileFormat.Jpeg"/> or <see cref="ImageFileFormat.Webp"/>.</param>
    /// <param name="options">Quality settings; null uses <see cref="ImageSaveOptions.Default"/>.</param>
    /// <returns>The encoded bytes.</returns>
    /// <exception cref="ArgumentException">The format cannot be written.</exception>
    public byte[] Encode(ImageFileFormat format, ImageSaveOptions? options = null) => ImageSaver.Encode(Bitmap, format, options);

    /// <summary>Copies the annotated pixels into a new RGB24 view.</summary>
    /// <returns>A tightly packed <see cref="PixelFormat.Rgb24"/> view.</returns>
    public ImageData ToImageData() => Bitmap.ToImageData();

    /// <summary>Frees the bitmap.</summary>
    public void Dispose() => Bitmap.Dispose();
}
