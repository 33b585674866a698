using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtcnn.Training.Models;

/// <summary>
/// R-Net or O-Net (spec section 1): convolutions with PReLU and max-pooling on a fixed-size crop, a C-H-W flatten, one
/// fully connected layer with PReLU, and three fully connected heads (face, box, landmarks).
/// <list type="bullet">
/// <item>R-Net (24x24): conv 3x3 3→28, pool 3/2, conv 3x3 28→48, pool 3/2, conv 2x2 48→64, <c>dense4</c> → 128;
/// heads <c>dense5_1</c>, <c>dense5_2</c>, <c>dense5_3</c>.</item>
/// <item>O-Net (48x48): conv 3x3 3→32, pool 3/2, conv 3x3 32→64, pool 3/2, conv 3x3 64→64, pool 2/2, conv 2x2 64→128,
/// <c>dense5</c> → 256; heads <c>dense6_1</c>, <c>dense6_2</c>, <c>dense6_3</c>.</item>
/// </list>
/// Pooling is ceil mode for the original variant (last map 3x3) and floor mode for the reference variant (2x2).
/// </summary>
public sealed class CropNetModule : MtcnnNet
{
    private readonly (Conv2d Conv, PReLU Prelu, MaxPool2d? Pool)[] stages;
    private readonly Linear dense;
    private readonly PReLU densePrelu;
    private readonly Linear faceHead;
    private readonly Linear boxHead;
    private readonly Linear landmarkHead;

    internal CropNetModule(NetKind kind, ModelVariant variant)
        : base(kind, variant)
    {
        if (kind == NetKind.PNet)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "P-Net is a PNetModule.");
        }

        bool ceil = variant == ModelVariant.Original;
        (int Out, int Kernel, int Pool, int Stride)[] spec = kind == NetKind.RNet
            ? [(28, 3, 3, 2), (48, 3, 3, 2), (64, 2, 0, 0)]
            : [(32, 3, 3, 2), (64, 3, 3, 2), (64, 3, 2, 2), (128, 2, 0, 0)];
        int denseIndex = spec.Length + 1;
        int denseOut = kind == NetKind.RNet ? 128 : 256;

        stages = new (Conv2d, PReLU, MaxPool2d?)[spec.Length];
        int channels = 3, size = InputSize;
        for (int i = 0; i < spec.Length; i++)
        {
            var (cout, k, pk, ps) = spec[i];
            var conv = nn.Conv2d(channels, cout, k);
            var prelu = MakePrelu(cout);
            InitTrunk(conv.weight!, conv.bias);
            register_module($"conv{i + 1}", conv);
            register_module($"prelu{i + 1}", prelu);
            size -= k - 1;
            MaxPool2d? pool = null;
            if (pk > 0)
            {
                pool = nn.MaxPool2d(pk, ps, ceil_mode: ceil);
                register_module($"pool{i + 1}", pool);
                size = ((ceil ? size - pk + ps - 1 : size - pk) / ps) + 1;
            }

            stages[i] = (conv, prelu, pool);
            channels = cout;
        }

        FlatSize = size;
        dense = nn.Linear(channels * size * size, denseOut);
        densePrelu = MakePrelu(denseOut);
        faceHead = nn.Linear(denseOut, FaceLogitCount);
        boxHead = nn.Linear(denseOut, 4);
        landmarkHead = nn.Linear(denseOut, 10);
        InitTrunk(dense.weight!, dense.bias);
        foreach (var h in new[] { faceHead, boxHead, landmarkHead })
        {
            InitHead(h.weight!, h.bias);
        }

        register_module($"dense{denseIndex}", dense);
        register_module($"prelu{denseIndex}", densePrelu);
        register_module($"dense{denseIndex + 1}_1", faceHead);
        register_module($"dense{denseIndex + 1}_2", boxHead);
        register_module(LandmarkHeadName, landmarkHead);
    }

    /// <summary>Side of the last feature map before the flatten: 3 (original, ceil pooling) or 2 (reference, floor pooling).</summary>
    public int FlatSize { get; }

    /// <summary>Runs the net on a <c>[N, 3, S, S]</c> batch (S = <see cref="MtcnnNet.InputSize"/>) and returns <c>[N, C]</c> outputs.</summary>
    /// <exception cref="ArgumentException">The input has another shape.</exception>
    public override NetOutput forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != 3 || input.shape[2] != InputSize || input.shape[3] != InputSize)
        {
            throw new ArgumentException($"{Kind} expects a [N, 3, {InputSize}, {InputSize}] batch, got [{string.Join(", ", input.shape)}].", nameof(input));
        }

        using var scope = NewDisposeScope();
        var output = ForwardHeads(ForwardTrunk(input));
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Width of the trunk's output (the fully connected layer after its PReLU): 128 (R-Net) or 256 (O-Net).</summary>
    public int FeatureWidth => (int)dense.weight!.shape[0];

    /// <summary>Everything before the heads: convolutions, flatten, the fully connected layer and its PReLU; <c>[N, 3, S, S]</c> → <c>[N, FeatureWidth]</c>.</summary>
    /// <param name="input">The batch (not checked; <see cref="forward"/> checks).</param>
    /// <returns>The features.</returns>
    public Tensor ForwardTrunk(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var (conv, prelu, pool) in stages)
        {
            x = prelu.forward(conv.forward(x));
            if (pool is not null)
            {
                x = pool.forward(x);
            }
        }

        return densePrelu.forward(dense.forward(x.flatten(1))).MoveToOuterDisposeScope();
    }

    /// <summary>The three heads on trunk features <c>[N, FeatureWidth]</c>.</summary>
    /// <param name="features">The features.</param>
    /// <returns>The outputs.</returns>
    public NetOutput ForwardHeads(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        using var scope = NewDisposeScope();
        var output = new NetOutput(faceHead.forward(features), boxHead.forward(features), InterleaveLandmarks(landmarkHead.forward(features)));
        return output.MoveToOuterDisposeScope();
    }
}
