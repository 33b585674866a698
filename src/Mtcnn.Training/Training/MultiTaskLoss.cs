using Mtcnn.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtcnn.Training.Training;

/// <summary>The loss of one batch: the weighted total (for backward) and its parts (for logs).</summary>
/// <param name="Total">Weighted sum, a scalar tensor with gradient.</param>
/// <param name="Class">Face-classification loss after OHEM (0 when the batch has no positives or negatives).</param>
/// <param name="Box">Box-regression loss.</param>
/// <param name="Landmark">Landmark loss.</param>
/// <param name="ClassSamples">Positives and negatives in the batch.</param>
/// <param name="ClassKept">Of those, the ones OHEM kept.</param>
/// <param name="Correct">Positives and negatives classified right at probability 0.5.</param>
public sealed record LossParts(Tensor Total, double Class, double Box, double Landmark, int ClassSamples, int ClassKept, int Correct);

/// <summary>
/// The MTCNN multi-task loss with per-type masks and online hard sample mining.
/// <list type="bullet">
/// <item>Face classification on positives (label 1) and negatives (label 0) only: cross-entropy of the 2-way softmax
/// (original variant) or of the sigmoid logit (reference variant). OHEM keeps the <c>ceil(ratio × n)</c> largest of
/// these n per-sample losses and averages them; the rest contribute nothing.</item>
/// <item>Box regression on positives, parts (−1) and landmark samples (−2): mean squared error over the 4 offsets.</item>
/// <item>Landmarks on landmark samples: mean squared error over the 10 coordinates.</item>
/// </list>
/// Each part is a mean over its own samples, so the task weights do not depend on the batch composition.
/// </summary>
public static class MultiTaskLoss
{
    /// <summary>Computes the loss of a batch.</summary>
    /// <param name="output">The network's outputs for the batch.</param>
    /// <param name="labels">Labels [N] (int64).</param>
    /// <param name="boxes">Box targets [N, 4].</param>
    /// <param name="landmarks">Landmark targets [N, 10].</param>
    /// <param name="variant">Decides softmax or sigmoid classification.</param>
    /// <param name="weights">Task weights (classification, box, landmark).</param>
    /// <param name="ohemRatio">Fraction of classification losses kept (1 = all).</param>
    /// <returns>The loss and its parts.</returns>
    public static LossParts Compute(NetOutput output, Tensor labels, Tensor boxes, Tensor landmarks, ModelVariant variant, (double Class, double Box, double Landmark) weights, double ohemRatio)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(labels);
        var total = torch.zeros(1, dtype: ScalarType.Float32).squeeze();

        // Scalars as named locals held to the end: a temporary converted implicitly can be finalised by the GC while
        // libtorch reads it (see ParameterOptimizer.Update).
        using var zero = 0.ToScalar();
        using var landmarkLabel = (-2).ToScalar();
        using var two = 2.ToScalar();
        using var half = 0.5.ToScalar();
        using var classWeight = weights.Class.ToScalar();
        using var boxWeight = weights.Box.ToScalar();
        using var landmarkWeight = weights.Landmark.ToScalar();
        double classLoss = 0, boxLoss = 0, landmarkLoss = 0;
        int classSamples = 0, kept = 0, correct = 0;

        var classIndex = torch.nonzero(labels.ge(zero)).squeeze(1);
        classSamples = (int)classIndex.shape[0];
        if (classSamples > 0)
        {
            var target = labels.index_select(0, classIndex);
            var logits = output.FaceLogits.index_select(0, classIndex);
            var perSample = PerSampleClassLoss(logits, target, variant);
            var (mined, keptCount) = Ohem(perSample, ohemRatio);
            kept = keptCount;
            classLoss = mined.item<float>();
            total = total.add(mined.mul(classWeight));
            using (torch.no_grad())
            {
                correct = (int)FaceProbability(logits, variant).ge(half).to(ScalarType.Int64).eq(target).sum().item<long>();
            }
        }

        var boxIndex = torch.nonzero(labels.ne(zero)).squeeze(1);
        if (boxIndex.shape[0] > 0)
        {
            var diff = output.Box.index_select(0, boxIndex).sub(boxes.index_select(0, boxIndex));
            var loss = diff.pow(two).mean();
            boxLoss = loss.item<float>();
            total = total.add(loss.mul(boxWeight));
        }

        var markIndex = torch.nonzero(labels.eq(landmarkLabel)).squeeze(1);
        if (markIndex.shape[0] > 0 && weights.Landmark > 0)
        {
            var diff = output.Landmarks.index_select(0, markIndex).sub(landmarks.index_select(0, markIndex));
            var loss = diff.pow(two).mean();
            landmarkLoss = loss.item<float>();
            total = total.add(loss.mul(landmarkWeight));
        }

        return new LossParts(total, classLoss, boxLoss, landmarkLoss, classSamples, kept, correct);
    }

    /// <summary>Per-sample classification loss: softmax cross-entropy ([N,2] logits) or sigmoid cross-entropy ([N,1]).</summary>
    /// <param name="logits">The logits of the samples.</param>
    /// <param name="target">0 or 1 per sample (int64).</param>
    /// <param name="variant">The architecture.</param>
    /// <returns>[N] losses.</returns>
    public static Tensor PerSampleClassLoss(Tensor logits, Tensor target, ModelVariant variant) =>
        variant == ModelVariant.Original
            ? torch.nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.None)
            : torch.nn.functional.binary_cross_entropy_with_logits(logits.squeeze(1), target.to(ScalarType.Float32), reduction: nn.Reduction.None);

    /// <summary>The face probability of each sample.</summary>
    /// <param name="logits">[N,2] or [N,1] logits.</param>
    /// <param name="variant">The architecture.</param>
    /// <returns>[N] probabilities.</returns>
    public static Tensor FaceProbability(Tensor logits, ModelVariant variant) =>
        variant == ModelVariant.Original
            ? torch.nn.functional.softmax(logits, 1).select(1, 1)
            : torch.sigmoid(logits.squeeze(1));

    /// <summary>Online hard sample mining: the mean of the <c>ceil(ratio × n)</c> largest losses.</summary>
    /// <param name="perSample">[n] losses.</param>
    /// <param name="ratio">Fraction kept, in (0, 1].</param>
    /// <returns>The mean of the kept losses and how many were kept.</returns>
    public static (Tensor Loss, int Kept) Ohem(Tensor perSample, double ratio)
    {
        ArgumentNullException.ThrowIfNull(perSample);
        var n = (int)perSample.shape[0];
        var k = KeptCount(n, ratio);
        if (k >= n)
        {
            return (perSample.mean(), n);
        }

        var (values, _) = perSample.topk(k);
        return (values.mean(), k);
    }

    /// <summary>How many of <paramref name="n"/> losses OHEM keeps: <c>ceil(ratio × n)</c>, at least 1 when n ≥ 1.</summary>
    /// <param name="n">Samples with a classification loss.</param>
    /// <param name="ratio">Fraction kept.</param>
    /// <returns>The count.</returns>
    public static int KeptCount(int n, double ratio) =>
        n == 0 ? 0 : Math.Clamp((int)Math.Ceiling(ratio * n - 1e-9), 1, n);
}
