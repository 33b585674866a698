using System.CommandLine;
using System.Globalization;
using Mtcnn.Training.Models;
using Mtcnn.Training.Training;

namespace Mtcnn.Training.Cli;

/// <summary><c>mtcnn-train train</c>: trains one network on a sample file, or resumes a run.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var net = new Option<string?>("--net") { Description = "The network: pnet, rnet or onet (not needed with --resume)." };
        var samples = new Option<string?>("--samples") { Description = "The sample file from `mtcnn prepare-data` (e.g. data/pnet.samples)." };
        var data = new Option<string?>("--data") { Description = "A folder written by `mtcnn prepare-data`; uses DIR/{net}.samples." };
        var variant = new Option<string>("--variant") { Description = "Architecture: original (the paper's) or reference (the reference project's).", DefaultValueFactory = _ => "original" };
        var init = new Option<string>("--init") { Description = "Starting weights: scratch, default (the bundled weights) or a weight file / run folder.", DefaultValueFactory = _ => "scratch" };
        var baseWeights = new Option<string?>("--base") { Description = "Weights whose other two networks complete the exported cascade (default: --init's file, else the bundled weights)." };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training samples.", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch-size") { Description = "Samples per batch.", DefaultValueFactory = _ => 256 };
        var optimizer = new Option<string>("--optimizer") { Description = "adam or sgd.", DefaultValueFactory = _ => "adam" };
        var lr = new Option<double>("--lr") { Description = "Initial learning rate.", DefaultValueFactory = _ => 0.001 };
        var steps = new Option<string?>("--lr-steps") { Description = "Comma-separated epochs after which the rate is multiplied by --lr-gamma (e.g. 8,14)." };
        var gamma = new Option<double>("--lr-gamma") { Description = "Learning-rate factor per step.", DefaultValueFactory = _ => 0.1 };
        var momentum = new Option<double>("--momentum") { Description = "SGD momentum.", DefaultValueFactory = _ => 0.9 };
        var decay = new Option<double>("--weight-decay") { Description = "L2 weight decay.", DefaultValueFactory = _ => 0 };
        var ohem = new Option<double>("--ohem-ratio") { Description = "Online hard sample mining: fraction of classification losses kept per batch (1 = off).", DefaultValueFactory = _ => 0.7 };
        var weights = new Option<string?>("--task-weights") { Description = "Classification,box,landmark loss weights (default: P/R 1,0.5,0.5; O 1,0.5,1)." };
        var val = new Option<double>("--val-fraction") { Description = "Fraction of source images held out for validation.", DefaultValueFactory = _ => 0.1 };
        var threshold = new Option<double?>("--threshold") { Description = "Face probability threshold for validation precision/recall (default: the stage's cascade threshold)." };
        var freeze = new Option<string?>("--freeze") { Description = "Layers to keep fixed, comma-separated: conv (the convolutions), trunk (all but the heads), face, box, landmarks (a head), or layer names (conv1, dense5, ...). O-Net's landmark head alone: trunk,face,box." };
        var validation = new ValidationArguments("Validate the whole cascade (this net merged into --base) on this landmark list after every epoch, keep the best epoch and stop early.");
        var patience = new Option<int>("--patience") { Description = "With --val-landmarks: stop after this many epochs without a new best (0 = never).", DefaultValueFactory = _ => 3 };
        var noFlip = new Option<bool>("--no-flip") { Description = "Do not mirror training samples at random." };
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation, split, shuffling and flips.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "libtorch threads (0 = its default).", DefaultValueFactory = _ => 0 };
        var maxBatches = new Option<int>("--max-batches") { Description = "Stop each epoch after this many batches (0 = all).", DefaultValueFactory = _ => 0 };
        var project = new Option<string>("--project") { Description = "Parent folder of the run folders.", DefaultValueFactory = _ => Path.Combine("runs", "train") };
        var name = new Option<string?>("--name") { Description = "Run folder name (default: {net}N, the first unused N)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last checkpoint (its options.json decides everything else)." };

        var command = new Command("train", "Train P-Net, R-Net or O-Net on prepared samples: multi-task loss, online hard sample mining, checkpoints every epoch, resumable.")
        {
            net, samples, data, variant, init, baseWeights, epochs, batch, optimizer, lr, steps, gamma, momentum, decay, ohem, weights, val, threshold, freeze, patience, noFlip, seed, threads, maxBatches, project, name, resume,
        };
        validation.AddTo(command);
        command.SetAction(pr =>
        {
            TrainingRun run;
            var resumeFolder = pr.GetValue(resume);
            if (resumeFolder is not null)
            {
                run = Open(resumeFolder);
            }
            else
            {
                var kind = ParseNet(pr.GetValue(net) ?? throw new UsageException("--net is required (pnet, rnet or onet) unless --resume is given"));
                var file = pr.GetValue(samples) ?? (pr.GetValue(data) is { } dir ? Path.Combine(dir, TrainingRun.NetName(kind) + ".samples") : null)
                    ?? throw new UsageException("give --samples FILE or --data DIR");
                if (!File.Exists(file))
                {
                    throw new UsageException($"the sample file '{file}' does not exist (write it with `mtcnn prepare-data --net {TrainingRun.NetName(kind)}`)");
                }

                var (wc, wb, wl) = ParseTaskWeights(pr.GetValue(weights));
                var (valList, valFolder, valRange) = validation.Read(pr);
                var options = new TrainOptions
                {
                    Net = kind,
                    Variant = ParseVariant(pr.GetValue(variant)!),
                    Samples = Path.GetFullPath(file),
                    Init = ResolveWeightsArgument(pr.GetValue(init)!, "--init"),
                    BaseWeights = pr.GetValue(baseWeights) is { } b ? ResolveWeightsArgument(b, "--base") : null,
                    Epochs = pr.GetValue(epochs),
                    BatchSize = pr.GetValue(batch),
                    Optimizer = pr.GetValue(optimizer)!.ToUpperInvariant() switch
                    {
                        "ADAM" => OptimizerKind.Adam,
                        "SGD" => OptimizerKind.Sgd,
                        var o => throw new UsageException($"--optimizer: '{o}' is not adam or sgd"),
                    },
                    LearningRate = pr.GetValue(lr),
                    LearningRateSteps = ParseInts(pr.GetValue(steps), "--lr-steps"),
                    LearningRateGamma = pr.GetValue(gamma),
                    Momentum = pr.GetValue(momentum),
                    WeightDecay = pr.GetValue(decay),
                    OhemRatio = pr.GetValue(ohem),
                    ClassWeight = wc,
                    BoxWeight = wb,
                    LandmarkWeight = wl,
                    ValidationFraction = pr.GetValue(val),
                    Threshold = pr.GetValue(threshold),
                    Freeze = ParseList(pr.GetValue(freeze)),
                    ValLandmarks = valList,
                    ValImages = valFolder,
                    ValLines = valRange,
                    Patience = pr.GetValue(patience),
                    Flip = !pr.GetValue(noFlip),
                    Seed = pr.GetValue(seed),
                    Threads = pr.GetValue(threads),
                    MaxBatchesPerEpoch = pr.GetValue(maxBatches),
                };
                try
                {
                    options.Validate();
                }
                catch (ArgumentException e)
                {
                    throw new UsageException(e.Message);
                }

                run = TrainingRun.Create(options, pr.GetValue(project)!, pr.GetValue(name));
            }

            return Execute(run);
        });
        return command;
    }

    /// <summary>Runs a training run with console progress and Ctrl+C handling; returns the exit code.</summary>
    public static int Execute(TrainingRun run) => CtrlC.Run("stopping after this batch ...", token =>
    {
        Console.Error.WriteLine($"run folder: {run.Folder}");
        var result = run.Run(new ConsoleTrainingObserver(), token);
        if (!result.Completed)
        {
            Console.Error.WriteLine($"stopped; continue with: mtcnn-train train --resume {run.Folder}");
            return 130;
        }

        Console.WriteLine($"{run.Name}: {result.History.Count} epochs; weights: {result.WeightsFile}" + (result.Selection.Length == 0 ? string.Empty : $" ({result.Selection})"));
        if (result.History.Count > 0)
        {
            Console.WriteLine(result.History[^1].Describe());
        }

        return 0;
    });

    public static TrainingRun Open(string folder)
    {
        try
        {
            return TrainingRun.Open(folder);
        }
        catch (InvalidDataException e)
        {
            throw new UsageException($"--resume: {e.Message}");
        }
    }

    public static NetKind ParseNet(string value) => ParseNetName(value, "--net");

    public static NetKind ParseNetName(string value) => ParseNetName(value, "--stages");

    private static NetKind ParseNetName(string value, string option) => value.ToUpperInvariant() switch
    {
        "PNET" => NetKind.PNet,
        "RNET" => NetKind.RNet,
        "ONET" => NetKind.ONet,
        _ => throw new UsageException($"{option}: '{value}' is not pnet, rnet or onet"),
    };

    public static ModelVariant ParseVariant(string value) => value.ToUpperInvariant() switch
    {
        "ORIGINAL" => ModelVariant.Original,
        "REFERENCE" => ModelVariant.Reference,
        _ => throw new UsageException($"--variant: '{value}' is not original or reference"),
    };

    /// <summary>Keeps <c>scratch</c>/<c>default</c>; resolves a run folder to its weights file; checks a file exists.</summary>
    public static string ResolveWeightsArgument(string value, string option)
    {
        if (value is "scratch" or "default")
        {
            return value;
        }

        if (Directory.Exists(value))
        {
            var files = Directory.GetFiles(value, "*.safetensors");
            return files.Length == 1 ? Path.GetFullPath(files[0])
                : throw new UsageException($"{option}: the folder '{value}' holds {files.Length} *.safetensors files; name one");
        }

        return File.Exists(value) ? Path.GetFullPath(value) : throw new UsageException($"{option}: '{value}' is not scratch, default, a weight file or a run folder");
    }

    /// <summary>A comma-separated list (empty entries dropped); none for null.</summary>
    public static string[] ParseList(string? text) =>
        text is null ? [] : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static (double?, double?, double?) ParseTaskWeights(string? text)
    {
        if (text is null)
        {
            return (null, null, null);
        }

        var parts = text.Split(',');
        if (parts.Length != 3 || !parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0))
        {
            throw new UsageException($"--task-weights: expected three non-negative numbers cls,box,landmark, got '{text}'");
        }

        var v = parts.Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return (v[0], v[1], v[2]);
    }

    private static int[] ParseInts(string? text, string option)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        return text.Split(',').Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v : throw new UsageException($"{option}: '{p}' is not a positive whole number")).ToArray();
    }
}

/// <summary>Turns Ctrl+C into a cancellation token for the duration of a command (the work stops at its next check).</summary>
internal static class CtrlC
{
    public static int Run(string notice, Func<CancellationToken, int> body)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
            Console.Error.WriteLine(notice);
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return body(cts.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}

/// <summary>Prints training progress on stderr: a status line every few seconds with the ETA, and a line per epoch.</summary>
internal sealed class ConsoleTrainingObserver : ITrainingObserver
{
    private readonly System.Diagnostics.Stopwatch sinceStatus = System.Diagnostics.Stopwatch.StartNew();
    private readonly System.Diagnostics.Stopwatch epochClock = new();
    private double lastEpochSeconds;

    public void OnBatch(int epoch, int epochs, int batch, int batches, double loss)
    {
        if (batch == 1)
        {
            epochClock.Restart();
        }

        if (sinceStatus.Elapsed.TotalSeconds < 5 && batch != batches)
        {
            return;
        }

        sinceStatus.Restart();
        var perBatch = epochClock.Elapsed.TotalSeconds / batch;
        var epochLeft = perBatch * (batches - batch);
        var perEpoch = lastEpochSeconds > 0 ? lastEpochSeconds : perBatch * batches;
        var eta = TimeSpan.FromSeconds(epochLeft + perEpoch * (epochs - epoch));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {epoch}/{epochs} batch {batch}/{batches} ({100.0 * batch / batches:F0} %) loss {loss:F4}, ETA {(int)eta.TotalHours}:{eta.Minutes:D2}:{eta.Seconds:D2}"));
    }

    public void OnEpoch(EpochMetrics metrics)
    {
        lastEpochSeconds = metrics.Seconds;
        Console.Error.WriteLine(metrics.Describe());
    }

    public void OnMessage(string message) => Console.Error.WriteLine(message);
}
