using OpenCvSharp;

namespace Mtcnn.Video;

/// <summary>
/// Writes frames to a video file with OpenCV's built-in FFmpeg. The container follows the file name: <c>.mp4</c> holds
/// MPEG-4 Part 2 video (<c>mp4v</c>, plays in VLC, mpv, ffplay and most players), <c>.avi</c> holds Motion JPEG
/// (<c>MJPG</c>, every frame a JPEG: larger files, exact frame access). H.264 is not offered because the built-in
/// FFmpeg has no software H.264 encoder. Frames of another size than the file's are scaled to it.
/// </summary>
/// <remarks>
/// The file is only complete (an MP4's index written) after <see cref="Dispose"/>: always dispose the writer, also when
/// processing stops early. Not thread-safe: one thread writes.
/// </remarks>
public sealed class VideoFileWriter : IDisposable
{
    private readonly VideoWriter writer;
    private readonly Mat converted = new();
    private readonly Mat scaled = new();

    /// <summary>Creates the file (replacing an existing one) and opens the encoder.</summary>
    /// <param name="path">Output file ending in <c>.mp4</c> or <c>.avi</c>; its folder must exist.</param>
    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <param name="framesPerSecond">Playback rate written into the file; values outside [1, 1000] (unknown) become 25.</param>
    /// <exception cref="ArgumentException">The file name does not end in a supported extension.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="VideoException">The file cannot be created or the encoder cannot be opened.</exception>
    public VideoFileWriter(string path, int width, int height, double framesPerSecond)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        Codec = CodecFor(path) ?? throw new ArgumentException($"The output file '{path}' must end in {string.Join(" or ", SupportedExtensions)}.", nameof(path));
        Path = path;
        Width = width;
        Height = height;
        FramesPerSecond = double.IsFinite(framesPerSecond) && framesPerSecond is >= 1 and <= 1000 ? framesPerSecond : 25;

        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new VideoException($"cannot write '{path}': the folder '{folder}' does not exist.");
        }

        try
        {
            // OpenCV reports an unwritable path only as "not opened"; creating the file first gives the real reason.
            using (File.Create(path))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VideoException($"cannot write '{path}': {e.Message}", e);
        }

        NativeLogging.EnsureConfigured();
        writer = new VideoWriter(path, VideoCaptureAPIs.FFMPEG, FourCC.FromString(Codec), FramesPerSecond, new Size(width, height), isColor: true);
        if (!writer.IsOpened())
        {
            writer.Dispose();
            converted.Dispose();
            scaled.Dispose();
            TryDelete(path);
            throw new VideoException($"cannot write '{path}': the built-in FFmpeg could not open the '{Codec}' encoder for {width}x{height}.");
        }
    }

    /// <summary>File name extensions this writer accepts (lower case, with the dot).</summary>
    public static IReadOnlyList<string> SupportedExtensions { get; } = [".mp4", ".avi"];

    /// <summary>The output file.</summary>
    public string Path { get; }

    /// <summary>The four-character code of the codec used (<c>mp4v</c> or <c>MJPG</c>).</summary>
    public string Codec { get; }

    /// <summary>Frame width in pixels.</summary>
    public int Width { get; }

    /// <summary>Frame height in pixels.</summary>
    public int Height { get; }

    /// <summary>Playback rate written into the file.</summary>
    public double FramesPerSecond { get; }

    /// <summary>Frames written so far.</summary>
    public long FramesWritten { get; private set; }

    /// <summary>The codec for a file name, or null when its extension is not supported.</summary>
    public static string? CodecFor(string path) => System.IO.Path.GetExtension(path).ToUpperInvariant() switch
    {
        ".MP4" => "mp4v",
        ".AVI" => "MJPG",
        _ => null,
    };

    /// <summary>Encodes one frame (8-bit BGR; grey and BGRA frames are converted).</summary>
    /// <param name="frame">The frame; scaled to <see cref="Width"/> x <see cref="Height"/> if needed.</param>
    public void Write(Mat frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(writer.IsDisposed, this);
        Mat source = frame;
        if (frame.Channels() == 1)
        {
            Cv2.CvtColor(frame, converted, ColorConversionCodes.GRAY2BGR);
            source = converted;
        }
        else if (frame.Channels() == 4)
        {
            Cv2.CvtColor(frame, converted, ColorConversionCodes.BGRA2BGR);
            source = converted;
        }

        if (source.Width != Width || source.Height != Height)
        {
            Cv2.Resize(source, scaled, new Size(Width, Height), interpolation: InterpolationFlags.Area);
            source = scaled;
        }

        writer.Write(source);
        FramesWritten++;
    }

    /// <summary>Finishes the file (writes the container's index) and releases the encoder.</summary>
    public void Dispose()
    {
        if (!writer.IsDisposed)
        {
            writer.Release();
            writer.Dispose();
        }

        converted.Dispose();
        scaled.Dispose();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The empty placeholder stays; the exception that follows explains the real problem.
        }
    }
}
