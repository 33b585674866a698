namespace Mtcnn.Video;

/// <summary>The outcome of one frame of a video, reported in frame order.</summary>
/// <param name="Index">0-based index of the frame in the order read (dropped camera frames still take an index).</param>
/// <param name="Time">The frame's time in seconds: its timestamp in the file, or seconds since the first frame of a camera.</param>
/// <param name="Detected">True when the detector ran on this frame; false for a frame between detections (tracked faces carried over).</param>
/// <param name="Faces">The visible tracked faces in ascending id order.</param>
/// <param name="Latency">Time from the end of decoding the frame to the end of its output (annotation, encoding, callbacks before this one).</param>
/// <param name="DetectionTime">Wall-clock time of the detector call on this frame; zero when <paramref name="Detected"/> is false.</param>
/// <param name="SceneCut">True when this frame starts a new scene (<see cref="VideoPipelineOptions.SceneCutThreshold"/>).</param>
/// <param name="CandidateLimitReached">
/// True when the detector ran on this frame and capped its candidates at <see cref="DetectorOptions.MaxCandidates"/>
/// (<see cref="DetectionResult.CandidateLimitReached"/>): faces may be missing.
/// </param>
public sealed record FrameResult(long Index, double Time, bool Detected, IReadOnlyList<TrackedFace> Faces, TimeSpan Latency, TimeSpan DetectionTime, bool SceneCut = false, bool CandidateLimitReached = false);
