namespace Mtcnn.Video;

/// <summary>A face followed across frames by the <see cref="FaceTracker"/>.</summary>
/// <param name="Id">Stable id of the track: 1 for the first face seen, then 2, 3, ...; never reused within a run.</param>
/// <param name="Box">The smoothed box in pixels.</param>
/// <param name="Score">The detector's score of the track's latest matched detection (not smoothed).</param>
/// <param name="Landmarks">The smoothed landmarks.</param>
/// <param name="Hits">Detections matched to this track so far (1 for a new track).</param>
/// <param name="Missed">Consecutive detection frames without a match (0 for a face seen on the latest detection frame).</param>
public readonly record struct TrackedFace(int Id, BoundingBox Box, float Score, FaceLandmarks Landmarks, int Hits, int Missed);
