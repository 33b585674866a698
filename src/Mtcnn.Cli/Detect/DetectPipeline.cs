using Mtcnn.Imaging;

namespace Mtcnn.Cli.Detect;

/// <summary>
/// Decodes and detects a list of images on several threads while handing the outcomes to the caller strictly in input
/// order (through <see cref="OrderedParallel"/>): each worker decodes an image, detects, optionally writes the annotated
/// copy, and keeps only the small outcome, so memory stays bounded on any batch size: at most one decoded image per
/// worker plus a window of finished outcomes (boxes only).
/// </summary>
internal sealed class DetectPipeline
{
    private readonly FaceDetector detector;
    private readonly int workers;
    private readonly FaceAnnotator? annotator;
    private readonly string? outputDirectory;
    private readonly ImageLoadOptions loadOptions;
    private readonly FaceSelection select;

    /// <summary>Creates the pipeline.</summary>
    /// <param name="detector">The detector (its parallelism is the per-image thread count).</param>
    /// <param name="workers">Images processed at once.</param>
    /// <param name="annotator">Draws annotated copies when <paramref name="outputDirectory"/> is set.</param>
    /// <param name="outputDirectory">Folder for annotated PNGs; null for none.</param>
    /// <param name="loadOptions">Decoding settings.</param>
    /// <param name="select">Which faces the outcomes and annotated copies keep (<c>--select</c>).</param>
    public DetectPipeline(FaceDetector detector, int workers, FaceAnnotator? annotator, string? outputDirectory, ImageLoadOptions loadOptions, FaceSelection select = FaceSelection.All)
    {
        this.loadOptions = loadOptions;
        this.select = select;
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        this.detector = detector;
        this.workers = workers;
        this.annotator = annotator;
        this.outputDirectory = outputDirectory;
    }

    /// <summary>
    /// Splits <paramref name="threads"/> between images and the threads inside one detection: a batch of at least
    /// <paramref name="threads"/> images runs that many images at once on one thread each (the best throughput), a
    /// smaller batch gives each image a share of the threads.
    /// </summary>
    /// <returns>Images at once, and threads per image.</returns>
    public static (int Workers, int ThreadsPerImage) Split(int threads, int images)
    {
        int workers = Math.Clamp(images, 1, threads);
        return (workers, Math.Max(1, threads / workers));
    }

    /// <summary>Processes every item; <paramref name="emit"/> receives outcomes in input order on the calling thread.</summary>
    /// <param name="items">The images.</param>
    /// <param name="emit">Receives each outcome, in order.</param>
    /// <param name="waiting">Called about four times a second while the next outcome is not ready, with the number emitted so far.</param>
    /// <param name="cancellationToken">Stops the batch.</param>
    public void Run(IReadOnlyList<InputItem> items, Action<ImageOutcome> emit, Action<int> waiting, CancellationToken cancellationToken = default) =>
        OrderedParallel.Run(items.Count, workers, (i, ct) => Process(items[i], ct), (_, outcome) => emit(outcome), waiting, 0, cancellationToken);

    /// <summary>Decodes, detects and optionally annotates one image, opened at <see cref="InputItem.Path"/>.</summary>
    public ImageOutcome Process(InputItem item, CancellationToken cancellationToken) => Process(item, item.Path, cancellationToken);

    /// <summary>
    /// Decodes, detects and optionally annotates one image opened at <paramref name="openPath"/> and reported as
    /// <see cref="InputItem.Path"/> (a cluster silo opens a relative input from the submitter's folder).
    /// </summary>
    public ImageOutcome Process(InputItem item, string openPath, CancellationToken cancellationToken) => Process(item, openPath, null, cancellationToken);

    /// <summary>
    /// As <see cref="Process(InputItem, string, CancellationToken)"/>, then runs <paramref name="andThen"/> on the decoded
    /// image and its detections, all of them (a cluster's align task writes the crops there, selecting as align
    /// does); a message it returns fails the image with that message.
    /// </summary>
    public ImageOutcome Process(InputItem item, string openPath, Func<ImageData, DetectionResult, string?>? andThen, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item.Error is not null)
        {
            return ImageOutcome.Failure(item.Path, item.Error);
        }

        LoadedImage image;
        try
        {
            image = ImageInput.Load(item.Path, openPath, loadOptions, cancellationToken);
        }
        catch (ImageLoadException e)
        {
            return ImageOutcome.Failure(item.Path, CliApp.LoadProblem(e));
        }

        DetectionResult result;
        try
        {
            result = detector.Detect(image.Image, cancellationToken);
        }
        catch (ArgumentException e)
        {
            // An image over DetectorOptions.MaxImagePixels.
            return ImageOutcome.Failure(item.Path, CliApp.OneLine(FirstSentence(e)));
        }

        var all = result;
        result = FaceSelector.Apply(result, select);
        string? annotatedPath = null;
        if (outputDirectory is not null && annotator is not null)
        {
            annotatedPath = Path.Combine(outputDirectory, item.OutputName);
            try
            {
                string? folder = Path.GetDirectoryName(annotatedPath);
                if (!string.IsNullOrEmpty(folder))
                {
                    Directory.CreateDirectory(folder);
                }

                using var annotated = annotator.Annotate(image.Image, result);
                annotated.Save(annotatedPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
            {
                return ImageOutcome.Failure(item.Path, $"cannot write the annotated image '{annotatedPath}': {CliApp.OneLine(e.Message)}");
            }
        }

        string? error = andThen?.Invoke(image.Image, all);
        return error is null ? ImageOutcome.Success(item.Path, result, annotatedPath) : ImageOutcome.Failure(item.Path, error);
    }

    /// <summary>An argument exception's message without the " (Parameter 'x')" suffix .NET appends.</summary>
    private static string FirstSentence(ArgumentException e)
    {
        string message = e.Message;
        string suffix = $" (Parameter '{e.ParamName}')";
        int at = e.ParamName is null ? -1 : message.IndexOf(suffix, StringComparison.Ordinal);
        return at >= 0 ? message[..at] : message;
    }
}
