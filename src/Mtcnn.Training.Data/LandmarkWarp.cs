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

                // Outside the picture: black, like the cascade's zero padding. Inside: bilinear interpolation between
                // pixel centres, the outermost half pixel taking the edge pixel's value.
                int o = ((v * region.Width) + u) * 3;
                if (!(px >= 0 && py >= 0 && px < w && py < h))
                {
                    patch[o] = patch[o + 1] = patch[o + 2] = 0;
                    continue;
                }

                float sx = px - 0.5f, sy = py - 0.5f;
                int x0 = (int)MathF.Floor(sx), y0 = (int)MathF.Floor(sy);
                float fx = sx - x0, fy = sy - y0;
                int xa = Math.Clamp(x0, 0, w - 1), xb = Math.Clamp(x0 + 1, 0, w - 1);
                int ya = Math.Clamp(y0, 0, h - 1), yb = Math.Clamp(y0 + 1, 0, h - 1);
                int ra = ya * stride, rb = yb * stride;
                for (int c = 0; c < 3; c++)
                {
                    float top = (src[ra + (xa * 3) + c] * (1 - fx)) + (src[ra + (xb * 3) + c] * fx);
                    float bottom = (src[rb + (xa * 3) + c] * (1 - fx)) + (src[rb + (xb * 3) + c] * fx);
                    float value = (top * (1 - fy)) + (bottom * fy) + 0.5f;
                    patch[o + c] = value >= 255f ? (byte)255 : (byte)value;
                }
            }
        }
    }
}
