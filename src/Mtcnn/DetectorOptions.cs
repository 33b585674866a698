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
/// Which turns of the input image the detector searches for upright faces (<see cref="DetectorOptions.Rotations"/>).
/// Angles are clockwise: <see cref="Rotate90"/> searches the image turned a quarter turn clockwise, which finds the faces
/// of a photo that was itself turned a quarter turn counter-clockwise. Each extra rotation costs one full detection.
/// </summary>
[Flags]
public enum DetectionRotations
{
    /// <summary>No rotation at all: not a valid setting (<see cref="DetectorOptions.Validate"/> refuses it).</summary>
    None = 0,

    /// <summary>The image as given (the default).</summary>
    Rotate0 = 1,

    /// <summary>The image turned a quarter turn clockwise.</summary>
    Rotate90 = 2,

    /// <summary>The image turned a half turn.</summary>
    Rotate180 = 4,

    /// <summary>The image turned a quarter turn counter-clockwise (270 degrees clockwise).</summary>
    Rotate270 = 8,

    /// <summary>All four quarter turns; every face any of them finds is kept (duplicates merged).</summary>
    All = Rotate0 | Rotate90 | Rotate180 | Rotate270,

    /// <summary>
    /// With the searched turns, keep only the faces of the one turn the faces agree is upright (see
    /// <see cref="DetectorOptions.Rotations"/> for the rule). On its own it means nothing; combine it with turns, as <see cref="Auto"/> does.
    /// </summary>
    Agreement = 16,

    /// <summary>All four turns with the agreement rule: for photos of unknown orientation.</summary>
    Auto = All | Agreement,
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
    /// At most this many candidates go on from P-Net to R-Net and from R-Net to O-Net (per turn of the image): when more
    /// survive a stage's suppression, the highest-scoring are kept and <see cref="DetectionResult.CandidateLimitReached"/>
    /// is set. Likewise each P-Net pyramid level suppresses only its best this-many windows (suppression keeps a window
    /// only for the better ones, so the level's best survivors are the same). It bounds time and memory when thresholds
    /// near 0 or tiny minimum face sizes let nearly every window through (suppressing millions of windows, then about
    /// 25 us per R-Net and 170 us per O-Net crop on one core); with the default thresholds even crowded photos stay far
    /// below it. Default 50,000; range [1, 10,000,000].
    /// </summary>
    public int MaxCandidates { get; init; } = 50_000;

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

    /// <summary>
    /// Turns of the image to search (clockwise quarter turns). Default <see cref="DetectionRotations.Rotate0"/>, the
    /// image as given. With more than one turn every turn is a full detection; each face found is mapped back to the
    /// input's coordinates (box and landmarks) with <see cref="Face.Rotation"/> set to the turn it was upright in, and
    /// faces of different turns whose boxes overlap by an IoU of at least <see cref="RotationMergeIou"/> are one face:
    /// the highest-scoring is kept. With <see cref="DetectionRotations.Agreement"/> (as in
    /// <see cref="DetectionRotations.Auto"/>) the turns must agree on one orientation of the image: after that merge,
    /// each face votes for the turn it scored best in with the weight <c>(score - ONetThreshold) / (1 - ONetThreshold)</c>,
    /// and only the faces found in the turn with the largest total are reported (ties go to the smaller angle); faces
    /// upright in another turn (a person lying down in an upright photo) are dropped, which removes most false
    /// positives that sideways and upside-down views add.
    /// Stage candidates (<see cref="LastStage"/> before O-Net) are mapped back too but not merged across turns.
    /// </summary>
    public DetectionRotations Rotations { get; init; } = DetectionRotations.Rotate0;

    /// <summary>
    /// IoU at or above which faces found in different turns of the image are the same face (the best-scoring one is
    /// kept). Used only when <see cref="Rotations"/> names more than one turn. Default 0.3; range (0, 1].
    /// </summary>
    public float RotationMergeIou { get; init; } = 0.3f;

    /// <summary>The clockwise angles in degrees that <see cref="Rotations"/> names, in increasing order.</summary>
    public IReadOnlyList<int> RotationAngles
    {
        get
        {
            var list = new List<int>(4);
            for (int k = 0; k < 4; k++)
            {
                if (((int)Rotations & (1 << k)) != 0)
                {
                    list.Add(k * 90);
                }
            }

            return list;
        }
    }

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

        if (MaxCandidates is < 1 or > 10_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxCandidates), MaxCandidates, "MaxCandidates must be in [1, 10000000].");
        }

        if (MaxImagePixels is < 1 or > 500_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxImagePixels), MaxImagePixels, "MaxImagePixels must be in [1, 500000000].");
        }

        if (((int)Rotations & ~(int)DetectionRotations.Auto) != 0 || ((int)Rotations & (int)DetectionRotations.All) == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Rotations), Rotations, "Rotations must name at least one of the turns 0, 90, 180 and 270 (optionally with Agreement).");
        }

        CheckOpenLow(RotationMergeIou, nameof(RotationMergeIou));
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
