using Mtcnn.Training.Data;
using Mtcnn.Training.Models;
using Mtcnn.Training.Training;

namespace Mtcnn.Training.Tests;

/// <summary>Splitting, shuffling and mirroring of training batches.</summary>
public sealed class BatchTests
{
    [Fact]
    public void The_split_is_by_source_image_and_deterministic()
    {
        var set = TrainerTests.Synthetic(12, 400, seed: 1);
        var a = new SampleBatches(set, ModelVariant.Original, 0.25, seed: 5);
        var b = new SampleBatches(set, ModelVariant.Original, 0.25, seed: 5);
        Assert.Equal(a.Validation, b.Validation);
        Assert.Equal(400, a.Training.Count + a.Validation.Count);
        var trainImages = a.Training.Select(set.SourceImage).ToHashSet();
        Assert.DoesNotContain(a.Validation, i => trainImages.Contains(set.SourceImage(i)));
        Assert.InRange(a.Validation.Count, 50, 150);
        Assert.Equal(a.EpochOrder(3), b.EpochOrder(3));
        Assert.NotEqual(a.EpochOrder(3), a.EpochOrder(4));
        Assert.Equal(a.Training.Order(), a.EpochOrder(3).Order());
    }

    [Fact]
    public void Mirroring_flips_pixels_boxes_and_swaps_left_and_right_points()
    {
        byte[] image = new byte[2 * 2 * 3];
        for (var i = 0; i < image.Length; i++)
        {
            image[i] = (byte)i;
        }

        var mirrored = new byte[image.Length];
        SampleBatches.MirrorPixels(image, 2, mirrored);
        Assert.Equal(new byte[] { 3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8 }, mirrored);

        float[] box = [0.1f, 0.2f, -0.3f, 0.4f];
        float[] marks = [0.3f, 0.4f, 0.7f, 0.41f, 0.5f, 0.6f, 0.35f, 0.8f, 0.66f, 0.81f];
        var boxOut = new float[4];
        var marksOut = new float[10];
        SampleBatches.MirrorTargets(box, marks, boxOut, marksOut);
        Assert.Equal(new[] { 0.3f, 0.2f, -0.1f, 0.4f }, boxOut);
        // New left eye = mirrored old right eye, etc.
        Assert.Equal(1 - 0.7f, marksOut[0], 6);
        Assert.Equal(0.41f, marksOut[1], 6);
        Assert.Equal(1 - 0.3f, marksOut[2], 6);
        Assert.Equal(1 - 0.5f, marksOut[4], 6);
        Assert.Equal(1 - 0.66f, marksOut[6], 6);
        Assert.Equal(0.81f, marksOut[7], 6);

        // Mirroring twice is the identity.
        var back = new float[4];
        var marksBack = new float[10];
        SampleBatches.MirrorTargets(boxOut, marksOut, back, marksBack);
        Assert.Equal(box, back);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(marks[i], marksBack[i], 6);
        }
    }

    [Fact]
    public void Options_survive_the_json_round_trip_and_bad_values_are_named()
    {
        var o = new TrainOptions { Net = NetKind.RNet, Samples = "/x.samples", LearningRateSteps = [3, 6], ClassWeight = 0.8, Threshold = 0.65 };
        var back = TrainOptions.FromJson(o.ToJson());
        Assert.Equal(o.ToJson(), back.ToJson());
        Assert.Equal(new[] { 3, 6 }, back.LearningRateSteps);
        Assert.Equal(0.001, o.LearningRateAt(3), 12);
        Assert.Equal(0.0001, o.LearningRateAt(4), 12);
        Assert.Equal(0.00001, o.LearningRateAt(7), 12);
        Assert.Equal((0.8, 0.5, 0.5), o.TaskWeights);
        Assert.Equal((1.0, 0.5, 1.0), (o with { Net = NetKind.ONet, ClassWeight = null }).TaskWeights);
        var e = Assert.Throws<ArgumentException>(() => (o with { OhemRatio = 0 }).Validate());
        Assert.Contains("OHEM", e.Message, StringComparison.Ordinal);
    }
}
