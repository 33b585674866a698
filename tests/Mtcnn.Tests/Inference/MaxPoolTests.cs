using Mtcnn.Inference;

namespace Mtcnn.Tests.Inference;

/// <summary>Max pooling of every kernel family against a plain loop: exact, with edge windows in ceil mode.</summary>
public sealed class MaxPoolTests
{
    public static TheoryData<string, int, int, int, int, bool> Cases()
    {
        var data = new TheoryData<string, int, int, int, int, bool>();
        foreach (SimdLevel l in Enum.GetValues<SimdLevel>())
        {
            if (!Simd.IsSupported(l))
            {
                continue;
            }

            data.Add(l.ToString(), 22, 22, 3, 2, true);   // R-Net pool1
            data.Add(l.ToString(), 9, 9, 3, 2, true);     // R-Net pool2
            data.Add(l.ToString(), 46, 46, 3, 2, true);   // O-Net pool1
            data.Add(l.ToString(), 8, 8, 2, 2, true);     // O-Net pool3
            data.Add(l.ToString(), 13, 27, 2, 2, true);   // P-Net, odd sizes
            data.Add(l.ToString(), 13, 27, 2, 2, false);
            data.Add(l.ToString(), 20, 21, 3, 2, false);
            data.Add(l.ToString(), 2, 2, 3, 2, true);     // smaller than the kernel
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_a_plain_loop(string level, int h, int w, int kernel, int stride, bool ceil)
    {
        var simd = Enum.Parse<SimdLevel>(level);
        int cs = 2 * Simd.LanesOf(simd), row = w + 2;
        var rnd = new Random((h * 100) + w + kernel);
        var input = Enumerable.Range(0, h * row * cs).Select(_ => (rnd.NextSingle() * 2) - 1).ToArray();
        int ho = MaxPool.OutputSize(h, kernel, stride, ceil), wo = MaxPool.OutputSize(w, kernel, stride, ceil);
        var output = new float[ho * wo * cs];
        MaxPool.Forward(input, h, w, row, cs, kernel, stride, ceil, output, simd);
        for (int oy = 0; oy < ho; oy++)
        {
            for (int ox = 0; ox < wo; ox++)
            {
                for (int c = 0; c < cs; c++)
                {
                    float m = float.NegativeInfinity;
                    for (int y = oy * stride; y < Math.Min((oy * stride) + kernel, h); y++)
                    {
                        for (int x = ox * stride; x < Math.Min((ox * stride) + kernel, w); x++)
                        {
                            m = Math.Max(m, input[(((y * row) + x) * cs) + c]);
                        }
                    }

                    Assert.Equal(m, output[(((oy * wo) + ox) * cs) + c]);
                }
            }
        }
    }
}
