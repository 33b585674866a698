using Mtcnn.Alignment;
using Mtcnn.TestSupport;
using Mtcnn.Tests.Cascade;
using Xunit.Abstractions;

namespace Mtcnn.Tests.Alignment;

/// <summary>Templates, options, warping with known transforms, degenerate landmarks, and a real face round trip.</summary>
public sealed class FaceAlignerTests(ITestOutputHelper output)
{
    private static readonly FaceLandmarks TemplateLandmarks = ToLandmarks(AlignmentTemplate.ArcFace112.Points);

    private static FaceLandmarks ToLandmarks(IReadOnlyList<Point2F> p) => new(p[0], p[1], p[2], p[3], p[4]);

    /// <summary>A synthetic RGB image whose pixel (x, y) is (x mod 256, y mod 256, (x + 2y) mod 256).</summary>
    private static ImageData Gradient(int w, int h)
    {
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int o = (y * w + x) * 3;
                px[o] = (byte)(x % 256);
                px[o + 1] = (byte)(y % 256);
                px[o + 2] = (byte)((x + 2 * y) % 256);
            }
        }

        return new ImageData(px, w, h, PixelFormat.Rgb24);
    }

    private static (byte R, byte G, byte B) At(ImageData img, int x, int y)
    {
        var s = img.Pixels.Span;
        int o = y * img.Stride + x * 3;
        return (s[o], s[o + 1], s[o + 2]);
    }

    [Fact]
    public void Built_in_templates_hold_the_standard_points()
    {
        var t = AlignmentTemplate.ArcFace112;
        Assert.Equal((112, 112), (t.Width, t.Height));
        Assert.Equal(new Point2F(38.2946f, 51.6963f), t.Points[0]);
        Assert.Equal(new Point2F(73.5318f, 51.5014f), t.Points[1]);
        Assert.Equal(new Point2F(56.0252f, 71.7366f), t.Points[2]);
        Assert.Equal(new Point2F(41.5493f, 92.3655f), t.Points[3]);
        Assert.Equal(new Point2F(70.7299f, 92.2041f), t.Points[4]);
        var n = AlignmentTemplate.ArcFace112x96;
        Assert.Equal((96, 112), (n.Width, n.Height));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(t.Points[i].X - 8, n.Points[i].X, 1e-4f);
            Assert.Equal(t.Points[i].Y, n.Points[i].Y);
        }
    }

    [Fact]
    public void Output_size_scales_and_margin_shrinks_the_template_about_the_centre()
    {
        var big = new FaceAligner(new FaceAlignerOptions { OutputWidth = 224, OutputHeight = 224 });
        Assert.Equal(38.2946f * 2, big.TargetPoints[0].X, 1e-3f);
        Assert.Equal(51.6963f * 2, big.TargetPoints[0].Y, 1e-3f);

        var margin = new FaceAligner(new FaceAlignerOptions { Margin = 0.25 });
        Assert.Equal(112, margin.OutputWidth);
        for (int i = 0; i < 5; i++)
        {
            var p = AlignmentTemplate.ArcFace112.Points[i];
            Assert.Equal(56 + (p.X - 56) / 1.5f, margin.TargetPoints[i].X, 1e-4f);
            Assert.Equal(56 + (p.Y - 56) / 1.5f, margin.TargetPoints[i].Y, 1e-4f);
        }
    }

    [Fact]
    public void Options_out_of_range_are_rejected_with_the_range()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new FaceAligner(new FaceAlignerOptions { Margin = -0.1 }));
        Assert.Contains("[0, 10]", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceAligner(new FaceAlignerOptions { OutputWidth = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceAligner(new FaceAlignerOptions { Margin = double.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceAligner(new FaceAlignerOptions { Border = (AlignmentBorder)7 }));
    }

    [Fact]
    public void Landmarks_on_the_template_give_the_identity_and_copy_the_pixels()
    {
        var img = Gradient(150, 130);
        var aligned = new FaceAligner().Align(img, TemplateLandmarks);
        Assert.Equal(1, aligned.Transform.A, 1e-6);
        Assert.Equal(0, aligned.Transform.B, 1e-6);
        Assert.Equal(0, aligned.Transform.TranslateX, 1e-4);
        Assert.Equal(0, aligned.Transform.TranslateY, 1e-4);
        for (int y = 0; y < 112; y += 7)
        {
            for (int x = 0; x < 112; x += 5)
            {
                Assert.Equal(At(img, x, y), At(aligned.Image, x, y));
            }
        }
    }

    [Fact]
    public void Integer_translation_moves_pixels_exactly_and_the_constant_border_fills_the_rest()
    {
        var img = Gradient(40, 30);
        var shift = new SimilarityTransform(1, 0, 5, -3);
        var dst = new byte[50 * 40 * 3];
        var grey = new RgbColor(7, 8, 9);
        FaceAligner.Warp(img, shift, dst, 50, 40, 0, AlignmentBorder.Constant, grey);
        var outImg = new ImageData(dst, 50, 40, PixelFormat.Rgb24);
        Assert.Equal(At(img, 0, 3), At(outImg, 5, 0));
        Assert.Equal(At(img, 20, 10), At(outImg, 25, 7));
        Assert.Equal(At(img, 39, 29), At(outImg, 44, 26));
        Assert.Equal(((byte)7, (byte)8, (byte)9), At(outImg, 2, 10));
        Assert.Equal(((byte)7, (byte)8, (byte)9), At(outImg, 46, 10));
        Assert.Equal(((byte)7, (byte)8, (byte)9), At(outImg, 20, 39));
    }

    [Fact]
    public void Rotation_by_90_degrees_puts_known_pixels_where_expected()
    {
        var img = Gradient(20, 10);
        // (x, y) -> (9 - y, x): a quarter turn; source 20x10 becomes 10x20.
        var rot = new SimilarityTransform(0, 1, 9, 0);
        var dst = new byte[10 * 20 * 3];
        FaceAligner.Warp(img, rot, dst, 10, 20, 0, AlignmentBorder.Constant, default);
        var o = new ImageData(dst, 10, 20, PixelFormat.Rgb24);
        for (int y = 0; y < 10; y++)
        {
            for (int x = 0; x < 20; x++)
            {
                Assert.Equal(At(img, x, y), At(o, 9 - y, x));
            }
        }
    }

    [Fact]
    public void Half_pixel_shift_interpolates_bilinearly_and_replicate_repeats_the_edge()
    {
        // A 2x2 grey-as-RGB image: 0, 100 / 200, 40.
        byte[] px = [0, 0, 0, 100, 100, 100, 200, 200, 200, 40, 40, 40];
        var img = new ImageData(px, 2, 2, PixelFormat.Rgb24);
        var half = new SimilarityTransform(1, 0, -0.5, -0.5); // output (0,0) samples source (0.5, 0.5)
        var dst = new byte[3 * 3 * 3];
        FaceAligner.Warp(img, half, dst, 3, 3, 0, AlignmentBorder.Replicate, default);
        Assert.Equal(85, dst[0]); // (0 + 100 + 200 + 40) / 4
        Assert.Equal(70, dst[3]); // (1.5, 0.5): column 1 and its replicated copy, rows 0 and 1: (100 + 40) / 2
        Assert.Equal(40, dst[(2 * 3 + 2) * 3]); // bottom-right corner replicates pixel (1, 1)

        FaceAligner.Warp(img, half, dst, 3, 3, 0, AlignmentBorder.Constant, new RgbColor(0, 0, 0));
        Assert.Equal(85, dst[0]);
        Assert.Equal(35, dst[3]); // (100 + 0 + 40 + 0) / 4
    }

    [Fact]
    public void Pixel_formats_and_strides_give_the_same_crop()
    {
        var rgb = Gradient(120, 120);
        var src = rgb.Pixels.Span;
        var bgra = new byte[120 * 130 * 4];
        for (int y = 0; y < 120; y++)
        {
            for (int x = 0; x < 120; x++)
            {
                int s = (y * 120 + x) * 3;
                int d = y * 130 * 4 + x * 4;
                bgra[d] = src[s + 2];
                bgra[d + 1] = src[s + 1];
                bgra[d + 2] = src[s];
                bgra[d + 3] = 255;
            }
        }

        var lm = new FaceLandmarks(new(40, 50), new(75, 48), new(58, 70), new(44, 90), new(72, 91));
        var aligner = new FaceAligner();
        var a = aligner.Align(rgb, lm);
        var b = aligner.Align(new ImageData(bgra, 120, 120, PixelFormat.Bgra32, 130 * 4), lm);
        Assert.Equal(a.Pixels.ToArray(), b.Pixels.ToArray());

        var padded = new byte[111 * 400 + 112 * 3];
        var t = aligner.AlignInto(rgb, lm, padded, 400);
        Assert.Equal(a.Transform, t);
        for (int y = 0; y < 112; y++)
        {
            Assert.Equal(a.Pixels.Span.Slice(y * 336, 336).ToArray(), padded.AsSpan(y * 400, 336).ToArray());
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => aligner.AlignInto(rgb, lm, new byte[100], 0));
        Assert.Throws<ArgumentException>(() => aligner.Align(default, lm));
    }

    [Fact]
    public void Degenerate_landmarks_give_a_clear_error_not_nans()
    {
        var img = Gradient(64, 64);
        var aligner = new FaceAligner();
        var p = new Point2F(30, 30);
        var allEqual = new FaceLandmarks(p, p, p, p, p);
        Assert.Contains("coincide", Assert.Throws<AlignmentException>(() => aligner.Align(img, allEqual)).Message, StringComparison.Ordinal);

        var collinear = new FaceLandmarks(new(10, 10), new(20, 20), new(30, 30), new(40, 40), new(50, 50));
        Assert.Contains("collinear", Assert.Throws<AlignmentException>(() => aligner.Align(img, collinear)).Message, StringComparison.Ordinal);

        var nan = TemplateLandmarks with { Nose = new Point2F(float.NaN, 3) };
        Assert.Contains("not finite", Assert.Throws<AlignmentException>(() => aligner.Align(img, nan)).Message, StringComparison.Ordinal);

        Assert.Throws<AlignmentException>(() => AlignmentTemplate.Create([new(1, 1), new(2, 2), new(3, 3)], 10, 10));
        Assert.Throws<ArgumentException>(() => aligner.Align(img, [new Point2F(1, 2), new Point2F(3, 4)]));
    }

    [Fact]
    public void A_user_template_with_three_points_aligns_by_those_points()
    {
        var template = AlignmentTemplate.Create([new(10, 10), new(30, 10), new(20, 30)], 40, 40, "tri");
        var aligner = new FaceAligner(new FaceAlignerOptions { Template = template });
        var truth = SimilarityTransform.FromScaleRotation(0.5, 0.2, 3, 4);
        var inv = truth.Inverse();
        Point2F[] image = [.. template.Points.Select(inv.Apply)];
        var aligned = aligner.Align(Gradient(100, 100), image);
        Assert.Equal(truth.A, aligned.Transform.A, 1e-5);
        Assert.Equal(truth.B, aligned.Transform.B, 1e-5);
        Assert.Equal((40, 40), (aligned.Width, aligned.Height));
        Assert.Throws<InvalidOperationException>(() => aligner.Align(Gradient(10, 10), TemplateLandmarks));
    }

    [Fact]
    public void Concurrent_alignment_gives_identical_crops()
    {
        var img = Gradient(200, 200);
        var aligner = new FaceAligner(new FaceAlignerOptions { Margin = 0.1, Border = AlignmentBorder.Replicate });
        var lm = new FaceLandmarks(new(60, 80), new(120, 70), new(95, 110), new(70, 140), new(118, 136));
        byte[] expected = aligner.Align(img, lm).Pixels.ToArray();
        Parallel.For(0, 64, _ => Assert.Equal(expected, aligner.Align(img, lm).Pixels.ToArray()));
    }

    private static (ImageData Image, Face Face, FaceDetector Detector) FixtureFace()
    {
        var image = ReferenceDetectionTests.DecodeRgb(Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg"));
        var detector = new FaceDetector(new DetectorOptions { MinFaceSize = 20 });
        return (image, detector.Detect(image).Faces[0], detector);
    }

    /// <summary>Pads a 112x112 crop into a 256x256 grey canvas (the detector misses faces that fill a tight crop) and detects again.</summary>
    private static FaceLandmarks Redetect(FaceDetector detector, AlignedFace aligned)
    {
        const int canvas = 256;
        const int offset = 72;
        var px = new byte[canvas * canvas * 3];
        Array.Fill(px, (byte)128);
        var crop = aligned.Pixels.Span;
        int rowBytes = aligned.Width * 3;
        for (int y = 0; y < aligned.Height; y++)
        {
            crop.Slice(y * rowBytes, rowBytes).CopyTo(px.AsSpan(((y + offset) * canvas + offset) * 3));
        }

        var again = detector.Detect(new ImageData(px, canvas, canvas, PixelFormat.Rgb24)).Faces;
        Assert.NotEmpty(again);
        var shift = new SimilarityTransform(1, 0, -offset, -offset);
        return shift.Apply(again[0].Landmarks);
    }

    /// <summary>
    /// The fixture face aligned by its eyes alone (a two-point template made of the ArcFace eye points, so the fit is
    /// exact) to 112x112 and detected again: the re-detected eyes lie within 2 px of the template's eyes.
    /// </summary>
    [Fact]
    public void Fixture_face_aligned_by_the_eyes_has_its_redetected_eyes_within_2px_of_the_template()
    {
        var (image, face, detector) = FixtureFace();
        var arc = AlignmentTemplate.ArcFace112.Points;
        var eyes = AlignmentTemplate.Create([arc[0], arc[1]], 112, 112, "eyes");
        var aligned = new FaceAligner(new FaceAlignerOptions { Template = eyes }).Align(image, [face.Landmarks.LeftEye, face.Landmarks.RightEye]);
        var lm = Redetect(detector, aligned);
        double dl = Distance(lm.LeftEye, arc[0]);
        double dr = Distance(lm.RightEye, arc[1]);
        output.WriteLine($"eyes-only alignment: re-detected eyes {lm.LeftEye} {lm.RightEye}; distance to template {dl:F2} px, {dr:F2} px");
        Assert.True(dl <= 2, $"left eye {dl:F2} px from the template");
        Assert.True(dr <= 2, $"right eye {dr:F2} px from the template");
    }

    /// <summary>
    /// The fixture face aligned to the five-point ArcFace template and detected again. A five-point least-squares fit
    /// cannot put every landmark of a real face on the template (this face's eyes are wider apart, relative to its
    /// mouth, than the template's: the fit leaves them about 1.5 px off), so the test checks what alignment does
    /// guarantee: the re-detected eyes are within 2 px of where the transform put the detected eyes, and their midpoint
    /// is within 2 px of the template's eye midpoint.
    /// </summary>
    [Fact]
    public void Fixture_face_aligned_by_five_points_is_redetected_where_the_transform_put_it()
    {
        var (image, face, detector) = FixtureFace();
        var aligned = new FaceAligner().Align(image, face);
        var mapped = aligned.MapLandmarks(face.Landmarks);
        var lm = Redetect(detector, aligned);
        var arc = AlignmentTemplate.ArcFace112.Points;
        output.WriteLine($"detected landmarks mapped into the crop: {mapped}");
        output.WriteLine($"re-detected in the crop: {lm}");
        output.WriteLine($"eye distance to template: {Distance(lm.LeftEye, arc[0]):F2} px, {Distance(lm.RightEye, arc[1]):F2} px (fit residual {Distance(mapped.LeftEye, arc[0]):F2}, {Distance(mapped.RightEye, arc[1]):F2})");
        Assert.True(Distance(lm.LeftEye, mapped.LeftEye) <= 2);
        Assert.True(Distance(lm.RightEye, mapped.RightEye) <= 2);
        var mid = new Point2F((lm.LeftEye.X + lm.RightEye.X) / 2, (lm.LeftEye.Y + lm.RightEye.Y) / 2);
        var templateMid = new Point2F((arc[0].X + arc[1].X) / 2, (arc[0].Y + arc[1].Y) / 2);
        Assert.True(Distance(mid, templateMid) <= 2, $"eye midpoint {Distance(mid, templateMid):F2} px from the template's");
        for (int i = 0; i < 5; i++)
        {
            Assert.True(Distance(mapped[i], arc[i]) <= 4, $"landmark {i} is {Distance(mapped[i], arc[i]):F2} px from the template after the fit");
        }
    }

    private static double Distance(Point2F a, Point2F b) => Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y));
}
