using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mtcnn.Evaluation.Fddb;

/// <summary>
/// Reads and writes FDDB's text formats. Annotations (<c>FDDB-fold-XX-ellipseList.txt</c>): per image its name,
/// the face count, then one <c>major minor angle cx cy 1</c> line per face. Detections (the rectangle format):
/// per image its name, the count, then one <c>left top width height score</c> line per detection. Numbers use the
/// invariant culture. Thread-safe.
/// </summary>
public static partial class FddbFiles
{
    /// <summary>Reads one ellipse-list file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>Its images in file order.</returns>
    /// <exception cref="EvaluationDataException">The file is unreadable or malformed (the message gives the line).</exception>
    public static IReadOnlyList<FddbImage> ReadEllipseList(string path)
    {
        var images = new List<FddbImage>();
        foreach (var (name, rows) in ReadBlocks(path, 5, "major minor angle cx cy 1"))
        {
            images.Add(new FddbImage(name, [.. rows.Select(v => new FddbEllipse(v[0], v[1], v[2], v[3], v[4]))]));
        }

        return images;
    }

    /// <summary>Reads every <c>FDDB-fold-XX-ellipseList.txt</c> in a folder, in fold order.</summary>
    /// <param name="foldsDirectory">The <c>FDDB-folds</c> folder.</param>
    /// <returns>The folds.</returns>
    /// <exception cref="EvaluationDataException">The folder does not exist, holds no fold files, or a file is malformed.</exception>
    public static IReadOnlyList<FddbFold> ReadFolds(string foldsDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(foldsDirectory);
        if (!Directory.Exists(foldsDirectory))
        {
            throw new EvaluationDataException(foldsDirectory, "the folds folder does not exist.");
        }

        var folds = new List<FddbFold>();
        foreach (string file in Directory.EnumerateFiles(foldsDirectory, "FDDB-fold-*-ellipseList.txt"))
        {
            var m = FoldNumber().Match(Path.GetFileName(file));
            if (m.Success)
            {
                folds.Add(new FddbFold(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), ReadEllipseList(file)));
            }
        }

        if (folds.Count == 0)
        {
            throw new EvaluationDataException(foldsDirectory, "holds no FDDB-fold-XX-ellipseList.txt files (the FDDB-folds folder of FDDB-folds.tgz).");
        }

        return [.. folds.OrderBy(f => f.Number)];
    }

    /// <summary>The conventional detection file name of a fold: <c>fold-XX-out.txt</c>.</summary>
    /// <param name="foldNumber">The fold number.</param>
    /// <returns>The file name.</returns>
    public static string DetectionFileName(int foldNumber) => string.Create(CultureInfo.InvariantCulture, $"fold-{foldNumber:D2}-out.txt");

    /// <summary>Formats detections in FDDB's rectangle format.</summary>
    /// <param name="images">Image names with their detections, in the order to write.</param>
    /// <returns>The text (LF line endings).</returns>
    public static string FormatDetections(IEnumerable<(string Name, IReadOnlyList<FddbDetection> Detections)> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var sb = new StringBuilder();
        foreach (var (name, detections) in images)
        {
            sb.Append(name).Append('\n').Append(detections.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            foreach (var d in detections)
            {
                sb.Append(string.Create(CultureInfo.InvariantCulture, $"{d.X:R} {d.Y:R} {d.Width:R} {d.Height:R} {d.Score:R}\n"));
            }
        }

        return sb.ToString();
    }

    /// <summary>Writes a detection file atomically (temporary file, then rename), creating its folder.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="images">Image names with their detections.</param>
    public static void WriteDetections(string path, IEnumerable<(string Name, IReadOnlyList<FddbDetection> Detections)> images)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        File.WriteAllText(path + ".tmp", FormatDetections(images));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>Reads a detection file in the rectangle format.</summary>
    /// <param name="path">The file.</param>
    /// <returns>Detections by image name (an image listed twice keeps all its detections).</returns>
    /// <exception cref="EvaluationDataException">The file is unreadable or malformed.</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<FddbDetection>> ReadDetections(string path)
    {
        var result = new Dictionary<string, List<FddbDetection>>(StringComparer.Ordinal);
        foreach (var (name, rows) in ReadBlocks(path, 5, "left top width height score"))
        {
            if (!result.TryGetValue(name, out var list))
            {
                result[name] = list = [];
            }

            list.AddRange(rows.Select(v => new FddbDetection(v[0], v[1], v[2], v[3], v[4])));
        }

        return result.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<FddbDetection>)kv.Value, StringComparer.Ordinal);
    }

    /// <summary>Writes an ROC as FDDB's evaluation program does: one <c>TPR FP threshold</c> line per point.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="points">The curve.</param>
    public static void WriteRoc(string path, IReadOnlyList<RocPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var sb = new StringBuilder();
        foreach (var p in points)
        {
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"{p.TruePositiveRate:R} {p.FalsePositives} {p.Threshold:R}\n"));
        }

        File.WriteAllText(path, sb.ToString());
    }

    private static List<(string Name, List<double[]> Rows)> ReadBlocks(string path, int values, string layout)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new EvaluationDataException(path, $"cannot be read: {e.Message}", e);
        }

        var blocks = new List<(string, List<double[]>)>();
        int i = 0;
        while (true)
        {
            while (i < lines.Length && lines[i].Trim().Length == 0)
            {
                i++;
            }

            if (i >= lines.Length)
            {
                break;
            }

            string name = lines[i++].Trim();
            if (i >= lines.Length || !int.TryParse(lines[i].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int count) || count < 0)
            {
                throw new EvaluationDataException(path, $"line {i + 1} should be the number of faces of '{name}' but is '{(i < lines.Length ? lines[i] : "<end of file>")}'.");
            }

            i++;
            var rows = new List<double[]>(count);
            for (int k = 0; k < count; k++, i++)
            {
                if (i >= lines.Length)
                {
                    throw new EvaluationDataException(path, $"'{name}' announces {count} lines but the file ends after {k}.");
                }

                var parts = lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                var v = new double[values];
                if (parts.Length < values)
                {
                    throw new EvaluationDataException(path, $"line {i + 1} should hold '{layout}' but is '{lines[i]}'.");
                }

                for (int c = 0; c < values; c++)
                {
                    if (!double.TryParse(parts[c], NumberStyles.Float, CultureInfo.InvariantCulture, out v[c]) || !double.IsFinite(v[c]))
                    {
                        throw new EvaluationDataException(path, $"line {i + 1}: '{parts[c]}' is not a finite number.");
                    }
                }

                rows.Add(v);
            }

            blocks.Add((name, rows));
        }

        return blocks;
    }

    [GeneratedRegex(@"^FDDB-fold-(\d+)-ellipseList\.txt$", RegexOptions.CultureInvariant)]
    private static partial Regex FoldNumber();
}
