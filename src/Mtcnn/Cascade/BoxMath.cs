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
    /// <paramref name="windows"/>, best first. <paramref name="order"/> and <paramref name="suppressed"/> are scratch.
    /// </summary>
    public static void Nms(List<Window> windows, float threshold, OverlapKind kind, List<int> order, List<bool> suppressed, List<Window> scratch)
    {
        int n = windows.Count;
        if (n <= 1)
        {
            return;
        }

        order.Clear();
        for (int i = 0; i < n; i++)
        {
            order.Add(i);
        }

        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(windows);
        var comparer = new ScoreOrder(windows);
        order.Sort(comparer);
        suppressed.Clear();
        for (int i = 0; i < n; i++)
        {
            suppressed.Add(false);
        }

        scratch.Clear();
        bool plusOne = kind == OverlapKind.MinimumPlusOne;
        for (int a = 0; a < n; a++)
        {
            if (suppressed[a])
            {
                continue;
            }

            ref readonly Window w = ref span[order[a]];
            scratch.Add(w);
            float areaA = plusOne ? (w.X2 - w.X1 + 1) * (w.Y2 - w.Y1 + 1) : (w.X2 - w.X1) * (w.Y2 - w.Y1);
            for (int b = a + 1; b < n; b++)
            {
                if (suppressed[b])
                {
                    continue;
                }

                ref readonly Window v = ref span[order[b]];
                float iw = Math.Min(w.X2, v.X2) - Math.Max(w.X1, v.X1);
                float ih = Math.Min(w.Y2, v.Y2) - Math.Max(w.Y1, v.Y1);
                if (plusOne)
                {
                    iw += 1;
                    ih += 1;
                }

                if (iw <= 0 || ih <= 0)
                {
                    continue;
                }

                float inter = iw * ih;
                float areaB = plusOne ? (v.X2 - v.X1 + 1) * (v.Y2 - v.Y1 + 1) : (v.X2 - v.X1) * (v.Y2 - v.Y1);
                float overlap = plusOne ? inter / Math.Min(areaA, areaB) : inter / (areaA + areaB - inter);
                if (overlap > threshold)
                {
                    suppressed[b] = true;
                }
            }
        }

        windows.Clear();
        windows.AddRange(scratch);
    }

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

    /// <summary>Truncation toward zero, saturated so that absurd regressions cannot overflow.</summary>
    private static int Trunc(float v) => float.IsNaN(v) ? 0 : (int)Math.Clamp(v, -1e8f, 1e8f);

    private sealed class ScoreOrder(List<Window> windows) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            int c = windows[b].Score.CompareTo(windows[a].Score);
            return c != 0 ? c : a.CompareTo(b);
        }
    }
}
