using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Mtcnn;

/// <summary>The network architecture a weight set was made for.</summary>
public enum ModelVariant
{
    /// <summary>
    /// Zhang et al. 2016: per-channel PReLU, ceil-mode pooling, 2-way softmax, RGB input <c>(v - 127.5) / 128</c>.
    /// </summary>
    Original,

    /// <summary>
    /// The reference PyTorch project's variant: one shared PReLU slope per layer, floor-mode pooling, one sigmoid logit,
    /// BGR input <c>v / 255</c>.
    /// </summary>
    Reference,
}

/// <summary>One named float32 tensor of a weight set, row-major.</summary>
/// <param name="Name">Tensor name, e.g. <c>pnet.conv1.weight</c>.</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Data">Values, row-major; length is the product of <paramref name="Shape"/>.</param>
public sealed record WeightTensor(string Name, IReadOnlyList<int> Shape, float[] Data)
{
    /// <summary>Number of elements (product of the shape).</summary>
    public int ElementCount => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// The three MTCNN networks' weights in the project's file format: a safetensors file (8-byte little-endian header
/// length, a JSON header, then raw little-endian float32 data) whose <c>__metadata__</c> holds
/// <c>format = mtcnn-weights</c>, <c>format_version = 1</c> and <c>variant = original|reference</c>.
/// Tensor names are <c>{pnet|rnet|onet}.{layer}.{weight|bias}</c> with the layer names of section 1 of the spec
/// (conv kernels OIHW, fully connected <c>[out, in]</c> with the first one taking a C-H-W flatten; PReLU slopes as
/// <c>{net}.preluN.weight</c>). See docs/weights-format.md. Instances are immutable and thread-safe.
/// </summary>
public sealed class MtcnnWeights
{
    /// <summary>Value of the <c>format</c> metadata key.</summary>
    public const string FormatName = "mtcnn-weights";

    /// <summary>The format version this library writes and reads.</summary>
    public const int FormatVersion = 1;

    private const string DefaultResourceName = "Mtcnn.Resources.mtcnn-original.safetensors";
    private static readonly Lazy<MtcnnWeights> LazyDefault = new(LoadDefault, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Creates a weight set from tensors and metadata.</summary>
    /// <param name="variant">The architecture the tensors are for.</param>
    /// <param name="tensors">The tensors; names must be unique.</param>
    /// <param name="metadata">Extra metadata (e.g. <c>source</c>); the format keys are added on write.</param>
    public MtcnnWeights(ModelVariant variant, IEnumerable<WeightTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Variant = variant;
        var dict = new SortedDictionary<string, WeightTensor>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (t.ElementCount != t.Data.Length)
            {
                throw new ArgumentException($"Tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}] but {t.Data.Length} values.", nameof(tensors));
            }

            if (!dict.TryAdd(t.Name, t))
            {
                throw new ArgumentException($"Tensor '{t.Name}' appears twice.", nameof(tensors));
            }
        }

        Tensors = new ReadOnlyDictionary<string, WeightTensor>(dict);
        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
        {
            foreach (var kv in metadata)
            {
                meta[kv.Key] = kv.Value;
            }
        }

        meta["format"] = FormatName;
        meta["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture);
        meta["variant"] = VariantName(variant);
        Metadata = new ReadOnlyDictionary<string, string>(meta);
    }

    /// <summary>The original Zhang et al. weights embedded in this assembly (converted from the TFLite release).</summary>
    public static MtcnnWeights Default => LazyDefault.Value;

    /// <summary>The architecture these weights are for.</summary>
    public ModelVariant Variant { get; }

    /// <summary>Tensors by name, in ordinal name order.</summary>
    public IReadOnlyDictionary<string, WeightTensor> Tensors { get; }

    /// <summary>Metadata written into the file header.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="MtcnnFormatException">No such tensor.</exception>
    public WeightTensor Get(string name) =>
        Tensors.TryGetValue(name, out var t) ? t : throw new MtcnnFormatException($"The weights have no tensor '{name}'.");

    /// <summary>The metadata name of a variant (<c>original</c> or <c>reference</c>).</summary>
    public static string VariantName(ModelVariant variant) => variant switch
    {
        ModelVariant.Original => "original",
        ModelVariant.Reference => "reference",
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown variant."),
    };

    /// <summary>Reads a weight file from bytes.</summary>
    /// <exception cref="MtcnnFormatException">The bytes are not a valid mtcnn-weights safetensors file.</exception>
    public static MtcnnWeights Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8)
        {
            throw new MtcnnFormatException($"A weight file needs at least 8 bytes; got {bytes.Length}.");
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8) || headerLength > 16 * 1024 * 1024)
        {
            throw new MtcnnFormatException($"The header length {headerLength} does not fit the {bytes.Length}-byte file (not a safetensors file?).");
        }

        var data = bytes[(8 + (int)headerLength)..];
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes.Slice(8, (int)headerLength).ToArray());
        }
        catch (JsonException e)
        {
            throw new MtcnnFormatException($"The safetensors header is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new MtcnnFormatException("The safetensors header is not a JSON object.");
            }

            var meta = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<WeightTensor>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw new MtcnnFormatException($"The safetensors __metadata__ must be a JSON object; found {prop.Value.ValueKind}.");
                    }

                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String)
                        {
                            throw new MtcnnFormatException($"Metadata '{m.Name}' must be a string; found {m.Value.ValueKind}.");
                        }

                        meta[m.Name] = m.Value.GetString()!;
                    }

                    continue;
                }

                if (!names.Add(prop.Name))
                {
                    throw new MtcnnFormatException($"Tensor '{prop.Name}' appears twice in the header.");
                }

                tensors.Add(ReadTensor(prop, data));
            }

            if (!meta.TryGetValue("format", out var format) || format != FormatName)
            {
                throw new MtcnnFormatException($"Expected metadata format = '{FormatName}', found '{format ?? "(none)"}'.");
            }

            if (!meta.TryGetValue("format_version", out var version) || version != FormatVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw new MtcnnFormatException($"Expected format_version {FormatVersion}, found '{version ?? "(none)"}'.");
            }

            var variant = meta.GetValueOrDefault("variant") switch
            {
                "original" => ModelVariant.Original,
                "reference" => ModelVariant.Reference,
                var v => throw new MtcnnFormatException($"Expected variant 'original' or 'reference', found '{v ?? "(none)"}'."),
            };
            return new MtcnnWeights(variant, tensors, meta);
        }
    }

    /// <summary>Reads a weight file from a stream (read to its end).</summary>
    /// <exception cref="MtcnnFormatException">The content is not a valid weight file.</exception>
    public static MtcnnWeights Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return Read(ms.GetBuffer().AsSpan(0, (int)ms.Length));
    }

    /// <summary>Serialises to the file format. Deterministic: the same weights always give the same bytes.</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        Write(ms);
        return ms.ToArray();
    }

    /// <summary>Writes the file format to a stream.</summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var header = new MemoryStream();
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            foreach (var kv in Metadata)
            {
                w.WriteString(kv.Key, kv.Value);
            }

            w.WriteEndObject();
            long offset = 0;
            foreach (var t in Tensors.Values)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (int d in t.Shape)
                {
                    w.WriteNumberValue(d);
                }

                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                offset += (long)t.Data.Length * 4;
                w.WriteNumberValue(offset);
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        // Pad the header with spaces so the data starts 8-byte aligned (allowed by the safetensors format).
        int pad = (int)((8 - (header.Length % 8)) % 8);
        for (int i = 0; i < pad; i++)
        {
            header.WriteByte((byte)' ');
        }

        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
        stream.Write(len);
        header.Position = 0;
        header.CopyTo(stream);
        byte[] buffer = new byte[4096];
        foreach (var t in Tensors.Values)
        {
            int i = 0;
            while (i < t.Data.Length)
            {
                int n = Math.Min(buffer.Length / 4, t.Data.Length - i);
                for (int k = 0; k < n; k++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(k * 4), t.Data[i + k]);
                }

                stream.Write(buffer, 0, n * 4);
                i += n;
            }
        }
    }

    private static WeightTensor ReadTensor(JsonProperty prop, ReadOnlySpan<byte> data)
    {
        var v = prop.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtype)
            || !v.TryGetProperty("shape", out var shapeEl)
            || !v.TryGetProperty("data_offsets", out var offsetsEl))
        {
            throw new MtcnnFormatException($"Tensor '{prop.Name}' lacks dtype, shape or data_offsets.");
        }

        string? dtypeName = dtype.ValueKind == JsonValueKind.String ? dtype.GetString() : dtype.ToString();
        if (dtype.ValueKind != JsonValueKind.String || dtypeName != "F32")
        {
            throw new MtcnnFormatException($"Tensor '{prop.Name}' has dtype {dtypeName}; only F32 is supported.");
        }

        var shape = ReadIntegers(shapeEl, prop.Name, "shape")
            .Select(d => d is >= 0 and <= int.MaxValue ? (int)d : throw new MtcnnFormatException($"Tensor '{prop.Name}' has an invalid dimension {d} in its shape."))
            .ToArray();
        var offsets = ReadIntegers(offsetsEl, prop.Name, "data_offsets");

        // Count elements with an early exit so that absurd shapes cannot overflow.
        long count = 1;
        foreach (int d in shape)
        {
            count = d == 0 ? 0 : Math.Min(count * d, (long)data.Length + 1);
        }

        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > data.Length || offsets[1] - offsets[0] != count * 4)
        {
            throw new MtcnnFormatException($"Tensor '{prop.Name}' has data_offsets [{string.Join(", ", offsets)}] that do not fit its shape [{string.Join(", ", shape)}] or the {data.Length}-byte data section.");
        }

        var values = new float[count];
        var src = data.Slice((int)offsets[0], (int)(count * 4));
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]);
        }

        return new WeightTensor(prop.Name, shape, values);
    }

    private static long[] ReadIntegers(JsonElement element, string tensor, string what)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new MtcnnFormatException($"Tensor '{tensor}' has a {what} that is not a JSON array.");
        }

        var result = new List<long>();
        foreach (var e in element.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long value))
            {
                throw new MtcnnFormatException($"Tensor '{tensor}' has a {what} entry '{e}' that is not an integer.");
            }

            result.Add(value);
        }

        return [.. result];
    }

    private static MtcnnWeights LoadDefault()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream(DefaultResourceName)
            ?? throw new MtcnnFormatException($"The embedded resource {DefaultResourceName} is missing from the assembly.");
        return Read(s);
    }
}

/// <summary>A weight file or weight set is not what the detector expects (wrong format, missing tensor, wrong shape).</summary>
public sealed class MtcnnFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MtcnnFormatException()
    {
    }

    /// <summary>Creates the exception with a message that states expected versus actual.</summary>
    public MtcnnFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public MtcnnFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
