using System.Globalization;

namespace Mtcnn.Training.Data;

/// <summary>
/// Settings of sample generation for one network. <see cref="For"/> gives the defaults of each network;
/// <see cref="Validate"/> checks every value.
/// </summary>
public sealed record DataPreparationOptions
{
    /// <summary>The network the samples are for: P-Net (12x12), R-Net (24x24) or O-Net (48x48).</summary>
    public CascadeStage Net { get; init; } = CascadeStage.PNet;

    /// <summary>The seed: the same seed and inputs give the same samples, whatever the thread count. Default 1.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Images processed at once; 0 uses every core. Default 0.</summary>
    public int MaxDegreeOfParallelism { get; init; }

    /// <summary>
    /// Target ratio negative : positive : part : landmark, reached by dropping randomly chosen samples of the plentiful
    /// kinds (never by repeating samples). Null keeps everything generated. Default 3:1:1:2. A kind with a non-zero
    /// share of which nothing was generated (e.g. landmarks without a landmark list) is left out of the balance.
    /// </summary>
    public SampleRatio? Ratio { get; init; } = SampleRatio.Default;

    /// <summary>At most this many samples in all (the ratio is kept); 0 for no limit. Default 0.</summary>
    public long MaxSamples { get; init; }

    /// <summary>
    /// Random negative squares per image (side 12 .. min(W, H) / 2, anywhere in the image; at most 4 tries per wanted
    /// square). Default 50. For R-Net and O-Net they only fill up what the mined negatives leave short of the ratio.
    /// </summary>
    public int NegativesPerImage { get; init; } = 50;

    /// <summary>Negative squares tried next to each face (overlapping it at IoU &lt; 0.3). Default 5.</summary>
    public int NearFaceNegatives { get; init; } = 5;

    /// <summary>
    /// Shifted squares tried around each face (side 0.8 min(w, h) .. 1.25 max(w, h), centre moved up to 0.2 of the
    /// face size), kept as positive (IoU &gt;= 0.65) or part (IoU &gt;= 0.4). Default 20.
    /// </summary>
    public int ShiftedTries { get; init; } = 20;

    /// <summary>Shifted squares tried around each landmark face, kept at IoU &gt; 0.65 with all five points inside. Default 30.</summary>
    public int LandmarkTries { get; init; } = 30;

    /// <summary>Faces whose shorter side is below this many pixels give no positives, parts or landmark samples (they still label overlaps). Default 12.</summary>
    public float MinSourceFace { get; init; } = 12f;

    /// <summary>Probability that a landmark sample is mirrored (left and right points swapped). Default 0.5.</summary>
    public double FlipProbability { get; init; } = 0.5;

    /// <summary>Probability that a landmark sample is rotated. Default 0.5.</summary>
    public double RotationProbability { get; init; } = 0.5;

    /// <summary>Largest rotation of landmark samples in degrees, either way. Default 15.</summary>
    public float MaxRotationDegrees { get; init; } = 15f;

    /// <summary>
    /// Whether positive, part and landmark squares may reach past the image border (the outside is black, as in the
    /// cascade's zero-padded crops). Null (default): no for P-Net, whose windows always lie inside the image; yes for
    /// R-Net and O-Net, which see padded crops at inference.
    /// </summary>
    public bool? BorderCrops { get; init; }

    /// <summary>Weights of the earlier stages that mine hard examples for R-Net and O-Net; null uses the bundled weights.</summary>
    public MtcnnWeights? Weights { get; init; }

    /// <summary>Minimum face size of the mining detector. Default 12.</summary>
    public float MinFaceSize { get; init; } = 12f;

    /// <summary>P-Net threshold of the mining detector. Default 0.6.</summary>
    public float PNetThreshold { get; init; } = 0.6f;

    /// <summary>R-Net threshold of the mining detector (O-Net data only). Default 0.7.</summary>
    public float RNetThreshold { get; init; } = 0.7f;

    /// <summary>At most this many mined negatives per image, chosen at random. Default 60.</summary>
    public int MaxMinedNegativesPerImage { get; init; } = 60;

    /// <summary>
    /// Also use every mined positive or part crop that overlaps a landmark face (IoU at least 0.4) as a landmark sample
    /// (R-Net/O-Net data), so the landmark head trains on the crops the earlier stages really produce.
    /// </summary>
    public bool MinedLandmarks { get; init; } = true;

    /// <summary>Decoded images kept in memory between the two passes, in bytes (saves decoding them again). Default 512 MiB.</summary>
    public long ImageCacheBytes { get; init; } = 512L << 20;

    /// <summary>The crop side of <see cref="Net"/>: 12, 24 or 48.</summary>
    public int CropSize => SizeOf(Net);

    /// <summary>The resolved value of <see cref="BorderCrops"/>.</summary>
    public bool AllowBorderCrops => BorderCrops ?? Net != CascadeStage.PNet;

    /// <summary>Images processed at once after resolving 0.</summary>
    public int EffectiveParallelism => MaxDegreeOfParallelism == 0 ? Environment.ProcessorCount : MaxDegreeOfParallelism;

    /// <summary>The defaults for a network.</summary>
    /// <param name="net">The network.</param>
    /// <returns>Options with that network's defaults.</returns>
    public static DataPreparationOptions For(CascadeStage net) => new() { Net = net };

    /// <summary>The crop side of a network's input.</summary>
    /// <param name="net">The network.</param>
    /// <returns>12, 24 or 48.</returns>
    public static int SizeOf(CascadeStage net) => net switch
    {
        CascadeStage.PNet => 12,
        CascadeStage.RNet => 24,
        CascadeStage.ONet => 48,
        _ => throw new ArgumentOutOfRangeException(nameof(net), net, "Unknown network."),
    };

    /// <summary>Checks every value.</summary>
    /// <returns>This instance.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names it and its range.</exception>
    public DataPreparationOptions Validate()
    {
        if (!Enum.IsDefined(Net))
        {
            throw new ArgumentOutOfRangeException(nameof(Net), Net, "Net must be PNet, RNet or ONet.");
        }

        Range(MaxDegreeOfParallelism, 0, 1024, nameof(MaxDegreeOfParallelism));
        Range(NegativesPerImage, 0, 100_000, nameof(NegativesPerImage));
        Range(NearFaceNegatives, 0, 10_000, nameof(NearFaceNegatives));
        Range(ShiftedTries, 0, 10_000, nameof(ShiftedTries));
        Range(LandmarkTries, 0, 10_000, nameof(LandmarkTries));
        Range(MaxMinedNegativesPerImage, 0, 1_000_000, nameof(MaxMinedNegativesPerImage));
        if (MaxSamples < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSamples), MaxSamples, "MaxSamples must be >= 0 (0: no limit).");
        }

        if (ImageCacheBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ImageCacheBytes), ImageCacheBytes, "ImageCacheBytes must be >= 0.");
        }

        Range(MinSourceFace, 1f, 100_000f, nameof(MinSourceFace));
        Range((float)FlipProbability, 0f, 1f, nameof(FlipProbability));
        Range((float)RotationProbability, 0f, 1f, nameof(RotationProbability));
        Range(MaxRotationDegrees, 0f, 45f, nameof(MaxRotationDegrees));
        Range(MinFaceSize, 4f, 100_000f, nameof(MinFaceSize));
        Range(PNetThreshold, 0f, 1f, nameof(PNetThreshold));
        Range(RNetThreshold, 0f, 1f, nameof(RNetThreshold));
        if (Ratio is { } r && (r.Negative < 0 || r.Positive < 0 || r.Part < 0 || r.Landmark < 0 || r.Negative + r.Positive + r.Part + r.Landmark == 0))
        {
            throw new ArgumentOutOfRangeException(nameof(Ratio), r, "Ratio shares must be >= 0 and not all zero.");
        }

        return this;
    }

    private static void Range(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} must be in [{min}, {max}]."));
        }
    }

    private static void Range(float value, float min, float max, string name)
    {
        if (!(value >= min && value <= max))
        {
            throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name} must be in [{min}, {max}]."));
        }
    }
}
