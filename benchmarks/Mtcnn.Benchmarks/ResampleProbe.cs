using System.Diagnostics;
using System.Globalization;
using Mtcnn.Cascade;

namespace Mtcnn.Benchmarks;

/// <summary>CPU time of area-resampling crops (24x24 and 48x48 from boxes of 20 to 200 pixels) and a pyramid level.</summary>
internal static class ResampleProbe
{
    public static void Run()
    {
        var img = BenchImages.Load(BenchImages.Sources()[0], 1280, 720);
        var ii = new IntegralImage();
        ii.Build(img.Pixels.Span, 1280, 720, img.Stride, img.Format, false);
        var rnd = new Random(3);
        var boxes = Enumerable.Range(0, 1000).Select(_ =>
        {
            int side = rnd.Next(20, 200);
            return (X: rnd.Next(-10, 1280 - side + 10), Y: rnd.Next(-10, 720 - side + 10), Side: side);
        }).ToArray();
        var dst = new float[48 * 48 * 3];
        var ints = new int[ii.ScratchInts(1280)];
        foreach (int size in new[] { 24, 48 })
        {
            ProbeTimer.Time($"1000 crops to {size}", () =>
            {
                foreach (var b in boxes)
                {
                    ii.Resample(b.X, b.Y, b.Side, b.Side, size, size, 0, size, 127.5f, 0.0078125f, dst, ints);
                }
            });
        }

        // The same boxes all placed at the image origin: the table rows they read stay cached, so this is the arithmetic alone.
        ProbeTimer.Time("1000 cached crops to 24", () =>
        {
            foreach (var b in boxes)
            {
                ii.Resample(0, 0, b.Side, b.Side, 24, 24, 0, 24, 127.5f, 0.0078125f, dst, ints);
            }
        });

        var level = new float[769 * 433 * 3];
        ProbeTimer.Time("level 769x433", () => ii.Resample(0, 0, 1280, 720, 769, 433, 0, 433, 127.5f, 0.0078125f, level, ints));
        ProbeTimer.Time("integral 1280x720", () => ii.Build(img.Pixels.Span, 1280, 720, img.Stride, img.Format, false));
    }
}
