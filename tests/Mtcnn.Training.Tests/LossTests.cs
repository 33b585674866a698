using Mtcnn.Training.Models;
using Mtcnn.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtcnn.Training.Tests;

/// <summary>The multi-task loss: OHEM keeps exactly the hardest samples, masks route each task to its sample types.</summary>
[Collection("torch")]
public sealed class LossTests
{
    [Theory]
    [InlineData(10, 0.7, 7)]
    [InlineData(9, 0.7, 7)]
    [InlineData(1, 0.7, 1)]
    [InlineData(0, 0.7, 0)]
    [InlineData(5, 1.0, 5)]
    [InlineData(100, 0.01, 1)]
    public void Ohem_keeps_the_ceiling_of_the_ratio(int n, double ratio, int expected) =>
        Assert.Equal(expected, MultiTaskLoss.KeptCount(n, ratio));

    [Fact]
    public void Ohem_averages_the_largest_losses_and_sends_gradient_only_to_them()
    {
        float[] values = [0.1f, 2.0f, 0.5f, 3.0f, 0.2f, 1.0f, 0.05f, 0.7f, 0.3f, 4.0f];
        using var losses = torch.tensor(values).requires_grad_(true);
        var (mean, kept) = MultiTaskLoss.Ohem(losses, 0.7);
        Assert.Equal(7, kept);
        var top = values.OrderDescending().Take(7).ToArray();
        Assert.Equal(top.Average(), mean.item<float>(), 5);
        mean.backward();
        var grad = losses.grad!.data<float>().ToArray();
        var threshold = top[^1];
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal(values[i] >= threshold ? 1f / 7 : 0f, grad[i], 6);
        }
    }

    [Fact]
    public void Each_task_sees_only_its_sample_types()
    {
        // Four samples: negative, positive, part, landmark. Outputs chosen so each part of the loss is known by hand.
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new float[] { 0, 0, 0, 0, 5, 5, 5, 5 }, [4, 2]);
        var box = torch.tensor(new float[] { 9, 9, 9, 9, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3 }, [4, 4]);
        var marks = torch.tensor(Enumerable.Repeat(9f, 30).Concat(Enumerable.Repeat(0.5f, 10)).ToArray(), [4, 10]);
        var output = new NetOutput(logits, box, marks);
        var labels = torch.tensor(new long[] { 0, 1, -1, -2 });
        var boxTargets = torch.zeros(4, 4);
        var markTargets = torch.zeros(4, 10);
        var loss = MultiTaskLoss.Compute(output, labels, boxTargets, markTargets, ModelVariant.Original, (1, 0.5, 0.25), ohemRatio: 1);
        Assert.Equal(2, loss.ClassSamples);
        Assert.Equal(Math.Log(2), loss.Class, 5);                      // both samples have equal logits
        Assert.Equal((1 + 4 + 9) / 3.0, loss.Box, 5);                   // positive, part, landmark rows; the negative's 9s are ignored
        Assert.Equal(0.25, loss.Landmark, 5);                           // landmark row only
        Assert.Equal(Math.Log(2) + 0.5 * 14 / 3.0 + 0.25 * 0.25, loss.Total.item<float>(), 4);
    }

    [Fact]
    public void The_reference_variant_uses_a_sigmoid_logit()
    {
        using var scope = torch.NewDisposeScope();
        var output = new NetOutput(torch.tensor(new float[] { 0, 2 }, [2, 1]), torch.zeros(2, 4), torch.zeros(2, 10));
        var loss = MultiTaskLoss.Compute(output, torch.tensor(new long[] { 0, 1 }), torch.zeros(2, 4), torch.zeros(2, 10), ModelVariant.Reference, (1, 0.5, 0.5), 1);
        var expected = (Math.Log(2) + Math.Log(1 + Math.Exp(-2))) / 2;
        Assert.Equal(expected, loss.Class, 5);
        Assert.Equal(1, loss.Correct); // the negative sits exactly at p = 0.5, which counts as a face
    }
}
