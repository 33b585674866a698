using Mtcnn.Cascade;
using Mtcnn.Inference;
using Mtcnn.Tests.Inference;
using Xunit.Abstractions;

namespace Mtcnn.Tests.ReferenceProject;

/// <summary>
/// The whole cascade with the imported reference weights on reference_mid.png (min face 12, thresholds 0.6/0.7/0.7,
/// factor 0.709) against the reference project's own detector output (reference_project_mid_min12.json). The project
/// runs its corrected cascade, so the outputs are close but not identical; the issue asks for at least 90 % of the
/// reference faces at IoU &gt;= 0.7.
/// </summary>
public sealed class ReferenceCascadeTests(ITestOutputHelper output)
{
    /// <summary>
    /// O-Net input boxes of the reference run, recovered by searching square pixel boxes near each final face for the
    /// one whose O-Net regression reproduces its <c>onet_boxes</c> row to 1e-5 (24 of the 32 faces; the others touch
    /// the border, where the reference clips boxes in place, or were not square after rounding). Index into
    /// <c>onet_boxes</c>, then x1, y1 (0-based) and side; the box is <c>x1 .. x1 + side - 1</c>.
    /// </summary>
    private static readonly (int Face, int X1, int Y1, int Side)[] ONetInputs =
    [
        (0, 384, 263, 18), (1, 367, 286, 16), (2, 493, 275, 14), (3, 153, 225, 14), (4, 144, 265, 19), (7, 270, 263, 17),
        (8, 344, 172, 13), (9, 97, 174, 13), (11, 212, 259, 15), (12, 358, 68, 10), (13, 93, 278, 14), (14, 536, 285, 14),
        (16, 279, 180, 15), (17, 449, 219, 15), (18, 60, 292, 19), (19, 247, 252, 14), (20, 166, 188, 11), (21, 30, 252, 18),
        (23, 428, 219, 14), (24, 123, 190, 15), (26, 123, 289, 18), (27, 30, 216, 14), (29, 307, 12, 9), (30, 176, 242, 15),
    ];

    private static (double[][] Boxes, double[][] Landmarks) Reference()
    {
        using var doc = ReferenceProjectData.MidMin12();
        var root = doc.RootElement;
        return (root.GetProperty("onet_boxes").EnumerateArray().Select(ReferenceProjectData.Flatten).ToArray(),
                root.GetProperty("onet_landmarks").EnumerateArray().Select(ReferenceProjectData.Flatten).ToArray());
    }

    /// <summary>
    /// How the reference decodes O-Net: on the square pixel box <c>x1 .. x2</c> (w = x2 - x1 + 1) cropped from column
    /// x1, the box becomes <c>x1 + dx1 * w</c>, ... and landmark k <c>(x1 + w * p[2k], y1 + w * p[2k + 1])</c>.
    /// </summary>
    [SkippableFact]
    public void ONet_decoding_on_the_recovered_input_boxes_reproduces_the_reference_faces()
    {
        var (boxes, landmarks) = Reference();
        var image = ReferenceProjectData.MidImage();
        var nets = new Networks(ReferenceProjectData.Weights, Simd.Best);
        var r = new BilinearResampler();
        r.Build(image.Pixels.Span, image.Width, image.Height, image.Stride, image.Format, bgr: true);
        double maxBox = 0, maxLandmark = 0, maxScore = 0;
        foreach (var (face, x1, y1, side) in ONetInputs)
        {
            var input = new float[48 * 48 * 3];
            r.Resample(x1, y1, side, side, 48, 48, 0, 48, 0f, 1f / 255f, input, new int[r.ScratchInts(48)]);
            var o = GoldenVectorTests.RunCrop(nets.O, input);
            double[] box = [x1 + (o[1] * side), y1 + (o[2] * side), x1 + side - 1 + (o[3] * side), y1 + side - 1 + (o[4] * side)];
            for (int i = 0; i < 4; i++)
            {
                maxBox = Math.Max(maxBox, Math.Abs(box[i] - boxes[face][i]));
            }

            maxScore = Math.Max(maxScore, Math.Abs((1 / (1 + Math.Exp(-o[0]))) - boxes[face][4]));
            for (int k = 0; k < 5; k++)
            {
                maxLandmark = Math.Max(maxLandmark, Math.Abs(x1 + (side * o[5 + (2 * k)]) - landmarks[face][2 * k]));
                maxLandmark = Math.Max(maxLandmark, Math.Abs(y1 + (side * o[6 + (2 * k)]) - landmarks[face][(2 * k) + 1]));
            }
        }

        output.WriteLine($"{ONetInputs.Length} faces: max |box diff| {maxBox:E2} px, max |landmark diff| {maxLandmark:E2} px, max |score diff| {maxScore:E2}");
        Assert.True(maxBox <= 1e-3, $"box {maxBox}");
        Assert.True(maxLandmark <= 1e-3, $"landmarks {maxLandmark}");
        Assert.True(maxScore <= 1e-4, $"score {maxScore}");
    }

    [SkippableTheory]
    [InlineData(CropBorder.ZeroPad)]
    [InlineData(CropBorder.Clip)]
    public void The_corrected_cascade_finds_at_least_90_percent_of_the_reference_faces(CropBorder border)
    {
        var (boxes, landmarks) = Reference();
        var image = ReferenceProjectData.MidImage();
        var options = new DetectorOptions { MinFaceSize = 12, PNetThreshold = 0.6f, RNetThreshold = 0.7f, ONetThreshold = 0.7f, CropBorder = border };
        var detector = new FaceDetector(options, ReferenceProjectData.Weights);

        var result = detector.Detect(image);

        // One-to-one: each reference face takes the best unused detection.
        var used = new bool[result.Faces.Count];
        int found = 0;
        double iouSum = 0, landmarkSum = 0, landmarkMax = 0, scoreMax = 0;
        for (int k = 0; k < boxes.Length; k++)
        {
            var rb = new BoundingBox((float)boxes[k][0], (float)boxes[k][1], (float)boxes[k][2], (float)boxes[k][3]);
            int best = -1;
            float bestIou = 0;
            for (int i = 0; i < result.Faces.Count; i++)
            {
                float iou = rb.IntersectionOverUnion(result.Faces[i].Box);
                if (!used[i] && iou > bestIou)
                {
                    (best, bestIou) = (i, iou);
                }
            }

            if (best < 0 || bestIou < 0.7f)
            {
                output.WriteLine($"reference face {k} [{string.Join(", ", boxes[k].Take(4).Select(v => v.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))}] not found (best IoU {bestIou:F3})");
                continue;
            }

            used[best] = true;
            found++;
            iouSum += bestIou;
            var f = result.Faces[best];
            scoreMax = Math.Max(scoreMax, Math.Abs(f.Score - boxes[k][4]));
            for (int j = 0; j < 5; j++)
            {
                double d = Math.Sqrt(Math.Pow(f.Landmarks[j].X - landmarks[k][2 * j], 2) + Math.Pow(f.Landmarks[j].Y - landmarks[k][(2 * j) + 1], 2));
                landmarkSum += d;
                landmarkMax = Math.Max(landmarkMax, d);
            }
        }

        double meanLandmark = landmarkSum / Math.Max(1, found * 5);
        output.WriteLine($"{border}: {found}/{boxes.Length} reference faces at IoU >= 0.7 ({100.0 * found / boxes.Length:F1} %), mean IoU {iouSum / Math.Max(1, found):F3}; "
            + $"{result.Faces.Count} faces detected; landmarks mean {meanLandmark:F3} px, max {landmarkMax:F3} px; max score diff {scoreMax:F4}; "
            + $"candidates after P-Net {result.Timings.PNetCount} (reference 1813 before regression), after R-Net {result.Timings.RNetCount} (reference 65)");
        Assert.True(found >= Math.Ceiling(0.9 * boxes.Length), $"found {found} of {boxes.Length}");
        Assert.True(meanLandmark <= 0.5, $"mean landmark distance {meanLandmark} px");
    }
}
