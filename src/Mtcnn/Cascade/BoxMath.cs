namespace Mtcnn.Cascade;

/// <summary>A candidate window with its score and pending box regression (fractions of the box size).</summary>
internal struct Window
{
    public float X1;
    public float Y1;
    public float X2;
    public float Y2;
    public float Score;
    public float Dx1;
    public float Dy1;
    public float Dx2;
    public float Dy2;

    /// <summary>Index of the window's row in a stage's output table (to find its landmarks after suppression).</summary>
    public int Tag;

    public Window(float x1, float y1, float x2, float y2, float score)
    {
        X1 = x1;
        Y1 = y1;
        X2 = x2;
        Y2 = y2;
        Score = score;
    }

    public readonly BoundingBox Box => new(X1, Y1, X2, Y2);
}

/// <summary>How overlap is measured in non-maximum suppression.</summary>
internal enum OverlapKind
{
    /// <summary>Intersection over union with continuous coordinates (area = w * h), as torchvision's nms.</summary>
    Union,

    /// <summary>Intersection over the smaller box with the +1 pixel convention (area = (w + 1) * (h + 1)), as MTCNN's "Min".</summary>
    MinimumPlusOne,

    /// <summary>
    /// Intersection over union with the +1 pixel convention: boxes are inclusive pixel ranges, as the reference project
    /// measures them.
    /// </summary>
    UnionPlusOne,
}

/// <summary>
/// Box operations of the cascade (spec section 3), with the arithmetic of the widely used facenet-pytorch port
/// (float32 throughout): non-maximum suppression, box regression and squaring.
/// </summary>
internal static class BoxMath
{
    /// <summary>
    /// Greedy non-maximum suppression: visits windows by descending score (ties by original index) and drops every
    /// later window whose overlap with a kept one exceeds <paramref name="threshold"/>. Keeps the survivors in
    /// <paramref name="windows"/>, best first.
    /// </summary>
    /// <remarks>
    /// Same result as the quadratic textbook loop, but a kept window only examines windows whose top-left corner
    /// lies in the grid cells around it (cell side = the largest window side + 2, so any window that can overlap
    /// it, even by the +1 pixel convention, is among them). For union overlaps the windows are first split into size
    /// classes (powers of two of the area), each with its own grid, and a window meets only the classes whose areas
    /// can give an overlap above the threshold: the pyramid-wide suppression after P-Net mixes windows from 12 to
    /// hundreds of pixels, where one grid sized for the largest would put everything in a few cells. P-Net levels
    /// produce thousands of windows; this keeps suppression linear in practice.
    /// </remarks>
    public static void Nms(List<Window> windows, float threshold, OverlapKind kind, NmsScratch scratch)
    {
        int n = windows.Count;
        if (n <= 1)
        {
            return;
        }

        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(windows);
        var s = scratch.Prepare(n);

        // Order by descending score, ties by index (a stable order makes results reproducible).
        // Scores are probabilities (>= 0), whose IEEE bits order like the values: pack (inverted bits, index) into
        // one 64-bit key so a plain ascending sort gives descending score, then ascending index.
        for (int i = 0; i < n; i++)
        {
            uint bits = BitConverter.SingleToUInt32Bits(Math.Max(span[i].Score, 0f));
            s.Keys[i] = ((long)(uint.MaxValue - bits) << 32) | (uint)i;
        }

        Array.Sort(s.Keys, 0, n);
        bool plusOne = kind is OverlapKind.MinimumPlusOne or OverlapKind.UnionPlusOne;
        bool minimum = kind == OverlapKind.MinimumPlusOne;
        float pad = plusOne ? 1 : 0;
        bool sized = !minimum && threshold > 0 && threshold < 1;
        int minClass = int.MaxValue, maxClass = int.MinValue;
        for (int r = 0; r < n; r++)
        {
            int i = (int)(s.Keys[r] & 0xFFFFFFFF);
            s.Order[r] = i;
            ref readonly Window w = ref span[i];
            s.X1[r] = w.X1;
            s.Y1[r] = w.Y1;
            s.X2[r] = w.X2;
            s.Y2[r] = w.Y2;
            float area = (w.X2 - w.X1 + pad) * (w.Y2 - w.Y1 + pad);
            if (sized && area > 0 && float.IsNormal(area))
            {
                s.Class[r] = Math.ILogB(area);
                minClass = Math.Min(minClass, s.Class[r]);
                maxClass = Math.Max(maxClass, s.Class[r]);
            }
            else
            {
                sized = false;
            }
        }

        // Size classes (union overlaps only): a window's area is in [2^k, 2^(k+1)) for class k. An intersection over
        // union above t needs the smaller area to be more than t times the larger, so a window only meets classes
        // that can hold such partners. Each class has its own grid, with cells as wide as its widest window + 2, so
        // the windows that can touch a given one lie in the few cells around it.
        int classes = sized ? maxClass - minClass + 1 : 1;
        if (classes > NmsScratch.MaxClasses)
        {
            sized = false;
            classes = 1;
        }

        if (!sized)
        {
            minClass = 0;
            s.Class.AsSpan(0, n).Clear();
        }

        var grids = s.Grids(classes);
        for (int k = 0; k < classes; k++)
        {
            grids[k] = new NmsGrid { MinX = float.MaxValue, MinY = float.MaxValue, MaxX = float.MinValue, MaxY = float.MinValue };
        }

        for (int r = 0; r < n; r++)
        {
            s.Class[r] -= minClass;
            ref var g = ref grids[s.Class[r]];
            g.MinX = Math.Min(g.MinX, s.X1[r]);
            g.MinY = Math.Min(g.MinY, s.Y1[r]);
            g.MaxX = Math.Max(g.MaxX, s.X1[r]);
            g.MaxY = Math.Max(g.MaxY, s.Y1[r]);
            g.Side = Math.Max(g.Side, Math.Max(s.X2[r] - s.X1[r], s.Y2[r] - s.Y1[r]));
            g.Count++;
        }

        int cells = 0;
        for (int k = 0; k < classes; k++)
        {
            ref var g = ref grids[k];
            g.First = cells;
            if (g.Count == 0)
            {
                g.Cols = g.Rows = 0;
                continue;
            }

            g.Cell = Math.Max(g.Side + 2, 1);
            long gx = (long)((g.MaxX - g.MinX) / g.Cell) + 1, gy = (long)((g.MaxY - g.MinY) / g.Cell) + 1;
            if (!float.IsFinite(g.Cell) || !float.IsFinite(g.MinX) || !float.IsFinite(g.MinY) || !float.IsFinite(g.MaxX) || !float.IsFinite(g.MaxY)
                || gx * gy > (4L * g.Count) + 64)
            {
                // Degenerate spread (or non-finite values): one cell, i.e. the plain quadratic loop within the class.
                g.Cell = float.PositiveInfinity;
                gx = gy = 1;
            }

            g.Cols = (int)gx;
            g.Rows = (int)gy;
            cells += g.Cols * g.Rows;
        }

        var start = s.CellStart(cells + 1);
        for (int r = 0; r < n; r++)
        {
            ref readonly var g = ref grids[s.Class[r]];
            s.Cell[r] = g.First + g.CellOf(s.X1[r], s.Y1[r]);
            start[s.Cell[r] + 1]++;
        }

        for (int c = 0; c < cells; c++)
        {
            start[c + 1] += start[c];
        }

        // Fill the cells in rank order, so each cell lists its windows best first.
        var fill = s.CellFill(cells);
        Array.Copy(start, fill, cells);
        for (int r = 0; r < n; r++)
        {
            s.Members[fill[s.Cell[r]]++] = r;
        }

        // From here 'fill' is each cell's head: members before it are at or before the current window in rank, or
        // suppressed, and can never matter again (the current window only moves down the ranks).
        Array.Copy(start, fill, cells);
        Array.Clear(s.Suppressed, 0, n);

        // A conservative bound on the area ratio (float rounding of the overlap is far below 1e-4).
        float ratio = threshold * (1 - 1e-4f);
        int kept = 0;
        for (int a = 0; a < n; a++)
        {
            if (s.Suppressed[a])
            {
                continue;
            }

            s.Kept[kept++] = a;
            float ax1 = s.X1[a], ay1 = s.Y1[a], ax2 = s.X2[a], ay2 = s.Y2[a];
            float areaA = (ax2 - ax1 + pad) * (ay2 - ay1 + pad);
            int kLo = 0, kHi = classes - 1;
            if (sized)
            {
                kLo = Math.Max(kLo, ClassOf(areaA * ratio) - minClass);
                kHi = Math.Min(kHi, ClassOf(areaA / ratio) - minClass);
            }

            for (int k = kLo; k <= kHi; k++)
            {
                ref readonly var g = ref grids[k];
                if (g.Count == 0)
                {
                    continue;
                }

                // A window of this class that overlaps a has its left edge in (ax1 - cell, ax2 + 1], likewise for y.
                int cx0 = 0, cx1 = 0, cy0 = 0, cy1 = 0;
                if (!float.IsPositiveInfinity(g.Cell))
                {
                    (cx0, cx1) = (g.Column(ax1 - g.Cell), g.Column(ax2 + 1));
                    (cy0, cy1) = (g.Row(ay1 - g.Cell), g.Row(ay2 + 1));
                }

                for (int yy = cy0; yy <= cy1; yy++)
                {
                    for (int xx = cx0; xx <= cx1; xx++)
                    {
                        int c = g.First + (yy * g.Cols) + xx, end = start[c + 1], m = fill[c];
                        while (m < end && (s.Members[m] <= a || s.Suppressed[s.Members[m]]))
                        {
                            m++;
                        }

                        fill[c] = m;
                        for (; m < end; m++)
                        {
                            int b = s.Members[m];
                            if (s.Suppressed[b])
                            {
                                continue;
                            }

                            float iw = Math.Min(ax2, s.X2[b]) - Math.Max(ax1, s.X1[b]) + pad;
                            float ih = Math.Min(ay2, s.Y2[b]) - Math.Max(ay1, s.Y1[b]) + pad;
                            if (iw <= 0 || ih <= 0)
                            {
                                continue;
                            }

                            float inter = iw * ih;
                            float areaB = (s.X2[b] - s.X1[b] + pad) * (s.Y2[b] - s.Y1[b] + pad);
                            float overlap = minimum ? inter / Math.Min(areaA, areaB) : inter / (areaA + areaB - inter);
                            if (overlap > threshold)
                            {
                                s.Suppressed[b] = true;
                            }
                        }
                    }
                }
            }
        }

        var keptWindows = s.Windows(kept);
        for (int k = 0; k < kept; k++)
        {
            keptWindows[k] = span[s.Order[s.Kept[k]]];
        }

        windows.Clear();
        windows.AddRange(keptWindows.AsSpan(0, kept)); // a span: no boxed enumerable
    }

    // floor(log2(v)) for the class bounds (v > 0), saturated for values outside the normal range.
    private static int ClassOf(float v) => v <= float.Epsilon ? int.MinValue / 2 : float.IsPositiveInfinity(v) ? int.MaxValue / 2 : Math.ILogB(v);
    /// <summary>
    /// Applies the pending regression. <paramref name="plusOne"/> measures the box as <c>x2 - x1 + 1</c> (R-Net and
    /// O-Net calibration) or <c>x2 - x1</c> (the P-Net step of facenet-pytorch).
    /// </summary>
    public static void Regress(ref Window w, bool plusOne)
    {
        float bw = w.X2 - w.X1 + (plusOne ? 1 : 0);
        float bh = w.Y2 - w.Y1 + (plusOne ? 1 : 0);
        float x1 = w.X1 + (w.Dx1 * bw);
        float y1 = w.Y1 + (w.Dy1 * bh);
        float x2 = w.X2 + (w.Dx2 * bw);
        float y2 = w.Y2 + (w.Dy2 * bh);
        w.X1 = x1;
        w.Y1 = y1;
        w.X2 = x2;
        w.Y2 = y2;
        w.Dx1 = w.Dy1 = w.Dx2 = w.Dy2 = 0;
    }

    /// <summary>Turns the box into a square of side max(w, h) around the same centre.</summary>
    public static void Square(ref Window w)
    {
        float h = w.Y2 - w.Y1;
        float bw = w.X2 - w.X1;
        float l = Math.Max(bw, h);
        w.X1 = w.X1 + (bw * 0.5f) - (l * 0.5f);
        w.Y1 = w.Y1 + (h * 0.5f) - (l * 0.5f);
        w.X2 = w.X1 + l;
        w.Y2 = w.Y1 + l;
    }

    /// <summary>
    /// The pixel region a box is cropped from: MTCNN treats box corners as 1-based pixel indices and truncates them,
    /// so the 0-based region starts at <c>trunc(x1) - 1</c> and spans <c>trunc(x2) - trunc(x1) + 1</c> pixels.
    /// With <paramref name="clipWidth"/> and <paramref name="clipHeight"/> (the image size) the region is first clipped
    /// to the image as facenet-pytorch does; with 0 it may extend past the border. Returns false for an empty region.
    /// </summary>
    public static bool CropRegion(in Window w, int clipWidth, int clipHeight, out int x, out int y, out int width, out int height)
    {
        int tx1 = Trunc(w.X1), ty1 = Trunc(w.Y1), tx2 = Trunc(w.X2), ty2 = Trunc(w.Y2);
        if (clipWidth > 0)
        {
            tx1 = Math.Max(tx1, 1);
            ty1 = Math.Max(ty1, 1);
            tx2 = Math.Min(tx2, clipWidth);
            ty2 = Math.Min(ty2, clipHeight);
        }

        x = tx1 - 1;
        y = ty1 - 1;
        width = tx2 - tx1 + 1;
        height = ty2 - ty1 + 1;
        return width > 0 && height > 0;
    }

    /// <summary>
    /// The reference project's squaring of an inclusive pixel box: side <c>l = max(x2 - x1 + 1, y2 - y1 + 1)</c> around
    /// the same centre, <c>x2 = x1 + l - 1</c>, then every corner rounded to a whole pixel (half to even, as numpy).
    /// </summary>
    public static void SquarePixels(ref Window w)
    {
        // In double precision, as numpy computes it, so that ties round the same way.
        double bw = (double)w.X2 - w.X1 + 1;
        double bh = (double)w.Y2 - w.Y1 + 1;
        double l = Math.Max(bw, bh);
        double x1 = w.X1 + (bw * 0.5) - (l * 0.5);
        double y1 = w.Y1 + (bh * 0.5) - (l * 0.5);
        w.X1 = (float)Math.Round(x1);
        w.Y1 = (float)Math.Round(y1);
        w.X2 = (float)Math.Round(x1 + l - 1);
        w.Y2 = (float)Math.Round(y1 + l - 1);
    }

    /// <summary>
    /// The pixel region of an inclusive pixel box (0-based; the reference project's convention): columns
    /// <c>x1 .. x2</c>, so <c>x2 - x1 + 1</c> pixels. Corners are truncated toward zero after rounding by
    /// <see cref="SquarePixels"/>. With <paramref name="clipWidth"/> and <paramref name="clipHeight"/> the region is
    /// clipped to the image; with 0 it may extend past the border. Returns false for an empty region.
    /// </summary>
    public static bool PixelRegion(in Window w, int clipWidth, int clipHeight, out int x, out int y, out int width, out int height)
    {
        int x1 = Trunc(w.X1), y1 = Trunc(w.Y1), x2 = Trunc(w.X2), y2 = Trunc(w.Y2);
        if (clipWidth > 0)
        {
            x1 = Math.Max(x1, 0);
            y1 = Math.Max(y1, 0);
            x2 = Math.Min(x2, clipWidth - 1);
            y2 = Math.Min(y2, clipHeight - 1);
        }

        x = x1;
        y = y1;
        width = x2 - x1 + 1;
        height = y2 - y1 + 1;
        return width > 0 && height > 0;
    }

    /// <summary>Truncation toward zero, saturated so that absurd regressions cannot overflow.</summary>
    private static int Trunc(float v) => float.IsNaN(v) ? 0 : (int)Math.Clamp(v, -1e8f, 1e8f);


}

/// <summary>The grid of one size class in <see cref="BoxMath.Nms"/>: cells of side <see cref="Cell"/> from (MinX, MinY).</summary>
internal struct NmsGrid
{
    public float MinX;
    public float MinY;
    public float MaxX;
    public float MaxY;
    public float Side;
    public float Cell;
    public int Count;
    public int Cols;
    public int Rows;
    public int First; // index of the class's first cell among all cells

    public readonly int Column(float x) => Index((x - MinX) / Cell, Cols);

    public readonly int Row(float y) => Index((y - MinY) / Cell, Rows);

    private static int Index(float f, int count) => !(f >= 1) ? 0 : f >= count - 1 ? count - 1 : (int)f;

    public readonly int CellOf(float x, float y) => (Row(y) * Cols) + Column(x);
}

/// <summary>Reusable arrays for <see cref="BoxMath.Nms"/>; one per thread.</summary>
internal sealed class NmsScratch
{
    /// <summary>Most size classes (powers of two of the area) before suppression falls back to one grid.</summary>
    public const int MaxClasses = 64;

    private readonly NmsGrid[] grids = new NmsGrid[MaxClasses];
    private int[] cellStart = [];
    private int[] cellFill = [];
    private Window[] windows = [];

    public int[] Class { get; private set; } = [];

    public Span<NmsGrid> Grids(int n) => grids.AsSpan(0, n);

    public int[] Order { get; private set; } = [];

    public long[] Keys { get; private set; } = [];

    public float[] X1 { get; private set; } = [];

    public float[] Y1 { get; private set; } = [];

    public float[] X2 { get; private set; } = [];

    public float[] Y2 { get; private set; } = [];

    public int[] Cell { get; private set; } = [];

    public int[] Members { get; private set; } = [];

    public int[] Kept { get; private set; } = [];

    public bool[] Suppressed { get; private set; } = [];

    public NmsScratch Prepare(int n)
    {
        if (Order.Length < n)
        {
            int size = Math.Max(n, Order.Length * 2);
            Order = new int[size];
            Keys = new long[size];
            X1 = new float[size];
            Y1 = new float[size];
            X2 = new float[size];
            Y2 = new float[size];
            Cell = new int[size];
            Class = new int[size];
            Members = new int[size];
            Kept = new int[size];
            Suppressed = new bool[size];
        }

        return this;
    }

    public int[] CellStart(int n)
    {
        if (cellStart.Length < n)
        {
            cellStart = new int[Math.Max(n, cellStart.Length * 2)];
        }

        Array.Clear(cellStart, 0, n);
        return cellStart;
    }

    public int[] CellFill(int n)
    {
        if (cellFill.Length < n)
        {
            cellFill = new int[Math.Max(n, cellFill.Length * 2)];
        }

        return cellFill;
    }

    public Window[] Windows(int n)
    {
        if (windows.Length < n)
        {
            windows = new Window[Math.Max(n, windows.Length * 2)];
        }

        return windows;
    }
}
