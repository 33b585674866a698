using System.Globalization;
using Mtcnn.Evaluation.Annotations;
using Mtcnn.Evaluation.Landmarks;
using Mtcnn.Training.Data;
using Mtcnn.Training.Training;

namespace Mtcnn.Training.Cascade;

/// <summary>What the whole cascade achieved on the validation images.</summary>
/// <param name="Evaluated">Images evaluated.</param>
/// <param name="Detected">Annotated faces found (IoU at least 0.5).</param>
/// <param name="Nme">Mean landmark error over the found faces, normalised by the inter-ocular distance.</param>
/// <param name="FailureRate">Share of found faces whose error exceeds 0.1.</param>
public sealed record CascadeScore(int Evaluated, int Detected, double Nme, double FailureRate)
{
    /// <summary>Found faces per evaluated image.</summary>
    public double DetectionRate => Evaluated == 0 ? double.NaN : (double)Detected / Evaluated;

    /// <summary>For logs: <c>detection rate 0.9761 (571/585), NME 0.0723</c>.</summary>
    /// <returns>The text.</returns>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"detection rate {DetectionRate:F4} ({Detected}/{Evaluated}), NME {Nme:F4}");
}

/// <summary>
/// Chooses the epoch a run keeps, from the whole-cascade scores on the validation images. The rule, in order:
/// <list type="number">
/// <item>when the run starts from trained weights, their score (epoch 0) is the bar: an epoch is only eligible when it
/// finds at least as many faces <em>and</em> its landmark error is at most the starting one, so the kept result is never
/// worse than where the run started on either number (if no epoch qualifies, the starting weights are kept);</item>
/// <item>among eligible epochs, more faces found wins; at an equal count, the lower landmark error; at a tie the earlier
/// epoch.</item>
/// </list>
/// Early stopping: a run stops when the last <c>patience</c> epochs brought no new best.
/// </summary>
public static class CascadeSelection
{
    /// <summary>Whether <paramref name="candidate"/> replaces the kept <paramref name="incumbent"/>.</summary>
    /// <param name="candidate">The new epoch's score.</param>
    /// <param name="incumbent">The kept score so far (null: none yet).</param>
    /// <param name="baseline">The starting weights' score (null when training from scratch).</param>
    /// <returns>True when the candidate is kept instead.</returns>
    public static bool IsBetter(CascadeScore candidate, CascadeScore? incumbent, CascadeScore? baseline)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (double.IsNaN(candidate.Nme) && candidate.Detected > 0)
        {
            return false;
        }

        if (baseline is not null && (candidate.Detected < baseline.Detected || !(candidate.Nme <= baseline.Nme || baseline.Detected == 0)))
        {
            return false;
        }

        if (incumbent is null)
        {
            return true;
        }

        if (candidate.Detected != incumbent.Detected)
        {
            return candidate.Detected > incumbent.Detected;
        }

        return candidate.Nme < incumbent.Nme || (double.IsNaN(incumbent.Nme) && !double.IsNaN(candidate.Nme));
    }

    /// <summary>The epoch to keep: 0 (the starting weights) or the best eligible epoch; -1 when nothing is eligible and there is no start.</summary>
    /// <param name="baseline">The starting weights' score, or null when training from scratch.</param>
    /// <param name="epochs">The epochs' scores, in epoch order (1-based epoch numbers).</param>
    /// <returns>The epoch number.</returns>
    public static int Select(CascadeScore? baseline, IReadOnlyList<(int Epoch, CascadeScore Score)> epochs)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        var best = baseline is null ? -1 : 0;
        var kept = baseline;
        foreach (var (epoch, score) in epochs)
        {
            if (IsBetter(score, kept, baseline))
            {
                best = epoch;
                kept = score;
            }
        }

        return best;
    }

    /// <summary>Whether early stopping ends the run after the last of <paramref name="epochs"/>.</summary>
    /// <param name="baseline">The starting weights' score, or null.</param>
    /// <param name="epochs">The epochs' scores so far, in order.</param>
    /// <param name="patience">Epochs without a new best that end the run; 0 = never stop early.</param>
    /// <returns>True when the run should stop.</returns>
    public static bool ShouldStop(CascadeScore? baseline, IReadOnlyList<(int Epoch, CascadeScore Score)> epochs, int patience)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        if (patience <= 0 || epochs.Count == 0)
        {
            return false;
        }

        var best = Select(baseline, epochs);
        var reference = best < 0 ? 0 : best;
        return epochs[^1].Epoch - reference >= patience;
    }
}

/// <summary>
/// Runs the whole cascade (the core detector with a candidate weight set) on annotated validation images and scores it
/// with the landmark protocol of <c>mtcnn eval landmarks</c>: detection rate at IoU 0.5 and inter-ocular NME, at the
/// detector's default settings.
/// </summary>
public sealed class CascadeValidator
{
    private readonly FacePointListResult list;
    private readonly string images;
    private readonly int threads;

    /// <summary>Creates a validator for the entries of a list.</summary>
    /// <param name="list">The validation faces.</param>
    /// <param name="imagesFolder">The folder the list's paths are relative to.</param>
    /// <param name="threads">Images evaluated at a time (0 = every core).</param>
    public CascadeValidator(FacePointListResult list, string imagesFolder, int threads)
    {
        ArgumentNullException.ThrowIfNull(list);
        ArgumentException.ThrowIfNullOrEmpty(imagesFolder);
        if (list.Entries.Count == 0)
        {
            throw new ArgumentException($"{list.FileName}: no validation faces", nameof(list));
        }

        this.list = list;
        images = imagesFolder;
        this.threads = Math.Max(0, threads);
    }

    /// <summary>Validation faces.</summary>
    public int Count => list.Entries.Count;

    /// <summary>Where the faces come from, for messages.</summary>
    public string Source => list.FileName;

    /// <summary>Reads a validation list, optionally only some of its lines.</summary>
    /// <param name="path">The list (CNN_FacePoint layout).</param>
    /// <param name="imagesFolder">Its images' folder; null = the list's folder.</param>
    /// <param name="lines">The lines to use.</param>
    /// <param name="threads">Images evaluated at a time.</param>
    /// <returns>The validator.</returns>
    /// <exception cref="InvalidDataException">The list cannot be read or holds no usable face in the lines.</exception>
    public static CascadeValidator FromList(string path, string? imagesFolder, LineRange lines, int threads)
    {
        FacePointListResult read;
        try
        {
            read = FacePointList.Read(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Evaluation.EvaluationDataException)
        {
            throw new InvalidDataException($"{path}: cannot read the validation list: {e.Message}", e);
        }

        var entries = read.Entries.Where(e => lines.Contains(e.LineNumber)).ToList();
        if (entries.Count == 0)
        {
            throw new InvalidDataException($"{path}: no readable validation face in lines {lines}");
        }

        var folder = imagesFolder ?? Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        return new CascadeValidator(read with { Entries = entries, Issues = [] }, folder, threads);
    }

    /// <summary>Scores a cascade.</summary>
    /// <param name="weights">The three networks.</param>
    /// <param name="cancellationToken">Stops between images.</param>
    /// <returns>The score.</returns>
    public CascadeScore Evaluate(MtcnnWeights weights, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var options = new LandmarkEvaluationOptions { Detector = DetectorOptions.Default with { MaxDegreeOfParallelism = threads } };
        var result = LandmarkEvaluator.Run(list, images, options, weights, progress: null, cancellationToken);
        return new CascadeScore(result.Evaluated, result.Detected, result.MeanInterOcularError, result.FailureRate);
    }

    /// <summary>
    /// Holds out whole images of a landmark list for validation: each landmark image (by the number of the first line
    /// naming it) is held out with probability <paramref name="fraction"/>, decided by the seed alone, so the same
    /// seed and lines always give the same split. Writes the held-out lines, verbatim, to <paramref name="listPath"/>.
    /// </summary>
    /// <param name="images">The run's images.</param>
    /// <param name="landmarkList">The landmark list they come from.</param>
    /// <param name="fraction">Share of landmark images held out, in [0, 1).</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="listPath">Where to write the held-out lines.</param>
    /// <returns>The images left for training and the number held out.</returns>
    public static (IReadOnlyList<TrainingImage> Training, int HeldOut) HoldOut(IReadOnlyList<TrainingImage> images, string landmarkList, double fraction, int seed, string listPath)
    {
        ArgumentNullException.ThrowIfNull(images);
        var heldLines = new HashSet<int>();
        var training = new List<TrainingImage>(images.Count);
        var heldOut = 0;
        foreach (var image in images)
        {
            var isLandmarkImage = image.LandmarkFaces.Count > 0 && image.AnnotationFile == landmarkList;
            if (isLandmarkImage && IsHeldOut(image.LineNumber, fraction, seed))
            {
                heldOut++;
                foreach (var face in image.LandmarkFaces)
                {
                    heldLines.Add(face.LineNumber);
                }
            }
            else
            {
                training.Add(image with { Index = training.Count });
            }
        }

        var lines = File.ReadLines(landmarkList).Select((text, i) => (text, number: i + 1)).Where(l => heldLines.Contains(l.number)).Select(l => l.text);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(listPath))!);
        AtomicFile.WriteText(listPath, string.Join('\n', lines) + "\n");
        return (training, heldOut);
    }

    /// <summary>Whether the image whose first list line is <paramref name="lineNumber"/> is held out.</summary>
    /// <param name="lineNumber">The line.</param>
    /// <param name="fraction">The held-out share.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>True when held out.</returns>
    public static bool IsHeldOut(int lineNumber, double fraction, int seed) =>
        SplitMix.Uniform((ulong)(uint)seed, 0xca5c_adeUL, (ulong)(uint)lineNumber) < fraction;
}
