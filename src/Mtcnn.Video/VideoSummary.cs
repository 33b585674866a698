namespace Mtcnn.Video;

/// <summary>What a <see cref="VideoPipeline"/> run did, returned when it ends.</summary>
/// <param name="Frames">Frames processed (output).</param>
/// <param name="DetectionFrames">Frames the detector ran on.</param>
/// <param name="Dropped">Frames read but dropped because the pipeline was behind.</param>
/// <param name="Elapsed">Wall-clock time of the run.</param>
/// <param name="FramesPerSecond">Processing rate: <paramref name="Frames"/> / <paramref name="Elapsed"/>.</param>
/// <param name="LatencyMedian">Median per-frame latency (decode end to output end).</param>
/// <param name="Latency95">95th percentile of the per-frame latency.</param>
/// <param name="MeanDetectionTime">Mean wall-clock time of one detector call.</param>
/// <param name="Tracks">Track ids handed out (distinct faces seen).</param>
/// <param name="FramesWithFaces">Frames that reported at least one face.</param>
/// <param name="MaxFaces">Most faces reported in one frame.</param>
/// <param name="SceneCuts">Frames that started a new scene (<see cref="VideoPipelineOptions.SceneCutThreshold"/>).</param>
/// <param name="CandidateLimitFrames">Detection frames whose candidates were capped at <see cref="DetectorOptions.MaxCandidates"/> (faces may be missing there).</param>
/// <param name="Stopped">True when the run was stopped by its cancellation token before the end of the video or <see cref="VideoPipelineOptions.MaxFrames"/>.</param>
public sealed record VideoSummary(
    long Frames,
    long DetectionFrames,
    long Dropped,
    TimeSpan Elapsed,
    double FramesPerSecond,
    TimeSpan LatencyMedian,
    TimeSpan Latency95,
    TimeSpan MeanDetectionTime,
    int Tracks,
    long FramesWithFaces,
    int MaxFaces,
    long SceneCuts,
    long CandidateLimitFrames,
    bool Stopped);
