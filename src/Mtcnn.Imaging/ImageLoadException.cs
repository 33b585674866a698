namespace Mtcnn.Imaging;

/// <summary>Why an image could not be loaded.</summary>
public enum ImageLoadError
{
    /// <summary>No more specific reason is known (only for exceptions created with the standard constructors).</summary>
    Unknown,

    /// <summary>The file or its folder does not exist.</summary>
    NotFound,

    /// <summary>The path exists but cannot be read: a directory, no permission, or an I/O error.</summary>
    Unreadable,

    /// <summary>The file or stream holds zero bytes.</summary>
    Empty,

    /// <summary>The content is not an image format this build can decode.</summary>
    UnsupportedFormat,

    /// <summary>The content ends before the image is complete.</summary>
    Truncated,

    /// <summary>The content is recognised but its header or data is invalid.</summary>
    Corrupt,

    /// <summary>The encoded size or the pixel count exceeds the limits in <see cref="ImageLoadOptions"/>, or memory ran out.</summary>
    TooLarge,
}

/// <summary>Which setting of <see cref="ImageLoadOptions"/> would change the outcome of a failed load, if any.</summary>
/// <remarks>Front ends (a command line, a web API) word the remedy in their own terms from this; the library's own
/// <see cref="Exception.Message"/> names the option.</remarks>
public enum ImageLoadRemedy
{
    /// <summary>No setting would help.</summary>
    None,

    /// <summary><see cref="ImageLoadOptions.AllowIncompleteData"/> accepts the partially decoded image.</summary>
    AllowIncompleteData,

    /// <summary>A larger <see cref="ImageLoadOptions.MaxFileSizeBytes"/> would admit the file.</summary>
    MaxFileSizeBytes,

    /// <summary>A larger <see cref="ImageLoadOptions.MaxPixelCount"/> would admit the image.</summary>
    MaxPixelCount,
}

/// <summary>
/// The one exception <see cref="ImageLoader"/> throws for bad input (missing, unreadable, empty, unsupported, truncated,
/// corrupt or too large). The message names the file (or the caller's name for a stream) and the problem;
/// <see cref="Error"/> classifies it and <see cref="Exception.InnerException"/> holds the I/O exception where there was one.
/// </summary>
public sealed class ImageLoadException : Exception
{
    private readonly string? _problem;

    /// <summary>Creates an exception with no file name and <see cref="ImageLoadError.Unknown"/>.</summary>
    public ImageLoadException()
    {
    }

    /// <summary>Creates an exception with a message, no file name and <see cref="ImageLoadError.Unknown"/>.</summary>
    /// <param name="message">The full message.</param>
    public ImageLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause, no file name and <see cref="ImageLoadError.Unknown"/>.</summary>
    /// <param name="message">The full message.</param>
    /// <param name="innerException">The underlying exception.</param>
    public ImageLoadException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception whose message is "<c>{name}: {problem}</c>".</summary>
    /// <param name="fileName">The path or stream name the problem is about; null when unnamed.</param>
    /// <param name="error">The classification.</param>
    /// <param name="problem">What went wrong, as a sentence.</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public ImageLoadException(string? fileName, ImageLoadError error, string problem, Exception? innerException = null)
        : this(fileName, error, problem, ImageLoadRemedy.None, innerException)
    {
    }

    /// <summary>
    /// Creates an exception whose message is "<c>{name}: {problem}</c>" followed, when <paramref name="remedy"/> is not
    /// <see cref="ImageLoadRemedy.None"/>, by a sentence naming the <see cref="ImageLoadOptions"/> setting that would help.
    /// </summary>
    /// <param name="fileName">The path or stream name the problem is about; null when unnamed.</param>
    /// <param name="error">The classification.</param>
    /// <param name="problem">What went wrong, as a sentence, without any remedy.</param>
    /// <param name="remedy">The setting that would change the outcome.</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public ImageLoadException(string? fileName, ImageLoadError error, string problem, ImageLoadRemedy remedy, Exception? innerException = null)
        : base(Compose(fileName, problem, remedy), innerException)
    {
        FileName = fileName;
        Error = error;
        _problem = problem;
        Remedy = remedy;
    }

    /// <summary>The path or stream name the problem is about; null when the input was unnamed.</summary>
    public string? FileName { get; }

    /// <summary>What kind of problem it is.</summary>
    public ImageLoadError Error { get; }

    /// <summary>
    /// The problem alone: neither the file name nor the library's remedy (for a caller that names the file itself and
    /// words the remedy for its own users); the full <see cref="Exception.Message"/> when created without one.
    /// </summary>
    public string Problem => _problem ?? Message;

    /// <summary>The <see cref="ImageLoadOptions"/> setting that would change the outcome, or <see cref="ImageLoadRemedy.None"/>.</summary>
    public ImageLoadRemedy Remedy { get; }

    private static string Compose(string? fileName, string problem, ImageLoadRemedy remedy)
    {
        string hint = remedy switch
        {
            ImageLoadRemedy.AllowIncompleteData => $" Set {nameof(ImageLoadOptions)}.{nameof(ImageLoadOptions.AllowIncompleteData)} to accept partially decoded images.",
            ImageLoadRemedy.MaxFileSizeBytes => $" The limit is {nameof(ImageLoadOptions)}.{nameof(ImageLoadOptions.MaxFileSizeBytes)}.",
            ImageLoadRemedy.MaxPixelCount => $" The limit is {nameof(ImageLoadOptions)}.{nameof(ImageLoadOptions.MaxPixelCount)}.",
            _ => string.Empty,
        };
        return $"{fileName ?? "<image>"}: {problem}{hint}";
    }
}
