namespace Mtcnn.Video;

/// <summary>
/// Settings of a <see cref="VideoPipeline"/>. Immutable; <see cref="Validate"/> checks the ranges (the pipeline calls
/// it), throwing <see cref="ArgumentOutOfRangeException"/> with the valid range in the message.
/// </summary>
public sealed record VideoPipelineOptions
{
    /// <summary>The defaults.</summary>
    public static VideoPipelineOptions Default { get; } = new();

    /// <summary>
    /// Run the detector on every Nth frame (frames 0, N, 2N, ...) and report the tracked faces unchanged on the frames in
    /// between, in [1, 100000]. Default 1 (every frame).
    /// </summary>
    public int DetectEvery { get; init; } = 1;

    /// <summary>Stop after this many frames have been read; 0 (default) reads to the end (or until stopped).</summary>
    public long MaxFrames { get; init; }

    /// <summary>Tracker settings.</summary>
    public TrackerOptions Tracker { get; init; } = TrackerOptions.Default;

    /// <summary>
    /// Capacity of each of the two bounded queues (decoded frames, detected frames), in [1, 1024]. Default 8. Larger
    /// queues absorb uneven detection times; each queued frame holds its pixels.
    /// </summary>
    public int QueueCapacity { get; init; } = 8;

    /// <summary>
    /// Detection frames processed at once, in [1, 64]. Default 1: one frame at a time, using the detector's own
    /// parallelism (<see cref="DetectorOptions.MaxDegreeOfParallelism"/>) inside it, which gives the lowest latency. More
    /// workers with a single-threaded detector can raise throughput on many cores. Results are reported in frame order
    /// either way.
    /// </summary>
    public int DetectionWorkers { get; init; } = 1;

    /// <summary>
    /// When the decoded-frame queue is full, drop the new frame instead of waiting (default false). Right for live
    /// cameras, whose frames should not pile up; a file is always read completely when this is false.
    /// </summary>
    public bool DropFramesWhenBehind { get; init; }

    /// <summary>
    /// Scene-cut threshold, in [0, 255]; 0 turns scene-cut detection off. Each frame is shrunk to a 32x24 greyscale
    /// thumbnail, and a frame whose thumbnail differs from the previous frame's by more than this many grey levels on
    /// average (mean absolute difference) starts a new scene: the tracker then reports new faces at once for its first
    /// <see cref="TrackerOptions.MinHits"/> − 1 detection frames (<see cref="FaceTracker.StartScene"/>), as at the start
    /// of the clip. Default 20: on the clips measured (docs/video.md) motion between consecutive frames stays below 6
    /// and hard cuts exceed 50.
    /// </summary>
    public float SceneCutThreshold { get; init; } = 20f;

    /// <summary>Draw the tracked faces onto the frames given to the writer (default true).</summary>
    public bool Annotate { get; init; } = true;

    /// <summary>How often the statistics callback is called, in (0, 1 hour]. Default 1 second.</summary>
    public TimeSpan StatisticsInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Checks every setting and returns this instance.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message states the valid range.</exception>
    public VideoPipelineOptions Validate()
    {
        if (DetectEvery is < 1 or > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(DetectEvery), DetectEvery, "DetectEvery must be in [1, 100000].");
        }

        if (MaxFrames < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFrames), MaxFrames, "MaxFrames must be 0 (all) or positive.");
        }

        ArgumentNullException.ThrowIfNull(Tracker);
        Tracker.Validate();
        if (QueueCapacity is < 1 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(QueueCapacity), QueueCapacity, "QueueCapacity must be in [1, 1024].");
        }

        if (DetectionWorkers is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(DetectionWorkers), DetectionWorkers, "DetectionWorkers must be in [1, 64].");
        }

        if (!(SceneCutThreshold is >= 0f and <= 255f))
        {
            throw new ArgumentOutOfRangeException(nameof(SceneCutThreshold), SceneCutThreshold, "SceneCutThreshold must be in [0, 255].");
        }

        if (StatisticsInterval <= TimeSpan.Zero || StatisticsInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(StatisticsInterval), StatisticsInterval, "StatisticsInterval must be in (0, 1 hour].");
        }

        return this;
    }
}
