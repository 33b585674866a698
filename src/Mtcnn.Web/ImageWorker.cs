using System.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;
using Mtcnn.Imaging;
using Mtcnn.Web.Api;
using Mtcnn.Web.Detection;

namespace Mtcnn.Web;

/// <summary>
/// The CPU-bound part of an image request: decode the upload, detect, and encode the JSON or the annotated image.
/// <c>mtcnn serve</c> runs it on its own worker threads; with <c>--cluster</c> the silos run it for the front end
/// (<see cref="Run(ImageWork, CancellationToken)"/>), so both give the same bytes for the same request. Detectors are
/// cached by options and shared. Thread-safe.
/// </summary>
public sealed class ImageWorker
{
    private readonly DetectorCache detectors;
    private readonly FaceAnnotator annotator = new();
    private readonly ImageLoadOptions loadOptions;
    private readonly MtcnnWeights? weights;
    private readonly INetworkBackend? backend;
    private readonly long maxPixels;
    private readonly int maxCandidates;

    /// <summary>Creates the worker.</summary>
    /// <param name="weights">The detector's weights; null uses the embedded original weights.</param>
    /// <param name="maxUploadBytes">Largest encoded image accepted, in bytes (413 above).</param>
    /// <param name="maxPixels">Largest image in pixels, checked from the header before decoding (422 above).</param>
    /// <param name="backend">Where the networks run; null: the built-in kernels with <paramref name="weights"/>.</param>
    /// <param name="maxCandidates">Most candidates passed between stages (<see cref="DetectorOptions.MaxCandidates"/>); 0: the detector's default.</param>
    public ImageWorker(MtcnnWeights? weights, long maxUploadBytes, long maxPixels, INetworkBackend? backend = null, int maxCandidates = 0)
    {
        this.maxCandidates = maxCandidates == 0 ? WebServerOptions.DefaultMaxCandidates : maxCandidates;
        ArgumentOutOfRangeException.ThrowIfLessThan(this.maxCandidates, 1, nameof(maxCandidates));
        this.backend = backend;
        ArgumentOutOfRangeException.ThrowIfLessThan(maxUploadBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        this.weights = weights;
        this.maxPixels = maxPixels;
        detectors = new DetectorCache(weights, backend);
        loadOptions = new ImageLoadOptions { MaxFileSizeBytes = maxUploadBytes, MaxPixelCount = maxPixels };
    }

    /// <summary>Detectors in the cache (for tests).</summary>
    internal int CachedDetectors => detectors.Count;

    /// <summary>
    /// Runs one request's work. Refusals (a bad query, an image that cannot be decoded or is over a limit) are results
    /// with their status and message, as the API answers them.
    /// </summary>
    /// <param name="work">The request.</param>
    /// <param name="cancellationToken">Stops the detection.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ImageWorkResult Run(ImageWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (work.Image.Length > loadOptions.MaxFileSizeBytes)
        {
            return ImageWorkResult.Refused(StatusCodes.Status413PayloadTooLarge, $"the upload is larger than the limit of {loadOptions.MaxFileSizeBytes} bytes.");
        }

        try
        {
            var query = DetectQuery.Parse(new QueryCollection(QueryHelpers.ParseQuery(work.Query)), work.Annotate, maxPixels, maxCandidates);
            return Run(work.Image.Span, work.Name, query, work.Annotate, null, cancellationToken);
        }
        catch (ApiException e)
        {
            return ImageWorkResult.Refused(e.StatusCode, e.Message);
        }
    }

    /// <summary>
    /// Runs one request's work with its query parsed.
    /// </summary>
    /// <param name="image">The encoded image.</param>
    /// <param name="name">The upload's name.</param>
    /// <param name="query">The parsed query.</param>
    /// <param name="annotate">True for the annotated image.</param>
    /// <param name="decoded">Called once the bytes are no longer needed (the decoder has its own copy).</param>
    /// <param name="cancellationToken">Stops the detection.</param>
    /// <exception cref="ApiException">The image cannot be used (415, 422, 400).</exception>
    internal ImageWorkResult Run(ReadOnlySpan<byte> image, string name, DetectQuery query, bool annotate, Action? decoded, CancellationToken cancellationToken)
    {
        long t0 = Stopwatch.GetTimestamp();
        LoadedImage loaded;
        try
        {
            loaded = ImageLoader.Decode(image, name, loadOptions);
        }
        catch (ImageLoadException e)
        {
            // The problem without the library's remedy, which names ImageLoadOptions settings a client cannot change.
            throw new ApiException(StatusFor(e.Error), $"{e.FileName ?? "<image>"}: {e.Problem}", e);
        }
        finally
        {
            decoded?.Invoke();
        }

        cancellationToken.ThrowIfCancellationRequested();
        long t1 = Stopwatch.GetTimestamp();
        var result = detectors.Get(query.Options).Detect(loaded.Image, cancellationToken);
        long t2 = Stopwatch.GetTimestamp();
        byte[] body;
        string contentType;
        if (annotate)
        {
            using var annotated = annotator.Annotate(loaded.Image, result);
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
            body = DetectionJson.Serialize(name, result);
            contentType = "application/json; charset=utf-8";
        }

        long t3 = Stopwatch.GetTimestamp();
        return new ImageWorkResult
        {
            Status = StatusCodes.Status200OK,
            Body = body,
            ContentType = contentType,
            Width = loaded.Width,
            Height = loaded.Height,
            Faces = result.LastStage == CascadeStage.ONet ? result.Faces.Count : result.FinalCandidates.Count,
            DecodeMs = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds,
            DetectMs = Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds,
            EncodeMs = Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds,
        };
    }

    /// <summary>
    /// Does the work of a first request once, on a small synthetic image, so that the first real one is as fast as
    /// the rest: the detector for the default query (kept in the cache), a second pass with every threshold at 0 so
    /// that R-Net, O-Net, landmark decoding and suppression run too, PNG encoding and decoding, annotation and the
    /// JSON writer. Everything runs at the SIMD level the process uses for every detector, so that is the path
    /// compiled here.
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
        var defaults = DetectQuery.Parse(QueryCollection.Empty, allowFormat: false, maxPixels, maxCandidates).Options;
        var result = detectors.Get(defaults).Detect(image);
        var zero = defaults with { PNetThreshold = 0, RNetThreshold = 0, ONetThreshold = 0, MaxFaces = 4 };
        var everything = (backend is null ? new FaceDetector(zero, weights) : new FaceDetector(zero, backend)).Detect(image);
        using (var annotated = annotator.Annotate(image, everything))
        {
            byte[] png = annotated.Encode(ImageFileFormat.Png);
            var decoded = ImageLoader.Decode(png, "warm-up.png", loadOptions);
            _ = DetectionJson.Serialize("warm-up.png", result);
            _ = DetectionJson.Serialize("warm-up.png", detectors.Get(defaults).Detect(decoded.Image));
        }

        return Stopwatch.GetElapsedTime(t0);
    }

    /// <summary>
    /// The status for an image that cannot be used: 415 when the bytes are no supported image format, 422 when they are
    /// one but broken or over the pixel limit, 400 for an empty upload.
    /// </summary>
    internal static int StatusFor(ImageLoadError error) => error switch
    {
        ImageLoadError.UnsupportedFormat => StatusCodes.Status415UnsupportedMediaType,
        ImageLoadError.Empty => StatusCodes.Status400BadRequest,
        _ => StatusCodes.Status422UnprocessableEntity,
    };
}
