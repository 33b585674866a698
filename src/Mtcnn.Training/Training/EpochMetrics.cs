using System.Globalization;
using System.Text;

namespace Mtcnn.Training.Training;

/// <summary>What one epoch measured on the training batches and on the held-out validation samples.</summary>
public sealed record EpochMetrics
{
    /// <summary>The epoch, 1-based.</summary>
    public int Epoch { get; init; }

    /// <summary>Learning rate used.</summary>
    public double LearningRate { get; init; }

    /// <summary>Mean weighted loss over the training batches.</summary>
    public double TrainLoss { get; init; }

    /// <summary>Mean classification loss (after OHEM) over the training batches.</summary>
    public double TrainClassLoss { get; init; }

    /// <summary>Mean box loss over the training batches.</summary>
    public double TrainBoxLoss { get; init; }

    /// <summary>Mean landmark loss over the training batches.</summary>
    public double TrainLandmarkLoss { get; init; }

    /// <summary>Classification accuracy at probability 0.5 on training positives and negatives.</summary>
    public double TrainAccuracy { get; init; }

    /// <summary>Weighted validation loss (no OHEM); NaN without validation samples.</summary>
    public double ValLoss { get; init; } = double.NaN;

    /// <summary>Validation classification loss.</summary>
    public double ValClassLoss { get; init; } = double.NaN;

    /// <summary>Validation accuracy at the stage threshold.</summary>
    public double ValAccuracy { get; init; } = double.NaN;

    /// <summary>Validation precision at the stage threshold.</summary>
    public double ValPrecision { get; init; } = double.NaN;

    /// <summary>Validation recall at the stage threshold.</summary>
    public double ValRecall { get; init; } = double.NaN;

    /// <summary>Validation box error: root mean square of the offset error, in units of the crop size.</summary>
    public double ValBoxError { get; init; } = double.NaN;

    /// <summary>Validation landmark error: mean point-to-point distance, in units of the crop size.</summary>
    public double ValLandmarkError { get; init; } = double.NaN;

    /// <summary>Whole-cascade validation: images evaluated (0 = no cascade validation).</summary>
    public int CascadeEvaluated { get; init; }

    /// <summary>Whole-cascade validation: annotated faces found at IoU 0.5.</summary>
    public int CascadeDetected { get; init; }

    /// <summary>Whole-cascade validation: inter-ocular NME over the found faces.</summary>
    public double CascadeNme { get; init; } = double.NaN;

    /// <summary>Whole-cascade validation: found faces per image; NaN without cascade validation.</summary>
    public double CascadeDetectionRate => CascadeEvaluated == 0 ? double.NaN : (double)CascadeDetected / CascadeEvaluated;

    /// <summary>The whole-cascade score, or null when the run has no validation images.</summary>
    public Cascade.CascadeScore? CascadeScore => CascadeEvaluated == 0 ? null : new(CascadeEvaluated, CascadeDetected, CascadeNme, double.NaN);

    /// <summary>Wall-clock seconds of the epoch (training and validation).</summary>
    public double Seconds { get; init; }

    /// <summary>Training samples per second.</summary>
    public double SamplesPerSecond { get; init; }

    /// <summary>The CSV header, matching <see cref="ToCsv"/>.</summary>
    public const string CsvHeader =
        "epoch,lr,train_loss,train_cls_loss,train_box_loss,train_landmark_loss,train_accuracy,val_loss,val_cls_loss,val_accuracy,val_precision,val_recall,val_box_rmse,val_landmark_error,seconds,samples_per_second,cascade_evaluated,cascade_detected,cascade_detection_rate,cascade_nme";

    /// <summary>One CSV row (invariant culture; NaN written as an empty field).</summary>
    /// <returns>The row.</returns>
    public string ToCsv()
    {
        double[] values = [LearningRate, TrainLoss, TrainClassLoss, TrainBoxLoss, TrainLandmarkLoss, TrainAccuracy, ValLoss, ValClassLoss, ValAccuracy, ValPrecision, ValRecall, ValBoxError, ValLandmarkError, Seconds, SamplesPerSecond];
        var sb = new StringBuilder(Epoch.ToString(CultureInfo.InvariantCulture));
        foreach (var v in values)
        {
            sb.Append(',');
            if (!double.IsNaN(v))
            {
                sb.Append(v.ToString("G6", CultureInfo.InvariantCulture));
            }
        }

        if (CascadeEvaluated > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $",{CascadeEvaluated},{CascadeDetected},{CascadeDetectionRate.ToString("G6", CultureInfo.InvariantCulture)},");
            if (!double.IsNaN(CascadeNme))
            {
                // Full precision: the kept epoch is chosen from these values again on --resume.
                sb.Append(CascadeNme.ToString("R", CultureInfo.InvariantCulture));
            }
        }
        else
        {
            sb.Append(",,,,");
        }

        return sb.ToString();
    }

    /// <summary>Parses a row written by <see cref="ToCsv"/>.</summary>
    /// <param name="line">The row.</param>
    /// <returns>The metrics.</returns>
    /// <exception cref="FormatException">The row has the wrong number of fields or a bad number.</exception>
    public static EpochMetrics FromCsv(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var f = line.Split(',');
        // 16 fields: written before whole-cascade validation existed; 20 now.
        if (f.Length != 16 && f.Length != 20)
        {
            throw new FormatException($"expected 20 fields, found {f.Length}");
        }

        double D(int i) => f[i].Length == 0 ? double.NaN : double.Parse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture);
        return new EpochMetrics
        {
            Epoch = int.Parse(f[0], CultureInfo.InvariantCulture),
            LearningRate = D(1),
            TrainLoss = D(2),
            TrainClassLoss = D(3),
            TrainBoxLoss = D(4),
            TrainLandmarkLoss = D(5),
            TrainAccuracy = D(6),
            ValLoss = D(7),
            ValClassLoss = D(8),
            ValAccuracy = D(9),
            ValPrecision = D(10),
            ValRecall = D(11),
            ValBoxError = D(12),
            ValLandmarkError = D(13),
            Seconds = D(14),
            SamplesPerSecond = D(15),
            CascadeEvaluated = f.Length == 20 && f[16].Length > 0 ? int.Parse(f[16], CultureInfo.InvariantCulture) : 0,
            CascadeDetected = f.Length == 20 && f[17].Length > 0 ? int.Parse(f[17], CultureInfo.InvariantCulture) : 0,
            CascadeNme = f.Length == 20 ? D(19) : double.NaN,
        };
    }

    /// <summary>A one-line summary for the console.</summary>
    /// <returns>The summary.</returns>
    public string Describe() => Epoch == 0 ? $"start: cascade {CascadeScore?.Describe()}" : string.Create(CultureInfo.InvariantCulture,
        $"epoch {Epoch}: loss {TrainLoss:F4} (cls {TrainClassLoss:F4} box {TrainBoxLoss:F4} lmk {TrainLandmarkLoss:F4}) acc {TrainAccuracy:P1} | val loss {ValLoss:F4} acc {ValAccuracy:P1} P {ValPrecision:P1} R {ValRecall:P1} box {ValBoxError:F4} lmk {ValLandmarkError:F4} | {Seconds:F0} s, {SamplesPerSecond:F0} samples/s{(CascadeEvaluated == 0 ? string.Empty : " | cascade " + CascadeScore!.Describe())}");
}
