using Mtcnn.Evaluation.Wider;
using Mtcnn.TestSupport;
using Xunit.Abstractions;

namespace Mtcnn.Evaluation.Tests;

/// <summary>
/// The protocol on the official validation ground truth (../shared/data/wider) with the ground truth itself, and
/// damaged copies of it, as predictions. The WIDER images are not available, so this is how the protocol is checked
/// at full scale.
/// </summary>
public sealed class WiderGroundTruthAsPredictionsTests(ITestOutputHelper output)
{
    private static Dictionary<string, IReadOnlyList<WiderPrediction>> FromTruth(WiderGroundTruth gt, int seed, Func<Random, WiderBox, WiderBox?> change)
    {
        var rng = new Random(seed);
        var result = new Dictionary<string, IReadOnlyList<WiderPrediction>>(StringComparer.Ordinal);
        foreach (var image in gt.Images)
        {
            var list = new List<WiderPrediction>();
            foreach (var box in image.Boxes)
            {
                double score = rng.NextDouble();
                if (change(rng, box) is { } b)
                {
                    list.Add(new WiderPrediction(b.X, b.Y, b.Width, b.Height, score));
                }
            }

            result[image.Key] = list;
        }

        return result;
    }

    private void Log(string what, WiderEvaluationResult r) =>
        output.WriteLine($"{what}: easy {r.Easy.AveragePrecision:F6}, medium {r.Medium.AveragePrecision:F6}, hard {r.Hard.AveragePrecision:F6} (max recall {r.Easy.Recall[^1]:F4} / {r.Medium.Recall[^1]:F4} / {r.Hard.Recall[^1]:F4})");

    /// <summary>Ground truth with random scores, written in the official layout and scored from the files: AP ≥ 0.999.</summary>
    [SkippableFact]
    public void Ground_truth_as_prediction_files_scores_at_least_0_999_on_every_setting()
    {
        var gt = WiderGroundTruthTests.LoadOfficial();
        var preds = FromTruth(gt, 1, (_, b) => b);
        string dir = Path.Combine(Path.GetTempPath(), "mtcnn-wider-gt-" + Guid.NewGuid().ToString("N"));
        try
        {
            foreach (var image in gt.Images)
            {
                WiderPredictionFiles.Write(WiderPredictionFiles.PathFor(dir, image), image.Name + ".jpg", preds[image.Key]);
            }

            Assert.Equal(61, Directory.GetDirectories(dir).Length);
            var r = WiderEvaluator.Score(dir, SharedData.Require("data/wider"));
            Log("ground truth as predictions (files)", r);
            Assert.Equal(39708, r.PredictionCount);
            Assert.Equal(0, r.ImagesWithoutPredictions);
            foreach (var s in r.Settings)
            {
                Assert.True(s.AveragePrecision >= 0.999, $"{s.Setting} AP {s.AveragePrecision}");
                Assert.True(s.AveragePrecision <= 1.0);
            }

            // Reading back gives exactly what the protocol sees in memory.
            var inMemory = WiderProtocol.Evaluate(gt, preds);
            Assert.Equal(inMemory.Settings.Select(s => s.AveragePrecision), r.Settings.Select(s => s.AveragePrecision));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Keeping each ground-truth box with probability 0.7: precision stays 1, so AP falls to the recall, about 0.7.</summary>
    [SkippableFact]
    public void Thinned_ground_truth_scores_its_recall()
    {
        var gt = WiderGroundTruthTests.LoadOfficial();
        var r = WiderProtocol.Evaluate(gt, FromTruth(gt, 2, (rng, b) => rng.NextDouble() < 0.7 ? b : null));
        Log("70 % of the ground truth", r);
        foreach (var s in r.Settings)
        {
            Assert.InRange(s.Recall[^1], 0.68, 0.72);
            Assert.InRange(s.AveragePrecision, s.Recall[^1] - 0.005, s.Recall[^1] + 1e-12);
        }
    }

    /// <summary>A small jitter (±5 % of the size) keeps every match above IoU 0.5: AP stays near 1.</summary>
    [SkippableFact]
    public void Slightly_jittered_ground_truth_still_scores_near_one()
    {
        var gt = WiderGroundTruthTests.LoadOfficial();
        var r = WiderProtocol.Evaluate(gt, FromTruth(gt, 3, (rng, b) =>
            b with { X = b.X + (rng.NextDouble() * 0.1 - 0.05) * b.Width, Y = b.Y + (rng.NextDouble() * 0.1 - 0.05) * b.Height }));
        Log("ground truth jittered by ±5 %", r);
        foreach (var s in r.Settings)
        {
            Assert.True(s.AveragePrecision >= 0.99, $"{s.Setting} AP {s.AveragePrecision}");
        }
    }

    /// <summary>
    /// Half of the boxes moved sideways by 1.5 box widths: those lose their face, so recall falls to about one half,
    /// and they become false alarms in every setting (even the moved copies of faces a setting does not keep, since
    /// they no longer overlap them). With random scores precision is then flat at about recalled / (recalled + moved),
    /// and AP is about recall times that: lowest for easy, which has the fewest faces against the same alarms.
    /// </summary>
    [SkippableFact]
    public void Strongly_jittered_ground_truth_loses_recall_and_precision()
    {
        var gt = WiderGroundTruthTests.LoadOfficial();
        var r = WiderProtocol.Evaluate(gt, FromTruth(gt, 4, (rng, b) => rng.NextDouble() < 0.5 ? b with { X = b.X + 1.5 * (b.Width + 1) } : b));
        Log("half of the ground truth moved by 1.5 widths", r);
        foreach (var s in r.Settings)
        {
            Assert.InRange(s.Recall[^1], 0.47, 0.53);
            double expected = s.Recall[^1] * s.Precision[^1];
            Assert.InRange(s.AveragePrecision, expected * 0.95, expected * 1.2);
        }

        Assert.True(r.Easy.AveragePrecision < r.Medium.AveragePrecision && r.Medium.AveragePrecision < r.Hard.AveragePrecision);
    }

    /// <summary>False alarms scored below every true prediction leave AP at 1; scored above them, precision is that of the whole set.</summary>
    [SkippableFact]
    public void False_alarms_cost_ap_only_when_they_outscore_the_faces()
    {
        var gt = WiderGroundTruthTests.LoadOfficial();
        Dictionary<string, IReadOnlyList<WiderPrediction>> With(bool alarmsFirst)
        {
            var d = new Dictionary<string, IReadOnlyList<WiderPrediction>>(StringComparer.Ordinal);
            foreach (var image in gt.Images)
            {
                var list = new List<WiderPrediction>();
                foreach (var b in image.Boxes)
                {
                    list.Add(new WiderPrediction(b.X, b.Y, b.Width, b.Height, alarmsFirst ? 0.4 : 0.9));
                    list.Add(new WiderPrediction(-1000 - b.X, -1000, b.Width, b.Height, alarmsFirst ? 0.8 : 0.1));
                }

                d[image.Key] = list;
            }

            return d;
        }

        var low = WiderProtocol.Evaluate(gt, With(alarmsFirst: false));
        var high = WiderProtocol.Evaluate(gt, With(alarmsFirst: true));
        Log("false alarms below the faces", low);
        Log("false alarms above the faces", high);
        foreach (var s in low.Settings)
        {
            Assert.True(s.AveragePrecision >= 0.999);
        }

        foreach (var s in high.Settings)
        {
            // Every face comes after all 39,708 alarms, so the best precision is at full recall:
            // kept faces / (kept faces + alarms), and AP equals it.
            Assert.Equal(s.FaceCount / (s.FaceCount + 39708.0), s.AveragePrecision, 0.001);
        }
    }
}
