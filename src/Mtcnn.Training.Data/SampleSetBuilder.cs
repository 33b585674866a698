namespace Mtcnn.Training.Data;

/// <summary>
/// Collects samples one at a time and turns them into a <see cref="SampleSet"/>. Not thread-safe.
/// </summary>
public sealed class SampleSetBuilder
{
    private readonly int pixelBytes;
    private readonly int perChunk;
    private readonly List<byte[]> chunks = [];
    private sbyte[] kinds = [];
    private int[] sources = [];
    private float[] boxes = [];
    private float[] landmarks = [];

    /// <summary>Creates an empty builder for crops of <paramref name="size"/> x <paramref name="size"/> pixels.</summary>
    /// <param name="size">The crop side in [1, <see cref="SampleSet.MaxSize"/>].</param>
    /// <exception cref="ArgumentOutOfRangeException">The size is out of range.</exception>
    public SampleSetBuilder(int size)
        : this(size, SampleSet.DefaultChunkBytes)
    {
    }

    internal SampleSetBuilder(int size, int chunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, SampleSet.MaxSize);
        Size = size;
        pixelBytes = size * size * 3;
        perChunk = SampleSet.SamplesPerChunk(pixelBytes, chunkBytes);
    }

    /// <summary>The crop side.</summary>
    public int Size { get; }

    /// <summary>Samples added since construction or the last <see cref="Build"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Metadata to store with the samples (how they were made); copied by <see cref="Build"/>.</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Adds a sample.</summary>
    /// <param name="rgb">The crop: <c>Size * Size * 3</c> bytes, RGB, row-major.</param>
    /// <param name="kind">The sample's kind.</param>
    /// <param name="box">4 box offsets dx1, dy1, dx2, dy2 (all zero for negatives), or empty for zeros.</param>
    /// <param name="landmarks">10 landmark targets x1, y1, ..., x5, y5 (all zero unless <see cref="SampleKind.Landmark"/>), or empty for zeros.</param>
    /// <param name="sourceImage">Index of the image the crop comes from (&gt;= 0).</param>
    /// <exception cref="ArgumentException">A length is wrong, the kind is undefined, a value is not finite, a
    /// negative has box offsets, a non-landmark sample has landmark targets, or the source index is negative.</exception>
    /// <exception cref="InvalidOperationException">The set already holds the maximum number of samples.</exception>
    public void Add(ReadOnlySpan<byte> rgb, SampleKind kind, ReadOnlySpan<float> box, ReadOnlySpan<float> landmarks, int sourceImage)
    {
        if (rgb.Length != pixelBytes)
        {
            throw new ArgumentException($"A {Size}x{Size} RGB crop has {pixelBytes} bytes, got {rgb.Length}.", nameof(rgb));
        }

        if (box.Length is not (0 or 4))
        {
            throw new ArgumentException($"Expected 4 box offsets (or none), got {box.Length}.", nameof(box));
        }

        if (landmarks.Length is not (0 or 10))
        {
            throw new ArgumentException($"Expected 10 landmark targets (or none), got {landmarks.Length}.", nameof(landmarks));
        }

        string? problem = SampleSet.Problem(kind, box, landmarks, sourceImage);
        if (problem is not null)
        {
            throw new ArgumentException("Invalid sample: " + problem);
        }

        if (Count == Array.MaxLength / 10)
        {
            throw new InvalidOperationException($"A sample set holds at most {Array.MaxLength / 10} samples.");
        }

        int i = Count;
        EnsureCapacity(i + 1);
        kinds[i] = (sbyte)kind;
        sources[i] = sourceImage;
        if (box.IsEmpty)
        {
            this.boxes.AsSpan(i * 4, 4).Clear();
        }
        else
        {
            box.CopyTo(this.boxes.AsSpan(i * 4, 4));
        }

        if (landmarks.IsEmpty)
        {
            this.landmarks.AsSpan(i * 10, 10).Clear();
        }
        else
        {
            landmarks.CopyTo(this.landmarks.AsSpan(i * 10, 10));
        }

        int c = i / perChunk, offset = i % perChunk * pixelBytes;
        if (c == chunks.Count)
        {
            chunks.Add(new byte[Math.Min(perChunk, 256) * pixelBytes]);
        }

        if (chunks[c].Length < offset + pixelBytes)
        {
            var grown = new byte[(int)Math.Min((long)perChunk * pixelBytes, Math.Max((long)chunks[c].Length * 2, offset + pixelBytes))];
            chunks[c].AsSpan(0, offset).CopyTo(grown);
            chunks[c] = grown;
        }

        rgb.CopyTo(chunks[c].AsSpan(offset, pixelBytes));
        Count = i + 1;
    }

    /// <summary>Returns the samples added so far and empties the builder (the data is handed over, not copied).</summary>
    /// <returns>The sample set.</returns>
    public SampleSet Build()
    {
        var set = new SampleSet(Size, Count, kinds, sources, boxes, landmarks, [.. chunks], perChunk,
            new Dictionary<string, string>(Metadata, StringComparer.Ordinal));
        kinds = [];
        sources = [];
        boxes = [];
        landmarks = [];
        chunks.Clear();
        Count = 0;
        return set;
    }

    private void EnsureCapacity(int needed)
    {
        if (kinds.Length >= needed)
        {
            return;
        }

        int capacity = (int)Math.Min(Array.MaxLength / 10, Math.Max(needed, Math.Max(64L, kinds.Length * 2L)));
        Array.Resize(ref kinds, capacity);
        Array.Resize(ref sources, capacity);
        Array.Resize(ref boxes, capacity * 4);
        Array.Resize(ref landmarks, capacity * 10);
    }
}
