using Mtcnn.Evaluation.Annotations;

namespace Mtcnn.Evaluation.Landmarks;

/// <summary>
/// The arithmetic of the landmark evaluation, free of images and detectors: matching detections to an annotated face,
/// the per-point errors and their normalisations.
/// </summary>
/// <remarks>
/// <para>Matching: the detection with the largest IoU with the annotated box (the first one on ties, i.e. the
/// higher-scored one in the detector's order) is the face's detection; the face counts as detected when that IoU is at
/// least the threshold (0.5 by default). IoU is the continuous one of <see cref="BoundingBox.IntersectionOverUnion"/>
/// on boxes (left, top, right, bottom), without the +1 pixel convention, since the list's coordinates are real numbers.</para>
/// <para>Normalisation: a face's error is the mean of its five point distances, divided either by the inter-ocular
/// distance (the distance between the annotated eye centres, the usual 5-point convention and the one of the MTCNN paper)
/// or by the box size <c>sqrt(w × h)</c> of the annotated box (<c>w = right − left</c>, <c>h = bottom − top</c>). The box
/// size is independent of pose: the inter-ocular distance shrinks for profile faces and inflates their error, the box
/// does not; the geometric mean of width and height does not favour either side of a non-square box.</para>
/// </remarks>
public static class LandmarkMetrics
{
    /// <summary>Names of the five landmarks in list order, as used in reports.</summary>
    public static IReadOnlyList<string> PointNames { get; } = ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"];

    /// <summary>The distance between the annotated eye centres.</summary>
    /// <param name="landmarks">The annotated points.</param>
    /// <returns>The distance in pixels.</returns>
    public static double InterOcularDistance(FaceLandmarks landmarks) => Distance(landmarks.LeftEye, landmarks.RightEye);

    /// <summary>The box size <c>sqrt(width × height)</c>.</summary>
    /// <param name="box">The annotated box.</param>
    /// <returns>The size in pixels (0 for an empty box).</returns>
    public static double BoxSize(BoundingBox box) => Math.Sqrt((double)Math.Max(0f, box.Width) * Math.Max(0f, box.Height));

    /// <summary>Measures one annotated face against the detections of its image.</summary>
    /// <param name="truth">The annotated face.</param>
    /// <param name="detections">Every face the detector found in the image.</param>
    /// <param name="iouThreshold">The IoU a detection needs with the annotated box, in (0, 1].</param>
    /// <param name="listFile">The list's name, used in the error of a degenerate annotation; null for none.</param>
    /// <returns>Detected (with point errors), missed, or failed when the annotation has coinciding eye centres or an empty box.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="iouThreshold"/> is outside (0, 1].</exception>
    public static LandmarkImageResult Measure(FacePointEntry truth, IReadOnlyList<Face> detections, double iouThreshold = 0.5, string? listFile = null)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(detections);
        CheckIou(iouThreshold);
        double interOcular = InterOcularDistance(truth.Landmarks);
        double boxSize = BoxSize(truth.Box);
        if (!(interOcular > 0) || !(boxSize > 0))
        {
            string what = interOcular > 0 ? "the annotated box is empty" : "the annotated eye centres coincide (inter-ocular distance 0)";
            return Failure(truth, $"{what}; the face cannot be measured", listFile);
        }

        int best = -1;
        double bestIou = 0;
        for (int i = 0; i < detections.Count; i++)
        {
            double iou = detections[i].Box.IntersectionOverUnion(truth.Box);
            if (best < 0 || iou > bestIou)
            {
                best = i;
                bestIou = iou;
            }
        }

        Face? match = best < 0 ? null : detections[best];
        if (match is not { } face || bestIou < iouThreshold)
        {
            return new LandmarkImageResult(truth, LandmarkImageStatus.Missed, detections.Count, bestIou, match, [], null);
        }

        var errors = new double[FaceLandmarks.Count];
        for (int p = 0; p < errors.Length; p++)
        {
            errors[p] = Distance(face.Landmarks[p], truth.Landmarks[p]);
        }

        return new LandmarkImageResult(truth, LandmarkImageStatus.Detected, detections.Count, bestIou, match, errors, null);
    }

    /// <summary>The result of an entry that could not be evaluated.</summary>
    /// <param name="truth">The entry.</param>
    /// <param name="problem">What went wrong.</param>
    /// <param name="listFile">The list's name; null for none.</param>
    /// <returns>A failed result whose error reads "<c>list:line: image: problem</c>".</returns>
    public static LandmarkImageResult Failure(FacePointEntry truth, string problem, string? listFile = null)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(problem);
        string where = listFile is null ? $"line {truth.LineNumber}" : $"{listFile}:{truth.LineNumber}";
        string message = problem.Contains(truth.ImagePath, StringComparison.Ordinal)
            ? $"{where}: {problem}"
            : $"{where}: {truth.ImagePath}: {problem}";
        return new LandmarkImageResult(truth, LandmarkImageStatus.Failed, 0, 0, null, [], message);
    }

    internal static void CheckIou(double iouThreshold)
    {
        if (!(iouThreshold > 0 && iouThreshold <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, "The IoU threshold must be in (0, 1].");
        }
    }

    private static double Distance(Point2F a, Point2F b)
    {
        double dx = (double)a.X - b.X;
        double dy = (double)a.Y - b.Y;
        return Math.Sqrt((dx * dx) + (dy * dy));
    }
}
