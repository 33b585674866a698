using Mtcnn.Cluster;
using Mtcnn.Web;

namespace Mtcnn.Cli.Serve;

/// <summary>
/// A silo's processor for the images <c>mtcnn serve --cluster</c> sends: the web API's own work
/// (<see cref="ImageWorker"/>: decode, detect, encode), so that a front end on the cluster answers with the same bytes
/// as one that detects in-process. One worker per weights and limits (normally one per silo), shared by all calls.
/// </summary>
internal sealed class SiloImageProcessor : IImageProcessor
{
    private readonly Dictionary<(string? Weights, long MaxUploadBytes, long MaxPixels, int MaxCandidates), ImageWorker> workers = [];
    private readonly Lock gate = new();
    private readonly CliConsole console;

    /// <summary>Creates the processor; warnings (e.g. an unverifiable weight file) go to <paramref name="console"/>'s stderr.</summary>
    public SiloImageProcessor(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        this.console = console;
    }

    /// <inheritdoc/>
    public ImageReply Process(ImageCall image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ClusterImageSettings settings;
        ImageWorker worker;
        try
        {
            settings = ClusterImageSettings.Parse(image.Settings);
            worker = WorkerFor(settings);
        }
        catch (Exception e) when (e is ArgumentException or UsageException or CliFailureException)
        {
            return new ImageReply { Status = 503, Error = $"the silo cannot serve this request: {CliApp.OneLine(e.Message).TrimEnd('.')}." };
        }

        var result = worker.Run(new ImageWork(image.Image, image.Name, settings.Query, settings.Annotate), cancellationToken);
        return new ImageReply
        {
            Status = result.Status,
            Body = result.Body,
            ContentType = result.ContentType,
            Error = result.Error,
            Width = result.Width,
            Height = result.Height,
            Faces = result.Faces,
            DecodeMs = result.DecodeMs,
            DetectMs = result.DetectMs,
            EncodeMs = result.EncodeMs,
        };
    }

    /// <inheritdoc/>
    public void WarmUp() => WorkerFor(new ClusterImageSettings { MaxUploadBytes = WebServerOptions.DefaultMaxUploadBytes, MaxPixels = WebServerOptions.DefaultMaxPixels }).WarmUp();

    private ImageWorker WorkerFor(ClusterImageSettings s)
    {
        if (s.MaxUploadBytes < 1 || s.MaxPixels < 1 || s.MaxCandidates is < 0 or > 10_000_000)
        {
            throw new ArgumentException($"limits out of range (max upload {s.MaxUploadBytes} bytes, max pixels {s.MaxPixels}, max candidates {s.MaxCandidates})");
        }

        int maxCandidates = s.MaxCandidates == 0 ? WebServerOptions.DefaultMaxCandidates : s.MaxCandidates;
        var key = (s.Weights, s.MaxUploadBytes, s.MaxPixels, maxCandidates);
        lock (gate)
        {
            if (!workers.TryGetValue(key, out var worker))
            {
                worker = new ImageWorker(WeightsFile.Load(s.Weights, "--weights", console), s.MaxUploadBytes, s.MaxPixels, maxCandidates: maxCandidates);
                workers[key] = worker;
            }

            return worker;
        }
    }
}
