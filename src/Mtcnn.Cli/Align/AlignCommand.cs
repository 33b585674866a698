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
/// <c>DIR/align.jsonl</c>. Exit code 0 when every image was read, 1 when any failed, 2 for a usage error.
/// </summary>
internal static class AlignCommand
{
    /// <summary>The record file written into the output folder.</summary>
    public const string RecordFile = "align.jsonl";

    private static readonly string[] Templates = ["arcface112", "arcface112x96"];
    private static readonly string[] BorderModes = ["constant", "replicate"];

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var inputs = new Argument<string[]>("INPUT")
        {
            Description = "Image files, folders of images (.jpg .jpeg .png .bmp .webp .gif), or - to read paths from stdin, one per line.",
            Arity = ArgumentArity.OneOrMore,
        };
        inputs.Validators.Add(r =>
        {
            foreach (var token in r.Tokens)
            {
                if (token.Value.Length > 1 && token.Value[0] == '-')
                {
                    r.AddError($"unknown option '{token.Value}' (to name a file that starts with '-', write ./{token.Value})");
                }
            }
        });
        var output = new Option<string>("--output", "-o")
        {
            Description = $"Folder for the crops (PNG, named like the inputs plus _<face index>, subfolders mirrored) and {RecordFile}; created as needed.",
            HelpName = "dir",
            Required = true,
        };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "Also scan the subfolders of folder inputs." };
        var largest = new Option<bool>("--largest") { Description = "Align only the largest face (by box area) of each image." };
        var template = OptionFactory.Choice("--template", "arcface112", Templates,
            "Landmark template: arcface112 (112x112, the ArcFace/InsightFace standard) or arcface112x96 (96 wide, 112 high).");
        var size = new Option<CropSize?>("--size")
        {
            Description = "Crop size: N (N pixels high, width in the template's proportion) or WxH; default: the template's size. Each side in [8, 4096].",
            HelpName = "N|WxH",
            CustomParser = r => ParseSize(r),
        };
        var margin = OptionFactory.Float("--margin", 0f,
            "Context around the face as a fraction of the template frame on each side: the template shrinks by 1/(1+2*margin) about the centre [0, 10].");
        var border = OptionFactory.Choice("--border", "constant", BorderModes, "Outside the image: constant (black) or replicate (the edge pixel).");
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress lines, warnings or summary on stderr (errors are still shown)." };

        var command = new Command("align",
            "Detect faces and write aligned crops (similarity transform of the five landmarks onto a template, bilinear) as PNG, "
            + $"with one JSON Lines record per face on stdout and in DIR/{RecordFile}. Exit code 0: every image read, 1: some image failed, 2: usage error.")
        {
            inputs, output, recursive, largest, template, size, margin, border, quiet,
        };
        var detector = DetectorArguments.AddTo(command);
        command.With(
            "mtcnn align photos/ --recursive --output crops/",
            "mtcnn align group.jpg --output crops/ --largest",
            "mtcnn align a.jpg --output crops/ --template arcface112x96 --size 224 --margin 0.1",
            "mtcnn align sideways.jpg --output crops/ --rotations auto");

        command.SetAction(pr =>
        {
            var options = detector.Build(pr, DetectorOptions.Default, "align");
            var alignTemplate = pr.GetValue(template) == "arcface112x96" ? AlignmentTemplate.ArcFace112x96 : AlignmentTemplate.ArcFace112;
            var crop = pr.GetValue(size);
            int height = crop?.Height ?? alignTemplate.Height;
            int width = crop is null ? alignTemplate.Width : crop.Width > 0 ? crop.Width : Math.Max(1, (int)Math.Round(crop.Height * (double)alignTemplate.Width / alignTemplate.Height));
            FaceAlignerOptions alignOptions;
            try
            {
                alignOptions = new FaceAlignerOptions
                {
                    Template = alignTemplate,
                    OutputWidth = width,
                    OutputHeight = height,
                    Margin = pr.GetValue(margin),
                    Border = pr.GetValue(border) == "replicate" ? AlignmentBorder.Replicate : AlignmentBorder.Constant,
                }.Validate();
            }
            catch (ArgumentOutOfRangeException e)
            {
                string name = e.ParamName == nameof(FaceAlignerOptions.Margin) ? "--margin" : "--size";
                string got = e.ActualValue is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : e.ActualValue?.ToString() ?? "?";
                throw new UsageException($"{name}: {CliApp.OneLine(FirstSentence(e))}, got {got} (see 'mtcnn align --help')", e);
            }

            var settings = new AlignSettings(pr.GetValue(inputs)!, pr.GetValue(recursive), pr.GetValue(largest), pr.GetValue(output)!, pr.GetValue(quiet), options, alignOptions);
            return Execute(settings, detector.LoadWeights(pr, console), console);
        });
        return command;
    }

    private static CropSize? ParseSize(System.CommandLine.Parsing.ArgumentResult r)
    {
        if (r.Tokens.Count == 0)
        {
            return null;
        }

        string text = r.Tokens[0].Value;
        string[] parts = text.Split('x', 'X');
        var sides = new int[parts.Length];
        bool ok = parts.Length is 1 or 2;
        for (int i = 0; ok && i < parts.Length; i++)
        {
            ok = int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sides[i]) && sides[i] is >= 8 and <= 4096;
        }

        if (!ok)
        {
            r.AddError($"--size: expected N or WxH like 112 or 96x112, each side in [8, 4096], got '{text}'");
            return null;
        }

        return parts.Length == 1 ? new CropSize(0, sides[0]) : new CropSize(sides[0], sides[1]);
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

        try
        {
            Directory.CreateDirectory(s.Output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliFailureException($"--output: cannot create '{s.Output}': {e.Message}", e);
        }

        var (workers, perImage) = DetectPipeline.Split(s.Detector.EffectiveParallelism, items.Count);
        var detector = new FaceDetector(s.Detector with { MaxDegreeOfParallelism = perImage }, weights);
        var aligner = new FaceAligner(s.Aligner);
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
                        console.WriteErrorLine($"{CliApp.Name}: error: {result.Path}: {result.Error}");
                    }
                    else if (!s.Quiet)
                    {
                        foreach (string warning in result.Warnings)
                        {
                            progress.BreakLine();
                            console.WriteErrorLine($"{CliApp.Name}: warning: {result.Path}: {warning}");
                        }
                    }

                    foreach (string line in result.Records)
                    {
                        faces++;
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

    private static AlignOutcome Process(InputItem item, FaceDetector detector, FaceAligner aligner, AlignSettings s)
    {
        LoadedImage image;
        try
        {
            image = ImageLoader.Load(item.Path);
        }
        catch (ImageLoadException e)
        {
            string message = CliApp.OneLine(e.Message);
            string prefix = e.FileName + ": ";
            return AlignOutcome.Failure(item.Path, e.FileName is not null && message.StartsWith(prefix, StringComparison.Ordinal) ? message[prefix.Length..] : message);
        }

        IReadOnlyList<Face> found;
        try
        {
            found = detector.Detect(image.Image).Faces;
        }
        catch (ArgumentException e)
        {
            return AlignOutcome.Failure(item.Path, CliApp.OneLine(FirstSentence(e)));
        }

        if (found.Count == 0)
        {
            return new AlignOutcome(item.Path, null, [], ["no face found"]);
        }

        IEnumerable<int> chosen = s.Largest
            ? [Enumerable.Range(0, found.Count).MaxBy(i => found[i].Box.Area)]
            : Enumerable.Range(0, found.Count);
        string stem = Path.ChangeExtension(item.OutputName, null);
        var records = new List<string>();
        var warnings = new List<string>();
        foreach (int index in chosen)
        {
            var face = found[index];
            AlignedFace aligned;
            try
            {
                aligned = aligner.Align(image.Image, face);
            }
            catch (AlignmentException e)
            {
                warnings.Add($"face {index}: cannot align: {CliApp.OneLine(e.Message)}");
                continue;
            }

            string cropName = string.Create(CultureInfo.InvariantCulture, $"{stem}_{index}.png");
            string cropPath = Path.Combine(s.Output, cropName);
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

            records.Add(Record(item.Path, index, cropName, face, aligned, s.Aligner.Template.Name));
        }

        return new AlignOutcome(item.Path, null, records, warnings);
    }

    /// <summary>One JSON line: <c>{"image", "face", "crop", "box", "score", "landmarks", "matrix", "template", "width", "height"}</c>.</summary>
    private static string Record(string image, int index, string crop, Face face, AlignedFace aligned, string template)
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

        var t = aligned.Transform;
        sb.Append("], \"matrix\": [[").Append(Matrix(t.M11)).Append(", ").Append(Matrix(t.M12)).Append(", ").Append(Matrix(t.M13))
            .Append("], [").Append(Matrix(t.M21)).Append(", ").Append(Matrix(t.M22)).Append(", ").Append(Matrix(t.M23)).Append("]]");
        sb.Append(", \"template\": ").Append(JsonResultWriter.Quote(template));
        sb.Append(", \"width\": ").Append(NumberText.Integer(aligned.Width));
        sb.Append(", \"height\": ").Append(NumberText.Integer(aligned.Height));
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

    /// <summary>A requested crop size; <see cref="Width"/> 0 means "from the template's proportion".</summary>
    private sealed record CropSize(int Width, int Height);

    private sealed record AlignSettings(
        string[] Inputs, bool Recursive, bool Largest, string Output, bool Quiet, DetectorOptions Detector, FaceAlignerOptions Aligner);

    private sealed record AlignOutcome(string Path, string? Error, IReadOnlyList<string> Records, IReadOnlyList<string> Warnings)
    {
        public static AlignOutcome Failure(string path, string error) => new(path, error, [], []);
    }
}
