using FsCheck.Xunit;
using Mtcnn.Cascade;

namespace Mtcnn.Training.Data.Tests;

/// <summary>
/// Property tests of the planned samples on random images, faces, ignored faces and detector candidates: every label
/// agrees with the IoU rules, offsets reproduce the ground truth, landmark targets lie in the crop, nothing repeats.
/// </summary>
public sealed class LabellingPropertyTests
{
    private static BoundingBox RandomBox(Random r, int width, int height, float min, float max, float outside)
    {
        float size = min + (float)(r.NextDouble() * (max - min));
        float aspect = 0.8f + (float)(r.NextDouble() * 0.4);
        float x = (float)((r.NextDouble() * (width - size + (2 * outside * size))) - (outside * size));
        float y = (float)((r.NextDouble() * (height - size + (2 * outside * size))) - (outside * size));
        return new BoundingBox(x, y, x + size, y + (size * aspect));
    }

    private static (TrainingImage Image, int Width, int Height, Candidate[] Candidates) RandomScene(int seed, bool landmarks)
    {
        var r = new Random(seed);
        int width = 40 + r.Next(160), height = 40 + r.Next(160);
        int shortSide = Math.Min(width, height);
        var faces = Enumerable.Range(0, 1 + r.Next(4)).Select(_ => RandomBox(r, width, height, 8, shortSide * 0.8f, 0.2f)).ToArray();
        var ignored = Enumerable.Range(0, r.Next(2)).Select(_ => RandomBox(r, width, height, 8, shortSide * 0.5f, 0f)).ToArray();
        var marks = landmarks
            ? faces.Select((f, i) => new LandmarkFace(f, TrainingFixtures.SyntheticFace(f.X1, f.Y1, f.Width).Points, i + 1)).ToArray()
            : [];
        var candidates = Enumerable.Range(0, r.Next(80)).Select(_ =>
        {
            // Half near a face, half anywhere, like a detector's mix of hits and false alarms.
            if (r.Next(2) == 0)
            {
                var f = faces[r.Next(faces.Length)];
                float jitter = f.Width * 0.4f;
                float Shift() => (float)((r.NextDouble() - 0.5) * 2 * jitter);
                return new Candidate(new BoundingBox(f.X1 + Shift(), f.Y1 + Shift(), f.X2 + Shift(), f.Y2 + Shift()), 0.9f);
            }

            return new Candidate(RandomBox(r, width, height, 12, shortSide, 0.3f), 0.7f);
        }).ToArray();
        return (new TrainingImage(seed, "x.png", "list.txt", 1, faces, ignored, marks), width, height, candidates);
    }

    private static float BestIou(BoundingBox frame, IReadOnlyList<BoundingBox> faces) =>
        faces.Count == 0 ? 0f : faces.Max(f => frame.IntersectionOverUnion(f));

    private static BoundingBox Reconstruct(in CropSpec s)
    {
        var f = s.Frame;
        return new BoundingBox(f.X1 + (s.Targets[0] * f.Width), f.Y1 + (s.Targets[1] * f.Height), f.X2 + (s.Targets[2] * f.Width), f.Y2 + (s.Targets[3] * f.Height));
    }

    private static bool Near(BoundingBox a, BoundingBox b, float tolerance = 1e-3f) =>
        Math.Abs(a.X1 - b.X1) < tolerance && Math.Abs(a.Y1 - b.Y1) < tolerance && Math.Abs(a.X2 - b.X2) < tolerance && Math.Abs(a.Y2 - b.Y2) < tolerance;

    /// <summary>Checks one planned sample against the rules; returns what is wrong, or null.</summary>
    private static string? Violation(CropSpec s, TrainingImage img, int width, int height, DataPreparationOptions o)
    {
        float iou = BestIou(s.Frame, img.Faces);
        ReadOnlySpan<float> t = s.Targets;
        bool generated = !s.Mined;
        if (generated && !(s.Frame.X1 == s.Region.X && s.Frame.Y1 == s.Region.Y && s.Frame.Width == s.Region.Width && s.Frame.Height == s.Region.Height))
        {
            return "a generated square's frame is not its pixel region";
        }

        if (s.Region.Width < ImageSampler.MinCrop && generated)
        {
            return "crop smaller than 12 px";
        }

        bool inside = s.Region.X >= 0 && s.Region.Y >= 0 && s.Region.X + s.Region.Width <= width && s.Region.Y + s.Region.Height <= height;
        if (!o.AllowBorderCrops && generated && !inside)
        {
            return "a P-Net crop reaches past the border";
        }

        if (s.Kind != SampleKind.Landmark && t[4..].ContainsAnyExcept(0f))
        {
            return "landmark targets on a non-landmark sample";
        }

        switch (s.Kind)
        {
            case SampleKind.Positive or SampleKind.Part:
                if (s.Kind == SampleKind.Positive ? iou < 0.65f : iou is < 0.4f or >= 0.65f)
                {
                    return $"{s.Kind} with best IoU {iou}";
                }

                var gt = Reconstruct(s);
                var best = img.Faces.MaxBy(f => s.Frame.IntersectionOverUnion(f));
                return Near(gt, best) ? null : $"offsets give {gt}, the best face is {best}";

            case SampleKind.Negative:
                if (iou >= 0.3f)
                {
                    return $"negative with IoU {iou}";
                }

                if (t.ContainsAnyExcept(0f))
                {
                    return "negative with offsets";
                }

                foreach (var g in img.IgnoredFaces)
                {
                    if (Math.Min(s.Frame.X2, g.X2) > Math.Max(s.Frame.X1, g.X1) && Math.Min(s.Frame.Y2, g.Y2) > Math.Max(s.Frame.Y1, g.Y1))
                    {
                        return "negative touching an ignored face";
                    }
                }

                return null;

            case SampleKind.Landmark:
                var box = Reconstruct(s);
                // Generated landmark squares overlap their face by more than 0.65; mined crops reused as landmark
                // samples (MinedLandmarks) by at least the part threshold 0.4.
                float needed = s.Mined ? 0.4f : 0.65f;
                if (!(s.Mined ? s.Frame.IntersectionOverUnion(box) >= needed : s.Frame.IntersectionOverUnion(box) > needed))
                {
                    return $"{(s.Mined ? "mined" : "generated")} landmark sample at IoU {s.Frame.IntersectionOverUnion(box)}";
                }

                // The face box is the source face, mirrored when the sample is.
                bool matches = img.LandmarkFaces.Any(lf =>
                {
                    var b = s.Flip ? new BoundingBox((2 * s.FlipAxis) - lf.Box.X2, lf.Box.Y1, (2 * s.FlipAxis) - lf.Box.X1, lf.Box.Y2) : lf.Box;
                    return Near(b, box);
                });
                if (!matches)
                {
                    return $"landmark box {box} is no annotated face";
                }

                foreach (float v in t[4..])
                {
                    if (v is < 0f or > 1f)
                    {
                        return $"landmark target {v} outside the crop";
                    }
                }

                return null;
        }

        return "unknown kind";
    }

    private static string? CheckAll(int seed, CascadeStage net, bool mine)
    {
        var (img, width, height, candidates) = RandomScene(seed, landmarks: true);
        var options = DataPreparationOptions.For(net) with { Seed = seed, NegativesPerImage = 30, LandmarkTries = 10, ShiftedTries = 10 };
        var sampler = new ImageSampler(img, width, height, options);
        sampler.Generate(mine ? candidates : null);
        var seen = new HashSet<(PixelRegion, SampleKind, bool, float, float)>();
        foreach (var s in sampler.Specs)
        {
            if (Violation(s, img, width, height, options) is { } problem)
            {
                return $"{net} seed {seed}: {problem}";
            }

            if (!seen.Add((s.Region, s.Kind, s.Flip, s.Angle, s.FlipAxis)))
            {
                return $"{net} seed {seed}: duplicate {s.Region}";
            }
        }

        int minedNegatives = sampler.Specs.Count(s => s.Mined && s.Kind == SampleKind.Negative);
        return minedNegatives <= options.MaxMinedNegativesPerImage ? null : $"{minedNegatives} mined negatives";
    }

    [Property(MaxTest = 60)]
    public void PNet_samples_follow_the_IoU_rules(int seed) => Assert.Null(CheckAll(seed, CascadeStage.PNet, mine: false));

    [Property(MaxTest = 60)]
    public void RNet_samples_with_hard_examples_follow_the_IoU_rules(int seed) => Assert.Null(CheckAll(seed, CascadeStage.RNet, mine: true));

    [Property(MaxTest = 40)]
    public void ONet_samples_with_hard_examples_follow_the_IoU_rules(int seed) => Assert.Null(CheckAll(seed, CascadeStage.ONet, mine: true));

    /// <summary>Mined samples: the frame is the cascade's output frame of the squared candidate.</summary>
    [Property(MaxTest = 40)]
    public void Hard_examples_use_the_cascades_crop_geometry(int seed)
    {
        var (img, width, height, candidates) = RandomScene(seed, landmarks: false);
        var options = DataPreparationOptions.For(CascadeStage.RNet) with { MaxMinedNegativesPerImage = 1000 };
        var sampler = new ImageSampler(img, width, height, options);
        sampler.HardExamples(candidates);
        foreach (var s in sampler.Specs)
        {
            bool found = candidates.Any(c =>
            {
                var square = FaceCropper.Square(c.Box);
                return FaceCropper.OutputFrame(square) == s.Frame
                    && FaceCropper.CropRegion(square, width, height, CropBorder.ZeroPad, out var region) && region == s.Region;
            });
            Assert.True(found, $"{s.Region} / {s.Frame} is no candidate's crop");
        }

        // Every labelled candidate is there (negatives are not capped here), except repeats of the same region.
        int labelled = candidates.Select(c => FaceCropper.Square(c.Box)).Where(sq =>
            FaceCropper.CropRegion(sq, width, height, CropBorder.ZeroPad, out var r) && r.X < width && r.Y < height && r.X + r.Width > 0 && r.Y + r.Height > 0
            && ImageSampler.Label(FaceCropper.OutputFrame(sq), img.Faces, img.IgnoredFaces, out _) is not null)
            .Select(sq => { FaceCropper.CropRegion(sq, width, height, CropBorder.ZeroPad, out var r); return r; }).Distinct().Count();
        Assert.Equal(labelled, sampler.Specs.Count);
    }

    [Fact]
    public void Tiny_and_crowded_images_do_not_stall_negative_sampling()
    {
        // 13x13 with a face over everything: no negative exists; the sampler gives up after its bounded tries.
        var img = new TrainingImage(0, "x", "l", 1, [new BoundingBox(0, 0, 13, 13)], [], []);
        var sampler = new ImageSampler(img, 13, 13, DataPreparationOptions.For(CascadeStage.PNet) with { NegativesPerImage = 100_000 });
        sampler.RandomNegatives();
        Assert.Empty(sampler.Specs);

        // Smaller than a P-Net window: nothing at all.
        sampler = new ImageSampler(new TrainingImage(0, "x", "l", 1, [], [], []), 11, 30, DataPreparationOptions.For(CascadeStage.PNet));
        sampler.Generate(null);
        Assert.Empty(sampler.Specs);
    }
}
