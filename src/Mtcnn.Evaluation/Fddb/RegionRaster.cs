namespace Mtcnn.Evaluation.Fddb;

/// <summary>
/// Rasterises FDDB regions row by row without drawing them: pixel (i, j) covers the unit square [i, i+1) x [j, j+1)
/// and belongs to a region when its centre (i + 0.5, j + 0.5) does (on the boundary counts as inside for ellipses;
/// rectangles are half-open, so an integer w x h rectangle covers exactly w·h pixels). Each region is a list of
/// inclusive pixel-column spans, one per row, clipped to the image when its size is known and to ±65,536 pixels
/// otherwise (so absurd input cannot exhaust memory).
/// </summary>
internal static class RegionRaster
{
    private const int Limit = 65536;

    /// <summary>Row spans of a region: rows <c>Top..Top+Count−1</c>, each with first and last column (empty when last &lt; first).</summary>
    public readonly struct Spans(int top, int[] first, int[] last)
    {
        public int Top { get; } = top;

        public int Count => First.Length;

        public int[] First { get; } = first;

        public int[] Last { get; } = last;

        public long Area
        {
            get
            {
                long a = 0;
                for (int r = 0; r < First.Length; r++)
                {
                    a += Math.Max(0, Last[r] - First[r] + 1);
                }

                return a;
            }
        }
    }

    public static Spans Ellipse(FddbEllipse e, int? width, int? height)
    {
        double a = e.MajorRadius;
        double b = e.MinorRadius;
        if (!(a > 0 && b > 0) || !double.IsFinite(a) || !double.IsFinite(b) || !double.IsFinite(e.CenterX) || !double.IsFinite(e.CenterY) || !double.IsFinite(e.Angle))
        {
            return new Spans(0, [], []);
        }

        double cos = Math.Cos(e.Angle);
        double sin = Math.Sin(e.Angle);
        double ia = 1 / (a * a);
        double ib = 1 / (b * b);

        // Points (dx, dy) from the centre are inside when P·dx² + Q·dx + R <= 0 (the rotated ellipse equation
        // u²/a² + v²/b² <= 1, with u = dx·cos + dy·sin and v = −dx·sin + dy·cos, written as a quadratic in dx).
        double p = (cos * cos * ia) + (sin * sin * ib);
        double q1 = 2 * cos * sin * (ia - ib);
        double r1 = (sin * sin * ia) + (cos * cos * ib);
        double halfHeight = Math.Sqrt((a * a * sin * sin) + (b * b * cos * cos));
        int top = ToInt(Math.Ceiling(e.CenterY - halfHeight - 0.5));
        int bottom = ToInt(Math.Floor(e.CenterY + halfHeight - 0.5));
        (top, bottom) = ClipRows(top, bottom, height);
        int n = Math.Max(0, bottom - top + 1);
        var first = new int[n];
        var last = new int[n];
        for (int k = 0; k < n; k++)
        {
            double dy = top + k + 0.5 - e.CenterY;
            double q = q1 * dy;
            double r = (r1 * dy * dy) - 1;
            double disc = (q * q) - (4 * p * r);
            if (disc < 0)
            {
                first[k] = 0;
                last[k] = -1;
                continue;
            }

            double root = Math.Sqrt(disc);
            double lo = e.CenterX + ((-q - root) / (2 * p));
            double hi = e.CenterX + ((-q + root) / (2 * p));
            (first[k], last[k]) = ClipColumns(ToInt(Math.Ceiling(lo - 0.5)), ToInt(Math.Floor(hi - 0.5)), width);
        }

        return new Spans(top, first, last);
    }

    public static Spans Rectangle(FddbDetection d, int? width, int? height)
    {
        if (!(d.Width > 0 && d.Height > 0) || !double.IsFinite(d.X) || !double.IsFinite(d.Y) || !double.IsFinite(d.Width) || !double.IsFinite(d.Height))
        {
            return new Spans(0, [], []);
        }

        int top = ToInt(Math.Ceiling(d.Y - 0.5));
        int bottom = ToInt(Math.Ceiling(d.Y + d.Height - 0.5)) - 1;
        (top, bottom) = ClipRows(top, bottom, height);
        var (left, right) = ClipColumns(ToInt(Math.Ceiling(d.X - 0.5)), ToInt(Math.Ceiling(d.X + d.Width - 0.5)) - 1, width);
        int n = Math.Max(0, bottom - top + 1);
        var first = new int[n];
        var last = new int[n];
        Array.Fill(first, left);
        Array.Fill(last, right);
        return new Spans(top, first, last);
    }

    /// <summary>Pixel IoU of two rasterised regions: shared pixels over pixels in either.</summary>
    public static double IntersectionOverUnion(Spans x, Spans y)
    {
        long areaX = x.Area;
        long areaY = y.Area;
        if (areaX == 0 || areaY == 0)
        {
            return 0;
        }

        long inter = 0;
        int from = Math.Max(x.Top, y.Top);
        int to = Math.Min(x.Top + x.Count, y.Top + y.Count);
        for (int row = from; row < to; row++)
        {
            int i = row - x.Top;
            int j = row - y.Top;
            int lo = Math.Max(x.First[i], y.First[j]);
            int hi = Math.Min(x.Last[i], y.Last[j]);
            if (hi >= lo)
            {
                inter += hi - lo + 1;
            }
        }

        return (double)inter / (areaX + areaY - inter);
    }

    private static (int Top, int Bottom) ClipRows(int top, int bottom, int? height) =>
        height is { } h ? (Math.Max(top, 0), Math.Min(bottom, h - 1)) : (Math.Max(top, -Limit), Math.Min(bottom, Limit));

    private static (int First, int Last) ClipColumns(int first, int last, int? width) =>
        width is { } w ? (Math.Max(first, 0), Math.Min(last, w - 1)) : (Math.Max(first, -Limit), Math.Min(last, Limit));

    // Doubles far outside the int range are clamped before conversion so the spans stay well defined.
    private static int ToInt(double v) => (int)Math.Clamp(v, -2.0 * Limit, 2.0 * Limit);
}
