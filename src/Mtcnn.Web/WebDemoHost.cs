using System.Globalization;
using System.Reflection;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Routing;
using MinDataRate = Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Mtcnn.Web.Api;
using Mtcnn.Web.Detection;

namespace Mtcnn.Web;

/// <summary>
/// Builds the web demo: a JSON API (<c>POST /api/detect</c>, <c>POST /api/annotate</c>, <c>GET /api/health</c>), its
/// OpenAPI description (<c>GET /openapi/v1.json</c>) and the one-page demo (<c>GET /</c>), on Kestrel (http only).
/// The host reads no configuration files or environment variables: everything comes from <see cref="WebServerOptions"/>.
/// Uploads are held in memory only, never written to disk.
/// </summary>
public static partial class WebDemoHost
{
    /// <summary>Where the OpenAPI document is served.</summary>
    public const string OpenApiPath = "/openapi/v1.json";

    /// <summary>
    /// Longest request line (method, URL with its query, and version) Kestrel accepts, in bytes; longer ones get an
    /// empty 414 from Kestrel before the application sees the request.
    /// </summary>
    public const int MaxRequestLineBytes = 8 * 1024;

    /// <summary>Most bytes of request headers Kestrel accepts; more get an empty 431 from Kestrel.</summary>
    public const int MaxRequestHeadersBytes = 32 * 1024;

    /// <summary>Most request header lines Kestrel accepts; more get an empty 431 from Kestrel.</summary>
    public const int MaxRequestHeaderCount = 100;

    /// <summary>
    /// Slowest upload accepted, in bytes per second, once <see cref="MinUploadGracePeriod"/> has passed; a slower one gets a
    /// JSON 408.
    /// </summary>
    public const double MinUploadBytesPerSecond = 240;

    /// <summary>
    /// Longest time Kestrel waits for the request line and headers; a client that has not sent them by then gets an
    /// empty 408 from Kestrel.
    /// </summary>
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long an upload may be slower than <see cref="MinUploadBytesPerSecond"/> at its start.</summary>
    public static readonly TimeSpan MinUploadGracePeriod = TimeSpan.FromSeconds(5);

    /// <summary>Creates the application (not started); run it with <c>RunAsync</c> or <c>StartAsync</c>.</summary>
    /// <param name="options">Addresses and limits; null uses <see cref="WebServerOptions.Default"/>. Validated here.</param>
    /// <param name="configure">
    /// Optional changes to the builder before it is built: logging providers, or a test server in place of Kestrel.
    /// </param>
    /// <returns>The configured application.</returns>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public static WebApplication Create(WebServerOptions? options = null, Action<WebApplicationBuilder>? configure = null)
    {
        options = (options ?? WebServerOptions.Default).Validate();

        // The empty builder reads no appsettings.json, environment variables or command line, and adds no HTTPS.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(WebDemoHost).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            // The upload reader refuses a body over the upload limit (+ framing) itself; Kestrel's limit is higher by the
            // drain allowance, so that Kestrel can still read and discard the rest after the 413 has been sent.
            k.Limits.MaxRequestBodySize = options.MaxUploadBytes + UploadReader.MultipartOverheadBytes + UploadReader.DrainBytes;

            // Kestrel's defaults, set here because docs/web.md documents them as this server's limits.
            k.Limits.MaxRequestLineSize = MaxRequestLineBytes;
            k.Limits.MaxRequestHeadersTotalSize = MaxRequestHeadersBytes;
            k.Limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
            k.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
            k.Limits.MinRequestBodyDataRate = new MinDataRate(MinUploadBytesPerSecond, MinUploadGracePeriod);
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(130);
        });

        // The timeout middleware logs each timeout as a warning with the cancellation's stack trace; the host logs one
        // line of its own instead (see WriteTimeoutResponse below).
        builder.Logging.AddFilter("Microsoft.AspNetCore.Http.Timeouts.RequestTimeoutsMiddleware", LogLevel.None);
        builder.WebHost.UseUrls(WebServerOptions.ParseUrls(options.Urls));

        var services = builder.Services;
        services.AddRouting();
        services.AddSingleton(options);
        services.AddSingleton(_ => new DetectionWorkers(options.EffectiveConcurrency, options.MaxQueuedRequests, startThreads: options.Backend is null));
        services.AddSingleton<ImageEndpoints>();
        services.AddRequestTimeouts(t => t.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = options.RequestTimeout,
            TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
            WriteTimeoutResponse = context =>
            {
                if (Logger(context).IsEnabled(LogLevel.Warning))
                {
                    LogTimedOut(Logger(context), context.Request.Method, context.Request.Path.Value ?? string.Empty, Client(context), RequestStage.Describe(context), options.RequestTimeout.TotalSeconds);
                }

                context.Response.ContentType = "application/json; charset=utf-8";
                string message = string.Create(
                    CultureInfo.InvariantCulture,
                    $"the request did not finish within the time limit of {options.RequestTimeout.TotalSeconds:0.###} s; try a smaller image or retry later.");
                return context.Response.Body.WriteAsync(DetectionJson.Error(message)).AsTask();
            },
        });

        // Numbers are numbers (the web defaults would also read them from strings, and say so in the schemas).
        services.ConfigureHttpJsonOptions(j => j.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);
        services.AddOpenApi(o => o.AddDocumentTransformer(OpenApiDescriptions.DescribeDocument));
        configure?.Invoke(builder);

        var app = builder.Build();
        app.Use(SecurityHeadersAsync);
        app.Use(ErrorBoundaryAsync);
        var files = new EmbeddedFileProvider(typeof(WebDemoHost).Assembly, "Mtcnn.Web.wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = f => f.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.UseRouting();
        app.UseRequestTimeouts();
        MapApi(app);
        return app;
    }

    /// <summary>
    /// Runs the work of a first request once (decode, detect with the default and with all-zero thresholds, encode,
    /// JSON) on a small synthetic image, so that the first real request does not pay for compiling the code paths.
    /// Call it after <see cref="Create"/> and before starting the application; <c>mtcnn serve</c> does so before it
    /// reports that it is listening.
    /// </summary>
    /// <param name="app">An application made by <see cref="Create"/>.</param>
    /// <returns>How long the warm-up took.</returns>
    public static TimeSpan WarmUp(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<ImageEndpoints>().WarmUp();
    }

    /// <summary>
    /// The addresses the started application listens on, with the real ports where port 0 was asked for
    /// (e.g. <c>http://127.0.0.1:41523</c>).
    /// </summary>
    /// <param name="app">A started application.</param>
    public static IReadOnlyList<string> ListeningAddresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var feature = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>();
        return feature is null ? [] : [.. feature.Addresses];
    }

    /// <summary>The Mtcnn.NET version reported by <c>/api/health</c>.</summary>
    internal static string Version { get; } =
        typeof(FaceDetector).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static void MapApi(WebApplication app)
    {
        var endpoints = app.Services.GetRequiredService<ImageEndpoints>();
        var api = app.MapGroup("/api");

        // Lambdas rather than method groups: the OpenAPI generator would otherwise take the handlers' XML docs as summaries.
        api.MapPost("/detect", (Func<HttpContext, Task>)(context => endpoints.DetectAsync(context)))
            .WithName("Detect")
            .WithTags("Faces")
            .WithSummary("Detect faces in an image")
            .WithDescription(OpenApiDescriptions.DetectDescription)
            .Produces<DetectionResponse>(StatusCodes.Status200OK, "application/json")
            .ProducesErrors()
            .AddOpenApiOperationTransformer(OpenApiDescriptions.DescribeImageOperation(annotate: false));

        api.MapPost("/annotate", (Func<HttpContext, Task>)(context => endpoints.AnnotateAsync(context)))
            .WithName("Annotate")
            .WithTags("Faces")
            .WithSummary("Draw the detected faces onto the image")
            .WithDescription(OpenApiDescriptions.AnnotateDescription)
            .Produces(StatusCodes.Status200OK, contentType: "image/png", additionalContentTypes: ["image/jpeg", "image/webp"])
            .ProducesErrors()
            .AddOpenApiOperationTransformer(OpenApiDescriptions.DescribeImageOperation(annotate: true));

        var health = (WebServerOptions o, DetectionWorkers w) => TypedResults.Json(
            new HealthResponse("ok", Version, o.Backend?.Description ?? "in-process", w.Concurrency, w.Running, w.Admitted,
                new LimitsResponse(o.MaxUploadBytes, o.MaxPixels, o.RequestTimeout.TotalSeconds, o.MaxQueuedRequests, o.MaxCandidates)));
        api.MapGet("/health", health)
            .WithName("Health")
            .WithTags("Server")
            .WithSummary("Liveness, version, worker load and limits")
            .Produces<HealthResponse>(StatusCodes.Status200OK, "application/json");

        // HEAD wherever GET works: the same handler, whose body Kestrel leaves out (not a second operation in the document).
        api.MapMethods("/health", [HttpMethods.Head], health).ExcludeFromDescription();

        // Any other method or path under /api: a JSON 405 or 404 rather than an empty one.
        api.MapFallback(ApiFallbackAsync).ExcludeFromDescription();

        app.MapOpenApi(OpenApiPath).WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
    }

    private static Task ApiFallbackAsync(HttpContext context)
    {
        string path = context.Request.Path.Value?.TrimEnd('/') ?? string.Empty;
        string? allowed = path.ToLowerInvariant() switch
        {
            "/api/detect" or "/api/annotate" => HttpMethods.Post,
            "/api/health" => $"{HttpMethods.Get}, {HttpMethods.Head}",
            _ => null,
        };
        if (allowed is not null)
        {
            context.Response.Headers.Allow = allowed;
            return ImageEndpoints.WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, $"{context.Request.Method} is not allowed on {path}; use {allowed}.");
        }

        return ImageEndpoints.WriteErrorAsync(context, StatusCodes.Status404NotFound, $"no API endpoint {context.Request.Method} {context.Request.Path}; see {OpenApiPath}.");
    }

    private static RouteHandlerBuilder ProducesErrors(this RouteHandlerBuilder builder) => builder
        .Produces<ErrorResponse>(StatusCodes.Status400BadRequest, "application/json")
        .Produces<ErrorResponse>(StatusCodes.Status408RequestTimeout, "application/json")
        .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge, "application/json")
        .Produces<ErrorResponse>(StatusCodes.Status415UnsupportedMediaType, "application/json")
        .Produces<ErrorResponse>(StatusCodes.Status422UnprocessableEntity, "application/json")
        .Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable, "application/json");

    /// <summary>
    /// Middleware inside <see cref="SecurityHeadersAsync"/>: a client that went away ends quietly; any other unexpected
    /// exception becomes a JSON 500 without internals (the exception is logged); Kestrel's refusals of a body it is
    /// reading for the application (413 over its limit, 408 too slow, 400 bad chunked framing) become JSON errors.
    /// </summary>
    private static async Task ErrorBoundaryAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever a vanished client's request threw, there is nobody left to tell.
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
#pragma warning restore CA1031
        {
            // The client disconnected (a cancelled read or write, or a reset connection): nothing to answer.
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            string message;
            var logger = Logger(context);
            if (e.StatusCode == StatusCodes.Status408RequestTimeout)
            {
                // Kestrel's minimum upload rate (the only 408 that reaches the application: a stalled request line or
                // header block is answered by Kestrel itself).
                MinDataRate? rate = context.Features.Get<IHttpMinRequestBodyDataRateFeature>()?.MinDataRate;
                message = rate is null
                    ? "the upload arrived too slowly; the server stopped waiting for it."
                    : string.Create(
                        CultureInfo.InvariantCulture,
                        $"the upload arrived too slowly: less than {rate.BytesPerSecond:0.###} bytes per second after the first {rate.GracePeriod.TotalSeconds:0.###} s; the server stopped waiting for it.");
                if (logger.IsEnabled(LogLevel.Warning))
                {
                    LogSlowUpload(logger, context.Request.Method, context.Request.Path.Value ?? string.Empty, Client(context), rate?.BytesPerSecond ?? 0, rate?.GracePeriod.TotalSeconds ?? 0);
                }
            }
            else
            {
                message = e.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? $"the upload is larger than the limit of {context.RequestServices.GetRequiredService<WebServerOptions>().MaxUploadBytes} bytes."
                    : $"bad request: {e.Message}";
                if (logger.IsEnabled(LogLevel.Information))
                {
                    string client = Client(context);
                    LogBadRequest(logger, context.Request.Method, context.Request.Path.Value ?? string.Empty, client, e.StatusCode, message);
                }
            }

            await ImageEndpoints.WriteErrorAsync(context, e.StatusCode, message).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The contract is a JSON 500 for anything unexpected; the exception is logged.
        catch (Exception e) when (!context.Response.HasStarted)
#pragma warning restore CA1031
        {
            Logger(context).LogError(e, "Unhandled exception for {Method} {Path}", context.Request.Method, context.Request.Path);

            // Clear drops the headers set so far; the security headers are added again when the response starts.
            context.Response.Clear();
            await ImageEndpoints.WriteErrorAsync(context, StatusCodes.Status500InternalServerError, "internal server error.").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Outermost middleware: headers for every response that the application answers (errors included, and after
    /// <c>Response.Clear</c>, which the timeout and error paths call): no MIME sniffing, no framing, and a strict
    /// content policy for the page. They are set when the response starts, so nothing in between can drop them.
    /// </summary>
    private static Task SecurityHeadersAsync(HttpContext context, RequestDelegate next)
    {
        context.Response.OnStarting(
            static state =>
            {
                var headers = ((HttpResponse)state).Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers.ContentSecurityPolicy =
                    "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; "
                    + "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
                headers["Permissions-Policy"] = "camera=(self), microphone=()";
                return Task.CompletedTask;
            },
            context.Response);
        return next(context);
    }

    private static ILogger Logger(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(WebDemoHost));

    /// <summary>The client's address and port for log lines, e.g. <c>127.0.0.1:53122</c>.</summary>
    internal static string Client(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } ip
            ? string.Create(CultureInfo.InvariantCulture, $"{ip}:{context.Connection.RemotePort}")
            : "an unknown client";

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} from {Client} timed out {Stage} (the limit is {Seconds} s, --request-timeout-seconds); answered 503")]
    private static partial void LogTimedOut(ILogger logger, string method, string path, string client, string stage, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} from {Client}: the upload arrived slower than {BytesPerSecond} bytes/s after the first {GraceSeconds} s; answered 408")]
    private static partial void LogSlowUpload(ILogger logger, string method, string path, string client, double bytesPerSecond, double graceSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} {Path} from {Client} refused with {Status}: {Reason}")]
    private static partial void LogBadRequest(ILogger logger, string method, string path, string client, int status, string reason);
}
