using Mtcnn.TestSupport;
using OpenCvSharp;

namespace Mtcnn.Video.Tests;

/// <summary>
/// Video clips the tests make themselves with OpenCV's writer: the bundled sample (samples/astronaut.png, one face)
/// scaled down and sliding across a textured canvas. Made once per test run in a temporary folder, deleted at exit.
/// </summary>
internal static class TestClips
{
    private static readonly string Folder = Directory.CreateTempSubdirectory("mtcnn-video-tests-").FullName;
    private static readonly Lazy<string> Short = new(() => Make("moving-30.avi", 30, 640, 480, 256));
    private static readonly Lazy<string> Long = new(() => Make("moving-400.avi", 400, 640, 480, 256));

    static TestClips()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (IOException)
            {
            }
        };
    }

    /// <summary>Frames per second written into the clips.</summary>
    public const double FramesPerSecond = 20;

    /// <summary>
    /// 30 frames, 640x480, MJPG in AVI: the sample (256x256, face about 43x55 pixels) moving right by 4 pixels a frame, a
    /// speed at which a face detected every third frame still overlaps its last box.
    /// </summary>
    public static string Moving30 => Short.Value;

    /// <summary>400 frames, the sample going back and forth across the frame (6.4 pixels a frame): long enough to interrupt.</summary>
    public static string Moving400 => Long.Value;

    /// <summary>A fresh path in the clips folder.</summary>
    public static string NewPath(string name) => Path.Combine(Folder, Guid.NewGuid().ToString("N")[..8] + "-" + name);

    /// <summary>Where the sample's face is (x1 of its box, roughly) in frame <paramref name="index"/> of a clip.</summary>
    public static float FaceLeft(int index, int frames, int width, int sampleSize) => OffsetX(index, frames, width, sampleSize) + (181.05f * sampleSize / 512f);

    /// <summary>Writes a clip and returns its path.</summary>
    public static string Make(string name, int frames, int width, int height, int sampleSize)
    {
        string path = Path.Combine(Folder, name);
        using var sample = Cv2.ImRead(Path.Combine(SharedData.RepoRoot, "samples", "astronaut.png"), ImreadModes.Color);
        using var small = sample.Resize(new Size(sampleSize, sampleSize), 0, 0, InterpolationFlags.Area);
        using var background = new Mat(height, width, MatType.CV_8UC3);
        // A fixed pattern (gradient plus stripes) so that frames are not flat but no face-like structure appears.
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                byte v = (byte)(60 + ((x + y) % 64) + (((x / 40) % 2) * 40));
                background.Set(y, x, new Vec3b(v, (byte)(v / 2 + 40), (byte)(200 - v / 2)));
            }
        }

        using var writer = new VideoWriter(path, FourCC.MJPG, FramesPerSecond, new Size(width, height));
        if (!writer.IsOpened())
        {
            throw new InvalidOperationException("OpenCV could not open an MJPG writer for " + path);
        }

        using var frame = new Mat();
        int top = (height - sampleSize) / 2;
        for (int i = 0; i < frames; i++)
        {
            background.CopyTo(frame);
            int left = OffsetX(i, frames, width, sampleSize);
            using (var roi = new Mat(frame, new Rect(left, top, sampleSize, sampleSize)))
            {
                small.CopyTo(roi);
            }

            writer.Write(frame);
        }

        writer.Release();
        return path;
    }

    private static int OffsetX(int index, int frames, int width, int sampleSize)
    {
        int span = width - sampleSize;
        if (frames <= 60)
        {
            return Math.Min(span, 100 + (4 * index));
        }

        // Long clips go back and forth every 60 frames.
        int phase = index % 120;
        int step = phase < 60 ? phase : 120 - phase;
        return (int)Math.Round(span * step / 60.0);
    }
}
