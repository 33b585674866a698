using System.CommandLine;
using System.Globalization;
using Mtcnn.Evaluation.Annotations;
using Mtcnn.Training.Cascade;
using Mtcnn.Training.Data;
using Mtcnn.Training.Models;
using Mtcnn.Training.Training;

namespace Mtcnn.Training.Cli;

/// <summary><c>mtcnn-train train-cascade</c>: prepare → P-Net → mine → R-Net → mine → O-Net → export, resumable.</summary>
internal static class TrainCascadeCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--output", "-o") { Description = "The run folder (created; must be empty). Holds data/, train/{pnet,rnet,onet}/ and weights.safetensors." };
        var resume = new Option<string?>("--resume") { Description = "Continue the cascade run in this folder (finished steps are skipped)." };
        var wider = new Option<string?>("--wider-annotations") { Description = "WIDER FACE box list (wider_face_train_bbx_gt.txt layout)." };
        var widerImages = new Option<string?>("--wider-images") { Description = "Folder the WIDER list's paths are relative to." };
        var landmarks = new Option<string?>("--landmarks") { Description = "CNN_FacePoint landmark list (path left right top bottom x1 y1 ... x5 y5)." };
        var landmarkImages = new Option<string?>("--landmark-images") { Description = "Folder the landmark list's paths are relative to (default: the list's folder)." };
        var lines = new Option<string?>("--lines") { Description = "1-based inclusive line range of the landmark list, e.g. 1:9000." };
        var init = new Option<string>("--init") { Description = "scratch, or default (the bundled weights) / a weight file to fine-tune; fine-tuning uses the recipe below for every option not given.", DefaultValueFactory = _ => "scratch" };
        var stages = new Option<string?>("--stages") { Description = "Stages to train, e.g. onet or pnet,rnet,onet; the others keep --init's networks. Default: all from scratch; onet when fine-tuning." };
        var freeze = new Option<string?>("--freeze") { Description = "Layers kept fixed in the trained stages: conv, trunk, face, box, landmarks or layer names. Default: none from scratch; trunk,face (O-Net's box and landmark heads train) when fine-tuning." };
        var epochs = new Option<string?>("--epochs") { Description = "Epochs for P-Net,R-Net,O-Net. Default: 10,10,10 from scratch; 4 for O-Net when fine-tuning." };
        var batch = new Option<string>("--batch-sizes") { Description = "Batch sizes for P-Net,R-Net,O-Net.", DefaultValueFactory = _ => "512,256,128" };
        var lr = new Option<string?>("--lr") { Description = "Initial learning rates for P-Net,R-Net,O-Net. Default: 0.001 each from scratch, 0.0001 when fine-tuning." };
        var decay = new Option<double?>("--decay-at") { Description = "Multiply the learning rate by 0.1 after this fraction of each stage's epochs (0 = never). Default: 0.7 from scratch, 0 when fine-tuning." };
        var ohem = new Option<double>("--ohem-ratio") { Description = "Fraction of classification losses kept per batch.", DefaultValueFactory = _ => 0.7 };
        var maxSamples = new Option<string?>("--max-samples") { Description = "At most this many samples for P-Net,R-Net,O-Net (0 = all). Default: 0,0,0 from scratch; 0,200000,50000 when fine-tuning." };
        var valFraction = new Option<double>("--val-fraction") { Description = "Share of the landmark images held out, as whole images, to validate the whole cascade after every epoch (0 = off).", DefaultValueFactory = _ => 0.1 };
        var validation = new ValidationArguments("Validate on this landmark list instead of held-out training images (never the images you test on).");
        var patience = new Option<int?>("--patience") { Description = "Stop a stage after this many epochs without a new best on the validation images (0 = never). Default: 3 from scratch, 2 when fine-tuning." };
        var minFace = new Option<float>("--mining-min-face-size") { Description = "Smallest face the mining detector looks for.", DefaultValueFactory = _ => 12f };
        var noMinedLandmarks = new Option<bool>("--no-mined-landmarks") { Description = "Do not reuse mined positive/part crops of landmark faces as landmark samples for R-Net and O-Net." };
        var seed = new Option<int>("--seed") { Description = "Seed of data preparation and training.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Threads for preparation and libtorch (0 = all cores / libtorch default).", DefaultValueFactory = _ => 0 };

        var command = new Command("train-cascade", "Prepare samples and train P-Net, R-Net and O-Net in turn, mining hard examples with the stages trained so far; resumable with --resume.")
        {
            output, resume, wider, widerImages, landmarks, landmarkImages, lines, init, stages, freeze, epochs, batch, lr, decay, ohem, maxSamples, valFraction, patience, minFace, noMinedLandmarks, seed, threads,
        };
        validation.AddTo(command);
        command.SetAction(pr =>
        {
            CascadeTraining run;
            if (pr.GetValue(resume) is { } folder)
            {
                try
                {
                    run = CascadeTraining.Open(folder);
                }
                catch (InvalidDataException e)
                {
                    throw new UsageException($"--resume: {e.Message}");
                }
            }
            else
            {
                var target = pr.GetValue(output) ?? throw new UsageException("give --output DIR for a new run or --resume DIR");
                var range = LineRange.All;
                if (pr.GetValue(lines) is { } text && !LineRange.TryParse(text, out range))
                {
                    throw new UsageException($"--lines: '{text}' is not a range like 1:9000");
                }

                var initValue = TrainCommand.ResolveWeightsArgument(pr.GetValue(init)!, "--init");
                var recipe = initValue == "scratch" ? new CascadeOptions() : CascadeOptions.FineTuneRecipe(initValue);
                var (valList, valFolder, valRange) = validation.Read(pr);

                var options = recipe with
                {
                    Sources = new DataSources
                    {
                        WiderAnnotations = Full(pr.GetValue(wider)),
                        WiderImages = Full(pr.GetValue(widerImages)),
                        Landmarks = Full(pr.GetValue(landmarks)),
                        LandmarkImages = Full(pr.GetValue(landmarkImages)),
                        LandmarkLines = range,
                    },
                    Init = initValue,
                    Stages = pr.GetValue(stages) is { } st ? ParseStages(st) : recipe.Stages,
                    Freeze = pr.GetValue(freeze) is { } fr ? TrainCommand.ParseList(fr) : recipe.Freeze,
                    Epochs = pr.GetValue(epochs) is { } ep ? Numbers(ep, "--epochs", int.Parse) : recipe.Epochs,
                    BatchSizes = Numbers(pr.GetValue(batch)!, "--batch-sizes", int.Parse),
                    LearningRates = pr.GetValue(lr) is { } rate ? Numbers(rate, "--lr", double.Parse) : recipe.LearningRates,
                    DecayAt = pr.GetValue(decay) ?? recipe.DecayAt,
                    OhemRatio = pr.GetValue(ohem),
                    MaxSamples = pr.GetValue(maxSamples) is { } ms ? Numbers(ms, "--max-samples", long.Parse) : recipe.MaxSamples,
                    ValidationFraction = pr.GetValue(valFraction),
                    ValLandmarks = valList,
                    ValImages = valFolder,
                    ValLines = valRange,
                    Patience = pr.GetValue(patience) ?? recipe.Patience,
                    MiningMinFaceSize = pr.GetValue(minFace),
                    MinedLandmarks = !pr.GetValue(noMinedLandmarks),
                    Seed = pr.GetValue(seed),
                    Threads = pr.GetValue(threads),
                };
                try
                {
                    run = CascadeTraining.Create(options, target);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException(e.Message);
                }
            }

            return CtrlC.Run("stopping ...", token =>
            {
                Console.Error.WriteLine($"cascade folder: {run.Folder}");
                var weights = run.Run(new ConsoleCascadeObserver(), token);
                if (weights is null)
                {
                    Console.Error.WriteLine($"stopped; continue with: mtcnn-train train-cascade --resume {run.Folder}");
                    return 130;
                }

                Console.WriteLine($"cascade weights: {weights}");
                return 0;
            });
        });
        return command;
    }

    private static string? Full(string? path) => path is null ? null : Path.GetFullPath(path);

    private static NetKind[] ParseStages(string text) =>
        [.. TrainCommand.ParseList(text).Select(TrainCommand.ParseNetName).Distinct().Order()];

    private static T[] Numbers<T>(string text, string option, Func<string, IFormatProvider, T> parse)
    {
        var parts = text.Split(',');
        if (parts.Length != 3)
        {
            throw new UsageException($"{option}: expected three comma-separated values (P-Net,R-Net,O-Net), got '{text}'");
        }

        try
        {
            return parts.Select(p => parse(p.Trim(), CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            throw new UsageException($"{option}: '{text}' holds a value that is not a number");
        }
    }
}

/// <summary>Console progress of a cascade run.</summary>
internal sealed class ConsoleCascadeObserver : ICascadeObserver
{
    private readonly System.Diagnostics.Stopwatch sinceStatus = System.Diagnostics.Stopwatch.StartNew();
    private readonly ConsoleTrainingObserver training = new();

    public void OnPreparation(NetKind stage, PreparationProgress progress)
    {
        if (sinceStatus.Elapsed.TotalSeconds < 5 && progress.Done != progress.Total)
        {
            return;
        }

        lock (sinceStatus)
        {
            sinceStatus.Restart();
            Console.Error.WriteLine($"{TrainingRun.NetName(stage)} data, {progress.Phase}: {progress.Done}/{progress.Total} images");
        }
    }

    public void OnIssue(AnnotationIssue issue) => Console.Error.WriteLine($"warning: {issue}");

    public void OnBatch(int epoch, int epochs, int batch, int batches, double loss) => training.OnBatch(epoch, epochs, batch, batches, loss);

    public void OnEpoch(EpochMetrics metrics) => training.OnEpoch(metrics);

    public void OnMessage(string message) => Console.Error.WriteLine(message);
}
