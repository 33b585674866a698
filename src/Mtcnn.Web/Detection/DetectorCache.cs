namespace Mtcnn.Web.Detection;

/// <summary>
/// Detectors by options. A <see cref="FaceDetector"/> has fixed options and keeps its scratch memory between calls, so
/// requests with the same query (the common case: defaults, or a webcam loop) share one; the demo's sliders create a
/// few more, of which the most recently used <see cref="Capacity"/> are kept. Detectors are thread-safe, so one
/// instance serves concurrent requests. All members are thread-safe.
/// </summary>
internal sealed class DetectorCache
{
    /// <summary>Detectors kept.</summary>
    public const int Capacity = 16;

    private readonly MtcnnWeights? weights;
    private readonly INetworkBackend? backend;
    private readonly LinkedList<FaceDetector> recent = new();
    private readonly Lock gate = new();

    /// <summary>Creates an empty cache.</summary>
    /// <param name="weights">Weights for every detector; null uses the embedded ones.</param>
    /// <param name="backend">Where the networks run; null: the built-in kernels (with <paramref name="weights"/>).</param>
    public DetectorCache(MtcnnWeights? weights, INetworkBackend? backend = null)
    {
        this.weights = weights;
        this.backend = backend;
    }

    /// <summary>Detectors held now.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return recent.Count;
            }
        }
    }

    /// <summary>A detector for <paramref name="options"/> (validated), created on first use.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public FaceDetector Get(DetectorOptions options)
    {
        lock (gate)
        {
            if (Find(options) is { } hit)
            {
                return hit;
            }
        }

        // Built outside the lock: it prepares the networks and validates the options.
        var created = backend is null ? new FaceDetector(options, weights) : new FaceDetector(options, backend);
        lock (gate)
        {
            if (Find(options) is { } raced)
            {
                return raced;
            }

            recent.AddFirst(created);
            while (recent.Count > Capacity)
            {
                recent.RemoveLast();
            }
        }

        return created;
    }

    /// <summary>The cached detector with these options, moved to the front; null when absent. Call under the lock.</summary>
    private FaceDetector? Find(DetectorOptions options)
    {
        for (var node = recent.First; node is not null; node = node.Next)
        {
            if (node.Value.Options == options)
            {
                if (node != recent.First)
                {
                    recent.Remove(node);
                    recent.AddFirst(node);
                }

                return node.Value;
            }
        }

        return null;
    }
}
