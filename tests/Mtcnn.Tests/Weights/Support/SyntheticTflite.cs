using System.Buffers.Binary;

namespace Mtcnn.Tests.Weights.Support;

/// <summary>Builds small TFLite FlatBuffers (schema v3 field numbers) for tests that must not depend on the network.</summary>
internal sealed class TfliteBuilder
{
    public const int Add = 0, Conv2D = 3, FullyConnected = 9, MaxPool2D = 17, Mul = 18, Relu = 19, Neg = 59;

    private readonly List<FbTable> _tensors = [];
    private readonly List<FbTable> _buffers = [new FbTable()];
    private readonly List<(int Code, int[] Inputs, int[] Outputs)> _ops = [];

    /// <summary>Adds a float32 tensor (constant when <paramref name="data"/> is given); returns its index.</summary>
    public int Tensor(string name, int[] shape, float[]? data = null)
    {
        int buffer = 0;
        if (data is not null)
        {
            var bytes = new byte[data.Length * 4];
            for (int i = 0; i < data.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), data[i]);
            }

            buffer = _buffers.Count;
            _buffers.Add(new FbTable().Set(0, new FbBytes(bytes)));
        }
        else
        {
            // Like the real files: every activation has its own empty buffer.
            buffer = _buffers.Count;
            _buffers.Add(new FbTable());
        }

        _tensors.Add(new FbTable()
            .Set(0, new FbInts(shape))
            .Set(1, FbScalar.I8(0))
            .Set(2, FbScalar.U32((uint)buffer))
            .Set(3, new FbString(name)));
        return _tensors.Count - 1;
    }

    public void Op(int code, int[] inputs, int[] outputs) => _ops.Add((code, inputs, outputs));

    public byte[] Build()
    {
        var codes = _ops.Select(o => o.Code).Distinct().ToList();
        var operators = _ops.Select(o => new FbTable()
            .Set(0, FbScalar.U32((uint)codes.IndexOf(o.Code)))
            .Set(1, new FbInts(o.Inputs))
            .Set(2, new FbInts(o.Outputs))).ToList();
        var subgraph = new FbTable()
            .Set(0, new FbTables(_tensors))
            .Set(3, new FbTables(operators))
            .Set(4, new FbString("main"));
        var model = new FbTable()
            .Set(0, FbScalar.U32(3))
            .Set(1, new FbTables(codes.Select(c => new FbTable().Set(0, FbScalar.I8((sbyte)Math.Min(c, 127))).Set(3, FbScalar.I32(c))).ToList()))
            .Set(2, new FbTables([subgraph]))
            .Set(3, new FbString("synthetic test model"))
            .Set(4, new FbTables(_buffers));
        return FlatBufferWriter.Finish(model, "TFL3");
    }
}

/// <summary>
/// Writes converted weights back into TFLite files laid out like the released ones (transposed kernels, (x, y, c)
/// first dense layer, PReLU expanded into RELU/NEG/MUL/ADD, the same tensor names), so that the converter can be tested
/// offline: converting the export must give the weights back.
/// </summary>
internal static class SyntheticTflite
{
    /// <summary>How to break the PReLU expansion of the export (to test the converter's graph check).</summary>
    internal enum PreluGraph
    {
        /// <summary>relu(x) + alpha * neg(relu(neg(x))), as in the released files.</summary>
        AsReleased,

        /// <summary>relu(x) + alpha * relu(neg(x)): the slope would have the other sign.</summary>
        MissingOuterNeg,
    }

    public static byte[] Export(MtcnnWeights weights, string net, PreluGraph prelu = PreluGraph.AsReleased, string? skipTensor = null)
    {
        var b = new TfliteBuilder();
        int cur = b.Tensor($"{net}/input", [1, 48, 48, 3]);
        string preluName = net == "pnet" ? "PReLU" : "prelu";
        int head = -1;
        foreach (var layer in Layers(net))
        {
            var w = weights.Get($"{net}.{layer.Name}.weight");
            switch (layer.Kind)
            {
                case 'c':
                {
                    int o = w.Shape[0], i = w.Shape[1], k = w.Shape[2];
                    var t = new float[w.Data.Length];
                    for (int oo = 0; oo < o; oo++)
                    {
                        for (int ii = 0; ii < i; ii++)
                        {
                            for (int ky = 0; ky < k; ky++)
                            {
                                for (int kx = 0; kx < k; kx++)
                                {
                                    t[(((((oo * k) + kx) * k) + ky) * i) + ii] = w.Data[(((((oo * i) + ii) * k) + ky) * k) + kx];
                                }
                            }
                        }
                    }

                    int wt = Const(b, $"{net}/{layer.Source}/weights/read", [o, k, k, i], t, skipTensor);
                    int bt = Const(b, $"{net}/{layer.Source}/Conv2D_bias", [o], weights.Get($"{net}.{layer.Name}.bias").Data, skipTensor);
                    int y = b.Tensor($"{net}/{layer.Source}/BiasAdd", [1, 1, 1, o]);
                    b.Op(TfliteBuilder.Conv2D, [layer.IsHead ? head : cur, wt, bt], [y]);
                    cur = y;
                    break;
                }

                case 'p':
                {
                    string p = $"{net}/{preluName}{layer.Name[5..]}";
                    int alpha = Const(b, p + "/alpha/read", [w.Data.Length], w.Data, skipTensor);
                    int relu = b.Tensor(p + "/Relu", [1, w.Data.Length]);
                    int neg = b.Tensor(p + "/Neg", [1, w.Data.Length]);
                    int relu1 = b.Tensor(p + "/Relu_1", [1, w.Data.Length]);
                    int neg1 = b.Tensor(p + "/Neg_1", [1, w.Data.Length]);
                    int mul = b.Tensor(p + "/Mul", [1, w.Data.Length]);
                    int add = b.Tensor(p + "/add", [1, w.Data.Length]);
                    b.Op(TfliteBuilder.Relu, [cur], [relu]);
                    b.Op(TfliteBuilder.Neg, [cur], [neg]);
                    b.Op(TfliteBuilder.Relu, [neg], [relu1]);
                    b.Op(TfliteBuilder.Neg, [relu1], [neg1]);
                    b.Op(TfliteBuilder.Mul, [alpha, prelu == PreluGraph.AsReleased ? neg1 : relu1], [mul]);
                    b.Op(TfliteBuilder.Add, [relu, mul], [add]);
                    cur = add;
                    head = add;
                    break;
                }

                default:
                {
                    int o = w.Shape[0], inF = w.Shape[1];
                    var t = (float[])w.Data.Clone();
                    if (layer.Kind == 'f')
                    {
                        int c = inF / 9;
                        for (int oo = 0; oo < o; oo++)
                        {
                            for (int cc = 0; cc < c; cc++)
                            {
                                for (int y = 0; y < 3; y++)
                                {
                                    for (int x = 0; x < 3; x++)
                                    {
                                        t[(oo * inF) + (((x * 3) + y) * c) + cc] = w.Data[(oo * inF) + (((cc * 3) + y) * 3) + x];
                                    }
                                }
                            }
                        }
                    }

                    int wt = Const(b, $"{net}/{layer.Source}/weights/read/transpose", [o, inF], t, skipTensor);
                    int bt = Const(b, $"{net}/{layer.Source}/{layer.Source}/MatMul_bias", [o], weights.Get($"{net}.{layer.Name}.bias").Data, skipTensor);
                    int y2 = b.Tensor($"{net}/{layer.Source}/{layer.Source}", [1, o]);
                    b.Op(TfliteBuilder.FullyConnected, [layer.IsHead ? head : cur, wt, bt], [y2]);
                    cur = y2;
                    break;
                }
            }
        }

        return b.Build();
    }

    private static int Const(TfliteBuilder b, string name, int[] shape, float[] data, string? skip) =>
        b.Tensor(name == skip ? name + "_renamed" : name, shape, data);

    /// <summary>The layers in graph order: kind c = conv, p = PReLU, f = first dense, d = dense; heads read the last PReLU.</summary>
    private static (string Name, string Source, char Kind, bool IsHead)[] Layers(string net) => net switch
    {
        "pnet" =>
        [
            ("conv1", "conv1", 'c', false), ("prelu1", "", 'p', false), ("conv2", "conv2", 'c', false), ("prelu2", "", 'p', false),
            ("conv3", "conv3", 'c', false), ("prelu3", "", 'p', false), ("conv4_1", "conv4-1", 'c', true), ("conv4_2", "conv4-2", 'c', true),
        ],
        "rnet" =>
        [
            ("conv1", "conv1", 'c', false), ("prelu1", "", 'p', false), ("conv2", "conv2", 'c', false), ("prelu2", "", 'p', false),
            ("conv3", "conv3", 'c', false), ("prelu3", "", 'p', false), ("dense4", "conv4", 'f', false), ("prelu4", "", 'p', false),
            ("dense5_1", "conv5-1", 'd', true), ("dense5_2", "conv5-2", 'd', true),
        ],
        _ =>
        [
            ("conv1", "conv1", 'c', false), ("prelu1", "", 'p', false), ("conv2", "conv2", 'c', false), ("prelu2", "", 'p', false),
            ("conv3", "conv3", 'c', false), ("prelu3", "", 'p', false), ("conv4", "conv4", 'c', false), ("prelu4", "", 'p', false),
            ("dense5", "conv5", 'f', false), ("prelu5", "", 'p', false),
            ("dense6_1", "conv6-1", 'd', true), ("dense6_2", "conv6-2", 'd', true), ("dense6_3", "conv6-3", 'd', true),
        ],
    };
}
