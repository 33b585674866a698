using Mtcnn.Inference;

namespace Mtcnn.Tests.Inference;

/// <summary>
/// P-Net on horizontal bands of a pyramid level (how the cascade splits a level between threads and bounds its
/// memory): each band computes its own output rows (and up to 2 more) from the input rows they need (and 4 more), and together the
/// bands (starting at multiples of BandAlignment, as the cascade cuts them, so Winograd tiles line up) reproduce the whole level's map
/// bit for bit.
/// </summary>
public sealed class PNetBandTests
{
    [Theory]
    [InlineData(0, 20, 400, 0, 54)]
    [InlineData(100, 20, 400, 200, 54)]
    [InlineData(180, 20, 400, 360, 40)]   // clamped at the bottom of the level
    [InlineData(0, 1, 400, 0, 16)]
    public void Input_rows_cover_just_the_band(int first, int count, int levelHeight, int firstRow, int rows) =>
        Assert.Equal((firstRow, rows), PNet.InputRows(first, count, levelHeight));

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(36)]
    public void Bands_reproduce_the_whole_level(int bandRows)
    {
        const int h = 150, w = 61;
        var nets = GoldenVectorTests.Nets(Simd.Best.ToString());
        var input = GoldenVectorTests.Pattern(h, w);
        var (whole, oh, ow, row, stride) = GoldenVectorTests.RunPNet(nets, h, w);
        Assert.Equal(0, bandRows % nets.P.BandAlignment);
        int scratch = nets.P.ScratchSize(h, w);
        var a = new float[scratch];
        var b = new float[scratch];
        for (int first = 0; first < oh; first += bandRows)
        {
            int count = Math.Min(bandRows, oh - first);
            var (firstRow, rows) = PNet.InputRows(first, count, h);
            var (bh, bw, brow) = nets.P.Forward(input.AsSpan(firstRow * w * 3), rows, w, a, b);
            Assert.InRange(bh, count, count + 2);
            Assert.Equal(ow, bw);
            for (int i = 0; i < count; i++)
            {
                for (int j = 0; j < bw; j++)
                {
                    for (int c = 0; c < nets.P.Head.Cout; c++)
                    {
                        Assert.Equal(whole[((((first + i) * row) + j) * stride) + c], a[(((i * brow) + j) * stride) + c]);
                    }
                }
            }
        }
    }
}
