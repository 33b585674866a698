namespace Mtcnn.Training.Data;

/// <summary>
/// A sample file cannot be read: it is truncated, is not a sample file, has an unsupported version, or holds an invalid
/// value. The message starts with the file name and says what is wrong.
/// </summary>
public sealed class SampleFormatException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public SampleFormatException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The full message.</param>
    public SampleFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the cause.</summary>
    /// <param name="message">The full message.</param>
    /// <param name="innerException">The underlying exception.</param>
    public SampleFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception whose message is "<c>{fileName}: {problem}</c>".</summary>
    /// <param name="fileName">The sample file.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public SampleFormatException(string fileName, string problem, Exception? innerException = null)
        : base($"{fileName}: {problem}", innerException)
    {
        FileName = fileName;
    }

    /// <summary>The sample file; null when unknown.</summary>
    public string? FileName { get; }
}
