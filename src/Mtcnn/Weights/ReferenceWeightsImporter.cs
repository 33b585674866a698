using System.Security.Cryptography;
using Mtcnn.Inference;
using Mtcnn.Weights.PyTorch;

namespace Mtcnn;

/// <summary>
/// Imports the weights of the reference PyTorch project (Enderfga/mtCNN_sysu, <c>model_store/{pnet,rnet,onet}_epoch_20.pt</c>),
/// or any checkpoints of its architecture, into the project's weight format, variant <see cref="ModelVariant.Reference"/>.
/// Reads the PyTorch zip checkpoints without PyTorch; see docs/weights-format.md. Stateless and thread-safe.
/// </summary>
/// <remarks>
/// <para>Each input is a <c>torch.save</c> zip file holding a plain <c>state_dict</c> of float32 tensors. The architecture
/// (spec section 4): one shared PReLU slope per layer, floor-mode max-pooling, one sigmoid face logit, R-Net dense
/// 256 → 128 and O-Net dense 512 → 256 on the C-H-W flatten, BGR input <c>v / 255</c>. Its layout already is the
/// project's (conv OIHW, dense <c>[out, in]</c>, C-H-W flatten), so the import only renames: <c>pre_layer.N</c> becomes
/// <c>convK</c> / <c>preluK</c>, the heads <c>conv4_K</c> / <c>conv5_K</c> / <c>conv6_K</c> become P-Net's
/// <c>conv4_K</c>, R-Net's <c>dense5_K</c> and O-Net's <c>dense6_K</c>, and the dense layers <c>conv4</c> (R) and
/// <c>conv5</c> (O) become <c>dense4</c> and <c>dense5</c>. The landmark heads of P-Net and R-Net
/// (<c>conv4_3</c>, <c>conv5_3</c>), which the reference project never trains or uses, are dropped.</para>
/// <para>The reference project carries no licence; its weights are for internal testing and must not be redistributed.</para>
/// </remarks>
public static class ReferenceWeightsImporter
{
    /// <summary>The project the reference weights come from.</summary>
    public const string SourceProject = "Enderfga/mtCNN_sysu";

    /// <summary>File name of the reference P-Net checkpoint in its <c>model_store</c> folder.</summary>
    public const string PNetFileName = "pnet_epoch_20.pt";

    /// <summary>File name of the reference R-Net checkpoint.</summary>
    public const string RNetFileName = "rnet_epoch_20.pt";

    /// <summary>File name of the reference O-Net checkpoint.</summary>
    public const string ONetFileName = "onet_epoch_20.pt";

    /// <summary>SHA-256 (lower-case hex) of the reference <c>pnet_epoch_20.pt</c> (32,056 bytes).</summary>
    public const string PNetSha256 = "e818bafbe694390fba4cf59cad9d67a04ed8fb9297e5b4032c3d2af3832e5365";

    /// <summary>SHA-256 (lower-case hex) of the reference <c>rnet_epoch_20.pt</c> (245,871 bytes).</summary>
    public const string RNetSha256 = "cfe5d5abf979cb3d7eda838d9d6c8e1b582e4a53a1d20e9b6ff54953ed3ba042";

    /// <summary>SHA-256 (lower-case hex) of the reference <c>onet_epoch_20.pt</c> (903,910 bytes).</summary>
    public const string ONetSha256 = "53e8fe6d59c0b3cd75ae24f37756e056e05b9fa555cd9e442543aef54cc5f887";

    /// <summary>Value of the <c>source</c> metadata key when the three inputs are the reference project's own files.</summary>
    public const string SourceDescription = SourceProject + " model_store/{pnet,rnet,onet}_epoch_20.pt";

    /// <summary>Every tensor: the net, its state_dict name, the project's name and its shape (null: the PReLU rule).</summary>
    private static readonly TensorSpec[] Specs =
    [
        Conv("pnet", "pre_layer.0", "conv1", 10, 3, 3),
        Prelu("pnet", "pre_layer.1", "prelu1", 10),
        Conv("pnet", "pre_layer.3", "conv2", 16, 10, 3),
        Prelu("pnet", "pre_layer.4", "prelu2", 16),
        Conv("pnet", "pre_layer.5", "conv3", 32, 16, 3),
        Prelu("pnet", "pre_layer.6", "prelu3", 32),
        Conv("pnet", "conv4_1", "conv4_1", 1, 32, 1),
        Conv("pnet", "conv4_2", "conv4_2", 4, 32, 1),

        Conv("rnet", "pre_layer.0", "conv1", 28, 3, 3),
        Prelu("rnet", "pre_layer.1", "prelu1", 28),
        Conv("rnet", "pre_layer.3", "conv2", 48, 28, 3),
        Prelu("rnet", "pre_layer.4", "prelu2", 48),
        Conv("rnet", "pre_layer.6", "conv3", 64, 48, 2),
        Prelu("rnet", "pre_layer.7", "prelu3", 64),
        Dense("rnet", "conv4", "dense4", 128, 256),
        Prelu("rnet", "prelu4", "prelu4", 128),
        Dense("rnet", "conv5_1", "dense5_1", 1, 128),
        Dense("rnet", "conv5_2", "dense5_2", 4, 128),

        Conv("onet", "pre_layer.0", "conv1", 32, 3, 3),
        Prelu("onet", "pre_layer.1", "prelu1", 32),
        Conv("onet", "pre_layer.3", "conv2", 64, 32, 3),
        Prelu("onet", "pre_layer.4", "prelu2", 64),
        Conv("onet", "pre_layer.6", "conv3", 64, 64, 3),
        Prelu("onet", "pre_layer.7", "prelu3", 64),
        Conv("onet", "pre_layer.9", "conv4", 128, 64, 2),
        Prelu("onet", "pre_layer.10", "prelu4", 128),
        Dense("onet", "conv5", "dense5", 256, 512),
        Prelu("onet", "prelu5", "prelu5", 256),
        Dense("onet", "conv6_1", "dense6_1", 1, 256),
        Dense("onet", "conv6_2", "dense6_2", 4, 256),
        Dense("onet", "conv6_3", "dense6_3", 10, 256),
    ];

    /// <summary>Tensors of the reference checkpoints that are read but not imported (untrained landmark heads).</summary>
    private static readonly Dictionary<string, string[]> Dropped = new(StringComparer.Ordinal)
    {
        ["pnet"] = ["conv4_3.weight", "conv4_3.bias"],
        ["rnet"] = ["conv5_3.weight", "conv5_3.bias"],
        ["onet"] = [],
    };

    /// <summary>Imports three checkpoints from their bytes.</summary>
    /// <param name="pnet">The P-Net checkpoint (e.g. <c>pnet_epoch_20.pt</c>).</param>
    /// <param name="rnet">The R-Net checkpoint.</param>
    /// <param name="onet">The O-Net checkpoint.</param>
    /// <returns>Weights of variant <see cref="ModelVariant.Reference"/>, tensors named as in docs/weights-format.md, with
    /// <c>source</c>, <c>source_sha256</c>, <c>converter</c>, <c>conversion</c>, <c>layout</c> and <c>license</c> metadata.</returns>
    /// <exception cref="MtcnnFormatException">An input is not a zip checkpoint of a float32 state_dict, or lacks a tensor,
    /// has an unexpected one (for example a checkpoint given for the wrong net) or a tensor of another shape.</exception>
    public static MtcnnWeights Import(byte[] pnet, byte[] rnet, byte[] onet)
    {
        ArgumentNullException.ThrowIfNull(pnet);
        ArgumentNullException.ThrowIfNull(rnet);
        ArgumentNullException.ThrowIfNull(onet);
        var inputs = new (string Net, byte[] Bytes)[] { ("pnet", pnet), ("rnet", rnet), ("onet", onet) };
        var hashes = inputs.Select(i => Convert.ToHexStringLower(SHA256.HashData(i.Bytes))).ToArray();
        var tensors = new List<WeightTensor>();
        foreach (var (net, bytes) in inputs)
        {
            using var ms = new MemoryStream(bytes, writable: false);
            var state = TorchStateDict.Read(ms, $"the {net} checkpoint");
            tensors.AddRange(Map(net, state));
        }

        bool known = hashes[0] == PNetSha256 && hashes[1] == RNetSha256 && hashes[2] == ONetSha256;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["source"] = known ? SourceDescription : $"PyTorch state_dicts in the architecture of {SourceProject}",
            ["source_sha256"] = $"pnet={hashes[0]} rnet={hashes[1]} onet={hashes[2]}",
            ["converter"] = "Mtcnn.ReferenceWeightsImporter",
            ["conversion"] = "state_dict names mapped (pre_layer.N to convK/preluK; R conv4 to dense4, O conv5 to dense5; heads conv4_K, "
                + "conv5_K, conv6_K to P conv4_K, R dense5_K, O dense6_K); values and layouts unchanged; unused P/R landmark heads dropped",
            ["layout"] = "NCHW BGR input v / 255, not transposed; conv OIHW; dense [out,in]; first dense takes the C-H-W flatten; "
                + "one shared PReLU slope per layer; floor-mode max-pooling; one sigmoid face logit; O-Net landmarks interleaved x1,y1,...,x5,y5",
            ["license"] = $"none granted: {SourceProject} has no licence file; internal testing only, do not redistribute",
        };
        var weights = new MtcnnWeights(ModelVariant.Reference, tensors, metadata);

        // The engine's own shape checks, so that a file that imports also loads.
        _ = new Networks(weights, SimdLevel.Scalar);
        return weights;
    }

    /// <summary>Imports three checkpoints from streams (each read to its end, not disposed).</summary>
    /// <inheritdoc cref="Import(byte[], byte[], byte[])"/>
    public static MtcnnWeights Import(Stream pnet, Stream rnet, Stream onet)
    {
        ArgumentNullException.ThrowIfNull(pnet);
        ArgumentNullException.ThrowIfNull(rnet);
        ArgumentNullException.ThrowIfNull(onet);
        return Import(ReadAll(pnet), ReadAll(rnet), ReadAll(onet));
    }

    private static IEnumerable<WeightTensor> Map(string net, IReadOnlyList<WeightTensor> state)
    {
        var byName = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        foreach (var t in state)
        {
            byName[t.Name] = t;
        }

        var specs = Specs.Where(s => s.Net == net).ToArray();
        var expected = specs.SelectMany(s => s.SourceNames).Concat(Dropped[net]).ToHashSet(StringComparer.Ordinal);
        var unexpected = byName.Keys.Where(k => !expected.Contains(k)).Order(StringComparer.Ordinal).ToArray();
        var missing = expected.Where(k => !byName.ContainsKey(k) && !Dropped[net].Contains(k)).Order(StringComparer.Ordinal).ToArray();
        if (unexpected.Length > 0 || missing.Length > 0)
        {
            string hint = Guess(byName.Keys) is { } other && other != net ? $" It looks like the {other} checkpoint." : string.Empty;
            throw new MtcnnFormatException(
                $"The {net} checkpoint does not have the reference architecture's tensors: "
                + (missing.Length > 0 ? $"missing {string.Join(", ", missing)}" : string.Empty)
                + (missing.Length > 0 && unexpected.Length > 0 ? "; " : string.Empty)
                + (unexpected.Length > 0 ? $"unexpected {string.Join(", ", unexpected)}" : string.Empty)
                + "." + hint);
        }

        foreach (var spec in specs)
        {
            foreach (var (suffix, shape) in spec.Parts)
            {
                var t = byName[$"{spec.Source}.{suffix}"];
                bool ok = shape is null
                    ? t.Shape.Count == 1 && (t.Shape[0] == 1 || t.Shape[0] == spec.Out)
                    : t.Shape.SequenceEqual(shape);
                if (!ok)
                {
                    string want = shape is null ? $"[1] or [{spec.Out}]" : $"[{string.Join(", ", shape)}]";
                    throw new MtcnnFormatException($"The {net} checkpoint's {t.Name} has shape [{string.Join(", ", t.Shape)}]; expected {want}.");
                }

                yield return new WeightTensor($"{net}.{spec.Target}.{suffix}", t.Shape.ToArray(), t.Data);
            }
        }
    }

    /// <summary>Which net a set of state_dict names belongs to, judged by its head names.</summary>
    private static string? Guess(IEnumerable<string> names)
    {
        var set = names.ToHashSet(StringComparer.Ordinal);
        return set.Contains("conv6_1.weight") ? "onet" : set.Contains("conv5_1.weight") ? "rnet" : set.Contains("conv4_1.weight") ? "pnet" : null;
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return ms.ToArray();
    }

    private static TensorSpec Conv(string net, string source, string target, int cout, int cin, int k) =>
        new(net, source, target, cout, [("weight", [cout, cin, k, k]), ("bias", [cout])]);

    private static TensorSpec Dense(string net, string source, string target, int cout, int cin) =>
        new(net, source, target, cout, [("weight", [cout, cin]), ("bias", [cout])]);

    private static TensorSpec Prelu(string net, string source, string target, int channels) =>
        new(net, source, target, channels, [("weight", null)]);

    private sealed record TensorSpec(string Net, string Source, string Target, int Out, (string Suffix, int[]? Shape)[] Parts)
    {
        public IEnumerable<string> SourceNames => Parts.Select(p => $"{Source}.{p.Suffix}");
    }
}
