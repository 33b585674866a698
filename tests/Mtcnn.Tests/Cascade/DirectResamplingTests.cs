using System.Runtime.InteropServices;
using Mtcnn.Cascade;
using Mtcnn.TestSupport;

namespace Mtcnn.Tests.Cascade;

/// <summary>
/// <see cref="DirectAreaResampler"/> (large images, no summed-area table) against <see cref="IntegralImage"/>: the same
/// floats bit for bit for every pixel format, channel order, region and size, and the same detections.
/// </summary>
public sealed class DirectResamplingTests
{
    public static TheoryData<PixelFormat, bool> Formats()
    {
        var data = new TheoryData<PixelFormat, bool>();
        foreach (var format in new[] { PixelFormat.Gray8, PixelFormat.Rgb24, PixelFormat.Bgr24, PixelFormat.Rgba32, PixelFormat.Bgra32 })
        {
            data.Add(format, false);
            data.Add(format, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Gives_the_tables_floats_bit_for_bit(PixelFormat format, bool bgr)
    {
        const int W = 203, H = 131;
        int bpp = ImageData.BytesPerPixelOf(format);
        int stride = (W * bpp) + 7; // rows with padding
        var img = new byte[stride * H];
        new Random(W + (int)format).NextBytes(img);

        var table = new IntegralImage();
        table.Build(img, W, H, stride, format, bgr);
        var direct = new DirectAreaResampler();
        var handle = GCHandle.Alloc(img, GCHandleType.Pinned);
        try
        {
            direct.Build(img, W, H, stride, format, bgr);
            (int X0, int Y0, int Rw, int Rh, int Ow, int Oh)[] cases =
            [
                (0, 0, W, H, 121, 78),     // a pyramid level (0.6)
                (0, 0, W, H, 13, 12),      // the smallest levels: large windows
                (0, 0, W, H, 250, 170),    // upscaling
                (-9, -4, 40, 40, 24, 24),  // a crop past the top-left border
                (180, 110, 60, 60, 48, 48), // past the bottom-right border
                (17, 33, 97, 41, 24, 24),  // inside, anisotropic
                (-50, -50, 400, 300, 48, 48), // around the whole image
            ];
            foreach (var (x0, y0, rw, rh, ow, oh) in cases)
            {
                var expected = new float[ow * oh * 3];
                var got = new float[ow * oh * 3];
                table.Resample(x0, y0, rw, rh, ow, oh, 0, oh, 127.5f, 0.0078125f, expected, new int[table.ScratchInts(ow)]);
                direct.Resample(x0, y0, rw, rh, ow, oh, 0, oh, 127.5f, 0.0078125f, got, new int[direct.ScratchInts(ow)]);
                Assert.True(expected.AsSpan().SequenceEqual(got), $"region {x0},{y0} {rw}x{rh} -> {ow}x{oh}");

                // A band of rows equals the same rows of the whole output.
                int first = oh / 3, rows = Math.Max(1, oh / 4);
                var band = new float[ow * rows * 3];
                direct.Resample(x0, y0, rw, rh, ow, oh, first, rows, 127.5f, 0.0078125f, band, new int[direct.ScratchInts(ow)]);
                Assert.True(got.AsSpan(first * ow * 3, rows * ow * 3).SequenceEqual(band));
            }
        }
        finally
        {
            direct.Release();
            handle.Free();
        }
    }

    [Fact]
    public void Windows_whose_sums_pass_two_to_the_24th_round_as_the_table_does()
    {
        // All 255: a 1024x1024 window sums to 267,386,880, where floats no longer hold every integer.
        const int W = 2048, H = 1100;
        var img = new byte[W * H * 3];
        Array.Fill(img, (byte)255);
        img[12345] = 3;
        var table = new IntegralImage();
        table.Build(img, W, H, W * 3, PixelFormat.Rgb24, bgr: false);
        var direct = new DirectAreaResampler();
        var handle = GCHandle.Alloc(img, GCHandleType.Pinned);
        try
        {
            direct.Build(img, W, H, W * 3, PixelFormat.Rgb24, bgr: false);
            var expected = new float[2 * 1 * 3];
            var got = new float[2 * 1 * 3];
            table.Resample(0, 0, W, H, 2, 1, 0, 1, 0f, 1f, expected, new int[table.ScratchInts(2)]);
            direct.Resample(0, 0, W, H, 2, 1, 0, 1, 0f, 1f, got, new int[direct.ScratchInts(2)]);
            Assert.Equal(expected, got);
        }
        finally
        {
            direct.Release();
            handle.Free();
        }
    }

    [Fact]
    public void Without_pixels_it_refuses_to_resample()
    {
        var direct = new DirectAreaResampler();
        Assert.Throws<InvalidOperationException>(() => direct.Resample(0, 0, 1, 1, 1, 1, 0, 1, 0f, 1f, new float[3], new int[direct.ScratchInts(1)]));
    }

    [Theory]
    [InlineData("tests/fixtures/grace_hopper_512x512.jpg", 1)]
    [InlineData("tests/fixtures/grace_hopper_512x512.jpg", 2)]
    [InlineData("samples/astronaut.png", 1)]
    public void Detections_are_the_same_through_either_path(string file, int threads)
    {
        var image = ReferenceDetectionTests.DecodeRgb(Path.Combine(SharedData.RepoRoot, file));
        var options = DetectorOptions.Default with { MaxDegreeOfParallelism = threads, CollectStageCandidates = true };
        var withTable = new FaceDetector(options).Detect(image);
        var direct = new FaceDetector(options) { DirectResamplingAbove = 0 };
        var withoutTable = direct.Detect(image);
        Assert.Equal(Describe(withTable), Describe(withoutTable));
        Assert.NotEmpty(withTable.Faces);

        // Another call on the same detector (its context is reused) still matches.
        Assert.Equal(Describe(withTable), Describe(direct.Detect(image)));
    }

    private static string Describe(DetectionResult r) => string.Join(";", r.Faces.Select(f => $"{f.Box} {f.Score:R} {f.Landmarks}"))
        + "|" + string.Join(";", r.PNetCandidates.Select(c => $"{c.Box} {c.Score:R}"))
        + "|" + string.Join(";", r.RNetCandidates.Select(c => $"{c.Box} {c.Score:R}"));
}
