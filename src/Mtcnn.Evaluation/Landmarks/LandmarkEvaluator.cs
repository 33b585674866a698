using Mtcnn.Evaluation.Annotations;
using Mtcnn.Imaging;

namespace Mtcnn.Evaluation.Landmarks;

/// <summary>Settings of a landmark evaluation.</summary>
public sealed record LandmarkEvaluationOptions
{
    /// <summary>
    /// Detector settings; default <see cref="DetectorOptions.Default"/>. <see cref="DetectorOptions.MaxDegreeOfParallelism"/>
    /// is the number of images processed at a time (each on one thread; 0 uses every core). On the 80×80 CNN_FacePoint
    /// images (faces 20 to 57 px) the default minimum face of 20 px detects slightly more faces than 12 px (the extra
    /// pyramid levels of 12 px shift some boxes below IoU 0.5) at the same landmark error, in half the time.
    /// </summary>
    public DetectorOptions Detector { get; init; } = DetectorOptions.Default;

    /// <summary>The IoU a detection needs with the annotated box to count as the face's detection, in (0, 1]. Default 0.5.</summary>
    public double IouThreshold { get; init; } = 0.5;

    /// <summary>A detected face whose inter-ocular error exceeds this counts as a failure, &gt; 0. Default 0.1 (10 %).</summary>
    public double FailureThreshold { get; init; } = 0.1;

    /// <summary>The lines of the list to evaluate (1-based, inclusive). Default: all.</summary>
    public LineRange Lines { get; init; } = LineRange.All;

    /// <summary>Checks every value.</summary>
    /// <returns>This instance.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public LandmarkEvaluationOptions Validate()
    {
        ArgumentNullException.ThrowIfNull(Detector);
        Detector.Validate();
        LandmarkMetrics.CheckIou(IouThreshold);
        if (!(FailureThreshold > 0 && double.IsFinite(FailureThreshold)))
        {
            throw new ArgumentOutOfRangeException(nameof(FailureThreshold), FailureThreshold, "The failure threshold must be a positive number.");
        }

        if (Lines.First < 1 || Lines.Last < Lines.First)
        {
            throw new ArgumentOutOfRangeException(nameof(Lines), Lines, "The line range must start at 1 or later and not end before it starts.");
        }

        return this;
    }
}

/// <summary>
/// Evaluates detected landmarks against a 5-point list in the CNN_FacePoint layout: for each entry it loads the image,
/// runs the detector, matches the annotated face (see <see cref="LandmarkMetrics"/>) and measures the point errors.
/// </summary>
/// <remarks>
/// Images run in parallel, each on one thread; results are kept in list order and summarised after all images, so the
/// numbers are the same for any number of threads. An image that cannot be loaded becomes a failed entry whose error
/// names the list file, the line and the image; the other images continue. Progress is reported from worker threads.
/// </remarks>
public static class LandmarkEvaluator
{
    /// <summary>Evaluates the selected entries of a list.</summary>
    /// <param name="list">The list as read by <see cref="FacePointList.Read(string)"/>.</param>
    /// <param name="imagesDirectory">The folder the list's image paths are relative to.</param>
    /// <param name="options">Settings; null uses the defaults.</param>
    /// <param name="weights">Network weights; null uses the embedded original weights.</param>
    /// <param name="progress">Receives a report (stage <c>detect</c>) after each image; null for none.</param>
    /// <param name="cancellationToken">Stops the run between images.</param>
    /// <returns>Per-entry results and the summary.</returns>
    /// <exception cref="EvaluationDataException">The images folder does not exist, or the selected lines hold no readable entry.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public static LandmarkEvaluationResult Run(
        FacePointListResult list,
        string imagesDirectory,
        LandmarkEvaluationOptions? options = null,
        MtcnnWeights? weights = null,
        IProgress<EvaluationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(list);
        ArgumentException.ThrowIfNullOrEmpty(imagesDirectory);
        options = (options ?? new LandmarkEvaluationOptions()).Validate();
        if (!Directory.Exists(imagesDirectory))
        {
            throw new EvaluationDataException(imagesDirectory, "the images folder does not exist.");
        }

        var lines = options.Lines;
        var entries = list.Entries.Where(e => lines.Contains(e.LineNumber)).ToList();
        var issues = list.Issues.Where(i => lines.Contains(i.LineNumber)).ToList();
        if (entries.Count == 0)
        {
            string range = lines.IsAll ? string.Empty : $" in lines {lines}";
            throw new EvaluationDataException(list.FileName, $"no readable entry{range} ({list.Entries.Count} readable entries and {list.Issues.Count} bad lines in the whole list).");
        }

        var detector = new FaceDetector(options.Detector with { MaxDegreeOfParallelism = 1 }, weights);
        var results = new LandmarkImageResult[entries.Count];
        int completed = 0;
        var po = new ParallelOptions { MaxDegreeOfParallelism = options.Detector.EffectiveParallelism, CancellationToken = cancellationToken };
        Parallel.For(0, entries.Count, po, i =>
        {
            var entry = entries[i];
            results[i] = Evaluate(entry, imagesDirectory, detector, options.IouThreshold, list.FileName, cancellationToken);
            progress?.Report(new EvaluationProgress("detect", Interlocked.Increment(ref completed), entries.Count, 0, entry.ImagePath));
        });

        return new LandmarkEvaluationResult(list.FileName, lines, results, issues, options.IouThreshold, options.FailureThreshold);
    }

    private static LandmarkImageResult Evaluate(FacePointEntry entry, string root, FaceDetector detector, double iou, string listFile, CancellationToken cancellationToken)
    {
        string path = Path.Combine(root, entry.ImagePath);
        try
        {
            var loaded = ImageLoader.Load(path);
            var faces = detector.Detect(loaded.Image, cancellationToken).Faces;
            return LandmarkMetrics.Measure(entry, faces, iou, listFile);
        }
        catch (ImageLoadException e)
        {
            return LandmarkMetrics.Failure(entry, e.Message, listFile);
        }
        catch (ArgumentOutOfRangeException e)
        {
            // An image over DetectorOptions.MaxImagePixels.
            return LandmarkMetrics.Failure(entry, $"{path}: {e.Message}", listFile);
        }
    }
}
