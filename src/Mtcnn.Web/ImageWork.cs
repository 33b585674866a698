namespace Mtcnn.Web;

/// <summary>
/// The work of one image request, as it travels to wherever it runs: the uploaded bytes, the client's file name, the
/// request's query string exactly as sent (with or without the leading <c>?</c>) and whether the annotated image is
/// wanted (<c>/api/annotate</c>) rather than the JSON (<c>/api/detect</c>). The query has already been checked by the
/// server that received the request; the worker parses it again with the same rules.
/// </summary>
/// <param name="Image">The encoded image (any supported format).</param>
/// <param name="Name">The upload's file name, or "upload".</param>
/// <param name="Query">The raw query string.</param>
/// <param name="Annotate">True for <c>/api/annotate</c>.</param>
public sealed record ImageWork(ReadOnlyMemory<byte> Image, string Name, string Query, bool Annotate);

/// <summary>
/// What one image request's work gave: on success (<see cref="Status"/> 200) the response body and its content type;
/// otherwise the HTTP status and a one-line <see cref="Error"/> for the client (the API's <c>{"error": ...}</c>).
/// </summary>
public sealed record ImageWorkResult
{
    /// <summary>200, or the status of the refusal (400, 413, 415, 422, 503).</summary>
    public required int Status { get; init; }

    /// <summary>The response body (JSON or an encoded image); empty on errors.</summary>
    public byte[] Body { get; init; } = [];

    /// <summary>The body's content type.</summary>
    public string ContentType { get; init; } = "application/json; charset=utf-8";

    /// <summary>The message for the client when <see cref="Status"/> is not 200.</summary>
    public string? Error { get; init; }

    /// <summary>Width of the decoded image.</summary>
    public int Width { get; init; }

    /// <summary>Height of the decoded image.</summary>
    public int Height { get; init; }

    /// <summary>Faces (or candidates, for an earlier last stage) found.</summary>
    public int Faces { get; init; }

    /// <summary>Milliseconds spent decoding.</summary>
    public double DecodeMs { get; init; }

    /// <summary>Milliseconds spent detecting.</summary>
    public double DetectMs { get; init; }

    /// <summary>Milliseconds spent encoding the body.</summary>
    public double EncodeMs { get; init; }

    /// <summary>Where the work ran (a silo's address), or null in-process; sent as the <c>X-Mtcnn-Worker</c> header.</summary>
    public string? Worker { get; init; }

    /// <summary>A refusal with <paramref name="status"/> and <paramref name="error"/>.</summary>
    public static ImageWorkResult Refused(int status, string error) => new() { Status = status, Error = error };
}

/// <summary>
/// Runs image requests somewhere other than the server's own worker threads (<see cref="WebServerOptions.Backend"/>):
/// <c>mtcnn serve --cluster</c> sends them to the silos of an Orleans cluster, so that the web front ends and the
/// detection capacity scale apart. Implementations must be thread-safe. A failure of the backend itself (nobody to run
/// the work) should be returned as a 503 result whose message says what is wrong, not thrown.
/// </summary>
public interface IImageWorkBackend
{
    /// <summary>What the backend is, for the health endpoint and logs (e.g. <c>cluster 'mtcnn' via Redis 10.0.0.5:6379</c>).</summary>
    string Description { get; }

    /// <summary>Runs <paramref name="work"/>.</summary>
    /// <param name="work">The request's work.</param>
    /// <param name="cancellationToken">The request was aborted or timed out.</param>
    /// <returns>The result the server answers with.</returns>
    Task<ImageWorkResult> RunAsync(ImageWork work, CancellationToken cancellationToken);
}
