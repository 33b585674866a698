using static TorchSharp.torch;

namespace Mtcnn.Training.Models;

/// <summary>
/// The three heads of an MTCNN network for a batch of <c>N</c> inputs. From <see cref="MtcnnNet"/>'s
/// <c>forward</c> every tensor is <c>[N, C]</c>; from <see cref="PNetModule.ForwardMaps"/> they are <c>[N, C, H, W]</c>
/// maps (one cell per 12x12 window at stride 2).
/// </summary>
/// <param name="FaceLogits">
/// <c>C = 2</c> for <see cref="ModelVariant.Original"/> (softmax logits, index 1 = face) or <c>C = 1</c> for
/// <see cref="ModelVariant.Reference"/> (one sigmoid logit). Use <see cref="MtcnnNet.FaceProbability"/> for the score.
/// </param>
/// <param name="Box">Box regression, <c>C = 4</c>: dx1, dy1, dx2, dy2 in units of the window size.</param>
/// <param name="Landmarks">
/// Landmarks, <c>C = 10</c>, always interleaved x1, y1, ..., x5, y5 relative to the window (left eye, right eye, nose,
/// left and right mouth corner), whatever the layout of the variant's weight tensor.
/// </param>
public sealed record NetOutput(Tensor FaceLogits, Tensor Box, Tensor Landmarks) : IDisposable
{
    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        FaceLogits.Dispose();
        Box.Dispose();
        Landmarks.Dispose();
    }

    /// <summary>Moves the three tensors to the dispose scope outside the current one (see TorchSharp dispose scopes).</summary>
    public NetOutput MoveToOuterDisposeScope() =>
        new(FaceLogits.MoveToOuterDisposeScope(), Box.MoveToOuterDisposeScope(), Landmarks.MoveToOuterDisposeScope());
}
