namespace Mtcnn.Training.Data;

/// <summary>
/// Renders a region of the mirrored and/or rotated image at full resolution (bilinear, zero outside the image), so
/// that a transformed landmark sample is cut from the whole picture: the corners of a rotated square show the image
/// around the face, not black, except where the picture itself ends.
/// </summary>
internal static class LandmarkWarp
{
    /// <summary>
    /// Fills <paramref name="patch"/> (region width x height x 3 bytes, RGB) with the region of the transformed image:
    /// the image mirrored about x = flipAxis (when flip), then rotated by angle radians about (cx, cy).
    /// </summary>
    /// <param name="image">The source image, tightly packed <see cref="PixelFormat.Rgb24"/>.</param>
    /// <param name="region">The region in the transformed image's coordinates.</param>
    /// <param name="spec">The transform.</param>
    /// <param name="patch">The output.</param>
    public static void Render(ImageData image, Cascade.PixelRegion region, in CropSpec spec, Span<byte> patch)
    {
        if (image.Format != PixelFormat.Rgb24)
        {
            throw new ArgumentException("Landmark warping expects RGB24 pixels.", nameof(image));
        }

        int w = image.Width, h = image.Height, stride = image.Stride;
        ReadOnlySpan<byte> src = image.Pixels.Span;
        float cos = MathF.Cos(spec.Angle), sin = MathF.Sin(spec.Angle);
        float cx = spec.CenterX, cy = spec.CenterY;
        for (int v = 0; v < region.Height; v++)
        {
            for (int u = 0; u < region.Width; u++)
            {
                // Pixel centre in the transformed image → inverse rotation → inverse mirror → source position.
                float qx = region.X + u + 0.5f - cx, qy = region.Y + v + 0.5f - cy;
                float px = cx + (qx * cos) + (qy * sin);
                float py = cy - (qx * sin) + (qy * cos);
                if (spec.Flip)
                {
                    px = (2 * spec.FlipAxis) - px;
                }

                // Bilinear interpolation between pixel centres (index space), zero outside the image.
                float sx = px - 0.5f, sy = py - 0.5f;
                int x0 = (int)MathF.Floor(sx), y0 = (int)MathF.Floor(sy);
                float fx = sx - x0, fy = sy - y0;
                int o = ((v * region.Width) + u) * 3;
                for (int c = 0; c < 3; c++)
                {
                    float top = (Sample(src, w, h, stride, x0, y0, c) * (1 - fx)) + (Sample(src, w, h, stride, x0 + 1, y0, c) * fx);
                    float bottom = (Sample(src, w, h, stride, x0, y0 + 1, c) * (1 - fx)) + (Sample(src, w, h, stride, x0 + 1, y0 + 1, c) * fx);
                    float value = (top * (1 - fy)) + (bottom * fy) + 0.5f;
                    patch[o + c] = value >= 255f ? (byte)255 : value <= 0f ? (byte)0 : (byte)value;
                }
            }
        }
    }

    private static float Sample(ReadOnlySpan<byte> src, int w, int h, int stride, int x, int y, int c) =>
        (uint)x < (uint)w && (uint)y < (uint)h ? src[(y * stride) + (x * 3) + c] : 0f;
}
