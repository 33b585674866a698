namespace Mtcnn.Evaluation.Fddb;

/// <summary>One point of an ROC curve: the counts over all images when detections scoring at least <see cref="Threshold"/> are kept.</summary>
/// <param name="Threshold">The score threshold (detections with score ≥ it count).</param>
/// <param name="FalsePositives">Kept detections that are not hits.</param>
/// <param name="TruePositives">Hits (discrete) or the sum of matched overlaps (continuous).</param>
/// <param name="TruePositiveRate"><see cref="TruePositives"/> divided by the number of annotated faces.</param>
public readonly record struct RocPoint(double Threshold, int FalsePositives, double TruePositives, double TruePositiveRate);

/// <summary>The FDDB discrete and continuous ROC curves.</summary>
public sealed class FddbResult
{
    internal FddbResult(int imageCount, int faceCount, int detectionCount, int imagesWithoutDetections, RocPoint[] discrete, RocPoint[] continuous)
    {
        ImageCount = imageCount;
        FaceCount = faceCount;
        DetectionCount = detectionCount;
        ImagesWithoutDetections = imagesWithoutDetections;
        Discrete = discrete;
        Continuous = continuous;
    }

    /// <summary>Annotated images evaluated.</summary>
    public int ImageCount { get; }

    /// <summary>Annotated faces (the TPR denominator).</summary>
    public int FaceCount { get; }

    /// <summary>Detections on the annotated images.</summary>
    public int DetectionCount { get; }

    /// <summary>Annotated images for which no detections were listed.</summary>
    public int ImagesWithoutDetections { get; }

    /// <summary>The discrete ROC (a detection is a hit when its matched overlap exceeds 0.5), one point per distinct score, highest threshold first.</summary>
    public IReadOnlyList<RocPoint> Discrete { get; }

    /// <summary>The continuous ROC (hits are weighted by their matched overlap), at the same thresholds.</summary>
    public IReadOnlyList<RocPoint> Continuous { get; }

    /// <summary>The discrete true positive rate at 1,000 false positives, the figure usually quoted for FDDB.</summary>
    public double DiscreteTruePositiveRateAt1000 => TruePositiveRateAt(1000, continuous: false);

    /// <summary>The continuous true positive rate at 1,000 false positives.</summary>
    public double ContinuousTruePositiveRateAt1000 => TruePositiveRateAt(1000, continuous: true);

    /// <summary>The highest true positive rate among the ROC points with at most <paramref name="falsePositives"/> false positives (0 if none).</summary>
    /// <param name="falsePositives">The false-positive budget.</param>
    /// <param name="continuous">Read the continuous curve instead of the discrete one.</param>
    /// <returns>The rate in [0, 1].</returns>
    public double TruePositiveRateAt(int falsePositives, bool continuous = false)
    {
        double best = 0;
        foreach (var p in continuous ? Continuous : Discrete)
        {
            if (p.FalsePositives <= falsePositives)
            {
                best = Math.Max(best, p.TruePositiveRate);
            }
        }

        return best;
    }
}

/// <summary>
/// The FDDB evaluation (Jain and Learned-Miller 2010, section 6), re-implemented:
/// <list type="bullet">
/// <item>Overlap of a detection and an annotation is the IoU of their rasterised pixel sets (ellipse vs rectangle;
/// a pixel belongs to a region when its centre does), clipped to the image when its size is known.</item>
/// <item>For every score threshold, each image's detections scoring at least the threshold are paired one-to-one
/// with its annotations by the Hungarian algorithm, maximising the total overlap (pairs with zero overlap are not
/// pairs). A paired detection with overlap &gt; 0.5 is a hit.</item>
/// <item>Discrete score: hits count 1. Continuous score: every pair counts its overlap. False positives (the x axis
/// of both curves) are the kept detections that are not hits.</item>
/// <item>The ROC has one point per distinct detection score over all images, from the highest down; true positive
/// rates divide by the number of annotated faces.</item>
/// </list>
/// Thread-safe (pure functions).
/// </summary>
public static class FddbProtocol
{
    /// <summary>The overlap a matched detection must exceed to be a hit in the discrete score.</summary>
    public const double HitOverlap = 0.5;

    /// <summary>Evaluates detections against FDDB annotations.</summary>
    /// <param name="images">The annotated images.</param>
    /// <param name="detections">Detections by image name; images without an entry have none. Names not annotated are ignored.</param>
    /// <param name="imageSize">The size of an image by name, to clip regions to it (as the official tool does); null or a null answer leaves them unclipped.</param>
    /// <returns>The discrete and continuous ROC curves.</returns>
    public static FddbResult Evaluate(
        IReadOnlyList<FddbImage> images,
        IReadOnlyDictionary<string, IReadOnlyList<FddbDetection>> detections,
        Func<string, (int Width, int Height)?>? imageSize = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(detections);

        // Per image and per distinct score (a "prefix" of its sorted detections) the change in hits, overlap sum and
        // detections; summing these changes over images in score order gives the global curve.
        var events = new List<(double Score, int Hits, double Overlap, int Kept)>();
        int faceCount = 0;
        int detectionCount = 0;
        int without = 0;
        foreach (var image in images)
        {
            faceCount += image.Faces.Count;
            if (!detections.TryGetValue(image.Name, out var dets) || dets.Count == 0)
            {
                without += dets is null ? 1 : 0;
                continue;
            }

            detectionCount += dets.Count;
            var size = imageSize?.Invoke(image.Name);
            int? w = size?.Width;
            int? h = size?.Height;
            var sorted = dets.OrderByDescending(d => d.Score).ToArray();
            var faces = image.Faces.Select(e => RegionRaster.Ellipse(e, w, h)).ToArray();
            var overlap = new double[sorted.Length, faces.Length];
            for (int d = 0; d < sorted.Length; d++)
            {
                var rect = RegionRaster.Rectangle(sorted[d], w, h);
                for (int f = 0; f < faces.Length; f++)
                {
                    overlap[d, f] = RegionRaster.IntersectionOverUnion(rect, faces[f]);
                }
            }

            int previousHits = 0;
            double previousOverlap = 0;
            int previousKept = 0;
            int k = 0;
            while (k < sorted.Length)
            {
                // All detections sharing this score enter together.
                int end = k + 1;
                while (end < sorted.Length && sorted[end].Score == sorted[k].Score)
                {
                    end++;
                }

                var (hits, sum) = Match(overlap, end, faces.Length);
                events.Add((sorted[k].Score, hits - previousHits, sum - previousOverlap, end - previousKept));
                (previousHits, previousOverlap, previousKept) = (hits, sum, end);
                k = end;
            }
        }

        events.Sort((a, b) => b.Score.CompareTo(a.Score));
        var discrete = new List<RocPoint>();
        var continuous = new List<RocPoint>();
        int totalHits = 0;
        double totalOverlap = 0;
        int totalKept = 0;
        for (int i = 0; i < events.Count; i++)
        {
            totalHits += events[i].Hits;
            totalOverlap += events[i].Overlap;
            totalKept += events[i].Kept;
            if (i + 1 < events.Count && events[i + 1].Score == events[i].Score)
            {
                continue;
            }

            int fp = totalKept - totalHits;
            double threshold = events[i].Score;
            discrete.Add(new RocPoint(threshold, fp, totalHits, faceCount > 0 ? (double)totalHits / faceCount : 0));
            continuous.Add(new RocPoint(threshold, fp, totalOverlap, faceCount > 0 ? totalOverlap / faceCount : 0));
        }

        return new FddbResult(images.Count, faceCount, detectionCount, without, [.. discrete], [.. continuous]);
    }

    /// <summary>Pairs the first <paramref name="kept"/> detections with the faces; returns hits and the overlap sum.</summary>
    private static (int Hits, double Overlap) Match(double[,] overlap, int kept, int faces)
    {
        if (faces == 0)
        {
            return (0, 0);
        }

        var w = new double[kept, faces];
        for (int d = 0; d < kept; d++)
        {
            for (int f = 0; f < faces; f++)
            {
                w[d, f] = overlap[d, f];
            }
        }

        int[] pairs = Hungarian.MaximumWeightAssignment(w);
        int hits = 0;
        double sum = 0;
        for (int d = 0; d < kept; d++)
        {
            int f = pairs[d];
            if (f >= 0 && w[d, f] > 0)
            {
                sum += w[d, f];
                if (w[d, f] > HitOverlap)
                {
                    hits++;
                }
            }
        }

        return (hits, sum);
    }
}
