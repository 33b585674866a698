using Mtcnn.Evaluation.Fddb;

namespace Mtcnn.Evaluation.Tests;

/// <summary>FDDB rasterisation, matching and ROC on synthetic ellipses and boxes whose results are counted by hand.</summary>
public sealed class FddbProtocolTests
{
    // Pixel (i, j) belongs to a region when its centre (i + 0.5, j + 0.5) does.
    private static readonly FddbEllipse Dot = new(0.8, 0.8, 0, 5.5, 5.5);     // 1 pixel: (5, 5)
    private static readonly FddbEllipse Plus = new(1.2, 1.2, 0, 5.5, 5.5);    // 5 pixels: (5,5) and its 4 neighbours
    private static readonly FddbEllipse Bar = new(2.5, 0.7, 0, 5.5, 5.5);     // 5 pixels: (3..7, 5)

    private static double Iou(FddbEllipse e, FddbDetection d, (int W, int H)? size = null) =>
        RegionRaster.IntersectionOverUnion(RegionRaster.Ellipse(e, size?.W, size?.H), RegionRaster.Rectangle(d, size?.W, size?.H));

    private static FddbDetection Rect(double x, double y, double w, double h, double score = 1) => new(x, y, w, h, score);

    [Fact]
    public void Rasterised_areas_are_counted_by_pixel_centres()
    {
        Assert.Equal(1, RegionRaster.Ellipse(Dot, null, null).Area);
        Assert.Equal(5, RegionRaster.Ellipse(Plus, null, null).Area);
        Assert.Equal(5, RegionRaster.Ellipse(Bar, null, null).Area);
        Assert.Equal(5, RegionRaster.Ellipse(Bar with { Angle = Math.PI / 2 }, null, null).Area);
        Assert.Equal(12, RegionRaster.Rectangle(Rect(2, 3, 4, 3), null, null).Area);
        Assert.Equal(12, RegionRaster.Rectangle(Rect(2.4, 3.4, 4, 3), null, null).Area); // centres 2.5..5.5 and 3.5..5.5
        Assert.Equal(0, RegionRaster.Rectangle(Rect(2, 3, 0, 3), null, null).Area);
        Assert.Equal(0, RegionRaster.Ellipse(Dot with { MinorRadius = 0 }, null, null).Area);
    }

    [Fact]
    public void Overlaps_of_ellipses_and_rectangles_match_hand_counts()
    {
        Assert.Equal(1.0, Iou(Dot, Rect(5, 5, 1, 1)));
        Assert.Equal(5.0 / 9.0, Iou(Plus, Rect(4, 4, 3, 3)), 1e-15);
        Assert.Equal(1.0 / 5.0, Iou(Plus, Rect(5, 5, 1, 1)), 1e-15);
        Assert.Equal(1.0, Iou(Bar, Rect(3, 5, 5, 1)));
        Assert.Equal(1.0 / 9.0, Iou(Bar with { Angle = Math.PI / 2 }, Rect(3, 5, 5, 1)), 1e-15); // vertical bar crosses it in one pixel

        // A thin ellipse along the down-right diagonal covers (4,4), (5,5), (6,6).
        var diagonal = new FddbEllipse(2.0, 0.3, Math.PI / 4, 5.5, 5.5);
        Assert.Equal(3, RegionRaster.Ellipse(diagonal, null, null).Area);
        Assert.Equal(1.0 / 3.0, Iou(diagonal, Rect(4, 4, 3, 3)), 1e-15);
        Assert.Equal(1.0 / 5.0, Iou(diagonal, Rect(6, 4, 1, 3)), 1e-15); // column 6 shares only (6,6): 1 / (3 + 3 - 1)
    }

    [Fact]
    public void Regions_are_clipped_to_the_image()
    {
        // Plus centred on pixel (0,0): inside a 10x10 image only (0,0), (1,0), (0,1) remain.
        var corner = Plus with { CenterX = 0.5, CenterY = 0.5 };
        Assert.Equal(3, RegionRaster.Ellipse(corner, 10, 10).Area);
        Assert.Equal(0.75, Iou(corner, Rect(0, 0, 2, 2), (10, 10)), 1e-15); // 3 / (3 + 4 - 3)
        Assert.Equal(0.5, Iou(corner, Rect(0, 0, 2, 2)), 1e-15);           // unclipped: 3 / (5 + 4 - 3)
    }

    [Fact]
    public void Hungarian_finds_the_best_total_not_the_greedy_one()
    {
        // Greedy would pair row 0 with column 0 (0.6) and leave row 1 with 0: total 0.6. The best total is 1.13.
        double[,] w = { { 0.6, 0.55 }, { 0.58, 0 } };
        Assert.Equal([1, 0], Hungarian.MaximumWeightAssignment(w));

        // More rows than columns: one row stays unpaired.
        double[,] tall = { { 0.1 }, { 0.9 }, { 0.5 } };
        Assert.Equal([-1, 0, -1], Hungarian.MaximumWeightAssignment(tall));
        Assert.Empty(Hungarian.MaximumWeightAssignment(new double[0, 3]));
    }

    [Fact]
    public void Hungarian_agrees_with_brute_force_on_random_matrices()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 300; trial++)
        {
            int rows = rng.Next(1, 6);
            int cols = rng.Next(1, 6);
            var w = new double[rows, cols];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    w[r, c] = rng.Next(4) == 0 ? 0 : Math.Round(rng.NextDouble(), 2);
                }
            }

            int[] a = Hungarian.MaximumWeightAssignment(w);
            Assert.Equal(a.Where(c => c >= 0).Count(), a.Where(c => c >= 0).Distinct().Count());
            Assert.Equal(Math.Min(rows, cols), a.Count(c => c >= 0));
            double total = a.Select((c, r) => c >= 0 ? w[r, c] : 0).Sum();
            Assert.Equal(BruteForce(w, 0, new bool[cols]), total, 1e-9);
        }
    }

    private static double BruteForce(double[,] w, int row, bool[] used)
    {
        if (row == w.GetLength(0))
        {
            return 0;
        }

        double best = BruteForce(w, row + 1, used); // leave this row unpaired
        for (int c = 0; c < used.Length; c++)
        {
            if (!used[c])
            {
                used[c] = true;
                best = Math.Max(best, w[row, c] + BruteForce(w, row + 1, used));
                used[c] = false;
            }
        }

        return best;
    }

    /// <summary>
    /// Two images, three faces. Image a: Plus at (5.5,5.5) and Plus at (20.5,5.5); detections d1 = 3x3 box on the
    /// first (IoU 5/9, score 0.9), d2 far away (0.8), d3 = 1x1 box on the second's centre (IoU 1/5, 0.7).
    /// Image b: Dot with d4 = its pixel (IoU 1, 0.8).
    /// Threshold 0.9: {d1}: 1 hit, 0 FP; continuous 5/9.
    /// Threshold 0.8: {d1, d2, d4}: 2 hits, 1 FP; continuous 5/9 + 1.
    /// Threshold 0.7: all: 2 hits, 2 FP (d3 is paired but at 1/5 is no hit); continuous 5/9 + 1 + 1/5.
    /// </summary>
    [Fact]
    public void Roc_of_a_hand_made_case()
    {
        FddbImage[] images =
        [
            new("a", [Plus, Plus with { CenterX = 20.5 }]),
            new("b", [Dot]),
        ];
        var dets = new Dictionary<string, IReadOnlyList<FddbDetection>>
        {
            ["a"] = [Rect(4, 4, 3, 3, 0.9), Rect(30, 30, 3, 3, 0.8), Rect(20, 5, 1, 1, 0.7)],
            ["b"] = [Rect(5, 5, 1, 1, 0.8)],
        };
        var r = FddbProtocol.Evaluate(images, dets);
        Assert.Equal(3, r.FaceCount);
        Assert.Equal(4, r.DetectionCount);
        Assert.Equal([0.9, 0.8, 0.7], r.Discrete.Select(p => p.Threshold));
        Assert.Equal([0, 1, 2], r.Discrete.Select(p => p.FalsePositives));
        Assert.Equal([1.0 / 3, 2.0 / 3, 2.0 / 3], r.Discrete.Select(p => p.TruePositiveRate));
        Assert.Equal([0, 1, 2], r.Continuous.Select(p => p.FalsePositives));
        double[] cont = [5.0 / 27, (5.0 / 9 + 1) / 3, (5.0 / 9 + 1 + 0.2) / 3];
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(cont[i], r.Continuous[i].TruePositiveRate, 1e-12);
        }

        Assert.Equal(1.0 / 3, r.TruePositiveRateAt(0));
        Assert.Equal(2.0 / 3, r.TruePositiveRateAt(1));
        Assert.Equal(2.0 / 3, r.DiscreteTruePositiveRateAt1000);
        Assert.Equal(cont[2], r.ContinuousTruePositiveRateAt1000, 1e-12);
        Assert.Equal(0, r.ImagesWithoutDetections);
    }

    /// <summary>
    /// The pairing is redone at every threshold: a high-scoring poor box first takes the face (a false positive at
    /// 0.9), then loses it to a better box at 0.5, which becomes the hit.
    /// </summary>
    [Fact]
    public void Matching_is_redone_at_each_threshold()
    {
        FddbImage[] images = [new("a", [Plus])];
        var dets = new Dictionary<string, IReadOnlyList<FddbDetection>> { ["a"] = [Rect(5, 5, 1, 1, 0.9), Rect(4, 4, 3, 3, 0.5)] };
        var r = FddbProtocol.Evaluate(images, dets);
        Assert.Equal([(0.9, 1, 0.0), (0.5, 1, 1.0)], r.Discrete.Select(p => (p.Threshold, p.FalsePositives, p.TruePositiveRate)));
        Assert.Equal(5.0 / 9.0, r.Continuous[1].TruePositiveRate, 1e-15); // the pair (box, face) at 5/9; the 1x1 box is unpaired
        Assert.Equal(0.2, r.Continuous[0].TruePositiveRate, 1e-15);
    }

    [Fact]
    public void Equal_scores_enter_together_and_missing_images_count_as_no_detections()
    {
        FddbImage[] images = [new("a", [Dot]), new("b", [Dot]), new("c", [Dot])];
        var dets = new Dictionary<string, IReadOnlyList<FddbDetection>>
        {
            ["a"] = [Rect(5, 5, 1, 1, 0.5)],
            ["b"] = [Rect(50, 5, 1, 1, 0.5)],
            ["unknown"] = [Rect(5, 5, 1, 1, 0.9)],
        };
        var r = FddbProtocol.Evaluate(images, dets);
        var only = Assert.Single(r.Discrete);
        Assert.Equal((0.5, 1, 1.0 / 3), (only.Threshold, only.FalsePositives, only.TruePositiveRate));
        Assert.Equal(1, r.ImagesWithoutDetections);
        Assert.Equal(2, r.DetectionCount);
    }
}
