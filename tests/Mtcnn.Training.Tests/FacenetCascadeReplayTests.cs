using Mtcnn.TestSupport;
using Mtcnn.Imaging;
using Mtcnn.Training.Cascade;

namespace Mtcnn.Training.Tests;

/// <summary>
/// The libtorch replay of facenet-pytorch's cascade (the baseline of the side-by-side speed table) finds what the core
/// finds with facenet-pytorch's border rule: the same faces in the same order, boxes, scores and landmarks within float
/// rounding. That is what makes its timings a fair baseline: it does the same work.
/// </summary>
public sealed class FacenetCascadeReplayTests
{
    private static readonly float[] Thresholds = [0.6f, 0.7f, 0.7f];

    private static byte[] Rgb(ImageData image)
    {
        int bpp = image.Format is PixelFormat.Rgb24 or PixelFormat.Bgr24 ? 3 : 4;
        bool bgr = image.Format is PixelFormat.Bgr24 or PixelFormat.Bgra32;
        var src = image.Pixels.Span;
        var rgb = new byte[image.Width * image.Height * 3];
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                int s = (y * image.Stride) + (x * bpp), d = ((y * image.Width) + x) * 3;
                rgb[d] = src[s + (bgr ? 2 : 0)];
                rgb[d + 1] = src[s + 1];
                rgb[d + 2] = src[s + (bgr ? 0 : 2)];
            }
        }

        return rgb;
    }

    [Theory]
    [InlineData("samples/astronaut.png", 20)]
    [InlineData("tests/fixtures/grace_hopper_512x512.jpg", 20)]
    [InlineData("tests/fixtures/grace_hopper_512x512.jpg", 60)]
    public void The_replay_finds_the_same_faces_as_the_core_with_the_clipping_border_rule(string file, float minFace)
    {
        var image = ImageLoader.Load(Path.Combine(SharedData.RepoRoot, file)).Image;
        var core = new FaceDetector(new DetectorOptions { MinFaceSize = minFace, CropBorder = CropBorder.Clip, MaxDegreeOfParallelism = 1 }).Detect(image);
        using var replay = new FacenetCascadeReplay(MtcnnWeights.Default);

        var faces = replay.Detect(Rgb(image), image.Width, image.Height, minFace, Thresholds, 0.709f);

        Assert.NotEmpty(core.Faces);
        Assert.Equal(core.Faces.Count, faces.Count);
        for (int i = 0; i < faces.Count; i++)
        {
            var a = core.Faces[i];
            var b = faces[i];
            Assert.Equal(a.Score, b.Score, 1e-4);
            double boxError = new[] { a.Box.X1 - b.X1, a.Box.Y1 - b.Y1, a.Box.X2 - b.X2, a.Box.Y2 - b.Y2 }.Max(Math.Abs);
            Assert.True(boxError < 0.05, $"face {i}: box differs by {boxError:F3} px");
            for (int k = 0; k < 5; k++)
            {
                Assert.Equal(a.Landmarks[k].X, b.Points[2 * k], 0.05);
                Assert.Equal(a.Landmarks[k].Y, b.Points[(2 * k) + 1], 0.05);
            }
        }
    }

    [Fact]
    public void A_buffer_of_the_wrong_size_is_refused_with_the_sizes()
    {
        using var replay = new FacenetCascadeReplay(MtcnnWeights.Default);
        var e = Assert.Throws<ArgumentException>(() => replay.Detect(new byte[10], 4, 4, 20, Thresholds, 0.709f));
        Assert.Contains("48 bytes", e.Message, StringComparison.Ordinal);
    }
}
