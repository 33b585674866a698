using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mtcnn.Cli.Cluster;

/// <summary>
/// What a cluster job's silos need to produce <c>detect</c>'s records: the detector options, the last stage, the
/// weights (an absolute path every silo can read, or null for the embedded ones) and the decoding switch. Stored in the
/// job as JSON (<see cref="Mtcnn.Cluster.JobSpec.Settings"/>); part of the job's identity on resubmission.
/// </summary>
internal sealed record ClusterJobSettings
{
    /// <summary>The task: <c>detect</c>, or <c>align</c> (detect, then write aligned crops into <see cref="CropsDirectory"/>).</summary>
    public string Task { get; init; } = "detect";

    /// <summary>With <c>align</c>: the folder the silos write the crops into (absolute, shared storage).</summary>
    public string? CropsDirectory { get; init; }

    /// <summary>With <c>align</c>: which faces get crops (<c>--select</c>: all, largest, best, center).</summary>
    public string Select { get; init; } = "all";

    /// <summary>With <c>align</c>: <c>arcface112</c>, <c>arcface112x96</c> or <c>facenet160</c>.</summary>
    public string Template { get; init; } = "arcface112";

    /// <summary>With <c>align</c>: the crop's width in pixels.</summary>
    public int CropWidth { get; init; }

    /// <summary>With <c>align</c>: the crop's height in pixels.</summary>
    public int CropHeight { get; init; }

    /// <summary>With <c>align</c>: <see cref="Mtcnn.Alignment.FaceAlignerOptions.Margin"/>, or for facenet160 the margin in output pixels.</summary>
    public double Margin { get; init; }

    /// <summary>With <c>align</c>: <c>constant</c> or <c>replicate</c>.</summary>
    public string Border { get; init; } = "constant";

    /// <summary><see cref="DetectorOptions.MinFaceSize"/>.</summary>
    public float MinFaceSize { get; init; }

    /// <summary><see cref="DetectorOptions.ScaleFactor"/>.</summary>
    public float ScaleFactor { get; init; }

    /// <summary>P-Net, R-Net, O-Net thresholds.</summary>
    public float[] Thresholds { get; init; } = [];

    /// <summary>The four suppression overlaps.</summary>
    public float[] NmsThresholds { get; init; } = [];

    /// <summary><see cref="DetectorOptions.MaxFaces"/>.</summary>
    public int MaxFaces { get; init; }

    /// <summary><see cref="DetectorOptions.MaxCandidates"/> (the default for a job stored before the option existed).</summary>
    public int MaxCandidates { get; init; } = DetectorOptions.Default.MaxCandidates;

    /// <summary><c>zero</c> or <c>clip</c>.</summary>
    public string CropBorder { get; init; } = "zero";

    /// <summary><c>pnet</c>, <c>rnet</c> or <c>onet</c>.</summary>
    public string Stage { get; init; } = "onet";

    /// <summary>The weight file (absolute), or null for the embedded weights.</summary>
    public string? Weights { get; init; }

    /// <summary>Detect in the decoded part of truncated images.</summary>
    public bool AllowIncomplete { get; init; }

    /// <summary><see cref="DetectorOptions.Rotations"/> as its flag value.</summary>
    public int Rotations { get; init; } = (int)DetectionRotations.Rotate0;

    /// <summary><see cref="DetectorOptions.RotationMergeIou"/>.</summary>
    public float RotationMergeIou { get; init; } = 0.3f;

    /// <summary><see cref="DetectorOptions.MaxImagePixels"/>.</summary>
    public long MaxImagePixels { get; init; } = 100_000_000;

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    /// <summary>The settings of detector options given on the command line.</summary>
    public static ClusterJobSettings From(DetectorOptions o, string stage, string? weights, bool allowIncomplete)
    {
        ArgumentNullException.ThrowIfNull(o);
        return new ClusterJobSettings
        {
            MinFaceSize = o.MinFaceSize,
            ScaleFactor = o.ScaleFactor,
            Thresholds = [o.PNetThreshold, o.RNetThreshold, o.ONetThreshold],
            NmsThresholds = [o.PNetNmsThreshold, o.PyramidNmsThreshold, o.RNetNmsThreshold, o.ONetNmsThreshold],
            MaxFaces = o.MaxFaces,
            MaxCandidates = o.MaxCandidates,
            CropBorder = o.CropBorder == Mtcnn.CropBorder.Clip ? "clip" : "zero",
            Stage = stage,
            Weights = weights,
            AllowIncomplete = allowIncomplete,
            Rotations = (int)o.Rotations,
            RotationMergeIou = o.RotationMergeIou,
            MaxImagePixels = o.MaxImagePixels,
        };
    }

    /// <summary>These settings for the <c>align</c> task with <paramref name="crops"/>, writing into <paramref name="cropsDirectory"/>.</summary>
    public ClusterJobSettings WithAlign(Align.FaceCropSpec crops, string cropsDirectory)
    {
        ArgumentNullException.ThrowIfNull(crops);
        var aligner = crops.Aligner;
        return this with
        {
            Task = "align",
            CropsDirectory = cropsDirectory,
            Select = Align.FaceCropMaker.SelectionName(crops.Select),
            Template = crops.Template,
            CropWidth = aligner?.EffectiveWidth ?? crops.FaceNetSize,
            CropHeight = aligner?.EffectiveHeight ?? crops.FaceNetSize,
            Margin = aligner?.Margin ?? crops.FaceNetMargin,
            Border = aligner?.Border == Mtcnn.Alignment.AlignmentBorder.Replicate ? "replicate" : "constant",
        };
    }

    /// <summary>The crops of an <c>align</c> job.</summary>
    /// <exception cref="InvalidOperationException">The values are out of range (settings of another version).</exception>
    public Align.FaceCropSpec ToCropSpec()
    {
        FaceSelection select;
        try
        {
            select = Align.FaceCropMaker.ParseSelection(Select);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"unusable alignment settings: {e.Message}", e);
        }

        if (Template == Align.FaceCropSpec.FaceNetTemplate)
        {
            if (CropWidth != CropHeight || CropWidth is < 1 or > Mtcnn.Alignment.FaceNetCrop.MaxSize || Margin < 0 || Margin >= CropWidth || Margin != Math.Floor(Margin))
            {
                throw new InvalidOperationException($"unusable alignment settings: facenet160 {CropWidth}x{CropHeight}, margin {Margin}");
            }

            return new Align.FaceCropSpec(Template, null, CropWidth, (int)Margin, select);
        }

        return new Align.FaceCropSpec(Template, ToAlignerOptions(), 0, 0, select);
    }

    /// <summary>The aligner options of an <c>align</c> job with an ArcFace template.</summary>
    /// <exception cref="InvalidOperationException">The values are out of range (settings of another version).</exception>
    public Mtcnn.Alignment.FaceAlignerOptions ToAlignerOptions()
    {
        try
        {
            return new Mtcnn.Alignment.FaceAlignerOptions
            {
                Template = Template == "arcface112x96" ? Mtcnn.Alignment.AlignmentTemplate.ArcFace112x96 : Mtcnn.Alignment.AlignmentTemplate.ArcFace112,
                OutputWidth = CropWidth,
                OutputHeight = CropHeight,
                Margin = Margin,
                Border = Border == "replicate" ? Mtcnn.Alignment.AlignmentBorder.Replicate : Mtcnn.Alignment.AlignmentBorder.Constant,
            }.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidOperationException($"unusable alignment settings: {e.Message}", e);
        }
    }

    /// <summary>The JSON form.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads the JSON form.</summary>
    /// <exception cref="InvalidOperationException">The text is not settings of this version.</exception>
    public static ClusterJobSettings Parse(string json)
    {
        ClusterJobSettings? s;
        try
        {
            s = JsonSerializer.Deserialize<ClusterJobSettings>(json, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"unreadable job settings: {e.Message}", e);
        }

        if (s is null || s.Task is not ("detect" or "align") || (s.Task == "align" && string.IsNullOrEmpty(s.CropsDirectory))
            || s.Thresholds.Length != 3 || s.NmsThresholds.Length != 4)
        {
            throw new InvalidOperationException("unsupported job settings (a silo of another mtcnn version?)");
        }

        return s;
    }

    /// <summary>The detector options, one thread per image (a silo runs partitions side by side instead).</summary>
    public DetectorOptions ToDetectorOptions() => new()
    {
        MinFaceSize = MinFaceSize,
        ScaleFactor = ScaleFactor,
        PNetThreshold = Thresholds[0],
        RNetThreshold = Thresholds[1],
        ONetThreshold = Thresholds[2],
        PNetNmsThreshold = NmsThresholds[0],
        PyramidNmsThreshold = NmsThresholds[1],
        RNetNmsThreshold = NmsThresholds[2],
        ONetNmsThreshold = NmsThresholds[3],
        MaxFaces = MaxFaces,
        MaxCandidates = MaxCandidates,
        CropBorder = CropBorder == "clip" ? Mtcnn.CropBorder.Clip : Mtcnn.CropBorder.ZeroPad,
        LastStage = Stage switch
        {
            "pnet" => CascadeStage.PNet,
            "rnet" => CascadeStage.RNet,
            _ => CascadeStage.ONet,
        },
        Rotations = (DetectionRotations)Rotations,
        RotationMergeIou = RotationMergeIou,
        MaxImagePixels = MaxImagePixels,
        MaxDegreeOfParallelism = 1,
    };
}
