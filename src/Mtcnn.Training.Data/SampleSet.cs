using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Mtcnn.Training.Data;

/// <summary>
/// All samples of one sample file, in memory: square RGB crops of one size with their kind, box offsets, landmark
/// targets and source image. Read-only and safe to read from any number of threads.
/// </summary>
/// <remarks>
/// <para><b>File format</b> (version 1, all numbers little-endian, no padding):</para>
/// <code>
/// offset  bytes        content
/// 0       8            magic "MTCNNSMP" (ASCII)
/// 8       4            uint32 format version = 1
/// 12      4            int32 crop side S (1..1024)
/// 16      8            int64 sample count N (0..2^31-1)
/// 24      4            int32 metadata length M in bytes (0..16 MiB)
/// 28      4            uint32 reserved = 0
/// 32      M            metadata: UTF-8 JSON object of string values (empty when M = 0)
/// 32+M    N            kinds, int8 each: 0 negative, 1 positive, -1 part, -2 landmark
/// ...     4N           source image index, int32 each (&gt;= 0)
/// ...     16N          box offsets, float32 x 4 per sample: dx1 dy1 dx2 dy2 = (gt - crop) / crop side
/// ...     40N          landmark targets, float32 x 10 per sample: x1 y1 ... x5 y5 = (point - crop corner) / crop side
/// ...     3·S·S·N      pixels, per sample S rows of S pixels of R, G, B bytes
/// </code>
/// <para>The file length must be exactly <c>32 + M + N * (61 + 3 * S * S)</c>. Box offsets are zero for negatives and
/// landmark targets zero for all but landmark samples; every float is finite. Arrays come one after another so that
/// reading is a handful of bulk reads, whatever the number of samples.</para>
/// </remarks>
public sealed class SampleSet
{
    /// <summary>The version this build writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>The largest crop side a file may have.</summary>
    public const int MaxSize = 1024;

    /// <summary>Bytes of the fixed header.</summary>
    public const int HeaderLength = 32;

    /// <summary>Bytes of labels per sample: kind (1), source (4), box (16), landmarks (40).</summary>
    public const int LabelBytesPerSample = 1 + 4 + 16 + 40;

    internal const int DefaultChunkBytes = 1 << 30;
    private const int MaxMetadataBytes = 16 << 20;

    private readonly sbyte[] kinds;
    private readonly int[] sources;
    private readonly float[] boxes;
    private readonly float[] landmarks;
    private readonly byte[][] chunks;
    private readonly int perChunk;

    internal SampleSet(int size, int count, sbyte[] kinds, int[] sources, float[] boxes, float[] landmarks, byte[][] chunks, int perChunk,
        IReadOnlyDictionary<string, string> metadata)
    {
        Size = size;
        Count = count;
        this.kinds = kinds;
        this.sources = sources;
        this.boxes = boxes;
        this.landmarks = landmarks;
        this.chunks = chunks;
        this.perChunk = perChunk;
        Metadata = metadata;
    }

    /// <summary>Side of the square crops in pixels (12, 24 or 48 for MTCNN).</summary>
    public int Size { get; }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Bytes of one sample's pixels: <c>Size * Size * 3</c>.</summary>
    public int PixelBytes => Size * Size * 3;

    /// <summary>Free-form facts about how the file was made (generator options, sources); may be empty.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The pixels of sample <paramref name="i"/>: <c>Size * Size * 3</c> bytes, RGB, row-major (HWC).</summary>
    /// <param name="i">Sample index in [0, Count).</param>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range.</exception>
    public ReadOnlySpan<byte> Pixels(int i)
    {
        Check(i);
        int n = PixelBytes;
        return chunks[i / perChunk].AsSpan(i % perChunk * n, n);
    }

    /// <summary>The kind of sample <paramref name="i"/>.</summary>
    /// <param name="i">Sample index in [0, Count).</param>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range.</exception>
    public SampleKind Kind(int i)
    {
        Check(i);
        return (SampleKind)kinds[i];
    }

    /// <summary>
    /// The box offsets of sample <paramref name="i"/>: dx1, dy1, dx2, dy2 = (ground truth - crop) / crop side; zeros for
    /// negatives.
    /// </summary>
    /// <param name="i">Sample index in [0, Count).</param>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range.</exception>
    public ReadOnlySpan<float> Box(int i)
    {
        Check(i);
        return boxes.AsSpan(i * 4, 4);
    }

    /// <summary>
    /// The landmark targets of sample <paramref name="i"/>, interleaved x1, y1, ..., x5, y5 = (point - crop corner) / crop
    /// side, in the order left eye, right eye, nose, left and right mouth corner; zeros unless the sample is a landmark
    /// sample.
    /// </summary>
    /// <param name="i">Sample index in [0, Count).</param>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range.</exception>
    public ReadOnlySpan<float> Landmarks(int i)
    {
        Check(i);
        return landmarks.AsSpan(i * 10, 10);
    }

    /// <summary>The index of the image sample <paramref name="i"/> was cut from (for image-level train/validation splits).</summary>
    /// <param name="i">Sample index in [0, Count).</param>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range.</exception>
    public int SourceImage(int i)
    {
        Check(i);
        return sources[i];
    }

    /// <summary>The number of samples of a kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>How many samples have that kind.</returns>
    public int CountOf(SampleKind kind)
    {
        var k = (sbyte)kind;
        return kinds.AsSpan(0, Count).Count(k);
    }

    /// <summary>Reads a sample file, checking its structure and every label.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The samples.</returns>
    /// <exception cref="SampleFormatException">The file is missing, unreadable, truncated, not a sample file, of an
    /// unsupported version, or holds an invalid value; the message names the file and the problem.</exception>
    public static SampleSet Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            return Read(stream, path, stream.Length, DefaultChunkBytes);
        }
        catch (FileNotFoundException e)
        {
            throw new SampleFormatException(path, "file not found.", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new SampleFormatException(path, "file not found (its folder does not exist).", e);
        }
        catch (EndOfStreamException e)
        {
            throw new SampleFormatException(path, "the file ended while it was read (truncated).", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleFormatException(path, $"cannot be read: {e.Message}", e);
        }
    }

    internal static SampleSet Read(Stream stream, string name, long length, int chunkBytes)
    {
        if (length < HeaderLength)
        {
            throw new SampleFormatException(name, $"truncated: the file is {length} bytes, shorter than the {HeaderLength}-byte header of a sample file.");
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        stream.ReadExactly(header);
        if (!header[..8].SequenceEqual("MTCNNSMP"u8))
        {
            throw new SampleFormatException(name, "not a sample file (it does not start with the magic bytes 'MTCNNSMP').");
        }

        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version != FormatVersion)
        {
            throw new SampleFormatException(name, $"sample file version {version} is not supported; this build reads version {FormatVersion}.");
        }

        int size = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
        long count = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        int metaLength = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
        if (size is < 1 or > MaxSize)
        {
            throw new SampleFormatException(name, $"invalid crop size {size} in the header (expected 1..{MaxSize}).");
        }

        if (count is < 0 or > int.MaxValue)
        {
            throw new SampleFormatException(name, $"invalid sample count {count} in the header.");
        }

        if (count > Array.MaxLength / 10)
        {
            throw new SampleFormatException(name, $"{count} samples are more than one sample set can hold in memory ({Array.MaxLength / 10}).");
        }

        if (metaLength is < 0 or > MaxMetadataBytes)
        {
            throw new SampleFormatException(name, $"invalid metadata length {metaLength} in the header.");
        }

        long pixelBytes = 3L * size * size;
        long expected = HeaderLength + metaLength + (count * (LabelBytesPerSample + pixelBytes));
        if (length < expected)
        {
            throw new SampleFormatException(name, string.Create(CultureInfo.InvariantCulture,
                $"truncated: the file is {length} bytes, but its header announces {count} samples of {size}x{size}, which need {expected} bytes."));
        }

        if (length > expected)
        {
            throw new SampleFormatException(name, string.Create(CultureInfo.InvariantCulture,
                $"the file is {length} bytes, {length - expected} more than the {expected} bytes its header announces ({count} samples of {size}x{size})."));
        }

        var meta = new byte[metaLength];
        stream.ReadExactly(meta);
        var metadata = ParseMetadata(meta, name);

        int n = (int)count;
        var kinds = new sbyte[n];
        stream.ReadExactly(MemoryMarshal.AsBytes(kinds.AsSpan()));
        var sources = GC.AllocateUninitializedArray<int>(n);
        ReadInts(stream, sources);
        var boxes = GC.AllocateUninitializedArray<float>(n * 4);
        ReadFloats(stream, boxes);
        var landmarks = GC.AllocateUninitializedArray<float>(n * 10);
        ReadFloats(stream, landmarks);

        for (int i = 0; i < n; i++)
        {
            string? problem = Problem((SampleKind)kinds[i], boxes.AsSpan(i * 4, 4), landmarks.AsSpan(i * 10, 10), sources[i]);
            if (problem is not null)
            {
                throw new SampleFormatException(name, $"sample {i}: {problem}");
            }
        }

        int per = SamplesPerChunk((int)pixelBytes, chunkBytes);
        int chunkCount = n == 0 ? 0 : ((n - 1) / per) + 1;
        var chunks = new byte[chunkCount][];
        for (int c = 0; c < chunkCount; c++)
        {
            int samples = Math.Min(per, n - (c * per));
            chunks[c] = GC.AllocateUninitializedArray<byte>(samples * (int)pixelBytes);
            stream.ReadExactly(chunks[c]);
        }

        return new SampleSet(size, n, kinds, sources, boxes, landmarks, chunks, per, metadata);
    }

    /// <summary>
    /// Writes the samples to <paramref name="path"/> atomically: into a temporary file in the same folder, flushed to
    /// disk, then renamed over the target, so a reader never sees a half-written file.
    /// </summary>
    /// <param name="path">The file; its folder must exist. An existing file is replaced.</param>
    /// <exception cref="IOException">Writing failed (the target is left as it was).</exception>
    /// <exception cref="UnauthorizedAccessException">The folder may not be written.</exception>
    public void Write(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
                // Leave the temporary file; the original error matters more.
            }

            throw;
        }
    }

    /// <summary>Writes the samples in the file format to a stream.</summary>
    /// <param name="stream">A writable stream.</param>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] meta = FormatMetadata(Metadata);
        Span<byte> header = stackalloc byte[HeaderLength];
        header.Clear();
        "MTCNNSMP"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], Size);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], Count);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], meta.Length);
        stream.Write(header);
        stream.Write(meta);
        stream.Write(MemoryMarshal.AsBytes(kinds.AsSpan(0, Count)));
        WriteLittleEndian(stream, sources.AsSpan(0, Count));
        WriteLittleEndian(stream, MemoryMarshal.Cast<float, int>(boxes.AsSpan(0, Count * 4)));
        WriteLittleEndian(stream, MemoryMarshal.Cast<float, int>(landmarks.AsSpan(0, Count * 10)));
        int pixelBytes = PixelBytes;
        for (int c = 0, remaining = Count; remaining > 0; c++)
        {
            int samples = Math.Min(perChunk, remaining);
            stream.Write(chunks[c].AsSpan(0, samples * pixelBytes));
            remaining -= samples;
        }
    }

    /// <summary>
    /// A set of <paramref name="count"/> samples whose contents the caller fills in with <see cref="WritablePixels"/>
    /// and <see cref="SetLabels"/> (from several threads at once, each sample by one thread).
    /// </summary>
    internal static SampleSet Allocate(int size, int count, IReadOnlyDictionary<string, string> metadata, int chunkBytes = DefaultChunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxSize);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int pixelBytes = size * size * 3;
        int per = SamplesPerChunk(pixelBytes, chunkBytes);
        int chunkCount = count == 0 ? 0 : ((count - 1) / per) + 1;
        var chunks = new byte[chunkCount][];
        for (int c = 0; c < chunkCount; c++)
        {
            chunks[c] = GC.AllocateUninitializedArray<byte>(Math.Min(per, count - (c * per)) * pixelBytes);
        }

        return new SampleSet(size, count, new sbyte[count], new int[count], new float[count * 4], new float[count * 10], chunks, per, metadata);
    }

    /// <summary>The pixels of sample <paramref name="i"/> for writing (only for sets made by <see cref="Allocate"/>).</summary>
    internal Span<byte> WritablePixels(int i)
    {
        Check(i);
        int n = PixelBytes;
        return chunks[i / perChunk].AsSpan(i % perChunk * n, n);
    }

    /// <summary>Sets the labels of sample <paramref name="i"/> (only for sets made by <see cref="Allocate"/>).</summary>
    /// <exception cref="ArgumentException">A label is invalid.</exception>
    internal void SetLabels(int i, SampleKind kind, ReadOnlySpan<float> box, ReadOnlySpan<float> landmarkTargets, int source)
    {
        Check(i);
        if (box.Length != 4 || landmarkTargets.Length != 10)
        {
            throw new ArgumentException($"Sample {i}: expected 4 box offsets and 10 landmark targets, got {box.Length} and {landmarkTargets.Length}.");
        }

        string? problem = Problem(kind, box, landmarkTargets, source);
        if (problem is not null)
        {
            throw new ArgumentException($"Sample {i}: {problem}");
        }

        kinds[i] = (sbyte)kind;
        sources[i] = source;
        box.CopyTo(boxes.AsSpan(i * 4, 4));
        landmarkTargets.CopyTo(landmarks.AsSpan(i * 10, 10));
    }

    /// <summary>Samples per pixel chunk: as many as fit in <paramref name="chunkBytes"/>, at least one.</summary>
    internal static int SamplesPerChunk(int pixelBytes, int chunkBytes) => Math.Max(1, chunkBytes / pixelBytes);

    /// <summary>What is wrong with a sample's labels, or null when they are valid.</summary>
    internal static string? Problem(SampleKind kind, ReadOnlySpan<float> box, ReadOnlySpan<float> landmarks, int source)
    {
        if (kind is not (SampleKind.Negative or SampleKind.Positive or SampleKind.Part or SampleKind.Landmark))
        {
            return $"invalid kind {(sbyte)kind} (expected 0 negative, 1 positive, -1 part or -2 landmark).";
        }

        if (source < 0)
        {
            return $"negative source image index {source}.";
        }

        foreach (float v in box)
        {
            if (!float.IsFinite(v))
            {
                return "a box offset is not a finite number.";
            }

            if (kind == SampleKind.Negative && v != 0)
            {
                return "a negative sample has non-zero box offsets.";
            }
        }

        foreach (float v in landmarks)
        {
            if (!float.IsFinite(v))
            {
                return "a landmark target is not a finite number.";
            }

            if (kind != SampleKind.Landmark && v != 0)
            {
                return $"a {kind.ToString().ToLowerInvariant()} sample has non-zero landmark targets (only landmark samples have them).";
            }
        }

        return null;
    }

    private void Check(int i)
    {
        if ((uint)i >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(i), i, $"The sample index must be in [0, {Count}).");
        }
    }

    private static void ReadInts(Stream stream, Span<int> values)
    {
        stream.ReadExactly(MemoryMarshal.AsBytes(values));
        if (!BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.ReverseEndianness(values, values);
        }
    }

    private static void ReadFloats(Stream stream, Span<float> values) => ReadInts(stream, MemoryMarshal.Cast<float, int>(values));

    private static void WriteLittleEndian(Stream stream, ReadOnlySpan<int> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        var buffer = new int[Math.Min(values.Length, 1 << 16)];
        for (int start = 0; start < values.Length; start += buffer.Length)
        {
            var part = values.Slice(start, Math.Min(buffer.Length, values.Length - start));
            BinaryPrimitives.ReverseEndianness(part, buffer);
            stream.Write(MemoryMarshal.AsBytes(buffer.AsSpan(0, part.Length)));
        }
    }

    private static Dictionary<string, string> ParseMetadata(byte[] bytes, string name)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (bytes.Length == 0)
        {
            return result;
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SampleFormatException(name, "the metadata is not a JSON object.");
            }

            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                {
                    throw new SampleFormatException(name, $"metadata entry '{p.Name}' is not a string.");
                }

                result[p.Name] = p.Value.GetString()!;
            }
        }
        catch (JsonException e)
        {
            throw new SampleFormatException(name, $"the metadata is not valid JSON: {e.Message}", e);
        }

        return result;
    }

    private static byte[] FormatMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata.Count == 0)
        {
            return [];
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
