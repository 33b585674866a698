using System.Security.Cryptography;
using Mtcnn.Alignment;
using Mtcnn.TestSupport;
using Mtcnn.Tests.Cascade;

namespace Mtcnn.Tests.Alignment;

/// <summary>
/// <see cref="FaceNetCrop"/>: facenet-pytorch's box rule, and crops equal byte for byte to Pillow 9.4's
/// <c>img.crop(region).resize((s, s), Image.BILINEAR)</c> of the bundled sample (the hashes were computed with Pillow).
/// </summary>
public sealed class FaceNetCropTests
{
    private static ImageData Sample() => ReferenceDetectionTests.DecodeRgb(Path.Combine(SharedData.RepoRoot, "samples", "astronaut.png"));

    [Theory]
    [InlineData(181, 62, 267, 172, 160, "628b9c83f4d51c52946f342a556c467fe5be5cbe6a2772603b024af09277b240")] // the face, shrunk a little
    [InlineData(0, 0, 512, 512, 100, "b0d2a3532580cc1a5d82c8f6e7e7563fd4bec81c18e44aeebc8b812e6065db76")]   // the whole image, 5x smaller
    [InlineData(200, 100, 260, 150, 200, "41bf1a3b50d9393e1786d578def3918d1402eb630141e5cad4956f39526b0b47")] // enlarged
    [InlineData(3, 5, 511, 9, 40, "65e99920c5db3dc130901426e2c7f86dc7cef5d93bc887e26caae52953076d8c")]    // a strip: one axis shrinks, the other grows
    public void Equals_pillows_bilinear_resize_of_the_region(int x1, int y1, int x2, int y2, int size, string sha256)
    {
        var crop = new FaceNetCrop(size, margin: 0);
        var (image, region) = crop.Crop(Sample(), new BoundingBox(x1, y1, x2, y2));
        Assert.Equal((x1, y1, x2, y2), region);
        Assert.Equal((size, size, PixelFormat.Rgb24), (image.Width, image.Height, image.Format));
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(image.Pixels.Span)));
    }

    [Fact]
    public void The_margin_is_in_output_pixels_as_facenet_pytorch_computes_it()
    {
        // The sample's face with margin 32: margin * side / (160 - 32) image pixels in all, half each side, then int().
        var box = new BoundingBox(181.0514f, 62.1561f, 267.7473f, 172.0501f);
        var crop = new FaceNetCrop(160, 32);
        double mx = 32 * ((double)box.X2 - box.X1) / 128, my = 32 * ((double)box.Y2 - box.Y1) / 128;
        var expected = ((int)(box.X1 - (mx / 2)), (int)(box.Y1 - (my / 2)), (int)(box.X2 + (mx / 2)), (int)(box.Y2 + (my / 2)));
        Assert.Equal(expected, crop.Region(box, 512, 512));
        Assert.Equal((170, 48, 278, 185), expected);

        var (image, _) = crop.Crop(Sample(), box);
        Assert.Equal("8cecd3a47f11d8f0ec958f6ceabfef1ddff7a8bc5326cd2666298db15a5437e7", Convert.ToHexStringLower(SHA256.HashData(image.Pixels.Span)));
    }

    [Fact]
    public void Regions_are_clipped_to_the_image_and_empty_ones_refused()
    {
        var crop = new FaceNetCrop(160, 44);
        Assert.Equal((0, 0, 40, 30), crop.Region(new BoundingBox(-20, -10, 35, 28), 40, 30));
        Assert.Equal((0, 0, 39, 30), crop.Region(new BoundingBox(-20, -10, 30, 25), 40, 30)); // 30 + 9.48 truncates to 39
        Assert.Throws<AlignmentException>(() => crop.Region(new BoundingBox(50, 50, 60, 60), 40, 30));
        Assert.Throws<AlignmentException>(() => crop.Region(new BoundingBox(float.NaN, 0, 10, 10), 40, 30));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceNetCrop(160, 160));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceNetCrop(0));
        Assert.Throws<ArgumentException>(() => crop.Crop(default, new BoundingBox(0, 0, 1, 1)));
    }

    [Fact]
    public void Grey_and_bgra_sources_give_the_rgb_sources_crop()
    {
        var rgb = Sample();
        var src = rgb.Pixels.ToArray();
        var bgra = new byte[512 * 512 * 4];
        var grey = new byte[512 * 512];
        var greyAsRgb = new byte[512 * 512 * 3];
        for (int i = 0; i < 512 * 512; i++)
        {
            bgra[(4 * i) + 0] = src[(3 * i) + 2];
            bgra[(4 * i) + 1] = src[(3 * i) + 1];
            bgra[(4 * i) + 2] = src[3 * i];
            bgra[(4 * i) + 3] = 77;
            grey[i] = src[3 * i];
            greyAsRgb[3 * i] = greyAsRgb[(3 * i) + 1] = greyAsRgb[(3 * i) + 2] = src[3 * i];
        }

        var crop = new FaceNetCrop(64, 8);
        var box = new BoundingBox(150, 40, 300, 200);
        Assert.Equal(crop.Crop(rgb, box).Image.Pixels.ToArray(), crop.Crop(new ImageData(bgra, 512, 512, PixelFormat.Bgra32), box).Image.Pixels.ToArray());
        Assert.Equal(
            crop.Crop(new ImageData(greyAsRgb, 512, 512, PixelFormat.Rgb24), box).Image.Pixels.ToArray(),
            crop.Crop(new ImageData(grey, 512, 512, PixelFormat.Gray8), box).Image.Pixels.ToArray());
    }
}
