namespace Mtcnn.Cascade;

/// <summary>
/// Scratch memory of one worker thread. Buffers grow to the largest size seen and are then reused, so a detector
/// that keeps seeing images of similar sizes stops allocating.
/// </summary>
internal sealed class Workspace
{
    private float[] input = [];
    private float[] a = [];
    private float[] capScores = [];
    private float[] b = [];
    private float[] flat = [];
    private float[] dense = [];
    private float[] output = [];
    private float[] batch = [];
    private int[] ints = [];

    /// <summary>Scratch for non-maximum suppression run on this thread.</summary>
    public NmsScratch Nms { get; } = new();

    public Span<float> Input(int n) => Grow(ref input, n);

    public Span<float> A(int n) => Grow(ref a, n);

    /// <summary>Scores of a P-Net level's windows, to find the best <see cref="DetectorOptions.MaxCandidates"/> (only when capping).</summary>
    public Span<float> CapScores(int n) => Grow(ref capScores, n);

    public Span<float> B(int n) => Grow(ref b, n);

    public Span<float> Flat(int n) => Grow(ref flat, n);

    public Span<float> Dense(int n) => Grow(ref dense, n);

    public Span<float> Output(int n) => Grow(ref output, n);

    public Span<float> Batch(int n) => Grow(ref batch, n);

    public Span<int> Ints(int n) => Grow(ref ints, n);

    private static Span<T> Grow<T>(ref T[] array, int n)
    {
        if (array.Length < n)
        {
            array = new T[Math.Max(n, array.Length + (array.Length / 2))];
        }

        return array.AsSpan(0, n);
    }
}

/// <summary>Per-call state of one image: the resampler's copy of the pixels, pyramid plan, and candidate lists. Reused across calls.</summary>
internal sealed class ImageContext(ImageResampler resampler)
{
    private readonly ImageResampler primary = resampler;
    private DirectAreaResampler? direct;

    /// <summary>The image as the variant resamples it (area averaging or OpenCV-style bilinear) in the current call.</summary>
    public ImageResampler Resampler { get; private set; } = resampler;

    /// <summary>
    /// Picks the resampler for an image of <paramref name="pixels"/> pixels: the variant's own, or, for area averaging
    /// above <paramref name="directAbove"/> pixels, the table-free <see cref="DirectAreaResampler"/> (same results).
    /// </summary>
    public ImageResampler Choose(long pixels, long directAbove)
    {
        Resampler = primary is IntegralImage && pixels > directAbove ? (direct ??= new DirectAreaResampler()) : primary;
        return Resampler;
    }

    /// <summary>This image's part in a cross-image crop batch (<see cref="FaceDetector.DetectBatch"/> on a backend); null otherwise.</summary>
    public CropBatch.Member? BatchMember { get; set; }

    /// <summary>Drops what the call's resampler holds of the caller's pixels.</summary>
    public void ReleasePixels() => direct?.Release();

    public List<PyramidLevel> Levels { get; } = [];

    public List<PNetWorkItem> Items { get; } = [];

    public List<List<Window>> ItemWindows { get; } = [];

    public List<List<Window>> LevelWindows { get; } = [];

    /// <summary>Set (to 1) by a stage that had more candidates than <see cref="DetectorOptions.MaxCandidates"/>; reset per image.</summary>
    public int CandidateLimit;

    public List<Window> Candidates { get; } = [];

    public List<Window> Scratch { get; } = [];

    public NmsScratch Nms { get; } = new();

    public float[] StageOutputs { get; set; } = [];

    public int[] CropBoxes { get; set; } = [];

    // What the current stage's loop bodies need (set by the cascade before each parallel loop).
    public DetectorOptions? Options { get; set; }

    public float StageThreshold { get; set; }

    public float[]? PyramidBuffer { get; set; }

    public Mtcnn.Inference.CropNet? StageNet { get; set; }

    public int CropChunkSize { get; set; }

    public Point2F[] Landmarks { get; set; } = [];

    private int[] cropOrder = [];
    private int[] cropRank = [];
    private long[] cropKeys = [];

    /// <summary>Scratch for the order in which crops go through a net: slot to candidate, candidate to slot, sort keys.</summary>
    public (int[] Order, int[] Rank, long[] Keys) CropOrder(int n)
    {
        if (cropOrder.Length < n)
        {
            int size = Math.Max(n, cropOrder.Length * 2);
            cropOrder = new int[size];
            cropRank = new int[size];
            cropKeys = new long[size];
        }

        return (cropOrder, cropRank, cropKeys);
    }

    private float[] pyramidInputs = [];
    private long[] itemInputOffsets = [];

    /// <summary>One buffer for the resampled input of every P-Net band of the image (grown as needed, then reused).</summary>
    public float[] PyramidInputs(long floats)
    {
        if (floats > Array.MaxLength)
        {
            throw new InvalidOperationException($"The image pyramid needs {floats} floats, more than one buffer can hold.");
        }

        if (pyramidInputs.Length < floats)
        {
            pyramidInputs = new float[Math.Max(floats, pyramidInputs.Length + (pyramidInputs.Length / 2))];
        }

        return pyramidInputs;
    }

    /// <summary>Where each band's input starts in <see cref="PyramidInputs"/>.</summary>
    public long[] ItemInputOffsets(int items)
    {
        if (itemInputOffsets.Length < items)
        {
            itemInputOffsets = new long[Math.Max(items, itemInputOffsets.Length * 2)];
        }

        return itemInputOffsets;
    }

    /// <summary>Makes sure the per-item and per-level window lists exist, all empty.</summary>
    public void PrepareLists(int items, int levels)
    {
        while (ItemWindows.Count < items)
        {
            ItemWindows.Add([]);
        }

        while (LevelWindows.Count < levels)
        {
            LevelWindows.Add([]);
        }

        foreach (var l in ItemWindows)
        {
            l.Clear();
        }

        foreach (var l in LevelWindows)
        {
            l.Clear();
        }
    }
}

/// <summary>One pyramid level: its scale and size.</summary>
internal readonly record struct PyramidLevel(double Scale, int Height, int Width, int OutHeight, int OutWidth);

/// <summary>A band of P-Net output rows of one level, the unit of parallel work.</summary>
internal readonly record struct PNetWorkItem(int Level, int FirstRow, int Rows, long Cost);
