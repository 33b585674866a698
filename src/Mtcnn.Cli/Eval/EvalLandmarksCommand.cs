using System.CommandLine;
using System.Globalization;
using Mtcnn.Cli.Detect;
using Mtcnn.Evaluation;
using Mtcnn.Evaluation.Annotations;
using Mtcnn.Evaluation.Landmarks;

namespace Mtcnn.Cli.Eval;

/// <summary><c>mtcnn eval landmarks</c>: detection rate and landmark error on a CNN_FacePoint-format list.</summary>
internal static class EvalLandmarksCommand
{
    /// <summary>The per-image results file in the output folder.</summary>
    public const string CsvName = "landmarks.csv";

    /// <summary>The summary file in the output folder.</summary>
    public const string SummaryName = "results.json";

    /// <summary>The cumulative error plot in the output folder.</summary>
    public const string PlotName = "ced.png";

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var list = new Option<string>("--list")
        {
            Description = "The landmark list in the CNN_FacePoint layout: one face per line, 'path left right top bottom x1 y1 ... x5 y5' (e.g. trainImageList_80x80.txt).",
            HelpName = "file",
            Required = true,
        };
        var images = new Option<string>("--images")
        {
            Description = "The folder the list's image paths are relative to ('\\' in the list is read as '/').",
            HelpName = "dir",
            Required = true,
        };
        var lines = new Option<string>("--lines")
        {
            Description = "Evaluate only lines A to B of the list (1-based, inclusive; 'A:' to the end, ':B' from the start), e.g. 9001:10000 for the last 1,000 of 10,000.",
            HelpName = "A:B",
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = $"Folder for {CsvName} (per image), {SummaryName} (summary) and {PlotName} (cumulative error curves); files there are replaced. Default: a fresh runs/eval/landmarks, landmarks2, ...",
            HelpName = "dir",
        };
        var iou = OptionFactory.Float("--iou", 0.5f, "IoU a detection needs with the annotated box to count as the face's detection, in (0, 1].");
        var failure = OptionFactory.Float("--failure-threshold", 0.1f, "A detected face whose mean error / inter-ocular distance exceeds this counts as a failure (> 0).");
        var (_, format, quiet) = EvalCommand.CommonOptions();
        var command = new Command("landmarks",
            "Landmark accuracy on a 5-point list (CNN_FacePoint layout): run the detector on every image (in parallel), match the annotated face "
            + "(largest IoU, at least --iou), and print the detection rate, the mean landmark error normalised by the inter-ocular distance and by the "
            + "box size sqrt(w*h), per-landmark errors and the failure rate; writes per-image CSV, a JSON summary and cumulative error curves.")
        {
            list, images, lines, output, iou, failure, format, quiet,
        };
        var detector = DetectorArguments.AddTo(command);
        command.With(
            "mtcnn eval landmarks --list trainImageList_80x80.txt --images landmarks --lines 9001:10000 --output runs/lm",
            "mtcnn eval landmarks --list list.txt --images imgs --weights my-weights.safetensors --min-face-size 20 -f json");
        command.SetAction(pr =>
        {
            var options = detector.Build(pr, DetectorOptions.Default, "eval landmarks");
            var range = LineRange.All;
            if (pr.GetValue(lines) is { } text)
            {
                try
                {
                    range = LineRange.Parse(text);
                }
                catch (FormatException e)
                {
                    throw new UsageException($"--lines: {e.Message} (see '{CliApp.Name} eval landmarks --help')", e);
                }
            }

            double iouThreshold = pr.GetValue(iou);
            if (!(iouThreshold > 0 && iouThreshold <= 1))
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--iou: must be in (0, 1], got {iouThreshold} (see '{CliApp.Name} eval landmarks --help')"));
            }

            double failureThreshold = pr.GetValue(failure);
            if (!(failureThreshold > 0 && double.IsFinite(failureThreshold)))
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--failure-threshold: must be above 0, got {failureThreshold} (see '{CliApp.Name} eval landmarks --help')"));
            }

            string listFile = pr.GetValue(list)!;
            string imagesDir = pr.GetValue(images)!;
            if (!File.Exists(listFile))
            {
                throw new CliFailureException($"--list: '{listFile}' does not exist.");
            }

            EvalCommand.RequireInput(imagesDir, "--images");
            bool quietRun = pr.GetValue(quiet);
            var weights = detector.LoadWeights(pr, console);
            var parsed = FacePointList.Read(listFile);
            string folder = EvalCommand.OutputFolder(pr.GetValue(output), "landmarks");
            var settings = new LandmarkEvaluationOptions { Detector = options, IouThreshold = iouThreshold, FailureThreshold = failureThreshold, Lines = range };
            ProgressReporter? reporter = null;
            var progress = EvalCommand.Progress(console, !quietRun, r => reporter = r);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = LandmarkEvaluator.Run(parsed, imagesDir, settings, weights, progress);
            clock.Stop();
            reporter?.BreakLine();

            foreach (var issue in result.ListIssues)
            {
                console.WriteErrorLine($"{CliApp.Name}: error: {issue}");
            }

            foreach (var failed in result.Images.Where(i => i.Error is not null))
            {
                console.WriteErrorLine($"{CliApp.Name}: error: {failed.Error}");
            }

            string csv = Path.Combine(folder, CsvName);
            string summary = Path.Combine(folder, SummaryName);
            string plot = Path.Combine(folder, PlotName);
            var inputs = new Dictionary<string, string?>
            {
                ["images"] = Path.GetFullPath(imagesDir),
                ["weights"] = pr.GetValue(detector.Weights) is { } w ? Path.GetFullPath(w) : null,
                ["csv"] = csv,
                ["plot"] = plot,
            };
            LandmarkReport.WriteCsv(result, csv);
            LandmarkReport.WriteSummary(result, summary, options, inputs);
            EvaluationPlots.SaveCumulativeError(result, plot);
            if (pr.GetValue(format) == "json")
            {
                console.Out.Write(LandmarkReport.SummaryJson(result, options, inputs));
            }
            else
            {
                WriteTable(console.Out, result);
            }

            console.Out.Flush();
            if (!quietRun)
            {
                console.WriteErrorLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{CliApp.Name}: {result.Images.Count} entries in {clock.Elapsed.TotalSeconds:F1} s ({result.Failed} failed, {result.ListIssues.Count} bad lines); per-image results in {csv}, curves in {plot}"));
            }

            return result.Failed > 0 || result.ListIssues.Count > 0 ? ExitCodes.Failure : ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The summary table printed on stdout.</summary>
    internal static void WriteTable(TextWriter o, LandmarkEvaluationResult r)
    {
        string lines = r.Lines.IsAll ? "all lines" : $"lines {r.Lines}";
        o.WriteLine(Inv($"entries            {r.Images.Count} ({lines}; {r.Evaluated} evaluated, {r.Failed} failed, {r.ListIssues.Count} bad lines)"));
        o.WriteLine(Inv($"detection rate     {F(r.DetectionRate)}  ({r.Detected} of {r.Evaluated} at IoU >= {r.IouThreshold:0.###}; mean IoU {F(r.MeanIou)})"));
        o.WriteLine(Inv($"NME inter-ocular   {F(r.MeanInterOcularError)}  (median {F(r.MedianInterOcularError)})"));
        o.WriteLine(Inv($"NME box            {F(r.MeanBoxError)}  (box size sqrt(w*h))"));
        o.WriteLine(Inv($"failure rate       {F(r.FailureRate)}  (NME inter-ocular > {r.FailureThreshold:0.###})"));
        o.WriteLine(Inv($"mean error         {P(r.MeanPixelError)} px  (offset dx {P(r.MeanOffsetX)}, dy {P(r.MeanOffsetY)} px)"));
        o.WriteLine("point              inter-ocular  box     px");
        for (int p = 0; p < FaceLandmarks.Count; p++)
        {
            o.WriteLine(Inv($"  {LandmarkMetrics.PointNames[p],-16} {F(r.PointInterOcularErrors[p]),-13} {F(r.PointBoxErrors[p]),-7} {P(r.PointPixelErrors[p])}"));
        }
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string F(double v) => double.IsFinite(v) ? EvalCommand.Rate(v) : "n/a";

    private static string P(double v) => double.IsFinite(v) ? v.ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
}
