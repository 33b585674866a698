using System.Buffers.Binary;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
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

/// <summary>What is known about the integrity of a weight set's values.</summary>
public enum WeightIntegrity
{
    /// <summary>Built in memory (not read from a file); nothing to verify.</summary>
    NotFromFile,

    /// <summary>Read from a file whose recorded sha256 of every tensor matched the tensor's bytes.</summary>
    Verified,

    /// <summary>
    /// Read from a file written before tensor hashes were recorded: its values are finite and well-formed but damage to
    /// them cannot be detected (<see cref="MtcnnWeights.UnverifiedNote"/>).
    /// </summary>
    Unverified,
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

    /// <summary>
    /// Metadata key holding the sha256 of every tensor's little-endian float32 bytes, as <c>name=hex</c> pairs separated by
    /// spaces in ordinal name order. Always written by <see cref="Write"/> from the tensors it writes and checked by
    /// <see cref="Read(ReadOnlySpan{byte}, string?)"/>; never part of <see cref="Metadata"/>.
    /// </summary>
    public const string TensorHashKey = "tensor_sha256";

    /// <summary>The note given for a file without <see cref="TensorHashKey"/> (<see cref="WeightIntegrity.Unverified"/>).</summary>
    public const string UnverifiedNote =
        "the file records no tensor hashes (written before they were added), so damage to its values cannot be detected; "
        + "re-write it with this version (e.g. read and write it again) to add them";

    private const string DefaultResourceName = "Mtcnn.Resources.mtcnn-original.safetensors";
    private static readonly Lazy<MtcnnWeights> LazyDefault = new(LoadDefault, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Creates a weight set from tensors and metadata.</summary>
    /// <param name="variant">The architecture the tensors are for.</param>
    /// <param name="tensors">The tensors; names must be unique.</param>
    /// <param name="metadata">Extra metadata (e.g. <c>source</c>); the format keys are added on write.</param>
    public MtcnnWeights(ModelVariant variant, IEnumerable<WeightTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        : this(variant, tensors, metadata, WeightIntegrity.NotFromFile)
    {
    }

    private MtcnnWeights(ModelVariant variant, IEnumerable<WeightTensor> tensors, IReadOnlyDictionary<string, string>? metadata, WeightIntegrity integrity)
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

        meta.Remove(TensorHashKey);
        meta["format"] = FormatName;
        meta["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture);
        meta["variant"] = VariantName(variant);
        Metadata = new ReadOnlyDictionary<string, string>(meta);
        Integrity = integrity;
    }

    /// <summary>The original Zhang et al. weights embedded in this assembly (converted from the TFLite release).</summary>
    public static MtcnnWeights Default => LazyDefault.Value;

    /// <summary>The architecture these weights are for.</summary>
    public ModelVariant Variant { get; }

    /// <summary>Tensors by name, in ordinal name order.</summary>
    public IReadOnlyDictionary<string, WeightTensor> Tensors { get; }

    /// <summary>Metadata written into the file header (besides <see cref="TensorHashKey"/>, which is computed on write).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// Whether the values were verified against the hashes recorded in the file they were read from. The embedded
    /// default weights are <see cref="WeightIntegrity.Verified"/> (checked once per process, on first use).
    /// </summary>
    public WeightIntegrity Integrity { get; }

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

    /// <summary>
    /// Reads a weight file from bytes. Every tensor must hold finite values only; when the file records tensor hashes
    /// (<see cref="TensorHashKey"/>) every tensor's bytes must match its hash (<see cref="WeightIntegrity.Verified"/>),
    /// otherwise the weights load as <see cref="WeightIntegrity.Unverified"/>.
    /// </summary>
    /// <param name="bytes">The file's content.</param>
    /// <param name="sourceName">The file's name for messages (e.g. its path); null: messages name no file.</param>
    /// <exception cref="MtcnnFormatException">
    /// The bytes are not a valid mtcnn-weights safetensors file, a tensor does not match its recorded hash, or a tensor
    /// holds NaN or an infinity; the message names the file (when given) and the tensor.
    /// </exception>
    public static MtcnnWeights Read(ReadOnlySpan<byte> bytes, string? sourceName = null)
    {
        try
        {
            return ReadCore(bytes);
        }
        catch (MtcnnFormatException e) when (sourceName is not null)
        {
            throw new MtcnnFormatException($"{sourceName}: {e.Message}", e);
        }
    }

    private static MtcnnWeights ReadCore(ReadOnlySpan<byte> bytes)
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
        if (!System.Text.Unicode.Utf8.IsValid(bytes.Slice(8, (int)headerLength)))
        {
            throw new MtcnnFormatException("The safetensors header is not valid UTF-8.");
        }

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
            var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
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

                tensors.Add(ReadTensor(prop, data, hashes));
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
            var integrity = WeightIntegrity.Unverified;
            if (meta.TryGetValue(TensorHashKey, out var recorded))
            {
                VerifyHashes(recorded, tensors, hashes);
                integrity = WeightIntegrity.Verified;
            }

            foreach (var t in tensors)
            {
                RequireFinite(t);
            }

            return new MtcnnWeights(variant, tensors, meta, integrity);
        }
    }

    /// <summary>Reads a weight file from a stream (read to its end); see <see cref="Read(ReadOnlySpan{byte}, string?)"/>.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="sourceName">The file's name for messages; null: messages name no file.</param>
    /// <exception cref="MtcnnFormatException">The content is not a valid weight file, is damaged, or holds non-finite values.</exception>
    public static MtcnnWeights Read(Stream stream, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return Read(ms.GetBuffer().AsSpan(0, (int)ms.Length), sourceName);
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
        var raw = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var t in Tensors.Values)
        {
            var b = new byte[t.Data.Length * 4L];
            for (int i = 0; i < t.Data.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), t.Data[i]);
            }

            raw[t.Name] = b;
        }

        var metadata = new SortedDictionary<string, string>(Metadata.ToDictionary(), StringComparer.Ordinal)
        {
            [TensorHashKey] = string.Join(' ', Tensors.Keys.Select(name => name + "=" + Convert.ToHexStringLower(SHA256.HashData(raw[name])))),
        };

        using var header = new MemoryStream();
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            w.WriteStartObject("__metadata__");
            foreach (var kv in metadata)
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
        foreach (var t in Tensors.Values)
        {
            stream.Write(raw[t.Name]);
        }
    }

    private static WeightTensor ReadTensor(JsonProperty prop, ReadOnlySpan<byte> data, Dictionary<string, string> hashes)
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
        hashes[prop.Name] = Convert.ToHexStringLower(SHA256.HashData(src));
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

    /// <summary>Checks the recorded <see cref="TensorHashKey"/> value against the hashes of the tensors read.</summary>
    private static void VerifyHashes(string recorded, List<WeightTensor> tensors, Dictionary<string, string> actual)
    {
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in recorded.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.LastIndexOf('=');
            if (eq <= 0 || eq != pair.Length - 65 || !pair[(eq + 1)..].All(char.IsAsciiHexDigit) || !expected.TryAdd(pair[..eq], pair[(eq + 1)..].ToLowerInvariant()))
            {
                throw new MtcnnFormatException($"Metadata {TensorHashKey} has a malformed or repeated entry '{CutForMessage(pair)}' (expected name=<64 hex digits>); the header is damaged.");
            }
        }

        foreach (var t in tensors)
        {
            if (!expected.Remove(t.Name, out var hash))
            {
                throw new MtcnnFormatException($"Tensor '{t.Name}' has no recorded sha256 in metadata {TensorHashKey}; the header is damaged.");
            }

            if (hash != actual[t.Name])
            {
                throw new MtcnnFormatException($"Tensor '{t.Name}' does not match its recorded sha256 (expected {hash}, actual {actual[t.Name]}); the file is damaged.");
            }
        }

        if (expected.Count > 0)
        {
            throw new MtcnnFormatException($"Metadata {TensorHashKey} records tensor '{expected.Keys.Order(StringComparer.Ordinal).First()}', which the file does not hold; the header is damaged.");
        }
    }

    private static void RequireFinite(WeightTensor t)
    {
        int i = Array.FindIndex(t.Data, v => !float.IsFinite(v));
        if (i >= 0)
        {
            throw new MtcnnFormatException(string.Create(
                CultureInfo.InvariantCulture,
                $"Tensor '{t.Name}' holds a non-finite value ({t.Data[i]}) at index {i}; weights must be finite."));
        }
    }

    private static string CutForMessage(string s) => s.Length <= 80 ? s : s[..80] + "...";

    private static MtcnnWeights LoadDefault()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream(DefaultResourceName)
            ?? throw new MtcnnFormatException($"The embedded resource {DefaultResourceName} is missing from the assembly.");
        return Read(s, "embedded resource " + DefaultResourceName);
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
