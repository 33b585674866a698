using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mtcnn.Training.Models;

namespace Mtcnn.Training.Training;

/// <summary>The optimisers the trainer offers.</summary>
public enum OptimizerKind
{
    /// <summary>Adam (Kingma and Ba 2015) with bias correction.</summary>
    Adam,

    /// <summary>Stochastic gradient descent with (optional) momentum.</summary>
    Sgd,
}

/// <summary>
/// Everything that decides a training run. The resolved options are written to <c>options.json</c> in the run folder,
/// and <c>--resume</c> reads them back, so a resumed run continues with exactly the settings it started with.
/// </summary>
public sealed record TrainOptions
{
    /// <summary>Which network to train.</summary>
    public NetKind Net { get; init; } = NetKind.PNet;

    /// <summary>The architecture variant.</summary>
    public ModelVariant Variant { get; init; } = ModelVariant.Original;

    /// <summary>The sample file written by <c>prepare-data</c>.</summary>
    public string Samples { get; init; } = string.Empty;

    /// <summary>
    /// Where the starting weights come from: <c>scratch</c> (random initialisation), <c>default</c> (the bundled
    /// original weights) or a weight file. Also the base cascade the trained network is merged into on export.
    /// </summary>
    public string Init { get; init; } = "scratch";

    /// <summary>
    /// The weight file whose other two networks complete the exported cascade; null = the <see cref="Init"/> file when
    /// it is one, else the bundled weights (original variant). Required for the reference variant from scratch.
    /// </summary>
    public string? BaseWeights { get; init; }

    /// <summary>Number of passes over the training samples.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>The optimiser.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>The initial learning rate.</summary>
    public double LearningRate { get; init; } = 0.001;

    /// <summary>Epochs (1-based) after which the learning rate is multiplied by <see cref="LearningRateGamma"/>.</summary>
    public IReadOnlyList<int> LearningRateSteps { get; init; } = [];

    /// <summary>The factor applied at each step of the schedule.</summary>
    public double LearningRateGamma { get; init; } = 0.1;

    /// <summary>SGD momentum (ignored by Adam).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay added to the gradients.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Online hard sample mining: the fraction of classification losses per batch that is kept (1 = off).</summary>
    public double OhemRatio { get; init; } = 0.7;

    /// <summary>Weight of the face-classification loss; null = the paper's default for the net.</summary>
    public double? ClassWeight { get; init; }

    /// <summary>Weight of the box-regression loss; null = the paper's default for the net.</summary>
    public double? BoxWeight { get; init; }

    /// <summary>Weight of the landmark loss; null = the paper's default for the net.</summary>
    public double? LandmarkWeight { get; init; }

    /// <summary>Fraction of source images whose samples are held out for validation.</summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>The face-probability threshold used for validation precision and recall; null = the cascade default of the stage (0.6 / 0.7 / 0.7).</summary>
    public double? Threshold { get; init; }

    /// <summary>Layers kept fixed (see <see cref="LayerFreeze"/>): groups <c>conv</c>, <c>trunk</c>, <c>face</c>, <c>box</c>, <c>landmarks</c> or layer names. Empty = train everything.</summary>
    public IReadOnlyList<string> Freeze { get; init; } = [];

    /// <summary>
    /// A landmark list (CNN_FacePoint layout) of validation images: after every epoch the whole cascade (the trained
    /// network merged into its base) runs on them, its detection rate and landmark error go into metrics.csv, the run
    /// keeps the best epoch's weights (<see cref="Cascade.CascadeSelection"/>) and stops early after
    /// <see cref="Patience"/> epochs without a new best. Null = no whole-cascade validation (the last epoch is the result).
    /// </summary>
    public string? ValLandmarks { get; init; }

    /// <summary>The folder <see cref="ValLandmarks"/>' image paths are relative to; null = the list's folder.</summary>
    public string? ValImages { get; init; }

    /// <summary>The lines of <see cref="ValLandmarks"/> to use. Default: all.</summary>
    public Mtcnn.Evaluation.Annotations.LineRange ValLines { get; init; } = Mtcnn.Evaluation.Annotations.LineRange.All;

    /// <summary>With whole-cascade validation: stop after this many epochs without a new best (0 = run every epoch).</summary>
    public int Patience { get; init; } = 3;

    /// <summary>
    /// When R-/O-Net's whole trunk is frozen (see <see cref="Freeze"/>), compute its features for every sample (and its
    /// mirror image) once, in sample order, and train the heads on them: the same arithmetic per sample as running
    /// the whole net every batch, without repeating the frozen trunk each epoch. False = run the whole net every batch.
    /// </summary>
    public bool CacheFrozenTrunk { get; init; } = true;

    /// <summary>Mirror each training sample with probability 1/2 (box and landmark targets mirrored with it).</summary>
    public bool Flip { get; init; } = true;

    /// <summary>Seed for initialisation, the validation split, shuffling and flips.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Intra-op threads of libtorch (0 = leave libtorch's default).</summary>
    public int Threads { get; init; }

    /// <summary>Stop after this many batches of each epoch (0 = all); for quick experiments and tests.</summary>
    public int MaxBatchesPerEpoch { get; init; }

    /// <summary>The paper's task weights (classification, box, landmark): P/R 1, 0.5, 0.5; O 1, 0.5, 1.</summary>
    [JsonIgnore]
    public (double Class, double Box, double Landmark) TaskWeights =>
        (ClassWeight ?? 1.0, BoxWeight ?? 0.5, LandmarkWeight ?? (Net == NetKind.ONet ? 1.0 : 0.5));

    /// <summary>The validation threshold in effect.</summary>
    [JsonIgnore]
    public double EffectiveThreshold => Threshold ?? (Net == NetKind.PNet ? 0.6 : 0.7);

    /// <summary>The crop size of the net's samples.</summary>
    [JsonIgnore]
    public int InputSize => Net switch { NetKind.PNet => 12, NetKind.RNet => 24, _ => 48 };

    /// <summary>Checks every value; throws with a message naming the option.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message);
            }
        }

        Check(!string.IsNullOrWhiteSpace(Samples), "samples: a sample file is required");
        Check(Epochs is >= 1 and <= 100_000, $"epochs must be 1 or more (got {Epochs})");
        Check(BatchSize is >= 2 and <= 65_536, $"batch size must be 2..65536 (got {BatchSize})");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), $"learning rate must be positive (got {LearningRate})");
        Check(LearningRateGamma > 0 && LearningRateGamma <= 1, $"learning-rate gamma must be in (0, 1] (got {LearningRateGamma})");
        Check(LearningRateSteps.All(s => s >= 1), "learning-rate steps are 1-based epoch numbers");
        Check(Momentum is >= 0 and < 1, $"momentum must be in [0, 1) (got {Momentum})");
        Check(WeightDecay >= 0, $"weight decay must not be negative (got {WeightDecay})");
        Check(OhemRatio is > 0 and <= 1, $"OHEM ratio must be in (0, 1] (got {OhemRatio})");
        Check(ClassWeight is null or >= 0 && BoxWeight is null or >= 0 && LandmarkWeight is null or >= 0, "task weights must not be negative");
        Check(ValidationFraction is >= 0 and < 1, $"validation fraction must be in [0, 1) (got {ValidationFraction})");
        Check(Threshold is null or (> 0 and < 1), $"threshold must be in (0, 1) (got {Threshold})");
        Check(Threads is >= 0 and <= 1024, $"threads must be 0..1024 (got {Threads})");
        Check(MaxBatchesPerEpoch >= 0, "max batches per epoch must not be negative");
        Check(Freeze is not null, "freeze: the list must not be null");
        Check(Patience is >= 0 and <= 100_000, $"patience must be 0 or more (got {Patience})");
        Check(ValLandmarks is null || ValLandmarks.Length > 0, "validation list: the path is empty");
        LayerFreeze.Validate(Freeze!);
    }

    /// <summary>The learning rate during an epoch (1-based): the initial rate times gamma per step already passed.</summary>
    /// <param name="epoch">The epoch, 1-based.</param>
    /// <returns>The rate.</returns>
    public double LearningRateAt(int epoch) =>
        LearningRate * Math.Pow(LearningRateGamma, LearningRateSteps.Count(s => epoch > s));

    /// <summary>The options as indented JSON (enums as names).</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads options written by <see cref="ToJson"/>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The options.</returns>
    /// <exception cref="JsonException">The text is not valid options JSON.</exception>
    public static TrainOptions FromJson(string json) =>
        JsonSerializer.Deserialize<TrainOptions>(json, JsonOptions) ?? throw new JsonException("the options file holds null");

    /// <summary>A one-line summary for logs.</summary>
    /// <returns>The summary.</returns>
    public string Describe()
    {
        var (c, b, l) = TaskWeights;
        return string.Create(CultureInfo.InvariantCulture,
            $"{Net} ({ModelVariantName(Variant)}), {Epochs} epochs, batch {BatchSize}, {Optimizer} lr {LearningRate} steps [{string.Join(',', LearningRateSteps)}] x{LearningRateGamma}, OHEM {OhemRatio}, weights cls {c} box {b} landmarks {l}, init {Init}{(Freeze.Count == 0 ? string.Empty : ", frozen " + string.Join(',', Freeze))}, seed {Seed}");
    }

    private static string ModelVariantName(ModelVariant v) => MtcnnWeights.VariantName(v);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };
}
