using System.Buffers;

namespace Mtcnn.Cascade;

/// <summary>A rectangle of whole pixels (0-based column and row of its top-left pixel); it may reach past the image.</summary>
/// <param name="X">Column of the leftmost pixel (negative when the region starts left of the image).</param>
/// <param name="Y">Row of the top pixel.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public readonly record struct PixelRegion(int X, int Y, int Width, int Height);

/// <summary>
/// Cuts square face crops out of an image exactly as the cascade cuts the 24x24 and 48x48 inputs of R-Net and O-Net
/// for the original weights: the same pixel region for a candidate box, the same zero padding past the border and the
/// same area averaging (adaptive average pooling) to the output size. Training data made with it therefore shows the
/// networks the pixels they will see at inference. Build one per image; the table is computed once, then any number
/// of crops can be taken, from any number of threads at once.
/// </summary>
/// <remarks>
/// <para>Coordinates: pixel (i, j) covers [j, j + 1) x [i, i + 1). A region (x, y, w, h) covers columns x .. x + w - 1.</para>
/// <para>Candidate boxes of the cascade follow the original MTCNN's 1-based convention: the crop of a box (x1, y1, x2,
/// y2) is the region starting at column <c>trunc(x1) - 1</c> and spanning <c>trunc(x2) - trunc(x1) + 1</c> pixels
/// (<see cref="CropRegion"/>), and the network's box regression and landmarks are fractions of the frame
/// <c>(x1 - 1, y1 - 1, x2, y2)</c> in 0-based continuous coordinates (<see cref="OutputFrame"/>).</para>
/// <para>Output pixels are the exact area means rounded to the nearest byte; the cascade feeds the unrounded means to
/// the network (a difference of at most half a grey level).</para>
/// <para>The reference variant's cascade resamples with bilinear interpolation instead; this class does not
/// reproduce that.</para>
/// </remarks>
public sealed class FaceCropper
{
    /// <summary>The largest output side <see cref="Extract"/> accepts.</summary>
    public const int MaxSize = 4096;

    private readonly IntegralImage table = new();

    /// <summary>Builds the crop source for an image.</summary>
    /// <param name="image">The pixels (any <see cref="PixelFormat"/> and stride); they are read now and not kept.</param>
    /// <exception cref="ArgumentException">The image is empty (default value).</exception>
    public FaceCropper(ImageData image)
    {
        if (image.IsEmpty)
        {
            throw new ArgumentException("The image is empty (default ImageData).", nameof(image));
        }

        table.Build(image.Pixels.Span, image.Width, image.Height, image.Stride, image.Format, bgr: false);
    }

    /// <summary>Image width in pixels.</summary>
    public int Width => table.Width;

    /// <summary>Image height in pixels.</summary>
    public int Height => table.Height;

    /// <summary>
    /// Turns a box into the square the cascade crops for the next stage: side <c>max(w, h)</c> around the same centre
    /// (no rounding), as it squares P-Net and R-Net candidates before R-Net and O-Net.
    /// </summary>
    /// <param name="box">A candidate box.</param>
    /// <returns>The square box.</returns>
    public static BoundingBox Square(BoundingBox box)
    {
        var w = new Window(box.X1, box.Y1, box.X2, box.Y2, 0f);
        BoxMath.Square(ref w);
        return w.Box;
    }

    /// <summary>
    /// The frame, in 0-based continuous coordinates, that the next network's outputs for the crop of
    /// <paramref name="box"/> refer to: <c>(x1 - 1, y1 - 1, x2, y2)</c>. The cascade maps a regression output
    /// <c>d</c> to <c>x1 + d * (x2 - x1 + 1)</c> and a landmark output <c>p</c> to <c>x1 - 1 + p * (x2 - x1 + 1)</c>,
    /// so training targets are <c>(gt - frame.X1) / frame.Width</c>.
    /// </summary>
    /// <param name="box">A (squared) candidate box in the cascade's convention.</param>
    /// <returns>The frame.</returns>
    public static BoundingBox OutputFrame(BoundingBox box) => new(box.X1 - 1, box.Y1 - 1, box.X2, box.Y2);

    /// <summary>
    /// The pixel region the cascade crops for a candidate box in an image of <paramref name="imageWidth"/> x
    /// <paramref name="imageHeight"/> pixels (see the remarks of <see cref="FaceCropper"/>). With
    /// <see cref="CropBorder.Clip"/> the region is first clipped to the image; with <see cref="CropBorder.ZeroPad"/> it
    /// may reach past the border.
    /// </summary>
    /// <param name="box">A (squared) candidate box.</param>
    /// <param name="imageWidth">Image width in pixels.</param>
    /// <param name="imageHeight">Image height in pixels.</param>
    /// <param name="border">How the border is handled.</param>
    /// <param name="region">The region; empty when the method returns false.</param>
    /// <returns>False when the region is empty (the cascade drops such a candidate).</returns>
    public static bool CropRegion(BoundingBox box, int imageWidth, int imageHeight, CropBorder border, out PixelRegion region)
    {
        bool clip = border == CropBorder.Clip;
        var w = new Window(box.X1, box.Y1, box.X2, box.Y2, 0f);
        bool some = BoxMath.CropRegion(w, clip ? imageWidth : 0, clip ? imageHeight : 0, out int x, out int y, out int rw, out int rh);
        region = some ? new PixelRegion(x, y, rw, rh) : default;
        return some;
    }

    /// <summary>Crops a candidate box as the cascade does and resizes it to <paramref name="size"/> x <paramref name="size"/>.</summary>
    /// <param name="box">A (squared) candidate box in the cascade's convention.</param>
    /// <param name="size">Output side in pixels, in [1, <see cref="MaxSize"/>].</param>
    /// <param name="border">How the border is handled.</param>
    /// <param name="rgbOut">Receives <c>size * size * 3</c> bytes, RGB, row-major.</param>
    /// <returns>False when the crop region is empty (the output is then all zero).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The size is out of range or the output is too short.</exception>
    public bool Extract(BoundingBox box, int size, CropBorder border, Span<byte> rgbOut)
    {
        CheckOutput(size, rgbOut.Length);
        if (!CropRegion(box, Width, Height, border, out var region))
        {
            rgbOut[..(size * size * 3)].Clear();
            return false;
        }

        ExtractRegion(region, size, rgbOut);
        return true;
    }

    /// <summary>
    /// Resizes a pixel region (zero outside the image) to <paramref name="size"/> x <paramref name="size"/> by area
    /// averaging.
    /// </summary>
    /// <param name="region">The region; width and height at least 1. It need not be square.</param>
    /// <param name="size">Output side in pixels, in [1, <see cref="MaxSize"/>].</param>
    /// <param name="rgbOut">Receives <c>size * size * 3</c> bytes, RGB, row-major.</param>
    /// <exception cref="ArgumentOutOfRangeException">The region is empty, the size is out of range or the output is too short.</exception>
    public void ExtractRegion(PixelRegion region, int size, Span<byte> rgbOut)
    {
        CheckOutput(size, rgbOut.Length);
        CheckRegion(region);
        int rowLength = size * 3;
        float[]? rented = null;
        int[]? rentedInts = null;
        Span<float> row = rowLength <= 1024 ? stackalloc float[rowLength] : (rented = ArrayPool<float>.Shared.Rent(rowLength)).AsSpan(0, rowLength);
        int scratchLength = table.ScratchInts(size);
        Span<int> ints = scratchLength <= 1024 ? stackalloc int[scratchLength] : (rentedInts = ArrayPool<int>.Shared.Rent(scratchLength)).AsSpan(0, scratchLength);
        try
        {
            for (int r = 0; r < size; r++)
            {
                table.Resample(region.X, region.Y, region.Width, region.Height, size, size, r, 1, 0f, 1f, row, ints);
                Span<byte> dst = rgbOut.Slice(r * rowLength, rowLength);
                for (int k = 0; k < rowLength; k++)
                {
                    float v = row[k] + 0.5f;
                    dst[k] = v >= 255f ? (byte)255 : v <= 0f ? (byte)0 : (byte)v;
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }

            if (rentedInts is not null)
            {
                ArrayPool<int>.Shared.Return(rentedInts);
            }
        }
    }

    /// <summary>
    /// The unrounded crop as the cascade feeds it to a network: channels-last floats <c>(mean - offset) * scale</c>.
    /// </summary>
    internal void ExtractFloats(PixelRegion region, int size, float offset, float scale, Span<float> destination)
    {
        CheckRegion(region);
        table.Resample(region.X, region.Y, region.Width, region.Height, size, size, 0, size, offset, scale, destination, new int[table.ScratchInts(size)]);
    }

    private static void CheckOutput(int size, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxSize);
        if (length < size * size * 3)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"A {size}x{size} RGB crop needs {size * size * 3} bytes.");
        }
    }

    private static void CheckRegion(PixelRegion region)
    {
        if (region.Width < 1 || region.Height < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(region), region, "A crop region needs a width and height of at least 1 pixel.");
        }
    }
}
