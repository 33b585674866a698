using System.Diagnostics;
using System.Globalization;
using System.Text;
using Mtcnn.Training.Cascade;
using Mtcnn.Training.Data;
using Mtcnn.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtcnn.Training.Training;

/// <summary>Receives progress from a training run (the CLI prints it; tests may record it).</summary>
public interface ITrainingObserver
{
    /// <summary>A training batch finished.</summary>
    /// <param name="epoch">The epoch, 1-based.</param>
    /// <param name="epochs">The run's number of epochs.</param>
    /// <param name="batch">Batches done in this epoch.</param>
    /// <param name="batches">Batches in this epoch.</param>
    /// <param name="loss">The batch's weighted loss.</param>
    void OnBatch(int epoch, int epochs, int batch, int batches, double loss);

    /// <summary>An epoch finished and its checkpoint is on disk.</summary>
    /// <param name="metrics">What it measured.</param>
    void OnEpoch(EpochMetrics metrics);

    /// <summary>A line of information.</summary>
    /// <param name="message">The text.</param>
    void OnMessage(string message);
}

/// <summary>The outcome of <see cref="TrainingRun.Run"/>.</summary>
/// <param name="Folder">The run folder.</param>
/// <param name="History">All epochs so far (including those of earlier, resumed sessions).</param>
/// <param name="WeightsFile">The exported weight file.</param>
/// <param name="Completed">False when the run was cancelled before its last epoch.</param>
public sealed record TrainingResult(string Folder, IReadOnlyList<EpochMetrics> History, string WeightsFile, bool Completed)
{
    /// <summary>The starting weights' whole-cascade score (epoch 0), when the run validates the cascade and did not start from scratch.</summary>
    public EpochMetrics? Start { get; init; }

    /// <summary>
    /// The epoch whose weights <see cref="WeightsFile"/> holds: the last one without whole-cascade validation, the
    /// selected one with it (0 = the starting weights were kept because no epoch beat them).
    /// </summary>
    public int KeptEpoch { get; init; }

    /// <summary>Why <see cref="KeptEpoch"/> was kept (also in <c>selection.txt</c>); empty without whole-cascade validation.</summary>
    public string Selection { get; init; } = string.Empty;

    /// <summary>True when early stopping ended the run before its last epoch.</summary>
    public bool StoppedEarly { get; init; }
}

/// <summary>What training and cascade run folders have in common: they start empty and keep their options as JSON.</summary>
internal static class RunFolder
{
    /// <summary>Creates <paramref name="folder"/>, which must be absent or empty.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="advice">What to do instead, for the message (the folder is appended).</param>
    /// <exception cref="IOException">The folder holds files.</exception>
    public static void CreateEmpty(string folder, string advice)
    {
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
        {
            throw new IOException($"{folder}: the folder is not empty; {advice} {folder}");
        }

        Directory.CreateDirectory(folder);
    }

    /// <summary>Reads and validates the options file of a run folder.</summary>
    /// <typeparam name="T">The options type.</typeparam>
    /// <param name="folder">The run folder.</param>
    /// <param name="fileName">The options file's name.</param>
    /// <param name="what">What kind of folder it is, for messages.</param>
    /// <param name="parse">Parses the JSON text.</param>
    /// <param name="validate">Checks the values (throws <see cref="ArgumentException"/>).</param>
    /// <returns>The options.</returns>
    /// <exception cref="InvalidDataException">The file is missing or unreadable.</exception>
    public static T ReadOptions<T>(string folder, string fileName, string what, Func<string, T> parse, Action<T> validate)
    {
        var path = Path.Combine(folder, fileName);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{folder}: not a {what} folder ({fileName} is missing)");
        }

        try
        {
            var options = parse(File.ReadAllText(path));
            validate(options);
            return options;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException or IOException)
        {
            throw new InvalidDataException($"{path}: unreadable options: {e.Message}", e);
        }
    }
}

/// <summary>
/// One training run in its folder (<c>runs/train/pnet1</c>, …). The folder holds <c>options.json</c> (the resolved
/// options), <c>checkpoint.ckpt</c> (after every epoch), <c>metrics.csv</c>, the curves (<c>loss.png</c>,
/// <c>accuracy.png</c>, <c>regression.png</c>) and <c>weights.safetensors</c>, the trained network merged into its base
/// cascade, ready for <c>mtcnn detect --weights FOLDER</c>.
/// </summary>
public sealed class TrainingRun
{
    /// <summary>The options file name.</summary>
    public const string OptionsFile = "options.json";

    /// <summary>The metrics file name.</summary>
    public const string MetricsFile = "metrics.csv";

    /// <summary>The exported weights' file name.</summary>
    public const string WeightsFileName = "weights.safetensors";

    private TrainingRun(string folder, TrainOptions options)
    {
        Folder = folder;
        Options = options;
    }

    /// <summary>The run folder.</summary>
    public string Folder { get; }

    /// <summary>The resolved options.</summary>
    public TrainOptions Options { get; }

    /// <summary>Name of the run (the folder's name).</summary>
    public string Name => Path.GetFileName(Folder.TrimEnd(Path.DirectorySeparatorChar));

    /// <summary>Creates a fresh run folder <c>{root}/{net}{N}</c> with the smallest unused N ≥ 1 (or <c>{root}/{name}</c>) and writes the options.</summary>
    /// <param name="options">The options (validated here).</param>
    /// <param name="root">The parent folder, e.g. <c>runs/train</c>.</param>
    /// <param name="name">An explicit folder name; it must not exist yet. Null = automatic.</param>
    /// <returns>The run.</returns>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    /// <exception cref="IOException">The named folder exists already.</exception>
    public static TrainingRun Create(TrainOptions options, string root, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Directory.CreateDirectory(root);
        string folder;
        if (name is not null)
        {
            folder = Path.Combine(root, name);
            RunFolder.CreateEmpty(folder, "pick another --name or use --resume");
        }
        else
        {
            var prefix = NetName(options.Net);
            for (var n = 1; ; n++)
            {
                folder = Path.Combine(root, prefix + n.ToString(CultureInfo.InvariantCulture));
                if (!Directory.Exists(folder))
                {
                    try
                    {
                        // CreateDirectory succeeds on an existing folder, so claim it with a marker file that only one process can create.
                        Directory.CreateDirectory(folder);
                        using var claim = new FileStream(Path.Combine(folder, OptionsFile), FileMode.CreateNew);
                        break;
                    }
                    catch (IOException)
                    {
                    }
                }
            }
        }

        AtomicFile.WriteText(Path.Combine(folder, OptionsFile), options.ToJson());
        return new TrainingRun(Path.GetFullPath(folder), options);
    }

    /// <summary>Opens an existing run folder to continue it.</summary>
    /// <param name="folder">The run folder.</param>
    /// <returns>The run with its stored options.</returns>
    /// <exception cref="InvalidDataException">The folder holds no or unreadable options.</exception>
    public static TrainingRun Open(string folder) =>
        new(Path.GetFullPath(folder), RunFolder.ReadOptions(folder, OptionsFile, "training run", TrainOptions.FromJson, o => o.Validate()));

    /// <summary>The file name prefix of a net: <c>pnet</c>, <c>rnet</c>, <c>onet</c>.</summary>
    /// <param name="net">The net.</param>
    /// <returns>The name.</returns>
    public static string NetName(NetKind net) => net switch
    {
        NetKind.PNet => "pnet",
        NetKind.RNet => "rnet",
        _ => "onet",
    };

    /// <summary>
    /// Trains from the last checkpoint (or from the start) up to the configured number of epochs. After every epoch
    /// it writes the checkpoint, metrics.csv, the plots and the exported weights. Cancellation is honoured between
    /// batches; the work of the unfinished epoch is dropped and a later call repeats it exactly.
    /// </summary>
    /// <param name="observer">Progress receiver, or null.</param>
    /// <param name="cancellationToken">Stops the run between batches.</param>
    /// <returns>The outcome.</returns>
    /// <exception cref="InvalidDataException">The sample file or the checkpoint does not fit these options.</exception>
    public TrainingResult Run(ITrainingObserver? observer = null, CancellationToken cancellationToken = default)
    {
        var o = Options;
        if (o.Threads > 0)
        {
            torch.set_num_threads(o.Threads);
        }

        var samples = LoadSamples(o);
        var batches = new SampleBatches(samples, o.Variant, o.ValidationFraction, o.Seed);
        if (batches.Training.Count == 0)
        {
            throw new InvalidDataException($"{o.Samples}: no training samples left after holding out {o.ValidationFraction:P0} of the source images");
        }

        torch.manual_seed(o.Seed);
        using var net = MtcnnNets.Create(o.Net, o.Variant);
        var baseWeights = InitialiseAndFindBase(net, o, observer);
        var named = net.named_parameters().Select(p => (p.name, p.parameter)).ToArray();
        LayerFreeze.CheckAgainst(o.Freeze, o.Net, named.Select(p => p.name).ToArray());
        foreach (var (name, p) in named)
        {
            if (LayerFreeze.IsFrozen(o.Freeze, o.Net, name))
            {
                p.requires_grad = false;
            }
        }

        var trainable = named.Where(p => p.parameter.requires_grad).ToArray();
        using var optimizer = new ParameterOptimizer(trainable, o.Optimizer, o.Momentum, o.WeightDecay);

        var (start, history) = ReadHistory();
        var validator = OpenValidator(o, baseWeights);
        var checkpointPath = Path.Combine(Folder, TrainingCheckpoint.FileName);
        var startEpoch = 1;
        if (File.Exists(checkpointPath))
        {
            var checkpoint = TrainingCheckpoint.Read(checkpointPath);
            Restore(net, optimizer, checkpoint, named);
            startEpoch = checkpoint.Epoch + 1;
            history = history.Where(m => m.Epoch <= checkpoint.Epoch).ToList();
            observer?.OnMessage($"resuming {Name} after epoch {checkpoint.Epoch} (optimiser step {checkpoint.OptimizerStep})");
        }

        observer?.OnMessage($"{Name}: {o.Describe()}");
        observer?.OnMessage($"{batches.Training.Count:N0} training and {batches.Validation.Count:N0} validation samples ({samples.Size}x{samples.Size})");
        var weightsPath = Path.Combine(Folder, WeightsFileName);
        if (validator is not null)
        {
            observer?.OnMessage($"whole-cascade validation after every epoch on {validator.Count:N0} faces of {validator.Source}; early stop after {o.Patience} epochs without a new best");
            if (o.Init != "scratch" && start is null && history.Count == 0)
            {
                // The starting weights are the bar every epoch must clear, and the result when none does.
                // Not cancelled midway (it takes about a second); a stop request is seen right after.
                var score = validator.Evaluate(Export(net, baseWeights, 0), CancellationToken.None);
                start = new EpochMetrics { Epoch = 0, CascadeEvaluated = score.Evaluated, CascadeDetected = score.Detected, CascadeNme = score.Nme };
                ExportWeights(net, baseWeights, 0);
                WriteMetrics(start, history);
                observer?.OnEpoch(start);
            }
        }

        var buffers = new BatchBuffers();
        // Computed before the first epoch that trains (not when a resumed run turns out to be finished).
        TrunkFeatures? trunk = null;
        using var trunkOwner = new DisposeLater(() => trunk?.Dispose());
        var stoppedEarly = false;
        for (var epoch = startEpoch; epoch <= o.Epochs; epoch++)
        {
            if (validator is not null && CascadeSelection.ShouldStop(start?.CascadeScore, Scores(history), o.Patience))
            {
                stoppedEarly = true;
                observer?.OnMessage($"{Name}: no new best on the validation images for {o.Patience} epochs; stopping before epoch {epoch}");
                break;
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return new TrainingResult(Folder, history, weightsPath, false) { Start = start };
            }

            trunk ??= TrunkFeatures.TryCompute(net, o, batches, buffers, observer, cancellationToken);
            var metrics = TrainEpoch(net, optimizer, batches, buffers, trunk, epoch, observer, cancellationToken);
            if (metrics is null)
            {
                return new TrainingResult(Folder, history, weightsPath, false) { Start = start };
            }

            MtcnnWeights? exported = null;
            if (validator is not null)
            {
                var clock = Stopwatch.StartNew();
                exported = Export(net, baseWeights, epoch);
                var score = validator.Evaluate(exported, CancellationToken.None);
                observer?.OnMessage(string.Create(CultureInfo.InvariantCulture, $"{Name} epoch {epoch} time: whole-cascade validation {clock.Elapsed.TotalSeconds:F1} s"));
                metrics = metrics with
                {
                    CascadeEvaluated = score.Evaluated,
                    CascadeDetected = score.Detected,
                    CascadeNme = score.Nme,
                    Seconds = metrics.Seconds + clock.Elapsed.TotalSeconds,
                };
            }

            history.Add(metrics);
            var kept = validator is null ? epoch : CascadeSelection.Select(start?.CascadeScore, Scores(history));
            SaveEpoch(net, optimizer, named, baseWeights, start, history, epoch, exported, kept == epoch);
            observer?.OnEpoch(metrics);
        }

        if (!File.Exists(weightsPath))
        {
            // Nothing was trained in this call (all epochs were done before): make sure the export exists anyway.
            ExportWeights(net, baseWeights, history.Count);
        }

        if (validator is null)
        {
            return new TrainingResult(Folder, history, weightsPath, true) { KeptEpoch = history.Count == 0 ? 0 : history[^1].Epoch };
        }

        var keptEpoch = CascadeSelection.Select(start?.CascadeScore, Scores(history));
        var selection = DescribeSelection(start, history, keptEpoch, validator.Count);
        AtomicFile.WriteText(Path.Combine(Folder, SelectionFile), selection + "\n");
        observer?.OnMessage($"{Name}: {selection}");
        return new TrainingResult(Folder, history, weightsPath, true) { Start = start, KeptEpoch = keptEpoch, Selection = selection, StoppedEarly = stoppedEarly };
    }

    /// <summary>The file that says which epoch a validated run kept and why.</summary>
    public const string SelectionFile = "selection.txt";

    /// <summary>The last epoch's weights of a run with whole-cascade validation (weights.safetensors holds the kept epoch's).</summary>
    public const string LastWeightsFileName = "last.safetensors";

    private static List<(int Epoch, CascadeScore Score)> Scores(IEnumerable<EpochMetrics> history) =>
        history.Where(m => m.CascadeScore is not null).Select(m => (m.Epoch, m.CascadeScore!)).ToList();

    private string DescribeSelection(EpochMetrics? start, List<EpochMetrics> history, int kept, int faces)
    {
        var net = NetName(Options.Net);
        var startText = start?.CascadeScore is { } s ? $"start {s.Describe()}" : "trained from scratch";
        if (kept == 0)
        {
            var bestTrained = CascadeSelection.Select(null, Scores(history));
            var best = history.FirstOrDefault(m => m.Epoch == bestTrained)?.CascadeScore;
            return $"kept the starting {net} (epoch 0): no epoch found at least as many of the {faces} validation faces with a landmark error at most the starting one ({startText}; best trained epoch {bestTrained}: {best?.Describe() ?? "none"})";
        }

        var k = history.First(m => m.Epoch == kept).CascadeScore!;
        return $"kept epoch {kept} of {history.Count}: {k.Describe()} on the {faces} validation faces ({startText}); the most faces found, then the lowest landmark error" +
            (start is null ? string.Empty : ", never below the start on either");
    }

    private static CascadeValidator? OpenValidator(TrainOptions o, MtcnnWeights? baseWeights)
    {
        if (o.ValLandmarks is null)
        {
            return null;
        }

        if (baseWeights is null)
        {
            throw new InvalidDataException($"{o.ValLandmarks}: whole-cascade validation needs the other two networks; pass --base");
        }

        return CascadeValidator.FromList(o.ValLandmarks, o.ValImages, o.ValLines, o.Threads);
    }

    private EpochMetrics? TrainEpoch(MtcnnNet net, ParameterOptimizer optimizer, SampleBatches batches, BatchBuffers buffers, TrunkFeatures? trunk, int epoch, ITrainingObserver? observer, CancellationToken cancellationToken)
    {
        var o = Options;
        var clock = Stopwatch.StartNew();
        var order = batches.EpochOrder(epoch);
        var count = (order.Length + o.BatchSize - 1) / o.BatchSize;
        if (o.MaxBatchesPerEpoch > 0)
        {
            count = Math.Min(count, o.MaxBatchesPerEpoch);
        }

        var lr = o.LearningRateAt(epoch);
        double sumLoss = 0, sumClass = 0, sumBox = 0, sumMarks = 0;
        long correct = 0, classSamples = 0, seen = 0;
        var flips = new bool[o.BatchSize];
        var profile = new EpochProfile();
        net.train();
        for (var b = 0; b < count; b++)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return null;
            }

            var start = b * o.BatchSize;
            var n = Math.Min(o.BatchSize, order.Length - start);
            var indices = order.AsSpan(start, n);
            for (var k = 0; k < n; k++)
            {
                flips[k] = o.Flip && batches.FlipAt(epoch, indices[k]);
            }

            var t0 = Stopwatch.GetTimestamp();
            batches.Encode(indices, flips.AsSpan(0, n), buffers);
            using var scope = torch.NewDisposeScope();
            var (input, labels, boxes, marks) = ToTensors(buffers);
            var features = trunk?.Gather(indices, flips.AsSpan(0, n));
            var t1 = Stopwatch.GetTimestamp();
            var output = trunk is null ? net.forward(input) : trunk.Net.ForwardHeads(features!);
            var t2 = Stopwatch.GetTimestamp();
            var loss = MultiTaskLoss.Compute(output, labels, boxes, marks, o.Variant, o.TaskWeights, o.OhemRatio);
            var t3 = Stopwatch.GetTimestamp();
            optimizer.ZeroGrad();
            loss.Total.backward();
            var t4 = Stopwatch.GetTimestamp();
            optimizer.Update(lr);
            var t5 = Stopwatch.GetTimestamp();
            profile.Add(t0, t1, t2, t3, t4, t5);

            var total = loss.Total.item<float>();
            if (!float.IsFinite(total))
            {
                throw new InvalidOperationException($"{Name}: the loss became {total} in epoch {epoch}, batch {b + 1}; lower the learning rate (now {lr})");
            }

            sumLoss += total;
            sumClass += loss.Class;
            sumBox += loss.Box;
            sumMarks += loss.Landmark;
            correct += loss.Correct;
            classSamples += loss.ClassSamples;
            seen += n;
            observer?.OnBatch(epoch, o.Epochs, b + 1, count, total);
        }

        var trainSeconds = clock.Elapsed.TotalSeconds;
        var validationStart = Stopwatch.GetTimestamp();
        var validated = Validate(net, batches, buffers, trunk);
        observer?.OnMessage(profile.Describe(Name, epoch, trainSeconds, Stopwatch.GetElapsedTime(validationStart).TotalSeconds));
        var metrics = validated with
        {
            Epoch = epoch,
            LearningRate = lr,
            TrainLoss = sumLoss / count,
            TrainClassLoss = sumClass / count,
            TrainBoxLoss = sumBox / count,
            TrainLandmarkLoss = sumMarks / count,
            TrainAccuracy = classSamples == 0 ? double.NaN : (double)correct / classSamples,
            SamplesPerSecond = seen / Math.Max(trainSeconds, 1e-9),
        };
        return metrics with { Seconds = clock.Elapsed.TotalSeconds };
    }

    private EpochMetrics Validate(MtcnnNet net, SampleBatches batches, BatchBuffers buffers, TrunkFeatures? trunk)
    {
        var o = Options;
        if (batches.Validation.Count == 0)
        {
            return new EpochMetrics();
        }

        net.eval();
        using var noGrad = torch.no_grad();
        double classLossSum = 0, boxSq = 0, markDistance = 0, markSq = 0;
        long classCount = 0, boxCount = 0, markPoints = 0, tp = 0, fp = 0, tn = 0, fn = 0;
        var all = batches.Validation.ToArray();
        for (var start = 0; start < all.Length; start += o.BatchSize)
        {
            var n = Math.Min(o.BatchSize, all.Length - start);
            batches.Encode(all.AsSpan(start, n), ReadOnlySpan<bool>.Empty, buffers);
            using var scope = torch.NewDisposeScope();
            var (input, labels, boxes, marks) = ToTensors(buffers);
            var output = trunk is null ? net.forward(input) : trunk.Net.ForwardHeads(trunk.Gather(all.AsSpan(start, n), ReadOnlySpan<bool>.Empty));
            var probability = MultiTaskLoss.FaceProbability(output.FaceLogits, o.Variant).data<float>().ToArray();
            var perSample = o.Variant == ModelVariant.Original
                ? torch.nn.functional.cross_entropy(output.FaceLogits, labels.clamp(0, 1), reduction: nn.Reduction.None)
                : torch.nn.functional.binary_cross_entropy_with_logits(output.FaceLogits.squeeze(1), labels.clamp(0, 1).to(ScalarType.Float32), reduction: nn.Reduction.None);
            var classLoss = perSample.data<float>().ToArray();
            var boxOut = output.Box.data<float>().ToArray();
            var markOut = output.Landmarks.data<float>().ToArray();
            for (var k = 0; k < n; k++)
            {
                var label = buffers.Labels[k];
                if (label >= 0)
                {
                    classLossSum += classLoss[k];
                    classCount++;
                    var positive = probability[k] > o.EffectiveThreshold;
                    if (label == 1)
                    {
                        if (positive) { tp++; } else { fn++; }
                    }
                    else
                    {
                        if (positive) { fp++; } else { tn++; }
                    }
                }

                if (label != 0)
                {
                    for (var c = 0; c < 4; c++)
                    {
                        var d = boxOut[k * 4 + c] - buffers.Boxes[k * 4 + c];
                        boxSq += d * d;
                    }

                    boxCount += 4;
                }

                if (label == -2)
                {
                    for (var p = 0; p < 5; p++)
                    {
                        var dx = markOut[k * 10 + 2 * p] - buffers.Landmarks[k * 10 + 2 * p];
                        var dy = markOut[k * 10 + 2 * p + 1] - buffers.Landmarks[k * 10 + 2 * p + 1];
                        markDistance += Math.Sqrt(dx * dx + dy * dy);
                        markSq += dx * dx + dy * dy;
                    }

                    markPoints += 5;
                }
            }
        }

        var (wc, wb, wl) = o.TaskWeights;
        var cls = classCount == 0 ? 0 : classLossSum / classCount;
        var boxMse = boxCount == 0 ? 0 : boxSq / boxCount;
        // The landmark part of the validation loss is the mean squared coordinate error, like the training loss.
        var markMse = markPoints == 0 ? 0 : markSq / (markPoints * 2);
        return new EpochMetrics
        {
            ValClassLoss = classCount == 0 ? double.NaN : cls,
            ValLoss = wc * cls + wb * boxMse + wl * markMse,
            ValAccuracy = classCount == 0 ? double.NaN : (double)(tp + tn) / classCount,
            ValPrecision = tp + fp == 0 ? double.NaN : (double)tp / (tp + fp),
            ValRecall = tp + fn == 0 ? double.NaN : (double)tp / (tp + fn),
            ValBoxError = boxCount == 0 ? double.NaN : Math.Sqrt(boxMse),
            ValLandmarkError = markPoints == 0 ? double.NaN : markDistance / markPoints,
        };
    }

    private static (Tensor Input, Tensor Labels, Tensor Boxes, Tensor Landmarks) ToTensors(BatchBuffers b)
    {
        var n = b.Count;
        var input = torch.tensor(b.Input, [n, 3, b.Size, b.Size]);
        var labels = torch.tensor(b.Labels, [n]);
        var boxes = torch.tensor(b.Boxes, [n, 4]);
        var marks = torch.tensor(b.Landmarks, [n, 10]);
        return (input, labels, boxes, marks);
    }

    private void SaveEpoch(MtcnnNet net, ParameterOptimizer optimizer, (string Name, TorchSharp.Modules.Parameter Parameter)[] named, MtcnnWeights? baseWeights, EpochMetrics? start, List<EpochMetrics> history, int epoch, MtcnnWeights? exported, bool isKept)
    {
        var tensors = new Dictionary<string, (long[], float[])>(StringComparer.Ordinal);
        foreach (var (name, p) in named)
        {
            tensors["model." + name] = (p.shape, p.data<float>().ToArray());
        }

        foreach (var (name, shape, values) in optimizer.ExportState())
        {
            tensors[name] = (shape, values);
        }

        // Order matters for a crash between writes: the exported weights, metrics and plots first, the checkpoint last,
        // so a checkpoint never claims an epoch whose outputs are missing.
        if (exported is null)
        {
            ExportWeights(net, baseWeights, epoch);
        }
        else
        {
            AtomicFile.Write(Path.Combine(Folder, LastWeightsFileName), exported.Write);
            if (isKept)
            {
                AtomicFile.Write(Path.Combine(Folder, WeightsFileName), exported.Write);
            }
        }

        WriteMetrics(start, history);
        new TrainingCheckpoint(epoch, optimizer.Step, tensors).Write(Path.Combine(Folder, TrainingCheckpoint.FileName), Options.Variant);
    }

    private void WriteMetrics(EpochMetrics? start, List<EpochMetrics> history)
    {
        var csv = new StringBuilder(EpochMetrics.CsvHeader).Append('\n');
        foreach (var m in start is null ? history : history.Prepend(start))
        {
            csv.Append(m.ToCsv()).Append('\n');
        }

        AtomicFile.WriteText(Path.Combine(Folder, MetricsFile), csv.ToString());
        TrainingPlots.Write(start is null ? history : [start, .. history], Folder, Name);
    }

    private MtcnnWeights Export(MtcnnNet net, MtcnnWeights? baseWeights, int epoch)
    {
        var meta = new Dictionary<string, string>
        {
            ["source"] = epoch == 0 ? $"Mtcnn.NET training run {Name}, starting weights ({Options.Init})" : $"Mtcnn.NET training run {Name}, epoch {epoch}",
            ["training_options"] = Options.Describe(),
        };
        return WeightExchange.Export([net], baseWeights, meta);
    }

    private void ExportWeights(MtcnnNet net, MtcnnWeights? baseWeights, int epoch) =>
        AtomicFile.Write(Path.Combine(Folder, WeightsFileName), Export(net, baseWeights, epoch).Write);

    private static void Restore(MtcnnNet net, ParameterOptimizer optimizer, TrainingCheckpoint checkpoint, (string Name, TorchSharp.Modules.Parameter Parameter)[] named)
    {
        using (torch.no_grad())
        {
            foreach (var (name, p) in named)
            {
                if (!checkpoint.Tensors.TryGetValue("model." + name, out var stored))
                {
                    throw new InvalidDataException($"the checkpoint lacks the parameter '{name}'; it was written for another network");
                }

                if (stored.Values.Length != p.numel())
                {
                    throw new InvalidDataException($"the checkpoint's '{name}' has {stored.Values.Length} values, the network needs {p.numel()}");
                }

                using var source = torch.tensor(stored.Values, p.shape);
                p.copy_(source);
            }
        }

        optimizer.ImportState(checkpoint.OptimizerStep, key => checkpoint.Tensors.TryGetValue(key, out var t) ? t.Values : null);
    }

    private (EpochMetrics? Start, List<EpochMetrics> Epochs) ReadHistory()
    {
        var path = Path.Combine(Folder, MetricsFile);
        if (!File.Exists(path))
        {
            return (null, []);
        }

        var rows = File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0).Select(EpochMetrics.FromCsv).ToList();
        return (rows.FirstOrDefault(r => r.Epoch == 0), rows.Where(r => r.Epoch > 0).ToList());
    }

    private static SampleSet LoadSamples(TrainOptions o)
    {
        var samples = SampleSet.Read(o.Samples);
        if (samples.Size != o.InputSize)
        {
            throw new InvalidDataException($"{o.Samples}: the samples are {samples.Size}x{samples.Size}, but {NetName(o.Net)} trains on {o.InputSize}x{o.InputSize} (prepare them with --net {NetName(o.Net)})");
        }

        return samples;
    }

    private static MtcnnWeights? InitialiseAndFindBase(MtcnnNet net, TrainOptions o, ITrainingObserver? observer)
    {
        MtcnnWeights? init = o.Init switch
        {
            "scratch" => null,
            "default" => MtcnnWeights.Default,
            var path => ReadWeights(path),
        };
        if (init is not null)
        {
            if (init.Variant != o.Variant)
            {
                throw new InvalidDataException($"--init {o.Init}: the weights are for the '{MtcnnWeights.VariantName(init.Variant)}' variant, the run trains '{MtcnnWeights.VariantName(o.Variant)}'");
            }

            WeightExchange.Import(net, init);
            observer?.OnMessage($"initialised {NetName(o.Net)} from {o.Init}");
        }

        var baseWeights = o.BaseWeights is not null ? ReadWeights(o.BaseWeights)
            : init ?? (o.Variant == ModelVariant.Original ? MtcnnWeights.Default : null);
        if (baseWeights is not null && baseWeights.Variant != o.Variant)
        {
            throw new InvalidDataException($"--base {o.BaseWeights}: the weights are for the '{MtcnnWeights.VariantName(baseWeights.Variant)}' variant, the run trains '{MtcnnWeights.VariantName(o.Variant)}'");
        }

        if (baseWeights is null)
        {
            observer?.OnMessage("no base cascade given: weights.safetensors will hold only the trained network (pass --base to complete it)");
        }

        return baseWeights;
    }

    private static MtcnnWeights ReadWeights(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return MtcnnWeights.Read(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or MtcnnFormatException)
        {
            throw new InvalidDataException($"{path}: cannot read the weights: {e.Message}", e);
        }
    }
}

/// <summary>Where an epoch's time goes, summed over its batches (libtorch on the CPU runs synchronously, so the phases are exact).</summary>
internal sealed class EpochProfile
{
    private long encode, forward, loss, backward, update;

    /// <summary>Adds one batch from the timestamps between its phases.</summary>
    public void Add(long t0, long t1, long t2, long t3, long t4, long t5)
    {
        encode += t1 - t0;
        forward += t2 - t1;
        loss += t3 - t2;
        backward += t4 - t3;
        update += t5 - t4;
    }

    /// <summary>One line: each phase in seconds and as a share of the training time.</summary>
    public string Describe(string run, int epoch, double trainSeconds, double validationSeconds)
    {
        string Part(string name, long ticks)
        {
            var seconds = (double)ticks / Stopwatch.Frequency;
            return string.Create(CultureInfo.InvariantCulture, $"{name} {seconds:F1} s ({100 * seconds / Math.Max(trainSeconds, 1e-9):F0} %)");
        }

        var other = (long)(trainSeconds * Stopwatch.Frequency) - (encode + forward + loss + backward + update);
        return $"{run} epoch {epoch} time: " + string.Join(", ", Part("batch encoding (crops, flips, tensors)", encode), Part("forward", forward), Part("loss", loss),
            Part("backward", backward), Part("update", update), Part("other", Math.Max(0, other))) +
            string.Create(CultureInfo.InvariantCulture, $"; sample validation {validationSeconds:F1} s");
    }
}

/// <summary>
/// The features of a frozen R-/O-Net trunk for every sample, plain and mirrored, computed once per run in sample order
/// and batches of the run's batch size, so that a resumed run computes exactly the same values. They live in one
/// libtorch tensor <c>[2N, width]</c> (rows N.. are the mirror images); a batch is gathered with <c>index_select</c> into
/// a fresh libtorch allocation, so the heads' matrix products see the same memory alignment as in a whole-net pass
/// (managed arrays would not: their alignment changes the summation order of the CPU matrix kernels).
/// </summary>
internal sealed class TrunkFeatures : IDisposable
{
    private readonly Tensor all;
    private readonly int count;
    private long[] rows = [];

    private TrunkFeatures(CropNetModule net, Tensor all, int count)
    {
        Net = net;
        this.all = all;
        this.count = count;
    }

    /// <summary>The network whose heads train on the features.</summary>
    public CropNetModule Net { get; }

    /// <summary>The features, or null when the net is P-Net, its trunk is not wholly frozen, caching is off, or the run was cancelled.</summary>
    public static TrunkFeatures? TryCompute(MtcnnNet net, TrainOptions o, SampleBatches batches, BatchBuffers buffers, ITrainingObserver? observer, CancellationToken cancellationToken)
    {
        if (!o.CacheFrozenTrunk || net is not CropNetModule crop)
        {
            return null;
        }

        var trunkFrozen = crop.named_parameters().All(p => !p.parameter.requires_grad || IsHead(p.name));
        if (!trunkFrozen)
        {
            return null;
        }

        var clock = Stopwatch.StartNew();
        var count = batches.Samples.Count;
        var width = crop.FeatureWidth;
        var all = torch.empty([2L * Math.Max(count, 1), width]).DetachFromDisposeScope();
        if (!Compute(crop, batches, buffers, o.BatchSize, all, mirror: false, cancellationToken)
            || (o.Flip && !Compute(crop, batches, buffers, o.BatchSize, all, mirror: true, cancellationToken)))
        {
            all.Dispose();
            return null; // cancelled: the epoch loop sees the token and stops
        }

        observer?.OnMessage(string.Create(CultureInfo.InvariantCulture,
            $"{TrainingRun.NetName(crop.Kind)}: the trunk is frozen, so its features of the {count:N0} samples{(o.Flip ? " and their mirror images" : string.Empty)} were computed once ({clock.Elapsed.TotalSeconds:F1} s, {(o.Flip ? 2 : 1) * (long)count * width * 4.0 / (1 << 20):F0} MiB); the heads train on them"));
        return new TrunkFeatures(crop, all, count);
    }

    /// <summary>The features of a batch as a <c>[n, width]</c> tensor (mirrored where <paramref name="flips"/> says so).</summary>
    public Tensor Gather(ReadOnlySpan<int> indices, ReadOnlySpan<bool> flips)
    {
        var n = indices.Length;
        if (rows.Length != n)
        {
            rows = new long[n];
        }

        for (var k = 0; k < n; k++)
        {
            rows[k] = indices[k] + (!flips.IsEmpty && flips[k] ? count : 0);
        }

        using var index = torch.tensor(rows, [n]);
        return all.index_select(0, index);
    }

    public void Dispose() => all.Dispose();

    private static bool IsHead(string parameterName) =>
        LayerFreeze.IsFrozen(["face", "box", "landmarks"], NetKind.ONet, parameterName);

    private static bool Compute(CropNetModule net, SampleBatches batches, BatchBuffers buffers, int batchSize, Tensor all, bool mirror, CancellationToken cancellationToken)
    {
        var count = batches.Samples.Count;
        var indices = new int[batchSize];
        var flips = new bool[batchSize];
        Array.Fill(flips, mirror);
        using var noGrad = torch.no_grad();
        for (var start = 0; start < count; start += batchSize)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            var n = Math.Min(batchSize, count - start);
            for (var k = 0; k < n; k++)
            {
                indices[k] = start + k;
            }

            batches.Encode(indices.AsSpan(0, n), flips.AsSpan(0, n), buffers);
            using var scope = torch.NewDisposeScope();
            var input = torch.tensor(buffers.Input, [n, 3, batches.Size, batches.Size]);
            var offset = start + (mirror ? count : 0);
            all.narrow(0, offset, n).copy_(net.ForwardTrunk(input));
        }

        return true;
    }
}

/// <summary>Runs an action on dispose (for state created later inside a <c>using</c> scope).</summary>
internal sealed class DisposeLater(Action action) : IDisposable
{
    public void Dispose() => action();
}
