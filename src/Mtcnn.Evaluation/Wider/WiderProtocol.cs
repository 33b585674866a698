namespace Mtcnn.Evaluation.Wider;

/// <summary>Precision and recall of one setting at each threshold, and its average precision.</summary>
public sealed class WiderSettingResult
{
    internal WiderSettingResult(WiderSetting setting, double averagePrecision, int faceCount, double[] thresholds, double[] precision, double[] recall)
    {
        Setting = setting;
        AveragePrecision = averagePrecision;
        FaceCount = faceCount;
        Thresholds = thresholds;
        Precision = precision;
        Recall = recall;
    }

    /// <summary>The setting.</summary>
    public WiderSetting Setting { get; }

    /// <summary>VOC-style average precision in [0, 1].</summary>
    public double AveragePrecision { get; }

    /// <summary>The faces that count in this setting (the recall denominator).</summary>
    public int FaceCount { get; }

    /// <summary>The normalised score thresholds, highest first: <c>1 − t/N</c> for <c>t = 1..N</c>.</summary>
    public IReadOnlyList<double> Thresholds { get; }

    /// <summary>Precision at each threshold (0 where no prediction counts yet).</summary>
    public IReadOnlyList<double> Precision { get; }

    /// <summary>Recall at each threshold.</summary>
    public IReadOnlyList<double> Recall { get; }
}

/// <summary>The outcome of a WIDER FACE evaluation: one result per setting and counts of what was scored.</summary>
public sealed class WiderEvaluationResult
{
    private readonly WiderSettingResult[] settings;

    internal WiderEvaluationResult(WiderSettingResult[] settings, int imageCount, int imagesWithoutPredictions, int predictionCount, double minScore, double maxScore)
    {
        this.settings = settings;
        ImageCount = imageCount;
        ImagesWithoutPredictions = imagesWithoutPredictions;
        PredictionCount = predictionCount;
        MinScore = minScore;
        MaxScore = maxScore;
    }

    /// <summary>The easy setting.</summary>
    public WiderSettingResult Easy => settings[0];

    /// <summary>The medium setting.</summary>
    public WiderSettingResult Medium => settings[1];

    /// <summary>The hard setting.</summary>
    public WiderSettingResult Hard => settings[2];

    /// <summary>All three settings in <see cref="WiderSetting"/> order.</summary>
    public IReadOnlyList<WiderSettingResult> Settings => settings;

    /// <summary>Images in the ground truth.</summary>
    public int ImageCount { get; }

    /// <summary>Ground-truth images for which no predictions were given (scored as predicting nothing).</summary>
    public int ImagesWithoutPredictions { get; }

    /// <summary>All predictions read (including any for images outside the ground truth).</summary>
    public int PredictionCount { get; }

    /// <summary>The lowest raw score (the normalisation's minimum); 0 when there are no predictions.</summary>
    public double MinScore { get; }

    /// <summary>The highest raw score (the normalisation's maximum); 0 when there are no predictions.</summary>
    public double MaxScore { get; }

    /// <summary>The result of one setting.</summary>
    /// <param name="setting">The setting.</param>
    public WiderSettingResult this[WiderSetting setting] => settings[(int)setting];
}

/// <summary>
/// The WIDER FACE validation protocol of the official evaluation tools (SPEC section 6), re-implemented:
/// <list type="number">
/// <item>Each image's predictions are sorted by score, highest first (a stable sort keeps file order among ties).</item>
/// <item>Scores are normalised with one global minimum and maximum over all predictions; if they are all equal,
/// every normalised score is 1.</item>
/// <item>Per setting, every image adds its kept faces to the face total. Images without ground-truth boxes or without
/// predictions add nothing else (as in the official code, predictions on an image with no boxes are not false alarms).
/// Walking the predictions in order, each takes the ground-truth box of largest IoU (first on ties; IoU with the
/// +1 pixel convention on boxes <c>x, y, x+w, y+h</c>). At IoU ≥ 0.5 with a box not kept in this setting the
/// prediction is ignored; with a kept box it recalls that face the first time and is a false alarm afterwards;
/// below 0.5 it is a false alarm.</item>
/// <item>At each threshold <c>1 − t/1000</c> (<c>t = 1..1000</c>) each image contributes the proposals (non-ignored
/// predictions) and recalled faces of its predictions scoring at least the threshold; precision = recalled /
/// proposals (0 when there are none), recall = recalled / face total.</item>
/// <item>AP is VOC style: precision made non-increasing by a running maximum from the right, summed over the steps
/// of recall (from recall 0, closed at recall 1).</item>
/// </list>
/// Thread-safe (pure functions).
/// </summary>
public static class WiderProtocol
{
    /// <summary>The number of thresholds the official evaluation uses.</summary>
    public const int DefaultThresholdCount = 1000;

    /// <summary>The IoU at which a prediction matches a ground-truth box.</summary>
    public const double IouThreshold = 0.5;

    /// <summary>Scores predictions against the ground truth.</summary>
    /// <param name="truth">The ground truth.</param>
    /// <param name="predictions">Predictions keyed by <see cref="WiderImage.Key"/>; images without a key predict nothing.</param>
    /// <param name="thresholdCount">Number of thresholds; default 1000 as in the official tools.</param>
    /// <returns>AP and the precision-recall curve of each setting.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="thresholdCount"/> is not in [1, 1000000].</exception>
    public static WiderEvaluationResult Evaluate(
        WiderGroundTruth truth,
        IReadOnlyDictionary<string, IReadOnlyList<WiderPrediction>> predictions,
        int thresholdCount = DefaultThresholdCount)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(predictions);
        if (thresholdCount is < 1 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(thresholdCount), thresholdCount, "thresholdCount must be in [1, 1000000].");
        }

        // Step 2: one global normalisation over everything that was read.
        double min = double.PositiveInfinity;
        double max = double.NegativeInfinity;
        int predictionCount = 0;
        foreach (var list in predictions.Values)
        {
            foreach (var p in list)
            {
                min = Math.Min(min, p.Score);
                max = Math.Max(max, p.Score);
                predictionCount++;
            }
        }

        if (predictionCount == 0)
        {
            min = max = 0;
        }

        double range = max - min;
        double[] thresholds = new double[thresholdCount];
        for (int t = 0; t < thresholdCount; t++)
        {
            thresholds[t] = 1 - ((double)(t + 1) / thresholdCount);
        }

        var proposals = new double[3][];
        var recalled = new double[3][];
        var faces = new int[3];
        for (int s = 0; s < 3; s++)
        {
            proposals[s] = new double[thresholdCount];
            recalled[s] = new double[thresholdCount];
        }

        int missing = 0;
        foreach (var image in truth.Images)
        {
            for (int s = 0; s < 3; s++)
            {
                faces[s] += image.Kept((WiderSetting)s).Count;
            }

            if (!predictions.TryGetValue(image.Key, out var raw) || raw.Count == 0)
            {
                missing += raw is null ? 1 : 0;
                continue;
            }

            if (image.Boxes.Count == 0)
            {
                continue;
            }

            // Step 1 and 2: sort (stable) and normalise.
            var order = Enumerable.Range(0, raw.Count).OrderByDescending(i => raw[i].Score).ToArray();
            var sorted = new WiderPrediction[raw.Count];
            var scores = new double[raw.Count];
            for (int i = 0; i < order.Length; i++)
            {
                sorted[i] = raw[order[i]];
                scores[i] = range > 0 ? (sorted[i].Score - min) / range : 1.0;
            }

            var (bestBox, bestIou) = BestMatches(sorted, image.Boxes);
            for (int s = 0; s < 3; s++)
            {
                AccumulateImage(image, (WiderSetting)s, bestBox, bestIou, scores, thresholds, proposals[s], recalled[s]);
            }
        }

        var results = new WiderSettingResult[3];
        for (int s = 0; s < 3; s++)
        {
            var precision = new double[thresholdCount];
            var recall = new double[thresholdCount];
            for (int t = 0; t < thresholdCount; t++)
            {
                precision[t] = proposals[s][t] > 0 ? recalled[s][t] / proposals[s][t] : 0;
                recall[t] = faces[s] > 0 ? recalled[s][t] / faces[s] : 0;
            }

            results[s] = new WiderSettingResult((WiderSetting)s, VocAveragePrecision(recall, precision), faces[s], thresholds, precision, recall);
        }

        return new WiderEvaluationResult(results, truth.Images.Count, missing, predictionCount, min, max);
    }

    /// <summary>
    /// VOC-style average precision of a curve given at decreasing thresholds (recall non-decreasing): precision is
    /// replaced by its running maximum from the right, then summed over the recall steps, starting from recall 0
    /// and closed with a point at recall 1 and precision 0.
    /// </summary>
    /// <param name="recall">Recall at each threshold.</param>
    /// <param name="precision">Precision at each threshold.</param>
    /// <returns>The average precision.</returns>
    /// <exception cref="ArgumentException">The lists differ in length.</exception>
    public static double VocAveragePrecision(IReadOnlyList<double> recall, IReadOnlyList<double> precision)
    {
        ArgumentNullException.ThrowIfNull(recall);
        ArgumentNullException.ThrowIfNull(precision);
        if (recall.Count != precision.Count)
        {
            throw new ArgumentException($"recall has {recall.Count} points but precision has {precision.Count}.", nameof(precision));
        }

        int n = recall.Count + 2;
        var mrec = new double[n];
        var mpre = new double[n];
        mrec[n - 1] = 1;
        for (int i = 0; i < recall.Count; i++)
        {
            mrec[i + 1] = recall[i];
            mpre[i + 1] = precision[i];
        }

        for (int i = n - 1; i > 0; i--)
        {
            mpre[i - 1] = Math.Max(mpre[i - 1], mpre[i]);
        }

        double ap = 0;
        for (int i = 0; i < n - 1; i++)
        {
            if (mrec[i + 1] != mrec[i])
            {
                ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
            }
        }

        return ap;
    }

    /// <summary>IoU of two WIDER boxes with the +1 pixel convention (a box covers x..x+w inclusive, i.e. w+1 pixels).</summary>
    /// <param name="a">First box as x, y, w, h.</param>
    /// <param name="b">Second box as x, y, w, h.</param>
    /// <returns>The overlap in [0, 1].</returns>
    public static double IntersectionOverUnion(WiderBox a, WiderBox b)
    {
        double iw = Math.Min(a.X + a.Width, b.X + b.Width) - Math.Max(a.X, b.X) + 1;
        double ih = Math.Min(a.Y + a.Height, b.Y + b.Height) - Math.Max(a.Y, b.Y) + 1;
        if (iw <= 0 || ih <= 0)
        {
            return 0;
        }

        double inter = iw * ih;
        double union = ((a.Width + 1) * (a.Height + 1)) + ((b.Width + 1) * (b.Height + 1)) - inter;
        return union > 0 ? inter / union : 0;
    }

    private static (int[] Box, double[] Iou) BestMatches(WiderPrediction[] predictions, IReadOnlyList<WiderBox> boxes)
    {
        var box = new int[predictions.Length];
        var iou = new double[predictions.Length];
        for (int p = 0; p < predictions.Length; p++)
        {
            var pb = new WiderBox(predictions[p].X, predictions[p].Y, predictions[p].Width, predictions[p].Height);
            int best = 0;
            double bestIou = IntersectionOverUnion(pb, boxes[0]);
            for (int g = 1; g < boxes.Count; g++)
            {
                double o = IntersectionOverUnion(pb, boxes[g]);
                if (o > bestIou)
                {
                    best = g;
                    bestIou = o;
                }
            }

            box[p] = best;
            iou[p] = bestIou;
        }

        return (box, iou);
    }

    private static void AccumulateImage(
        WiderImage image, WiderSetting setting, int[] bestBox, double[] bestIou, double[] scores, double[] thresholds, double[] proposals, double[] recalled)
    {
        int boxCount = image.Boxes.Count;
        var kept = new bool[boxCount];
        foreach (int k in image.Kept(setting))
        {
            kept[k] = true;
        }

        // Step 3: walk the predictions; running counts of proposals and recalled faces after each prefix.
        var recalledBox = new bool[boxCount];
        int n = scores.Length;
        var proposalsAfter = new int[n];
        var recalledAfter = new int[n];
        int proposalCount = 0;
        int recallCount = 0;
        for (int p = 0; p < n; p++)
        {
            bool ignored = false;
            if (bestIou[p] >= IouThreshold)
            {
                int g = bestBox[p];
                if (!kept[g])
                {
                    ignored = true;
                }
                else if (!recalledBox[g])
                {
                    recalledBox[g] = true;
                    recallCount++;
                }
            }

            if (!ignored)
            {
                proposalCount++;
            }

            proposalsAfter[p] = proposalCount;
            recalledAfter[p] = recallCount;
        }

        // Step 4: scores are sorted, so the predictions at or above a threshold form a prefix that only grows as
        // the threshold falls.
        int prefix = 0;
        for (int t = 0; t < thresholds.Length; t++)
        {
            while (prefix < n && scores[prefix] >= thresholds[t])
            {
                prefix++;
            }

            if (prefix > 0)
            {
                proposals[t] += proposalsAfter[prefix - 1];
                recalled[t] += recalledAfter[prefix - 1];
            }
        }
    }
}
