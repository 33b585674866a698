namespace Mtcnn.Imaging;

/// <summary>
/// Immutable settings for <see cref="ImageLoader"/>: orientation handling, partial-data policy and the size limits
/// that protect against hostile or accidental huge inputs. <see cref="Validate"/> (called by the loader) checks
/// every value against its documented range.
/// </summary>
public sealed record ImageLoadOptions
{
    /// <summary>Default maximum encoded size: 256 MiB (268,435,456 bytes).</summary>
    public const long DefaultMaxFileSizeBytes = 256L * 1024 * 1024;

    /// <summary>Default maximum decoded size: 100,000,000 pixels (width * height).</summary>
    public const long DefaultMaxPixelCount = 100_000_000;

    /// <summary>Largest allowed <see cref="MaxFileSizeBytes"/>: 2,147,483,591 bytes (the largest .NET array).</summary>
    public const long MaxFileSizeBytesLimit = 0x7FFFFFC7;

    /// <summary>Largest allowed <see cref="MaxPixelCount"/>: 500,000,000 pixels (1.5 GB of RGB24 output).</summary>
    public const long MaxPixelCountLimit = 500_000_000;

    /// <summary>The default options.</summary>
    public static ImageLoadOptions Default { get; } = new();

    /// <summary>
    /// Rotate / mirror the pixels as the EXIF orientation tag says, so that they are upright and width and height are
    /// the displayed ones. Default true. When false the pixels stay as stored and
    /// <see cref="LoadedImage.AppliedOrientation"/> is <see cref="ExifOrientation.TopLeft"/>.
    /// </summary>
    public bool ApplyExifOrientation { get; init; } = true;

    /// <summary>
    /// Accept images whose data ends early or has an error after the header (the decoder's <c>IncompleteInput</c> /
    /// <c>ErrorInInput</c> results): the rows that could be decoded are returned, the rest are filled by the decoder,
    /// and <see cref="LoadedImage.IsIncomplete"/> is set. Default false: such images are rejected with
    /// <see cref="ImageLoadError.Truncated"/> or <see cref="ImageLoadError.Corrupt"/>, because running a detector on a
    /// half-filled picture silently gives misleading results.
    /// </summary>
    public bool AllowIncompleteData { get; init; }

    /// <summary>
    /// Largest encoded input accepted, in bytes; a larger file or stream is rejected before it is read into memory.
    /// Default <see cref="DefaultMaxFileSizeBytes"/> (256 MiB); range [1, <see cref="MaxFileSizeBytesLimit"/>].
    /// </summary>
    public long MaxFileSizeBytes { get; init; } = DefaultMaxFileSizeBytes;

    /// <summary>
    /// Largest decoded image accepted, in pixels (width * height), checked from the header before any pixel is decoded.
    /// Default <see cref="DefaultMaxPixelCount"/> (100,000,000); range [1, <see cref="MaxPixelCountLimit"/>].
    /// </summary>
    public long MaxPixelCount { get; init; } = DefaultMaxPixelCount;

    /// <summary>Checks every value against its documented range.</summary>
    /// <returns>This instance, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names it and the valid range.</exception>
    public ImageLoadOptions Validate()
    {
        if (MaxFileSizeBytes is < 1 or > MaxFileSizeBytesLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFileSizeBytes), MaxFileSizeBytes, $"MaxFileSizeBytes must be in [1, {MaxFileSizeBytesLimit}].");
        }

        if (MaxPixelCount is < 1 or > MaxPixelCountLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPixelCount), MaxPixelCount, $"MaxPixelCount must be in [1, {MaxPixelCountLimit}].");
        }

        return this;
    }
}
