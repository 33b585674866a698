using System.CommandLine;
using System.Globalization;
using System.Text;
using Mtcnn.Alignment;
using Mtcnn.Cli.Detect;
using Mtcnn.Cli.Output;
using Mtcnn.Imaging;

namespace Mtcnn.Cli.Align;

/// <summary>
/// <c>mtcnn align INPUT... --output DIR</c>: detects faces and writes one aligned crop per face (PNG) into DIR, plus one
/// JSON Lines record per face (source image, face index, box, score, landmarks, the 2x3 transform) on stdout and in
/// <c>DIR/align.jsonl</c>; an input that gives no crop has one record saying why (no face, or its error), so every
/// input is accounted for. Exit code 0 when every image was read, 1 when any failed, 2 for a usage error.
/// </summary>
internal static class AlignCommand
{
    /// <summary>The record file written into the output folder.</summary>
    public const string RecordFile = "align.jsonl";

    private const string NoFaceFound = "no face found";

    private const string IncompleteWarning = "the image is truncated or partly corrupt; aligned in the decoded part (--allow-incomplete)";

    private static readonly ImageLoadOptions IncompleteAllowed = new() { AllowIncompleteData = true };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var inputs = new Argument<string[]>("INPUT")
        {
            Description = "Image files, folders of images (.jpg .jpeg .png .bmp .webp .gif), or - to read paths from stdin, one per line.",
            Arity = ArgumentArity.OneOrMore,
        };
        OptionFactory.RejectOptionLikeInputs(inputs);
        var output = new Option<string>("--output", "-o")
        {
            Description = $"Folder for the crops (PNG, named like the inputs plus _<face index>, subfolders mirrored) and {RecordFile}; created as needed.",
            HelpName = "dir",
            Required = true,
        };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "Also scan the subfolders of folder inputs." };
        var allowIncomplete = new Option<bool>("--allow-incomplete")
        {
            Description = "Align faces in the decoded part of truncated or partly corrupt images (with a warning) instead of reporting them as failed.",
        };
        var align = new AlignOptionSet();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress lines, warnings or summary on stderr (errors are still shown)." };

        var command = new Command("align",
            "Detect faces and write aligned crops (similarity transform of the five landmarks onto a template, bilinear; or FaceNet's box crops with --template facenet160) as PNG, "
            + $"with one JSON Lines record per face on stdout and in DIR/{RecordFile} (an input without a crop gets one record saying why). Exit code 0: every image read, 1: some image failed, 2: usage error.")
        {
            inputs, output, recursive, allowIncomplete,
        };
        foreach (var option in align.All)
        {
            command.Options.Add(option);
        }

        command.Options.Add(quiet);
        var detector = DetectorArguments.AddTo(command);
        command.With(
            "mtcnn align photos/ --recursive --output crops/",
            "mtcnn align group.jpg --output crops/ --largest",
            "mtcnn align a.jpg --output crops/ --template arcface112x96 --size 224 --margin 0.1",
            "mtcnn align people/ --output crops/ --template facenet160 --margin 32 --select center",
            "mtcnn align sideways.jpg --output crops/ --rotations auto");

        command.SetAction(pr =>
        {
            var options = detector.Build(pr, DetectorOptions.Default, "align");
            var crops = align.Build(pr, "align");
            var settings = new AlignSettings(pr.GetValue(inputs)!, pr.GetValue(recursive), pr.GetValue(output)!, pr.GetValue(allowIncomplete), pr.GetValue(quiet), options, crops);
            return Execute(settings, detector.LoadWeights(pr, console), console);
        });
        return command;
    }

    private static int Execute(AlignSettings s, MtcnnWeights? weights, CliConsole console)
    {
        var items = InputResolver.Resolve(s.Inputs, s.Recursive, console.In, w =>
        {
            if (!s.Quiet)
            {
                console.WriteErrorLine($"{CliApp.Name}: {w}");
            }
        });
        if (items.Count == 0)
        {
            throw new CliFailureException("no images to process.");
        }

        OutputFolder.Prepare(s.Output, "--output");

        var (workers, perImage) = DetectPipeline.Split(s.Detector.EffectiveParallelism, items.Count);
        var detector = new FaceDetector(s.Detector with { MaxDegreeOfParallelism = perImage }, weights);
        var aligner = s.Crops.CreateMaker();
        var progress = new ProgressReporter(console, items.Count, !s.Quiet);
        string recordPath = Path.Combine(s.Output, RecordFile);
        int faces = 0, failed = 0, done = 0;
        using (var records = OpenRecords(recordPath))
        {
            OrderedParallel.Run(
                items.Count,
                workers,
                (i, _) => Process(items[i], detector, aligner, s),
                (_, result) =>
                {
                    done++;
                    if (result.Error is not null)
                    {
                        failed++;
                        progress.BreakLine();
                        console.WriteErrorLine($"{CliApp.Name}: error: {CliApp.Printable(result.Path)}: {result.Error}");
                    }
                    else if (!s.Quiet)
                    {
                        foreach (string warning in result.Warnings)
                        {
                            progress.BreakLine();
                            console.WriteErrorLine($"{CliApp.Name}: warning: {CliApp.Printable(result.Path)}: {warning}");
                        }
                    }

                    faces += result.Records.Count;
                    foreach (string line in Lines(result))
                    {
                        console.Out.WriteLine(line);
                        records.WriteLine(line);
                    }

                    console.Out.Flush();
                    progress.Tick(done);
                },
                _ => progress.Tick(done));
        }

        progress.BreakLine();
        if (!s.Quiet)
        {
            console.WriteErrorLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{CliApp.Name}: {items.Count} image{(items.Count == 1 ? "" : "s")}, {faces} aligned face{(faces == 1 ? "" : "s")}, {failed} failed, {progress.Elapsed.TotalSeconds:0.00} s -> {s.Output}"));
        }

        return failed > 0 ? ExitCodes.Failure : ExitCodes.Success;
    }

    private static StreamWriter OpenRecords(string path)
    {
        try
        {
            return new StreamWriter(path, append: false, new UTF8Encoding(false)) { NewLine = "\n" };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliFailureException($"cannot write '{path}': {e.Message}", e);
        }
    }

    private static AlignOutcome Process(InputItem item, FaceDetector detector, FaceCropMaker aligner, AlignSettings s)
    {
        if (item.Error is not null)
        {
            return AlignOutcome.Failure(item.Path, item.Error);
        }

        LoadedImage image;
        try
        {
            image = ImageInput.Load(item.Path, item.Path, s.AllowIncomplete ? IncompleteAllowed : ImageLoadOptions.Default);
        }
        catch (ImageLoadException e)
        {
            return AlignOutcome.Failure(item.Path, CliApp.LoadProblem(e));
        }

        DetectionResult detection;
        try
        {
            detection = detector.Detect(image.Image);
        }
        catch (ArgumentException e)
        {
            return AlignOutcome.Failure(item.Path, CliApp.OneLine(FirstSentence(e)));
        }

        var outcome = AlignFaces(item, image.Image, detection.Faces, aligner, s.Output);
        if (outcome.Error is not null)
        {
            return outcome;
        }

        string[] notes = [.. image.IsIncomplete ? [IncompleteWarning] : Array.Empty<string>(), .. ImageOutcome.LimitWarning(detection) is { } limit ? [limit] : Array.Empty<string>()];
        return notes.Length == 0 ? outcome : outcome with { Warnings = [.. notes, .. outcome.Warnings] };
    }

    /// <summary>
    /// The lines <c>align</c> writes for one input: a record per crop; or, when there is none, one record saying why:
    /// <c>{"image", "face": null, "crop": null, "reason"}</c>, or <c>{"image", "error"}</c> (as <c>detect</c>'s error records).
    /// </summary>
    internal static IReadOnlyList<string> Lines(AlignOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Error is not null)
        {
            return [JsonResultWriter.FormatLine(ImageOutcome.Failure(outcome.Path, outcome.Error))];
        }

        if (outcome.Records.Count > 0)
        {
            return outcome.Records;
        }

        string reason = outcome.NoFace ? NoFaceFound : "no face could be aligned";
        return [$"{{\"image\": {JsonResultWriter.Quote(outcome.Path)}, \"face\": null, \"crop\": null, \"reason\": {JsonResultWriter.Quote(reason)}}}"];
    }

    /// <summary>True for a line of <see cref="Lines"/> that describes a crop (not a no-crop or error record).</summary>
    internal static bool IsCropLine(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        using var doc = System.Text.Json.JsonDocument.Parse(line);
        return doc.RootElement.TryGetProperty("crop", out var crop) && crop.ValueKind == System.Text.Json.JsonValueKind.String;
    }

    /// <summary>
    /// Crops the faces found in one image that the selection keeps, writes each crop as a PNG under
    /// <paramref name="outputDirectory"/> (named after <see cref="InputItem.OutputName"/> plus <c>_FACE</c>), and returns one
    /// record per crop in <c>mtcnn align</c>'s format; a crop that cannot be written fails the image.
    /// </summary>
    internal static AlignOutcome AlignFaces(InputItem item, ImageData image, IReadOnlyList<Face> found, FaceCropMaker aligner, string outputDirectory)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(found);
        ArgumentNullException.ThrowIfNull(aligner);
        if (found.Count == 0)
        {
            return new AlignOutcome(item.Path, null, [], [NoFaceFound]) { NoFace = true };
        }

        var chosen = FaceSelector.Select(found, image.Width, image.Height, aligner.Spec.Select);
        string stem = Path.ChangeExtension(item.OutputName, null);
        var records = new List<string>();
        var warnings = new List<string>();
        foreach (int index in chosen)
        {
            var face = found[index];
            FaceCropResult aligned;
            try
            {
                aligned = aligner.Crop(image, face);
            }
            catch (AlignmentException e)
            {
                warnings.Add($"face {index}: cannot align: {CliApp.OneLine(e.Message)}");
                continue;
            }

            string cropName = string.Create(CultureInfo.InvariantCulture, $"{stem}_{index}.png");
            string cropPath = Path.Combine(outputDirectory, cropName);
            try
            {
                string? folder = Path.GetDirectoryName(cropPath);
                if (!string.IsNullOrEmpty(folder))
                {
                    Directory.CreateDirectory(folder);
                }

                ImageSaver.Save(aligned.Image, cropPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
            {
                return AlignOutcome.Failure(item.Path, $"cannot write the crop '{cropPath}': {CliApp.OneLine(e.Message)}");
            }

            records.Add(Record(item.Path, index, cropName, face, aligned, aligner.Spec.Template));
        }

        return new AlignOutcome(item.Path, null, records, warnings);
    }

    /// <summary>
    /// One JSON line: <c>{"image", "face", "crop", "box", "score", "landmarks", "matrix", "template", "width", "height"}</c>,
    /// plus <c>"region"</c> (the pixels cut out) for box crops.
    /// </summary>
    private static string Record(string image, int index, string crop, Face face, FaceCropResult aligned, string template)
    {
        var sb = new StringBuilder(512);
        sb.Append("{\"image\": ").Append(JsonResultWriter.Quote(image));
        sb.Append(", \"face\": ").Append(NumberText.Integer(index));
        sb.Append(", \"crop\": ").Append(JsonResultWriter.Quote(crop.Replace(Path.DirectorySeparatorChar, '/')));
        var b = face.Box;
        sb.Append(", \"box\": [").Append(NumberText.Coordinate(b.X1)).Append(", ").Append(NumberText.Coordinate(b.Y1)).Append(", ")
            .Append(NumberText.Coordinate(b.X2)).Append(", ").Append(NumberText.Coordinate(b.Y2)).Append(']');
        sb.Append(", \"score\": ").Append(NumberText.Score(face.Score));
        sb.Append(", \"landmarks\": [");
        for (int k = 0; k < FaceLandmarks.Count; k++)
        {
            var p = face.Landmarks[k];
            sb.Append(k == 0 ? "[" : ", [").Append(NumberText.Coordinate(p.X)).Append(", ").Append(NumberText.Coordinate(p.Y)).Append(']');
        }

        var t = aligned.Matrix;
        sb.Append("], \"matrix\": [[").Append(Matrix(t[0])).Append(", ").Append(Matrix(t[1])).Append(", ").Append(Matrix(t[2]))
            .Append("], [").Append(Matrix(t[3])).Append(", ").Append(Matrix(t[4])).Append(", ").Append(Matrix(t[5])).Append("]]");
        sb.Append(", \"template\": ").Append(JsonResultWriter.Quote(template));
        sb.Append(", \"width\": ").Append(NumberText.Integer(aligned.Image.Width));
        sb.Append(", \"height\": ").Append(NumberText.Integer(aligned.Image.Height));
        if (aligned.Region is { } r)
        {
            sb.Append(", \"region\": [").Append(NumberText.Integer(r.X1)).Append(", ").Append(NumberText.Integer(r.Y1)).Append(", ")
                .Append(NumberText.Integer(r.X2)).Append(", ").Append(NumberText.Integer(r.Y2)).Append(']');
        }
        if (face.Rotation != 0)
        {
            sb.Append(", \"rotation\": ").Append(NumberText.Integer(face.Rotation));
        }

        sb.Append('}');
        return sb.ToString();
    }

    private static string Matrix(double v)
    {
        double r = Math.Round(v, 8);
        return (r == 0 ? 0 : r).ToString("0.########", CultureInfo.InvariantCulture);
    }

    private static string FirstSentence(ArgumentException e)
    {
        string message = e.Message;
        string suffix = $" (Parameter '{e.ParamName}')";
        int at = e.ParamName is null ? -1 : message.IndexOf(suffix, StringComparison.Ordinal);
        return (at >= 0 ? message[..at] : message).TrimEnd('.');
    }

    private sealed record AlignSettings(
        string[] Inputs, bool Recursive, string Output, bool AllowIncomplete, bool Quiet, DetectorOptions Detector, FaceCropSpec Crops);

    /// <summary>One image's crop records, or its error; warnings for faces that could not be aligned.</summary>
    internal sealed record AlignOutcome(string Path, string? Error, IReadOnlyList<string> Records, IReadOnlyList<string> Warnings)
    {
        /// <summary>True when the detector found no face at all (rather than faces that could not be aligned).</summary>
        public bool NoFace { get; init; }

        public static AlignOutcome Failure(string path, string error) => new(path, error, [], []);
    }
}
