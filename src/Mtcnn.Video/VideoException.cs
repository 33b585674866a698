namespace Mtcnn.Video;

/// <summary>
/// A video input or output problem the user can act on: a missing or busy camera, a file that is not a readable video,
/// a codec the built-in FFmpeg cannot decode, an output file that cannot be written. The message is one line that
/// names the file or camera and the problem.
/// </summary>
public sealed class VideoException : Exception
{
    /// <summary>Creates the exception.</summary>
    public VideoException()
    {
    }

    /// <summary>Creates the exception with its one-line message.</summary>
    public VideoException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public VideoException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
