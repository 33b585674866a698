using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Mtcnn.Cli.Detect;
using Mtcnn.Evaluation;
using Mtcnn.Evaluation.Fddb;
using Mtcnn.Evaluation.Wider;

namespace Mtcnn.Cli.Eval;

/// <summary><c>mtcnn eval fddb</c>.</summary>
internal static class EvalFddbCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var images = new Option<string>("--images") { Description = "The FDDB images (originalPics: the folder holding 2002/ and 2003/).", HelpName = "dir" };
        var folds = new Option<string>("--folds")
        {
            Description = "The FDDB-folds folder with FDDB-fold-01-ellipseList.txt ... FDDB-fold-10-ellipseList.txt.",
            HelpName = "dir",
            Required = true,
        };
        var detections = new Option<string>("--detections")
        {
            Description = "Score existing detections (FDDB rectangle format: a file, or a folder of fold-XX-out.txt) instead of running the detector; with --images, regions are clipped to each image.",
            HelpName = "path",
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Folder for fold-XX-out.txt, DiscROC.txt, ContROC.txt, roc.png, results.json and options.json; an existing one is resumed fold by fold. Default: a fresh runs/eval/fddb, fddb2, ...",
            HelpName = "dir",
        };
        var (paper, format, quiet) = EvalCommand.CommonOptions();
        var command = new Command("fddb",
            "FDDB: run the detector on every fold's images (in parallel, resumable per fold), write detections in FDDB's format, "
            + "print the discrete and continuous true positive rate at 1,000 false positives, and draw the ROC curves (roc.png). With --detections, only score.")
        {
            images, folds, detections, output, paper, format, quiet,
        };
        var detector = DetectorArguments.AddTo(command);
        command.With(
            "mtcnn eval fddb --images originalPics --folds FDDB-folds --output runs/fddb",
            "mtcnn eval fddb --folds FDDB-folds --detections other/fold-all-out.txt --images originalPics");
        command.SetAction(pr =>
        {
            string? imagesDir = pr.GetValue(images);
            string? detectionsPath = pr.GetValue(detections);
            if (imagesDir is null && detectionsPath is null)
            {
                throw new UsageException("give --images to run the detector, or --detections to score existing detections (see 'mtcnn eval fddb --help')");
            }

            var setup = new BenchmarkSetup(pr, console, detector, "fddb", paper, format, quiet, output);
            string foldsDir = pr.GetValue(folds)!;
            EvalCommand.RequireInput(foldsDir, "--folds");
            EvalCommand.RequireInput(imagesDir, "--images");
            EvalCommand.RequireInput(detectionsPath, "--detections", fileAllowed: true);
            string folder = setup.Folder;
            var result = EvalCommand.RunOrScore(
                setup,
                detectionsPath is null,
                detectionsPath is null
                    ? new Dictionary<string, string?> { ["images"] = imagesDir, ["folds"] = foldsDir }
                    : new Dictionary<string, string?> { ["detections"] = detectionsPath, ["folds"] = foldsDir, ["images"] = imagesDir },
                (weights, progress) => FddbEvaluator.Run(imagesDir!, foldsDir, folder, setup.Options, weights, progress),
                () =>
                {
                    var scored = FddbEvaluator.Score(detectionsPath!, foldsDir, imagesDir);
                    FddbFiles.WriteRoc(Path.Combine(folder, "DiscROC.txt"), scored.Discrete);
                    FddbFiles.WriteRoc(Path.Combine(folder, "ContROC.txt"), scored.Continuous);
                    return scored;
                });

            string plot = Path.Combine(folder, "roc.png");
            EvaluationPlots.SaveRoc(result, plot);
            return EvalCommand.Report(
                setup,
                Json(result, plot),
                [
                    $"discrete   TPR {EvalCommand.Rate(result.DiscreteTruePositiveRateAt1000)} at 1000 false positives",
                    $"continuous TPR {EvalCommand.Rate(result.ContinuousTruePositiveRateAt1000)} at 1000 false positives",
                ],
                string.Create(CultureInfo.InvariantCulture, $"{result.ImageCount} images, {result.FaceCount} faces, {result.DetectionCount} detections, {result.ImagesWithoutDetections} images without detections; ROC in {plot}"));
        });
        return command;
    }

    private static string Json(FddbResult r, string plot)
    {
        var sb = new StringBuilder("{");
        sb.Append("\"discrete_tpr_at_1000\": ").Append(EvalCommand.Json(r.DiscreteTruePositiveRateAt1000));
        sb.Append(", \"continuous_tpr_at_1000\": ").Append(EvalCommand.Json(r.ContinuousTruePositiveRateAt1000));
        sb.Append(string.Create(CultureInfo.InvariantCulture, $", \"images\": {r.ImageCount}, \"faces\": {r.FaceCount}, \"detections\": {r.DetectionCount}, \"images_without_detections\": {r.ImagesWithoutDetections}"));
        sb.Append(", \"plot\": ").Append(JsonSerializer.Serialize(plot)).Append("}\n");
        return sb.ToString();
    }
}
