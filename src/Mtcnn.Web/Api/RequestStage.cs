namespace Mtcnn.Web.Api;

/// <summary>
/// What an image request is doing now (reading its upload, queued, detecting), for the one log line written when it
/// times out. Updated from the request and, once, from the worker thread that runs it.
/// </summary>
internal sealed class RequestStage
{
    /// <summary>Reading the upload.</summary>
    public const string Reading = "while its upload was being read";

    /// <summary>Waiting for a free worker.</summary>
    public const string Queued = "while it waited for a free worker";

    /// <summary>Decoding, detecting and encoding.</summary>
    public const string Detecting = "while its image was being processed";

    /// <summary>Sent to the backend.</summary>
    public const string Elsewhere = "while the backend processed its image";

    private static readonly object Key = new();

    private volatile string text;

    private RequestStage(string text)
    {
        this.text = text;
    }

    /// <summary>Records <paramref name="stage"/> for the request and returns the holder, which the worker may update.</summary>
    public static RequestStage Set(HttpContext context, string stage)
    {
        if (context.Items.TryGetValue(Key, out object? value) && value is RequestStage existing)
        {
            existing.text = stage;
            return existing;
        }

        var created = new RequestStage(stage);
        context.Items[Key] = created;
        return created;
    }

    /// <summary>The request's stage, or a generic phrase for requests that record none.</summary>
    public static string Describe(HttpContext context) =>
        context.Items.TryGetValue(Key, out object? value) && value is RequestStage stage ? stage.text : "before it was answered";

    /// <summary>Changes the stage (thread-safe).</summary>
    public void Update(string stage) => text = stage;
}
