using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace Mtcnn.Cluster;

/// <summary>One image sent to the cluster for immediate processing (a web request), with the processor's settings.</summary>
[GenerateSerializer]
[Immutable]
public sealed record ImageCall
{
    /// <summary>Most bytes of one image: the call travels as one Orleans message, whose body may not exceed 100 MB.</summary>
    public const int MaxImageBytes = 64 * 1024 * 1024;

    /// <summary>The encoded image.</summary>
    [Id(0)]
    public required byte[] Image { get; init; }

    /// <summary>The image's name (used in messages and output).</summary>
    [Id(1)]
    public required string Name { get; init; }

    /// <summary>What to do with it, opaque to the cluster (for <c>mtcnn serve --cluster</c>: the query, endpoint and limits as JSON).</summary>
    [Id(2)]
    public required string Settings { get; init; }
}

/// <summary>What a silo answered for an <see cref="ImageCall"/>.</summary>
[GenerateSerializer]
[Immutable]
public sealed record ImageReply
{
    /// <summary>An HTTP-like status: 200, or the status of a refusal.</summary>
    [Id(0)]
    public required int Status { get; init; }

    /// <summary>The result's bytes (empty on refusals).</summary>
    [Id(1)]
    public byte[] Body { get; init; } = [];

    /// <summary>The body's content type.</summary>
    [Id(2)]
    public string ContentType { get; init; } = "application/octet-stream";

    /// <summary>The refusal's one-line message.</summary>
    [Id(3)]
    public string? Error { get; init; }

    /// <summary>Width of the decoded image.</summary>
    [Id(4)]
    public int Width { get; init; }

    /// <summary>Height of the decoded image.</summary>
    [Id(5)]
    public int Height { get; init; }

    /// <summary>Faces found.</summary>
    [Id(6)]
    public int Faces { get; init; }

    /// <summary>Milliseconds decoding, detecting and encoding.</summary>
    [Id(7)]
    public double DecodeMs { get; init; }

    /// <summary>Milliseconds detecting.</summary>
    [Id(8)]
    public double DetectMs { get; init; }

    /// <summary>Milliseconds encoding.</summary>
    [Id(9)]
    public double EncodeMs { get; init; }

    /// <summary>The silo that did the work.</summary>
    [Id(10)]
    public string? Silo { get; init; }
}

/// <summary>What a silo runs for an <see cref="ImageCall"/> (for <c>mtcnn</c>: the web API's decode, detect and encode).</summary>
public interface IImageProcessor
{
    /// <summary>Processes one image; refusals (a bad image, a bad setting) are replies with their status, not exceptions.</summary>
    ImageReply Process(ImageCall image, CancellationToken cancellationToken);

    /// <summary>Runs the work once on a synthetic image so that the first call is not slowed by compilation.</summary>
    void WarmUp();
}

/// <summary>
/// Processes images on whichever silo receives the call: a stateless worker, so that each silo activates it locally and
/// calls spread over the silos by key (<see cref="ClusterImageClient"/> rotates the keys, which the client maps to
/// gateways evenly). Reentrant: the silo's <see cref="ImageGate"/> bounds the CPU work, not the activation.
/// </summary>
public interface IImageGrain : IGrainWithIntegerKey
{
    /// <summary>Processes <paramref name="image"/> on this silo.</summary>
    Task<ImageReply> Process(ImageCall image);
}

/// <summary>The silo's share of image calls: at most its worker count at once, off the grain scheduler.</summary>
public sealed class ImageGate : IDisposable
{
    private readonly IImageProcessor? processor;
    private readonly SemaphoreSlim slots;
    private long served;

    /// <summary>Creates the gate.</summary>
    /// <param name="processor">The processor; null on silos that do not serve images (calls are refused with 503).</param>
    /// <param name="concurrency">Images processed at once.</param>
    public ImageGate(IImageProcessor? processor, int concurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        this.processor = processor;
        slots = new SemaphoreSlim(concurrency, concurrency);
    }

    /// <summary>Images processed on this silo.</summary>
    public long Served => Interlocked.Read(ref served);

    /// <summary>Waits for a slot, then processes the call on the thread pool.</summary>
    public async Task<ImageReply> RunAsync(ImageCall call, string silo)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (processor is null)
        {
            return new ImageReply { Status = 503, Error = $"silo {silo} does not process images.", Silo = silo };
        }

        await slots.WaitAsync().ConfigureAwait(false);
        try
        {
            var reply = await Task.Run(() => processor.Process(call, CancellationToken.None)).ConfigureAwait(false);
            Interlocked.Increment(ref served);
            return reply with { Silo = silo };
        }
        finally
        {
            slots.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => slots.Dispose();
}

/// <summary>The image grain; see <see cref="IImageGrain"/>.</summary>
[StatelessWorker(1)]
[Reentrant]
public sealed class ImageGrain : Grain, IImageGrain
{
    private readonly ImageGate gate;
    private readonly string silo;

    /// <summary>Creates the activation over the silo's gate.</summary>
    public ImageGrain(ImageGate gate, ILocalSiloDetails silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        this.gate = gate;
        this.silo = silo.SiloAddress.ToString();
    }

    /// <inheritdoc/>
    public Task<ImageReply> Process(ImageCall image) => gate.RunAsync(image, silo);
}

/// <summary>
/// Sends images to the cluster from a client (a web front end). Calls rotate over <see cref="Keys"/> image-grain keys,
/// which the Orleans client spreads over the silos' gateways; a call that fails because its silo went away or did not
/// answer is sent again on the next key, up to <see cref="Attempts"/> times in all. Thread-safe.
/// </summary>
public sealed partial class ClusterImageClient
{
    /// <summary>Grain keys rotated over (each key is one stateless-worker activation per silo).</summary>
    public const int Keys = 64;

    /// <summary>Tries per image (waits of 100, 200, 400 and 800 ms between them: 1.5 s in all, well inside a request's time limit).</summary>
    public const int Attempts = 5;

    private readonly IGrainFactory grains;
    private readonly ILogger logger;
    private int next = -1;

    /// <summary>Creates the client over a started cluster client's grain factory.</summary>
    public ClusterImageClient(IGrainFactory grains, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(logger);
        this.grains = grains;
        this.logger = logger;
    }

    /// <summary>Processes <paramref name="call"/> on some silo.</summary>
    /// <exception cref="ArgumentException">The image is over <see cref="ImageCall.MaxImageBytes"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="Exception">Every attempt failed; the last failure is thrown.</exception>
    public async Task<ImageReply> ProcessAsync(ImageCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (call.Image.Length > ImageCall.MaxImageBytes)
        {
            throw new ArgumentException($"the image is larger than the cluster's limit of {ImageCall.MaxImageBytes} bytes.", nameof(call));
        }

        for (int attempt = 1; ; attempt++)
        {
            int key = (int)((uint)Interlocked.Increment(ref next) % Keys);
            try
            {
                return await grains.GetGrain<IImageGrain>(key).Process(call).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < Attempts && !cancellationToken.IsCancellationRequested && IsTransient(e))
            {
                LogRetry(logger, call.Name, attempt, e.GetType().Name, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(100 << (attempt - 1)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A failure that another silo may not have: the silo died, its connection broke, or it did not answer in time.</summary>
    internal static bool IsTransient(Exception e) =>
        e is SiloUnavailableException or TimeoutException or OrleansMessageRejectionException
            or Orleans.Runtime.Messaging.ConnectionFailedException or System.Net.Sockets.SocketException
        || (e is OrleansException && e.InnerException is { } inner && IsTransient(inner));

    [LoggerMessage(Level = LogLevel.Warning, Message = "image {Name}: attempt {Attempt} failed ({Type}: {Message}); sending it to another silo")]
    private static partial void LogRetry(ILogger logger, string name, int attempt, string type, string message);
}
