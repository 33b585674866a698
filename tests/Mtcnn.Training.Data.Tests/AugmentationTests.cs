using FsCheck.Xunit;

namespace Mtcnn.Training.Data.Tests;

/// <summary>Mirrored and rotated landmark samples: points follow the pixels, left stays left, no black corners.</summary>
public sealed class AugmentationTests : IDisposable
{
    private readonly TrainingFixtures.Folder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Mirroring_swaps_left_and_right_points()
    {
        var (_, points) = TrainingFixtures.SyntheticFace(10, 20, 40);
        Span<float> output = stackalloc float[10];
        float axis = 30f;
        ImageSampler.TransformPoints(points, flip: true, axis, angle: 0f, new Point2F(30, 40), output);

        // The new left eye is the mirrored right eye, and it has the smaller x again.
        Assert.Equal((2 * axis) - points.RightEye.X, output[0], 4);
        Assert.Equal(points.RightEye.Y, output[1], 4);
        Assert.Equal((2 * axis) - points.LeftEye.X, output[2], 4);
        Assert.Equal((2 * axis) - points.Nose.X, output[4], 4);
        Assert.Equal((2 * axis) - points.MouthRight.X, output[6], 4);
        Assert.Equal(points.MouthRight.Y, output[7], 4);
        Assert.Equal((2 * axis) - points.MouthLeft.X, output[8], 4);
        Assert.True(output[0] < output[2] && output[6] < output[8]);
    }

    [Fact]
    public void Rotation_turns_points_about_the_centre()
    {
        var (_, points) = TrainingFixtures.SyntheticFace(0, 0, 40);
        Span<float> output = stackalloc float[10];
        var centre = new Point2F(20, 20);
        ImageSampler.TransformPoints(points, flip: false, 0f, MathF.PI / 2, centre, output);

        // A quarter turn in image coordinates (y down): (dx, dy) -> (-dy, dx).
        Assert.Equal(20 - (points.LeftEye.Y - 20), output[0], 4);
        Assert.Equal(20 + (points.LeftEye.X - 20), output[1], 4);
    }

    /// <summary>
    /// The synthetic faces carry a coloured dot on each point (left eye red, right eye green, ...). In every landmark
    /// sample the pixel at each landmark target must show that point's colour: this checks the mirror, the rotation,
    /// the left/right swap and the targets together against the actual crops.
    /// </summary>
    [Theory]
    [InlineData(1.0, 0.0)]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 0.5)]
    public void Landmark_targets_sit_on_the_dots_in_the_pixels(double flip, double rotation)
    {
        string list = TrainingFixtures.LandmarkSet(folder.Path, 6, seed: 7);
        var (images, _) = new DataSources { Landmarks = list, FacesFromLandmarks = false }.Load();
        var options = DataPreparationOptions.For(CascadeStage.ONet) with
        {
            FlipProbability = flip,
            RotationProbability = rotation,
            MaxRotationDegrees = 15,
            Ratio = null,
            NegativesPerImage = 0,
            MaxDegreeOfParallelism = 1,
        };
        var set = DataPreparation.Run(images, options).Samples;
        int[] identity = [0, 1, 2, 3, 4], mirrored = [1, 0, 2, 4, 3];
        int flipped = 0, plain = 0;
        for (int i = 0; i < set.Count; i++)
        {
            Assert.Equal(SampleKind.Landmark, set.Kind(i));
            var pixels = set.Pixels(i);
            var lm = set.Landmarks(i);
            var seen = new int[5];
            for (int k = 0; k < 5; k++)
            {
                int x = Math.Clamp((int)(lm[2 * k] * 48), 0, 47), y = Math.Clamp((int)(lm[(2 * k) + 1] * 48), 0, 47);
                int o = ((y * 48) + x) * 3;
                seen[k] = Nearest((pixels[o], pixels[o + 1], pixels[o + 2]));
            }

            // Each target lies on a dot: on the same point's dot, or, in a mirrored sample, on the dot of the point it
            // came from (the new left eye is the old right eye). Left stays left either way.
            bool isPlain = seen.SequenceEqual(identity), isMirrored = seen.SequenceEqual(mirrored);
            Assert.True(isPlain || isMirrored, $"sample {i}: the targets lie on the dots of points {string.Join(',', seen)}");
            Assert.True(lm[0] < lm[2] && lm[6] < lm[8], $"sample {i}: left points are not left of the right ones");
            flipped += isMirrored ? 1 : 0;
            plain += isPlain ? 1 : 0;
        }

        Assert.True(set.Count >= 20, $"only {set.Count} samples");
        Assert.Equal(flip == 1.0 ? set.Count : flip == 0.0 ? 0 : flipped, flipped);
        if (flip is > 0 and < 1)
        {
            Assert.True(flipped > 0 && plain > 0);
        }
    }

    /// <summary>Rotated squares are cut from the whole image: inside a uniform image there is no black anywhere.</summary>
    [Property(MaxTest = 20)]
    public void Rotated_samples_keep_points_inside_and_have_no_black_corners(int seed)
    {
        var random = new Random(seed);
        float size = 25 + random.Next(16);
        var (box, points) = TrainingFixtures.SyntheticFace(40 - (size / 2), 40 - (size / 2), size);
        string path = Path.Combine(folder.Path, $"grey{seed}.png");
        TrainingFixtures.SavePng(TrainingFixtures.Paint(80, 80, seed, [], background: 200), 80, 80, path);
        var image = new TrainingImage(0, path, "list", 1, [], [], [new LandmarkFace(box, points, 1)]);
        var options = DataPreparationOptions.For(CascadeStage.PNet) with
        {
            Seed = seed,
            RotationProbability = 1,
            MaxRotationDegrees = 15,
            LandmarkTries = 40,
            Ratio = null,
            MaxDegreeOfParallelism = 1,
        };
        var set = DataPreparation.Run([image], options).Samples;
        Assert.True(set.Count > 0);
        for (int i = 0; i < set.Count; i++)
        {
            foreach (float v in set.Landmarks(i))
            {
                Assert.InRange(v, 0f, 1f);
            }

            foreach (byte b in set.Pixels(i))
            {
                Assert.InRange(b, (byte)190, (byte)210);
            }
        }
    }

    private static int Nearest((byte R, byte G, byte B) c)
    {
        (byte R, byte G, byte B)[] candidates = [.. TrainingFixtures.DotColours, (210, 160, 130)];
        int best = 0;
        double bestDistance = double.MaxValue;
        for (int i = 0; i < candidates.Length; i++)
        {
            double d = Math.Pow(c.R - candidates[i].R, 2) + Math.Pow(c.G - candidates[i].G, 2) + Math.Pow(c.B - candidates[i].B, 2);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = i;
            }
        }

        return best;
    }
}
