using Mtcnn.Imaging;

namespace Mtcnn.Evaluation.Wider;

/// <summary>
/// Runs the detector over the WIDER FACE validation images and scores the result with <see cref="WiderProtocol"/>.
/// </summary>
/// <remarks>
/// <para>Images are processed in parallel (up to <see cref="DetectorOptions.MaxDegreeOfParallelism"/> images at a time,
/// each on one thread). A run is resumable: an image whose prediction file already exists is skipped, and files are
/// written atomically, so an interrupted run can simply be started again.</para>
/// <para>The paper's WIDER settings are expressed with <see cref="DetectorOptions"/>:
/// <c>new DetectorOptions { MinFaceSize = 10, ScaleFactor = 0.79f, PNetThreshold = 0.5f, RNetThreshold = 0.5f, ONetThreshold = 0.3f }</c>
/// (<see cref="PaperOptions"/>).</para>
/// <para>Progress is reported from worker threads; the reporter must be thread-safe.</para>
/// </remarks>
public static class WiderEvaluator
{
    /// <summary>
    /// The settings the MTCNN paper's WIDER FACE numbers are usually reproduced with: minimum face 10 px, pyramid factor
    /// 0.79, thresholds 0.5 / 0.5 / 0.3 (other options at their defaults).
    /// </summary>
    public static DetectorOptions PaperOptions { get; } = new()
    {
        MinFaceSize = 10f,
        ScaleFactor = 0.79f,
        PNetThreshold = 0.5f,
        RNetThreshold = 0.5f,
        ONetThreshold = 0.3f,
    };

    /// <summary>Detects faces in every validation image, writes the predictions, and scores them.</summary>
    /// <param name="imagesDirectory">The validation images: <c>WIDER_val/images</c> (holding the event folders) or <c>WIDER_val</c> itself.</param>
    /// <param name="groundTruthDirectory">The folder with the four official .mat files (see <see cref="WiderGroundTruth.Load(string)"/>).</param>
    /// <param name="predictionsDirectory">Where prediction files are written (and existing ones reused).</param>
    /// <param name="detectorOptions">Detector settings; null uses <see cref="DetectorOptions.Default"/>.</param>
    /// <param name="weights">Network weights; null uses the embedded original weights.</param>
    /// <param name="progress">Receives a report after each image; null for none.</param>
    /// <param name="cancellationToken">Stops the run between images; written files stay valid for a resume.</param>
    /// <returns>AP and precision-recall curves for easy, medium and hard.</returns>
    /// <exception cref="EvaluationDataException">The ground truth is bad, images are missing, or some images could not be
    /// decoded (all other images are still processed; the message lists the failures).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A detector option is out of range.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public static WiderEvaluationResult Run(
        string imagesDirectory,
        string groundTruthDirectory,
        string predictionsDirectory,
        DetectorOptions? detectorOptions = null,
        MtcnnWeights? weights = null,
        IProgress<EvaluationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagesDirectory);
        ArgumentException.ThrowIfNullOrEmpty(predictionsDirectory);
        var options = (detectorOptions ?? DetectorOptions.Default).Validate();
        var truth = WiderGroundTruth.Load(groundTruthDirectory);
        string root = ResolveImagesRoot(imagesDirectory, truth);

        var missing = truth.Images.Where(i => !File.Exists(ImagePath(root, i))).ToList();
        if (missing.Count > 0)
        {
            throw new EvaluationDataException(
                imagesDirectory,
                $"{missing.Count} of {truth.Images.Count} validation images are missing, e.g. {ImagePath(root, missing[0])}. Point --images at WIDER_val/images (the folder holding the event folders).");
        }

        Directory.CreateDirectory(predictionsDirectory);

        // Whole images run in parallel, each single-threaded: better throughput than splitting one image.
        var detector = new FaceDetector(options with { MaxDegreeOfParallelism = 1 }, weights);
        int completed = 0;
        int skipped = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var po = new ParallelOptions { MaxDegreeOfParallelism = options.EffectiveParallelism, CancellationToken = cancellationToken };
        Parallel.ForEach(truth.Images, po, image =>
        {
            string output = WiderPredictionFiles.PathFor(predictionsDirectory, image);
            bool skip = File.Exists(output);
            if (!skip)
            {
                try
                {
                    var loaded = ImageLoader.Load(ImagePath(root, image));
                    var faces = detector.Detect(loaded.Image, cancellationToken).Faces;
                    WiderPredictionFiles.Write(output, image.Name + ".jpg", [.. faces.Select(WiderPrediction.FromFace)]);
                }
                catch (ImageLoadException e)
                {
                    failures.Enqueue(e.Message);
                }
                catch (ArgumentOutOfRangeException e)
                {
                    // An image over DetectorOptions.MaxImagePixels.
                    failures.Enqueue($"{ImagePath(root, image)}: {e.Message}");
                }
            }
            else
            {
                Interlocked.Increment(ref skipped);
            }

            int done = Interlocked.Increment(ref completed);
            progress?.Report(new EvaluationProgress("detect", done, truth.Images.Count, Volatile.Read(ref skipped), image.Event + "/" + image.Name + ".jpg"));
        });

        if (!failures.IsEmpty)
        {
            throw new EvaluationDataException(
                imagesDirectory,
                $"{failures.Count} images could not be read (their predictions were not written; fix them and run again to resume): {string.Join("; ", failures.Take(5))}");
        }

        return Score(predictionsDirectory, truth, progress);
    }

    /// <summary>Scores existing prediction files (the official layout) without running the detector.</summary>
    /// <param name="predictionsDirectory">The predictions root holding one folder per event.</param>
    /// <param name="groundTruthDirectory">The folder with the four official .mat files.</param>
    /// <param name="progress">Receives a report when scoring starts and ends; null for none.</param>
    /// <returns>AP and precision-recall curves for easy, medium and hard.</returns>
    /// <exception cref="EvaluationDataException">The ground truth or a prediction file is bad, or the folder does not exist.</exception>
    public static WiderEvaluationResult Score(string predictionsDirectory, string groundTruthDirectory, IProgress<EvaluationProgress>? progress = null) =>
        Score(predictionsDirectory, WiderGroundTruth.Load(groundTruthDirectory), progress);

    /// <summary>Scores existing prediction files against already loaded ground truth.</summary>
    /// <param name="predictionsDirectory">The predictions root holding one folder per event.</param>
    /// <param name="truth">The ground truth.</param>
    /// <param name="progress">Receives a report when scoring starts and ends; null for none.</param>
    /// <returns>AP and precision-recall curves for easy, medium and hard.</returns>
    /// <exception cref="EvaluationDataException">A prediction file is bad or the folder does not exist.</exception>
    public static WiderEvaluationResult Score(string predictionsDirectory, WiderGroundTruth truth, IProgress<EvaluationProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(truth);
        progress?.Report(new EvaluationProgress("score", 0, 1, 0, null));
        var predictions = WiderPredictionFiles.ReadDirectory(predictionsDirectory);
        var result = WiderProtocol.Evaluate(truth, predictions);
        progress?.Report(new EvaluationProgress("score", 1, 1, 0, null));
        return result;
    }

    private static string ImagePath(string root, WiderImage image) => Path.Combine(root, image.Event, image.Name + ".jpg");

    private static string ResolveImagesRoot(string imagesDirectory, WiderGroundTruth truth)
    {
        if (!Directory.Exists(imagesDirectory))
        {
            throw new EvaluationDataException(imagesDirectory, "the images folder does not exist.");
        }

        string nested = Path.Combine(imagesDirectory, "images");
        if (truth.Events.Count > 0 && !Directory.Exists(Path.Combine(imagesDirectory, truth.Events[0])) && Directory.Exists(nested))
        {
            return nested;
        }

        return imagesDirectory;
    }
}
