namespace Mtcnn.Imaging;

/// <summary>
/// Packs 4-byte RGBA rows into 3-byte RGB rows while applying an EXIF orientation in the same pass.
/// Each stored row maps to a straight line in the output (a row for orientations 1-4, a column for 5-8), so the
/// destination of stored pixel (sx, sy) is <c>RowStart(sy) + sx * step</c>; only the start and the step depend on the
/// orientation. Derivations (stored size W x H, displayed size DW x DH) are next to each case.
/// </summary>
internal static class Orientation
{
    /// <summary>True when the orientation swaps width and height (values 5..8).</summary>
    public static bool SwapsAxes(ExifOrientation orientation) => orientation >= ExifOrientation.LeftTop;

    /// <summary>Start offset (bytes) in the output of stored row <paramref name="sy"/> and the offset step per stored pixel.</summary>
    /// <param name="orientation">The transform to apply.</param>
    /// <param name="width">Stored width W.</param>
    /// <param name="height">Stored height H.</param>
    /// <param name="sy">Stored row index.</param>
    /// <param name="step">Output offset between stored pixels sx and sx + 1.</param>
    public static long RowStart(ExifOrientation orientation, int width, int height, int sy, out long step)
    {
        // Output row length in bytes: displayed width times 3.
        long dstRow = (SwapsAxes(orientation) ? (long)height : width) * 3;
        switch (orientation)
        {
            case ExifOrientation.TopRight:
                // (dx, dy) = (W-1-sx, sy)
                step = -3;
                return (sy * dstRow) + ((width - 1) * 3L);
            case ExifOrientation.BottomRight:
                // (dx, dy) = (W-1-sx, H-1-sy)
                step = -3;
                return ((height - 1 - sy) * dstRow) + ((width - 1) * 3L);
            case ExifOrientation.BottomLeft:
                // (dx, dy) = (sx, H-1-sy)
                step = 3;
                return (height - 1 - sy) * dstRow;
            case ExifOrientation.LeftTop:
                // Transpose: (dx, dy) = (sy, sx)
                step = dstRow;
                return sy * 3L;
            case ExifOrientation.RightTop:
                // 90 degrees clockwise: (dx, dy) = (H-1-sy, sx)
                step = dstRow;
                return (height - 1 - sy) * 3L;
            case ExifOrientation.RightBottom:
                // Transverse: (dx, dy) = (H-1-sy, W-1-sx)
                step = -dstRow;
                return ((height - 1 - sy) * 3L) + ((width - 1) * dstRow);
            case ExifOrientation.LeftBottom:
                // 90 degrees counter-clockwise: (dx, dy) = (sy, W-1-sx)
                step = -dstRow;
                return (sy * 3L) + ((width - 1) * dstRow);
            default:
                // (dx, dy) = (sx, sy)
                step = 3;
                return sy * dstRow;
        }
    }

    /// <summary>Writes one stored RGBA row into the RGB output at the place the orientation gives it (alpha is dropped).</summary>
    public static void PackRow(ReadOnlySpan<byte> rgbaRow, int width, Span<byte> output, long start, long step)
    {
        if (step == 3)
        {
            // The common upright case: a contiguous row, no index arithmetic per pixel beyond the two cursors.
            var dst = output.Slice((int)start, width * 3);
            for (int sx = 0, s = 0, d = 0; sx < width; sx++, s += 4, d += 3)
            {
                dst[d] = rgbaRow[s];
                dst[d + 1] = rgbaRow[s + 1];
                dst[d + 2] = rgbaRow[s + 2];
            }

            return;
        }

        long o = start;
        for (int sx = 0, s = 0; sx < width; sx++, s += 4, o += step)
        {
            int d = (int)o;
            output[d] = rgbaRow[s];
            output[d + 1] = rgbaRow[s + 1];
            output[d + 2] = rgbaRow[s + 2];
        }
    }
}
