using Mtcnn.Cascade;

namespace Mtcnn.Tests.ReferenceProject;

/// <summary>The reference variant's box conventions: inclusive pixel boxes, rounded squares, pixel crops, its pyramid.</summary>
public sealed class ReferenceGeometryTests
{
    [Fact]
    public void Squares_are_centred_inclusive_pixel_boxes_rounded_half_to_even()
    {
        // 11 x 15 pixels (x 10..20, y 30..44): side 15, x1 = 10 + 5.5 - 7.5 = 8, x2 = 8 + 14 = 22.
        var w = new Window(10, 30, 20, 44, 1);
        BoxMath.SquarePixels(ref w);
        Assert.Equal(new BoundingBox(8, 30, 22, 44), w.Box);

        // 12 x 13: x1 = 10 + 6 - 6.5 = 9.5 -> 10 (half to even), x2 = 9.5 + 12 = 21.5 -> 22.
        w = new Window(10, 0, 21, 12, 1);
        BoxMath.SquarePixels(ref w);
        Assert.Equal(new BoundingBox(10, 0, 22, 12), w.Box);

        // One pixel further right: x1 = 10.5 and x2 = 22.5 both round to the even pixel, 10 and 22.
        w = new Window(11, 0, 22, 12, 1);
        BoxMath.SquarePixels(ref w);
        Assert.Equal(new BoundingBox(10, 0, 22, 12), w.Box);
    }

    [Fact]
    public void Pixel_regions_cover_x1_to_x2_inclusive_and_clip_only_when_asked()
    {
        Assert.True(BoxMath.PixelRegion(new Window(-3, 5, 10, 20, 1), 0, 0, out int x, out int y, out int w, out int h));
        Assert.Equal((-3, 5, 14, 16), (x, y, w, h));
        Assert.True(BoxMath.PixelRegion(new Window(-3, 5, 10, 20, 1), 8, 100, out x, out y, out w, out h));
        Assert.Equal((0, 5, 8, 16), (x, y, w, h));
        Assert.False(BoxMath.PixelRegion(new Window(5, 5, 3, 9, 1), 0, 0, out _, out _, out _, out _));
    }

    [Fact]
    public void Union_with_the_plus_one_convention_counts_pixels()
    {
        // Two 10 x 10 pixel boxes (0..9 and 1..10) share 9 x 9 pixels: IoU 81 / 119 = 0.681.
        var list = new List<Window> { new(0, 0, 9, 9, 0.9f), new(1, 1, 10, 10, 0.8f) };
        var a = new List<Window>(list);
        BoxMath.Nms(a, 0.69f, OverlapKind.UnionPlusOne, new NmsScratch());
        Assert.Equal(2, a.Count);
        var b = new List<Window>(list);
        BoxMath.Nms(b, 0.68f, OverlapKind.UnionPlusOne, new NmsScratch());
        Assert.Equal([new BoundingBox(0, 0, 9, 9)], b.Select(w => w.Box));

        // The bucketed NMS equals the textbook loop on random pixel boxes.
        var rng = new Random(7);
        for (int round = 0; round < 20; round++)
        {
            var input = new List<Window>();
            for (int i = rng.Next(0, 300); i > 0; i--)
            {
                float x = rng.Next(-20, 300), y = rng.Next(-20, 200), s = rng.Next(0, 40);
                input.Add(new Window(x, y, x + s + rng.Next(0, 3), y + s, MathF.Round(rng.NextSingle(), 2)));
            }

            var expected = Quadratic(input, 0.5f);
            var actual = new List<Window>(input);
            BoxMath.Nms(actual, 0.5f, OverlapKind.UnionPlusOne, new NmsScratch());
            Assert.Equal(expected.Select(w => w.Box), actual.Select(w => w.Box));
        }
    }

    [Fact]
    public void The_reference_pyramid_has_floor_sizes_and_stops_at_12_pixels()
    {
        var levels = new List<PyramidLevel>();
        CascadeRunner.PlanPyramid(421, 640, new DetectorOptions { MinFaceSize = 12 }, levels, null, referenceSizes: true);

        // Level 2 is the 453 x 298 image of the recorded cv2.resize check.
        Assert.Equal((298, 453), (levels[1].Height, levels[1].Width));
        Assert.Equal((421, 640), (levels[0].Height, levels[0].Width));
        Assert.All(levels, l => Assert.True(Math.Min(l.Height, l.Width) > 12));
        double next = levels[^1].Scale * 0.709;
        Assert.True((int)(421 * next) <= 12);
    }

    private static List<Window> Quadratic(List<Window> input, float threshold)
    {
        var order = input.Select((w, i) => (w, i)).OrderByDescending(t => t.w.Score).ThenBy(t => t.i).Select(t => t.w).ToList();
        var keep = new List<Window>();
        var dead = new bool[order.Count];
        for (int a = 0; a < order.Count; a++)
        {
            if (dead[a])
            {
                continue;
            }

            keep.Add(order[a]);
            for (int b = a + 1; b < order.Count; b++)
            {
                Window x = order[a], y = order[b];
                float iw = Math.Min(x.X2, y.X2) - Math.Max(x.X1, y.X1) + 1;
                float ih = Math.Min(x.Y2, y.Y2) - Math.Max(x.Y1, y.Y1) + 1;
                if (iw <= 0 || ih <= 0)
                {
                    continue;
                }

                float ax = (x.X2 - x.X1 + 1) * (x.Y2 - x.Y1 + 1), bx = (y.X2 - y.X1 + 1) * (y.Y2 - y.Y1 + 1);
                if (iw * ih / (ax + bx - (iw * ih)) > threshold)
                {
                    dead[b] = true;
                }
            }
        }

        return keep;
    }
}
