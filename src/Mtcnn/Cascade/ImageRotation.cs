namespace Mtcnn.Cascade;

/// <summary>
/// Quarter-turn rotation of 8-bit pixel buffers and the inverse mapping of boxes and landmarks, for detection in
/// turned photos. Angles are clockwise degrees (0, 90, 180, 270): "the image turned by 90" is the input rotated a
/// quarter turn clockwise. Pure buffer operations, no allocation.
/// </summary>
internal static class ImageRotation
{
    // Square tiles keep both the row-wise reads and the column-wise writes of a quarter turn in cache.
    private const int Tile = 32;

    /// <summary>Width and height of an image of <paramref name="width"/> x <paramref name="height"/> turned by <paramref name="degrees"/>.</summary>
    public static (int Width, int Height) RotatedSize(int width, int height, int degrees) =>
        degrees is 90 or 270 ? (height, width) : (width, height);

    /// <summary>
    /// Writes the image turned clockwise by <paramref name="degrees"/> into <paramref name="destination"/>, tightly
    /// packed (stride <c>rotatedWidth * bytesPerPixel</c>), in the same pixel format.
    /// </summary>
    public static void Rotate(ReadOnlySpan<byte> source, int width, int height, int stride, int bytesPerPixel, int degrees, Span<byte> destination)
    {
        var (rw, rh) = RotatedSize(width, height, degrees);
        int dstride = rw * bytesPerPixel;
        if (destination.Length < (long)dstride * rh)
        {
            throw new ArgumentException("The destination is too small for the turned image.", nameof(destination));
        }

        switch (degrees)
        {
            case 0:
                for (int y = 0; y < height; y++)
                {
                    source.Slice(y * stride, dstride).CopyTo(destination.Slice(y * dstride, dstride));
                }

                break;
            case 180:
                for (int y = 0; y < height; y++)
                {
                    var srow = source.Slice(y * stride, width * bytesPerPixel);
                    var drow = destination.Slice((height - 1 - y) * dstride, dstride);
                    for (int x = 0; x < width; x++)
                    {
                        srow.Slice(x * bytesPerPixel, bytesPerPixel).CopyTo(drow.Slice((width - 1 - x) * bytesPerPixel, bytesPerPixel));
                    }
                }

                break;
            case 90:
            case 270:
                QuarterTurn(source, width, height, stride, bytesPerPixel, degrees == 90, destination, dstride);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(degrees), degrees, "A rotation must be 0, 90, 180 or 270 degrees.");
        }
    }

    // Clockwise: destination (x', y') = source (y', H - 1 - x'). Counter-clockwise (270 clockwise): source (W - 1 - y', x').
    private static void QuarterTurn(ReadOnlySpan<byte> source, int width, int height, int stride, int bpp, bool clockwise, Span<byte> destination, int dstride)
    {
        int rw = height, rh = width;
        for (int ty = 0; ty < rh; ty += Tile)
        {
            int yEnd = Math.Min(rh, ty + Tile);
            for (int tx = 0; tx < rw; tx += Tile)
            {
                int xEnd = Math.Min(rw, tx + Tile);
                for (int y = ty; y < yEnd; y++)
                {
                    var drow = destination.Slice(y * dstride, dstride);
                    for (int x = tx; x < xEnd; x++)
                    {
                        int sx = clockwise ? y : width - 1 - y;
                        int sy = clockwise ? height - 1 - x : x;
                        int s = (sy * stride) + (sx * bpp);
                        int d = x * bpp;
                        for (int c = 0; c < bpp; c++)
                        {
                            drow[d + c] = source[s + c];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Maps a landmark found in the turned image (size <paramref name="rotatedWidth"/> x <paramref name="rotatedHeight"/>)
    /// back to the input image. Landmarks are 0-based pixel positions (pixel centres at integers), so a flip of an
    /// axis of n pixels is <c>n - 1 - v</c>.
    /// </summary>
    public static Point2F MapPoint(Point2F p, int degrees, int rotatedWidth, int rotatedHeight) => degrees switch
    {
        90 => new Point2F(p.Y, rotatedWidth - 1 - p.X),
        180 => new Point2F(rotatedWidth - 1 - p.X, rotatedHeight - 1 - p.Y),
        270 => new Point2F(rotatedHeight - 1 - p.Y, p.X),
        _ => p,
    };

    /// <summary>
    /// Maps a box found in the turned image back to the input image. MTCNN box corners are 1-based inclusive pixel
    /// indices, so a flip of an axis of n pixels is <c>n + 1 - v</c> with the corners exchanged.
    /// </summary>
    public static BoundingBox MapBox(BoundingBox b, int degrees, int rotatedWidth, int rotatedHeight) => degrees switch
    {
        90 => new BoundingBox(b.Y1, rotatedWidth + 1 - b.X2, b.Y2, rotatedWidth + 1 - b.X1),
        180 => new BoundingBox(rotatedWidth + 1 - b.X2, rotatedHeight + 1 - b.Y2, rotatedWidth + 1 - b.X1, rotatedHeight + 1 - b.Y1),
        270 => new BoundingBox(rotatedHeight + 1 - b.Y2, b.X1, rotatedHeight + 1 - b.Y1, b.X2),
        _ => b,
    };

    /// <summary>A face found in the image turned by <paramref name="degrees"/>, in the input's coordinates, with its rotation set.</summary>
    public static Face MapFace(Face f, int degrees, int rotatedWidth, int rotatedHeight)
    {
        var l = f.Landmarks;
        var landmarks = new FaceLandmarks(
            MapPoint(l.LeftEye, degrees, rotatedWidth, rotatedHeight),
            MapPoint(l.RightEye, degrees, rotatedWidth, rotatedHeight),
            MapPoint(l.Nose, degrees, rotatedWidth, rotatedHeight),
            MapPoint(l.MouthLeft, degrees, rotatedWidth, rotatedHeight),
            MapPoint(l.MouthRight, degrees, rotatedWidth, rotatedHeight));
        return new Face(MapBox(f.Box, degrees, rotatedWidth, rotatedHeight), f.Score, landmarks) { Rotation = degrees };
    }
}
