using System.CommandLine;
using System.Globalization;
using Mtcnn.Cli.Output;
using Mtcnn.Imaging;

namespace Mtcnn.Cli.Detect;

/// <summary>
/// <c>mtcnn detect INPUT...</c>: detects faces in files, folders and stdin path lists; results on stdout in the chosen
/// format, errors, progress and the summary on stderr. Exit code 0 when every image was processed, 1 when any failed,
/// 2 for a usage error.
/// </summary>
internal static class DetectCommand
{
    private static readonly string[] Stages = ["pnet", "rnet", "onet"];

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var inputs = new Argument<string[]>("INPUT")
        {
            Description = "Image files, folders of images (.jpg .jpeg .png .bmp .webp .gif), or - to read paths from stdin, one per line.",
            Arity = ArgumentArity.OneOrMore,
        };
        OptionFactory.RejectOptionLikeInputs(inputs);
        var recursive = new Option<bool>("--recursive", "-r") { Description = "Also scan the subfolders of folder inputs." };
        var detector = new DetectorOptionSet(
            "Threads to use; 0 uses every core. Images run in parallel, one thread each, when there are enough of them.");
        var stage = OptionFactory.Choice("--stage", "onet", Stages,
            "Last cascade stage to run; pnet or rnet report that stage's candidate boxes and scores (no landmarks).");
        var output = new Option<string>("--output", "-o")
        {
            Description = "Write annotated copies as PNG into this folder (created as needed), named like the inputs, subfolders mirrored.",
            HelpName = "dir",
        };
        var format = OptionFactory.Choice("--format", "text", ResultWriter.Formats, "Output format on stdout.");
        format.Aliases.Add("-f");
        var allowIncomplete = new Option<bool>("--allow-incomplete")
        {
            Description = "Detect in the decoded part of truncated or partly corrupt images instead of reporting them as failed.",
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress lines and no summary on stderr (errors are still shown)." };
        var backend = new BackendOptionSet();
        var select = OptionFactory.Choice("--select", "all", Align.FaceCropMaker.Selections,
            "Which faces to report: all, largest (box area), best (score) or center (largest near the middle, as facenet-pytorch's center_weighted_size).");

        var command = new Command("detect",
            "Detect faces (box, score, five landmarks) in images, folders or a list of paths from stdin. Results go to stdout; "
            + "errors, progress and a summary to stderr. Exit code 0: every image processed, 1: some image failed, 2: usage error.")
        {
            inputs, recursive,
        };
        detector.AddTo(command);
        command.Options.Add(stage);
        command.Options.Add(output);
        command.Options.Add(format);
        command.Options.Add(allowIncomplete);
        command.Options.Add(select);
        backend.AddTo(command);
        command.Options.Add(quiet);
        command.With(
            "mtcnn detect samples/astronaut.png --output out/",
            "mtcnn detect photos/ --recursive --format jsonl > faces.jsonl",
            "find photos -name '*.jpg' | mtcnn detect - --format csv > faces.csv",
            "mtcnn detect group.jpg --min-face-size 40 --thresholds 0.6,0.7,0.8 --max-faces 5",
            "mtcnn detect photo.jpg --stage pnet --output pnet-view/",
            "mtcnn detect scans/ --rotations auto --format jsonl",
            "mtcnn detect portraits/ --select center --format csv");

        command.SetAction(pr =>
        {
            var options = detector.Read(pr) with
            {
                LastStage = pr.GetValue(stage) switch
                {
                    "pnet" => CascadeStage.PNet,
                    "rnet" => CascadeStage.RNet,
                    _ => CascadeStage.ONet,
                },
            };
            ValidateOptions(options);
            var settings = new DetectSettings(
                pr.GetValue(inputs)!,
                pr.GetValue(recursive),
                options,
                pr.GetValue(detector.Weights),
                pr.GetValue(output),
                pr.GetValue(format)!,
                pr.GetValue(allowIncomplete),
                pr.GetValue(quiet),
                Align.FaceCropMaker.ParseSelection(pr.GetValue(select)!));
            return Execute(settings, console, (weights, threads) => backend.Create(pr, weights, threads, console));
        });
        return command;
    }

    /// <summary>Checks the detector options, turning a range error into a usage error that names the command-line option.</summary>
    /// <param name="options">The options built from the command line.</param>
    /// <param name="command">The verb whose help the message points to (e.g. <c>detect</c>, <c>eval wider</c>).</param>
    /// <exception cref="UsageException">A value is out of range.</exception>
    public static void ValidateOptions(DetectorOptions options, string command = "detect") => DetectorOptionSet.Validate(options, command);

    private static int Execute(DetectSettings s, CliConsole console, Func<MtcnnWeights?, int, INetworkBackend?> makeBackend)
    {
        var weights = WeightsFile.Load(s.WeightsPath, "--weights", console);
        var items = InputResolver.Resolve(s.Inputs, s.Recursive, console.In, w => console.WriteErrorLine($"{CliApp.Name}: {w}"));
        if (items.Count == 0)
        {
            // Still a complete (empty) document for a parser at the other end of a pipe: [] in json, the header in csv.
            var empty = ResultWriter.Create(s.Format, console.Out);
            empty.Begin();
            empty.End();
            throw new CliFailureException("no images to process.");
        }

        if (s.OutputDirectory is not null)
        {
            OutputFolder.Prepare(s.OutputDirectory, "--output");
        }

        var (workers, perImage) = DetectPipeline.Split(s.Options.EffectiveParallelism, items.Count);
        using var backend = makeBackend(weights, s.Options.MaxDegreeOfParallelism) as IDisposable;

        // ONNX Runtime parallelises inside each call: one image at a time, every thread given to it.
        var detector = backend is INetworkBackend b
            ? new FaceDetector(s.Options with { MaxDegreeOfParallelism = 1 }, b)
            : new FaceDetector(s.Options with { MaxDegreeOfParallelism = perImage }, weights);
        workers = backend is null ? workers : 1;
        var annotator = s.OutputDirectory is null ? null : new FaceAnnotator();
        var pipeline = new DetectPipeline(detector, workers, annotator, s.OutputDirectory, new ImageLoadOptions { AllowIncompleteData = s.AllowIncomplete }, s.Select);
        var writer = ResultWriter.Create(s.Format, console.Out);
        var progress = new ProgressReporter(console, items.Count, !s.Quiet);
        int faces = 0, failed = 0, done = 0;

        writer.Begin();
        pipeline.Run(
            items,
            outcome =>
            {
                done++;
                if (outcome.Failed)
                {
                    failed++;
                    progress.BreakLine();
                    console.WriteErrorLine($"{CliApp.Name}: error: {CliApp.Printable(outcome.Path)}: {outcome.Error}");
                }
                else
                {
                    faces += outcome.Boxes.Count;
                    if (outcome.Warning is not null && !s.Quiet)
                    {
                        progress.BreakLine();
                        console.WriteErrorLine($"{CliApp.Name}: warning: {CliApp.Printable(outcome.Path)}: {outcome.Warning}");
                    }
                }

                writer.Write(outcome);
                progress.Tick(done);
            },
            progress.Tick);
        writer.End();
        progress.BreakLine();

        if (items.Count > 1 && !s.Quiet)
        {
            double seconds = progress.Elapsed.TotalSeconds;
            string noun = s.Options.LastStage == CascadeStage.ONet ? "face" : "candidate";
            console.WriteErrorLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{CliApp.Name}: {items.Count} images, {faces} {noun}{(faces == 1 ? "" : "s")}, {failed} failed, {seconds:0.00} s ({items.Count / Math.Max(seconds, 1e-9):0.#} img/s, {workers} at a time x {perImage} thread{(perImage == 1 ? "" : "s")})"));
        }

        return failed > 0 ? ExitCodes.Failure : ExitCodes.Success;
    }

    private sealed record DetectSettings(
        string[] Inputs, bool Recursive, DetectorOptions Options, string? WeightsPath, string? OutputDirectory, string Format, bool AllowIncomplete, bool Quiet, FaceSelection Select);
}
