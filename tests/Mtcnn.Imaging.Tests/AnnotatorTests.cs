using SkiaSharp;
using static Mtcnn.Imaging.Tests.Fixtures;

namespace Mtcnn.Imaging.Tests;

public sealed class AnnotatorTests
{
    private static ImageData Plain(int width, int height)
    {
        using var bitmap = Bitmap(width, height, (x, y) => new SKColor((byte)(80 + (x % 20)), (byte)(100 + (y % 20)), 110));
        return bitmap.ToImageData();
    }

    private static Face SampleFace() => new(
        new BoundingBox(100, 120, 220, 260),
        0.99812f,
        new FaceLandmarks(new(130, 170), new(190, 170), new(160, 200), new(135, 230), new(185, 230)));

    private static int ChangedPixels(ImageData before, ImageData after, int x1, int y1, int x2, int y2)
    {
        int n = 0;
        for (int y = Math.Max(0, y1); y < Math.Min(before.Height, y2); y++)
        {
            for (int x = Math.Max(0, x1); x < Math.Min(before.Width, x2); x++)
            {
                if (Rgb(before, x, y) != Rgb(after, x, y))
                {
                    n++;
                }
            }
        }

        return n;
    }

    private static bool Changed(ImageData before, ImageData after, int x, int y) => Rgb(before, x, y) != Rgb(after, x, y);

    [Fact]
    public void Text_renders_with_the_installed_fonts()
    {
        Assert.True(new FaceAnnotator().CanDrawText, "no typeface with digits found: is the fontconfig flavour of SkiaSharp in use and DejaVu installed?");
    }

    [Fact]
    public void Faces_are_drawn_inside_the_box_and_nothing_changes_far_outside()
    {
        ImageData image = Plain(400, 360);
        Face face = SampleFace();
        using AnnotatedImage annotated = new FaceAnnotator().Annotate(image, [face]);
        Assert.Equal((400, 360), (annotated.Width, annotated.Height));
        ImageData after = annotated.ToImageData();

        Assert.True(ChangedPixels(image, after, 100, 120, 221, 261) > 300, "the box region should change");

        // Far outside box and label (the label sits just above the box): bit-identical.
        Assert.Equal(0, ChangedPixels(image, after, 0, 0, 400, 80));
        Assert.Equal(0, ChangedPixels(image, after, 0, 300, 400, 360));
        Assert.Equal(0, ChangedPixels(image, after, 0, 0, 60, 360));
        Assert.Equal(0, ChangedPixels(image, after, 260, 0, 400, 360));

        // Box edges drawn in the box colour; each landmark's centre in its own colour.
        var options = AnnotationOptions.Default;
        AssertNear(Rgb(after, 160, 120), options.BoxColor, 0, "top edge");
        AssertNear(Rgb(after, 100, 200), options.BoxColor, 0, "left edge");
        for (int i = 0; i < FaceLandmarks.Count; i++)
        {
            Point2F p = face.Landmarks[i];
            AssertNear(Rgb(after, (int)p.X, (int)p.Y), options.LandmarkColors[i], 0, $"landmark {i}");
        }

        Assert.Equal(5, options.LandmarkColors.Distinct().Count());
    }

    [Fact]
    public void Score_label_is_drawn_above_the_box()
    {
        ImageData image = Plain(400, 360);
        using AnnotatedImage withText = new FaceAnnotator().Annotate(image, [SampleFace()]);
        using AnnotatedImage withoutText = new FaceAnnotator(new AnnotationOptions { DrawScores = false }).Annotate(image, [SampleFace()]);
        ImageData a = withText.ToImageData();
        ImageData b = withoutText.ToImageData();

        // Only the label differs, and it lies in a strip above the top edge.
        Assert.True(ChangedPixels(b, a, 95, 90, 200, 120) > 20, "the label strip should hold text");
        Assert.Equal(0, ChangedPixels(b, a, 0, 125, 400, 360));
        Assert.True(ChangedPixels(b, a, 95, 90, 200, 120) > ChangedPixels(image, b, 95, 90, 200, 118));
    }

    [Fact]
    public void Without_a_typeface_boxes_and_landmarks_are_still_drawn()
    {
        ImageData image = Plain(400, 360);
        var annotator = new FaceAnnotator(null, resolveTypeface: false);
        Assert.False(annotator.CanDrawText);
        using AnnotatedImage annotated = annotator.Annotate(image, [SampleFace()]);
        ImageData after = annotated.ToImageData();
        AssertNear(Rgb(after, 160, 120), AnnotationOptions.Default.BoxColor, 0, "top edge");
        Assert.Equal(0, ChangedPixels(image, after, 0, 0, 400, 115));
    }

    [Fact]
    public void Candidates_are_drawn_as_boxes_with_scores()
    {
        ImageData image = Plain(300, 300);
        Candidate[] candidates = [new(new BoundingBox(40, 60, 100, 120), 0.61f), new(new BoundingBox(150, 150, 250, 260), 0.93f)];
        using AnnotatedImage annotated = new FaceAnnotator().Annotate(image, candidates);
        ImageData after = annotated.ToImageData();
        Assert.True(Changed(image, after, 70, 60));
        Assert.True(Changed(image, after, 200, 260));
        Assert.False(Changed(image, after, 70, 90));   // inside a candidate box: no landmarks, nothing filled
        Assert.Equal(0, ChangedPixels(image, after, 0, 280, 300, 300));
    }

    [Fact]
    public void Detection_result_draws_the_last_stage()
    {
        ImageData image = Plain(300, 300);
        var timings = new DetectionTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 1, 0, 0);
        Candidate[] pnet = [new(new BoundingBox(40, 60, 100, 120), 0.7f)];
        var result = new DetectionResult(300, 300, [], pnet, [], CascadeStage.PNet, timings);
        using AnnotatedImage fromResult = new FaceAnnotator().Annotate(image, result);
        using AnnotatedImage fromCandidates = new FaceAnnotator().Annotate(image, pnet);
        Assert.Equal(fromCandidates.ToImageData().Pixels.ToArray(), fromResult.ToImageData().Pixels.ToArray());
    }

    [Fact]
    public void Line_width_scales_with_the_image()
    {
        Candidate[] box = [new(new BoundingBox(100, 100, 200, 200), 0.9f)];
        var noText = new AnnotationOptions { DrawScores = false };

        ImageData small = Plain(256, 256);    // line width 1
        using AnnotatedImage a = new FaceAnnotator(noText).Annotate(small, box);
        ImageData smallAfter = a.ToImageData();
        Assert.True(Changed(small, smallAfter, 99, 150) || Changed(small, smallAfter, 100, 150));
        Assert.False(Changed(small, smallAfter, 98, 150));
        Assert.False(Changed(small, smallAfter, 102, 150));

        ImageData large = Plain(1024, 1024);  // line width 4: covers x in [98, 102]
        using AnnotatedImage b = new FaceAnnotator(noText).Annotate(large, box);
        ImageData largeAfter = b.ToImageData();
        Assert.True(Changed(large, largeAfter, 99, 150));
        Assert.True(Changed(large, largeAfter, 101, 150));
        Assert.False(Changed(large, largeAfter, 96, 150));
        Assert.False(Changed(large, largeAfter, 104, 150));
    }

    [Fact]
    public void Options_select_what_is_drawn_and_are_validated()
    {
        ImageData image = Plain(300, 300);
        var nothing = new AnnotationOptions { DrawBoxes = false, DrawScores = false, DrawLandmarks = false };
        using AnnotatedImage annotated = new FaceAnnotator(nothing).Annotate(image, [SampleFace()]);
        Assert.Equal(image.Pixels.ToArray(), annotated.ToImageData().Pixels.ToArray());

        Assert.Throws<ArgumentException>(() => new FaceAnnotator(new AnnotationOptions { LandmarkColors = [SKColors.Red] }));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new FaceAnnotator(new AnnotationOptions { LineWidth = 0 }));
        Assert.Equal(nameof(AnnotationOptions.LineWidth), e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceAnnotator(new AnnotationOptions { ScoreDecimals = 7 }));
    }

    [Fact]
    public void Annotating_in_parallel_gives_identical_images()
    {
        ImageData image = Plain(320, 320);
        var annotator = new FaceAnnotator();
        byte[] expected;
        using (AnnotatedImage first = annotator.Annotate(image, [SampleFace()]))
        {
            expected = first.ToImageData().Pixels.ToArray();
        }

        Parallel.For(0, 16, _ =>
        {
            using AnnotatedImage a = annotator.Annotate(image, [SampleFace()]);
            Assert.Equal(expected, a.ToImageData().Pixels.ToArray());
        });
    }

    [Fact]
    public void The_input_image_is_not_modified()
    {
        ImageData image = Plain(300, 300);
        byte[] before = image.Pixels.ToArray();
        using AnnotatedImage annotated = new FaceAnnotator().Annotate(image, [SampleFace()]);
        Assert.Equal(before, image.Pixels.ToArray());
    }
}
