namespace Mtcnn.Imaging;

/// <summary>
/// A decoded image: tightly packed RGB24 pixels (alpha dropped, grey expanded, 16-bit reduced to 8-bit) in upright
/// orientation unless orientation handling was switched off. Immutable; the pixel buffer is owned by this object and
/// never written after construction, so instances are safe to share between threads.
/// </summary>
public sealed class LoadedImage
{
    internal LoadedImage(
        byte[] pixels,
        int width,
        int height,
        ImageFileFormat format,
        ExifOrientation fileOrientation,
        ExifOrientation appliedOrientation,
        bool isIncomplete,
        string? name)
    {
        Pixels = pixels;
        Image = new ImageData(pixels, width, height, PixelFormat.Rgb24);
        Format = format;
        FileOrientation = fileOrientation;
        AppliedOrientation = appliedOrientation;
        IsIncomplete = isIncomplete;
        Name = name;
    }

    /// <summary>The pixels as the detector's input view: <see cref="PixelFormat.Rgb24"/>, stride <c>Width * 3</c>.</summary>
    public ImageData Image { get; }

    /// <summary>The same RGB24 bytes as <see cref="Image"/>, row by row, top row first.</summary>
    public ReadOnlyMemory<byte> Pixels { get; }

    /// <summary>Width in pixels, after orientation.</summary>
    public int Width => Image.Width;

    /// <summary>Height in pixels, after orientation.</summary>
    public int Height => Image.Height;

    /// <summary>The container format detected from the content.</summary>
    public ImageFileFormat Format { get; }

    /// <summary>The orientation recorded in the file (<see cref="ExifOrientation.TopLeft"/> when it has none).</summary>
    public ExifOrientation FileOrientation { get; }

    /// <summary>
    /// The orientation transform applied to the pixels: equal to <see cref="FileOrientation"/> when
    /// <see cref="ImageLoadOptions.ApplyExifOrientation"/> is on, <see cref="ExifOrientation.TopLeft"/> (none) otherwise.
    /// </summary>
    public ExifOrientation AppliedOrientation { get; }

    /// <summary>
    /// True when the data ended early or had an error and only part of the image was decoded (possible only with
    /// <see cref="ImageLoadOptions.AllowIncompleteData"/>).
    /// </summary>
    public bool IsIncomplete { get; }

    /// <summary>The path or stream name given to the loader; null for an unnamed stream or buffer.</summary>
    public string? Name { get; }
}
