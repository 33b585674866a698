namespace Mtcnn.Training.Models;

/// <summary>
/// Turns 8-bit RGB crops into the network input of a variant, exactly as the detector feeds its networks:
/// <see cref="ModelVariant.Original"/> takes RGB planes <c>(v - 127.5) * 0.0078125</c> (spec section 1);
/// <see cref="ModelVariant.Reference"/> takes BGR planes <c>v / 255</c> (spec section 4).
/// </summary>
public static class InputEncoding
{
    /// <summary>
    /// Encodes one square crop given as row-major HWC RGB bytes (<c>size * size * 3</c>) into CHW floats
    /// (<c>3 * size * size</c>, channel planes in the variant's order).
    /// </summary>
    /// <param name="rgbHwc">The crop: RGB, row-major, 3 bytes a pixel.</param>
    /// <param name="size">Side of the crop in pixels.</param>
    /// <param name="variant">Which encoding.</param>
    /// <param name="chwOut">Receives <c>3 * size * size</c> floats.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the size is not positive.</exception>
    public static void Encode(ReadOnlySpan<byte> rgbHwc, int size, ModelVariant variant, Span<float> chwOut) =>
        Encode(rgbHwc, size, size, variant, chwOut);

    /// <summary>
    /// Encodes an image of <paramref name="height"/> x <paramref name="width"/> pixels given as row-major HWC RGB bytes
    /// into CHW floats (<c>3 * height * width</c>, channel planes in the variant's order), e.g. a P-Net input larger
    /// than 12x12.
    /// </summary>
    /// <param name="rgbHwc">The image: RGB, row-major, 3 bytes a pixel.</param>
    /// <param name="height">Rows.</param>
    /// <param name="width">Columns.</param>
    /// <param name="variant">Which encoding.</param>
    /// <param name="chwOut">Receives <c>3 * height * width</c> floats.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or a side is not positive.</exception>
    public static void Encode(ReadOnlySpan<byte> rgbHwc, int height, int width, ModelVariant variant, Span<float> chwOut)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        int plane = height * width;
        if (rgbHwc.Length != plane * 3)
        {
            throw new ArgumentException($"Expected {plane * 3} bytes for a {width}x{height} RGB image, got {rgbHwc.Length}.", nameof(rgbHwc));
        }

        if (chwOut.Length != plane * 3)
        {
            throw new ArgumentException($"Expected room for {plane * 3} floats, got {chwOut.Length}.", nameof(chwOut));
        }

        // Source channel of output plane c: R, G, B (original) or B, G, R (reference). Same arithmetic as the
        // detector, (v - offset) * scale in float, so both engines see identical inputs.
        bool bgr = variant switch
        {
            ModelVariant.Original => false,
            ModelVariant.Reference => true,
            _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown model variant."),
        };
        float scale = bgr ? 1f / 255f : 0.0078125f;
        float offset = bgr ? 0f : 127.5f;
        for (int c = 0; c < 3; c++)
        {
            int source = bgr ? 2 - c : c;
            Span<float> dst = chwOut.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++)
            {
                dst[i] = (rgbHwc[(i * 3) + source] - offset) * scale;
            }
        }
    }
}
