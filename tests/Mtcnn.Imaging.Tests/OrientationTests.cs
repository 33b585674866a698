using SkiaSharp;
using static Mtcnn.Imaging.Tests.Fixtures;

namespace Mtcnn.Imaging.Tests;

public sealed class OrientationTests
{
    private const int StoredWidth = 64;
    private const int StoredHeight = 40;
    private static readonly SKColor Red = new(230, 20, 20);
    private static readonly SKColor Blue = new(20, 30, 230);
    private static readonly SKColor Grey = new(128, 128, 128);

    /// <summary>A stored picture with a red block in its top-left corner and a blue block in its top-right corner.</summary>
    private static byte[] MarkedJpeg(int orientation)
    {
        using var bitmap = Bitmap(StoredWidth, StoredHeight, (x, y) => y < 16 && x < 16 ? Red : y < 16 && x >= StoredWidth - 16 ? Blue : Grey);
        return WithExifOrientation(Encode(bitmap, SKEncodedImageFormat.Jpeg, 95), orientation);
    }

    public static TheoryData<int, string, string> Cases() => new()
    {
        // orientation, where the stored top-left (red) ends up, where the stored top-right (blue) ends up
        { 1, "TL", "TR" },
        { 2, "TR", "TL" },
        { 3, "BR", "BL" },
        { 4, "BL", "BR" },
        { 5, "TL", "BL" },
        { 6, "TR", "BR" },
        { 7, "BR", "TR" },
        { 8, "BL", "TL" },
    };

    private static (int X, int Y) Corner(string corner, int width, int height) => corner switch
    {
        "TL" => (4, 4),
        "TR" => (width - 5, 4),
        "BL" => (4, height - 5),
        _ => (width - 5, height - 5),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Orientation_makes_pixels_upright(int orientation, string redCorner, string blueCorner)
    {
        var image = ImageLoader.Decode(MarkedJpeg(orientation), $"o{orientation}.jpg");
        Assert.Equal((ExifOrientation)orientation, image.FileOrientation);
        Assert.Equal((ExifOrientation)orientation, image.AppliedOrientation);
        bool swapped = orientation >= 5;
        Assert.Equal(swapped ? (StoredHeight, StoredWidth) : (StoredWidth, StoredHeight), (image.Width, image.Height));

        var (rx, ry) = Corner(redCorner, image.Width, image.Height);
        var (bx, by) = Corner(blueCorner, image.Width, image.Height);
        AssertNear(Rgb(image.Image, rx, ry), Red, 24, $"orientation {orientation}: red corner {redCorner}");
        AssertNear(Rgb(image.Image, bx, by), Blue, 24, $"orientation {orientation}: blue corner {blueCorner}");
        foreach (string other in new[] { "TL", "TR", "BL", "BR" }.Except([redCorner, blueCorner]))
        {
            var (gx, gy) = Corner(other, image.Width, image.Height);
            AssertNear(Rgb(image.Image, gx, gy), Grey, 24, $"orientation {orientation}: grey corner {other}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Orientation_off_keeps_the_stored_pixels(int orientation)
    {
        var options = new ImageLoadOptions { ApplyExifOrientation = false };
        var image = ImageLoader.Decode(MarkedJpeg(orientation), "stored.jpg", options);
        Assert.Equal((ExifOrientation)orientation, image.FileOrientation);
        Assert.Equal(ExifOrientation.TopLeft, image.AppliedOrientation);
        Assert.Equal((StoredWidth, StoredHeight), (image.Width, image.Height));
        AssertNear(Rgb(image.Image, 4, 4), Red, 24, "stored top-left");
        AssertNear(Rgb(image.Image, StoredWidth - 5, 4), Blue, 24, "stored top-right");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Oriented_pixels_equal_the_stored_pixels_transformed_exactly(int orientation)
    {
        // Compare against an independent composition of elementary transforms on the stored (orientation off) pixels.
        byte[] jpeg;
        using (var bitmap = Noise(23, 14, orientation))
        {
            jpeg = WithExifOrientation(Encode(bitmap, SKEncodedImageFormat.Jpeg, 90), orientation);
        }

        var stored = ImageLoader.Decode(jpeg, null, new ImageLoadOptions { ApplyExifOrientation = false });
        var upright = ImageLoader.Decode(jpeg);
        var grid = ToGrid(stored);
        var expected = orientation switch
        {
            1 => grid,
            2 => FlipHorizontal(grid),
            3 => FlipVertical(FlipHorizontal(grid)),
            4 => FlipVertical(grid),
            5 => Transpose(grid),
            6 => FlipHorizontal(Transpose(grid)),  // rotate 90 degrees clockwise
            7 => FlipVertical(FlipHorizontal(Transpose(grid))),
            _ => FlipVertical(Transpose(grid)),    // rotate 90 degrees counter-clockwise
        };
        Assert.Equal(expected.GetLength(1), upright.Width);
        Assert.Equal(expected.GetLength(0), upright.Height);
        Assert.Equal(expected, ToGrid(upright));
    }

    private static (byte, byte, byte)[,] ToGrid(LoadedImage image)
    {
        var g = new (byte, byte, byte)[image.Height, image.Width];
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                g[y, x] = Rgb(image.Image, x, y);
            }
        }

        return g;
    }

    private static T[,] FlipHorizontal<T>(T[,] g) => Map(g.GetLength(0), g.GetLength(1), (y, x) => g[y, g.GetLength(1) - 1 - x]);

    private static T[,] FlipVertical<T>(T[,] g) => Map(g.GetLength(0), g.GetLength(1), (y, x) => g[g.GetLength(0) - 1 - y, x]);

    private static T[,] Transpose<T>(T[,] g) => Map(g.GetLength(1), g.GetLength(0), (y, x) => g[x, y]);

    private static T[,] Map<T>(int rows, int cols, Func<int, int, T> at)
    {
        var r = new T[rows, cols];
        for (int y = 0; y < rows; y++)
        {
            for (int x = 0; x < cols; x++)
            {
                r[y, x] = at(y, x);
            }
        }

        return r;
    }
}
