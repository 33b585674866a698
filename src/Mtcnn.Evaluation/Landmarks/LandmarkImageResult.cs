using Mtcnn.Evaluation.Annotations;

namespace Mtcnn.Evaluation.Landmarks;

/// <summary>What became of one list entry in a landmark evaluation.</summary>
public enum LandmarkImageStatus
{
    /// <summary>A detection overlaps the annotated box enough; its landmarks were measured.</summary>
    Detected,

    /// <summary>The image was evaluated but no detection overlaps the annotated box enough.</summary>
    Missed,

    /// <summary>The entry could not be evaluated: the image is missing or unreadable, or the annotation is degenerate.
    /// Such entries count neither as detected nor as missed.</summary>
    Failed,
}

/// <summary>The outcome for one face of the list.</summary>
/// <param name="Entry">The annotated face (line, image, box, points).</param>
/// <param name="Status">Detected, missed or failed.</param>
/// <param name="DetectionCount">Faces the detector found in the image (0 when failed).</param>
/// <param name="BestIou">The largest IoU of a detection with the annotated box (0 when none).</param>
/// <param name="Match">The detection with that IoU; null when there was no detection.</param>
/// <param name="PointErrors">Per landmark (left eye, right eye, nose, left and right mouth corner) the distance between
/// the detected and the annotated point in pixels; empty unless <see cref="Status"/> is <see cref="LandmarkImageStatus.Detected"/>.</param>
/// <param name="Error">Why the entry failed; null otherwise. Names the list file, the line and the image.</param>
public sealed record LandmarkImageResult(
    FacePointEntry Entry,
    LandmarkImageStatus Status,
    int DetectionCount,
    double BestIou,
    Face? Match,
    IReadOnlyList<double> PointErrors,
    string? Error)
{
    /// <summary>1-based line of the entry in the list.</summary>
    public int LineNumber => Entry.LineNumber;

    /// <summary>The image as named in the list (relative to the images folder, <c>/</c> separators).</summary>
    public string ImagePath => Entry.ImagePath;

    /// <summary>Distance between the annotated eye centres, in pixels.</summary>
    public double InterOcularDistance => LandmarkMetrics.InterOcularDistance(Entry.Landmarks);

    /// <summary>Size of the annotated box, <c>sqrt(width × height)</c>, in pixels.</summary>
    public double BoxSize => LandmarkMetrics.BoxSize(Entry.Box);

    /// <summary>The mean of <see cref="PointErrors"/> in pixels; NaN unless detected.</summary>
    public double MeanError => Status == LandmarkImageStatus.Detected ? PointErrors.Average() : double.NaN;

    /// <summary>The mean point error divided by <see cref="InterOcularDistance"/>; NaN unless detected.</summary>
    public double InterOcularError => MeanError / InterOcularDistance;

    /// <summary>The mean point error divided by <see cref="BoxSize"/>; NaN unless detected.</summary>
    public double BoxError => MeanError / BoxSize;
}
