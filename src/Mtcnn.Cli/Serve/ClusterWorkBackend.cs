using System.Runtime.InteropServices;
using Mtcnn.Cluster;
using Mtcnn.Web;

namespace Mtcnn.Cli.Serve;

/// <summary>
/// The web server's backend for <c>mtcnn serve --cluster</c>: each image request goes to a silo of the cluster
/// (<see cref="ClusterImageClient"/>, which rotates over the silos and retries on another when one dies), together with
/// the front end's limits and weights. When no silo answers, the request gets a 503 naming the cluster.
/// </summary>
internal sealed class ClusterWorkBackend : IImageWorkBackend
{
    private readonly ClusterImageClient client;
    private readonly WebServerOptions limits;
    private readonly string? weights;

    /// <summary>Creates the backend.</summary>
    /// <param name="client">The cluster client.</param>
    /// <param name="limits">The front end's options (upload and pixel limits are sent with each image).</param>
    /// <param name="weights">Weight path the silos load (absolute, on storage every silo reads), or null for the embedded weights.</param>
    /// <param name="description">The cluster, for the health endpoint.</param>
    public ClusterWorkBackend(ClusterImageClient client, WebServerOptions limits, string? weights, string description)
    {
        this.client = client;
        this.limits = limits;
        this.weights = weights;
        Description = description;
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public async Task<ImageWorkResult> RunAsync(ImageWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var settings = new ClusterImageSettings
        {
            Query = work.Query,
            Annotate = work.Annotate,
            MaxUploadBytes = limits.MaxUploadBytes,
            MaxPixels = limits.MaxPixels,
            MaxCandidates = limits.MaxCandidates,
            Weights = weights,
        };
        byte[] bytes = MemoryMarshal.TryGetArray(work.Image, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : work.Image.ToArray();
        var call = new ImageCall { Image = bytes, Name = work.Name, Settings = settings.ToJson() };
        ImageReply reply;
        try
        {
            reply = await client.ProcessAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return ImageWorkResult.Refused(503, $"the cluster did not process the image ({CliApp.OneLine(ClusterHosting.Describe(e)).TrimEnd('.')}); retry shortly.");
        }

        return new ImageWorkResult
        {
            Status = reply.Status,
            Body = reply.Body,
            ContentType = reply.ContentType,
            Error = reply.Error,
            Width = reply.Width,
            Height = reply.Height,
            Faces = reply.Faces,
            DecodeMs = reply.DecodeMs,
            DetectMs = reply.DetectMs,
            EncodeMs = reply.EncodeMs,
            Worker = reply.Silo,
        };
    }
}
