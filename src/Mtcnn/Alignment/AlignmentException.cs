namespace Mtcnn.Alignment;

/// <summary>
/// Thrown when landmarks or template points cannot define a face alignment: a coordinate is NaN or infinite, all
/// points coincide (zero spread), or the five face landmarks lie on one line. The message says which case it is and
/// gives the offending values. Derives from <see cref="ArgumentException"/> because the input is what is wrong.
/// </summary>
public sealed class AlignmentException : ArgumentException
{
    /// <summary>Creates the exception with a default message.</summary>
    public AlignmentException()
    {
    }

    /// <summary>Creates the exception with a message that describes the degenerate input.</summary>
    /// <param name="message">The full message.</param>
    public AlignmentException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the cause.</summary>
    /// <param name="message">The full message.</param>
    /// <param name="innerException">The underlying exception.</param>
    public AlignmentException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
