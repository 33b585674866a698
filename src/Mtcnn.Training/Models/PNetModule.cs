using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtcnn.Training.Models;

/// <summary>
/// P-Net (spec section 1): conv 3x3 3→10, PReLU, max-pool 2/2, conv 3x3 10→16, PReLU, conv 3x3 16→32, PReLU, then
/// three 1x1 convolution heads: face (<c>conv4_1</c>, 2 or 1 channels), box (<c>conv4_2</c>, 4) and landmarks
/// (<c>conv4_3</c>, 10). Pooling is ceil mode for the original variant and floor mode for the reference variant.
/// Fully convolutional: <see cref="ForwardMaps"/> takes any input of at least 12x12 pixels; <c>forward</c> takes
/// exactly 12x12 and flattens the 1x1 maps to <c>[N, C]</c>.
/// </summary>
public sealed class PNetModule : MtcnnNet
{
    private readonly Conv2d conv1;
    private readonly PReLU prelu1;
    private readonly MaxPool2d pool1;
    private readonly Conv2d conv2;
    private readonly PReLU prelu2;
    private readonly Conv2d conv3;
    private readonly PReLU prelu3;
    private readonly Conv2d faceHead;
    private readonly Conv2d boxHead;
    private readonly Conv2d landmarkHead;

    internal PNetModule(ModelVariant variant)
        : base(NetKind.PNet, variant)
    {
        bool ceil = variant == ModelVariant.Original;
        conv1 = nn.Conv2d(3, 10, 3);
        prelu1 = MakePrelu(10);
        pool1 = nn.MaxPool2d(2, 2, ceil_mode: ceil);
        conv2 = nn.Conv2d(10, 16, 3);
        prelu2 = MakePrelu(16);
        conv3 = nn.Conv2d(16, 32, 3);
        prelu3 = MakePrelu(32);
        faceHead = nn.Conv2d(32, FaceLogitCount, 1);
        boxHead = nn.Conv2d(32, 4, 1);
        landmarkHead = nn.Conv2d(32, 10, 1);

        register_module("conv1", conv1);
        register_module("prelu1", prelu1);
        register_module("pool1", pool1);
        register_module("conv2", conv2);
        register_module("prelu2", prelu2);
        register_module("conv3", conv3);
        register_module("prelu3", prelu3);
        register_module("conv4_1", faceHead);
        register_module("conv4_2", boxHead);
        register_module(LandmarkHeadName, landmarkHead);

        foreach (var c in new[] { conv1, conv2, conv3 })
        {
            InitTrunk(c.weight!, c.bias);
        }

        foreach (var c in new[] { faceHead, boxHead, landmarkHead })
        {
            InitHead(c.weight!, c.bias);
        }
    }

    /// <summary>
    /// Runs the net on <c>[N, 3, H, W]</c> (H, W &gt;= 12) and returns <c>[N, C, H', W']</c> maps; cell (i, j) is the
    /// 12x12 window at (2j, 2i) of the input. Landmark channels are interleaved x1, y1, ..., x5, y5.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not a 4-D 3-channel batch of at least 12x12.</exception>
    public NetOutput ForwardMaps(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != 3 || input.shape[2] < 12 || input.shape[3] < 12)
        {
            throw new ArgumentException($"P-Net expects a [N, 3, H, W] batch with H, W >= 12, got [{string.Join(", ", input.shape)}].", nameof(input));
        }

        using var scope = NewDisposeScope();
        var x = prelu1.forward(conv1.forward(input));
        x = pool1.forward(x);
        x = prelu2.forward(conv2.forward(x));
        x = prelu3.forward(conv3.forward(x));
        var output = new NetOutput(faceHead.forward(x), boxHead.forward(x), InterleaveLandmarks(landmarkHead.forward(x)));
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>Runs the net on a <c>[N, 3, 12, 12]</c> batch and returns <c>[N, C]</c> outputs.</summary>
    /// <exception cref="ArgumentException">The input is not <c>[N, 3, 12, 12]</c> (use <see cref="ForwardMaps"/> for larger inputs).</exception>
    public override NetOutput forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != 3 || input.shape[2] != 12 || input.shape[3] != 12)
        {
            throw new ArgumentException($"P-Net's forward expects a [N, 3, 12, 12] batch, got [{string.Join(", ", input.shape)}]; use ForwardMaps for larger inputs.", nameof(input));
        }

        using var scope = NewDisposeScope();
        var maps = ForwardMaps(input);
        var output = new NetOutput(maps.FaceLogits.flatten(1), maps.Box.flatten(1), maps.Landmarks.flatten(1));
        return output.MoveToOuterDisposeScope();
    }
}
