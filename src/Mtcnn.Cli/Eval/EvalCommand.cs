using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Mtcnn.Cli.Detect;
using Mtcnn.Evaluation;
using Mtcnn.Evaluation.Wider;

namespace Mtcnn.Cli.Eval;

/// <summary><c>mtcnn eval wider|fddb|landmarks</c>: the standard benchmarks and the landmark evaluation (see docs/evaluation.md).</summary>
internal static class EvalCommand
{
    /// <summary>The output formats on stdout.</summary>
    public static readonly string[] Formats = ["text", "json"];

    /// <summary>Builds the command group.</summary>
    public static Command Create(CliConsole console)
    {
        var command = new Command("eval", "Evaluate the detector on the standard benchmarks: WIDER FACE validation (AP) and FDDB (ROC), and its landmarks on a 5-point list. See docs/evaluation.md.")
        {
            EvalWiderCommand.Create(console),
            EvalFddbCommand.Create(console),
            EvalLandmarksCommand.Create(console),
        };
        return command.With(
            "mtcnn eval wider --images WIDER_val/images --gt eval_tools/ground_truth",
            "mtcnn eval fddb --images originalPics --folds FDDB-folds",
            "mtcnn eval landmarks --list trainImageList_80x80.txt --images landmarks --lines 9001:10000");
    }

    /// <summary>The options every eval verb shares: --paper, --format/-f and --quiet/-q.</summary>
    public static (Option<bool> Paper, Option<string> Format, Option<bool> Quiet) CommonOptions()
    {
        var format = OptionFactory.Choice("--format", "text", Formats, "Output format on stdout.");
        format.Aliases.Add("-f");
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress lines and no summary on stderr (errors are still shown)." };
        return (PaperOption(), format, quiet);
    }

    /// <summary><c>--paper</c>: start from the settings the MTCNN paper's WIDER FACE numbers use.</summary>
    public static Option<bool> PaperOption() => new("--paper")
    {
        Description = "Start from the paper's settings (min face 10, scale factor 0.79, thresholds 0.5,0.5,0.3); explicit options still override them.",
    };

    /// <summary>Fails (exit 1) unless <paramref name="path"/> is an existing folder (or file, when <paramref name="fileAllowed"/>).</summary>
    /// <exception cref="CliFailureException">The path does not exist.</exception>
    public static void RequireInput(string? path, string option, bool fileAllowed = false)
    {
        if (path is not null && !Directory.Exists(path) && !(fileAllowed && File.Exists(path)))
        {
            throw new CliFailureException($"{option}: '{path}' does not exist.");
        }
    }

    /// <summary>
    /// The output folder: the one given (reused, so an interrupted run resumes), or a fresh <c>runs/eval/NAME</c>,
    /// <c>NAME2</c>, ... under the current folder.
    /// </summary>
    public static string OutputFolder(string? given, string name)
    {
        string folder = given ?? Fresh(Path.Combine("runs", "eval"), name);
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliFailureException($"--output: cannot create '{folder}': {e.Message}", e);
        }

        return folder;
    }

    /// <summary>
    /// Saves the resolved settings as <c>options.json</c> in the output folder; if the folder already holds different
    /// ones (a run with other settings), refuses to mix results.
    /// </summary>
    public static void SaveOptions(string folder, string command, DetectorOptions? options, IReadOnlyDictionary<string, string?> inputs)
    {
        var sb = new StringBuilder();
        sb.Append("{\n  \"command\": ").Append(JsonSerializer.Serialize(command));
        foreach (var (key, value) in inputs)
        {
            sb.Append(",\n  ").Append(JsonSerializer.Serialize(key)).Append(": ").Append(value is null ? "null" : JsonSerializer.Serialize(Path.GetFullPath(value)));
        }

        if (options is not null)
        {
            sb.Append(",\n  \"detector\": {");
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"\"min_face_size\": {options.MinFaceSize:R}, \"scale_factor\": {options.ScaleFactor:R}, "));
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"\"thresholds\": [{options.PNetThreshold:R}, {options.RNetThreshold:R}, {options.ONetThreshold:R}]}}"));
        }

        sb.Append("\n}\n");
        string path = Path.Combine(folder, "options.json");
        string text = sb.ToString();
        if (options is not null && File.Exists(path))
        {
            string old = File.ReadAllText(path);
            string? oldDetector = DetectorPart(old);
            if (oldDetector is not null && oldDetector != DetectorPart(text))
            {
                throw new CliFailureException($"'{folder}' holds results of a run with other detector settings ({path}); choose another --output or remove that folder.");
            }
        }

        File.WriteAllText(path, text);
    }

    /// <summary>
    /// The middle of a benchmark verb: either runs the detector over the benchmark (saving the options with the
    /// detector settings and the weights, with a progress line) or scores existing results (saving only the inputs).
    /// </summary>
    /// <typeparam name="T">The evaluation result.</typeparam>
    /// <param name="setup">The verb's parsed settings.</param>
    /// <param name="detect">True to run the detector, false to score existing results.</param>
    /// <param name="inputs">The inputs to record in options.json (the weights are added when detecting).</param>
    /// <param name="run">Runs the detector: (weights, progress) → result.</param>
    /// <param name="score">Scores existing results.</param>
    public static T RunOrScore<T>(BenchmarkSetup setup, bool detect, Dictionary<string, string?> inputs, Func<MtcnnWeights?, IProgress<EvaluationProgress>, T> run, Func<T> score)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(inputs);
        if (!detect)
        {
            SaveOptions(setup.Folder, setup.CommandName, null, inputs);
            return score();
        }

        var weights = setup.Detector.LoadWeights(setup.Parse, setup.Console);
        inputs["weights"] = setup.Parse.GetValue(setup.Detector.Weights);
        SaveOptions(setup.Folder, setup.CommandName, setup.Options, inputs);
        ProgressReporter? reporter = null;
        var progress = Progress(setup.Console, !setup.Quiet, r => reporter = r);
        var result = run(weights, progress);
        reporter?.BreakLine();
        return result;
    }

    /// <summary>
    /// The end of a benchmark verb: writes results.json, prints the JSON or the text lines on stdout, and the summary
    /// on stderr unless --quiet.
    /// </summary>
    /// <param name="setup">The verb's parsed settings.</param>
    /// <param name="json">The results as JSON text.</param>
    /// <param name="text">The results as lines for people.</param>
    /// <param name="summary">One line about the run.</param>
    /// <returns>The exit code.</returns>
    public static int Report(BenchmarkSetup setup, string json, IEnumerable<string> text, string summary)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentNullException.ThrowIfNull(text);
        File.WriteAllText(Path.Combine(setup.Folder, "results.json"), json);
        if (setup.Json)
        {
            setup.Console.Out.Write(json);
        }
        else
        {
            foreach (var line in text)
            {
                setup.Console.Out.WriteLine(line);
            }
        }

        setup.Console.Out.Flush();
        if (!setup.Quiet)
        {
            setup.Console.WriteErrorLine($"{CliApp.Name}: {summary}");
        }

        return ExitCodes.Success;
    }

    /// <summary>Adapts library progress reports to the command's progress line (thread-safe).</summary>
    public static IProgress<EvaluationProgress> Progress(CliConsole console, bool enabled, Action<ProgressReporter> created)
    {
        return new Reporter(console, enabled, created);
    }

    /// <summary>A number for people: 4 decimals, invariant.</summary>
    public static string Rate(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    /// <summary>A number for JSON: up to 6 decimals, invariant.</summary>
    public static string Json(double value) => Math.Round(value, 6).ToString("0.######", CultureInfo.InvariantCulture);

    private static string? DetectorPart(string json)
    {
        int at = json.IndexOf("\"detector\"", StringComparison.Ordinal);
        return at < 0 ? null : json[at..];
    }

    private static string Fresh(string parent, string name)
    {
        string candidate = Path.Combine(parent, name);
        for (int n = 2; Directory.Exists(candidate); n++)
        {
            candidate = Path.Combine(parent, name + n.ToString(CultureInfo.InvariantCulture));
        }

        return candidate;
    }

    private sealed class Reporter(CliConsole console, bool enabled, Action<ProgressReporter> created) : IProgress<EvaluationProgress>
    {
        private readonly object gate = new();
        private ProgressReporter? reporter;

        public void Report(EvaluationProgress value)
        {
            if (!enabled || value.Stage != "detect")
            {
                return;
            }

            lock (gate)
            {
                if (reporter is null)
                {
                    reporter = new ProgressReporter(console, value.Total, enabled: true);
                    created(reporter);
                }

                reporter.Tick(value.Completed);
            }
        }
    }
}

/// <summary>What the benchmark verbs (wider, fddb) parse the same way: detector settings (paper or default), output folder, format, quiet.</summary>
internal sealed class BenchmarkSetup
{
    public BenchmarkSetup(ParseResult parse, CliConsole console, DetectorArguments detector, string name,
        Option<bool> paper, Option<string> format, Option<bool> quiet, Option<string> output)
    {
        Parse = parse;
        Console = console;
        Detector = detector;
        CommandName = "eval " + name;
        Options = detector.Build(parse, parse.GetValue(paper) ? WiderEvaluator.PaperOptions : DetectorOptions.Default, CommandName);
        Json = parse.GetValue(format) == "json";
        Quiet = parse.GetValue(quiet);
        OutputValue = parse.GetValue(output);
        Name = name;
    }

    public ParseResult Parse { get; }

    public CliConsole Console { get; }

    public DetectorArguments Detector { get; }

    public string CommandName { get; }

    public DetectorOptions Options { get; }

    public bool Json { get; }

    public bool Quiet { get; }

    private string? OutputValue { get; }

    private string Name { get; }

    /// <summary>The output folder (created; a fresh runs/eval/NAME when not given). Call after the inputs are checked.</summary>
    public string Folder => folder ??= EvalCommand.OutputFolder(OutputValue, Name);

    private string? folder;
}

/// <summary><c>mtcnn eval wider</c>.</summary>
internal static class EvalWiderCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var images = new Option<string>("--images") { Description = "The WIDER FACE validation images: WIDER_val/images (the folder holding the 61 event folders) or WIDER_val.", HelpName = "dir" };
        var gt = new Option<string>("--gt")
        {
            Description = "The ground-truth folder with wider_face_val.mat and wider_{easy,medium,hard}_val.mat (eval_tools/ground_truth).",
            HelpName = "dir",
            Required = true,
        };
        var predictions = new Option<string>("--predictions")
        {
            Description = "Score existing predictions in the official layout (<dir>/<event>/<image>.txt) instead of running the detector.",
            HelpName = "dir",
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Folder for predictions/, pr.png, results.json and options.json; an existing one is resumed. Default: a fresh runs/eval/wider, wider2, ...",
            HelpName = "dir",
        };
        var (paper, format, quiet) = EvalCommand.CommonOptions();
        var command = new Command("wider",
            "WIDER FACE validation: run the detector on every image (in parallel, resumable), write predictions in the official layout, "
            + "print AP for easy, medium and hard, and draw the precision-recall curves (pr.png). With --predictions, only score existing predictions.")
        {
            images, gt, predictions, output, paper, format, quiet,
        };
        var detector = DetectorArguments.AddTo(command);
        command.With(
            "mtcnn eval wider --images WIDER_val/images --gt eval_tools/ground_truth --output runs/wider",
            "mtcnn eval wider --images WIDER_val/images --gt eval_tools/ground_truth --paper",
            "mtcnn eval wider --gt eval_tools/ground_truth --predictions other-detector/pred");
        command.SetAction(pr =>
        {
            string? imagesDir = pr.GetValue(images);
            string? predictionsDir = pr.GetValue(predictions);
            if (imagesDir is null == predictionsDir is null)
            {
                throw new UsageException("give --images to run the detector, or --predictions to score existing predictions (not both) (see 'mtcnn eval wider --help')");
            }

            var setup = new BenchmarkSetup(pr, console, detector, "wider", paper, format, quiet, output);
            string gtDir = pr.GetValue(gt)!;
            EvalCommand.RequireInput(gtDir, "--gt");
            EvalCommand.RequireInput(imagesDir, "--images");
            EvalCommand.RequireInput(predictionsDir, "--predictions");
            string folder = setup.Folder;
            bool detect = imagesDir is not null;
            predictionsDir ??= Path.Combine(folder, "predictions"); // detecting: the predictions go into the output folder

            var result = EvalCommand.RunOrScore(
                setup,
                detect,
                detect ? new Dictionary<string, string?> { ["images"] = imagesDir, ["gt"] = gtDir } : new Dictionary<string, string?> { ["predictions"] = predictionsDir, ["gt"] = gtDir },
                (weights, progress) => WiderEvaluator.Run(imagesDir!, gtDir, predictionsDir, setup.Options, weights, progress),
                () => WiderEvaluator.Score(predictionsDir, gtDir));

            string plot = Path.Combine(folder, "pr.png");
            EvaluationPlots.SavePrecisionRecall(result, plot);
            return EvalCommand.Report(
                setup,
                Json(result, predictionsDir, plot),
                result.Settings.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Setting.ToString().ToLowerInvariant(),-7} AP {EvalCommand.Rate(s.AveragePrecision)}  ({s.FaceCount} faces)")),
                string.Create(CultureInfo.InvariantCulture, $"{result.ImageCount} images, {result.PredictionCount} predictions ({predictionsDir}), {result.ImagesWithoutPredictions} images without a prediction file; curves in {plot}"));
        });
        return command;
    }

    private static string Json(WiderEvaluationResult r, string predictions, string plot)
    {
        var sb = new StringBuilder("{");
        foreach (var s in r.Settings)
        {
            sb.Append(JsonSerializer.Serialize(s.Setting.ToString().ToLowerInvariant())).Append(": ").Append(EvalCommand.Json(s.AveragePrecision)).Append(", ");
        }

        sb.Append(string.Create(CultureInfo.InvariantCulture, $"\"faces\": {{\"easy\": {r.Easy.FaceCount}, \"medium\": {r.Medium.FaceCount}, \"hard\": {r.Hard.FaceCount}}}, "));
        sb.Append(string.Create(CultureInfo.InvariantCulture, $"\"images\": {r.ImageCount}, \"predictions\": {r.PredictionCount}, \"images_without_predictions\": {r.ImagesWithoutPredictions}, "));
        sb.Append("\"predictions_dir\": ").Append(JsonSerializer.Serialize(predictions)).Append(", \"plot\": ").Append(JsonSerializer.Serialize(plot)).Append("}\n");
        return sb.ToString();
    }
}
