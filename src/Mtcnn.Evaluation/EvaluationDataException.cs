namespace Mtcnn.Evaluation;

/// <summary>
/// The one exception the evaluation readers throw for bad input files: a MAT file that is not MATLAB v5, truncated or
/// holds unexpected variables; a prediction, detection or fold file with a malformed line; inconsistent ground truth.
/// The message starts with the file name (and line, where there is one) and says what was expected.
/// </summary>
public sealed class EvaluationDataException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public EvaluationDataException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The full message.</param>
    public EvaluationDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the cause.</summary>
    /// <param name="message">The full message.</param>
    /// <param name="innerException">The underlying exception.</param>
    public EvaluationDataException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception whose message is "<c>{fileName}: {problem}</c>".</summary>
    /// <param name="fileName">The file the problem is in; null when unnamed.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public EvaluationDataException(string? fileName, string problem, Exception? innerException = null)
        : base(fileName is null ? problem : $"{fileName}: {problem}", innerException)
    {
        FileName = fileName;
    }

    /// <summary>The file the problem is in; null when unnamed or unknown.</summary>
    public string? FileName { get; }
}
