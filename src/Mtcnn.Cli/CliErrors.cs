namespace Mtcnn.Cli;

/// <summary>Exit codes of the <c>mtcnn</c> command.</summary>
internal static class ExitCodes
{
    /// <summary>Everything worked.</summary>
    public const int Success = 0;

    /// <summary>A runtime or input failure (an image could not be read, a file could not be written, ...).</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: unknown option, missing argument, value out of range.</summary>
    public const int Usage = 2;
}

/// <summary>A command-line mistake: reported as one line on stderr with exit code 2.</summary>
internal sealed class UsageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UsageException()
    {
    }

    /// <summary>Creates the exception with the one-line message shown to the user.</summary>
    public UsageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A runtime failure the user can act on: reported as one line on stderr with exit code 1, never a stack trace.</summary>
internal sealed class CliFailureException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CliFailureException()
    {
    }

    /// <summary>Creates the exception with the one-line message shown to the user.</summary>
    public CliFailureException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public CliFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
