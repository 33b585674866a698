using System.Collections.Concurrent;
using Mtcnn.Imaging;
using SkiaSharp;

namespace Mtcnn.Evaluation.Fddb;

/// <summary>
/// Runs the detector over the FDDB images fold by fold, writes the detections in FDDB's format
/// (<c>fold-XX-out.txt</c>), and scores them with <see cref="FddbProtocol"/>.
/// </summary>
/// <remarks>
/// A run is resumable per fold: a fold whose detection file already exists is read instead of detected again
/// (files are written atomically). Images run in parallel, each on one thread; progress is reported from worker
/// threads, so the reporter must be thread-safe.
/// </remarks>
public static class FddbEvaluator
{
    /// <summary>Detects faces in every fold's images, writes the detections and the two ROC text files, and scores them.</summary>
    /// <param name="imagesDirectory">The folder holding the <c>2002</c> and <c>2003</c> image folders (<c>originalPics</c>).</param>
    /// <param name="foldsDirectory">The <c>FDDB-folds</c> folder with the <c>FDDB-fold-XX-ellipseList.txt</c> files.</param>
    /// <param name="outputDirectory">Where <c>fold-XX-out.txt</c>, <c>DiscROC.txt</c> and <c>ContROC.txt</c> are written.</param>
    /// <param name="detectorOptions">Detector settings; null uses <see cref="DetectorOptions.Default"/>.</param>
    /// <param name="weights">Network weights; null uses the embedded original weights.</param>
    /// <param name="progress">Receives a report after each image; null for none.</param>
    /// <param name="cancellationToken">Stops the run between images (finished folds stay valid for a resume).</param>
    /// <returns>The ROC curves.</returns>
    /// <exception cref="EvaluationDataException">Fold files are bad, or images are missing or cannot be decoded.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public static FddbResult Run(
        string imagesDirectory,
        string foldsDirectory,
        string outputDirectory,
        DetectorOptions? detectorOptions = null,
        MtcnnWeights? weights = null,
        IProgress<EvaluationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagesDirectory);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        var options = (detectorOptions ?? DetectorOptions.Default).Validate();
        var folds = FddbFiles.ReadFolds(foldsDirectory);
        if (!Directory.Exists(imagesDirectory))
        {
            throw new EvaluationDataException(imagesDirectory, "the images folder does not exist.");
        }

        var all = folds.SelectMany(f => f.Images).ToList();
        var missing = all.Where(i => !File.Exists(ImagePath(imagesDirectory, i.Name))).ToList();
        if (missing.Count > 0)
        {
            throw new EvaluationDataException(imagesDirectory, $"{missing.Count} of {all.Count} FDDB images are missing, e.g. {ImagePath(imagesDirectory, missing[0].Name)}. Point --images at the folder holding 2002/ and 2003/.");
        }

        Directory.CreateDirectory(outputDirectory);
        var detector = new FaceDetector(options with { MaxDegreeOfParallelism = 1 }, weights);
        var sizes = new ConcurrentDictionary<string, (int Width, int Height)>(StringComparer.Ordinal);
        int completed = 0;
        int skipped = 0;
        foreach (var fold in folds)
        {
            string path = Path.Combine(outputDirectory, FddbFiles.DetectionFileName(fold.Number));
            if (File.Exists(path))
            {
                skipped += fold.Images.Count;
                completed += fold.Images.Count;
                progress?.Report(new EvaluationProgress("detect", completed, all.Count, skipped, Path.GetFileName(path)));
                continue;
            }

            var results = new IReadOnlyList<FddbDetection>[fold.Images.Count];
            var failures = new ConcurrentQueue<string>();
            var po = new ParallelOptions { MaxDegreeOfParallelism = options.EffectiveParallelism, CancellationToken = cancellationToken };
            Parallel.For(0, fold.Images.Count, po, i =>
            {
                var image = fold.Images[i];
                string file = ImagePath(imagesDirectory, image.Name);
                try
                {
                    var loaded = ImageLoader.Load(file);
                    sizes[image.Name] = (loaded.Width, loaded.Height);
                    results[i] = [.. detector.Detect(loaded.Image, cancellationToken).Faces.Select(FddbDetection.FromFace)];
                }
                catch (ImageLoadException e)
                {
                    failures.Enqueue(e.Message);
                }
                catch (ArgumentOutOfRangeException e)
                {
                    failures.Enqueue($"{file}: {e.Message}");
                }

                progress?.Report(new EvaluationProgress("detect", Interlocked.Increment(ref completed), all.Count, skipped, image.Name + ".jpg"));
            });

            if (!failures.IsEmpty)
            {
                throw new EvaluationDataException(imagesDirectory, $"{failures.Count} images of fold {fold.Number} could not be read (the fold was not written): {string.Join("; ", failures.Take(5))}");
            }

            FddbFiles.WriteDetections(path, fold.Images.Select((im, i) => (im.Name, results[i])));
        }

        var result = Score(outputDirectory, foldsDirectory, imagesDirectory, sizes, progress);
        FddbFiles.WriteRoc(Path.Combine(outputDirectory, "DiscROC.txt"), result.Discrete);
        FddbFiles.WriteRoc(Path.Combine(outputDirectory, "ContROC.txt"), result.Continuous);
        return result;
    }

    /// <summary>Scores existing detections without running the detector.</summary>
    /// <param name="detections">A detection file in FDDB's rectangle format, or a folder of <c>fold-XX-out.txt</c> files.</param>
    /// <param name="foldsDirectory">The <c>FDDB-folds</c> folder.</param>
    /// <param name="imagesDirectory">The images folder, to clip regions to each image as the official tool does (only image headers are read); null to skip clipping.</param>
    /// <param name="progress">Receives a report when scoring starts and ends; null for none.</param>
    /// <returns>The ROC curves.</returns>
    /// <exception cref="EvaluationDataException">A file is missing or malformed.</exception>
    public static FddbResult Score(string detections, string foldsDirectory, string? imagesDirectory = null, IProgress<EvaluationProgress>? progress = null) =>
        Score(detections, foldsDirectory, imagesDirectory, null, progress);

    private static FddbResult Score(
        string detections, string foldsDirectory, string? imagesDirectory, ConcurrentDictionary<string, (int Width, int Height)>? knownSizes, IProgress<EvaluationProgress>? progress)
    {
        ArgumentException.ThrowIfNullOrEmpty(detections);
        progress?.Report(new EvaluationProgress("score", 0, 1, 0, null));
        var folds = FddbFiles.ReadFolds(foldsDirectory);
        var merged = new Dictionary<string, IReadOnlyList<FddbDetection>>(StringComparer.Ordinal);
        IEnumerable<string> files;
        if (Directory.Exists(detections))
        {
            files = [.. Directory.EnumerateFiles(detections, "fold-*-out.txt").Order(StringComparer.Ordinal)];
            if (!files.Any())
            {
                throw new EvaluationDataException(detections, "holds no fold-XX-out.txt detection files.");
            }
        }
        else if (File.Exists(detections))
        {
            files = [detections];
        }
        else
        {
            throw new EvaluationDataException(detections, "no such detection file or folder.");
        }

        foreach (string file in files)
        {
            foreach (var (name, list) in FddbFiles.ReadDetections(file))
            {
                merged[name] = merged.TryGetValue(name, out var existing) ? [.. existing, .. list] : list;
            }
        }

        Func<string, (int Width, int Height)?>? sizeOf = null;
        if (imagesDirectory is not null)
        {
            var cache = knownSizes ?? new ConcurrentDictionary<string, (int Width, int Height)>(StringComparer.Ordinal);
            sizeOf = name => cache.TryGetValue(name, out var s) ? s : ReadSize(ImagePath(imagesDirectory, name));
        }

        var result = FddbProtocol.Evaluate([.. folds.SelectMany(f => f.Images)], merged, sizeOf);
        progress?.Report(new EvaluationProgress("score", 1, 1, 0, null));
        return result;
    }

    private static (int Width, int Height)? ReadSize(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        using var codec = SKCodec.Create(path);
        if (codec is null)
        {
            return null;
        }

        // Sizes as the detector saw them: EXIF orientations 5-8 swap the axes.
        bool swap = codec.EncodedOrigin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        return swap ? (codec.Info.Height, codec.Info.Width) : (codec.Info.Width, codec.Info.Height);
    }

    private static string ImagePath(string root, string name) => Path.Combine(root, name + ".jpg");
}
