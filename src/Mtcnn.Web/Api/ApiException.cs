namespace Mtcnn.Web.Api;

/// <summary>
/// A request the API refuses: answered with <see cref="StatusCode"/> and the JSON body <c>{"error": Message}</c>.
/// </summary>
internal sealed class ApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ApiException()
        : this(StatusCodes.Status400BadRequest, "bad request")
    {
    }

    /// <summary>Creates a 400 with a message.</summary>
    public ApiException(string message)
        : this(StatusCodes.Status400BadRequest, message)
    {
    }

    /// <summary>Creates a 400 with a message and cause.</summary>
    public ApiException(string message, Exception innerException)
        : this(StatusCodes.Status400BadRequest, message, innerException)
    {
    }

    /// <summary>Creates the exception with a status code and a one-line message for the client.</summary>
    public ApiException(int statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status code of the response.</summary>
    public int StatusCode { get; }
}
