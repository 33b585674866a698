using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Mtcnn.Imaging;
using Mtcnn.Web.Detection;

namespace Mtcnn.Web.Api;

/// <summary>
/// <c>POST /api/detect</c> and <c>POST /api/annotate</c>: parse the query (400 before any upload is read), admit the
/// request (503 when the queue is full), read the upload into memory (413, 415), then decode, detect and encode on a
/// worker thread (415 / 422 for images that cannot be used). Every refusal is a JSON <c>{"error": "..."}</c>.
/// </summary>
internal sealed partial class ImageEndpoints
{
    private readonly WebServerOptions options;
    private readonly DetectionWorkers workers;
    private readonly DetectorCache detectors;
    private readonly FaceAnnotator annotator = new();
    private readonly ImageLoadOptions loadOptions;
    private readonly ILogger<ImageEndpoints> logger;

    /// <summary>Creates the endpoints over the shared worker pool.</summary>
    public ImageEndpoints(WebServerOptions options, DetectionWorkers workers, ILogger<ImageEndpoints> logger)
    {
        this.options = options;
        this.workers = workers;
        this.logger = logger;
        detectors = new DetectorCache(options.Weights);
        loadOptions = new ImageLoadOptions { MaxFileSizeBytes = options.MaxUploadBytes, MaxPixelCount = options.MaxPixels };
    }

    /// <summary>
    /// Does the work of a first request once, on a small synthetic image, so that the first real one is as fast as
    /// the rest: the detector for the default query (kept in the cache), a second pass with every threshold at 0 so
    /// that R-Net, O-Net, landmark decoding and suppression run too, PNG encoding and decoding, annotation and the
    /// JSON writer. Everything runs at the SIMD level the process uses for every detector (<c>Vector512</c>,
    /// <c>Vector256</c> or scalar, chosen once from the CPU), so that is the path compiled here.
    /// </summary>
    /// <returns>How long it took.</returns>
    public TimeSpan WarmUp()
    {
        long t0 = Stopwatch.GetTimestamp();
        const int Width = 120, Height = 96;
        var pixels = new byte[Width * Height * 3];
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                // Smooth shading with a darker disc: enough structure for P-Net to propose windows at threshold 0.
                int dx = x - 60, dy = y - 48;
                int v = (dx * dx) + (dy * dy) < 400 ? 70 : 120 + ((x + y) % 90);
                int o = ((y * Width) + x) * 3;
                pixels[o] = (byte)v;
                pixels[o + 1] = (byte)(v * 3 / 4);
                pixels[o + 2] = (byte)(v / 2);
            }
        }

        var image = new ImageData(pixels, Width, Height, PixelFormat.Rgb24);
        var defaults = DetectQuery.Parse(QueryCollection.Empty, allowFormat: false, options.MaxPixels).Options;
        var result = detectors.Get(defaults).Detect(image);
        var everything = new FaceDetector(defaults with { PNetThreshold = 0, RNetThreshold = 0, ONetThreshold = 0, MaxFaces = 4 }, options.Weights).Detect(image);
        using (var annotated = annotator.Annotate(image, everything))
        {
            byte[] png = annotated.Encode(ImageFileFormat.Png);
            var decoded = ImageLoader.Decode(png, "warm-up.png", loadOptions);
            _ = DetectionJson.Serialize("warm-up.png", result);
            _ = DetectionJson.Serialize("warm-up.png", detectors.Get(defaults).Detect(decoded.Image));
        }

        return Stopwatch.GetElapsedTime(t0);
    }

    /// <summary>Detectors in the cache (for tests).</summary>
    internal int CachedDetectors => detectors.Count;

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
            var query = DetectQuery.Parse(context.Request.Query, annotate, options.MaxPixels);
            if (!workers.TryAdmit())
            {
                context.Response.Headers.RetryAfter = "1";
                throw new ApiException(StatusCodes.Status503ServiceUnavailable, $"the server is busy ({workers.Concurrency} images in progress and the queue is full); retry shortly.");
            }

            Outcome outcome;
            try
            {
                var upload = await UploadReader.ReadAsync(context.Request, options.MaxUploadBytes, aborted).ConfigureAwait(false);
                outcome = await workers.RunAsync(token => Process(upload, query, annotate, token), aborted).ConfigureAwait(false);
            }
            finally
            {
                workers.Release();
            }

            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = outcome.ContentType;
            response.ContentLength = outcome.Body.Length;
            response.Headers["Server-Timing"] = string.Create(
                CultureInfo.InvariantCulture,
                $"decode;dur={outcome.DecodeMs:F1}, detect;dur={outcome.DetectMs:F1}, encode;dur={outcome.EncodeMs:F1}");
            response.Headers["X-Face-Count"] = outcome.Faces.ToString(CultureInfo.InvariantCulture);
            response.Headers.CacheControl = "no-store";
            await response.Body.WriteAsync(outcome.Body, aborted).ConfigureAwait(false);
            if (logger.IsEnabled(LogLevel.Information))
            {
                LogRequest(logger, context.Request.Path.Value ?? string.Empty, outcome.Name, outcome.Width, outcome.Height, outcome.Faces, outcome.DecodeMs + outcome.DetectMs + outcome.EncodeMs);
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

    private Outcome Process(Upload upload, DetectQuery query, bool annotate, CancellationToken token)
    {
        long t0 = Stopwatch.GetTimestamp();
        LoadedImage image;
        try
        {
            image = ImageLoader.Decode(upload.Span, upload.Name, loadOptions);
        }
        catch (ImageLoadException e)
        {
            throw new ApiException(StatusFor(e.Error), e.Message, e);
        }
        finally
        {
            // The decoder has its own copy of the bytes.
            upload.Release();
        }

        token.ThrowIfCancellationRequested();
        long t1 = Stopwatch.GetTimestamp();
        var result = detectors.Get(query.Options).Detect(image.Image, token);
        long t2 = Stopwatch.GetTimestamp();
        byte[] body;
        string contentType;
        if (annotate)
        {
            using var annotated = annotator.Annotate(image.Image, result);
            (ImageFileFormat format, contentType) = query.Format switch
            {
                "jpeg" => (ImageFileFormat.Jpeg, "image/jpeg"),
                "webp" => (ImageFileFormat.Webp, "image/webp"),
                _ => (ImageFileFormat.Png, "image/png"),
            };
            body = annotated.Encode(format);
        }
        else
        {
            body = DetectionJson.Serialize(upload.Name, result);
            contentType = "application/json; charset=utf-8";
        }

        long t3 = Stopwatch.GetTimestamp();
        int faces = result.LastStage == CascadeStage.ONet ? result.Faces.Count : result.FinalCandidates.Count;
        return new Outcome(body, contentType, upload.Name, image.Width, image.Height, faces,
            Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds, Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds, Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
    }

    /// <summary>
    /// The status for an image that cannot be used: 415 when the bytes are no supported image format, 422 when they are
    /// one but broken or over the pixel limit, 400 for an empty upload, 413 for one over the byte limit.
    /// </summary>
    internal static int StatusFor(ImageLoadError error) => error switch
    {
        ImageLoadError.UnsupportedFormat => StatusCodes.Status415UnsupportedMediaType,
        ImageLoadError.Empty => StatusCodes.Status400BadRequest,
        ImageLoadError.TooLarge or ImageLoadError.Truncated or ImageLoadError.Corrupt => StatusCodes.Status422UnprocessableEntity,
        _ => StatusCodes.Status422UnprocessableEntity,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "{Path} {Name} {Width}x{Height}: {Faces} faces in {Milliseconds:F1} ms")]
    private static partial void LogRequest(ILogger logger, string path, string name, int width, int height, int faces, double milliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Path} refused with {Status}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string path, int status, string reason);

    private sealed record Outcome(byte[] Body, string ContentType, string Name, int Width, int Height, int Faces, double DecodeMs, double DetectMs, double EncodeMs);
}
