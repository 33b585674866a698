using System.Globalization;

namespace Mtcnn;

/// <summary>The stages of the MTCNN cascade, in the order they run.</summary>
public enum CascadeStage
{
    /// <summary>Proposal network: a fully convolutional 12x12 window classifier over an image pyramid.</summary>
    PNet = 1,

    /// <summary>Refinement network: rejects and calibrates P-Net candidates on 24x24 crops.</summary>
    RNet = 2,

    /// <summary>Output network: final score, box and five landmarks on 48x48 crops.</summary>
    ONet = 3,
}

/// <summary>How R-Net and O-Net crops that reach past the image border are filled.</summary>
public enum CropBorder
{
    /// <summary>The part outside the image is black (zero-valued pixels), as in the original MATLAB MTCNN. Default.</summary>
    ZeroPad,

    /// <summary>
    /// The crop is clipped to the image and the visible part alone is resized to the network's input, as
    /// facenet-pytorch does. Choose it to reproduce that library's results exactly.
    /// </summary>
    Clip,
}

/// <summary>
/// Immutable detector settings with the paper's defaults (min face 20 px, pyramid factor 0.709, thresholds
/// 0.6 / 0.7 / 0.7). Call <see cref="Validate"/> (the detector does) to check every value against its range.
/// </summary>
public sealed record DetectorOptions
{
    /// <summary>Default options (the values facenet-pytorch and the MATLAB original use).</summary>
    public static DetectorOptions Default { get; } = new();

    /// <summary>Smallest face side in pixels that the pyramid is built to find. Default 20; range [4, 100000].</summary>
    public float MinFaceSize { get; init; } = 20f;

    /// <summary>Ratio between consecutive pyramid scales. Default 0.709; range [0.1, 0.95].</summary>
    public float ScaleFactor { get; init; } = 0.709f;

    /// <summary>P-Net face probability a window needs to become a candidate (compared with &gt;=). Default 0.6; range [0, 1].</summary>
    public float PNetThreshold { get; init; } = 0.6f;

    /// <summary>R-Net face probability a candidate needs to pass (compared with &gt;). Default 0.7; range [0, 1].</summary>
    public float RNetThreshold { get; init; } = 0.7f;

    /// <summary>O-Net face probability a candidate needs to be reported (compared with &gt;). Default 0.7; range [0, 1].</summary>
    public float ONetThreshold { get; init; } = 0.7f;

    /// <summary>IoU above which P-Net windows of one pyramid level suppress each other. Default 0.5; range (0, 1].</summary>
    public float PNetNmsThreshold { get; init; } = 0.5f;

    /// <summary>IoU above which P-Net candidates of all levels together suppress each other. Default 0.7; range (0, 1].</summary>
    public float PyramidNmsThreshold { get; init; } = 0.7f;

    /// <summary>IoU above which R-Net survivors suppress each other. Default 0.7; range (0, 1].</summary>
    public float RNetNmsThreshold { get; init; } = 0.7f;

    /// <summary>
    /// Overlap (intersection over the smaller box) above which final faces suppress each other. Default 0.7; range (0, 1].
    /// </summary>
    public float ONetNmsThreshold { get; init; } = 0.7f;

    /// <summary>How crops past the image border are filled. Default <see cref="CropBorder.ZeroPad"/> (the original's).</summary>
    public CropBorder CropBorder { get; init; } = CropBorder.ZeroPad;

    /// <summary>Keep at most this many faces (highest scores first); 0 keeps all. Default 0; range [0, 100000].</summary>
    public int MaxFaces { get; init; }

    /// <summary>
    /// Last stage to run. <see cref="CascadeStage.ONet"/> (default) gives faces with landmarks; an earlier stage stops
    /// there and reports that stage's candidates only (the "what does each network see" views).
    /// </summary>
    public CascadeStage LastStage { get; init; } = CascadeStage.ONet;

    /// <summary>Also return the candidates after P-Net and R-Net in <see cref="DetectionResult.PNetCandidates"/> and
    /// <see cref="DetectionResult.RNetCandidates"/>. Default false.</summary>
    public bool CollectStageCandidates { get; init; }

    /// <summary>
    /// Threads one <c>Detect</c> call may use (pyramid bands and crop batches run in parallel); 0 means
    /// <see cref="Environment.ProcessorCount"/>. Batch detection uses this many images at a time instead. Default 0; range [0, 1024].
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; }

    /// <summary>
    /// Largest image accepted, in pixels (width * height); larger images are rejected with an
    /// <see cref="ArgumentOutOfRangeException"/> rather than exhausting memory. Default 100,000,000; range [1, 500,000,000].
    /// </summary>
    public long MaxImagePixels { get; init; } = 100_000_000;

    /// <summary>The three thresholds in stage order.</summary>
    public IReadOnlyList<float> Thresholds => [PNetThreshold, RNetThreshold, ONetThreshold];

    /// <summary>Threads a call actually uses after resolving 0 to the processor count.</summary>
    public int EffectiveParallelism => MaxDegreeOfParallelism == 0 ? Environment.ProcessorCount : MaxDegreeOfParallelism;

    /// <summary>Checks every value against its documented range.</summary>
    /// <returns>This instance, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names it and the valid range.</exception>
    public DetectorOptions Validate()
    {
        Check(MinFaceSize, 4f, 100000f, nameof(MinFaceSize));
        Check(ScaleFactor, 0.1f, 0.95f, nameof(ScaleFactor));
        Check(PNetThreshold, 0f, 1f, nameof(PNetThreshold));
        Check(RNetThreshold, 0f, 1f, nameof(RNetThreshold));
        Check(ONetThreshold, 0f, 1f, nameof(ONetThreshold));
        CheckOpenLow(PNetNmsThreshold, nameof(PNetNmsThreshold));
        CheckOpenLow(PyramidNmsThreshold, nameof(PyramidNmsThreshold));
        CheckOpenLow(RNetNmsThreshold, nameof(RNetNmsThreshold));
        CheckOpenLow(ONetNmsThreshold, nameof(ONetNmsThreshold));
        if (MaxFaces is < 0 or > 100000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFaces), MaxFaces, "MaxFaces must be in [0, 100000] (0 keeps all faces).");
        }

        if (MaxDegreeOfParallelism is < 0 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism, "MaxDegreeOfParallelism must be in [0, 1024] (0 uses every processor).");
        }

        if (MaxImagePixels is < 1 or > 500_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxImagePixels), MaxImagePixels, "MaxImagePixels must be in [1, 500000000].");
        }

        if (!Enum.IsDefined(CropBorder))
        {
            throw new ArgumentOutOfRangeException(nameof(CropBorder), CropBorder, "CropBorder must be ZeroPad or Clip.");
        }

        if (!Enum.IsDefined(LastStage))
        {
            throw new ArgumentOutOfRangeException(nameof(LastStage), LastStage, "LastStage must be PNet, RNet or ONet.");
        }

        return this;
    }

    private static void Check(float value, float min, float max, string name)
    {
        if (!(value >= min && value <= max))
        {
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} must be in [{min}, {max}]."));
        }
    }

    private static void CheckOpenLow(float value, string name)
    {
        if (!(value > 0f && value <= 1f))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in (0, 1].");
        }
    }
}
