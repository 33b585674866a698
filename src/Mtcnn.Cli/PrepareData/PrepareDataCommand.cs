using System.CommandLine;
using System.Globalization;
using Mtcnn.Cli.Detect;
using Mtcnn.Cli.Eval;
using Mtcnn.Evaluation;
using Mtcnn.Evaluation.Annotations;
using Mtcnn.Training.Data;

namespace Mtcnn.Cli.PrepareData;

/// <summary>
/// <c>mtcnn prepare-data --net pnet|rnet|onet --output DIR</c>: generates the training samples of one network from a
/// WIDER FACE box list and/or a CNN_FacePoint landmark list (see docs/training.md) into <c>DIR/NET.samples</c>. Bad
/// annotation lines and unreadable images are reported on stderr (file and line) and skipped; the summary goes to
/// stdout. Exit code 0 when everything was used, 1 when something was skipped or failed, 2 for a usage error.
/// </summary>
internal static class PrepareDataCommand
{
    private const string Verb = "prepare-data";
    private static readonly string[] Nets = ["pnet", "rnet", "onet"];
    private static readonly string[] Switches = ["auto", "on", "off"];

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var net = new Option<string>("--net")
        {
            Description = "The network to make samples for: pnet (12x12), rnet (24x24, mines hard examples with P-Net) or onet (48x48, mines with P-Net and R-Net).",
            HelpName = string.Join('|', Nets),
            Required = true,
        };
        net.Validators.Add(r =>
        {
            string v = r.GetValueOrDefault<string>() ?? string.Empty;
            if (!Nets.Contains(v.ToLowerInvariant()))
            {
                r.AddError($"--net: expected one of {string.Join(", ", Nets)}, got '{v}'");
            }
        });
        var output = new Option<string>("--output", "-o") { Description = "Folder for the sample file NET.samples (created as needed).", HelpName = "dir", Required = true };
        var widerAnnotations = new Option<string>("--wider-annotations") { Description = "WIDER FACE box list (wider_face_train_bbx_gt.txt layout).", HelpName = "file" };
        var widerImages = new Option<string>("--wider-images") { Description = "Folder the WIDER list's image paths are relative to (WIDER_train/images).", HelpName = "dir" };
        var landmarks = new Option<string>("--landmarks") { Description = "CNN_FacePoint landmark list (path left right top bottom x1 y1 ... x5 y5).", HelpName = "file" };
        var landmarkImages = new Option<string>("--landmark-images") { Description = "Folder the landmark list's image paths are relative to; default: the list's folder.", HelpName = "dir" };
        var lines = new Option<string>("--lines")
        {
            Description = "Use only these lines of the landmark list, 1-based and inclusive: A:B, A: (to the end) or :B. E.g. 1:9000 for training, 9001:10000 held out.",
            HelpName = "A:B",
        };
        var facesFromLandmarks = OptionFactory.Choice("--faces-from-landmarks", "auto", Switches,
            "Use the landmark list's boxes as face boxes for positives, parts and negatives too; auto: on when no WIDER list is given.");
        var ratio = new Option<string>("--ratio")
        {
            Description = "Ratio negative:positive:part:landmark kept by dropping random samples of the plentiful kinds (never repeating any), or 'all' to keep everything.",
            HelpName = "N:P:R:L|all",
            DefaultValueFactory = _ => SampleRatio.Default.ToString(),
        };
        var maxSamples = OptionFactory.Long("--max-samples", 0, "Keep at most this many samples in all, in the same ratio; 0: no limit.");
        var negatives = OptionFactory.Int("--negatives-per-image", 50,
            "Random negative squares per image (side 12 .. min(W,H)/2). For rnet/onet they only fill up what the mined negatives leave short.");
        var nearFace = OptionFactory.Int("--near-face-negatives", 5, "Negative squares tried next to each face.");
        var shifted = OptionFactory.Int("--shifted-tries", 20, "Shifted squares tried around each face, kept as positives (IoU >= 0.65) or parts (IoU >= 0.4).");
        var landmarkTries = OptionFactory.Int("--landmark-tries", 30, "Shifted squares tried around each landmark face, kept at IoU > 0.65 with all five points inside.");
        var minSource = OptionFactory.Float("--min-source-face", 12f, "Faces with a shorter side below this many pixels give no positives, parts or landmark samples.");
        var flip = OptionFactory.Float("--flip-probability", 0.5f, "Probability that a landmark sample is mirrored (left/right points swapped), in [0, 1].");
        var rotation = OptionFactory.Float("--rotation-probability", 0.5f, "Probability that a landmark sample is rotated, in [0, 1].");
        var maxRotation = OptionFactory.Float("--max-rotation", 15f, "Largest rotation of landmark samples in degrees, either way, in [0, 45].");
        var border = OptionFactory.Choice("--border-crops", "auto", Switches,
            "Let positive, part and landmark squares reach past the image border (zero padded); auto: off for pnet, on for rnet/onet.");
        var seed = OptionFactory.Long("--seed", 1, "Random seed; the same seed and inputs give the same samples at any thread count.");
        var threads = OptionFactory.Int("--threads", 0, "Images processed at once; 0 uses every core.");
        var weights = new Option<string>("--weights")
        {
            Description = "rnet/onet: weights of the earlier stage(s) that mine hard examples (file or folder with one .safetensors); default: the bundled weights.",
            HelpName = "path",
        };
        var minFace = OptionFactory.Float("--min-face-size", 12f, "rnet/onet: minimum face size of the mining detector, in pixels.");
        var thresholds = OptionFactory.FloatList("--thresholds", [0.6f, 0.7f], 2, "rnet/onet: P-Net and R-Net thresholds of the mining detector.");
        var maxMined = OptionFactory.Int("--max-negatives-per-image", 60, "rnet/onet: at most this many mined negatives per image, chosen at random.");
        var noMinedLandmarks = new Option<bool>("--no-mined-landmarks") { Description = "rnet/onet: do not reuse mined positive/part crops that overlap a landmark face as landmark samples." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress lines on stderr (errors and the summary are still shown)." };

        var command = new Command(Verb,
            "Generate training samples (positive, part, negative, landmark) for P-Net, R-Net or O-Net from a WIDER FACE box list and/or "
            + "a CNN_FacePoint landmark list, into one binary sample file. See docs/training.md. Exit code 0: all inputs used, "
            + "1: some lines or images were skipped, 2: usage error.");
        foreach (var o in new Option[]
        {
            net, output, widerAnnotations, widerImages, landmarks, landmarkImages, lines, facesFromLandmarks, ratio, maxSamples,
            negatives, nearFace, shifted, landmarkTries, minSource, flip, rotation, maxRotation, border, seed, threads,
            weights, minFace, thresholds, maxMined, noMinedLandmarks, quiet,
        })
        {
            command.Options.Add(o);
        }

        command.With(
            "mtcnn prepare-data --net pnet --landmarks data/landmarks/trainImageList_80x80.txt --lines 1:9000 --output samples/",
            "mtcnn prepare-data --net rnet --landmarks list.txt --lines 1:9000 --weights runs/train/pnet1/ --output samples/",
            "mtcnn prepare-data --net pnet --wider-annotations wider_face_train_bbx_gt.txt --wider-images WIDER_train/images --landmarks trainImageList.txt --output samples/");

        command.SetAction(pr =>
        {
            string netName = pr.GetValue(net)!.ToLowerInvariant();
            var stage = netName switch { "rnet" => CascadeStage.RNet, "onet" => CascadeStage.ONet, _ => CascadeStage.PNet };
            var defaults = DataPreparationOptions.For(stage);
            float[] t = pr.GetValue(thresholds)!;
            var options = defaults with
            {
                Seed = pr.GetValue(seed),
                MaxDegreeOfParallelism = pr.GetValue(threads),
                Ratio = ParseRatio(pr.GetValue(ratio)),
                MaxSamples = pr.GetValue(maxSamples),
                NegativesPerImage = pr.GetValue(negatives),
                NearFaceNegatives = pr.GetValue(nearFace),
                ShiftedTries = pr.GetValue(shifted),
                LandmarkTries = pr.GetValue(landmarkTries),
                MinSourceFace = pr.GetValue(minSource),
                FlipProbability = pr.GetValue(flip),
                RotationProbability = pr.GetValue(rotation),
                MaxRotationDegrees = pr.GetValue(maxRotation),
                BorderCrops = Switch(pr.GetValue(border)),
                MinFaceSize = pr.GetValue(minFace),
                PNetThreshold = t[0],
                RNetThreshold = t[1],
                MaxMinedNegativesPerImage = pr.GetValue(maxMined),
                MinedLandmarks = !pr.GetValue(noMinedLandmarks),
            };
            var sources = new DataSources
            {
                WiderAnnotations = pr.GetValue(widerAnnotations),
                WiderImages = pr.GetValue(widerImages),
                Landmarks = pr.GetValue(landmarks),
                LandmarkImages = pr.GetValue(landmarkImages),
                LandmarkLines = ParseLines(pr.GetValue(lines), pr.GetValue(landmarks) is not null),
                FacesFromLandmarks = Switch(pr.GetValue(facesFromLandmarks)),
            };
            return Execute(sources, options, pr.GetValue(weights), pr.GetValue(output)!, pr.GetValue(quiet), console);
        });
        return command;
    }

    private static int Execute(DataSources sources, DataPreparationOptions options, string? weightsPath, string outputDir, bool quiet, CliConsole console)
    {
        CheckSources(sources);
        Validate(options);
        if (options.Net == CascadeStage.PNet && weightsPath is not null)
        {
            throw new UsageException($"--weights: pnet samples are not mined with a detector; drop --weights (see '{CliApp.Name} {Verb} --help')");
        }

        RequireInputs(sources);

        if (weightsPath is not null)
        {
            options = options with { Weights = WeightsFile.Load(weightsPath, "--weights", console) };
            if (options.Weights!.Variant != ModelVariant.Original)
            {
                throw new CliFailureException($"--weights: '{weightsPath}' holds {MtcnnWeights.VariantName(options.Weights.Variant)} weights; hard-example mining needs the original variant (its crops use the original cascade's area averaging).");
            }
        }

        IReadOnlyList<TrainingImage> images;
        IReadOnlyList<AnnotationIssue> lineIssues;
        try
        {
            (images, lineIssues) = sources.Load();
        }
        catch (EvaluationDataException e)
        {
            throw new CliFailureException(e.Message, e);
        }

        foreach (var issue in lineIssues)
        {
            console.WriteErrorLine($"{CliApp.Name}: error: {issue}");
        }

        if (images.Count == 0)
        {
            throw new CliFailureException("the annotation lists name no usable images.");
        }

        try
        {
            Directory.CreateDirectory(outputDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliFailureException($"--output: cannot create '{outputDir}': {e.Message}", e);
        }

        string netName = options.Net.ToString().ToLowerInvariant();
        string file = Path.Combine(outputDir, netName + ".samples");
        var progressLock = new object();
        var scan = new ProgressReporter(console, images.Count, !quiet, "scan ");
        ProgressReporter? crop = null;
        void OnProgress(PreparationProgress p)
        {
            lock (progressLock)
            {
                if (p.Phase == "scan")
                {
                    scan.Tick(p.Done);
                    return;
                }

                if (crop is null)
                {
                    scan.BreakLine();
                    crop = new ProgressReporter(console, p.Total, !quiet, "crop ");
                }

                crop.Tick(p.Done);
            }
        }

        void OnIssue(AnnotationIssue issue)
        {
            lock (progressLock)
            {
                scan.BreakLine();
                crop?.BreakLine();
                console.WriteErrorLine($"{CliApp.Name}: error: {issue}");
            }
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        AddIf(metadata, "wider_annotations", sources.WiderAnnotations);
        AddIf(metadata, "wider_images", sources.WiderImages);
        AddIf(metadata, "landmarks", sources.Landmarks);
        AddIf(metadata, "landmark_images", sources.LandmarkImages);
        if (sources.Landmarks is not null)
        {
            metadata["landmark_lines"] = sources.LandmarkLines.ToString();
            metadata["faces_from_landmarks"] = sources.UseLandmarkFaces ? "true" : "false";
        }

        AddIf(metadata, "mining_weights_file", weightsPath);

        PreparationResult result;
        try
        {
            result = DataPreparation.Run(images, options, OnProgress, OnIssue, metadata);
        }
        catch (IOException e)
        {
            throw new CliFailureException(e.Message, e);
        }

        scan.BreakLine();
        crop?.BreakLine();
        try
        {
            result.Samples.Write(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliFailureException($"cannot write '{file}': {e.Message}", e);
        }

        WriteSummary(console.Out, result, lineIssues.Count, file, netName);
        return lineIssues.Count > 0 || result.SkippedImages > 0 ? ExitCodes.Failure : ExitCodes.Success;
    }

    private static void WriteSummary(TextWriter o, PreparationResult r, int badLines, string file, string net)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(inv, $"{net}: {r.Images} images ({r.SkippedImages} skipped), {badLines} bad annotation line{(badLines == 1 ? "" : "s")}, {r.Elapsed.TotalSeconds:0.0} s"));
        bool mined = r.MinedGenerated.Total > 0;
        string minedHeader = mined ? string.Create(inv, $" {"mined",10} {"kept mined",10}") : string.Empty;
        o.WriteLine(string.Create(inv, $"{"kind",-10} {"generated",10} {"kept",10}{minedHeader}"));
        foreach (var kind in new[] { SampleKind.Negative, SampleKind.Positive, SampleKind.Part, SampleKind.Landmark })
        {
            string minedColumns = mined ? string.Create(inv, $" {r.MinedGenerated.Of(kind),10} {r.MinedKept.Of(kind),10}") : string.Empty;
            o.WriteLine(string.Create(inv, $"{kind.ToString().ToLowerInvariant(),-10} {r.Generated.Of(kind),10} {r.Kept.Of(kind),10}{minedColumns}"));
        }

        string minedTotal = mined ? string.Create(inv, $" {r.MinedGenerated.Total,10} {r.MinedKept.Total,10}") : string.Empty;
        o.WriteLine(string.Create(inv, $"{"total",-10} {r.Generated.Total,10} {r.Kept.Total,10}{minedTotal}"));
        foreach (string note in r.Notes)
        {
            o.WriteLine("note: " + note);
        }

        long bytes = new FileInfo(file).Length;
        o.WriteLine(string.Create(inv, $"wrote {file} ({r.Samples.Count} samples of {r.Samples.Size}x{r.Samples.Size}, {bytes / 1e6:0.0} MB)"));
    }

    private static void AddIf(Dictionary<string, string> map, string key, string? value)
    {
        if (value is not null)
        {
            map[key] = value;
        }
    }

    private static bool? Switch(string? value) => value switch { "on" => true, "off" => false, _ => null };

    private static SampleRatio? ParseRatio(string? text)
    {
        if (string.Equals(text, "all", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return SampleRatio.TryParse(text, out var r)
            ? r
            : throw new UsageException($"--ratio: expected four whole numbers like 3:1:1:2 (negative:positive:part:landmark) or 'all', got '{text}' (see '{CliApp.Name} {Verb} --help')");
    }

    private static LineRange ParseLines(string? text, bool haveLandmarks)
    {
        if (text is null)
        {
            return LineRange.All;
        }

        if (!haveLandmarks)
        {
            throw new UsageException($"--lines selects lines of the landmark list; give --landmarks too (see '{CliApp.Name} {Verb} --help')");
        }

        return LineRange.TryParse(text, out var range)
            ? range
            : throw new UsageException($"--lines: expected A:B, A: or :B with 1 <= A <= B, got '{text}' (see '{CliApp.Name} {Verb} --help')");
    }

    private static void CheckSources(DataSources s)
    {
        string help = $"(see '{CliApp.Name} {Verb} --help')";
        if (s.WiderAnnotations is null && s.Landmarks is null)
        {
            throw new UsageException($"give --wider-annotations with --wider-images, --landmarks, or both {help}");
        }

        if ((s.WiderAnnotations is null) != (s.WiderImages is null))
        {
            throw new UsageException($"--wider-annotations and --wider-images go together {help}");
        }

        if (s.LandmarkImages is not null && s.Landmarks is null)
        {
            throw new UsageException($"--landmark-images needs --landmarks {help}");
        }

    }

    private static void RequireInputs(DataSources s)
    {
        EvalCommand.RequireInput(s.WiderAnnotations, "--wider-annotations", fileAllowed: true);
        EvalCommand.RequireInput(s.WiderImages, "--wider-images");
        EvalCommand.RequireInput(s.Landmarks, "--landmarks", fileAllowed: true);
        EvalCommand.RequireInput(s.LandmarkImages, "--landmark-images");
    }

    private static void Validate(DataPreparationOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            string option = e.ParamName switch
            {
                nameof(DataPreparationOptions.MaxDegreeOfParallelism) => "--threads",
                nameof(DataPreparationOptions.NegativesPerImage) => "--negatives-per-image",
                nameof(DataPreparationOptions.NearFaceNegatives) => "--near-face-negatives",
                nameof(DataPreparationOptions.ShiftedTries) => "--shifted-tries",
                nameof(DataPreparationOptions.LandmarkTries) => "--landmark-tries",
                nameof(DataPreparationOptions.MaxMinedNegativesPerImage) => "--max-negatives-per-image",
                nameof(DataPreparationOptions.MaxSamples) => "--max-samples",
                nameof(DataPreparationOptions.MinSourceFace) => "--min-source-face",
                nameof(DataPreparationOptions.FlipProbability) => "--flip-probability",
                nameof(DataPreparationOptions.RotationProbability) => "--rotation-probability",
                nameof(DataPreparationOptions.MaxRotationDegrees) => "--max-rotation",
                nameof(DataPreparationOptions.MinFaceSize) => "--min-face-size",
                nameof(DataPreparationOptions.PNetThreshold) or nameof(DataPreparationOptions.RNetThreshold) => "--thresholds",
                nameof(DataPreparationOptions.Ratio) => "--ratio",
                _ => e.ParamName ?? "option",
            };
            throw DetectorOptionSet.RangeError(e, option, Verb);
        }
    }
}
