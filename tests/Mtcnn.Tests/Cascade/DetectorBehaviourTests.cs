using Mtcnn.Inference;
using Mtcnn.TestSupport;

namespace Mtcnn.Tests.Cascade;

/// <summary>
/// Invariances and contracts of the detector on the committed public-domain fixture (tests/fixtures), so they run
/// without ../shared: padded/strided/BGR/RGBA/grey inputs, single vs batch, mirroring, SIMD vs scalar kernels,
/// thread safety, stage views, limits and empty inputs.
/// </summary>
public sealed class DetectorBehaviourTests
{
    private static readonly Lazy<ImageData> Hopper = new(() =>
        ReferenceDetectionTests.DecodeRgb(Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg")));

    private static ImageData Convert(ImageData rgb, PixelFormat format, int padding)
    {
        int bpp = ImageData.BytesPerPixelOf(format);
        int stride = (rgb.Width * bpp) + padding;
        var dst = new byte[stride * rgb.Height];
        var src = rgb.Pixels.Span;
        for (int y = 0; y < rgb.Height; y++)
        {
            for (int x = 0; x < rgb.Width; x++)
            {
                int s = (y * rgb.Stride) + (x * 3), d = (y * stride) + (x * bpp);
                byte r = src[s], g = src[s + 1], b = src[s + 2];
                switch (format)
                {
                    case PixelFormat.Rgb24: dst[d] = r; dst[d + 1] = g; dst[d + 2] = b; break;
                    case PixelFormat.Bgr24: dst[d] = b; dst[d + 1] = g; dst[d + 2] = r; break;
                    case PixelFormat.Rgba32: dst[d] = r; dst[d + 1] = g; dst[d + 2] = b; dst[d + 3] = 7; break;
                    case PixelFormat.Bgra32: dst[d] = b; dst[d + 1] = g; dst[d + 2] = r; dst[d + 3] = 200; break;
                    default: dst[d] = (byte)((r + g + b) / 3); break;
                }
            }

            for (int p = stride - padding; p < stride; p++)
            {
                dst[(y * stride) + p] = 0xAB; // garbage in the padding must not matter
            }
        }

        return new ImageData(dst, rgb.Width, rgb.Height, format, stride);
    }

    private static void SameFaces(IReadOnlyList<Face> expected, IReadOnlyList<Face> actual, float tolerance = 0f)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            if (tolerance == 0f)
            {
                Assert.Equal(expected[i], actual[i]);
            }
            else
            {
                Assert.True(expected[i].Box.IntersectionOverUnion(actual[i].Box) > 1 - tolerance, $"{expected[i].Box} vs {actual[i].Box}");
                Assert.True(Math.Abs(expected[i].Score - actual[i].Score) < tolerance);
            }
        }
    }

    [Fact]
    public void Finds_the_one_face_of_the_fixture_with_sensible_landmarks()
    {
        var r = new FaceDetector().Detect(Hopper.Value);
        var f = Assert.Single(r.Faces);
        Assert.True(f.Score > 0.99f);
        Assert.True(f.Box.IntersectionOverUnion(new BoundingBox(177.03f, 93.76f, 351.79f, 317.01f)) > 0.9f, f.Box.ToString());
        var lm = f.Landmarks;
        Assert.True(lm.LeftEye.X < lm.RightEye.X && lm.MouthLeft.X < lm.MouthRight.X);
        Assert.True(lm.LeftEye.Y < lm.Nose.Y && lm.Nose.Y < lm.MouthLeft.Y);
        for (int k = 0; k < FaceLandmarks.Count; k++)
        {
            Assert.InRange(lm[k].X, f.Box.X1, f.Box.X2);
            Assert.InRange(lm[k].Y, f.Box.Y1, f.Box.Y2);
        }
    }

    [Theory]
    [InlineData(PixelFormat.Rgb24, 0)]
    [InlineData(PixelFormat.Rgb24, 13)]
    [InlineData(PixelFormat.Bgr24, 5)]
    [InlineData(PixelFormat.Rgba32, 0)]
    [InlineData(PixelFormat.Bgra32, 8)]
    public void Pixel_layouts_and_strides_give_identical_results(PixelFormat format, int padding)
    {
        var det = new FaceDetector();
        var expected = det.Detect(Hopper.Value).Faces;
        SameFaces(expected, det.Detect(Convert(Hopper.Value, format, padding)).Faces);
    }

    [Fact]
    public void Span_overload_equals_ImageData_overload()
    {
        var det = new FaceDetector();
        var img = Convert(Hopper.Value, PixelFormat.Bgr24, 3);
        SameFaces(det.Detect(img).Faces, det.Detect(img.Pixels.Span, img.Width, img.Height, img.Format, img.Stride).Faces);
    }

    [Fact]
    public void Grey_input_still_finds_the_face()
    {
        var r = new FaceDetector().Detect(Convert(Hopper.Value, PixelFormat.Gray8, 2));
        Assert.Single(r.Faces);
    }

    [Fact]
    public void The_candidate_cap_keeps_the_best_scoring_candidates_of_each_stage()
    {
        var open = new DetectorOptions { PNetThreshold = 0, RNetThreshold = 0, CollectStageCandidates = true, MaxCandidates = 10_000_000 };
        var all = new FaceDetector(open).Detect(Hopper.Value);
        Assert.False(all.CandidateLimitReached);
        Assert.True(all.PNetCandidates.Count > 500, $"{all.PNetCandidates.Count} P-Net candidates");

        // Each pyramid level keeps its best 200 windows before its suppression, and the best 200 go on to R-Net: the list
        // is best first, led by the best window of all, and the face is still found.
        var capped = new FaceDetector(open with { MaxCandidates = 200 }).Detect(Hopper.Value);
        Assert.True(capped.CandidateLimitReached);
        Assert.Equal(200, capped.PNetCandidates.Count);
        Assert.Equal(200, capped.Timings.PNetCount);
        Assert.Equal(all.PNetCandidates[0], capped.PNetCandidates[0]);
        Assert.True(capped.PNetCandidates.Zip(capped.PNetCandidates.Skip(1)).All(p => p.First.Score >= p.Second.Score));
        Assert.True(capped.RNetCandidates.Count <= 200);
        var face = Assert.Single(new FaceDetector().Detect(Hopper.Value).Faces);
        Assert.Contains(capped.Faces, f => f.Box.IntersectionOverUnion(face.Box) > 0.8f);

        // With the default thresholds the default cap is far away, and results are those of an uncapped detector.
        var normal = new FaceDetector(new DetectorOptions { CollectStageCandidates = true }).Detect(Hopper.Value);
        var uncapped = new FaceDetector(new DetectorOptions { CollectStageCandidates = true, MaxCandidates = 10_000_000 }).Detect(Hopper.Value);
        Assert.False(normal.CandidateLimitReached);
        SameFaces(uncapped.Faces, normal.Faces);
        Assert.Equal(uncapped.PNetCandidates, normal.PNetCandidates);

        Assert.Equal(nameof(DetectorOptions.MaxCandidates), Assert.Throws<ArgumentOutOfRangeException>(() => (DetectorOptions.Default with { MaxCandidates = 0 }).Validate()).ParamName);
        Assert.Equal(nameof(DetectorOptions.MaxCandidates), Assert.Throws<ArgumentOutOfRangeException>(() => (DetectorOptions.Default with { MaxCandidates = 10_000_001 }).Validate()).ParamName);
    }

    [Fact]
    public void Thread_count_does_not_change_results()
    {
        var one = new FaceDetector(new DetectorOptions { MaxDegreeOfParallelism = 1, CollectStageCandidates = true }).Detect(Hopper.Value);
        var four = new FaceDetector(new DetectorOptions { MaxDegreeOfParallelism = 4, CollectStageCandidates = true }).Detect(Hopper.Value);
        SameFaces(one.Faces, four.Faces);
        Assert.Equal(one.PNetCandidates, four.PNetCandidates);
        Assert.Equal(one.RNetCandidates, four.RNetCandidates);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Pyramid_resampled_in_one_go_or_band_by_band_gives_the_same_results(int threads)
    {
        // The cascade resamples the whole pyramid before P-Net when it fits its buffer limit, else band by band.
        var img = Hopper.Value;
        var options = new DetectorOptions { MaxDegreeOfParallelism = threads, CollectStageCandidates = true };
        var nets = new Networks(MtcnnWeights.Default, Simd.Best);
        DetectionResult Run(long limit)
        {
            var runner = new Mtcnn.Cascade.CascadeRunner(nets, limit);
            return runner.Run(img.Pixels.Span, img.Width, img.Height, img.Stride, img.Format, options, threads, runner.NewContext(), CancellationToken.None);
        }

        var whole = Run(long.MaxValue);
        var banded = Run(0);
        SameFaces(whole.Faces, banded.Faces);
        Assert.Equal(whole.PNetCandidates, banded.PNetCandidates);
        Assert.Equal(whole.RNetCandidates, banded.RNetCandidates);
    }

    [Fact]
    public void Batch_of_mixed_sizes_equals_single_calls()
    {
        var det = new FaceDetector();
        var small = Crop(Hopper.Value, 40, 30, 400, 420);
        var images = new[] { Hopper.Value, small, Convert(Hopper.Value, PixelFormat.Bgra32, 4), small };
        var batch = det.DetectBatch(images);
        Assert.Equal(images.Length, batch.Count);
        for (int i = 0; i < images.Length; i++)
        {
            SameFaces(det.Detect(images[i]).Faces, batch[i].Faces);
            Assert.Equal(images[i].Width, batch[i].Width);
        }
    }

    [Fact]
    public void Mirrored_image_gives_mirrored_face()
    {
        var img = Hopper.Value;
        var mirrored = new byte[img.Width * img.Height * 3];
        var src = img.Pixels.Span;
        for (int y = 0; y < img.Height; y++)
        {
            for (int x = 0; x < img.Width; x++)
            {
                src.Slice((y * img.Stride) + (x * 3), 3).CopyTo(mirrored.AsSpan((y * img.Width * 3) + ((img.Width - 1 - x) * 3), 3));
            }
        }

        var det = new FaceDetector();
        var a = Assert.Single(det.Detect(img).Faces);
        var b = Assert.Single(det.Detect(new ImageData(mirrored, img.Width, img.Height, PixelFormat.Rgb24)).Faces);
        var flipped = new BoundingBox(img.Width - b.Box.X2, b.Box.Y1, img.Width - b.Box.X1, b.Box.Y2);
        Assert.True(a.Box.IntersectionOverUnion(flipped) > 0.9f, $"{a.Box} vs mirrored {flipped}");

        // Left and right swap under mirroring: the mirrored right eye is the original left eye.
        float dx = img.Width - b.Landmarks.RightEye.X - a.Landmarks.LeftEye.X;
        float dy = b.Landmarks.RightEye.Y - a.Landmarks.LeftEye.Y;
        Assert.True(Math.Sqrt((dx * dx) + (dy * dy)) < 0.05 * a.Box.Width, $"eye moved by ({dx}, {dy})");
    }

    [Fact]
    public void Vector_kernels_agree_with_the_scalar_path_on_a_whole_image()
    {
        var opts = new DetectorOptions { CollectStageCandidates = true };
        var scalar = new FaceDetector(opts, null, SimdLevel.Scalar).Detect(Hopper.Value);
        foreach (var level in new[] { SimdLevel.Vector128, SimdLevel.Vector256, SimdLevel.Vector512 }.Where(Simd.IsSupported))
        {
            var v = new FaceDetector(opts, null, level).Detect(Hopper.Value);
            SameFaces(scalar.Faces, v.Faces, 1e-3f);
            Assert.Equal(scalar.PNetCandidates.Count, v.PNetCandidates.Count);
        }
    }

    [Fact]
    public void Concurrent_calls_on_one_detector_give_the_single_threaded_answer()
    {
        var det = new FaceDetector(new DetectorOptions { MaxDegreeOfParallelism = 2 });
        var images = new[] { Hopper.Value, Crop(Hopper.Value, 100, 50, 300, 300), Convert(Hopper.Value, PixelFormat.Bgr24, 0) };
        var expected = images.Select(i => det.Detect(i).Faces).ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 48, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var got = det.Detect(images[i % images.Length]).Faces;
            if (!got.SequenceEqual(expected[i % images.Length]))
            {
                failures.Add($"call {i} differed");
            }
        });
        Assert.Empty(failures);
    }

    [Fact]
    public void Stage_views_report_candidates_of_the_last_stage()
    {
        var img = Hopper.Value;
        var p = new FaceDetector(new DetectorOptions { LastStage = CascadeStage.PNet }).Detect(img);
        var r = new FaceDetector(new DetectorOptions { LastStage = CascadeStage.RNet }).Detect(img);
        var o = new FaceDetector(new DetectorOptions { CollectStageCandidates = true }).Detect(img);
        Assert.Empty(p.Faces);
        Assert.Empty(r.Faces);
        Assert.Equal(o.PNetCandidates, p.PNetCandidates);
        Assert.Equal(o.RNetCandidates, r.RNetCandidates);
        Assert.True(p.PNetCandidates.Count > r.RNetCandidates.Count && r.RNetCandidates.Count >= o.Faces.Count);
        Assert.Equal(p.PNetCandidates, p.FinalCandidates);
        Assert.Equal(o.Timings.PNetCount, o.PNetCandidates.Count);
        Assert.True(p.PNetCandidates.Zip(p.PNetCandidates.Skip(1)).All(t => t.First.Score >= t.Second.Score));
    }

    [Fact]
    public void MaxFaces_keeps_the_best()
    {
        var all = new FaceDetector(new DetectorOptions { LastStage = CascadeStage.RNet }).Detect(Hopper.Value).RNetCandidates;
        var two = new FaceDetector(new DetectorOptions { LastStage = CascadeStage.RNet, MaxFaces = 2 }).Detect(Hopper.Value).RNetCandidates;
        Assert.Equal(all.Take(2), two);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(11, 400)]
    [InlineData(30, 30)]
    public void Tiny_or_blank_images_give_empty_results(int w, int h)
    {
        var det = new FaceDetector();
        var r = det.Detect(new ImageData(new byte[w * h * 3], w, h, PixelFormat.Rgb24));
        Assert.Empty(r.Faces);
        Assert.Equal((w, h), (r.Width, r.Height));
        var noisy = new byte[200 * 150];
        new Random(3).NextBytes(noisy);
        Assert.NotNull(det.Detect(new ImageData(noisy, 200, 150, PixelFormat.Gray8)));
    }

    [Fact]
    public void Images_over_the_pixel_limit_are_rejected_with_the_limit_in_the_message()
    {
        var det = new FaceDetector(new DetectorOptions { MaxImagePixels = 1000 });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => det.Detect(new ImageData(new byte[40 * 40 * 3], 40, 40, PixelFormat.Rgb24)));
        Assert.Contains("1000", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_buffers_are_rejected_with_expected_sizes()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ImageData(new byte[10], 4, 4, PixelFormat.Rgb24));
        Assert.Contains("48", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageData(new byte[100], 4, 4, PixelFormat.Rgb24, stride: 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceDetector().Detect(new byte[10], 4, 4, PixelFormat.Rgb24));
        Assert.Throws<ArgumentException>(() => new FaceDetector().Detect(default(ImageData)));
    }

    [Fact]
    public void Wrong_weights_give_a_format_error_naming_the_tensor()
    {
        var bad = new MtcnnWeights(ModelVariant.Original, MtcnnWeights.Default.Tensors.Values.Where(t => t.Name != "rnet.dense4.weight"));
        var e = Assert.Throws<MtcnnFormatException>(() => new FaceDetector(null, bad));
        Assert.Contains("rnet.dense4.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cancellation_stops_the_call()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new FaceDetector().Detect(Hopper.Value, cts.Token));
    }

    private static ImageData Crop(ImageData img, int x0, int y0, int w, int h)
    {
        var dst = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            img.Pixels.Span.Slice(((y0 + y) * img.Stride) + (x0 * 3), w * 3).CopyTo(dst.AsSpan(y * w * 3));
        }

        return new ImageData(dst, w, h, PixelFormat.Rgb24);
    }
}
