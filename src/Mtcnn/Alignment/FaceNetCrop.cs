using System.Globalization;

namespace Mtcnn.Alignment;

/// <summary>
/// The box crops FaceNet / InceptionResnetV1 pipelines feed their embedding network, with facenet-pytorch's
/// <c>extract_face</c> semantics: the detection box is widened by a margin given in pixels <i>of the output</i>
/// (<c>margin · box side / (size − margin)</c> image pixels in all, half on each side), clipped to the image,
/// truncated to whole pixels, cut out and resized to <c>size x size</c> (the box's aspect ratio is not kept, as there)
/// with Pillow's bilinear filter: a triangle filter widened by the reduction factor when shrinking (antialiased),
/// computed in Pillow's 8-bit fixed point, horizontal pass first. No landmarks are used.
/// </summary>
/// <remarks>Immutable and thread-safe.</remarks>
public sealed class FaceNetCrop
{
    /// <summary>facenet-pytorch's default output size (InceptionResnetV1's input).</summary>
    public const int DefaultSize = 160;

    /// <summary>The largest output side.</summary>
    public const int MaxSize = 4096;

    // Pillow's fixed point for 8-bit resampling: 32 bits minus 8 for the pixel and 2 for the sign and overflow.
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Creates the cropper.</summary>
    /// <param name="size">Output side in pixels, [1, <see cref="MaxSize"/>].</param>
    /// <param name="margin">Margin in output pixels, [0, <paramref name="size"/> − 1] (facenet-pytorch's <c>margin</c>; 0 there by default, often 32 or 44).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public FaceNetCrop(int size = DefaultSize, int margin = 0)
    {
        if (size is < 1 or > MaxSize)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"Size must be in [1, {MaxSize}].");
        }

        if (margin < 0 || margin >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(margin), margin, string.Create(CultureInfo.InvariantCulture, $"Margin must be in [0, size - 1] = [0, {size - 1}] output pixels."));
        }

        Size = size;
        Margin = margin;
    }

    /// <summary>Output side in pixels.</summary>
    public int Size { get; }

    /// <summary>Margin in output pixels.</summary>
    public int Margin { get; }

    /// <summary>
    /// The whole-pixel region <see cref="Crop"/> cuts out for <paramref name="box"/>: <c>[X1, X2) x [Y1, Y2)</c> in
    /// image pixels.
    /// </summary>
    /// <exception cref="AlignmentException">The region is empty (the box lies outside the image or is not finite).</exception>
    public (int X1, int Y1, int X2, int Y2) Region(BoundingBox box, int imageWidth, int imageHeight)
    {
        double mx = Margin * ((double)box.X2 - box.X1) / (Size - Margin);
        double my = Margin * ((double)box.Y2 - box.Y1) / (Size - Margin);
        double x1 = Math.Max(box.X1 - (mx / 2), 0), y1 = Math.Max(box.Y1 - (my / 2), 0);
        double x2 = Math.Min(box.X2 + (mx / 2), imageWidth), y2 = Math.Min(box.Y2 + (my / 2), imageHeight);
        if (!(double.IsFinite(x1) && double.IsFinite(y1) && double.IsFinite(x2) && double.IsFinite(y2)))
        {
            throw new AlignmentException("The face box is not finite.");
        }

        // Python's int() truncates towards zero.
        var region = ((int)Math.Truncate(x1), (int)Math.Truncate(y1), (int)Math.Truncate(x2), (int)Math.Truncate(y2));
        if (region.Item3 <= region.Item1 || region.Item4 <= region.Item2)
        {
            throw new AlignmentException(string.Create(CultureInfo.InvariantCulture,
                $"The face box [{box.X1:0.##}, {box.Y1:0.##}, {box.X2:0.##}, {box.Y2:0.##}] leaves no pixels of the {imageWidth}x{imageHeight} image to crop."));
        }

        return region;
    }

    /// <summary>Crops one face.</summary>
    /// <param name="image">The image the face was detected in (any <see cref="PixelFormat"/>; grey is expanded, alpha dropped).</param>
    /// <param name="box">The face's box.</param>
    /// <returns>The <see cref="Size"/> x <see cref="Size"/> RGB24 crop and the region it came from.</returns>
    /// <exception cref="ArgumentException">The image is empty.</exception>
    /// <exception cref="AlignmentException">The region is empty.</exception>
    public (ImageData Image, (int X1, int Y1, int X2, int Y2) Region) Crop(ImageData image, BoundingBox box)
    {
        if (image.IsEmpty)
        {
            throw new ArgumentException("The image is empty (default ImageData).", nameof(image));
        }

        var region = Region(box, image.Width, image.Height);
        int w = region.X2 - region.X1, h = region.Y2 - region.Y1;
        int bpp = ImageData.BytesPerPixelOf(image.Format);
        bool bgrSource = image.Format is PixelFormat.Bgr24 or PixelFormat.Bgra32;
        ReadOnlySpan<byte> src = image.Pixels.Span;

        // The region as RGB24 (what Pillow's crop of an RGB image holds).
        var rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
        {
            int s = ((region.Y1 + y) * image.Stride) + (region.X1 * bpp);
            int d = y * w * 3;
            for (int x = 0; x < w; x++, s += bpp, d += 3)
            {
                if (bpp == 1)
                {
                    rgb[d] = rgb[d + 1] = rgb[d + 2] = src[s];
                }
                else
                {
                    rgb[d] = src[bgrSource ? s + 2 : s];
                    rgb[d + 1] = src[s + 1];
                    rgb[d + 2] = src[bgrSource ? s : s + 2];
                }
            }
        }

        byte[] horizontal = w == Size ? rgb : ResampleRows(rgb, w, h, Size);
        byte[] output = h == Size ? horizontal : ResampleColumns(horizontal, Size, h, Size);
        return (new ImageData(output, Size, Size, PixelFormat.Rgb24), region);
    }

    /// <summary>
    /// Pillow's coefficients for resampling <paramref name="inSize"/> samples to <paramref name="outSize"/> with the
    /// bilinear (triangle) filter: for each output sample the first input index and the fixed-point weights.
    /// </summary>
    internal static (int[] Start, int[] Count, int[] Weights, int Taps) Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterScale; // the triangle's support is 1, widened by the reduction
        int taps = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[outSize];
        var count = new int[outSize];
        var weights = new int[outSize * taps];
        var w = new double[taps];
        for (int i = 0; i < outSize; i++)
        {
            double center = (i + 0.5) * scale;
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            double total = 0;
            for (int x = 0; x < xmax; x++)
            {
                double t = Math.Abs((x + xmin - center + 0.5) / filterScale);
                w[x] = t < 1 ? 1 - t : 0;
                total += w[x];
            }

            for (int x = 0; x < xmax; x++)
            {
                double k = total != 0 ? w[x] / total : 0;
                weights[(i * taps) + x] = (int)(k < 0 ? (k * (1 << PrecisionBits)) - 0.5 : (k * (1 << PrecisionBits)) + 0.5);
            }

            start[i] = xmin;
            count[i] = xmax;
        }

        return (start, count, weights, taps);
    }

    private static byte[] ResampleRows(byte[] src, int w, int h, int outW)
    {
        var (start, count, weights, taps) = Coefficients(w, outW);
        var dst = new byte[outW * h * 3];
        for (int y = 0; y < h; y++)
        {
            int row = y * w * 3;
            for (int i = 0; i < outW; i++)
            {
                int s0 = 1 << (PrecisionBits - 1), s1 = s0, s2 = s0;
                int k0 = i * taps;
                for (int x = 0; x < count[i]; x++)
                {
                    int k = weights[k0 + x];
                    int p = row + ((start[i] + x) * 3);
                    s0 += src[p] * k;
                    s1 += src[p + 1] * k;
                    s2 += src[p + 2] * k;
                }

                int d = ((y * outW) + i) * 3;
                dst[d] = Clip(s0);
                dst[d + 1] = Clip(s1);
                dst[d + 2] = Clip(s2);
            }
        }

        return dst;
    }

    private static byte[] ResampleColumns(byte[] src, int w, int h, int outH)
    {
        var (start, count, weights, taps) = Coefficients(h, outH);
        var dst = new byte[w * outH * 3];
        for (int i = 0; i < outH; i++)
        {
            int k0 = i * taps;
            for (int x = 0; x < w; x++)
            {
                int s0 = 1 << (PrecisionBits - 1), s1 = s0, s2 = s0;
                for (int y = 0; y < count[i]; y++)
                {
                    int k = weights[k0 + y];
                    int p = (((start[i] + y) * w) + x) * 3;
                    s0 += src[p] * k;
                    s1 += src[p + 1] * k;
                    s2 += src[p + 2] * k;
                }

                int d = ((i * w) + x) * 3;
                dst[d] = Clip(s0);
                dst[d + 1] = Clip(s1);
                dst[d + 2] = Clip(s2);
            }
        }

        return dst;
    }

    private static byte Clip(int sum)
    {
        int v = sum >> PrecisionBits;
        return (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}
