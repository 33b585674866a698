using System.Buffers.Binary;
using System.Collections.ObjectModel;

namespace Mtcnn.Weights.Tflite;

/// <summary>Element types of TFLite tensors (the values of <c>tflite::TensorType</c> that matter here).</summary>
internal enum TfliteTensorType : sbyte
{
    /// <summary>32-bit IEEE float.</summary>
    Float32 = 0,

    /// <summary>16-bit IEEE float.</summary>
    Float16 = 1,

    /// <summary>32-bit signed integer.</summary>
    Int32 = 2,

    /// <summary>8-bit unsigned integer.</summary>
    UInt8 = 3,

    /// <summary>64-bit signed integer.</summary>
    Int64 = 4,

    /// <summary>8-bit signed integer.</summary>
    Int8 = 9,
}

/// <summary>One tensor of a TFLite subgraph.</summary>
/// <param name="Index">Position in the subgraph's tensor list (operators refer to tensors by it).</param>
/// <param name="Name">The tensor's name, e.g. <c>pnet/conv1/weights/read</c>.</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Type">Element type.</param>
/// <param name="Buffer">Index into <see cref="TfliteModel.Buffers"/>; buffer 0 is the empty sentinel, so a constant
/// tensor has a non-zero buffer with data.</param>
internal sealed record TfliteTensor(int Index, string Name, IReadOnlyList<int> Shape, TfliteTensorType Type, int Buffer)
{
    /// <summary>Number of elements (product of the shape), or -1 when a dimension is negative (dynamic).</summary>
    public long ElementCount => Shape.Any(d => d < 0) ? -1 : Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>One operator of a TFLite subgraph.</summary>
/// <param name="BuiltinCode">The <c>tflite::BuiltinOperator</c> value (e.g. 3 = CONV_2D, 9 = FULLY_CONNECTED).</param>
/// <param name="Inputs">Input tensor indices (-1 = optional input left out).</param>
/// <param name="Outputs">Output tensor indices.</param>
internal sealed record TfliteOperator(int BuiltinCode, IReadOnlyList<int> Inputs, IReadOnlyList<int> Outputs);

/// <summary>
/// The parts of a TFLite model (<c>tensorflow/lite/schema/schema.fbs</c>) needed to pull out constant weights:
/// the buffers and the first subgraph's tensors and operators. Parsed eagerly and copied, so the instance does not
/// keep the input alive and is immutable.
/// </summary>
internal sealed class TfliteModel
{
    /// <summary>File identifier of TFLite FlatBuffers.</summary>
    public const string Identifier = "TFL3";

    // Field numbers of the schema tables (field index = order of declaration in schema.fbs).
    private const int ModelVersion = 0, ModelOperatorCodes = 1, ModelSubgraphs = 2, ModelBuffers = 4;
    private const int OpCodeDeprecatedBuiltin = 0, OpCodeBuiltin = 3;
    private const int SubGraphTensors = 0, SubGraphOperators = 3;
    private const int TensorShape = 0, TensorType = 1, TensorBuffer = 2, TensorName = 3;
    private const int BufferData = 0, BufferOffset = 1, BufferSize = 2;
    private const int OperatorOpcodeIndex = 0, OperatorInputs = 1, OperatorOutputs = 2;

    private readonly Dictionary<string, TfliteTensor> _byName;

    private TfliteModel(uint version, byte[][] buffers, TfliteTensor[] tensors, TfliteOperator[] operators, string what)
    {
        Version = version;
        Buffers = Array.AsReadOnly(buffers.Select(b => (ReadOnlyMemory<byte>)b).ToArray());
        Tensors = Array.AsReadOnly(tensors);
        Operators = Array.AsReadOnly(operators);
        What = what;
        _byName = new Dictionary<string, TfliteTensor>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            // Names need not be unique in TFLite; the first one wins and lookups of duplicates are refused below.
            _byName.TryAdd(t.Name, t);
        }
    }

    /// <summary>The schema version stored in the file (3 for current TFLite files).</summary>
    public uint Version { get; }

    /// <summary>The model's buffers, by index.</summary>
    public ReadOnlyCollection<ReadOnlyMemory<byte>> Buffers { get; }

    /// <summary>The first subgraph's tensors, by index.</summary>
    public ReadOnlyCollection<TfliteTensor> Tensors { get; }

    /// <summary>The first subgraph's operators, in execution order.</summary>
    public ReadOnlyCollection<TfliteOperator> Operators { get; }

    /// <summary>What the model is (the name given to <see cref="Parse"/>), for messages.</summary>
    public string What { get; }

    /// <summary>Parses a TFLite FlatBuffer.</summary>
    /// <param name="bytes">The whole <c>.tflite</c> file.</param>
    /// <param name="what">A name for the file in error messages.</param>
    /// <exception cref="MtcnnFormatException">The bytes are not a well-formed TFLite model.</exception>
    public static TfliteModel Parse(ReadOnlySpan<byte> bytes, string what)
    {
        var r = new FlatBufferReader(bytes, what);
        if (bytes.Length < 8 || r.FileIdentifier != Identifier)
        {
            string found = bytes.Length < 8 ? $"only {bytes.Length} bytes" : $"identifier '{Printable(bytes.Slice(4, 4))}'";
            throw new MtcnnFormatException($"{what} is not a TFLite model: expected the FlatBuffer file identifier '{Identifier}' at bytes 4..7, found {found}.");
        }

        var model = r.Root("Model");
        uint version = r.UInt32(model, ModelVersion, "version");

        var codesVec = r.Vector(model, ModelOperatorCodes, "operator_codes", 4);
        var codes = new int[codesVec.Count];
        for (int i = 0; i < codes.Length; i++)
        {
            var c = r.TableElement(codesVec, i);

            // Schema v3a moved the code from an int8 field to an int32 one; writers fill both, readers take the larger.
            codes[i] = Math.Max(r.Int8(c, OpCodeDeprecatedBuiltin, "deprecated_builtin_code"), r.Int32(c, OpCodeBuiltin, "builtin_code"));
        }

        var buffersVec = r.Vector(model, ModelBuffers, "buffers", 4);
        var buffers = new byte[buffersVec.Count][];
        for (int i = 0; i < buffers.Length; i++)
        {
            var b = r.TableElement(buffersVec, i);
            var data = r.Vector(b, BufferData, "data", 1);
            ulong offset = r.UInt64(b, BufferOffset, "offset");
            ulong size = r.UInt64(b, BufferSize, "size");

            // Large models keep buffer data after the FlatBuffer and refer to it by offset (offset 1 means "none").
            buffers[i] = data.Count == 0 && offset > 1
                ? r.Slice(offset, size, $"{b.Path}.offset").ToArray()
                : r.Bytes(data).ToArray();
        }

        var subgraphs = r.Vector(model, ModelSubgraphs, "subgraphs", 4);
        if (subgraphs.Count == 0)
        {
            throw new MtcnnFormatException($"{what} has no subgraph.");
        }

        var graph = r.TableElement(subgraphs, 0);
        var tensorsVec = r.Vector(graph, SubGraphTensors, "tensors", 4);
        var tensors = new TfliteTensor[tensorsVec.Count];
        for (int i = 0; i < tensors.Length; i++)
        {
            var t = r.TableElement(tensorsVec, i);
            int[] shape = r.Int32Elements(r.Vector(t, TensorShape, "shape", 4));
            var type = (TfliteTensorType)r.Int8(t, TensorType, "type");
            uint buffer = r.UInt32(t, TensorBuffer, "buffer");
            if (buffer >= (uint)buffers.Length)
            {
                throw new MtcnnFormatException($"{what}: {t.Path} refers to buffer {buffer}, but the model has {buffers.Length} buffers.");
            }

            string name = r.String(t, TensorName, "name") ?? string.Empty;
            tensors[i] = new TfliteTensor(i, name, shape, type, (int)buffer);
        }

        var opsVec = r.Vector(graph, SubGraphOperators, "operators", 4);
        var operators = new TfliteOperator[opsVec.Count];
        for (int i = 0; i < operators.Length; i++)
        {
            var o = r.TableElement(opsVec, i);
            uint opcode = r.UInt32(o, OperatorOpcodeIndex, "opcode_index");
            if (opcode >= (uint)codes.Length)
            {
                throw new MtcnnFormatException($"{what}: {o.Path} uses operator code {opcode}, but the model has {codes.Length}.");
            }

            int[] inputs = r.Int32Elements(r.Vector(o, OperatorInputs, "inputs", 4));
            int[] outputs = r.Int32Elements(r.Vector(o, OperatorOutputs, "outputs", 4));
            foreach (int index in inputs.Concat(outputs))
            {
                if (index < -1 || index >= tensors.Length)
                {
                    throw new MtcnnFormatException($"{what}: {o.Path} refers to tensor {index}, but the subgraph has {tensors.Length}.");
                }
            }

            operators[i] = new TfliteOperator(codes[opcode], inputs, outputs);
        }

        return new TfliteModel(version, buffers, tensors, operators, what);
    }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="MtcnnFormatException">No tensor, or more than one, has that name.</exception>
    public TfliteTensor FindTensor(string name)
    {
        if (!_byName.TryGetValue(name, out var tensor))
        {
            throw new MtcnnFormatException($"{What} has no tensor named '{name}'.");
        }

        if (Tensors.Count(t => t.Name == name) > 1)
        {
            throw new MtcnnFormatException($"{What} has more than one tensor named '{name}'.");
        }

        return tensor;
    }

    /// <summary>The constant float32 data of a tensor, row-major in the tensor's own shape.</summary>
    /// <exception cref="MtcnnFormatException">The tensor is not float32 or its buffer does not hold exactly its elements.</exception>
    public float[] ReadFloat32(TfliteTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Type != TfliteTensorType.Float32)
        {
            throw new MtcnnFormatException($"{What}: tensor '{tensor.Name}' has type {tensor.Type}; expected Float32 (quantized models are not supported).");
        }

        var data = Buffers[tensor.Buffer].Span;
        long count = tensor.ElementCount;
        if (count < 0 || data.Length != count * 4)
        {
            throw new MtcnnFormatException(
                $"{What}: tensor '{tensor.Name}' of shape [{string.Join(", ", tensor.Shape)}] needs {Math.Max(count, 0) * 4} bytes of constant data; its buffer {tensor.Buffer} has {data.Length}.");
        }

        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(i * 4)..]);
        }

        return values;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            chars[i] = bytes[i] is >= 0x20 and < 0x7f ? (char)bytes[i] : '?';
        }

        return new string(chars);
    }
}
