namespace Mtcnn.Cascade;

/// <summary>
/// OpenCV's <c>cv::resize(..., INTER_LINEAR)</c> on 8-bit, 3-channel images, reproduced bit for bit: the resampler of
/// the reference project (spec section 4), which resizes its pyramid levels and its 24x24 / 48x48 crops this way. The
/// resized 8-bit values are then turned into network input as <c>(v - offset) * scale</c>.
/// </summary>
/// <remarks>
/// <para>What OpenCV (4.x, generic CPU path) computes, and this class with it:</para>
/// <list type="bullet">
/// <item>Same size: a plain copy. Exactly half the size on both axes: INTER_AREA's 2x2 mean,
/// <c>(a + b + c + d + 2) &gt;&gt; 2</c>.</item>
/// <item>Otherwise half-pixel centres: output column <c>dx</c> samples <c>fx = (float)((dx + 0.5) * sx - 0.5)</c> with
/// <c>sx = 1 / (outWidth / inWidth)</c> in double; <c>x = floor(fx)</c>; past the left or right edge the nearest edge
/// pixel is taken alone (weight 1). Rows likewise, but the row index is clamped without resetting the weight.</item>
/// <item>Weights in 11-bit fixed point: <c>round((1 - f) * 2048)</c> and <c>round(f * 2048)</c>, rounding half to even.
/// The horizontal pass gives exact integers <c>h = p0 * a0 + p1 * a1</c>.</item>
/// <item>The vertical pass uses the arithmetic of OpenCV's 16-bit vector code for every element:
/// <c>t = ((h0 &gt;&gt; 4) * b0 &gt;&gt; 16) + ((h1 &gt;&gt; 4) * b1 &gt;&gt; 16)</c>, result <c>(t + 2) &gt;&gt; 2</c>. (OpenCV's scalar
/// formula, <c>(h0 * b0 + h1 * b1 + 2^21) &gt;&gt; 22</c>, rounds differently; with it for the few elements at the end of
/// each row that a full vector does not cover, the byte sum of the recorded 453x298 resize would be off by 270.)</item>
/// </list>
/// <para>A crop that reaches past the image border reads zero-valued pixels there, like the reference project's
/// zero-filled crop buffer, before it is resized.</para>
/// </remarks>
internal sealed class BilinearResampler : ImageResampler
{
    private const int CoefficientScale = 1 << 11;
    private byte[] image = [];

    private enum Mode
    {
        Copy,
        HalfArea,
        Linear,
    }

    /// <summary>Copies the pixels as packed 3-channel bytes in the network's channel order.</summary>
    public override void Build(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format, bool bgr)
    {
        Width = width;
        Height = height;
        int needed = width * height * 3;
        if (image.Length < needed)
        {
            image = new byte[needed];
        }

        int bpp = ImageData.BytesPerPixelOf(format);
        bool srcBgr = format is PixelFormat.Bgr24 or PixelFormat.Bgra32;
        bool swap = format != PixelFormat.Gray8 && srcBgr != bgr;
        int c0 = swap ? 2 : 0, c2 = swap ? 0 : 2;
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = pixels.Slice(y * stride, width * bpp);
            Span<byte> dst = image.AsSpan(y * width * 3, width * 3);
            if (bpp == 1)
            {
                for (int x = 0; x < width; x++)
                {
                    dst[(x * 3) + 2] = dst[(x * 3) + 1] = dst[x * 3] = row[x];
                }
            }
            else
            {
                for (int x = 0, i = 0; x < width; x++, i += bpp)
                {
                    dst[x * 3] = row[i + c0];
                    dst[(x * 3) + 1] = row[i + 1];
                    dst[(x * 3) + 2] = row[i + c2];
                }
            }
        }
    }

    /// <summary>Column tables (3 x width), two horizontally resampled rows and one output row (3 x 3 x width).</summary>
    public override int ScratchInts(int outWidth) => outWidth * 12;

    /// <inheritdoc/>
    public override void Resample(int x0, int y0, int regionWidth, int regionHeight, int outWidth, int outHeight, int firstRow, int rows,
        float offset, float scale, Span<float> destination, Span<int> scratch)
    {
        int w3 = outWidth * 3;
        var rowState = Prepare(x0, y0, regionWidth, regionHeight, outWidth, outHeight, scratch);
        Span<int> outRow = scratch.Slice(9 * outWidth, w3);
        for (int r = 0; r < rows; r++)
        {
            Row(ref rowState, firstRow + r, scratch, outRow);
            Span<float> dst = destination.Slice(r * w3, w3);
            for (int i = 0; i < w3; i++)
            {
                dst[i] = (outRow[i] - offset) * scale;
            }
        }
    }

    /// <summary>The resampled 8-bit values themselves (rows [<paramref name="firstRow"/>, +<paramref name="rows"/>)).</summary>
    public void ResampleBytes(int x0, int y0, int regionWidth, int regionHeight, int outWidth, int outHeight, int firstRow, int rows,
        Span<byte> destination, Span<int> scratch)
    {
        int w3 = outWidth * 3;
        var rowState = Prepare(x0, y0, regionWidth, regionHeight, outWidth, outHeight, scratch);
        Span<int> outRow = scratch.Slice(9 * outWidth, w3);
        for (int r = 0; r < rows; r++)
        {
            Row(ref rowState, firstRow + r, scratch, outRow);
            Span<byte> dst = destination.Slice(r * w3, w3);
            for (int i = 0; i < w3; i++)
            {
                dst[i] = (byte)outRow[i];
            }
        }
    }

    /// <summary>Rounds to the nearest integer, ties to even (OpenCV's <c>cvRound</c> / <c>saturate_cast&lt;short&gt;</c>).</summary>
    private static int RoundEven(float v) => (int)MathF.Round(v, MidpointRounding.ToEven);

    private static RowState Prepare(int x0, int y0, int rw, int rh, int ow, int oh, Span<int> scratch)
    {
        var mode = rw == ow && rh == oh ? Mode.Copy : rw == 2 * ow && rh == 2 * oh ? Mode.HalfArea : Mode.Linear;
        var s = new RowState(mode, x0, y0, rw, rh, ow, oh);
        if (mode != Mode.Linear)
        {
            return s;
        }

        Span<int> xofs = scratch[..ow], a0 = scratch.Slice(ow, ow), a1 = scratch.Slice(2 * ow, ow);
        double scaleX = 1.0 / ((double)ow / rw);
        for (int dx = 0; dx < ow; dx++)
        {
            float fx = (float)(((dx + 0.5) * scaleX) - 0.5);
            int sx = (int)MathF.Floor(fx);
            fx -= sx;
            if (sx < 0)
            {
                fx = 0;
                sx = 0;
            }

            if (sx >= rw - 1)
            {
                fx = 0;
                sx = rw - 1;
            }

            xofs[dx] = sx;
            a0[dx] = RoundEven((1f - fx) * CoefficientScale);
            a1[dx] = RoundEven(fx * CoefficientScale);
        }

        return s;
    }

    private void Row(ref RowState s, int dy, Span<int> scratch, Span<int> outRow)
    {
        switch (s.Mode)
        {
            case Mode.Copy:
                for (int dx = 0; dx < s.OutWidth; dx++)
                {
                    for (int c = 0; c < 3; c++)
                    {
                        outRow[(dx * 3) + c] = Pixel(s.X0 + dx, s.Y0 + dy, c);
                    }
                }

                return;
            case Mode.HalfArea:
                for (int dx = 0; dx < s.OutWidth; dx++)
                {
                    int x = s.X0 + (2 * dx), y = s.Y0 + (2 * dy);
                    for (int c = 0; c < 3; c++)
                    {
                        int sum = Pixel(x, y, c) + Pixel(x + 1, y, c) + Pixel(x, y + 1, c) + Pixel(x + 1, y + 1, c);
                        outRow[(dx * 3) + c] = (sum + 2) >> 2;
                    }
                }

                return;
        }

        int ow = s.OutWidth, w3 = ow * 3;
        double scaleY = 1.0 / ((double)s.OutHeight / s.RegionHeight);
        float fy = (float)(((dy + 0.5) * scaleY) - 0.5);
        int sy = (int)MathF.Floor(fy);
        fy -= sy;
        int b0 = RoundEven((1f - fy) * CoefficientScale), b1 = RoundEven(fy * CoefficientScale);
        int r0 = Math.Clamp(sy, 0, s.RegionHeight - 1), r1 = Math.Clamp(sy + 1, 0, s.RegionHeight - 1);

        Span<int> slotA = scratch.Slice(3 * ow, w3), slotB = scratch.Slice(6 * ow, w3);
        int k0 = Load(ref s, r0, r1, scratch, slotA, slotB);
        int k1 = Load(ref s, r1, r0, scratch, slotA, slotB);
        ReadOnlySpan<int> h0 = k0 == 0 ? slotA : slotB, h1 = k1 == 0 ? slotA : slotB;
        for (int i = 0; i < w3; i++)
        {
            // OpenCV's 16-bit vector arithmetic: h >> 4 fits a short, mul_hi keeps the top half of the 32-bit product.
            int t = ((h0[i] >> 4) * b0 >> 16) + ((h1[i] >> 4) * b1 >> 16);
            outRow[i] = Math.Clamp((t + 2) >> 2, 0, 255);
        }
    }

    /// <summary>
    /// Makes region row <paramref name="r"/> available, horizontally resampled, in slot A (0) or B (1) without evicting
    /// row <paramref name="keep"/>; returns the slot. Consecutive output rows share source rows, so most are reused.
    /// </summary>
    private int Load(ref RowState s, int r, int keep, Span<int> scratch, Span<int> slotA, Span<int> slotB)
    {
        if (s.RowA == r)
        {
            return 0;
        }

        if (s.RowB == r)
        {
            return 1;
        }

        int slot = s.RowA == keep ? 1 : 0;
        HorizontalRow(s, r, scratch, slot == 0 ? slotA : slotB);
        if (slot == 0)
        {
            s.RowA = r;
        }
        else
        {
            s.RowB = r;
        }

        return slot;
    }

    private void HorizontalRow(in RowState s, int r, Span<int> scratch, Span<int> dst)
    {
        int ow = s.OutWidth, iy = s.Y0 + r;
        if ((uint)iy >= (uint)Height)
        {
            dst.Clear();
            return;
        }

        ReadOnlySpan<int> xofs = scratch[..ow], a0 = scratch.Slice(ow, ow), a1 = scratch.Slice(2 * ow, ow);
        ReadOnlySpan<byte> row = image.AsSpan(iy * Width * 3, Width * 3);
        int last = s.RegionWidth - 1;
        for (int dx = 0; dx < ow; dx++)
        {
            int sx = xofs[dx];
            int ix0 = s.X0 + sx, ix1 = s.X0 + Math.Min(sx + 1, last);
            bool in0 = (uint)ix0 < (uint)Width, in1 = (uint)ix1 < (uint)Width;
            int w0 = a0[dx], w1 = a1[dx];
            for (int c = 0; c < 3; c++)
            {
                int p0 = in0 ? row[(ix0 * 3) + c] : 0, p1 = in1 ? row[(ix1 * 3) + c] : 0;
                dst[(dx * 3) + c] = (p0 * w0) + (p1 * w1);
            }
        }
    }

    private int Pixel(int x, int y, int c) =>
        (uint)x < (uint)Width && (uint)y < (uint)Height ? image[(((y * Width) + x) * 3) + c] : 0;

    /// <summary>One call's geometry and which region rows the two horizontal-row slots hold.</summary>
    private struct RowState(Mode mode, int x0, int y0, int regionWidth, int regionHeight, int outWidth, int outHeight)
    {
        public readonly Mode Mode = mode;
        public readonly int X0 = x0;
        public readonly int Y0 = y0;
        public readonly int RegionWidth = regionWidth;
        public readonly int RegionHeight = regionHeight;
        public readonly int OutWidth = outWidth;
        public readonly int OutHeight = outHeight;
        public int RowA = int.MinValue;
        public int RowB = int.MinValue;
    }
}
