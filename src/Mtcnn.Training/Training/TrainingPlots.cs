using ScottPlot;

namespace Mtcnn.Training.Training;

/// <summary>Draws the training curves of a run as PNG files with ScottPlot.</summary>
public static class TrainingPlots
{
    /// <summary>The files <see cref="Write"/> produces, relative to the run folder.</summary>
    public static IReadOnlyList<string> FileNames { get; } = ["loss.png", "accuracy.png", "regression.png"];

    /// <summary>The whole-cascade plots, written when the run validates the cascade.</summary>
    public static IReadOnlyList<string> CascadeFileNames { get; } = ["cascade-detection.png", "cascade-nme.png"];

    /// <summary>
    /// Writes loss.png (training and validation losses), accuracy.png (accuracy, precision, recall) and regression.png
    /// (box and landmark error); with whole-cascade validation also cascade-detection.png and cascade-nme.png (from
    /// epoch 0, the starting weights, when there is one).
    /// </summary>
    /// <param name="history">The epochs so far (an epoch-0 row holds only the starting weights' cascade score).</param>
    /// <param name="folder">The run folder.</param>
    /// <param name="title">Prefix of the plot titles (e.g. <c>pnet1</c>).</param>
    public static void Write(IReadOnlyList<EpochMetrics> history, string folder, string title)
    {
        ArgumentNullException.ThrowIfNull(history);
        var cascade = history.Where(m => m.CascadeEvaluated > 0).ToArray();
        if (cascade.Length > 0)
        {
            var cx = cascade.Select(m => (double)m.Epoch).ToArray();
            Save(Path.Combine(folder, CascadeFileNames[0]), $"{title}: whole cascade on the validation images", "detection rate (IoU >= 0.5)", cx,
                ("detection rate", cascade.Select(m => m.CascadeDetectionRate)));
            Save(Path.Combine(folder, CascadeFileNames[1]), $"{title}: whole cascade on the validation images", "NME (inter-ocular)", cx,
                ("landmark error", cascade.Select(m => m.CascadeNme)));
        }

        history = history.Where(m => m.Epoch > 0).ToArray();
        if (history.Count == 0)
        {
            return;
        }

        var x = history.Select(m => (double)m.Epoch).ToArray();
        Save(Path.Combine(folder, FileNames[0]), $"{title}: loss", "loss", x,
            ("train total", history.Select(m => m.TrainLoss)),
            ("train classification", history.Select(m => m.TrainClassLoss)),
            ("train box", history.Select(m => m.TrainBoxLoss)),
            ("train landmarks", history.Select(m => m.TrainLandmarkLoss)),
            ("validation total", history.Select(m => m.ValLoss)));
        Save(Path.Combine(folder, FileNames[1]), $"{title}: classification", "fraction", x,
            ("train accuracy (p > 0.5)", history.Select(m => m.TrainAccuracy)),
            ("validation accuracy", history.Select(m => m.ValAccuracy)),
            ("validation precision", history.Select(m => m.ValPrecision)),
            ("validation recall", history.Select(m => m.ValRecall)));
        Save(Path.Combine(folder, FileNames[2]), $"{title}: regression (validation)", "error / crop size", x,
            ("box offset RMSE", history.Select(m => m.ValBoxError)),
            ("landmark distance", history.Select(m => m.ValLandmarkError)));
    }

    private static void Save(string path, string title, string yLabel, double[] x, params (string Name, IEnumerable<double> Values)[] series)
    {
        using var plot = new Plot();
        foreach (var (name, values) in series)
        {
            var y = values.ToArray();
            if (y.All(double.IsNaN))
            {
                continue;
            }

            var line = plot.Add.Scatter(x, y);
            line.LegendText = name;
        }

        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        plot.ShowLegend();
        var temp = path + ".tmp";
        plot.SavePng(temp, 900, 560);
        File.Move(temp, path, overwrite: true);
    }
}
