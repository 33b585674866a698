using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mtcnn.Evaluation.Landmarks;

/// <summary>
/// Writes a landmark evaluation to files: the per-entry results as CSV and the summary as JSON. Numbers use the
/// invariant culture; values that do not exist (errors of a missed face, means over no faces) are empty in the CSV and
/// <c>null</c> in the JSON.
/// </summary>
public static class LandmarkReport
{
    /// <summary>The CSV header: one column per field of <see cref="WriteCsv(LandmarkEvaluationResult, TextWriter)"/>.</summary>
    public static IReadOnlyList<string> CsvColumns { get; } =
    [
        "line", "image", "status", "detections", "iou", "score", "x1", "y1", "x2", "y2",
        "err_left_eye", "err_right_eye", "err_nose", "err_mouth_left", "err_mouth_right", "mean_error",
        "inter_ocular", "box_size", "nme_inter_ocular", "nme_box",
        "lx1", "ly1", "lx2", "ly2", "lx3", "ly3", "lx4", "ly4", "lx5", "ly5", "error",
    ];

    /// <summary>Writes the per-entry CSV (one header line, then one line per entry in list order).</summary>
    /// <param name="result">The evaluation.</param>
    /// <param name="path">The file (its folder is created).</param>
    public static void WriteCsv(LandmarkEvaluationResult result, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CreateFolder(path);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        WriteCsv(result, writer);
    }

    /// <summary>
    /// Writes the per-entry CSV: line, image, status (<c>detected</c>, <c>missed</c>, <c>failed</c>), number of
    /// detections, best IoU, the matched detection's score and box, the five point errors and their mean (pixels), the
    /// inter-ocular distance and box size of the annotation, the two normalised errors, the matched detection's ten
    /// landmark coordinates, and the error of a failed entry.
    /// </summary>
    /// <param name="result">The evaluation.</param>
    /// <param name="writer">Where to write.</param>
    public static void WriteCsv(LandmarkEvaluationResult result, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(string.Join(',', CsvColumns));
        writer.Write('\n');
        var fields = new List<string>(CsvColumns.Count);
        foreach (var r in result.Images)
        {
            fields.Clear();
            fields.Add(r.LineNumber.ToString(CultureInfo.InvariantCulture));
            fields.Add(Csv(r.ImagePath));
            fields.Add(StatusName(r.Status));
            fields.Add(r.DetectionCount.ToString(CultureInfo.InvariantCulture));
            bool measured = r.Status != LandmarkImageStatus.Failed;
            fields.Add(measured ? Number(r.BestIou) : string.Empty);
            if (r.Match is { } m)
            {
                fields.AddRange([Number(m.Score), Number(m.Box.X1), Number(m.Box.Y1), Number(m.Box.X2), Number(m.Box.Y2)]);
            }
            else
            {
                fields.AddRange(Enumerable.Repeat(string.Empty, 5));
            }

            bool detected = r.Status == LandmarkImageStatus.Detected;
            for (int p = 0; p < FaceLandmarks.Count; p++)
            {
                fields.Add(detected ? Number(r.PointErrors[p]) : string.Empty);
            }

            fields.Add(detected ? Number(r.MeanError) : string.Empty);
            fields.Add(Number(r.InterOcularDistance));
            fields.Add(Number(r.BoxSize));
            fields.Add(detected ? Number(r.InterOcularError) : string.Empty);
            fields.Add(detected ? Number(r.BoxError) : string.Empty);
            for (int p = 0; p < FaceLandmarks.Count; p++)
            {
                if (r.Match is { } face)
                {
                    fields.Add(Number(face.Landmarks[p].X));
                    fields.Add(Number(face.Landmarks[p].Y));
                }
                else
                {
                    fields.Add(string.Empty);
                    fields.Add(string.Empty);
                }
            }

            fields.Add(r.Error is null ? string.Empty : Csv(r.Error));
            writer.Write(string.Join(',', fields));
            writer.Write('\n');
        }
    }

    /// <summary>Writes the summary as an indented JSON object (see <see cref="SummaryJson"/>).</summary>
    /// <param name="result">The evaluation.</param>
    /// <param name="path">The file (its folder is created).</param>
    /// <param name="detector">The detector settings to record; null to leave them out.</param>
    /// <param name="extra">Further string members (for example the input paths); null for none.</param>
    public static void WriteSummary(LandmarkEvaluationResult result, string path, DetectorOptions? detector = null, IReadOnlyDictionary<string, string?>? extra = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CreateFolder(path);
        File.WriteAllText(path, SummaryJson(result, detector, extra));
    }

    /// <summary>
    /// The summary as JSON: counts (<c>entries</c>, <c>evaluated</c>, <c>detected</c>, <c>missed</c>, <c>failed</c>,
    /// <c>bad_lines</c>), <c>detection_rate</c>, <c>nme_inter_ocular</c> (mean), <c>nme_inter_ocular_median</c>,
    /// <c>nme_box</c>, <c>mean_error_px</c>, <c>failure_rate</c> with <c>failure_threshold</c>, <c>points</c> (per
    /// landmark <c>nme_inter_ocular</c>, <c>nme_box</c>, <c>error_px</c>), <c>mean_iou</c>, <c>mean_offset_px</c>
    /// (<c>[dx, dy]</c>), <c>iou_threshold</c>, <c>list</c>, <c>lines</c>, the detector settings when given, and the
    /// failed entries' and bad lines' messages.
    /// </summary>
    /// <param name="result">The evaluation.</param>
    /// <param name="detector">The detector settings to record; null to leave them out.</param>
    /// <param name="extra">Further string members; null for none.</param>
    /// <returns>The JSON text, ending with a line feed.</returns>
    public static string SummaryJson(LandmarkEvaluationResult result, DetectorOptions? detector = null, IReadOnlyDictionary<string, string?>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("list", result.ListFile);
            w.WriteString("lines", result.Lines.IsAll ? "all" : result.Lines.ToString());
            w.WriteNumber("entries", result.Images.Count);
            w.WriteNumber("evaluated", result.Evaluated);
            w.WriteNumber("detected", result.Detected);
            w.WriteNumber("missed", result.Missed);
            w.WriteNumber("failed", result.Failed);
            w.WriteNumber("bad_lines", result.ListIssues.Count);
            Write(w, "detection_rate", result.DetectionRate);
            Write(w, "nme_inter_ocular", result.MeanInterOcularError);
            Write(w, "nme_inter_ocular_median", result.MedianInterOcularError);
            Write(w, "nme_box", result.MeanBoxError);
            Write(w, "mean_error_px", result.MeanPixelError);
            Write(w, "failure_rate", result.FailureRate);
            Write(w, "failure_threshold", result.FailureThreshold);
            w.WriteStartObject("points");
            for (int p = 0; p < FaceLandmarks.Count; p++)
            {
                w.WriteStartObject(LandmarkMetrics.PointNames[p]);
                Write(w, "nme_inter_ocular", result.PointInterOcularErrors[p]);
                Write(w, "nme_box", result.PointBoxErrors[p]);
                Write(w, "error_px", result.PointPixelErrors[p]);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            Write(w, "mean_iou", result.MeanIou);
            w.WriteStartArray("mean_offset_px");
            WriteValue(w, result.MeanOffsetX);
            WriteValue(w, result.MeanOffsetY);
            w.WriteEndArray();
            Write(w, "iou_threshold", result.IouThreshold);
            if (detector is not null)
            {
                w.WriteStartObject("detector");
                Write(w, "min_face_size", detector.MinFaceSize);
                Write(w, "scale_factor", detector.ScaleFactor);
                w.WriteStartArray("thresholds");
                WriteValue(w, detector.PNetThreshold);
                WriteValue(w, detector.RNetThreshold);
                WriteValue(w, detector.ONetThreshold);
                w.WriteEndArray();
                w.WriteEndObject();
            }

            if (extra is not null)
            {
                foreach (var (key, value) in extra)
                {
                    if (value is null)
                    {
                        w.WriteNull(key);
                    }
                    else
                    {
                        w.WriteString(key, value);
                    }
                }
            }

            w.WriteStartArray("errors");
            foreach (var issue in result.ListIssues)
            {
                w.WriteStringValue(issue.ToString());
            }

            foreach (var failed in result.Images.Where(i => i.Error is not null))
            {
                w.WriteStringValue(failed.Error);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>The status as written in reports.</summary>
    /// <param name="status">The status.</param>
    /// <returns><c>detected</c>, <c>missed</c> or <c>failed</c>.</returns>
    public static string StatusName(LandmarkImageStatus status) => status switch
    {
        LandmarkImageStatus.Detected => "detected",
        LandmarkImageStatus.Missed => "missed",
        _ => "failed",
    };

    private static void Write(Utf8JsonWriter w, string name, double value)
    {
        w.WritePropertyName(name);
        WriteValue(w, value);
    }

    private static void WriteValue(Utf8JsonWriter w, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumberValue(Math.Round(value, 6));
        }
        else
        {
            w.WriteNullValue();
        }
    }

    private static string Number(double value) => double.IsFinite(value) ? Math.Round(value, 6).ToString("0.######", CultureInfo.InvariantCulture) : string.Empty;

    private static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static void CreateFolder(string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }
    }
}
