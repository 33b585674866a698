using System.Diagnostics;
using System.Globalization;
using OpenCvSharp;

namespace Mtcnn.Video;

/// <summary>
/// Frames from a video file, a stream URL or a camera, decoded by OpenCV (FFmpeg built in; V4L2 for cameras on Linux)
/// into 8-bit BGR <see cref="Mat"/>s. Opening reads the first frame, so that a file whose codec cannot be decoded, or a
/// camera that delivers nothing, fails here with a clear <see cref="VideoException"/> instead of looking like an empty
/// video later.
/// </summary>
/// <remarks>Not thread-safe: one thread reads (the <see cref="VideoPipeline"/> uses its decoding thread).</remarks>
public sealed class VideoSource : IDisposable
{
    private readonly VideoCapture capture;
    private readonly Stopwatch clock = new();
    private Mat? firstFrame;
    private long framesRead;

    private VideoSource(VideoCapture capture, string description, bool isCamera, Mat firstFrame)
    {
        this.capture = capture;
        this.firstFrame = firstFrame;
        Description = description;
        IsCamera = isCamera;
        Width = firstFrame.Width;
        Height = firstFrame.Height;
        Codec = FourCcText(capture.FourCC);
        double fps = capture.Fps;
        FramesPerSecond = double.IsFinite(fps) && fps is >= 1 and <= 1000 ? fps : 0;
        long count = isCamera ? 0 : (long)capture.FrameCount;
        FrameCount = count > 0 ? count : null;
    }

    /// <summary>What was opened, for messages: the path or URL as given, or <c>camera N</c>.</summary>
    public string Description { get; }

    /// <summary>True for a camera (timestamps are then wall-clock seconds since the first frame).</summary>
    public bool IsCamera { get; }

    /// <summary>Width of the first frame in pixels.</summary>
    public int Width { get; }

    /// <summary>Height of the first frame in pixels.</summary>
    public int Height { get; }

    /// <summary>Frame rate declared by the container or camera; 0 when unknown or implausible.</summary>
    public double FramesPerSecond { get; }

    /// <summary>Number of frames declared by the container (an estimate for some formats); null for cameras and streams.</summary>
    public long? FrameCount { get; }

    /// <summary>The codec's four-character code as reported by the decoder (for example <c>FMP4</c>, <c>h264</c>), or an empty string.</summary>
    public string Codec { get; }

    /// <summary>Frames handed out by <see cref="Read"/> so far.</summary>
    public long FramesRead => framesRead;

    /// <summary>Opens a video file or a stream URL (anything FFmpeg can read, e.g. <c>rtsp://...</c>).</summary>
    /// <param name="pathOrUrl">A file path, or a URL containing <c>://</c>.</param>
    /// <exception cref="VideoException">The file does not exist, is not a video, or its codec cannot be decoded.</exception>
    public static VideoSource OpenFile(string pathOrUrl)
    {
        ArgumentException.ThrowIfNullOrEmpty(pathOrUrl);
        bool isUrl = pathOrUrl.Contains("://", StringComparison.Ordinal);
        if (!isUrl)
        {
            if (Directory.Exists(pathOrUrl))
            {
                throw new VideoException($"cannot open '{pathOrUrl}': it is a folder, not a video file.");
            }

            if (!File.Exists(pathOrUrl))
            {
                throw new VideoException($"cannot open '{pathOrUrl}': no such file.");
            }

            try
            {
                using var probe = File.OpenRead(pathOrUrl);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new VideoException($"cannot open '{pathOrUrl}': {e.Message}", e);
            }
        }

        NativeLogging.EnsureConfigured();
        var capture = new VideoCapture(pathOrUrl, VideoCaptureAPIs.FFMPEG);
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new VideoException(isUrl
                ? $"cannot open the stream '{pathOrUrl}': unreachable, or not a video stream FFmpeg can read."
                : $"cannot open '{pathOrUrl}': not a video file, or a container format FFmpeg cannot read.");
        }

        var first = new Mat();
        if (!capture.Read(first) || first.Empty())
        {
            string codec = FourCcText(capture.FourCC);
            first.Dispose();
            capture.Dispose();
            throw new VideoException(
                $"cannot decode '{pathOrUrl}': no frame could be decoded ({(codec.Length > 0 ? $"codec '{codec}'" : "unknown codec")}: unsupported by the built-in FFmpeg, or corrupt data).");
        }

        return new VideoSource(capture, pathOrUrl, isCamera: false, first);
    }

    /// <summary>Opens a camera by its index (<c>/dev/videoN</c> on Linux).</summary>
    /// <param name="index">Camera index, 0 for the first.</param>
    /// <exception cref="VideoException">There is no such camera, it is used by another program, or it delivers no frame.</exception>
    public static VideoSource OpenCamera(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        NativeLogging.EnsureConfigured();
        var capture = new VideoCapture(index);
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new VideoException($"camera {index} is missing or busy: it could not be opened.");
        }

        var first = new Mat();
        if (!capture.Read(first) || first.Empty())
        {
            first.Dispose();
            capture.Dispose();
            throw new VideoException($"camera {index} opened but delivered no frame: it is busy or was disconnected.");
        }

        return new VideoSource(capture, "camera " + index.ToString(CultureInfo.InvariantCulture), isCamera: true, first);
    }

    /// <summary>
    /// Reads the next frame into <paramref name="frame"/> (reallocated only when its size or type differs).
    /// </summary>
    /// <param name="frame">Receives the pixels: 8-bit BGR, or grey/BGRA if the camera delivers that.</param>
    /// <param name="timeSeconds">The frame's time: the container's timestamp for files; seconds since the first frame for cameras.</param>
    /// <returns>False at the end of the video (or when a stream or camera stops delivering).</returns>
    public bool Read(Mat frame, out double timeSeconds)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(capture.IsDisposed, this);
        if (firstFrame is { } first)
        {
            first.CopyTo(frame);
            first.Dispose();
            firstFrame = null;
            clock.Start();
        }
        else if (!capture.Read(frame) || frame.Empty())
        {
            timeSeconds = 0;
            return false;
        }

        timeSeconds = FrameTime();
        framesRead++;
        return true;
    }

    /// <summary>Releases the capture (closes the file or camera).</summary>
    public void Dispose()
    {
        firstFrame?.Dispose();
        firstFrame = null;
        capture.Dispose();
    }

    private double FrameTime()
    {
        if (IsCamera)
        {
            return clock.Elapsed.TotalSeconds;
        }

        // After a read, CAP_PROP_POS_MSEC is the presentation time of the frame just read; fall back to the frame rate.
        double ms = capture.PosMsec;
        if (double.IsFinite(ms) && ms >= 0 && (ms > 0 || framesRead == 0))
        {
            return ms / 1000.0;
        }

        return FramesPerSecond > 0 ? framesRead / FramesPerSecond : 0;
    }

    private static string FourCcText(string? fourcc) =>
        fourcc is null ? "" : new string([.. fourcc.Where(c => c is >= ' ' and <= '~')]).Trim();
}
