using Mtcnn.Alignment;
using Mtcnn.Cascade;
using Mtcnn.TestSupport;
using Xunit.Abstractions;

namespace Mtcnn.Tests.Cascade;

/// <summary>
/// Detection in turned photos (<see cref="DetectorOptions.Rotations"/>): pixel turns against a naive reference, the
/// fixture photos turned by 90/180/270 degrees found and mapped back onto the upright photo's detections (landmark
/// identities kept), auto mode, merging across turns, options, and upright aligned crops.
/// </summary>
public sealed class RotationTests(ITestOutputHelper output)
{
    private static readonly int[] Turns = [90, 180, 270];

    private static byte[] Noise(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>
    /// The test's own forward map of a 0-based pixel position (landmarks; <paramref name="onePlus"/> false) or a 1-based
    /// box corner (<paramref name="onePlus"/> true) when an image of <paramref name="width"/> x <paramref name="height"/>
    /// is turned clockwise by <paramref name="degrees"/>, built from single quarter turns (x, y) -> (H - 1 - y, x).
    /// </summary>
    private static Point2F Forward(Point2F p, int degrees, int width, int height, bool onePlus)
    {
        float shift = onePlus ? 1 : -1;
        int w = width, h = height;
        for (int k = 0; k < degrees / 90; k++)
        {
            p = new Point2F(h + shift - p.Y, p.X);
            (w, h) = (h, w);
        }

        return p;
    }

    private static BoundingBox ForwardBox(BoundingBox b, int degrees, int width, int height)
    {
        var a = Forward(new Point2F(b.X1, b.Y1), degrees, width, height, true);
        var c = Forward(new Point2F(b.X2, b.Y2), degrees, width, height, true);
        return new BoundingBox(Math.Min(a.X, c.X), Math.Min(a.Y, c.Y), Math.Max(a.X, c.X), Math.Max(a.Y, c.Y));
    }

    private static ImageData Turn(ImageData img, int degrees)
    {
        var (rw, rh) = ImageRotation.RotatedSize(img.Width, img.Height, degrees);
        var buf = new byte[rw * rh * img.BytesPerPixel];
        ImageRotation.Rotate(img.Pixels.Span, img.Width, img.Height, img.Stride, img.BytesPerPixel, degrees, buf);
        return new ImageData(buf, rw, rh, img.Format);
    }

    private static List<(string Name, ImageData Image)> Photos()
    {
        string dir = SharedData.Require("data/images");
        return Directory.GetFiles(dir).Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), ReferenceDetectionTests.DecodeRgb(f))).ToList();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void Pixel_turns_match_a_naive_per_pixel_reference(int bpp)
    {
        const int W = 37, H = 70, Stride = (37 * 4) + 5;
        var src = Noise(Stride * H, bpp);
        foreach (int deg in new[] { 0, 90, 180, 270 })
        {
            var (rw, rh) = ImageRotation.RotatedSize(W, H, deg);
            var dst = new byte[rw * rh * bpp];
            ImageRotation.Rotate(src, W, H, Stride, bpp, deg, dst);
            for (int y = 0; y < H; y++)
            {
                for (int x = 0; x < W; x++)
                {
                    var q = Forward(new Point2F(x, y), deg, W, H, false);
                    int d = (((int)q.Y * rw) + (int)q.X) * bpp;
                    for (int c = 0; c < bpp; c++)
                    {
                        Assert.Equal(src[(y * Stride) + (x * bpp) + c], dst[d + c]);
                    }
                }
            }
        }
    }

    [Fact]
    public void Mapping_back_inverts_the_turn_for_points_and_boxes()
    {
        const int W = 640, H = 480;
        var p = new Point2F(100.25f, 37.5f);
        var b = new BoundingBox(10.5f, 20f, 110.75f, 140f);
        foreach (int deg in new[] { 0, 90, 180, 270 })
        {
            var (rw, rh) = ImageRotation.RotatedSize(W, H, deg);
            var back = ImageRotation.MapPoint(Forward(p, deg, W, H, false), deg, rw, rh);
            Assert.Equal(p.X, back.X, 1e-3f);
            Assert.Equal(p.Y, back.Y, 1e-3f);
            var box = ImageRotation.MapBox(ForwardBox(b, deg, W, H), deg, rw, rh);
            Assert.Equal(b, box);
        }
    }

    [SkippableFact]
    public void Turned_photos_give_the_upright_faces_mapped_back_with_their_landmark_identities()
    {
        var upright = new FaceDetector();
        int checkedFaces = 0;
        double worst = 0;
        foreach (var (name, photo) in Photos())
        {
            var baseline = upright.Detect(photo).Faces;
            foreach (int t in Turns)
            {
                // The photo turned by t clockwise is upright again after a further (360 - t).
                int back = (360 - t) % 360;
                var turned = Turn(photo, t);
                var turns = back switch { 90 => DetectionRotations.Rotate90, 180 => DetectionRotations.Rotate180, _ => DetectionRotations.Rotate270 };
                var found = new FaceDetector(new DetectorOptions { Rotations = turns }).Detect(turned);
                Assert.Equal(turned.Width, found.Width);
                Assert.Equal(baseline.Count, found.Faces.Count);
                foreach (var b in baseline)
                {
                    var expected = ForwardBox(b.Box, t, photo.Width, photo.Height);
                    var f = found.Faces.MaxBy(x => x.Box.IntersectionOverUnion(expected));
                    Assert.True(f.Box.IntersectionOverUnion(expected) >= 0.8f, $"{name} turned {t}: IoU {f.Box.IntersectionOverUnion(expected)}");
                    Assert.Equal(back, f.Rotation);
                    Assert.Equal(b.Score, f.Score, 1e-4f);
                    float diag = MathF.Sqrt((b.Box.Width * b.Box.Width) + (b.Box.Height * b.Box.Height));
                    for (int k = 0; k < FaceLandmarks.Count; k++)
                    {
                        // Each landmark keeps its name: the face's left eye is still LeftEye after mapping back.
                        var e = Forward(b.Landmarks[k], t, photo.Width, photo.Height, false);
                        float err = MathF.Sqrt(MathF.Pow(f.Landmarks[k].X - e.X, 2) + MathF.Pow(f.Landmarks[k].Y - e.Y, 2)) / diag;
                        worst = Math.Max(worst, err);
                        Assert.True(err < 0.01f, $"{name} turned {t}: landmark {k} off by {err:P2} of the diagonal");
                    }

                    checkedFaces++;
                }
            }
        }

        output.WriteLine($"{checkedFaces} faces checked, worst landmark error {worst:P4} of the box diagonal");
        Assert.True(checkedFaces >= 100, $"only {checkedFaces} faces");
    }

    [SkippableFact]
    public void Auto_finds_the_same_faces_as_the_upright_detector_in_every_turn_of_the_photos_with_faces()
    {
        var upright = new FaceDetector();
        var auto = new FaceDetector(new DetectorOptions { Rotations = DetectionRotations.Auto });
        var all = new FaceDetector(new DetectorOptions { Rotations = DetectionRotations.All });
        int extraAuto = 0, extraAll = 0, photos = 0;
        foreach (var (name, photo) in Photos())
        {
            var baseline = upright.Detect(photo).Faces;
            foreach (int t in new[] { 0, 90, 180, 270 })
            {
                var turned = Turn(photo, t);
                var a = auto.Detect(turned).Faces;
                extraAll += Math.Max(0, all.Detect(turned).Faces.Count - baseline.Count);
                if (baseline.Count == 0)
                {
                    extraAuto += a.Count;
                    continue;
                }

                photos++;
                Assert.Equal(baseline.Count, a.Count);
                for (int i = 0; i < baseline.Count; i++)
                {
                    Assert.Equal((360 - t) % 360, a[i].Rotation);
                    Assert.Equal(baseline[i].Score, a[i].Score, 1e-4f);
                    Assert.True(a[i].Box.IntersectionOverUnion(ForwardBox(baseline[i].Box, t, photo.Width, photo.Height)) >= 0.99f, $"{name} turned {t}, face {i}");
                }

                if (t == 0)
                {
                    // Upright: exactly the faces of the default setting.
                    Assert.Equal(baseline.ToArray(), a.ToArray());
                }
            }
        }

        output.WriteLine($"{photos} turned photos with faces; faces beyond the upright ones: auto {extraAuto} (photos without faces), all turns {extraAll}");
        Assert.True(extraAuto < extraAll, $"auto added {extraAuto} faces, the union of all turns {extraAll}");
    }

    [SkippableFact]
    public void All_turns_merge_each_face_seen_in_several_turns_into_one()
    {
        string path = SharedData.Require("data/images/faceapi_faces.jpg");
        var photo = ReferenceDetectionTests.DecodeRgb(path);
        var baseline = new FaceDetector().Detect(photo).Faces;
        var options = new DetectorOptions { Rotations = DetectionRotations.All, CollectStageCandidates = true };
        var detector = new FaceDetector(options);
        var turns = detector.DetectTurns(photo.Pixels.Span, photo.Width, photo.Height, photo.Stride, photo.Format, 2, default);
        int duplicates = turns.Where(t => t.Degrees != 0).Sum(t => t.Faces.Count(f => baseline.Any(b => b.Box.IntersectionOverUnion(f.Box) >= 0.3f)));
        output.WriteLine($"faces of the sideways and upside-down turns that repeat an upright face: {duplicates}");
        Assert.True(duplicates > 0, "this photo is chosen because other turns see its faces again");

        var merged = detector.Detect(photo);
        Assert.Equal(baseline.ToArray(), merged.Faces.ToArray());
        Assert.Equal(turns.Sum(t => t.Result.PNetCandidates.Count), merged.PNetCandidates.Count);
        Assert.Equal(4, turns.Count);

        var one = new FaceDetector(options with { MaxFaces = 2 }).Detect(photo).Faces;
        Assert.Equal(baseline.Take(2).ToArray(), one.ToArray());
    }

    [SkippableFact]
    public void An_aligned_crop_from_a_turned_photo_comes_out_upright()
    {
        string path = SharedData.Require("data/images/grace_hopper_512x512.jpg");
        var photo = ReferenceDetectionTests.DecodeRgb(path);
        var aligner = new FaceAligner();
        var uprightFace = Assert.Single(new FaceDetector().Detect(photo).Faces);
        var reference = aligner.Align(photo, uprightFace).Pixels.ToArray();
        var auto = new FaceDetector(new DetectorOptions { Rotations = DetectionRotations.Auto });
        foreach (int t in Turns)
        {
            var turned = Turn(photo, t);
            var face = Assert.Single(auto.Detect(turned).Faces);
            var crop = aligner.Align(turned, face).Pixels.ToArray();
            double diff = 0;
            for (int i = 0; i < crop.Length; i++)
            {
                diff += Math.Abs(crop[i] - reference[i]);
            }

            diff /= crop.Length;
            output.WriteLine($"turned {t}: mean difference to the upright crop {diff:F3} levels");
            Assert.True(diff < 1.0, $"turned {t}: the crop differs from the upright one by {diff:F2} levels on average");
        }
    }

    [Fact]
    public void Rotation_options_are_validated()
    {
        Assert.Equal("Rotations", Assert.Throws<ArgumentOutOfRangeException>(() => new DetectorOptions { Rotations = DetectionRotations.None }.Validate()).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectorOptions { Rotations = DetectionRotations.Agreement }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectorOptions { Rotations = (DetectionRotations)33 }.Validate());
        Assert.Equal("RotationMergeIou", Assert.Throws<ArgumentOutOfRangeException>(() => new DetectorOptions { Rotations = DetectionRotations.All, RotationMergeIou = 0 }.Validate()).ParamName);
        Assert.Equal(DetectionRotations.All | DetectionRotations.Agreement, DetectionRotations.Auto);
        Assert.Equal([0, 90, 180, 270], new DetectorOptions { Rotations = DetectionRotations.Auto }.RotationAngles);
        Assert.Equal([90, 270], new DetectorOptions { Rotations = DetectionRotations.Rotate90 | DetectionRotations.Rotate270 }.RotationAngles);
        Assert.Equal(DetectionRotations.Rotate0, DetectorOptions.Default.Rotations);
    }

    [Fact]
    public void A_single_turn_of_a_blank_image_finds_nothing_and_keeps_the_input_size()
    {
        var img = new ImageData(new byte[300 * 200 * 3], 300, 200, PixelFormat.Rgb24);
        var r = new FaceDetector(new DetectorOptions { Rotations = DetectionRotations.Rotate90 }).Detect(img);
        Assert.Empty(r.Faces);
        Assert.Equal((300, 200), (r.Width, r.Height));
    }
}
