namespace Mtcnn.Alignment;

/// <summary>
/// Inverse-mapping warp with bilinear interpolation. Each output pixel (u, v) samples the source at
/// <c>inverse(u, v)</c>; the four neighbours are weighted by distance, and neighbours outside the image come from the
/// border rule (constant colour, or the clamped edge pixel) so edges blend smoothly, as OpenCV's warpAffine does.
/// </summary>
internal static class BilinearWarp
{
    public static void Run(ImageData source, SimilarityTransform inverse, Span<byte> destination, int width, int height, int stride, AlignmentBorder border, RgbColor borderColor)
    {
        ReadOnlySpan<byte> src = source.Pixels.Span;
        int sw = source.Width;
        int sh = source.Height;
        int bpp = source.BytesPerPixel;
        int sstride = source.Stride;
        var (ri, gi, bi) = ChannelOffsets(source.Format);
        bool replicate = border == AlignmentBorder.Replicate;
        Span<double> c00 = stackalloc double[3];
        Span<double> c10 = stackalloc double[3];
        Span<double> c01 = stackalloc double[3];
        Span<double> c11 = stackalloc double[3];

        for (int v = 0; v < height; v++)
        {
            Span<byte> row = destination.Slice(v * stride, width * 3);

            // Along a row the source position moves by (A, B) per output pixel: start at u = 0 and step.
            double sx = (-inverse.B * v) + inverse.TranslateX;
            double sy = (inverse.A * v) + inverse.TranslateY;
            for (int u = 0; u < width; u++, sx += inverse.A, sy += inverse.B)
            {
                double fx0 = Math.Floor(sx);
                double fy0 = Math.Floor(sy);
                double fx = sx - fx0;
                double fy = sy - fy0;
                int o = u * 3;
                if (fx0 >= 0 && fy0 >= 0 && fx0 + 1 < sw && fy0 + 1 < sh)
                {
                    // Fast path: all four neighbours inside.
                    int p = ((int)fy0 * sstride) + ((int)fx0 * bpp);
                    int q = p + sstride;
                    row[o] = Mix(src[p + ri], src[p + bpp + ri], src[q + ri], src[q + bpp + ri], fx, fy);
                    row[o + 1] = Mix(src[p + gi], src[p + bpp + gi], src[q + gi], src[q + bpp + gi], fx, fy);
                    row[o + 2] = Mix(src[p + bi], src[p + bpp + bi], src[q + bi], src[q + bpp + bi], fx, fy);
                    continue;
                }

                if (!replicate && (fx0 + 1 < 0 || fy0 + 1 < 0 || fx0 >= sw || fy0 >= sh))
                {
                    // Entirely outside (also guards the int conversions below against huge coordinates).
                    row[o] = borderColor.R;
                    row[o + 1] = borderColor.G;
                    row[o + 2] = borderColor.B;
                    continue;
                }

                double cx0 = Math.Clamp(fx0, -1, sw);
                double cy0 = Math.Clamp(fy0, -1, sh);
                int x0 = (int)cx0;
                int y0 = (int)cy0;
                Fetch(src, sw, sh, sstride, bpp, ri, gi, bi, x0, y0, replicate, borderColor, c00);
                Fetch(src, sw, sh, sstride, bpp, ri, gi, bi, x0 + 1, y0, replicate, borderColor, c10);
                Fetch(src, sw, sh, sstride, bpp, ri, gi, bi, x0, y0 + 1, replicate, borderColor, c01);
                Fetch(src, sw, sh, sstride, bpp, ri, gi, bi, x0 + 1, y0 + 1, replicate, borderColor, c11);
                for (int c = 0; c < 3; c++)
                {
                    double top = c00[c] + ((c10[c] - c00[c]) * fx);
                    double bottom = c01[c] + ((c11[c] - c01[c]) * fx);
                    row[o + c] = ToByte(top + ((bottom - top) * fy));
                }
            }
        }
    }

    private static (int R, int G, int B) ChannelOffsets(PixelFormat format) => format switch
    {
        PixelFormat.Rgb24 or PixelFormat.Rgba32 => (0, 1, 2),
        PixelFormat.Bgr24 or PixelFormat.Bgra32 => (2, 1, 0),
        _ => (0, 0, 0),
    };

    private static void Fetch(ReadOnlySpan<byte> src, int sw, int sh, int sstride, int bpp, int ri, int gi, int bi, int x, int y, bool replicate, RgbColor border, Span<double> rgb)
    {
        if (x < 0 || y < 0 || x >= sw || y >= sh)
        {
            if (!replicate)
            {
                rgb[0] = border.R;
                rgb[1] = border.G;
                rgb[2] = border.B;
                return;
            }

            x = Math.Clamp(x, 0, sw - 1);
            y = Math.Clamp(y, 0, sh - 1);
        }

        int p = (y * sstride) + (x * bpp);
        rgb[0] = src[p + ri];
        rgb[1] = src[p + gi];
        rgb[2] = src[p + bi];
    }

    private static byte Mix(byte a, byte b, byte c, byte d, double fx, double fy)
    {
        double top = a + ((b - a) * fx);
        double bottom = c + ((d - c) * fx);
        return ToByte(top + ((bottom - top) * fy));
    }

    private static byte ToByte(double value) => (byte)Math.Clamp((int)(value + 0.5), 0, 255);
}
