using System.Globalization;
using Mtcnn.Inference;
using Mtcnn.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtcnn.Training.Diagnostics;

/// <summary>One network of one variant in the self-check.</summary>
/// <param name="Net">The network.</param>
/// <param name="Variant">The architecture variant.</param>
/// <param name="MaxDifference">Largest |libtorch - core| over all outputs (NaN when libtorch gave NaN).</param>
public sealed record SelfCheckCase(NetKind Net, ModelVariant Variant, double MaxDifference)
{
    /// <summary>Whether the difference is within <see cref="TorchSelfCheck.Tolerance"/>.</summary>
    public bool Passed => MaxDifference <= TorchSelfCheck.Tolerance;

    /// <summary>E.g. <c>rnet original</c>.</summary>
    public string Name => $"{MtcnnNets.WeightPrefix(Net)} {MtcnnWeights.VariantName(Variant)}";
}

/// <summary>The outcome of <see cref="TorchSelfCheck.Run"/>.</summary>
/// <param name="Cases">P-, R- and O-Net of both variants.</param>
/// <param name="FaultInjected">True when the test hook perturbed libtorch's outputs in this run.</param>
public sealed record SelfCheckResult(IReadOnlyList<SelfCheckCase> Cases, bool FaultInjected)
{
    /// <summary>Whether every case passed.</summary>
    public bool Passed => Cases.All(c => c.Passed);

    /// <summary>The largest difference of all cases.</summary>
    public double MaxDifference => Cases.Max(c => double.IsNaN(c.MaxDifference) ? double.PositiveInfinity : c.MaxDifference);

    /// <summary>The failing cases as <c>rnet original 3.1E-001, ...</c>.</summary>
    public string DescribeFailures() => string.Join(", ", Cases.Where(c => !c.Passed).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Name} {c.MaxDifference:E1}")));
}

/// <summary>
/// The numerical self-check of the training stack: each network (P-, R-, O-Net; original and reference variants) with
/// fixed weights runs on fixed inputs in libtorch and in the core's scalar kernels, which must agree within
/// <see cref="Tolerance"/>. It exists because libtorch's oneDNN kernels compute wrong convolutions on some processors
/// (seen on an AMD Zen 5 VM: R-/O-Net logits off by 0.05-0.6, NaN losses in training), which would silently train a
/// broken model. It takes well under a second and changes no global state (no random seed, no thread count).
/// </summary>
public static class TorchSelfCheck
{
    /// <summary>Largest accepted |libtorch - core| on any output.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>The test hook's variable; see <see cref="SelfCheckFault"/>.</summary>
    public const string FaultVariable = "MTCNN_TRAIN_CHECK_FAULT";

    private const int Seed = 20261206;

    /// <summary>Runs the check in this process's libtorch configuration.</summary>
    /// <param name="fault">A simulated fault (tests), or null for <see cref="SelfCheckFault.FromEnvironment"/>.</param>
    /// <returns>Every case with its largest difference.</returns>
    public static SelfCheckResult Run(SelfCheckFault? fault = null)
    {
        fault ??= SelfCheckFault.FromEnvironment();
        bool perturb = fault.AppliesNow();
        var cases = new List<SelfCheckCase>();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var variant in new[] { ModelVariant.Original, ModelVariant.Reference })
        {
            var nets = new[] { NetKind.PNet, NetKind.RNet, NetKind.ONet }.Select(k => MtcnnNets.Create(k, variant)).ToArray();
            try
            {
                for (int i = 0; i < nets.Length; i++)
                {
                    FillParameters(nets[i], Seed + (10 * i) + (int)variant);
                    nets[i].eval();
                }

                var weights = MtcnnWeights.Read(WeightExchange.Export(nets, null, new Dictionary<string, string> { ["source"] = "mtcnn-train self-check" }).ToBytes());
                var core = new Networks(weights, SimdLevel.Scalar);
                cases.Add(new SelfCheckCase(NetKind.PNet, variant, ComparePNet((PNetModule)nets[0], core, variant)));
                cases.Add(new SelfCheckCase(NetKind.RNet, variant, CompareCrops(nets[1], core.R, variant, perturb)));
                cases.Add(new SelfCheckCase(NetKind.ONet, variant, CompareCrops(nets[2], core.O, variant, perturb)));
            }
            finally
            {
                foreach (var net in nets)
                {
                    net.Dispose();
                }
            }
        }

        return new SelfCheckResult(cases, perturb);
    }

    /// <summary>Fills every parameter from a seeded generator: weights ±1/sqrt(fan-in), 1-D parameters (biases, PReLU slopes) in [-0.1, 0.3].</summary>
    private static void FillParameters(MtcnnNet net, int seed)
    {
        var rng = new Random(seed);
        foreach (var (_, p) in net.named_parameters())
        {
            long n = p.numel();
            var values = new float[n];
            double bound = p.dim() >= 2 ? 1 / Math.Sqrt(n / p.shape[0]) : 0;
            for (long i = 0; i < n; i++)
            {
                values[i] = (float)(p.dim() >= 2 ? ((rng.NextDouble() * 2) - 1) * bound : -0.1 + (rng.NextDouble() * 0.4));
            }

            using var t = torch.tensor(values, p.shape);
            p.copy_(t);
        }
    }

    private static (float[] Chw, float[] Hwc) RandomInput(Random rng, int h, int w, ModelVariant variant)
    {
        var rgb = new byte[h * w * 3];
        rng.NextBytes(rgb);
        var chw = new float[3 * h * w];
        InputEncoding.Encode(rgb, h, w, variant, chw);
        var hwc = new float[chw.Length];
        for (int c = 0; c < 3; c++)
        {
            for (int p = 0; p < h * w; p++)
            {
                hwc[(p * 3) + c] = chw[(c * h * w) + p];
            }
        }

        return (chw, hwc);
    }

    private static Tensor Batch(float[][] chw, int h, int w)
    {
        var all = new float[chw.Length * 3 * h * w];
        for (int i = 0; i < chw.Length; i++)
        {
            chw[i].CopyTo(all, i * 3 * h * w);
        }

        return torch.tensor(all, [chw.Length, 3, h, w], ScalarType.Float32);
    }

    private static float[] Values(Tensor t) => t.detach().contiguous().data<float>().ToArray();

    private static double MaxDiff(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        if (expected.Length != actual.Length)
        {
            return double.PositiveInfinity;
        }

        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)expected[i] - actual[i]);
            if (double.IsNaN(d))
            {
                return double.NaN;
            }

            max = Math.Max(max, d);
        }

        return max;
    }

    /// <summary>A batch of 12x12 crops (1x1 maps) and one 37x29 image (a 14x10 map), against the core's P-Net maps.</summary>
    private static double ComparePNet(PNetModule net, Networks core, ModelVariant variant)
    {
        var rng = new Random(Seed + 1);
        int classes = net.FaceLogitCount;
        double max = 0;
        var crops = Enumerable.Range(0, 8).Select(_ => RandomInput(rng, 12, 12, variant)).ToArray();
        var o = net.forward(Batch(crops.Select(c => c.Chw).ToArray(), 12, 12));
        var face = Values(o.FaceLogits);
        var box = Values(o.Box);
        for (int i = 0; i < crops.Length; i++)
        {
            var (maps, _, _) = CorePNet(core, crops[i].Hwc, 12, 12);
            max = Worst(max, MaxDiff(maps.AsSpan(0, classes), face.AsSpan(i * classes, classes)));
            max = Worst(max, MaxDiff(maps.AsSpan(classes, 4), box.AsSpan(i * 4, 4)));
        }

        var big = RandomInput(rng, 37, 29, variant);
        var m = net.ForwardMaps(Batch([big.Chw], 37, 29));
        var (coreMaps, mh, mw) = CorePNet(core, big.Hwc, 37, 29);
        int cells = mh * mw;
        max = Worst(max, MaxDiff(coreMaps.AsSpan(0, classes * cells), Values(m.FaceLogits)));
        return Worst(max, MaxDiff(coreMaps.AsSpan(classes * cells, 4 * cells), Values(m.Box)));
    }

    /// <summary>R-Net or O-Net on a batch of 16 crops against the core.</summary>
    private static double CompareCrops(MtcnnNet net, CropNet core, ModelVariant variant, bool perturb)
    {
        var rng = new Random(Seed + (int)net.Kind);
        int s = net.InputSize, classes = net.FaceLogitCount, n = 16;
        bool landmarks = net.Kind == NetKind.ONet;
        var crops = Enumerable.Range(0, n).Select(_ => RandomInput(rng, s, s, variant)).ToArray();
        var o = net.forward(Batch(crops.Select(c => c.Chw).ToArray(), s, s));
        var face = Values(o.FaceLogits);
        var box = Values(o.Box);
        var marks = Values(o.Landmarks);
        if (perturb)
        {
            // What the faulty kernels were seen to do: R-/O-Net logits and boxes off by a few tenths.
            for (int i = 0; i < face.Length; i += 3)
            {
                face[i] += 0.25f;
            }

            box[1] -= 0.1f;
        }

        var input = new float[n * core.InputLength];
        for (int i = 0; i < n; i++)
        {
            crops[i].Hwc.CopyTo(input, i * core.InputLength);
        }

        var output = new float[n * core.OutputStride];
        core.Forward(input, n, new float[core.ScratchPerCrop], new float[core.ScratchPerCrop], new float[n * core.FlatLength], new float[core.DenseSize(n)], output);
        double max = 0;
        for (int i = 0; i < n; i++)
        {
            var expected = output.AsSpan(i * core.OutputStride, core.OutputStride);
            max = Worst(max, MaxDiff(expected[..classes], face.AsSpan(i * classes, classes)));
            max = Worst(max, MaxDiff(expected.Slice(classes, 4), box.AsSpan(i * 4, 4)));
            if (landmarks)
            {
                // The core keeps the weight layout (x1..x5, y1..y5 in the original variant); libtorch's output is interleaved.
                var coreMarks = expected.Slice(classes + 4, 10);
                var interleaved = new float[10];
                for (int k = 0; k < 5; k++)
                {
                    interleaved[2 * k] = variant == ModelVariant.Original ? coreMarks[k] : coreMarks[2 * k];
                    interleaved[(2 * k) + 1] = variant == ModelVariant.Original ? coreMarks[5 + k] : coreMarks[(2 * k) + 1];
                }

                max = Worst(max, MaxDiff(interleaved, marks.AsSpan(i * 10, 10)));
            }
        }

        return max;
    }

    private static double Worst(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b);

    /// <summary>The core's P-Net output for one HWC image as <c>[C][H][W]</c> (class outputs, then 4 box values).</summary>
    private static (float[] Maps, int H, int W) CorePNet(Networks nets, float[] hwc, int h, int w)
    {
        int scratch = nets.P.ScratchSize(h, w);
        var a = new float[scratch];
        var b = new float[scratch];
        var (oh, ow, row) = nets.P.Forward(hwc, h, w, a, b);
        int cs = nets.P.Head.OutputChannelStride;
        int channels = nets.P.ClassOutputs + 4;
        var maps = new float[channels * oh * ow];
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    maps[(((c * oh) + i) * ow) + j] = a[(((i * row) + j) * cs) + c];
                }
            }
        }

        return (maps, oh, ow);
    }
}

/// <summary>
/// The self-check's test hook (<c>MTCNN_TRAIN_CHECK_FAULT</c>): it perturbs libtorch's R-Net and O-Net outputs inside
/// the check, as the faulty oneDNN kernels do, under a condition, so that the fallback search can be exercised on a
/// processor that computes correctly. Values: <c>all</c> (always: nothing passes), <c>onednn</c> (while oneDNN is
/// in use: only switching it off passes), <c>isa&gt;NAME</c> (while oneDNN is in use and its ISA limit is unset or
/// wider than NAME, e.g. <c>isa&gt;AVX2</c>: the search must settle on AVX2).
/// </summary>
public sealed class SelfCheckFault
{
    private readonly string? aboveIsa;

    private SelfCheckFault(string text, bool always, bool oneDnn, string? aboveIsa)
    {
        Text = text;
        Always = always;
        OneDnn = oneDnn;
        this.aboveIsa = aboveIsa;
    }

    /// <summary>No fault.</summary>
    public static SelfCheckFault None { get; } = new(string.Empty, false, false, null);

    /// <summary>The hook's text as given.</summary>
    public string Text { get; }

    private bool Always { get; }

    private bool OneDnn { get; }

    /// <summary>Parses a hook value.</summary>
    /// <param name="text">Empty, <c>all</c>, <c>onednn</c> or <c>isa&gt;NAME</c>.</param>
    /// <returns>The fault.</returns>
    /// <exception cref="ArgumentException">Another value.</exception>
    public static SelfCheckFault Parse(string? text)
    {
        var t = text?.Trim() ?? string.Empty;
        if (t.Length == 0)
        {
            return None;
        }

        if (t.Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return new SelfCheckFault(t, true, false, null);
        }

        if (t.Equals("onednn", StringComparison.OrdinalIgnoreCase))
        {
            return new SelfCheckFault(t, false, true, null);
        }

        if (t.StartsWith("isa>", StringComparison.OrdinalIgnoreCase) && OneDnnIsa.Rank(t[4..]) is not null)
        {
            return new SelfCheckFault(t, false, true, t[4..].Trim());
        }

        throw new ArgumentException($"{TorchSelfCheck.FaultVariable}='{text}' is not all, onednn or isa>NAME with a oneDNN ISA name (e.g. isa>AVX2).", nameof(text));
    }

    /// <summary>The hook from <c>MTCNN_TRAIN_CHECK_FAULT</c>.</summary>
    /// <returns>The fault, or <see cref="None"/>.</returns>
    public static SelfCheckFault FromEnvironment() => Parse(Environment.GetEnvironmentVariable(TorchSelfCheck.FaultVariable));

    /// <summary>Whether the fault applies in this process now (oneDNN's state and the native ISA limit).</summary>
    /// <returns>True to perturb.</returns>
    public bool AppliesNow()
    {
        if (Always)
        {
            return true;
        }

        if (!OneDnn || LibTorchNative.OneDnnEnabled == false)
        {
            return false;
        }

        return aboveIsa is null || OneDnnIsa.AllowsWiderThan(OneDnnIsa.Limit, aboveIsa);
    }
}
