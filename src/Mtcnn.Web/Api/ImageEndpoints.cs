using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Mtcnn.Imaging;
using Mtcnn.Web.Detection;

namespace Mtcnn.Web.Api;

/// <summary>
/// <c>POST /api/detect</c> and <c>POST /api/annotate</c>: parse the query (400 before any upload is read), admit the
/// request (503 when the queue is full), read the upload into memory (413, 415), then decode, detect and encode on a
/// worker thread, or on the <see cref="WebServerOptions.Backend"/> (415 / 422 for images that cannot be used). Every
/// refusal is a JSON <c>{"error": "..."}</c>.
/// </summary>
internal sealed partial class ImageEndpoints
{
    private readonly WebServerOptions options;
    private readonly DetectionWorkers workers;
    private readonly ImageWorker worker;
    private readonly IImageWorkBackend? backend;
    private readonly ILogger<ImageEndpoints> logger;

    /// <summary>Creates the endpoints over the shared worker pool.</summary>
    public ImageEndpoints(WebServerOptions options, DetectionWorkers workers, ILogger<ImageEndpoints> logger)
    {
        this.options = options;
        this.workers = workers;
        this.logger = logger;
        worker = new ImageWorker(options.Weights, options.MaxUploadBytes, options.MaxPixels, options.NetworkBackend, options.MaxCandidates);
        backend = options.Backend;
    }

    /// <summary>
    /// Does the work of a first request once on a small synthetic image (<see cref="ImageWorker.WarmUp"/>), so that
    /// the first real request is as fast as the rest. With a <see cref="WebServerOptions.Backend"/> the work runs
    /// elsewhere and nothing is warmed here.
    /// </summary>
    /// <returns>How long it took.</returns>
    public TimeSpan WarmUp() => backend is null ? worker.WarmUp() : TimeSpan.Zero;

    /// <summary>Detectors in the cache (for tests).</summary>
    internal int CachedDetectors => worker.CachedDetectors;

    /// <summary>Handles <c>POST /api/detect</c>.</summary>
    public Task DetectAsync(HttpContext context) => HandleAsync(context, annotate: false);

    /// <summary>Handles <c>POST /api/annotate</c>.</summary>
    public Task AnnotateAsync(HttpContext context) => HandleAsync(context, annotate: true);

    /// <summary>Writes <c>{"error": message}</c> with <paramref name="statusCode"/>.</summary>
    public static async Task WriteErrorAsync(HttpContext context, int statusCode, string message)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.Body.WriteAsync(DetectionJson.Error(message), CancellationToken.None).ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context, bool annotate)
    {
        CancellationToken aborted = context.RequestAborted;
        try
        {
            var query = DetectQuery.Parse(context.Request.Query, annotate, options.MaxPixels, options.MaxCandidates);
            if (!workers.TryAdmit())
            {
                context.Response.Headers.RetryAfter = "1";
                throw new ApiException(StatusCodes.Status503ServiceUnavailable, $"the server is busy ({workers.Concurrency} images in progress and the queue is full); retry shortly.");
            }

            ImageWorkResult outcome;
            string name;
            try
            {
                var stage = RequestStage.Set(context, RequestStage.Reading);
                var upload = await UploadReader.ReadAsync(context.Request, options.MaxUploadBytes, aborted).ConfigureAwait(false);
                name = upload.Name;
                stage.Update(backend is null ? RequestStage.Queued : RequestStage.Elsewhere);
                outcome = backend is null
                    ? await workers.RunAsync(
                        token =>
                        {
                            stage.Update(RequestStage.Detecting);
                            return worker.Run(upload.Span, upload.Name, query, annotate, upload.Release, token);
                        },
                        aborted).ConfigureAwait(false)
                    : await RunElsewhereAsync(upload, context.Request.QueryString.Value ?? string.Empty, annotate, aborted).ConfigureAwait(false);
            }
            finally
            {
                workers.Release();
            }

            if (outcome.Status != StatusCodes.Status200OK)
            {
                throw new ApiException(outcome.Status, outcome.Error ?? "the image could not be processed.");
            }

            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = outcome.ContentType;
            response.ContentLength = outcome.Body.Length;
            response.Headers["Server-Timing"] = string.Create(
                CultureInfo.InvariantCulture,
                $"decode;dur={outcome.DecodeMs:F1}, detect;dur={outcome.DetectMs:F1}, encode;dur={outcome.EncodeMs:F1}");
            response.Headers["X-Face-Count"] = outcome.Faces.ToString(CultureInfo.InvariantCulture);
            if (outcome.Worker is not null)
            {
                response.Headers["X-Mtcnn-Worker"] = outcome.Worker;
            }

            response.Headers.CacheControl = "no-store";
            await response.Body.WriteAsync(outcome.Body, aborted).ConfigureAwait(false);
            if (logger.IsEnabled(LogLevel.Information))
            {
                LogRequest(logger, context.Request.Path.Value ?? string.Empty, name, outcome.Worker ?? "in-process", outcome.Width, outcome.Height, outcome.Faces, outcome.DecodeMs + outcome.DetectMs + outcome.EncodeMs);
            }
        }
        catch (ApiException e)
        {
            if (logger.IsEnabled(LogLevel.Information))
            {
                LogRefused(logger, context.Request.Path.Value ?? string.Empty, e.StatusCode, e.Message);
            }

            if (!context.Response.HasStarted)
            {
                await WriteErrorAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Sends the work to the backend, counting it as running while it is out. The upload's buffer goes back to the pool
    /// once the bytes are copied for the call.
    /// </summary>
    private async Task<ImageWorkResult> RunElsewhereAsync(Upload upload, string query, bool annotate, CancellationToken aborted)
    {
        byte[] bytes = upload.Span.ToArray();
        upload.Release();
        workers.BeginExternal();
        try
        {
            return await backend!.RunAsync(new ImageWork(bytes, upload.Name, query, annotate), aborted).ConfigureAwait(false);
        }
        finally
        {
            workers.EndExternal();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Path} {Name} {Width}x{Height}: {Faces} faces in {Milliseconds:F1} ms ({Worker})")]
    private static partial void LogRequest(ILogger logger, string path, string name, string worker, int width, int height, int faces, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Path} refused with {Status}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string path, int status, string reason);
}
