using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtcnn.Training.Models;

/// <summary>
/// One MTCNN network as a TorchSharp module. <c>forward</c> takes a float32 batch <c>[N, 3, S, S]</c> (S =
/// <see cref="InputSize"/>, encoded with <see cref="InputEncoding"/>) and returns <see cref="NetOutput"/> with
/// <c>[N, C]</c> tensors. Parameter names are the layer names of the weight format (docs/weights-format.md) without the
/// <c>pnet.</c>/<c>rnet.</c>/<c>onet.</c> prefix, e.g. <c>conv1.weight</c>, <c>prelu1.weight</c>, <c>conv4_1.bias</c>,
/// so <see cref="WeightExchange"/> maps them one to one. Create instances with <see cref="MtcnnNets.Create"/>.
/// Like every TorchSharp module, an instance is not thread-safe.
/// </summary>
public abstract class MtcnnNet : nn.Module<Tensor, NetOutput>
{
    /// <summary>Initialises the base module.</summary>
    /// <param name="kind">Which network.</param>
    /// <param name="variant">Which architecture.</param>
    private protected MtcnnNet(NetKind kind, ModelVariant variant)
        : base($"{MtcnnNets.WeightPrefix(kind)}_{MtcnnWeights.VariantName(variant)}")
    {
        Kind = kind;
        Variant = variant;
    }

    /// <summary>Which network this is.</summary>
    public NetKind Kind { get; }

    /// <summary>The architecture (and so the weight layout and input encoding) of this network.</summary>
    public ModelVariant Variant { get; }

    /// <summary>Side of the square training input in pixels: 12, 24 or 48.</summary>
    public int InputSize => MtcnnNets.InputSize(Kind);

    /// <summary>Number of face logits: 2 for <see cref="ModelVariant.Original"/>, 1 for <see cref="ModelVariant.Reference"/>.</summary>
    public int FaceLogitCount => Variant == ModelVariant.Original ? 2 : 1;

    /// <summary>Name of the landmark head layer in the weight format (<c>conv4_3</c>, <c>dense5_3</c> or <c>dense6_3</c>).</summary>
    public string LandmarkHeadName => Kind switch
    {
        NetKind.PNet => "conv4_3",
        NetKind.RNet => "dense5_3",
        _ => "dense6_3",
    };

    /// <summary>
    /// The face probability for logits of shape <c>[N, C]</c> (or maps <c>[N, C, H, W]</c>): softmax index 1 for the
    /// original variant, the sigmoid of the single logit for the reference variant. Returns <c>[N]</c> (or <c>[N, H, W]</c>).
    /// </summary>
    public Tensor FaceProbability(Tensor faceLogits)
    {
        ArgumentNullException.ThrowIfNull(faceLogits);
        using var scope = NewDisposeScope();
        var p = Variant == ModelVariant.Original
            ? nn.functional.softmax(faceLogits, 1).select(1, 1)
            : nn.functional.sigmoid(faceLogits.select(1, 0));
        return p.MoveToOuterDisposeScope();
    }

    /// <summary>A PReLU with one slope per channel (original) or one shared slope (reference), initialised to 0.25.</summary>
    private protected PReLU MakePrelu(long channels) =>
        nn.PReLU(Variant == ModelVariant.Original ? channels : 1, 0.25);

    /// <summary>
    /// Reorders an original-variant landmark head from x1..x5, y1..y5 to interleaved x1, y1, ..., x5, y5 along
    /// dimension 1 (works for <c>[N, 10]</c> and <c>[N, 10, H, W]</c>); the reference variant's head is already interleaved.
    /// </summary>
    private protected Tensor InterleaveLandmarks(Tensor raw)
    {
        if (Variant != ModelVariant.Original)
        {
            return raw;
        }

        long[] shape = raw.shape;
        var split = new long[shape.Length + 1];
        split[0] = shape[0];
        split[1] = 2;
        split[2] = 5;
        Array.Copy(shape, 2, split, 3, shape.Length - 2);
        return raw.view(split).transpose(1, 2).reshape(shape);
    }

    /// <summary>
    /// Initialisation for training from scratch: Kaiming-normal weights (fan-in, leaky-ReLU gain with slope 0.25) for
    /// layers followed by a PReLU, Xavier-uniform weights for the heads, zero biases; PReLU slopes start at 0.25.
    /// </summary>
    private protected static void InitTrunk(Parameter weight, Parameter? bias)
    {
        using var _ = no_grad();
        nn.init.kaiming_normal_(weight, 0.25, nn.init.FanInOut.FanIn, nn.init.NonlinearityType.LeakyReLU);
        if (bias is not null)
        {
            nn.init.zeros_(bias);
        }
    }

    /// <summary>Xavier-uniform weights and zero bias for an output head.</summary>
    private protected static void InitHead(Parameter weight, Parameter? bias)
    {
        using var _ = no_grad();
        nn.init.xavier_uniform_(weight);
        if (bias is not null)
        {
            nn.init.zeros_(bias);
        }
    }
}
