using System.Globalization;
using System.Text;
using Mtcnn.Cascade;
using Mtcnn.Imaging;
using Mtcnn.TestSupport;

namespace Mtcnn.Training.Data.Tests;

/// <summary>
/// Tiny annotated image sets written by the tests themselves: a CNN_FacePoint-format landmark list with 80x80 PNGs, a
/// WIDER FACE-format box list with larger PNGs (one invalid face), and a landmark list cut from the committed Grace
/// Hopper photo (a real face, so the bundled detector mines hard examples from it).
/// </summary>
internal static class TrainingFixtures
{
    /// <summary>The colours of the five landmark dots the synthetic faces carry (left eye, right eye, nose, mouth left, mouth right).</summary>
    public static readonly (byte R, byte G, byte B)[] DotColours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)];

    /// <summary>A temporary folder removed on dispose.</summary>
    public sealed class Folder : IDisposable
    {
        public Folder()
        {
            Path = Directory.CreateTempSubdirectory("mtcnn-data-tests-").FullName;
        }

        public string Path { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>A synthetic face: box and five points (left eye, right eye, nose, mouth corners).</summary>
    public static (BoundingBox Box, FaceLandmarks Points) SyntheticFace(float x, float y, float size)
    {
        var box = new BoundingBox(x, y, x + size, y + size);
        var points = new FaceLandmarks(
            new(x + (0.3f * size), y + (0.35f * size)),
            new(x + (0.7f * size), y + (0.35f * size)),
            new(x + (0.5f * size), y + (0.55f * size)),
            new(x + (0.33f * size), y + (0.75f * size)),
            new(x + (0.67f * size), y + (0.8f * size)));
        return (box, points);
    }

    /// <summary>
    /// An RGB image: textured background (so crops differ), a skin-coloured square for each face and 3x3 dots of
    /// <see cref="DotColours"/> on its points.
    /// </summary>
    public static byte[] Paint(int width, int height, int seed, IEnumerable<(BoundingBox Box, FaceLandmarks? Points)> faces, byte? background = null)
    {
        var rgb = new byte[width * height * 3];
        var random = new Random(seed);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int o = ((y * width) + x) * 3;
                if (background is byte b)
                {
                    rgb[o] = rgb[o + 1] = rgb[o + 2] = b;
                    continue;
                }

                rgb[o] = (byte)(40 + ((x * 7) % 90) + random.Next(20));
                rgb[o + 1] = (byte)(60 + ((y * 5) % 80) + random.Next(20));
                rgb[o + 2] = (byte)(90 + (((x + y) * 3) % 60) + random.Next(20));
            }
        }

        foreach (var (box, points) in faces)
        {
            for (int y = Math.Max(0, (int)box.Y1); y < Math.Min(height, (int)box.Y2); y++)
            {
                for (int x = Math.Max(0, (int)box.X1); x < Math.Min(width, (int)box.X2); x++)
                {
                    int o = ((y * width) + x) * 3;
                    rgb[o] = 210;
                    rgb[o + 1] = 160;
                    rgb[o + 2] = 130;
                }
            }

            if (points is { } p)
            {
                for (int k = 0; k < 5; k++)
                {
                    Dot(rgb, width, height, p[k], DotColours[k]);
                }
            }
        }

        return rgb;
    }

    /// <summary>Writes an RGB buffer as a PNG.</summary>
    public static void SavePng(byte[] rgb, int width, int height, string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        ImageSaver.Save(new ImageData(rgb, width, height, PixelFormat.Rgb24), path);
    }

    /// <summary>A CNN_FacePoint line (box as left right top bottom), with a backslash in the path as the original list has.</summary>
    public static string Line(string relativePath, BoundingBox box, FaceLandmarks points)
    {
        var v = new List<float> { box.X1, box.X2, box.Y1, box.Y2 };
        for (int k = 0; k < 5; k++)
        {
            v.Add(points[k].X);
            v.Add(points[k].Y);
        }

        return relativePath.Replace('/', '\\') + " " + string.Join(' ', v.Select(x => x.ToString("F6", CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// <paramref name="count"/> 80x80 images, one synthetic face each (25..40 px, anywhere that keeps it inside), and
    /// the list <c>list.txt</c> naming them as <c>images\imgN.png</c>. Returns the list's path.
    /// </summary>
    public static string LandmarkSet(string folder, int count, int seed = 1)
    {
        var random = new Random(seed);
        var lines = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            float size = 25 + random.Next(16);
            float x = 5 + (float)(random.NextDouble() * (70 - size)), y = 5 + (float)(random.NextDouble() * (70 - size));
            var (box, points) = SyntheticFace(x, y, size);
            string rel = $"images/img{i}.png";
            SavePng(Paint(80, 80, seed * 1000 + i, [(box, points)]), 80, 80, System.IO.Path.Combine(folder, rel));
            lines.Append(Line(rel, box, points)).Append('\n');
        }

        string list = System.IO.Path.Combine(folder, "list.txt");
        File.WriteAllText(list, lines.ToString());
        return list;
    }

    /// <summary>
    /// Three 160x120 images in WIDER FACE layout (<c>wider.txt</c> and <c>images/0--Test/...</c>): two with valid faces,
    /// one also with an invalid face (at <see cref="InvalidFace"/>), and one image with no faces.
    /// </summary>
    public static string WiderSet(string folder)
    {
        var sb = new StringBuilder();
        void Image(string name, int seed, params (BoundingBox Box, bool Invalid)[] faces)
        {
            SavePng(Paint(160, 120, seed, faces.Select(f => (f.Box, (FaceLandmarks?)null))), 160, 120, System.IO.Path.Combine(folder, "images", "0--Test", name));
            sb.Append("0--Test/").Append(name).Append('\n').Append(faces.Length.ToString(CultureInfo.InvariantCulture)).Append('\n');
            if (faces.Length == 0)
            {
                sb.Append("0 0 0 0 0 0 0 0 0 0\n");
            }

            foreach (var (b, invalid) in faces)
            {
                sb.Append(string.Create(CultureInfo.InvariantCulture, $"{b.X1} {b.Y1} {b.Width} {b.Height} 0 0 0 {(invalid ? 1 : 0)} 0 0\n"));
            }
        }

        Image("a.png", 11, (new BoundingBox(20, 20, 60, 60), false), (new BoundingBox(100, 50, 130, 80), false));
        Image("b.png", 12, (new BoundingBox(40, 30, 80, 70), false), (InvalidFace, true));
        Image("c.png", 13);
        string path = System.IO.Path.Combine(folder, "wider.txt");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    /// <summary>The invalid face of <see cref="WiderSet"/>'s image b.png.</summary>
    public static BoundingBox InvalidFace { get; } = new(110, 60, 150, 100);

    /// <summary>
    /// <paramref name="count"/> 80x80 images cut from the Grace Hopper photo (tests/fixtures) around her face at a few
    /// scales and offsets, with the box and landmarks the bundled detector finds (mapped into each image) as the
    /// annotation; list <c>hopper.txt</c>.
    /// </summary>
    public static string HopperSet(string folder, int count = 4)
    {
        var loaded = ImageLoader.Load(System.IO.Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg"));
        var face = new FaceDetector().Detect(loaded.Image).Faces[0];
        var cropper = new FaceCropper(loaded.Image);
        var lines = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            // A square region around the face so that the face is about 30-38 px wide in the 80x80 result.
            float scale = (30f + (3 * i)) / face.Box.Width;
            int side = (int)(80 / scale);
            var c = face.Box.Center;
            int x = (int)(c.X - (side / 2f) + ((i % 2 == 0 ? -1 : 1) * 0.1f * side));
            int y = (int)(c.Y - (side / 2f) + ((i % 3) - 1) * 0.08f * side);
            var rgb = new byte[80 * 80 * 3];
            cropper.ExtractRegion(new PixelRegion(x, y, side, side), 80, rgb);
            string rel = $"hopper/h{i}.png";
            SavePng(rgb, 80, 80, System.IO.Path.Combine(folder, rel));
            float s = 80f / side;
            Point2F Map(Point2F p) => new((p.X - x) * s, (p.Y - y) * s);
            var box = new BoundingBox((face.Box.X1 - x) * s, (face.Box.Y1 - y) * s, (face.Box.X2 - x) * s, (face.Box.Y2 - y) * s);
            var lm = face.Landmarks;
            var points = new FaceLandmarks(Map(lm.LeftEye), Map(lm.RightEye), Map(lm.Nose), Map(lm.MouthLeft), Map(lm.MouthRight));
            lines.Append(Line(rel, box, points)).Append('\n');
        }

        string list = System.IO.Path.Combine(folder, "hopper.txt");
        File.WriteAllText(list, lines.ToString());
        return list;
    }

    private static void Dot(byte[] rgb, int width, int height, Point2F p, (byte R, byte G, byte B) colour)
    {
        int cx = (int)MathF.Floor(p.X), cy = (int)MathF.Floor(p.Y);
        for (int y = cy - 1; y <= cy + 1; y++)
        {
            for (int x = cx - 1; x <= cx + 1; x++)
            {
                if (x >= 0 && y >= 0 && x < width && y < height)
                {
                    int o = ((y * width) + x) * 3;
                    rgb[o] = colour.R;
                    rgb[o + 1] = colour.G;
                    rgb[o + 2] = colour.B;
                }
            }
        }
    }
}
