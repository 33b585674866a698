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
    private static readonly Lazy<string> Cut = new(() => MakeCut("cut-40.avi", CutFrame, 20));

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

    /// <summary>The first frame of the second scene of <see cref="Cut40"/>.</summary>
    public const int CutFrame = 20;

    /// <summary>
    /// 40 frames, 640x480, MJPG in AVI, with a hard cut at <see cref="CutFrame"/>: first the textured background alone
    /// (no face), then another background (flat, dark: about 70 grey levels below the first) with the sample (256x256)
    /// standing still in the middle.
    /// </summary>
    public static string Cut40 => Cut.Value;

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

    private static string MakeCut(string name, int before, int after)
    {
        string path = Path.Combine(Folder, name);
        using var sample = Cv2.ImRead(Path.Combine(SharedData.RepoRoot, "samples", "astronaut.png"), ImreadModes.Color);
        using var small = sample.Resize(new Size(256, 256), 0, 0, InterpolationFlags.Area);
        using var first = new Mat(480, 640, MatType.CV_8UC3);
        for (int y = 0; y < 480; y++)
        {
            for (int x = 0; x < 640; x++)
            {
                byte v = (byte)(60 + ((x + y) % 64) + (((x / 40) % 2) * 40));
                first.Set(y, x, new Vec3b(v, (byte)(v / 2 + 40), (byte)(200 - v / 2)));
            }
        }

        using var second = new Mat(480, 640, MatType.CV_8UC3, new Scalar(40, 50, 60));
        using (var roi = new Mat(second, new Rect(192, 112, 256, 256)))
        {
            small.CopyTo(roi);
        }

        using var writer = new VideoWriter(path, FourCC.MJPG, FramesPerSecond, new Size(640, 480));
        if (!writer.IsOpened())
        {
            throw new InvalidOperationException("OpenCV could not open an MJPG writer for " + path);
        }

        for (int i = 0; i < before + after; i++)
        {
            writer.Write(i < before ? first : second);
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
