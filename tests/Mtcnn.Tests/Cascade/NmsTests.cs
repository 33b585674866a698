using Mtcnn.Cascade;

namespace Mtcnn.Tests.Cascade;

/// <summary>The bucketed NMS against a plain quadratic implementation, plus hand-checked cases.</summary>
public sealed class NmsTests
{
    private static List<Window> Quadratic(List<Window> input, float threshold, OverlapKind kind)
    {
        var order = input.Select((w, i) => (w, i)).OrderByDescending(t => t.w.Score).ThenBy(t => t.i).Select(t => t.w).ToList();
        var keep = new List<Window>();
        var dead = new bool[order.Count];
        bool p1 = kind is OverlapKind.MinimumPlusOne or OverlapKind.UnionPlusOne;
        for (int a = 0; a < order.Count; a++)
        {
            if (dead[a])
            {
                continue;
            }

            keep.Add(order[a]);
            for (int b = a + 1; b < order.Count; b++)
            {
                var x = order[a];
                var y = order[b];
                float iw = Math.Min(x.X2, y.X2) - Math.Max(x.X1, y.X1) + (p1 ? 1 : 0);
                float ih = Math.Min(x.Y2, y.Y2) - Math.Max(x.Y1, y.Y1) + (p1 ? 1 : 0);
                if (iw <= 0 || ih <= 0)
                {
                    continue;
                }

                float ax = p1 ? (x.X2 - x.X1 + 1) * (x.Y2 - x.Y1 + 1) : (x.X2 - x.X1) * (x.Y2 - x.Y1);
                float bx = p1 ? (y.X2 - y.X1 + 1) * (y.Y2 - y.Y1 + 1) : (y.X2 - y.X1) * (y.Y2 - y.Y1);
                float o = kind == OverlapKind.MinimumPlusOne ? iw * ih / Math.Min(ax, bx) : iw * ih / (ax + bx - (iw * ih));
                if (o > threshold)
                {
                    dead[b] = true;
                }
            }
        }

        return keep;
    }

    [Theory]
    [InlineData(1, 0.5f, false)]
    [InlineData(2, 0.7f, false)]
    [InlineData(3, 0.7f, true)]
    [InlineData(4, 0.3f, true)]
    [InlineData(5, 0.01f, false)]
    public void Equals_the_quadratic_algorithm_on_random_windows(int seed, float threshold, bool minimum)
    {
        var kind = minimum ? OverlapKind.MinimumPlusOne : OverlapKind.Union;
        var rng = new Random(seed);
        for (int round = 0; round < 20; round++)
        {
            var input = new List<Window>();
            int n = rng.Next(0, 400);
            for (int i = 0; i < n; i++)
            {
                float x = rng.Next(-50, 600), y = rng.Next(-50, 400), s = rng.Next(1, round % 2 == 0 ? 40 : 300);
                input.Add(new Window(x, y, x + s * (0.7f + rng.NextSingle()), y + s, MathF.Round(rng.NextSingle(), 2)));
            }

            var expected = Quadratic(input, threshold, kind);
            var actual = new List<Window>(input);
            BoxMath.Nms(actual, threshold, kind, new NmsScratch());
            Assert.Equal(expected.Select(w => w.Box), actual.Select(w => w.Box));

            // Idempotent: suppressing the survivors again changes nothing.
            var again = new List<Window>(actual);
            BoxMath.Nms(again, threshold, kind, new NmsScratch());
            Assert.Equal(actual.Select(w => w.Box), again.Select(w => w.Box));
        }
    }

    /// <summary>
    /// Windows like a whole pyramid's after P-Net: squares from 12 to 700 pixels, many near copies of each other at
    /// similar sizes, so that the size classes of the union overlap are exercised (neighbouring classes, a window near
    /// a class boundary, overlaps just above and below the threshold).
    /// </summary>
    [Theory]
    [InlineData(11, 0.7f, "Union")]
    [InlineData(12, 0.7f, "UnionPlusOne")]
    [InlineData(13, 0.5f, "Union")]
    [InlineData(14, 0.3f, "UnionPlusOne")]
    [InlineData(15, 0.95f, "Union")]
    [InlineData(16, 0.7f, "MinimumPlusOne")]
    public void Equals_the_quadratic_algorithm_on_pyramid_like_windows(int seed, float threshold, string overlap)
    {
        var kind = Enum.Parse<OverlapKind>(overlap);
        var rng = new Random(seed);
        for (int round = 0; round < 10; round++)
        {
            var input = new List<Window>();
            int n = rng.Next(200, 1500);
            for (int i = 0; i < n; i++)
            {
                float side = 12 * MathF.Pow(0.709f, -rng.Next(0, 12)) * (1 + (0.2f * rng.NextSingle()));
                float x = MathF.Floor(rng.NextSingle() * 1280), y = MathF.Floor(rng.NextSingle() * 720);
                input.Add(new Window(x, y, MathF.Floor(x + side), MathF.Floor(y + side), rng.NextSingle()));
                for (int copies = rng.Next(0, 4); copies > 0; copies--)
                {
                    float dx = rng.Next(-6, 7), ds = side * (0.8f + (0.4f * rng.NextSingle()));
                    input.Add(new Window(x + dx, y + dx, MathF.Floor(x + dx + ds), MathF.Floor(y + dx + ds), rng.NextSingle()));
                }
            }

            var expected = Quadratic(input, threshold, kind);
            var actual = new List<Window>(input);
            BoxMath.Nms(actual, threshold, kind, new NmsScratch());
            Assert.True(expected.Count < input.Count, "the input should have windows to suppress");
            Assert.Equal(expected.Select(w => w.Box), actual.Select(w => w.Box));
        }
    }

    [Fact]
    public void Hand_checked_cases()
    {
        var list = new List<Window>
        {
            new(0, 0, 10, 10, 0.8f),
            new(1, 1, 11, 11, 0.9f),   // IoU with the first: 81 / 119 = 0.68
            new(20, 20, 30, 30, 0.5f),
            new(0, 0, 10, 10, 0.9f),   // same score as the second: the earlier index wins the tie
        };
        var union = new List<Window>(list);
        BoxMath.Nms(union, 0.7f, OverlapKind.Union, new NmsScratch());
        Assert.Equal([new BoundingBox(1, 1, 11, 11), new BoundingBox(0, 0, 10, 10), new BoundingBox(20, 20, 30, 30)], union.Select(w => w.Box));
        var min = new List<Window>(list);
        BoxMath.Nms(min, 0.7f, OverlapKind.MinimumPlusOne, new NmsScratch());
        Assert.Equal([new BoundingBox(1, 1, 11, 11), new BoundingBox(20, 20, 30, 30)], min.Select(w => w.Box));
    }

    [Fact]
    public void Regression_square_and_crop_region_follow_the_reference_arithmetic()
    {
        var w = new Window(10, 20, 30, 60, 1) { Dx1 = 0.1f, Dy1 = -0.1f, Dx2 = 0.2f, Dy2 = 0.05f };
        BoxMath.Regress(ref w, plusOne: true);
        Assert.Equal(new BoundingBox(12.1f, 15.9f, 34.2f, 62.05f), w.Box);
        var v = new Window(10, 20, 30, 60, 1) { Dx1 = 0.1f };
        BoxMath.Regress(ref v, plusOne: false);
        Assert.Equal(12f, v.X1);
        var s = new Window(10, 20, 30, 60, 1);
        BoxMath.Square(ref s);
        Assert.Equal(new BoundingBox(0, 20, 40, 60), s.Box);
        Assert.True(BoxMath.CropRegion(new Window(-3.5f, 2.9f, 20.2f, 26.6f, 1), 0, 0, out int x, out int y, out int cw, out int ch));
        Assert.Equal((-4, 1, 24, 25), (x, y, cw, ch));
        Assert.True(BoxMath.CropRegion(new Window(-3.5f, 2.9f, 20.2f, 26.6f, 1), 15, 100, out x, out y, out cw, out ch));
        Assert.Equal((0, 1, 15, 25), (x, y, cw, ch));
        Assert.False(BoxMath.CropRegion(new Window(5, 5, 3, 9, 1), 0, 0, out _, out _, out _, out _));
    }
}
