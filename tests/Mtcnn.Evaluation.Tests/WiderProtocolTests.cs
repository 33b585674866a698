using Mtcnn.Evaluation.Wider;

namespace Mtcnn.Evaluation.Tests;

/// <summary>Tiny hand-made cases whose AP is worked out by hand; every expected value is exact.</summary>
public sealed class WiderProtocolTests
{
    private static WiderImage Image(string name, WiderBox[] boxes, int[] easy, int[] medium, int[] hard) =>
        new("0--Test", name, boxes, easy, medium, hard);

    private static Dictionary<string, IReadOnlyList<WiderPrediction>> Preds(params (string Name, WiderPrediction[] P)[] items) =>
        items.ToDictionary(i => "0--Test/" + i.Name, i => (IReadOnlyList<WiderPrediction>)i.P);

    private static WiderPrediction P(WiderBox b, double score) => new(b.X, b.Y, b.Width, b.Height, score);

    private static readonly WiderBox A = new(10, 10, 19, 19);
    private static readonly WiderBox B = new(100, 10, 19, 19);
    private static readonly WiderBox C = new(200, 10, 19, 19);
    private static readonly WiderBox Nowhere = new(500, 500, 19, 19);

    [Fact]
    public void Hit_false_alarm_hit_gives_five_sixths()
    {
        // Two kept faces. Normalised scores 1, 0.5, 0: prefix sizes 1 (thresholds 0.999..0.501), 2 (0.5..0.001), 3 (0).
        // PR points: (P 1, R 0.5), (P 1/2, R 0.5), (P 2/3, R 1). Running max from the right: 1, 2/3, 2/3.
        // AP = 0.5 * 1 + 0.5 * 2/3 = 5/6.
        var gt = new WiderGroundTruth([Image("a", [A, B], [0, 1], [0, 1], [0, 1])]);
        var r = WiderProtocol.Evaluate(gt, Preds(("a", [P(A, 1.0), P(Nowhere, 0.5), P(B, 0.0)])));
        foreach (var s in r.Settings)
        {
            Assert.Equal(5.0 / 6.0, s.AveragePrecision, 1e-15);
            Assert.Equal(2, s.FaceCount);
            Assert.Equal(1.0, s.Precision[0]);
            Assert.Equal(0.5, s.Recall[0]);
            Assert.Equal(0.5, s.Precision[499]); // threshold 0.5: the false alarm is in
            Assert.Equal(2.0 / 3.0, s.Precision[999]);
            Assert.Equal(1.0, s.Recall[999]);
        }
    }

    [Fact]
    public void Unsorted_input_is_sorted_by_score_first()
    {
        var gt = new WiderGroundTruth([Image("a", [A, B], [0, 1], [0, 1], [0, 1])]);
        var r = WiderProtocol.Evaluate(gt, Preds(("a", [P(B, 0.0), P(Nowhere, 0.5), P(A, 1.0)])));
        Assert.Equal(5.0 / 6.0, r.Hard.AveragePrecision, 1e-15);
    }

    [Fact]
    public void A_duplicate_of_a_recalled_face_is_a_false_alarm()
    {
        // Faces A, B. Predictions A (1.0), A shifted by one pixel (0.5, IoU 0.905 with A), B (0.0).
        // Points: (P 1, R 1/2), (P 1/2, R 1/2), (P 2/3, R 1) -> AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
        var gt = new WiderGroundTruth([Image("a", [A, B], [0, 1], [0, 1], [0, 1])]);
        var shifted = new WiderBox(A.X + 1, A.Y, A.Width, A.Height);
        var r = WiderProtocol.Evaluate(gt, Preds(("a", [P(A, 1.0), P(shifted, 0.5), P(B, 0.0)])));
        Assert.Equal(5.0 / 6.0, r.Easy.AveragePrecision, 1e-15);
    }

    [Fact]
    public void A_match_with_a_face_not_kept_in_the_setting_is_ignored()
    {
        // Faces A, B; easy keeps A only, medium and hard keep both. Predictions B (1.0), A (0.5), nowhere (0.0).
        // Easy: B is ignored; points (thr > 0.5: no proposals -> P 0, R 0), (P 1, R 1), (P 1/2, R 1) -> AP 1.
        // Hard: (P 1, R 1/2), (P 1, R 1), (P 2/3, R 1) -> AP 1.
        var gt = new WiderGroundTruth([Image("a", [A, B], [0], [0, 1], [0, 1])]);
        var r = WiderProtocol.Evaluate(gt, Preds(("a", [P(B, 1.0), P(A, 0.5), P(Nowhere, 0.0)])));
        Assert.Equal(1.0, r.Easy.AveragePrecision, 1e-15);
        Assert.Equal(1, r.Easy.FaceCount);
        Assert.Equal(0.0, r.Easy.Precision[0]); // only the ignored prediction is above 0.5: no proposals
        Assert.Equal(0.0, r.Easy.Recall[0]);
        Assert.Equal(1.0, r.Hard.AveragePrecision, 1e-15);

        // Now the false alarm comes first: nowhere (1.0), B (0.5), A (0.0).
        // Easy: (P 0, R 0), (B ignored: still P 0, R 0), (P 1/2, R 1) -> AP = 1 * 1/2 = 0.5.
        // Hard: (P 0, R 0), (P 1/2, R 1/2), (P 2/3, R 1) -> running max 2/3, 2/3, 2/3 -> AP = 2/3.
        var r2 = WiderProtocol.Evaluate(gt, Preds(("a", [P(Nowhere, 1.0), P(B, 0.5), P(A, 0.0)])));
        Assert.Equal(0.5, r2.Easy.AveragePrecision, 1e-15);
        Assert.Equal(2.0 / 3.0, r2.Hard.AveragePrecision, 1e-15);
    }

    [Fact]
    public void Iou_uses_the_plus_one_pixel_convention()
    {
        // Box 0,0 w 9 h 9 covers 10x10 pixels. Prediction 0,0 w 9 h 4 covers 10x5: IoU 50/100 = 0.5 -> match.
        // Without +1 it would be 36/81 < 0.5.
        var g = new WiderBox(0, 0, 9, 9);
        Assert.Equal(0.5, WiderProtocol.IntersectionOverUnion(g, new WiderBox(0, 0, 9, 4)), 1e-15);
        Assert.Equal(1.0 / 3.0, WiderProtocol.IntersectionOverUnion(g, new WiderBox(5, 0, 9, 9)), 1e-15);
        Assert.Equal(0.0, WiderProtocol.IntersectionOverUnion(g, new WiderBox(10, 0, 9, 9)));
        Assert.Equal(1.0 / 199.0, WiderProtocol.IntersectionOverUnion(g, new WiderBox(9, 9, 9, 9)), 1e-15);

        var gt = new WiderGroundTruth([Image("a", [g], [0], [0], [0])]);
        Assert.Equal(1.0, WiderProtocol.Evaluate(gt, Preds(("a", [P(new WiderBox(0, 0, 9, 4), 0.9)]))).Hard.AveragePrecision);
        Assert.Equal(0.0, WiderProtocol.Evaluate(gt, Preds(("a", [P(new WiderBox(0, 0, 9, 3), 0.9)]))).Hard.AveragePrecision);
    }

    [Fact]
    public void Best_iou_box_is_chosen_and_ties_go_to_the_first_box()
    {
        // Two identical kept boxes: both predictions pick box 0; the second is a duplicate false alarm.
        // Points: (1, 1/2), (1/2, 1/2) -> AP = 1/2 * 1 = 0.5.
        var gt = new WiderGroundTruth([Image("a", [A, A], [0, 1], [0, 1], [0, 1])]);
        var r = WiderProtocol.Evaluate(gt, Preds(("a", [P(A, 1.0), P(A, 0.0)])));
        Assert.Equal(0.5, r.Hard.AveragePrecision, 1e-15);
    }

    [Fact]
    public void Scores_are_normalised_globally_and_all_equal_scores_do_not_give_nan()
    {
        // Two images. Raw scores 10 (hit in a), 6 (false alarm in b), 2 (hit in b): normalised 1, 0.5, 0 across images.
        // Kept faces: a has A, b has B. Points: (1, 1/2), (1/2, 1/2), (2/3, 1) -> 5/6 as in the first case.
        var gt = new WiderGroundTruth([Image("a", [A], [0], [0], [0]), Image("b", [B], [0], [0], [0])]);
        var r = WiderProtocol.Evaluate(gt, Preds(("a", [P(A, 10)]), ("b", [P(Nowhere, 6), P(B, 2)])));
        Assert.Equal(5.0 / 6.0, r.Hard.AveragePrecision, 1e-15);
        Assert.Equal(2, r.MinScore);
        Assert.Equal(10, r.MaxScore);

        // All equal: every normalised score is 1, so everything is in at every threshold: P 2/3, R 1 -> AP 2/3.
        var same = WiderProtocol.Evaluate(gt, Preds(("a", [P(A, 0.7)]), ("b", [P(Nowhere, 0.7), P(B, 0.7)])));
        Assert.Equal(2.0 / 3.0, same.Hard.AveragePrecision, 1e-15);
        Assert.DoesNotContain(same.Hard.Precision, double.IsNaN);
    }

    [Fact]
    public void Missing_predictions_lower_recall_and_are_counted()
    {
        // Faces A (image a) and B (image b); only a has a prediction: P 1, R 1/2 -> AP 0.5.
        var gt = new WiderGroundTruth([Image("a", [A], [0], [0], [0]), Image("b", [B], [0], [0], [0])]);
        var r = WiderProtocol.Evaluate(gt, Preds(("a", [P(A, 0.3)])));
        Assert.Equal(0.5, r.Hard.AveragePrecision, 1e-15);
        Assert.Equal(1, r.ImagesWithoutPredictions);
        Assert.Equal(0.0, WiderProtocol.Evaluate(gt, Preds()).Hard.AveragePrecision);
    }

    [Fact]
    public void Three_settings_differ_by_their_keep_lists()
    {
        // Faces A, B, C; easy keeps A, medium A+B, hard all. Predictions A (1.0), C (0.5), B (0.0).
        // Easy: (1, 1), (C ignored -> still 1, 1), (B ignored -> 1, 1) -> AP 1.
        // Medium: (1, 1/2), (C ignored), (B: 1, 1) -> AP 1.
        // Hard: (1, 1/3), (1, 2/3), (1, 1) -> AP 1. Then a false alarm at 0.75 (normalised 0.75):
        // hard points: thr > .75: (1, 1/3); .75..>.5: (1/2, 1/3); .5..>0: (2/3, 2/3); 0: (3/4, 1) -> running max 1, 3/4, 3/4, 3/4
        // AP_hard = 1/3 * 1 + 1/3 * 3/4 + 1/3 * 3/4 = 5/6; medium: (1, 1/2), (1/2, 1/2), (1/2, 1/2), (2/3, 1) -> 1/2 + 1/2 * 2/3 = 5/6;
        // easy: (1, 1), (1/2, 1), ... -> 1.
        var gt = new WiderGroundTruth([Image("a", [A, B, C], [0], [0, 1], [0, 1, 2])]);
        var r = WiderProtocol.Evaluate(gt, Preds(("a", [P(A, 1.0), P(Nowhere, 0.75), P(C, 0.5), P(B, 0.0)])));
        Assert.Equal(1.0, r.Easy.AveragePrecision, 1e-15);
        Assert.Equal(5.0 / 6.0, r.Medium.AveragePrecision, 1e-15);
        Assert.Equal(5.0 / 6.0, r.Hard.AveragePrecision, 1e-15);
        Assert.Equal([1, 2, 3], r.Settings.Select(s => s.FaceCount));
    }

    [Fact]
    public void Predictions_on_an_image_without_boxes_are_not_false_alarms()
    {
        var gt = new WiderGroundTruth([Image("a", [A], [0], [0], [0]), Image("empty", [], [], [], [])]);
        var r = WiderProtocol.Evaluate(gt, Preds(("a", [P(A, 0.2)]), ("empty", [P(B, 0.9)])));
        Assert.Equal(1.0, r.Hard.AveragePrecision, 1e-15);
    }

    [Fact]
    public void Voc_ap_of_a_plain_curve()
    {
        // Recall steps 0 -> .25 at P 1, .25 -> .75 at P max(.5, .6) = .6, .75 -> .75 (no step), close to 1 at P 0.
        Assert.Equal(0.25 + 0.5 * 0.6, WiderProtocol.VocAveragePrecision([0.25, 0.5, 0.75, 0.75], [1.0, 0.5, 0.6, 0.4]), 1e-15);
        Assert.Throws<ArgumentException>(() => WiderProtocol.VocAveragePrecision([0.1], [0.1, 0.2]));
    }
}
