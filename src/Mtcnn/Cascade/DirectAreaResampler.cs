using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mtcnn.Cascade;

/// <summary>
/// Area averaging (the same windows, sums and arithmetic as <see cref="IntegralImage"/>, so the same floats bit for
/// bit) computed straight from the caller's pixels instead of from a summed-area table: no memory per pixel at all,
/// where the table takes 12 bytes a pixel (768 MB for a 64-megapixel photo). Each output row adds up its window's
/// input rows column by column (widened byte vectors), then each output pixel adds up its columns: a pyramid level
/// costs about one pass over the input pixels instead of four lookups per output pixel, so the cascade uses it only
/// for images above <see cref="IntegralImage"/>'s size limit (<see cref="CascadeRunner.DirectResamplingPixels"/>).
/// </summary>
/// <remarks>
/// The pixels are not copied: <see cref="Build"/> keeps their address, so the caller must keep them pinned and
/// unchanged until <see cref="Release"/> (the cascade pins them for the whole detection). Safe for concurrent
/// <see cref="Resample"/> calls, which keep all state in the caller's scratch.
/// </remarks>
internal sealed unsafe class DirectAreaResampler : ImageResampler
{
    private byte* pixels;
    private long stride;
    private int bpp;
    private int c0, c1, c2;

    /// <summary>Keeps the address of <paramref name="pixels"/>, which the caller has pinned (see the remarks).</summary>
    public override void Build(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format, bool bgr)
    {
        int bytes = ImageData.BytesPerPixelOf(format);
        if (width < 0 || height < 0 || (height > 0 && pixels.Length < ((long)(height - 1) * stride) + ((long)width * bytes)))
        {
            throw new ArgumentException($"{width}x{height} pixels of {bytes} bytes with rows {stride} bytes apart need more than the {pixels.Length} bytes given.", nameof(pixels));
        }

        Width = width;
        Height = height;
        this.stride = stride;
        bpp = bytes;
        bool srcBgr = format is PixelFormat.Bgr24 or PixelFormat.Bgra32;
        bool swap = format != PixelFormat.Gray8 && srcBgr != bgr;

        // Output channel k reads source byte c_k of a pixel (all three byte 0 for gray).
        (c0, c1, c2) = format == PixelFormat.Gray8 ? (0, 0, 0) : swap ? (2, 1, 0) : (0, 1, 2);
        this.pixels = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(pixels));
    }

    /// <summary>Forgets the pixels' address (the detection is over).</summary>
    public void Release() => pixels = null;

    /// <summary>
    /// Ints of scratch for an output <paramref name="outWidth"/> pixels wide: the windows (as the table's) and one
    /// column sum per byte of an image row.
    /// </summary>
    public override int ScratchInts(int outWidth) => (outWidth * 4) + (Width * bpp) + 16;

    /// <inheritdoc/>
    public override void Resample(int x0, int y0, int regionWidth, int regionHeight, int outWidth, int outHeight, int firstRow, int rows,
        float offset, float scale, Span<float> destination, Span<int> scratch)
    {
        if (pixels == null)
        {
            throw new InvalidOperationException("The resampler holds no pixels.");
        }

        if (scratch.Length < ScratchInts(outWidth) || destination.Length < rows * outWidth * 3)
        {
            throw new ArgumentException("Resample scratch or destination is too small.");
        }

        Span<int> xs = scratch[..outWidth], xe = scratch.Slice(outWidth, outWidth), xc = scratch.Slice(2 * outWidth, outWidth);
        Span<float> inv = MemoryMarshal.Cast<int, float>(scratch.Slice(3 * outWidth, outWidth));
        Span<uint> columns = MemoryMarshal.Cast<int, uint>(scratch[(4 * outWidth)..]);
        IntegralImage.Windows(x0, regionWidth, outWidth, Width, xs, xe, xc);

        // The columns any window of the region touches (windows are ordered, so the first start and the last end).
        int left = outWidth > 0 ? xs[0] : 0, right = outWidth > 0 ? xe[outWidth - 1] : 0;
        int lastCount = -1;
        var vOffset = Vector128.Create(offset);
        var vScale = Vector128.Create(scale);
        fixed (int* pxs = xs, pxe = xe)
        fixed (float* pinv = inv, pdst = destination)
        fixed (uint* col = columns)
        {
            for (int r = 0; r < rows; r++)
            {
                var (rowCount, top, bottom) = IntegralImage.RowWindow(firstRow + r, y0, regionHeight, outHeight, Height);
                if (rowCount != lastCount)
                {
                    IntegralImage.Reciprocals(rowCount, xc, inv);
                    lastCount = rowCount;
                }

                SumRows(top, bottom, left, right, col);
                float* dst = pdst + ((long)r * outWidth * 3);

                // As the table: four lanes per pixel for all but the last (the fourth is overwritten by the next
                // pixel), the last one channel at a time.
                for (int j = 0; j < outWidth; j++)
                {
                    uint s0 = 0, s1 = 0, s2 = 0;
                    uint* p = col + ((long)(pxs[j] - left) * bpp);
                    for (int x = pxs[j]; x < pxe[j]; x++, p += bpp)
                    {
                        s0 += p[c0];
                        s1 += p[c1];
                        s2 += p[c2];
                    }

                    float f = pinv[j];
                    if (Vector128.IsHardwareAccelerated && j < outWidth - 1)
                    {
                        var mean = Vector128.ConvertToSingle(Vector128.Create(s0, s1, s2, 0u)) * Vector128.Create(f);
                        ((mean - vOffset) * vScale).Store(dst + (j * 3));
                    }
                    else
                    {
                        dst[j * 3] = ((s0 * f) - offset) * scale;
                        dst[(j * 3) + 1] = ((s1 * f) - offset) * scale;
                        dst[(j * 3) + 2] = ((s2 * f) - offset) * scale;
                    }
                }
            }
        }
    }

    /// <summary>Per byte of the columns [<paramref name="left"/>, <paramref name="right"/>): the sum over rows [<paramref name="top"/>, <paramref name="bottom"/>).</summary>
    private void SumRows(int top, int bottom, int left, int right, uint* col)
    {
        int n = (right - left) * bpp;
        new Span<uint>(col, n).Clear();
        for (int y = top; y < bottom; y++)
        {
            byte* row = pixels + (y * stride) + ((long)left * bpp);
            int k = 0;
            if (Vector128.IsHardwareAccelerated)
            {
                for (; k + 16 <= n; k += 16)
                {
                    var (lo, hi) = Vector128.Widen(Vector128.Load(row + k));
                    var (a, b) = Vector128.Widen(lo);
                    var (c, d) = Vector128.Widen(hi);
                    (Vector128.Load(col + k) + a).Store(col + k);
                    (Vector128.Load(col + k + 4) + b).Store(col + k + 4);
                    (Vector128.Load(col + k + 8) + c).Store(col + k + 8);
                    (Vector128.Load(col + k + 12) + d).Store(col + k + 12);
                }
            }

            for (; k < n; k++)
            {
                col[k] += row[k];
            }
        }
    }
}
