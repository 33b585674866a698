using Mtcnn.Training.Models;

namespace Mtcnn.Training.Tests;

public sealed class InputEncodingTests
{
    [Fact]
    public void Original_is_RGB_planes_centred_and_scaled()
    {
        // Two pixels: (R, G, B) = (0, 255, 128) and (10, 20, 30).
        byte[] rgb = [0, 255, 128, 10, 20, 30];
        var chw = new float[6];
        InputEncoding.Encode(rgb, 1, 2, ModelVariant.Original, chw);
        float[] expected =
        [
            -127.5f / 128, (10 - 127.5f) / 128,   // R plane
            127.5f / 128, (20 - 127.5f) / 128,    // G plane
            0.5f / 128, (30 - 127.5f) / 128,      // B plane
        ];
        Assert.Equal(expected, chw);
    }

    [Fact]
    public void Reference_is_BGR_planes_over_255()
    {
        byte[] rgb = [0, 255, 128, 10, 20, 30];
        var chw = new float[6];
        InputEncoding.Encode(rgb, 1, 2, ModelVariant.Reference, chw);
        float[] expected = [128 / 255f, 30 / 255f, 1f, 20 / 255f, 0f, 10 / 255f];
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(expected[i], chw[i], 7);
        }
    }

    [Fact]
    public void Square_overload_matches_and_lengths_are_checked()
    {
        var rgb = new byte[12 * 12 * 3];
        new Random(5).NextBytes(rgb);
        var a = new float[rgb.Length];
        var b = new float[rgb.Length];
        InputEncoding.Encode(rgb, 12, ModelVariant.Original, a);
        InputEncoding.Encode(rgb, 12, 12, ModelVariant.Original, b);
        Assert.Equal(a, b);
        Assert.Equal((rgb[(5 * 12 + 7) * 3 + 1] - 127.5f) * 0.0078125f, a[(1 * 144) + (5 * 12) + 7]);

        Assert.Throws<ArgumentException>(() => InputEncoding.Encode(rgb, 11, ModelVariant.Original, a));
        Assert.Throws<ArgumentException>(() => InputEncoding.Encode(rgb, 12, ModelVariant.Original, new float[10]));
        Assert.Throws<ArgumentOutOfRangeException>(() => InputEncoding.Encode(rgb, 0, ModelVariant.Original, a));
    }
}
