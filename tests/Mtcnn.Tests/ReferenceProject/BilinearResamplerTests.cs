using Mtcnn.Cascade;
using Xunit.Abstractions;

namespace Mtcnn.Tests.ReferenceProject;

/// <summary>
/// OpenCV's 8-bit INTER_LINEAR as the reference project resizes: exact against the outputs of cv2.resize recorded in
/// reference_project_test_vectors.json, plus the structural properties the cascade relies on.
/// </summary>
public sealed class BilinearResamplerTests(ITestOutputHelper output)
{
    private static BilinearResampler Build(ImageData image)
    {
        var r = new BilinearResampler();
        r.Build(image.Pixels.Span, image.Width, image.Height, image.Stride, image.Format, bgr: true);
        return r;
    }

    private static byte[] Resize(BilinearResampler r, int x0, int y0, int rw, int rh, int ow, int oh)
    {
        var dst = new byte[ow * oh * 3];
        r.ResampleBytes(x0, y0, rw, rh, ow, oh, 0, oh, dst, new int[r.ScratchInts(ow)]);
        return dst;
    }

    /// <summary>cv2.resize(mid.png as BGR, (453, 298)): the byte sum, the first row's first ten pixels and pixel (150, 226).</summary>
    [SkippableFact]
    public void Whole_image_resize_matches_cv2_resize_exactly()
    {
        using var doc = ReferenceProjectData.TestVectors();
        var check = doc.RootElement.GetProperty("resize_check");
        int ow = check.GetProperty("dst_wh")[0].GetInt32(), oh = check.GetProperty("dst_wh")[1].GetInt32();
        var image = ReferenceProjectData.MidImage();
        var r = Build(image);

        var bytes = Resize(r, 0, 0, image.Width, image.Height, ow, oh);

        long sum = bytes.Sum(b => (long)b);
        output.WriteLine($"sum {sum} (expected {check.GetProperty("sum_u8").GetInt64()})");
        Assert.Equal(check.GetProperty("sum_u8").GetInt64(), sum);
        var first = ReferenceProjectData.Flatten(check.GetProperty("first_row_first10px")).Select(v => (byte)v).ToArray();
        Assert.Equal(first, bytes[..30]);
        var px = ReferenceProjectData.Flatten(check.GetProperty("pixel_150_226")).Select(v => (byte)v).ToArray();
        int o = ((150 * ow) + 226) * 3;
        Assert.Equal(px, bytes[o..(o + 3)]);
    }

    /// <summary>The 64x64 crop at (200, 100) resized to 24x24 and 48x48 equals the R-Net and O-Net inputs of the vectors.</summary>
    [SkippableFact]
    public void Crop_resizes_match_the_recorded_net_inputs_exactly()
    {
        using var doc = ReferenceProjectData.TestVectors();
        var root = doc.RootElement;
        var image = ReferenceProjectData.MidImage();
        var r = Build(image);
        int y0 = root.GetProperty("pnet").GetProperty("input_region_y0x0")[0].GetInt32();
        int x0 = root.GetProperty("pnet").GetProperty("input_region_y0x0")[1].GetInt32();

        Assert.Equal(ReferenceProjectData.Hwc(root.GetProperty("pnet").GetProperty("input_bgr_hwc")), Resize(r, x0, y0, 64, 64, 64, 64));
        Assert.Equal(ReferenceProjectData.Hwc(root.GetProperty("rnet").GetProperty("input_bgr_hwc")), Resize(r, x0, y0, 64, 64, 24, 24));
        Assert.Equal(ReferenceProjectData.Hwc(root.GetProperty("onet").GetProperty("input_bgr_hwc")), Resize(r, x0, y0, 64, 64, 48, 48));
    }

    private static ImageData Random(int w, int h, int seed)
    {
        var bytes = new byte[w * h * 3];
        new Random(seed).NextBytes(bytes);
        return new ImageData(bytes, w, h, PixelFormat.Bgr24);
    }

    [Fact]
    public void Same_size_is_a_copy_and_half_size_is_the_rounded_2x2_mean()
    {
        var image = Random(10, 8, 1);
        var r = Build(image);
        var px = image.Pixels.ToArray();
        Assert.Equal(px, Resize(r, 0, 0, 10, 8, 10, 8));

        var half = Resize(r, 0, 0, 10, 8, 5, 4);
        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 5; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    int P(int yy, int xx) => px[(((yy * 10) + xx) * 3) + c];
                    int sum = P(2 * y, 2 * x) + P(2 * y, (2 * x) + 1) + P((2 * y) + 1, 2 * x) + P((2 * y) + 1, (2 * x) + 1);
                    Assert.Equal((sum + 2) >> 2, half[(((y * 5) + x) * 3) + c]);
                }
            }
        }
    }

    [Fact]
    public void A_constant_image_stays_constant_at_any_scale()
    {
        var bytes = Enumerable.Repeat((byte)200, 37 * 23 * 3).ToArray();
        var r = Build(new ImageData(bytes, 37, 23, PixelFormat.Bgr24));
        foreach (var (ow, oh) in new[] { (26, 16), (53, 41), (24, 24), (7, 3) })
        {
            Assert.All(Resize(r, 0, 0, 37, 23, ow, oh), b => Assert.Equal(200, b));
        }
    }

    /// <summary>A crop past the border resizes a zero-filled buffer, as the reference project's cropping does.</summary>
    [Fact]
    public void Crop_past_the_border_reads_zeros_outside_the_image()
    {
        var image = Random(20, 16, 2);
        var r = Build(image);
        var padded = new byte[30 * 30 * 3];
        var px = image.Pixels.Span;
        for (int y = 0; y < 30; y++)
        {
            for (int x = 0; x < 30; x++)
            {
                int iy = y - 5, ix = x - 8;
                if (iy is >= 0 and < 16 && ix is >= 0 and < 20)
                {
                    px.Slice(((iy * 20) + ix) * 3, 3).CopyTo(padded.AsSpan(((y * 30) + x) * 3));
                }
            }
        }

        var reference = Build(new ImageData(padded, 30, 30, PixelFormat.Bgr24));
        Assert.Equal(Resize(reference, 0, 0, 30, 30, 24, 24), Resize(r, -8, -5, 30, 30, 24, 24));
        Assert.Equal(Resize(reference, 0, 0, 30, 30, 48, 48), Resize(r, -8, -5, 30, 30, 48, 48));
        Assert.Equal(Resize(reference, 0, 0, 30, 30, 15, 15), Resize(r, -8, -5, 30, 30, 15, 15));
    }

    [Fact]
    public void A_band_of_rows_equals_the_same_rows_of_the_whole_output_and_floats_are_the_scaled_bytes()
    {
        var image = Random(41, 33, 3);
        var r = Build(image);
        int ow = 29, oh = 23;
        var whole = Resize(r, 0, 0, 41, 33, ow, oh);
        var band = new float[ow * 5 * 3];
        r.Resample(0, 0, 41, 33, ow, oh, 7, 5, 0f, 1f / 255f, band, new int[r.ScratchInts(ow)]);
        for (int i = 0; i < band.Length; i++)
        {
            Assert.Equal(whole[(7 * ow * 3) + i] * (1f / 255f), band[i]);
        }
    }

    [Fact]
    public void Channel_order_follows_the_bgr_flag()
    {
        var rgb = new ImageData(new byte[] { 10, 20, 30, 40, 50, 60 }, 2, 1, PixelFormat.Rgb24);
        var r = new BilinearResampler();
        r.Build(rgb.Pixels.Span, 2, 1, 6, PixelFormat.Rgb24, bgr: true);
        Assert.Equal(new byte[] { 30, 20, 10, 60, 50, 40 }, Resize(r, 0, 0, 2, 1, 2, 1));
        r.Build(rgb.Pixels.Span, 2, 1, 6, PixelFormat.Rgb24, bgr: false);
        Assert.Equal(new byte[] { 10, 20, 30, 40, 50, 60 }, Resize(r, 0, 0, 2, 1, 2, 1));
    }
}
