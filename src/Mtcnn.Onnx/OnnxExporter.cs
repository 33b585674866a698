using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using Google.Protobuf;
using Mtcnn.Onnx.Proto;

namespace Mtcnn.Onnx;

/// <summary>The three networks of the cascade.</summary>
public enum MtcnnNetwork
{
    /// <summary>P-Net: fully convolutional, any input of at least 12x12.</summary>
    PNet,

    /// <summary>R-Net: 24x24 crops.</summary>
    RNet,

    /// <summary>O-Net: 48x48 crops.</summary>
    ONet,
}

/// <summary>
/// Builds ONNX models of the MTCNN networks from Mtcnn.NET weights (either variant), with Google.Protobuf. The graphs
/// take <c>input</c>: float32 NCHW, already normalised as the variant expects, and give the raw head outputs and the
/// face probability:
/// <list type="table">
/// <item><term>original</term><description>RGB, <c>(v − 127.5) · 0.0078125</c>; max pooling rounds up (ceil mode); two class logits, probability = softmax[1]; landmarks x1..x5 then y1..y5.</description></item>
/// <item><term>reference</term><description>BGR, <c>v / 255</c>; max pooling rounds down; one class logit, probability = sigmoid; landmarks interleaved x1, y1, ..., x5, y5.</description></item>
/// </list>
/// P-Net (<c>pnet.onnx</c>): input <c>[batch, 3, height, width]</c> (dynamic; at least 12x12), outputs <c>class_logits</c>
/// <c>[batch, 2|1, h, w]</c>, <c>box</c> <c>[batch, 4, h, w]</c> and <c>prob</c> <c>[batch, 1, h, w]</c> on the 12x12-window
/// grid (stride 2). R-Net / O-Net: input <c>[batch, 3, 24|48, 24|48]</c>, outputs <c>class_logits</c> <c>[batch, 2|1]</c>,
/// <c>box</c> <c>[batch, 4]</c>, <c>prob</c> <c>[batch, 1]</c> and for O-Net <c>landmarks</c> <c>[batch, 10]</c>. Box
/// values are the regression offsets as fractions of the window (or crop) side, landmarks fractions of the crop.
/// The model's metadata names the variant, the input convention and the sha256 of the source weight file.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The opset written by default (the newest that Debian's onnx 1.12 checker validates).</summary>
    public const int DefaultOpset = 17;

    /// <summary>The oldest opset the graphs can be written in (Softmax over one axis, Slice with tensor inputs).</summary>
    public const int MinOpset = 13;

    /// <summary>The newest opset offered.</summary>
    public const int MaxOpset = 21;

    // IR version by opset (onnx's versioning table): opsets 13-14 -> 7, 15-18 -> 8, 19-20 -> 9, 21 -> 10.
    private static long IrVersion(int opset) => opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;

    private const int FloatType = 1;
    private const int Int64Type = 7;

    /// <summary>The file name of a network's model (<c>pnet.onnx</c>, <c>rnet.onnx</c>, <c>onet.onnx</c>).</summary>
    public static string FileName(MtcnnNetwork network) => network switch
    {
        MtcnnNetwork.PNet => "pnet.onnx",
        MtcnnNetwork.RNet => "rnet.onnx",
        _ => "onet.onnx",
    };

    /// <summary>The serialized ONNX model of one network.</summary>
    /// <param name="weights">The weights (either variant).</param>
    /// <param name="network">Which network.</param>
    /// <param name="opset">The ai.onnx opset, [<see cref="MinOpset"/>, <see cref="MaxOpset"/>].</param>
    /// <param name="sourceSha256">The sha256 of the weight file, recorded in the metadata; null computes it from <paramref name="weights"/>' bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">The opset is out of range.</exception>
    /// <exception cref="MtcnnFormatException">The weights lack a tensor or have an unexpected shape.</exception>
    public static byte[] Export(MtcnnWeights weights, MtcnnNetwork network, int opset = DefaultOpset, string? sourceSha256 = null) =>
        Build(weights, network, opset, sourceSha256).ToByteArray();

    internal static ModelProto Build(MtcnnWeights weights, MtcnnNetwork network, int opset, string? sourceSha256)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (opset is < MinOpset or > MaxOpset)
        {
            throw new ArgumentOutOfRangeException(nameof(opset), opset, $"The opset must be in [{MinOpset}, {MaxOpset}].");
        }

        sourceSha256 ??= Convert.ToHexStringLower(SHA256.HashData(weights.ToBytes()));
        bool original = weights.Variant == ModelVariant.Original;
        var g = new GraphBuilder(weights, original);
        string name = network switch
        {
            MtcnnNetwork.PNet => "pnet",
            MtcnnNetwork.RNet => "rnet",
            _ => "onet",
        };
        switch (network)
        {
            case MtcnnNetwork.PNet:
                g.Input("input", [Dim("batch"), Dim(3), Dim("height"), Dim("width")]);
                g.Conv("pnet", "conv1", "prelu1", 2, 2);
                g.Conv("pnet", "conv2", "prelu2", 0, 0);
                g.Conv("pnet", "conv3", "prelu3", 0, 0);
                g.PointwiseHeads("pnet", "conv4_1", "conv4_2");
                break;
            case MtcnnNetwork.RNet:
                g.Input("input", [Dim("batch"), Dim(3), Dim(24), Dim(24)]);
                g.Conv("rnet", "conv1", "prelu1", 3, 2);
                g.Conv("rnet", "conv2", "prelu2", 3, 2);
                g.Conv("rnet", "conv3", "prelu3", 0, 0);
                g.Dense("rnet", "dense4", "prelu4");
                g.DenseHeads("rnet", "dense5_1", "dense5_2", null);
                break;
            default:
                g.Input("input", [Dim("batch"), Dim(3), Dim(48), Dim(48)]);
                g.Conv("onet", "conv1", "prelu1", 3, 2);
                g.Conv("onet", "conv2", "prelu2", 3, 2);
                g.Conv("onet", "conv3", "prelu3", 2, 2);
                g.Conv("onet", "conv4", "prelu4", 0, 0);
                g.Dense("onet", "dense5", "prelu5");
                g.DenseHeads("onet", "dense6_1", "dense6_2", "dense6_3");
                break;
        }

        var graph = g.Graph;
        graph.Name = name;
        graph.DocString = $"MTCNN {name} ({MtcnnWeights.VariantName(weights.Variant)} variant), exported by Mtcnn.NET.";
        var model = new ModelProto
        {
            IrVersion = IrVersion(opset),
            ProducerName = "Mtcnn.NET",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0",
            Domain = "net.mtcnn",
            ModelVersion = 1,
            DocString = graph.DocString,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
        Meta(model, "mtcnn.network", name);
        Meta(model, "mtcnn.variant", MtcnnWeights.VariantName(weights.Variant));
        Meta(model, "mtcnn.weights_sha256", sourceSha256);
        Meta(model, "mtcnn.input_layout", "NCHW float32");
        Meta(model, "mtcnn.channel_order", original ? "RGB" : "BGR");
        Meta(model, "mtcnn.normalization", original ? "(value - 127.5) * 0.0078125" : "value / 255");
        Meta(model, "mtcnn.pooling", original ? "ceil" : "floor");
        Meta(model, "mtcnn.probability", original ? "softmax(class_logits)[1]" : "sigmoid(class_logits)[0]");
        if (network == MtcnnNetwork.ONet)
        {
            Meta(model, "mtcnn.landmarks", original ? "x1..x5, y1..y5 (fractions of the crop)" : "x1, y1, ..., x5, y5 (fractions of the crop)");
        }

        foreach (var kv in weights.Metadata.Where(kv => kv.Key is "source" or "license" or "description"))
        {
            Meta(model, "weights." + kv.Key, kv.Value);
        }

        return model;
    }

    private static void Meta(ModelProto model, string key, string value) => model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    private static TensorShapeProto.Types.Dimension Dim(long value) => new() { DimValue = value };

    private static TensorShapeProto.Types.Dimension Dim(string name) => new() { DimParam = name };

    /// <summary>Appends nodes to a graph, keeping the name of the current tensor.</summary>
    private sealed class GraphBuilder(MtcnnWeights weights, bool original)
    {
        private string current = "input";
        private int channels = 3;

        public GraphProto Graph { get; } = new();

        public void Input(string name, TensorShapeProto.Types.Dimension[] dims) => Graph.Input.Add(Value(name, dims));

        /// <summary>Convolution (valid), PReLU, and max pooling when <paramref name="poolKernel"/> is not 0.</summary>
        public void Conv(string net, string layer, string prelu, int poolKernel, int poolStride)
        {
            var w = weights.Get($"{net}.{layer}.weight");
            if (w.Shape.Count != 4 || w.Shape[1] != channels || w.Shape[2] != w.Shape[3])
            {
                throw new MtcnnFormatException($"{w.Name}: expected [n, {channels}, k, k], got [{string.Join(", ", w.Shape)}].");
            }

            int k = w.Shape[2];
            string output = $"{layer}_out";
            Graph.Node.Add(Node("Conv", $"{net}.{layer}", [current, Initializer($"{net}.{layer}.weight", w.Shape, w.Data), Bias(net, layer, w.Shape[0])], [output],
                Ints("kernel_shape", k, k), Ints("strides", 1, 1), Ints("pads", 0, 0, 0, 0), Ints("dilations", 1, 1)));
            channels = w.Shape[0];
            current = PRelu(net, prelu, output, spatial: true);
            if (poolKernel > 0)
            {
                string pooled = $"{layer}_pool";
                Graph.Node.Add(Node("MaxPool", $"{net}.pool_{layer}", [current], [pooled],
                    Ints("kernel_shape", poolKernel, poolKernel), Ints("strides", poolStride, poolStride), Ints("pads", 0, 0, 0, 0), Int("ceil_mode", original ? 1 : 0)));
                current = pooled;
            }
        }

        /// <summary>Flatten (C, H, W order, as the weights are stored), fully connected layer, PReLU.</summary>
        public void Dense(string net, string layer, string prelu)
        {
            Graph.Node.Add(Node("Flatten", $"{net}.flatten", [current], ["flat"], Int("axis", 1)));
            var w = weights.Get($"{net}.{layer}.weight");
            if (w.Shape.Count != 2)
            {
                throw new MtcnnFormatException($"{w.Name}: expected [n, features], got [{string.Join(", ", w.Shape)}].");
            }

            Graph.Node.Add(Node("Gemm", $"{net}.{layer}", ["flat", Initializer(w.Name, w.Shape, w.Data), Bias(net, layer, w.Shape[0])], [$"{layer}_out"], Int("transB", 1)));
            channels = w.Shape[0];
            current = PRelu(net, prelu, $"{layer}_out", spatial: false);
        }

        /// <summary>P-Net's 1x1 convolution heads (class logits and box), and the probability.</summary>
        public void PointwiseHeads(string net, string cls, string box)
        {
            string Head(string layer, string output)
            {
                var w = weights.Get($"{net}.{layer}.weight");
                int n = w.Shape[0];
                if (w.ElementCount != n * channels)
                {
                    throw new MtcnnFormatException($"{w.Name}: expected [n, {channels}] or [n, {channels}, 1, 1], got [{string.Join(", ", w.Shape)}].");
                }

                Graph.Node.Add(Node("Conv", $"{net}.{layer}", [current, Initializer(w.Name, [n, channels, 1, 1], w.Data), Bias(net, layer, n)], [output],
                    Ints("kernel_shape", 1, 1), Ints("strides", 1, 1)));
                return output;
            }

            int classes = ClassCount(net, cls);
            Head(cls, "class_logits");
            Head(box, "box");
            Probability(classes);
            Outputs([("class_logits", classes), ("box", 4), ("prob", 1)], spatial: true);
        }

        /// <summary>R-Net's and O-Net's fully connected heads, and the probability.</summary>
        public void DenseHeads(string net, string cls, string box, string? landmarks)
        {
            void Head(string layer, string output)
            {
                var w = weights.Get($"{net}.{layer}.weight");
                int n = w.Shape[0];
                if (w.ElementCount != n * channels)
                {
                    throw new MtcnnFormatException($"{w.Name}: expected [n, {channels}], got [{string.Join(", ", w.Shape)}].");
                }

                Graph.Node.Add(Node("Gemm", $"{net}.{layer}", [current, Initializer(w.Name, [n, channels], w.Data), Bias(net, layer, n)], [output], Int("transB", 1)));
            }

            int classes = ClassCount(net, cls);
            Head(cls, "class_logits");
            Head(box, "box");
            var outputs = new List<(string, int)> { ("class_logits", classes), ("box", 4) };
            if (landmarks is not null)
            {
                Head(landmarks, "landmarks");
                outputs.Add(("landmarks", 10));
            }

            Probability(classes);
            outputs.Add(("prob", 1));
            Outputs(outputs, spatial: false);
        }

        private int ClassCount(string net, string layer)
        {
            int classes = weights.Get($"{net}.{layer}.weight").Shape[0];
            if (classes is not (1 or 2))
            {
                throw new MtcnnFormatException($"{net}.{layer}.weight: expected 1 or 2 class outputs, got {classes}.");
            }

            return classes;
        }

        /// <summary><c>prob</c>: softmax over the two logits, keeping the face channel; or the sigmoid of the single logit.</summary>
        private void Probability(int classes)
        {
            if (classes == 1)
            {
                Graph.Node.Add(Node("Sigmoid", "probability", ["class_logits"], ["prob"]));
                return;
            }

            Graph.Node.Add(Node("Softmax", "softmax", ["class_logits"], ["class_probs"], Int("axis", 1)));
            string starts = Int64Initializer("face_channel_start", 1);
            string ends = Int64Initializer("face_channel_end", 2);
            string axes = Int64Initializer("channel_axis", 1);
            Graph.Node.Add(Node("Slice", "probability", ["class_probs", starts, ends, axes], ["prob"]));
        }

        private void Outputs(IEnumerable<(string Name, int Channels)> outputs, bool spatial)
        {
            foreach (var (name, c) in outputs)
            {
                Graph.Output.Add(Value(name, spatial ? [Dim("batch"), Dim(c), Dim("out_height"), Dim("out_width")] : [Dim("batch"), Dim(c)]));
            }
        }

        private string PRelu(string net, string prelu, string input, bool spatial)
        {
            var a = weights.Get($"{net}.{prelu}.weight");
            if (a.ElementCount != channels && a.ElementCount != 1)
            {
                throw new MtcnnFormatException($"{a.Name}: expected {channels} or 1 slopes, got [{string.Join(", ", a.Shape)}].");
            }

            // Slopes broadcast over the channel axis: [C, 1, 1] against NCHW, [C] against NC.
            int[] shape = spatial ? [a.ElementCount, 1, 1] : [a.ElementCount];
            string output = $"{prelu}_out";
            Graph.Node.Add(Node("PRelu", $"{net}.{prelu}", [input, Initializer(a.Name, shape, a.Data)], [output]));
            return output;
        }

        private string Bias(string net, string layer, int n)
        {
            var b = weights.Get($"{net}.{layer}.bias");
            if (b.ElementCount != n)
            {
                throw new MtcnnFormatException($"{b.Name}: expected {n} values, got [{string.Join(", ", b.Shape)}].");
            }

            return Initializer(b.Name, [n], b.Data);
        }

        private string Initializer(string name, IReadOnlyList<int> shape, float[] data)
        {
            var t = new TensorProto { Name = name, DataType = FloatType };
            t.Dims.AddRange(shape.Select(d => (long)d));
            t.FloatData.AddRange(data);
            Graph.Initializer.Add(t);
            return name;
        }

        private string Int64Initializer(string name, long value)
        {
            var t = new TensorProto { Name = name, DataType = Int64Type };
            t.Dims.Add(1);
            t.Int64Data.Add(value);
            Graph.Initializer.Add(t);
            return name;
        }

        private static ValueInfoProto Value(string name, TensorShapeProto.Types.Dimension[] dims)
        {
            var shape = new TensorShapeProto();
            shape.Dim.AddRange(dims);
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = FloatType, Shape = shape } } };
        }

        private static NodeProto Node(string op, string name, string[] inputs, string[] outputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = name };
            node.Input.AddRange(inputs);
            node.Output.AddRange(outputs);
            node.Attribute.AddRange(attributes);
            return node;
        }

        private static AttributeProto Int(string name, long value) => new() { Name = name, I = value, Type = 2 };

        private static AttributeProto Ints(string name, params long[] values)
        {
            var a = new AttributeProto { Name = name, Type = 7 };
            a.Ints.AddRange(values);
            return a;
        }
    }
}
