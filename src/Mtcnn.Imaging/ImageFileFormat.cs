namespace Mtcnn.Imaging;

/// <summary>The container format of an encoded image, detected from its content (never from the file name).</summary>
public enum ImageFileFormat
{
    /// <summary>JPEG (JFIF / Exif), baseline or progressive.</summary>
    Jpeg,

    /// <summary>PNG: RGB, RGBA, grey, grey with alpha or palette, 8 or 16 bits per channel.</summary>
    Png,

    /// <summary>Windows bitmap (BMP / DIB).</summary>
    Bmp,

    /// <summary>WebP, lossy or lossless; the first frame of an animation.</summary>
    Webp,

    /// <summary>GIF; the first frame of an animation.</summary>
    Gif,

    /// <summary>Windows icon (ICO / CUR); the largest image it holds, as chosen by the decoder.</summary>
    Ico,

    /// <summary>Wireless bitmap (WBMP, 1 bit per pixel).</summary>
    Wbmp,

    /// <summary>HEIF / HEIC (only where the native decoder supports it).</summary>
    Heif,

    /// <summary>AVIF (only where the native decoder supports it).</summary>
    Avif,

    /// <summary>Adobe DNG raw (only where the native decoder supports it).</summary>
    Dng,

    /// <summary>JPEG XL (only where the native decoder supports it).</summary>
    JpegXl,
}

/// <summary>
/// The EXIF orientation tag (0x0112): how the stored pixels must be transformed to appear upright. The numeric
/// values are the tag's values 1..8. The names say where the stored first row and first column end up
/// ("<c>RightTop</c>": the stored first row is the upright image's right side, the stored first column its top).
/// </summary>
public enum ExifOrientation
{
    /// <summary>1: stored upright; no transform.</summary>
    TopLeft = 1,

    /// <summary>2: stored mirrored left-right; flipped horizontally to display.</summary>
    TopRight = 2,

    /// <summary>3: stored upside down; rotated 180 degrees to display.</summary>
    BottomRight = 3,

    /// <summary>4: stored mirrored top-bottom; flipped vertically to display.</summary>
    BottomLeft = 4,

    /// <summary>5: stored transposed; mirrored about the main diagonal to display (width and height swap).</summary>
    LeftTop = 5,

    /// <summary>6: rotated 90 degrees clockwise to display (the usual portrait photo; width and height swap).</summary>
    RightTop = 6,

    /// <summary>7: stored transversed; mirrored about the anti-diagonal to display (width and height swap).</summary>
    RightBottom = 7,

    /// <summary>8: rotated 90 degrees counter-clockwise to display (width and height swap).</summary>
    LeftBottom = 8,
}
