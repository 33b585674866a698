using OpenCvSharp;

namespace Mtcnn.Video;

/// <summary>Runs the detector directly on an OpenCV frame's pixels (no copy: the detector reads the Mat's rows through its stride).</summary>
internal static class MatDetection
{
    /// <summary>The detector's pixel format for an 8-bit OpenCV frame.</summary>
    /// <exception cref="VideoException">The frame is not 8-bit grey, BGR or BGRA.</exception>
    public static PixelFormat FormatOf(Mat frame)
    {
        var type = frame.Type();
        if (type == MatType.CV_8UC3)
        {
            return PixelFormat.Bgr24;
        }

        if (type == MatType.CV_8UC1)
        {
            return PixelFormat.Gray8;
        }

        if (type == MatType.CV_8UC4)
        {
            return PixelFormat.Bgra32;
        }

        throw new VideoException($"unsupported frame type {type}: expected 8-bit grey, BGR or BGRA pixels.");
    }

    /// <summary>Detects faces in <paramref name="frame"/>.</summary>
    public static unsafe DetectionResult Detect(FaceDetector detector, Mat frame, CancellationToken cancellationToken)
    {
        var format = FormatOf(frame);
        int bpp = ImageData.BytesPerPixelOf(format);
        long stride = frame.Step();
        long length = ((long)(frame.Rows - 1) * stride) + ((long)frame.Cols * bpp);
        if (stride > int.MaxValue || length > int.MaxValue)
        {
            throw new VideoException($"a {frame.Cols}x{frame.Rows} frame is too large to detect in.");
        }

        var pixels = new ReadOnlySpan<byte>((void*)frame.Data, (int)length);
        return detector.Detect(pixels, frame.Cols, frame.Rows, format, (int)stride, cancellationToken);
    }
}
