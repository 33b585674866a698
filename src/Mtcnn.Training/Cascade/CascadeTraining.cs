using System.Text.Json;
using System.Text.Json.Serialization;
using Mtcnn.Evaluation.Annotations;
using Mtcnn.Training.Data;
using Mtcnn.Training.Models;
using Mtcnn.Training.Training;

namespace Mtcnn.Training.Cascade;

/// <summary>Settings of a whole-cascade run (<c>mtcnn-train train-cascade</c>).</summary>
public sealed record CascadeOptions
{
    /// <summary>Where the annotated images come from.</summary>
    public DataSources Sources { get; init; } = new();

    /// <summary>Starting weights of every stage: <c>scratch</c>, <c>default</c> or a weight file (fine-tuning).</summary>
    public string Init { get; init; } = "scratch";

    /// <summary>The stages that are trained, in cascade order; the others keep <see cref="Init"/>'s networks (so a subset needs trained starting weights).</summary>
    public IReadOnlyList<NetKind> Stages { get; init; } = [NetKind.PNet, NetKind.RNet, NetKind.ONet];

    /// <summary>Layers kept fixed in every trained stage (<see cref="LayerFreeze"/>).</summary>
    public IReadOnlyList<string> Freeze { get; init; } = [];

    /// <summary>
    /// Share of the landmark list's images (of the selected lines) held out as whole images for whole-cascade
    /// validation, when <see cref="ValLandmarks"/> is not given; 0 = no whole-cascade validation.
    /// </summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>A separate validation list instead of held-out training images (never the images a claim is tested on).</summary>
    public string? ValLandmarks { get; init; }

    /// <summary>The folder of <see cref="ValLandmarks"/>' images; null = the list's folder.</summary>
    public string? ValImages { get; init; }

    /// <summary>The lines of <see cref="ValLandmarks"/> to use.</summary>
    public LineRange ValLines { get; init; } = LineRange.All;

    /// <summary>Early stopping: a stage ends after this many epochs without a new best on the validation images (0 = never).</summary>
    public int Patience { get; init; } = 3;

    /// <summary>Epochs for P-Net, R-Net and O-Net.</summary>
    public IReadOnlyList<int> Epochs { get; init; } = [10, 10, 10];

    /// <summary>Batch sizes for P-Net, R-Net and O-Net.</summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [512, 256, 128];

    /// <summary>Initial learning rates for P-Net, R-Net and O-Net.</summary>
    public IReadOnlyList<double> LearningRates { get; init; } = [0.001, 0.001, 0.001];

    /// <summary>The learning rate is multiplied by 0.1 after this fraction of each stage's epochs (0 = constant).</summary>
    public double DecayAt { get; init; } = 0.7;

    /// <summary>OHEM ratio.</summary>
    public double OhemRatio { get; init; } = 0.7;

    /// <summary>At most this many samples for P-Net, R-Net and O-Net (0 = all generated, balanced by the ratio).</summary>
    public IReadOnlyList<long> MaxSamples { get; init; } = [0, 0, 0];

    /// <summary>Smallest face the mining detector looks for (pixels).</summary>
    public float MiningMinFaceSize { get; init; } = 12f;

    /// <summary>
    /// Random negatives per image added to R-Net and O-Net data behind the mined ones (balancing takes mined samples
    /// first). Images that are mostly face, like the 80x80 landmark set, give the trained stages few false alarms to
    /// mine, and without these fill-ins the 3:1:1:2 ratio would cut every other kind down to the few mined negatives.
    /// </summary>
    public int FillNegativesPerImage { get; init; } = 10;

    /// <summary>Reuse mined positive/part crops of landmark faces as landmark samples (see <see cref="DataPreparationOptions.MinedLandmarks"/>).</summary>
    public bool MinedLandmarks { get; init; } = true;

    /// <summary>Seed of data preparation and training.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Threads for data preparation and libtorch (0 = defaults).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// The documented fine-tuning recipe, used by <c>train-cascade --init default|FILE</c> for every setting not given:
    /// only O-Net is trained, and only its box and landmark heads (<c>--stages onet --freeze trunk,face</c>), at most 4
    /// epochs at a constant 0.0001 on at most 50,000 samples mined with the starting P-Net and R-Net, the epoch kept by
    /// whole-cascade validation on 10 % of the images held out (early stop after 2 epochs without a new best). Which
    /// faces are found (the scores) stays exactly the starting weights'; only the final boxes and the points move, and
    /// heads that do not beat the starting ones on both validation numbers are not kept.
    /// </summary>
    /// <param name="init">The starting weights.</param>
    /// <returns>The options with the recipe's values (the data sources are still to be set).</returns>
    public static CascadeOptions FineTuneRecipe(string init) => new()
    {
        Init = init,
        Stages = [NetKind.ONet],
        Freeze = ["trunk", "face"],
        Epochs = [4, 4, 4],
        LearningRates = [0.0001, 0.0001, 0.0001],
        DecayAt = 0,
        MaxSamples = [0, 200_000, 50_000],
        Patience = 2,
    };

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (Stages is null || Stages.Count == 0 || Stages.Distinct().Count() != Stages.Count || !Stages.SequenceEqual(Stages.Order()))
        {
            throw new ArgumentException("stages: give one or more of pnet, rnet, onet, each once");
        }

        if (Stages.Count < 3 && Init == "scratch")
        {
            throw new ArgumentException("stages: training only some stages keeps the others from --init, so --init must be default or a weight file");
        }

        LayerFreeze.Validate(Freeze ?? throw new ArgumentException("freeze: the list must not be null"));
        if (ValidationFraction is < 0 or >= 1)
        {
            throw new ArgumentException($"the validation fraction must be in [0, 1) (got {ValidationFraction})");
        }

        if (Patience < 0)
        {
            throw new ArgumentException($"patience must be 0 or more (got {Patience})");
        }

        if (Epochs.Count != 3 || BatchSizes.Count != 3 || LearningRates.Count != 3 || MaxSamples.Count != 3)
        {
            throw new ArgumentException("epochs, batch sizes, learning rates and sample limits need three values each (P-Net, R-Net, O-Net)");
        }

        if (MaxSamples.Any(m => m < 0))
        {
            throw new ArgumentException("sample limits must not be negative");
        }

        if (DecayAt is < 0 or > 1)
        {
            throw new ArgumentException($"the decay point must be a fraction in [0, 1] (got {DecayAt})");
        }

        if (Sources.Landmarks is null && Sources.WiderAnnotations is null)
        {
            throw new ArgumentException("give a landmark list, a WIDER FACE box list, or both");
        }
    }

    /// <summary>The JSON form stored in <c>cascade.json</c>.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads <see cref="ToJson"/> output.</summary>
    /// <param name="json">The text.</param>
    /// <returns>The options.</returns>
    public static CascadeOptions FromJson(string json) => JsonSerializer.Deserialize<CascadeOptions>(json, Json) ?? throw new JsonException("null options");

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };
}

/// <summary>Receives progress of a cascade run.</summary>
public interface ICascadeObserver : ITrainingObserver
{
    /// <summary>A data-preparation phase advanced.</summary>
    /// <param name="stage">The network whose samples are prepared.</param>
    /// <param name="progress">The progress.</param>
    void OnPreparation(NetKind stage, PreparationProgress progress);

    /// <summary>An image or annotation line could not be used (the run goes on).</summary>
    /// <param name="issue">What and where.</param>
    void OnIssue(AnnotationIssue issue);
}

/// <summary>
/// The whole training pipeline in one resumable run, in the folder it owns:
/// <list type="number">
/// <item>P-Net samples (<c>data/pnet.samples</c>), P-Net training (<c>train/pnet</c>);</item>
/// <item>R-Net samples mined with the trained P-Net (<c>data/rnet.samples</c>), R-Net training (<c>train/rnet</c>);</item>
/// <item>O-Net samples mined with the trained P-Net and R-Net (<c>data/onet.samples</c>), O-Net training (<c>train/onet</c>);</item>
/// <item>the finished cascade as <c>weights.safetensors</c>.</item>
/// </list>
/// Every step leaves its result on disk atomically; running again with the same folder skips finished steps and
/// resumes an interrupted training from its last epoch checkpoint. The options are kept in <c>cascade.json</c>.
/// </summary>
public sealed class CascadeTraining
{
    /// <summary>The options file of a cascade folder.</summary>
    public const string OptionsFile = "cascade.json";

    /// <summary>The final weights' file name.</summary>
    public const string WeightsFileName = "weights.safetensors";

    private static readonly NetKind[] Stages = [NetKind.PNet, NetKind.RNet, NetKind.ONet];

    private CascadeTraining(string folder, CascadeOptions options)
    {
        Folder = folder;
        Options = options;
    }

    /// <summary>The run folder.</summary>
    public string Folder { get; }

    /// <summary>The options.</summary>
    public CascadeOptions Options { get; }

    /// <summary>Starts a new cascade run in <paramref name="folder"/>, which must be empty or absent.</summary>
    /// <param name="options">The options.</param>
    /// <param name="folder">The folder.</param>
    /// <returns>The run.</returns>
    /// <exception cref="IOException">The folder holds files.</exception>
    public static CascadeTraining Create(CascadeOptions options, string folder)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        RunFolder.CreateEmpty(folder, "choose a new folder, or continue the earlier run with --resume");
        AtomicFile.WriteText(Path.Combine(folder, OptionsFile), options.ToJson());
        return new CascadeTraining(Path.GetFullPath(folder), options);
    }

    /// <summary>Opens an earlier cascade run to continue it.</summary>
    /// <param name="folder">Its folder.</param>
    /// <returns>The run with its stored options.</returns>
    /// <exception cref="InvalidDataException">The folder is not a cascade run.</exception>
    public static CascadeTraining Open(string folder) =>
        new(Path.GetFullPath(folder), RunFolder.ReadOptions(folder, OptionsFile, "cascade run", CascadeOptions.FromJson, o => o.Validate()));

    /// <summary>The sample file of a stage.</summary>
    /// <param name="net">The stage.</param>
    /// <returns>The path.</returns>
    public string SamplesPath(NetKind net) => Path.Combine(Folder, "data", TrainingRun.NetName(net) + ".samples");

    /// <summary>The training run folder of a stage.</summary>
    /// <param name="net">The stage.</param>
    /// <returns>The path.</returns>
    public string RunPath(NetKind net) => Path.Combine(Folder, "train", TrainingRun.NetName(net));

    /// <summary>Runs (or continues) the pipeline.</summary>
    /// <param name="observer">Progress receiver, or null.</param>
    /// <param name="cancellationToken">Stops between images or batches.</param>
    /// <returns>The final weights file, or null when cancelled.</returns>
    public string? Run(ICascadeObserver? observer = null, CancellationToken cancellationToken = default)
    {
        var o = Options;
        IReadOnlyList<TrainingImage>? images = null;
        string? previous = o.Init is "scratch" or "default" ? null : o.Init;
        var validation = ResolveValidation(ref images, observer);
        for (var s = 0; s < Stages.Length; s++)
        {
            var net = Stages[s];
            if (!o.Stages.Contains(net))
            {
                observer?.OnMessage($"{TrainingRun.NetName(net)}: not trained, kept from {o.Init}");
                continue;
            }

            var samples = SamplesPath(net);
            if (!File.Exists(samples))
            {
                images ??= LoadImages(observer);
                observer?.OnMessage($"preparing {TrainingRun.NetName(net)} samples" + (previous is null ? string.Empty : $" (mining with {previous})"));
                var prep = DataPreparationOptions.For(ToStage(net)) with
                {
                    Seed = o.Seed,
                    MaxDegreeOfParallelism = o.Threads,
                    MaxSamples = o.MaxSamples[s],
                    MinFaceSize = o.MiningMinFaceSize,
                    Weights = net == NetKind.PNet ? null : previous is null ? MtcnnWeights.Default : ReadWeights(previous),
                };
                if (net != NetKind.PNet)
                {
                    prep = prep with { NegativesPerImage = o.FillNegativesPerImage, NearFaceNegatives = o.FillNegativesPerImage / 2, MinedLandmarks = o.MinedLandmarks };
                }

                var result = DataPreparation.Run(images, prep, p => observer?.OnPreparation(net, p), i => observer?.OnIssue(i), cancellationToken: cancellationToken);
                if (cancellationToken.IsCancellationRequested)
                {
                    return null;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(samples)!);
                result.Samples.Write(samples);
                observer?.OnMessage($"{TrainingRun.NetName(net)} samples: {result.Samples.Count:N0} ({result.Elapsed.TotalSeconds:F0} s)");
            }

            var runFolder = RunPath(net);
            var run = File.Exists(Path.Combine(runFolder, TrainingRun.OptionsFile))
                ? TrainingRun.Open(runFolder)
                : TrainingRun.Create(StageOptions(s, samples, previous, validation), Path.GetDirectoryName(runFolder)!, TrainingRun.NetName(net));
            var trained = run.Run(observer, cancellationToken);
            if (!trained.Completed)
            {
                return null;
            }

            previous = trained.WeightsFile;
        }

        var final = Path.Combine(Folder, WeightsFileName);
        AtomicFile.Write(final, stream =>
        {
            using var source = File.OpenRead(previous!);
            source.CopyTo(stream);
        });
        observer?.OnMessage($"cascade finished: {final}");
        return final;
    }

    /// <summary>The list of whole-cascade validation images a run holds out of its training lines.</summary>
    public string HeldOutListPath => Path.Combine(Folder, "data", "validation.txt");

    // The validation list, images folder and lines every stage validates on, or null for none. Held-out images are
    // removed from the training images here (before any preparation), the same way on every resume.
    private (string List, string? Images, LineRange Lines)? ResolveValidation(ref IReadOnlyList<TrainingImage>? images, ICascadeObserver? observer)
    {
        var o = Options;
        if (o.ValLandmarks is not null)
        {
            return (o.ValLandmarks, o.ValImages, o.ValLines);
        }

        if (o.ValidationFraction <= 0 || o.Sources.Landmarks is null)
        {
            observer?.OnMessage(o.Sources.Landmarks is null
                ? "no landmark list: no whole-cascade validation (give --val-landmarks); each stage's last epoch is its result"
                : "whole-cascade validation off (--val-fraction 0): each stage's last epoch is its result");
            return null;
        }

        images = LoadImages(observer);
        var (training, heldOut) = CascadeValidator.HoldOut(images, o.Sources.Landmarks, o.ValidationFraction, o.Seed, HeldOutListPath);
        if (heldOut == 0)
        {
            observer?.OnMessage($"no image held out for validation at --val-fraction {o.ValidationFraction}: each stage's last epoch is its result");
            return null;
        }

        images = training;
        observer?.OnMessage($"{heldOut:N0} landmark images held out for whole-cascade validation ({HeldOutListPath}); {training.Count:N0} left for training");
        var folder = o.Sources.LandmarkImages ?? Path.GetDirectoryName(Path.GetFullPath(o.Sources.Landmarks)) ?? ".";
        return (HeldOutListPath, folder, LineRange.All);
    }

    private TrainOptions StageOptions(int stage, string samples, string? previous, (string List, string? Images, LineRange Lines)? validation)
    {
        var o = Options;
        var epochs = o.Epochs[stage];
        var step = o.DecayAt > 0 && o.DecayAt < 1 ? (int)Math.Round(epochs * o.DecayAt) : 0;
        return new TrainOptions
        {
            Net = Stages[stage],
            Variant = ModelVariant.Original,
            Samples = samples,
            Init = o.Init,
            BaseWeights = previous,
            Epochs = epochs,
            BatchSize = o.BatchSizes[stage],
            LearningRate = o.LearningRates[stage],
            LearningRateSteps = step >= 1 && step < epochs ? [step] : [],
            OhemRatio = o.OhemRatio,
            Seed = o.Seed,
            Threads = o.Threads,
            Freeze = o.Freeze,
            ValLandmarks = validation?.List,
            ValImages = validation?.Images,
            ValLines = validation?.Lines ?? LineRange.All,
            Patience = o.Patience,
        };
    }

    private IReadOnlyList<TrainingImage> LoadImages(ICascadeObserver? observer)
    {
        var (images, issues) = Options.Sources.Load();
        foreach (var issue in issues)
        {
            observer?.OnIssue(issue);
        }

        observer?.OnMessage($"{images.Count:N0} annotated images");
        return images;
    }

    private static CascadeStage ToStage(NetKind net) => net switch
    {
        NetKind.PNet => CascadeStage.PNet,
        NetKind.RNet => CascadeStage.RNet,
        _ => CascadeStage.ONet,
    };

    private static MtcnnWeights ReadWeights(string path)
    {
        using var stream = File.OpenRead(path);
        return MtcnnWeights.Read(stream);
    }
}
