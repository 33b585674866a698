using Mtcnn.Evaluation.Annotations;

namespace Mtcnn.Evaluation.Landmarks;

/// <summary>
/// The outcome of a landmark evaluation: every entry's result in list order and the summary over them. All averages
/// are taken over the detected faces, in list order, so the numbers do not depend on how many threads ran.
/// </summary>
public sealed class LandmarkEvaluationResult
{
    /// <summary>Summarises per-entry results.</summary>
    /// <param name="listFile">The list file's name.</param>
    /// <param name="lines">The lines that were selected.</param>
    /// <param name="images">Per-entry results, in list order.</param>
    /// <param name="listIssues">Lines of the selected range that could not be read.</param>
    /// <param name="iouThreshold">The IoU a detection needed.</param>
    /// <param name="failureThreshold">The inter-ocular error above which a face counts as a failure.</param>
    public LandmarkEvaluationResult(
        string listFile,
        LineRange lines,
        IReadOnlyList<LandmarkImageResult> images,
        IReadOnlyList<AnnotationIssue> listIssues,
        double iouThreshold,
        double failureThreshold)
    {
        ArgumentNullException.ThrowIfNull(listFile);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(listIssues);
        ListFile = listFile;
        Lines = lines;
        Images = images;
        ListIssues = listIssues;
        IouThreshold = iouThreshold;
        FailureThreshold = failureThreshold;

        var detected = images.Where(i => i.Status == LandmarkImageStatus.Detected).ToList();
        Detected = detected.Count;
        Missed = images.Count(i => i.Status == LandmarkImageStatus.Missed);
        Failed = images.Count(i => i.Status == LandmarkImageStatus.Failed);
        DetectionRate = Evaluated == 0 ? double.NaN : (double)Detected / Evaluated;

        var io = detected.Select(i => i.InterOcularError).ToArray();
        MeanInterOcularError = Mean(io);
        MedianInterOcularError = Median(io);
        MeanBoxError = Mean(detected.Select(i => i.BoxError));
        MeanPixelError = Mean(detected.Select(i => i.MeanError));
        FailureRate = Detected == 0 ? double.NaN : (double)io.Count(e => e > failureThreshold) / Detected;
        PointInterOcularErrors = [.. Enumerable.Range(0, FaceLandmarks.Count).Select(p => Mean(detected.Select(i => i.PointErrors[p] / i.InterOcularDistance)))];
        PointBoxErrors = [.. Enumerable.Range(0, FaceLandmarks.Count).Select(p => Mean(detected.Select(i => i.PointErrors[p] / i.BoxSize)))];
        PointPixelErrors = [.. Enumerable.Range(0, FaceLandmarks.Count).Select(p => Mean(detected.Select(i => i.PointErrors[p])))];
        MeanIou = Mean(detected.Select(i => i.BestIou));

        // Signed offsets detected - annotated over all points of all detected faces: a constant offset is a pixel
        // convention difference between annotation and detector rather than a landmark error.
        var dx = new List<double>();
        var dy = new List<double>();
        foreach (var image in detected)
        {
            var found = image.Match!.Value.Landmarks;
            var truth = image.Entry.Landmarks;
            for (int p = 0; p < FaceLandmarks.Count; p++)
            {
                dx.Add((double)found[p].X - truth[p].X);
                dy.Add((double)found[p].Y - truth[p].Y);
            }
        }

        MeanOffsetX = Mean(dx);
        MeanOffsetY = Mean(dy);
    }

    /// <summary>The list file's name.</summary>
    public string ListFile { get; }

    /// <summary>The selected lines.</summary>
    public LineRange Lines { get; }

    /// <summary>Per-entry results in list order.</summary>
    public IReadOnlyList<LandmarkImageResult> Images { get; }

    /// <summary>Lines of the selected range that could not be read (not counted anywhere else).</summary>
    public IReadOnlyList<AnnotationIssue> ListIssues { get; }

    /// <summary>The IoU a detection needed with the annotated box.</summary>
    public double IouThreshold { get; }

    /// <summary>The inter-ocular error above which a detected face counts as a failure.</summary>
    public double FailureThreshold { get; }

    /// <summary>Entries whose image was evaluated (detected + missed).</summary>
    public int Evaluated => Detected + Missed;

    /// <summary>Faces with a matching detection.</summary>
    public int Detected { get; }

    /// <summary>Faces without a matching detection.</summary>
    public int Missed { get; }

    /// <summary>Entries that could not be evaluated (unreadable images, degenerate annotations).</summary>
    public int Failed { get; }

    /// <summary><see cref="Detected"/> / <see cref="Evaluated"/>; NaN when nothing was evaluated.</summary>
    public double DetectionRate { get; }

    /// <summary>Mean over detected faces of the mean point error divided by the inter-ocular distance (NaN when none).</summary>
    public double MeanInterOcularError { get; }

    /// <summary>Median over detected faces of the inter-ocular error.</summary>
    public double MedianInterOcularError { get; }

    /// <summary>Mean over detected faces of the mean point error divided by the box size <c>sqrt(w × h)</c>.</summary>
    public double MeanBoxError { get; }

    /// <summary>Mean over detected faces of the mean point error, in pixels.</summary>
    public double MeanPixelError { get; }

    /// <summary>Fraction of detected faces whose inter-ocular error exceeds <see cref="FailureThreshold"/>.</summary>
    public double FailureRate { get; }

    /// <summary>Per landmark (see <see cref="LandmarkMetrics.PointNames"/>) the mean of its distance divided by the inter-ocular distance.</summary>
    public IReadOnlyList<double> PointInterOcularErrors { get; }

    /// <summary>Per landmark the mean of its distance divided by the box size.</summary>
    public IReadOnlyList<double> PointBoxErrors { get; }

    /// <summary>Per landmark the mean distance in pixels.</summary>
    public IReadOnlyList<double> PointPixelErrors { get; }

    /// <summary>Mean IoU of the matched detections.</summary>
    public double MeanIou { get; }

    /// <summary>Mean signed x offset (detected − annotated) over all points of detected faces, in pixels.</summary>
    public double MeanOffsetX { get; }

    /// <summary>Mean signed y offset (detected − annotated) over all points of detected faces, in pixels.</summary>
    public double MeanOffsetY { get; }

    private static double Mean(IEnumerable<double> values)
    {
        double sum = 0;
        int n = 0;
        foreach (double v in values)
        {
            sum += v;
            n++;
        }

        return n == 0 ? double.NaN : sum / n;
    }

    private static double Median(double[] values)
    {
        if (values.Length == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) * 0.5;
    }
}
