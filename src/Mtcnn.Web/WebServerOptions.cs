using System.Globalization;

namespace Mtcnn.Web;

/// <summary>
/// Immutable settings of the web demo host: where it listens, the limits that protect it from large or hostile
/// uploads, and how much detection work runs at once. <see cref="Validate"/> (called by <see cref="WebDemoHost"/>)
/// checks every value against its documented range.
/// </summary>
public sealed record WebServerOptions
{
    /// <summary>The default listening address: loopback only, port 5000.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5000";

    /// <summary>Default <see cref="MaxUploadBytes"/>: 20 MiB (20,971,520 bytes).</summary>
    public const long DefaultMaxUploadBytes = 20L * 1024 * 1024;

    /// <summary>Default <see cref="MaxPixels"/>: 40,000,000 pixels (width * height).</summary>
    public const long DefaultMaxPixels = 40_000_000;

    /// <summary>Default <see cref="MaxCandidates"/>: the detector's default.</summary>
    public static readonly int DefaultMaxCandidates = DetectorOptions.Default.MaxCandidates;

    /// <summary>Default <see cref="RequestTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The default options.</summary>
    public static WebServerOptions Default { get; } = new();

    /// <summary>
    /// Addresses to listen on, separated by <c>;</c> (as ASP.NET Core's <c>--urls</c>). Default
    /// <see cref="DefaultUrls"/>. Port 0 picks a free port (see <see cref="WebDemoHost.ListeningAddresses"/>).
    /// Only <c>http://</c> is supported.
    /// </summary>
    public string Urls { get; init; } = DefaultUrls;

    /// <summary>
    /// Largest image upload accepted, in bytes (the encoded file, not counting multipart framing); larger uploads get
    /// 413. Default <see cref="DefaultMaxUploadBytes"/>; range [1, 1,073,741,824].
    /// </summary>
    public long MaxUploadBytes { get; init; } = DefaultMaxUploadBytes;

    /// <summary>
    /// Largest decoded image accepted, in pixels (width * height), checked from the file header before any pixel is
    /// decoded; larger images get 422. Default <see cref="DefaultMaxPixels"/>; range [1, 500,000,000].
    /// </summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>
    /// Most candidates a detection passes from one stage to the next (<see cref="DetectorOptions.MaxCandidates"/>): it
    /// bounds the work one request can cause with thresholds near 0 and a tiny <c>minFaceSize</c>; a capped result says
    /// <c>"candidateLimitReached": true</c>. Default <see cref="DefaultMaxCandidates"/> (the detector's); range [1, 10,000,000].
    /// </summary>
    public int MaxCandidates { get; init; } = DefaultMaxCandidates;

    /// <summary>
    /// Longest time a request may take from arrival to response, queueing included; after it the work is cancelled and
    /// the client gets 503 with a JSON error. Default <see cref="DefaultRequestTimeout"/>; range [1 ms, 1 hour].
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = DefaultRequestTimeout;

    /// <summary>
    /// Images decoded, detected and encoded at once (the size of the detection worker pool); each runs on one thread.
    /// 0 means <see cref="Environment.ProcessorCount"/>. Default 0; range [0, 1024].
    /// </summary>
    public int MaxConcurrentDetections { get; init; }

    /// <summary>
    /// Image requests that may wait for a free worker beyond those being processed; when the queue is full a request
    /// gets 503 at once (before its body is read) so that waiting uploads cannot exhaust memory. Default 64; range [0, 100,000].
    /// </summary>
    public int MaxQueuedRequests { get; init; } = 64;

    /// <summary>Weights of the detector; null uses the embedded original weights. Not used with a <see cref="Backend"/>.</summary>
    public MtcnnWeights? Weights { get; init; }

    /// <summary>
    /// Where the networks run inside this server's detections (for example ONNX Runtime, <c>mtcnn serve --backend
    /// onnxruntime</c>); null (the default) uses the built-in kernels. Its weights replace <see cref="Weights"/>.
    /// </summary>
    public INetworkBackend? NetworkBackend { get; init; }

    /// <summary>
    /// Where images are decoded, detected and encoded; null (the default) runs them on this server's own
    /// <see cref="MaxConcurrentDetections"/> worker threads. With a backend (e.g. an Orleans cluster, <c>mtcnn serve
    /// --cluster</c>) no worker thread is started: <see cref="MaxConcurrentDetections"/> is the number of requests sent
    /// to the backend at once and <see cref="MaxQueuedRequests"/> how many more may wait; the limits are still checked
    /// here and passed on with each request.
    /// </summary>
    public IImageWorkBackend? Backend { get; init; }

    /// <summary>Worker count after resolving 0 to the processor count.</summary>
    public int EffectiveConcurrency => MaxConcurrentDetections == 0 ? Environment.ProcessorCount : MaxConcurrentDetections;

    /// <summary>Checks every value against its documented range.</summary>
    /// <returns>This instance, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names it and the valid range.</exception>
    /// <exception cref="ArgumentException"><see cref="Urls"/> is empty or holds an address that is not an absolute http URL.</exception>
    public WebServerOptions Validate()
    {
        if (MaxUploadBytes is < 1 or > 1L << 30)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxUploadBytes), MaxUploadBytes, "MaxUploadBytes must be in [1, 1073741824].");
        }

        if (MaxPixels is < 1 or > 500_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPixels), MaxPixels, "MaxPixels must be in [1, 500000000].");
        }

        if (MaxCandidates is < 1 or > 10_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxCandidates), MaxCandidates, "MaxCandidates must be in [1, 10000000].");
        }

        if (RequestTimeout < TimeSpan.FromMilliseconds(1) || RequestTimeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(
                nameof(RequestTimeout),
                RequestTimeout,
                string.Create(CultureInfo.InvariantCulture, $"RequestTimeout must be in [1 ms, 1 hour], got {RequestTimeout.TotalSeconds} s."));
        }

        if (MaxConcurrentDetections is < 0 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentDetections), MaxConcurrentDetections, "MaxConcurrentDetections must be in [0, 1024] (0 uses every processor).");
        }

        if (MaxQueuedRequests is < 0 or > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxQueuedRequests), MaxQueuedRequests, "MaxQueuedRequests must be in [0, 100000].");
        }

        _ = ParseUrls(Urls);
        return this;
    }

    /// <summary>Splits <paramref name="urls"/> at <c>;</c> and checks that each is an absolute http URL.</summary>
    internal static string[] ParseUrls(string? urls)
    {
        string[] parts = (urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new ArgumentException("Urls must name at least one address, e.g. http://127.0.0.1:5000.", nameof(urls));
        }

        foreach (string url in parts)
        {
            // Kestrel also accepts wildcard hosts (http://*:5000, http://+:5000) that Uri rejects.
            string probe = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(probe, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp)
            {
                throw new ArgumentException($"'{url}' is not an http address like http://127.0.0.1:5000 (https is not supported; put a reverse proxy in front for TLS).", nameof(urls));
            }
        }

        return parts;
    }
}
