using OpenCvSharp;

namespace Mtcnn.Video.Tests;

/// <summary>Drawing tracked faces onto frames.</summary>
public sealed class AnnotatorTests
{
    private static TrackedFace Face(int id, float x, float y) => new(
        id,
        new BoundingBox(x, y, x + 60, y + 80),
        0.987f,
        new FaceLandmarks(new(x + 20, y + 30), new(x + 40, y + 30), new(x + 30, y + 45), new(x + 22, y + 60), new(x + 38, y + 60)),
        Hits: 1,
        Missed: 0);

    [Fact]
    public void Boxes_and_landmarks_are_drawn_in_the_colour_of_the_id_and_nothing_else_changes()
    {
        using var frame = new Mat(900, 1200, MatType.CV_8UC3, Scalar.All(0)); // lines 3 px wide: solid at their centre despite anti-aliasing
        new FrameAnnotator { DrawLabels = false }.Draw(frame, [Face(1, 40, 60), Face(2, 200, 60)]);

        var one = FrameAnnotator.ColorFor(1);
        var two = FrameAnnotator.ColorFor(2);
        Assert.NotEqual(one, two);
        Assert.Equal(Bgr(one), frame.At<Vec3b>(100, 40));   // left edge of box 1
        Assert.Equal(Bgr(two), frame.At<Vec3b>(60, 230));   // top edge of box 2
        Assert.Equal(Bgr(one), frame.At<Vec3b>(105, 70));   // nose of face 1
        Assert.Equal(new Vec3b(0, 0, 0), frame.At<Vec3b>(20, 160)); // far from both
        Assert.Equal(new Vec3b(0, 0, 0), frame.At<Vec3b>(100, 55));  // inside box 1, away from its landmarks
    }

    [Fact]
    public void Labels_are_drawn_above_the_box_and_ids_cycle_through_the_palette()
    {
        using var plain = new Mat(240, 320, MatType.CV_8UC3, Scalar.All(0));
        using var labelled = plain.Clone();
        new FrameAnnotator { DrawLabels = false, DrawLandmarks = false }.Draw(plain, [Face(3, 100, 100)]);
        new FrameAnnotator { DrawLandmarks = false }.Draw(labelled, [Face(3, 100, 100)]);

        using var diff = new Mat();
        Cv2.Absdiff(plain, labelled, diff);
        var changed = Cv2.BoundingRect(diff.CvtColor(ColorConversionCodes.BGR2GRAY));
        Assert.True(changed.Height > 0 && changed.Bottom <= 100, $"label area {changed}");
        Assert.Equal(FrameAnnotator.ColorFor(1), FrameAnnotator.ColorFor(9));
    }

    private static Vec3b Bgr(Scalar s) => new((byte)s.Val0, (byte)s.Val1, (byte)s.Val2);
}
