using System.Runtime.Intrinsics;

namespace Mtcnn.Cascade;

/// <summary>
/// Summed-area table of an 8-bit image, per colour channel in the network's channel order. For the original weights
/// every resampling the cascade does (pyramid levels and the 24/48 crops) is area averaging as PyTorch's adaptive
/// average pooling defines it (as facenet-pytorch resamples): output pixel i of n averages input pixels floor(i*in/n) .. ceil((i+1)*in/n)-1. With the table each
/// output pixel costs four lookups per channel, whatever the window size, and the sums are exact integers.
/// </summary>
/// <remarks>
/// Entries are unsigned 32-bit and allowed to wrap: a window sum computed with wrapping arithmetic is exact as long
/// as the true sum is below 2^32 (any window under 16.8 million pixels), far beyond what MTCNN asks for.
/// Crops that reach past the border count the outside as zero-valued pixels (the original MTCNN's zero padding)
/// while dividing by the full window area.
/// </remarks>
internal sealed class IntegralImage : ImageResampler
{
    private uint[] table = [];

    private int RowLength => (Width + 1) * 3;

    /// <summary>
    /// Builds the table for the pixels. <paramref name="bgr"/> selects the channel order of the
    /// output (false: R, G, B as the original nets expect).
    /// </summary>
    public override unsafe void Build(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format, bool bgr)
    {
        Width = width;
        Height = height;
        long needed = ((long)(width + 1) * (height + 1) * 3) + 1; // +1: Resample reads 4 entries per pixel
        if (table.Length < needed)
        {
            table = new uint[needed];
        }

        int bpp = ImageData.BytesPerPixelOf(format);
        if (width < 0 || height < 0 || (height > 0 && pixels.Length < ((long)(height - 1) * stride) + ((long)width * bpp)))
        {
            throw new ArgumentException($"{width}x{height} pixels of {bpp} bytes with rows {stride} bytes apart need more than the {pixels.Length} bytes given.", nameof(pixels));
        }

        bool srcBgr = format is PixelFormat.Bgr24 or PixelFormat.Bgra32;
        bool swap = format != PixelFormat.Gray8 && srcBgr != bgr;
        int c0 = swap ? 2 : 0, c2 = swap ? 0 : 2;
        int rl = RowLength;
        Array.Clear(table, 0, rl);
        fixed (byte* px = pixels)
        fixed (uint* t = table)
        {
            for (int y = 0; y < height; y++)
            {
                byte* row = px + ((long)y * stride);
                uint* prev = t + ((long)y * rl);
                uint* cur = prev + rl;
                cur[0] = cur[1] = cur[2] = 0;

                // The row's running sums first (three short dependency chains), then the row above added with
                // vectors: the table row stays in L1 between the two passes.
                uint s0 = 0, s1 = 0, s2 = 0;
                uint* o = cur + 3;
                if (bpp == 1)
                {
                    for (int x = 0; x < width; x++, o += 3)
                    {
                        s0 += row[x];
                        o[0] = s0;
                        o[1] = s0;
                        o[2] = s0;
                    }
                }
                else
                {
                    byte* q = row;
                    for (int x = 0; x < width; x++, q += bpp, o += 3)
                    {
                        s0 += q[c0];
                        s1 += q[1];
                        s2 += q[c2];
                        o[0] = s0;
                        o[1] = s1;
                        o[2] = s2;
                    }
                }

                int n = width * 3, k = 0;
                uint* dstRow = cur + 3, above = prev + 3;
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; k + 8 <= n; k += 8)
                    {
                        (Vector256.Load(dstRow + k) + Vector256.Load(above + k)).Store(dstRow + k);
                    }
                }

                if (Vector128.IsHardwareAccelerated)
                {
                    for (; k + 4 <= n; k += 4)
                    {
                        (Vector128.Load(dstRow + k) + Vector128.Load(above + k)).Store(dstRow + k);
                    }
                }

                for (; k < n; k++)
                {
                    dstRow[k] = unchecked(dstRow[k] + above[k]);
                }
            }
        }
    }

    /// <summary>Ints of scratch <see cref="Resample"/> needs for an output <paramref name="outWidth"/> pixels wide.</summary>
    public override int ScratchInts(int outWidth) => outWidth * 4;

    /// <summary>
    /// Window bounds of area resampling <paramref name="inLength"/> samples (starting at <paramref name="origin"/>)
    /// to <paramref name="outLength"/>: output i covers [start[i], end[i]) in image coordinates, clamped to
    /// [0, <paramref name="limit"/>]; <paramref name="counts"/> gets each unclamped window length.
    /// </summary>
    public static void Windows(int origin, int inLength, int outLength, int limit, Span<int> start, Span<int> end, Span<int> counts)
    {
        // floor(i * in / out) and ceil((i + 1) * in / out) stepped as quotient and remainder: no division per window.
        long step = inLength / outLength, rem = inLength % outLength;
        long qs = 0, rs = 0;
        long qe = ((long)inLength + outLength - 1) / outLength, re = ((long)inLength + outLength - 1) % outLength;
        for (int i = 0; i < outLength; i++)
        {
            counts[i] = (int)(qe - qs);
            start[i] = (int)Math.Clamp(origin + qs, 0, limit);
            end[i] = (int)Math.Clamp(origin + qe, 0, limit);
            qs += step;
            rs += rem;
            if (rs >= outLength)
            {
                rs -= outLength;
                qs++;
            }

            qe += step;
            re += rem;
            if (re >= outLength)
            {
                re -= outLength;
                qe++;
            }
        }
    }

    // 1 / n for window areas up to this size, so that a pixel's reciprocal is a lookup (the same float as 1f / n).
    private static readonly float[] ReciprocalTable = BuildReciprocals(1 << 16);

    /// <summary>
    /// The window of output row <paramref name="i"/> of area resampling <paramref name="regionHeight"/> rows (from
    /// <paramref name="y0"/>) to <paramref name="outHeight"/>: its unclamped row count, and its rows [top, bottom)
    /// clamped to the image's <paramref name="height"/>.
    /// </summary>
    public static (int Count, int Top, int Bottom) RowWindow(int i, int y0, int regionHeight, int outHeight, int height)
    {
        long ys = (long)i * regionHeight / outHeight;
        long ye = (((long)(i + 1) * regionHeight) + outHeight - 1) / outHeight;
        return ((int)(ye - ys), (int)Math.Clamp(y0 + ys, 0, height), (int)Math.Clamp(y0 + ye, 0, height));
    }

    /// <summary>
    /// <c>1 / (rowCount * counts[j])</c> for every window of an output row: the same float as dividing pixel by pixel.
    /// </summary>
    public static void Reciprocals(int rowCount, ReadOnlySpan<int> counts, Span<float> inverse)
    {
        float[] reciprocals = ReciprocalTable;
        for (int j = 0; j < counts.Length; j++)
        {
            int area = rowCount * counts[j];
            inverse[j] = (uint)area < (uint)reciprocals.Length ? reciprocals[area] : 1f / area;
        }
    }

    private static float[] BuildReciprocals(int n)
    {
        var r = new float[n];
        for (int i = 0; i < n; i++)
        {
            r[i] = 1f / i;
        }

        return r;
    }

    /// <summary>
    /// Writes rows [<paramref name="firstRow"/>, +<paramref name="rows"/>) of the area-resampled image of size
    /// <paramref name="outHeight"/> x <paramref name="outWidth"/> (the region <paramref name="x0"/>, <paramref name="y0"/>,
    /// <paramref name="regionWidth"/> x <paramref name="regionHeight"/> of the image, zero outside the image) as
    /// channels-last floats <c>(mean - offset) * scale</c>.
    /// </summary>
    public override unsafe void Resample(int x0, int y0, int regionWidth, int regionHeight, int outWidth, int outHeight, int firstRow, int rows,
        float offset, float scale, Span<float> destination, Span<int> scratch)
    {
        if (scratch.Length < ScratchInts(outWidth) || destination.Length < rows * outWidth * 3)
        {
            throw new ArgumentException("Resample scratch or destination is too small.");
        }

        Span<int> xs = scratch[..outWidth], xe = scratch.Slice(outWidth, outWidth), xc = scratch.Slice(2 * outWidth, outWidth);
        Span<float> inv = System.Runtime.InteropServices.MemoryMarshal.Cast<int, float>(scratch.Slice(3 * outWidth, outWidth));
        Windows(x0, regionWidth, outWidth, Width, xs, xe, xc);
        int rl = RowLength;
        int lastCount = -1;
        var vOffset = Vector128.Create(offset);
        var vScale = Vector128.Create(scale);
        fixed (uint* t = table)
        fixed (int* pxs = xs, pxe = xe)
        fixed (float* pinv = inv, pdst = destination)
        {
            for (int r = 0; r < rows; r++)
            {
                var (rowCount, top, bottom) = RowWindow(firstRow + r, y0, regionHeight, outHeight, Height);
                if (rowCount != lastCount)
                {
                    Reciprocals(rowCount, xc, inv);
                    lastCount = rowCount;
                }
                uint* tTop = t + ((long)top * rl), tBottom = t + ((long)bottom * rl);
                float* dst = pdst + ((long)r * outWidth * 3);

                // Four lanes per pixel (the fourth belongs to the next pixel and is overwritten by it); the last
                // pixel of the row goes one channel at a time so nothing is written past the row.
                int j0 = 0;
                if (Vector128.IsHardwareAccelerated)
                {
                    for (; j0 < outWidth - 1; j0++)
                    {
                        int a = pxs[j0] * 3, b = pxe[j0] * 3;
                        var sum = Vector128.Load(tBottom + b) - Vector128.Load(tBottom + a) - Vector128.Load(tTop + b) + Vector128.Load(tTop + a);
                        var mean = Vector128.ConvertToSingle(sum) * Vector128.Create(pinv[j0]);
                        ((mean - vOffset) * vScale).Store(dst + (j0 * 3));
                    }
                }

                for (int j = j0; j < outWidth; j++)
                {
                    int a = pxs[j] * 3, b = pxe[j] * 3;
                    float f = pinv[j];
                    for (int c = 0; c < 3; c++)
                    {
                        uint sum = unchecked(tBottom[b + c] - tBottom[a + c] - tTop[b + c] + tTop[a + c]);
                        dst[(j * 3) + c] = ((sum * f) - offset) * scale;
                    }
                }
            }
        }
    }
}
