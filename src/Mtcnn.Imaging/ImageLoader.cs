using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using SkiaSharp;

namespace Mtcnn.Imaging;

/// <summary>
/// Decodes image files, streams and byte buffers into tightly packed RGB24 pixels for the detector, using SkiaSharp's
/// codecs. The format is detected from the content (magic bytes), never from the file name. Alpha is dropped without
/// compositing, grey is expanded to RGB, 16-bit channels are reduced to 8 bits, animations give their first frame,
/// no colour-profile conversion is done, and the EXIF orientation is applied unless switched off.
/// Every problem with the input is reported as an <see cref="ImageLoadException"/> naming the file; SkiaSharp and I/O
/// exceptions never escape for bad input. All members are thread-safe.
/// </summary>
public static class ImageLoader
{
    private const string SupportedFormats = "JPEG, PNG, BMP, WebP, GIF, ICO/CUR and WBMP";
    private const int CopyBufferSize = 81920;

    /// <summary>libpng's default limit on a PNG's width and on its height (Skia keeps it).</summary>
    private const long MaxPngSide = 1_000_000;

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static ReadOnlySpan<byte> JpegEndMarker => [0xFF, 0xD9];

    /// <summary>Reads and decodes an image file.</summary>
    /// <param name="path">The file to read.</param>
    /// <param name="options">Limits and orientation handling; null uses <see cref="ImageLoadOptions.Default"/>.</param>
    /// <returns>The decoded, upright RGB24 image.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ImageLoadException">The file is missing, unreadable, empty, not a supported image, truncated,
    /// corrupt or over a limit; the message starts with the path.</exception>
    public static LoadedImage Load(string path, ImageLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options = (options ?? ImageLoadOptions.Default).Validate();
        if (Directory.Exists(path))
        {
            throw new ImageLoadException(path, ImageLoadError.Unreadable, "is a directory, not an image file.");
        }

        FileStream stream = OpenFile(path);
        using (stream)
        {
            using SKData data = ReadFile(stream, path, options.MaxFileSizeBytes);
            return DecodeData(data, path, options);
        }
    }

    /// <summary>Decodes an encoded image held in memory.</summary>
    /// <param name="bytes">The encoded file content (copied; the caller keeps ownership).</param>
    /// <param name="nameForErrors">A name used in error messages and <see cref="LoadedImage.Name"/>; null for none.</param>
    /// <param name="options">Limits and orientation handling; null uses <see cref="ImageLoadOptions.Default"/>.</param>
    /// <returns>The decoded, upright RGB24 image.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ImageLoadException">The bytes are empty, not a supported image, truncated, corrupt or over a limit.</exception>
    public static LoadedImage Decode(ReadOnlySpan<byte> bytes, string? nameForErrors = null, ImageLoadOptions? options = null)
    {
        options = (options ?? ImageLoadOptions.Default).Validate();
        CheckEncodedSize(bytes.Length, nameForErrors, options.MaxFileSizeBytes);
        using SKData data = SKData.CreateCopy(bytes);
        return DecodeData(data, nameForErrors, options);
    }

    /// <summary>Reads a stream from its current position to its end and decodes the image it holds.</summary>
    /// <param name="stream">A readable stream; it is not closed.</param>
    /// <param name="nameForErrors">A name used in error messages and <see cref="LoadedImage.Name"/>; null for none.</param>
    /// <param name="options">Limits and orientation handling; null uses <see cref="ImageLoadOptions.Default"/>.</param>
    /// <returns>The decoded, upright RGB24 image.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> cannot be read.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ImageLoadException">Reading failed, or the content is empty, not a supported image, truncated,
    /// corrupt or over a limit (reading stops as soon as <see cref="ImageLoadOptions.MaxFileSizeBytes"/> is exceeded).</exception>
    public static LoadedImage Decode(Stream stream, string? nameForErrors = null, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream is not readable.", nameof(stream));
        }

        options = (options ?? ImageLoadOptions.Default).Validate();
        using SKData data = ReadStream(stream, nameForErrors, options.MaxFileSizeBytes);
        return DecodeData(data, nameForErrors, options);
    }

    private static FileStream OpenFile(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException e)
        {
            throw new ImageLoadException(path, ImageLoadError.NotFound, "file not found.", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new ImageLoadException(path, ImageLoadError.NotFound, "file not found (its folder does not exist).", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ImageLoadException(path, ImageLoadError.Unreadable, "cannot be read: permission denied.", e);
        }
        catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException)
        {
            throw new ImageLoadException(path, ImageLoadError.Unreadable, $"cannot be opened: {e.Message}", e);
        }
    }

    private static SKData ReadFile(FileStream stream, string path, long limit)
    {
        long length;
        try
        {
            if (!stream.CanSeek)
            {
                // A pipe or device: its size is unknown until it has been read.
                return ReadStream(stream, path, limit);
            }

            length = stream.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ImageLoadException(path, ImageLoadError.Unreadable, $"cannot be read: {e.Message}", e);
        }

        CheckEncodedSize(length, path, limit);
        var data = SKData.Create(length);
        try
        {
            Span<byte> target = data.Span;
            int filled = 0;
            while (filled < target.Length)
            {
                int n = stream.Read(target[filled..]);
                if (n == 0)
                {
                    throw new ImageLoadException(path, ImageLoadError.Unreadable, $"the file shrank while it was read ({filled} of {length} bytes).");
                }

                filled += n;
            }

            return data;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            data.Dispose();
            throw new ImageLoadException(path, ImageLoadError.Unreadable, $"cannot be read: {e.Message}", e);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    private static SKData ReadStream(Stream stream, string? name, long limit)
    {
        try
        {
            using var buffer = new MemoryStream();
            byte[] chunk = new byte[CopyBufferSize];
            int n;
            while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buffer.Length + n > limit)
                {
                    throw new ImageLoadException(name, ImageLoadError.TooLarge, $"the data is larger than the limit of {limit} bytes.", ImageLoadRemedy.MaxFileSizeBytes);
                }

                buffer.Write(chunk, 0, n);
            }

            if (buffer.Length == 0)
            {
                throw new ImageLoadException(name, ImageLoadError.Empty, "the data is empty (0 bytes).");
            }

            return SKData.CreateCopy(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or NotSupportedException)
        {
            throw new ImageLoadException(name, ImageLoadError.Unreadable, $"cannot be read: {e.Message}", e);
        }
    }

    private static void CheckEncodedSize(long length, string? name, long limit)
    {
        if (length == 0)
        {
            throw new ImageLoadException(name, ImageLoadError.Empty, "the file is empty (0 bytes).");
        }

        if (length > limit)
        {
            throw new ImageLoadException(name, ImageLoadError.TooLarge, $"the file is {length} bytes, larger than the limit of {limit} bytes.", ImageLoadRemedy.MaxFileSizeBytes);
        }
    }

    private static LoadedImage DecodeData(SKData data, string? name, ImageLoadOptions options)
    {
        // The codec takes ownership of the stream (and the stream keeps a reference to the data).
        using SKCodec? codec = SKCodec.Create(new SKMemoryStream(data), out SKCodecResult createResult);
        if (codec is null)
        {
            throw RefusedHeader(data.AsSpan(), createResult, name, options);
        }

        ImageFileFormat format = MapFormat(codec.EncodedFormat)
            ?? throw new ImageLoadException(name, ImageLoadError.UnsupportedFormat, $"{codec.EncodedFormat} images are not supported; supported formats are {SupportedFormats}.");
        string formatName = DisplayName(format);

        SKImageInfo info = codec.Info;
        int width = info.Width;
        int height = info.Height;
        if (width <= 0 || height <= 0)
        {
            throw EmptySize(name, formatName, width, height);
        }

        CheckPixelCount(name, width, height, options);

        ExifOrientation fileOrientation = codec.EncodedOrigin is >= SKEncodedOrigin.TopLeft and <= SKEncodedOrigin.LeftBottom
            ? (ExifOrientation)(int)codec.EncodedOrigin
            : ExifOrientation.TopLeft;
        ExifOrientation applied = options.ApplyExifOrientation ? fileOrientation : ExifOrientation.TopLeft;

        // Unpremultiplied 8-bit RGBA with no colour space: the codec converts grey, palette and 16-bit data to it,
        // leaves colour values untouched by alpha (so dropping alpha gives the stored colours) and skips colour management.
        var rgbaInfo = new SKImageInfo(width, height, SKColorType.Rgba8888, info.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        using var rgba = new SKBitmap();
        if (!rgba.TryAllocPixels(rgbaInfo))
        {
            throw new ImageLoadException(name, ImageLoadError.TooLarge, $"not enough memory to decode a {width}x{height} image.");
        }

        SKCodecResult result = codec.GetPixels(rgbaInfo, rgba.GetPixels());
        bool incomplete = false;
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput) && format == ImageFileFormat.Jpeg && !EndsWithJpegEndMarker(data.AsSpan()))
        {
            // A JPEG cut short. Skia reports a cut baseline JPEG as incomplete input (handled below), but a cut
            // progressive one as invalid input: its decoder reads every scan before it gives a row, and fails at the
            // end of the data. The file has no end-of-image marker, so it is truncated; with the marker appended the
            // decoder keeps what it has (the image at the detail of its last complete scan).
            if (!options.AllowIncompleteData)
            {
                throw new ImageLoadException(name, ImageLoadError.Truncated, $"the {formatName} data ends before the image is complete (truncated file: no end-of-image marker).", ImageLoadRemedy.AllowIncompleteData);
            }

            result = DecodeWithEndMarker(data.AsSpan(), rgbaInfo, rgba.GetPixels());
            incomplete = true;
            if (result != SKCodecResult.Success && result != SKCodecResult.IncompleteInput)
            {
                throw new ImageLoadException(name, ImageLoadError.Corrupt, $"the {formatName} data is truncated and what is there could not be decoded ({result}).");
            }
        }

        switch (result)
        {
            case SKCodecResult.Success:
                break;
            case SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput when options.AllowIncompleteData:
                incomplete = true;
                break;
            case SKCodecResult.IncompleteInput:
                throw new ImageLoadException(name, ImageLoadError.Truncated, $"the {formatName} data ends before the image is complete (truncated file).", ImageLoadRemedy.AllowIncompleteData);
            case SKCodecResult.ErrorInInput:
                throw new ImageLoadException(name, ImageLoadError.Corrupt, $"the {formatName} data is corrupt (the decoder stopped part-way).", ImageLoadRemedy.AllowIncompleteData);
            default:
                throw new ImageLoadException(name, ImageLoadError.Corrupt, $"the {formatName} image could not be decoded ({result}).");
        }

        byte[] pixels = PackRgb(rgba, width, height, applied, name);
        bool swap = Orientation.SwapsAxes(applied);
        return new LoadedImage(pixels, swap ? height : width, swap ? width : height, format, fileOrientation, applied, incomplete, name);
    }

    /// <summary>
    /// Why Skia refused the header. Skia says "incomplete input" both for a header that is cut short and for a PNG whose
    /// width or height is over libpng's limit (or zero), so a PNG header is read here to tell them apart.
    /// </summary>
    private static ImageLoadException RefusedHeader(ReadOnlySpan<byte> bytes, SKCodecResult createResult, string? name, ImageLoadOptions options)
    {
        if (createResult == SKCodecResult.IncompleteInput && TryReadPngSize(bytes, out long width, out long height))
        {
            if (width == 0 || height == 0)
            {
                return EmptySize(name, "PNG", width, height);
            }

            CheckPixelCount(name, width, height, options);
            if (width > MaxPngSide || height > MaxPngSide)
            {
                return new ImageLoadException(
                    name,
                    ImageLoadError.TooLarge,
                    string.Create(CultureInfo.InvariantCulture, $"the PNG is {width}x{height} pixels; PNG images wider or taller than {MaxPngSide} pixels cannot be decoded (a limit of the PNG decoder)."));
            }
        }

        return createResult switch
        {
            SKCodecResult.IncompleteInput => new ImageLoadException(name, ImageLoadError.Truncated, "the data ends inside the image header (truncated file)."),
            SKCodecResult.Unimplemented or SKCodecResult.InvalidInput => new ImageLoadException(name, ImageLoadError.UnsupportedFormat, $"not a supported image: {DescribeContent(bytes)}; supported formats are {SupportedFormats}."),
            _ => new ImageLoadException(name, ImageLoadError.Corrupt, $"the image header is invalid ({createResult})."),
        };
    }

    private static ImageLoadException EmptySize(string? name, string formatName, long width, long height) =>
        new(name, ImageLoadError.Corrupt, string.Create(CultureInfo.InvariantCulture, $"the {formatName} header gives an empty size ({width}x{height}): there are no pixels to decode."));

    private static void CheckPixelCount(string? name, long width, long height, ImageLoadOptions options)
    {
        long pixelCount = width * height;
        if (pixelCount > options.MaxPixelCount)
        {
            throw new ImageLoadException(
                name,
                ImageLoadError.TooLarge,
                string.Create(CultureInfo.InvariantCulture, $"the image is {width}x{height} = {pixelCount} pixels, more than the limit of {options.MaxPixelCount}."),
                ImageLoadRemedy.MaxPixelCount);
        }
    }

    /// <summary>The width and height in a PNG's IHDR chunk, if the bytes start with a PNG signature and a whole IHDR.</summary>
    private static bool TryReadPngSize(ReadOnlySpan<byte> bytes, out long width, out long height)
    {
        width = height = 0;
        if (bytes.Length < 24 || !bytes.StartsWith(PngSignature) || !bytes.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            return false;
        }

        width = BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(16, 4));
        height = BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(20, 4));
        return true;
    }

    /// <summary>True when a JPEG ends with its end-of-image marker (FF D9), allowing for padding bytes after it.</summary>
    private static bool EndsWithJpegEndMarker(ReadOnlySpan<byte> bytes)
    {
        // Some writers pad files (zeros, or FF fill bytes); look at the last few bytes only.
        ReadOnlySpan<byte> tail = bytes[Math.Max(0, bytes.Length - 64)..];
        return tail.IndexOf(JpegEndMarker) >= 0;
    }

    private static SKCodecResult DecodeWithEndMarker(ReadOnlySpan<byte> bytes, SKImageInfo info, IntPtr pixels)
    {
        byte[] completed = new byte[bytes.Length + JpegEndMarker.Length];
        bytes.CopyTo(completed);
        JpegEndMarker.CopyTo(completed.AsSpan(bytes.Length));
        using SKData copy = SKData.CreateCopy(completed);
        using SKCodec? codec = SKCodec.Create(new SKMemoryStream(copy), out _);
        return codec is null ? SKCodecResult.InvalidInput : codec.GetPixels(info, pixels);
    }

    private static string DisplayName(ImageFileFormat format) => format switch
    {
        ImageFileFormat.Jpeg => "JPEG",
        ImageFileFormat.Png => "PNG",
        ImageFileFormat.Bmp => "BMP",
        ImageFileFormat.Webp => "WebP",
        ImageFileFormat.Gif => "GIF",
        ImageFileFormat.Ico => "ICO",
        ImageFileFormat.Wbmp => "WBMP",
        ImageFileFormat.Heif => "HEIF",
        ImageFileFormat.Avif => "AVIF",
        ImageFileFormat.Dng => "DNG",
        ImageFileFormat.JpegXl => "JPEG XL",
        _ => format.ToString(),
    };

    private static byte[] PackRgb(SKBitmap rgba, int width, int height, ExifOrientation orientation, string? name)
    {
        byte[] pixels;
        try
        {
            pixels = GC.AllocateUninitializedArray<byte>(checked(width * height * 3));
        }
        catch (Exception e) when (e is OutOfMemoryException or OverflowException)
        {
            throw new ImageLoadException(name, ImageLoadError.TooLarge, $"not enough memory for the {width}x{height} RGB pixels.", e);
        }

        int rowBytes = rgba.RowBytes;
        IntPtr basePtr = rgba.GetPixels();
        for (int y = 0; y < height; y++)
        {
            long start = Orientation.RowStart(orientation, width, height, y, out long step);
            Orientation.PackRow(NativeRows.Row(basePtr, rowBytes, y, width * 4), width, pixels, start, step);
        }

        return pixels;
    }

    private static ImageFileFormat? MapFormat(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Jpeg => ImageFileFormat.Jpeg,
        SKEncodedImageFormat.Png => ImageFileFormat.Png,
        SKEncodedImageFormat.Bmp => ImageFileFormat.Bmp,
        SKEncodedImageFormat.Webp => ImageFileFormat.Webp,
        SKEncodedImageFormat.Gif => ImageFileFormat.Gif,
        SKEncodedImageFormat.Ico => ImageFileFormat.Ico,
        SKEncodedImageFormat.Wbmp => ImageFileFormat.Wbmp,
        SKEncodedImageFormat.Heif => ImageFileFormat.Heif,
        SKEncodedImageFormat.Avif => ImageFileFormat.Avif,
        SKEncodedImageFormat.Dng => ImageFileFormat.Dng,
        SKEncodedImageFormat.Jpegxl => ImageFileFormat.JpegXl,
        _ => null,
    };

    /// <summary>A short description of unrecognised content for error messages: a known non-image signature, text, or the first bytes.</summary>
    private static string DescribeContent(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith("%PDF"u8))
        {
            return "the content is a PDF document";
        }

        if (bytes.StartsWith("II*\0"u8) || bytes.StartsWith("MM\0*"u8))
        {
            return "the content looks like TIFF, which is not supported";
        }

        if (bytes.Length >= 12 && bytes.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            return "the content is an ISO media container (HEIF/AVIF/MP4) that this build cannot decode";
        }

        ReadOnlySpan<byte> head = bytes[..Math.Min(bytes.Length, 64)];
        bool text = true;
        foreach (byte b in head)
        {
            if (b is < 0x09 or (> 0x0D and < 0x20) or 0x7F)
            {
                text = false;
                break;
            }
        }

        if (text)
        {
            return "the content looks like text";
        }

        var sb = new StringBuilder("the content starts with bytes");
        foreach (byte b in bytes[..Math.Min(bytes.Length, 8)])
        {
            sb.Append(' ').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }
}
