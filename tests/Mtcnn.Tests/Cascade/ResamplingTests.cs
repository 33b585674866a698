using Mtcnn.Cascade;

namespace Mtcnn.Tests.Cascade;

/// <summary>Area resampling against a direct implementation of adaptive average pooling's definition.</summary>
public sealed class ResamplingTests
{
    private static double Direct(byte[] img, int w, int h, int x0, int y0, int rw, int rh, int ow, int oh, int i, int j, int c)
    {
        int ys = i * rh / oh, ye = (((i + 1) * rh) + oh - 1) / oh;
        int xs = j * rw / ow, xe = (((j + 1) * rw) + ow - 1) / ow;
        double sum = 0;
        for (int y = ys; y < ye; y++)
        {
            for (int x = xs; x < xe; x++)
            {
                int iy = y0 + y, ix = x0 + x;
                if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                {
                    sum += img[(((iy * w) + ix) * 3) + c];
                }
            }
        }

        return sum / ((ye - ys) * (xe - xs));
    }

    [Theory]
    [InlineData(37, 23, 0, 0, 37, 23, 14, 9)]    // downscale (pyramid level)
    [InlineData(37, 23, 0, 0, 37, 23, 50, 31)]   // upscale
    [InlineData(37, 23, -5, -3, 20, 20, 24, 24)] // crop past the top-left border: zero padding
    [InlineData(37, 23, 30, 15, 17, 17, 48, 48)] // crop past the bottom-right border
    [InlineData(37, 23, 3, 4, 30, 11, 24, 24)]   // crop inside, anisotropic
    public void Matches_the_definition(int w, int h, int x0, int y0, int rw, int rh, int ow, int oh)
    {
        var img = new byte[w * h * 3];
        new Random(w * h).NextBytes(img);
        var ii = new IntegralImage();
        ii.Build(img, w, h, w * 3, PixelFormat.Rgb24, bgr: false);
        var dst = new float[ow * oh * 3];
        ii.Resample(x0, y0, rw, rh, ow, oh, 0, oh, 127.5f, 0.0078125f, dst, new int[ii.ScratchInts(ow)]);
        for (int i = 0; i < oh; i++)
        {
            for (int j = 0; j < ow; j++)
            {
                for (int c = 0; c < 3; c++)
                {
                    double expected = (Direct(img, w, h, x0, y0, rw, rh, ow, oh, i, j, c) - 127.5) * 0.0078125;
                    Assert.True(Math.Abs(expected - dst[(((i * ow) + j) * 3) + c]) < 1e-5, $"({i},{j},{c})");
                }
            }
        }

        // A band of rows equals the same rows of the whole output.
        var band = new float[ow * 3 * 3];
        ii.Resample(x0, y0, rw, rh, ow, oh, 2, 3, 127.5f, 0.0078125f, band, new int[ii.ScratchInts(ow)]);
        Assert.Equal(dst.AsSpan(2 * ow * 3, 3 * ow * 3).ToArray(), band);
    }

    [Fact]
    public void Bgr_build_swaps_channels()
    {
        byte[] px = [10, 20, 30];
        var ii = new IntegralImage();
        ii.Build(px, 1, 1, 3, PixelFormat.Rgb24, bgr: true);
        var dst = new float[3];
        ii.Resample(0, 0, 1, 1, 1, 1, 0, 1, 0, 1, dst, new int[ii.ScratchInts(1)]);
        Assert.Equal([30f, 20f, 10f], dst);
    }

    [Fact]
    public void Pyramid_plan_follows_facenet_pytorch()
    {
        var levels = new List<PyramidLevel>();
        CascadeRunner.PlanPyramid(480, 640, DetectorOptions.Default, levels, null);

        // scale_k = 0.6 * 0.709^k while 480 * scale_k >= 12; size int(side * scale + 1).
        Assert.Equal(10, levels.Count);
        Assert.Equal((289, 385), (levels[0].Height, levels[0].Width));
        Assert.Equal((205, 273), (levels[1].Height, levels[1].Width));
        Assert.Equal(0.6 * Math.Pow(0.709, 9), levels[9].Scale, 12);
    }
}
