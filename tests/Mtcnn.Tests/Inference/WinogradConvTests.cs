using Mtcnn.Inference;

namespace Mtcnn.Tests.Inference;

/// <summary>
/// Winograd F(2x2, 3x3), F(3x3, 3x3) and F(4x4, 3x3) against the direct convolution of the same weights: equal up to float rounding on maps of
/// every parity (the odd edges read zeros past the map), positions outside the valid outputs left untouched, and
/// the same numbers whatever the chunking.
/// </summary>
public sealed class WinogradConvTests
{
    public static TheoryData<string, int, int, int, int, int, bool> Cases()
    {
        var data = new TheoryData<string, int, int, int, int, int, bool>();
        foreach (SimdLevel l in Enum.GetValues<SimdLevel>())
        {
            if (!Simd.IsSupported(l))
            {
                continue;
            }

            foreach (int tile in new[] { 2, 3, 4 })
            {
                data.Add(l.ToString(), tile, 3, 3, 16, 16, true);      // a single output
                data.Add(l.ToString(), tile, 6, 6, 16, 32, true);      // one full 4x4 tile
                data.Add(l.ToString(), tile, 11, 11, 28, 48, true);    // R-Net conv2 shape, edges of every kind
                data.Add(l.ToString(), tile, 10, 10, 64, 64, false);   // O-Net conv3 shape, no PReLU
                data.Add(l.ToString(), tile, 23, 23, 32, 64, true);    // O-Net conv2 shape
                data.Add(l.ToString(), tile, 37, 23, 16, 32, true);    // many chunks, odd width
                data.Add(l.ToString(), tile, 30, 41, 10, 16, true);    // P-Net conv2 shape: 10 of 16 channel lanes used
                data.Add(l.ToString(), tile, 7, 120, 24, 16, true);    // a wide band, channels not a multiple of the lanes
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_the_direct_convolution(string level, int tile, int h, int w, int cin, int cout, bool prelu)
    {
        var simd = Enum.Parse<SimdLevel>(level);
        int lanes = Simd.LanesOf(simd);
        int sin = (cin + lanes - 1) / lanes * lanes;
        var rnd = new Random((h * 1000) + (w * 10) + cin);
        var weights = Enumerable.Range(0, cout * cin * 9).Select(_ => (rnd.NextSingle() - 0.5f) * 0.4f).ToArray();
        var bias = Enumerable.Range(0, cout).Select(_ => rnd.NextSingle() - 0.5f).ToArray();
        var slopes = Enumerable.Range(0, cout).Select(_ => rnd.NextSingle() * 0.5f).ToArray();
        var layer = new ConvLayer(weights, bias, slopes, prelu, cout, cin, 3, sin, simd);
        var winograd = new WinogradConv(weights, bias, slopes, prelu, cout, cin, sin, simd, tile);

        int row = w + 3; // rows wider than the valid width, as in P-Net's maps
        var input = new float[h * row * sin];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < row; x++)
            {
                for (int c = 0; c < sin; c++)
                {
                    // Valid pixels get data; padding lanes are zero; columns past the width hold junk.
                    input[(((y * row) + x) * sin) + c] = x >= w ? 1e30f : c < cin ? (rnd.NextSingle() * 2) - 1 : 0f;
                }
            }
        }

        int oh = h - 2, ow = w - 2, sout = layer.OutputChannelStride;
        var direct = new float[h * row * sout];
        layer.Forward(input, direct, 0, ((oh - 1) * row) + ow, row);
        var fast = new float[h * row * sout];
        Array.Fill(fast, float.NaN);
        winograd.Forward(input, fast, h, w, row, new float[winograd.ScratchSize]);

        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < row; x++)
            {
                for (int c = 0; c < sout; c++)
                {
                    int i = (((y * row) + x) * sout) + c;
                    if (y < oh && x < ow)
                    {
                        float tol = (tile == 2 ? 2e-5f : 1e-4f) * Math.Max(1f, Math.Abs(direct[i]));
                        Assert.True(Math.Abs(direct[i] - fast[i]) <= tol, $"({y}, {x}, {c}): direct {direct[i]}, Winograd {fast[i]}");
                    }
                    else
                    {
                        Assert.True(float.IsNaN(fast[i]), $"({y}, {x}, {c}) is outside the map but was written");
                    }
                }
            }
        }
    }

    [Fact]
    public void Layers_use_4x4_tiles()
    {
        var layer = new ConvLayer(new float[16 * 16 * 9], new float[16], [], false, 16, 16, 3, 16, Simd.Best);
        Assert.Equal(4, layer.Winograd!.Tile);
        Assert.Equal(36, layer.Winograd.Points);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WinogradConv(new float[16 * 16 * 9], new float[16], [], false, 16, 16, 16, Simd.Best, 5));
    }

    [Theory]
    [InlineData(9, 3)]   // R-Net conv2: nine 3x3 tiles (225 points) against nine 4x4 tiles covering 12x12 (324)
    [InlineData(21, 3)]  // O-Net conv2: 49 x 25 = 1225 points against 36 x 36 = 1296
    [InlineData(8, 4)]   // O-Net conv3: four 4x4 tiles
    [InlineData(16, 4)]
    [InlineData(1, 3)]
    public void Picks_the_tile_with_the_fewest_points(int outSize, int tile) => Assert.Equal(tile, WinogradConv.TileFor(outSize));

    [Fact]
    public void Small_layers_stay_direct()
    {
        var layer = new ConvLayer(new float[10 * 3 * 9], new float[10], new float[10], true, 10, 3, 3, 3, Simd.Best);
        Assert.Null(layer.Winograd);
        Assert.Equal(0, layer.WinogradScratch);
    }

    [Fact]
    public void Refuses_scratch_that_is_too_small()
    {
        var layer = new ConvLayer(new float[16 * 16 * 9], new float[16], [], false, 16, 16, 3, 16, Simd.Best);
        var input = new float[4 * 4 * 16];
        var output = new float[4 * 4 * layer.OutputChannelStride];
        Assert.Throws<ArgumentException>(() => layer.Winograd!.Forward(input, output, 4, 4, 4, new float[10]));
    }
}

/// <summary>R-Net and O-Net run their small-map Winograd layer on a batch of crops or crop by crop: same numbers.</summary>
public sealed class CropBatchTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(13)]
    public void Batched_and_single_crops_agree(int n)
    {
        var nets = GoldenVectorTests.Nets(Simd.Best.ToString());
        foreach (var net in new[] { nets.R, nets.O })
        {
            Assert.True(net.BatchSize(n) > 0);
            var rnd = new Random(n);
            var crops = Enumerable.Range(0, n * net.InputLength).Select(_ => (rnd.NextSingle() * 2) - 1).ToArray();
            float[] Run(bool batched)
            {
                var output = new float[n * net.OutputStride];
                net.Forward(crops, n, new float[net.ScratchPerCrop], new float[net.ScratchPerCrop], new float[n * net.FlatLength],
                    new float[net.DenseSize(n)], output, batched ? new float[net.BatchSize(n)] : default);
                return output;
            }

            Assert.Equal(Run(false), Run(true));
        }
    }
}
