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

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
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
        for (var s = 0; s < Stages.Length; s++)
        {
            var net = Stages[s];
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
                    Weights = net == NetKind.PNet ? null : ReadWeights(previous ?? throw new InvalidOperationException("no mining weights")),
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
                : TrainingRun.Create(StageOptions(s, samples, previous), Path.GetDirectoryName(runFolder)!, TrainingRun.NetName(net));
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

    private TrainOptions StageOptions(int stage, string samples, string? previous)
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
