namespace Mtcnn.Video;

/// <summary>
/// Settings of the <see cref="FaceTracker"/>. Immutable; <see cref="Validate"/> checks the ranges (the tracker calls
/// it), throwing <see cref="ArgumentOutOfRangeException"/> with the valid range in the message.
/// </summary>
public sealed record TrackerOptions
{
    /// <summary>
    /// The defaults: IoU 0.3, smoothing 0.5, expiry after 5 missed detections, a new face reported from its second
    /// consecutive detection (at once at the start of a clip or a scene).
    /// </summary>
    public static TrackerOptions Default { get; } = new();

    /// <summary>
    /// Smallest intersection over union between a track's last detected box and a new detection for the two to be the
    /// same face, in [0, 1]. Default 0.3. Pairs that do not overlap at all never match, whatever the threshold.
    /// </summary>
    public float IouThreshold { get; init; } = 0.3f;

    /// <summary>
    /// Exponential smoothing factor α of boxes and landmarks, in [0, 1): the reported value after a detection is
    /// <c>α · previous + (1 − α) · detected</c>. 0 reports raw detections; larger values steady the boxes but make them lag
    /// behind fast motion. Default 0.5.
    /// </summary>
    public float Smoothing { get; init; } = 0.5f;

    /// <summary>
    /// A track is removed when it has gone unmatched on this many consecutive detection frames, in [1, 100000]. Until
    /// then it is not reported but can be matched again and keep its id (a face the detector misses briefly). Default 5.
    /// </summary>
    public int ExpireAfterMisses { get; init; } = 5;

    /// <summary>
    /// A new face is reported, and given its id, only once it has been detected on this many consecutive detection
    /// frames, in [1, 1000]; a face not yet confirmed is forgotten at its first miss. On the first <c>MinHits − 1</c>
    /// detection frames of a clip, and of a scene (<see cref="FaceTracker.StartScene"/>), faces are reported at once:
    /// there is nothing yet to confirm them against. Default 2: it hides the detector's one-frame false positives (7 of
    /// 23 ids on the 275-frame test clip with scene cuts, 7 of 8 on a 1280x720 clip; docs/video.md) and shows a face
    /// that enters a scene one detection later; 3 hid nothing more on the clips measured. 1 reports every detection at
    /// once.
    /// </summary>
    public int MinHits { get; init; } = 2;

    /// <summary>Checks every setting and returns this instance.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message states the valid range.</exception>
    public TrackerOptions Validate()
    {
        if (!(IouThreshold is >= 0f and <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(IouThreshold), IouThreshold, "IouThreshold must be in [0, 1].");
        }

        if (!(Smoothing is >= 0f and < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(Smoothing), Smoothing, "Smoothing must be in [0, 1).");
        }

        if (ExpireAfterMisses is < 1 or > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(ExpireAfterMisses), ExpireAfterMisses, "ExpireAfterMisses must be in [1, 100000].");
        }

        if (MinHits is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(MinHits), MinHits, "MinHits must be in [1, 1000].");
        }

        return this;
    }
}
