using System.Globalization;

namespace Mtcnn.Evaluation.Annotations;

/// <summary>One face of a CNN_FacePoint list: the image, its face box and five landmarks.</summary>
/// <param name="LineNumber">1-based line in the list.</param>
/// <param name="ImagePath">The path as written in the list with <c>\</c> replaced by <c>/</c> (relative to the image folder).</param>
/// <param name="Box">The face box. The file stores it as <c>left right top bottom</c>; here it is (left, top, right, bottom), values unchanged.</param>
/// <param name="Landmarks">Left eye, right eye, nose, left and right mouth corner ("left" = smaller x).</param>
public sealed record FacePointEntry(int LineNumber, string ImagePath, BoundingBox Box, FaceLandmarks Landmarks);

/// <summary>The readable entries of a CNN_FacePoint list and the lines that were not readable.</summary>
/// <param name="FileName">The list file.</param>
/// <param name="Entries">Entries in file order.</param>
/// <param name="Issues">Lines that were skipped, with the reason.</param>
public sealed record FacePointListResult(string FileName, IReadOnlyList<FacePointEntry> Entries, IReadOnlyList<AnnotationIssue> Issues);

/// <summary>
/// Reads 5-point landmark lists in the CNN_FacePoint layout (Sun et al. 2013, <c>trainImageList.txt</c>): one face per
/// line, 15 fields separated by white space: <c>path left right top bottom x1 y1 … x5 y5</c>. Note the box order
/// (left, right, top, bottom). Blank lines are ignored; CRLF and LF line ends are both accepted.
/// </summary>
public static class FacePointList
{
    /// <summary>The number of fields on a line.</summary>
    public const int FieldCount = 15;

    /// <summary>Reads a list file.</summary>
    /// <param name="path">The list file.</param>
    /// <returns>The entries and the skipped lines.</returns>
    /// <exception cref="EvaluationDataException">The file cannot be read.</exception>
    public static FacePointListResult Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(AnnotationText.Read(path, "landmark list"), path);
    }

    /// <summary>Parses the text of a list.</summary>
    /// <param name="text">The file's text.</param>
    /// <param name="fileName">The name used in issues.</param>
    /// <returns>The entries and the skipped lines.</returns>
    public static FacePointListResult Parse(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        var entries = new List<FacePointEntry>();
        var issues = new List<AnnotationIssue>();
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (TryParseLine(line, lineNumber, out var entry, out var problem))
            {
                entries.Add(entry);
            }
            else
            {
                issues.Add(new AnnotationIssue(fileName, lineNumber, problem));
            }
        }

        return new FacePointListResult(fileName, entries, issues);
    }

    /// <summary>Formats an entry as a list line (box as left right top bottom, six decimals).</summary>
    /// <param name="entry">The entry.</param>
    /// <returns>The line without line end.</returns>
    public static string FormatLine(FacePointEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var b = entry.Box;
        var values = new List<float> { b.X1, b.X2, b.Y1, b.Y2 };
        for (var i = 0; i < FaceLandmarks.Count; i++)
        {
            values.Add(entry.Landmarks[i].X);
            values.Add(entry.Landmarks[i].Y);
        }

        return entry.ImagePath + " " + string.Join(' ', values.Select(v => v.ToString("F6", CultureInfo.InvariantCulture)));
    }

    private static bool TryParseLine(string line, int lineNumber, out FacePointEntry entry, out string problem)
    {
        entry = null!;
        var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != FieldCount)
        {
            problem = $"expected {FieldCount} fields (path left right top bottom x1 y1 ... x5 y5), found {fields.Length}";
            return false;
        }

        var v = new float[FieldCount - 1];
        for (var i = 0; i < v.Length; i++)
        {
            if (!float.TryParse(fields[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !float.IsFinite(v[i]))
            {
                problem = $"field {i + 2} ('{fields[i + 1]}') is not a number";
                return false;
            }
        }

        var box = new BoundingBox(v[0], v[2], v[1], v[3]);
        if (!(box.Width > 0 && box.Height > 0))
        {
            problem = $"the box (left {v[0]}, right {v[1]}, top {v[2]}, bottom {v[3]}) is empty; the order must be left right top bottom";
            return false;
        }

        var landmarks = new FaceLandmarks(new(v[4], v[5]), new(v[6], v[7]), new(v[8], v[9]), new(v[10], v[11]), new(v[12], v[13]));
        entry = new FacePointEntry(lineNumber, fields[0].Replace('\\', '/'), box, landmarks);
        problem = string.Empty;
        return true;
    }
}
