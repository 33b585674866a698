namespace Mtcnn.Cascade;

/// <summary>
/// How the cascade resamples the image: pyramid levels (the whole image) and the 24x24 / 48x48 crops of R-Net and
/// O-Net (a box region, zero outside the image). Built once per image from its pixels, then read by many threads at
/// once, so implementations keep no per-call state: all scratch memory comes from the caller.
/// The variant picks the implementation: <see cref="IntegralImage"/> (area averaging, for the original weights) or
/// <see cref="BilinearResampler"/> (OpenCV's 8-bit INTER_LINEAR, as the reference project resizes).
/// </summary>
internal abstract class ImageResampler
{
    /// <summary>Image width in pixels.</summary>
    public int Width { get; protected set; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; protected set; }

    /// <summary>
    /// Takes in the pixels. <paramref name="bgr"/> selects the channel order of the output (false: R, G, B as the
    /// original nets expect; true: B, G, R as the reference project's nets expect).
    /// </summary>
    public abstract void Build(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format, bool bgr);

    /// <summary>Ints of scratch <see cref="Resample"/> needs for an output <paramref name="outWidth"/> pixels wide.</summary>
    public abstract int ScratchInts(int outWidth);

    /// <summary>
    /// Writes rows [<paramref name="firstRow"/>, +<paramref name="rows"/>) of the region <paramref name="x0"/>,
    /// <paramref name="y0"/>, <paramref name="regionWidth"/> x <paramref name="regionHeight"/> of the image (zero
    /// outside the image) resampled to <paramref name="outWidth"/> x <paramref name="outHeight"/>, as channels-last
    /// floats <c>(value - offset) * scale</c>. A band of rows equals the same rows of the whole output.
    /// </summary>
    public abstract void Resample(int x0, int y0, int regionWidth, int regionHeight, int outWidth, int outHeight, int firstRow, int rows,
        float offset, float scale, Span<float> destination, Span<int> scratch);
}
