using System.Globalization;
using System.Text;

namespace Mtcnn.Evaluation.Wider;

/// <summary>One predicted face in the WIDER layout: left, top, width, height in pixels and a confidence score.</summary>
/// <param name="X">Left edge.</param>
/// <param name="Y">Top edge.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
/// <param name="Score">Confidence; higher is more certain. Any real range (the evaluation normalises it).</param>
public readonly record struct WiderPrediction(double X, double Y, double Width, double Height, double Score)
{
    /// <summary>Converts a detected face (corner box) to the WIDER layout.</summary>
    /// <param name="face">The detected face.</param>
    /// <returns>The prediction.</returns>
    public static WiderPrediction FromFace(Face face) =>
        new(face.Box.X1, face.Box.Y1, face.Box.X2 - face.Box.X1, face.Box.Y2 - face.Box.Y1, face.Score);
}

/// <summary>
/// Reads and writes predictions in the official WIDER FACE layout: one folder per event and one
/// <c>&lt;image name&gt;.txt</c> per image, holding the image file name, the number of faces, then one
/// <c>x y w h score</c> line per face (numbers in invariant culture). Thread-safe.
/// </summary>
public static class WiderPredictionFiles
{
    /// <summary>The path of one image's prediction file: <c>dir/event/name.txt</c>.</summary>
    /// <param name="predictionsDirectory">The predictions root.</param>
    /// <param name="image">The image.</param>
    /// <returns>The file path.</returns>
    public static string PathFor(string predictionsDirectory, WiderImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Path.Combine(predictionsDirectory, image.Event, image.Name + ".txt");
    }

    /// <summary>Formats one image's predictions.</summary>
    /// <param name="imageFileName">The first line, conventionally the image file name (e.g. <c>0_Parade_marchingband_1_465.jpg</c>).</param>
    /// <param name="predictions">The faces, written in the given order.</param>
    /// <returns>The file content (LF line endings).</returns>
    public static string Format(string imageFileName, IReadOnlyList<WiderPrediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        var sb = new StringBuilder();
        sb.Append(imageFileName).Append('\n');
        sb.Append(predictions.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var p in predictions)
        {
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"{p.X:R} {p.Y:R} {p.Width:R} {p.Height:R} {p.Score:R}\n"));
        }

        return sb.ToString();
    }

    /// <summary>
    /// Writes one image's prediction file, creating its folder. The file is written under a temporary name and then
    /// renamed, so an interrupted run never leaves a half-written file that a resumed run would trust.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="imageFileName">The first line.</param>
    /// <param name="predictions">The faces.</param>
    public static void Write(string path, string imageFileName, IReadOnlyList<WiderPrediction> predictions)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        string temp = path + ".tmp";
        File.WriteAllText(temp, Format(imageFileName, predictions));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads one prediction file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The predictions in file order.</returns>
    /// <exception cref="EvaluationDataException">The file is unreadable, its count line is not a number, a face line does not
    /// hold five numbers, or the count does not match the lines (the message gives the line).</exception>
    public static IReadOnlyList<WiderPrediction> ReadFile(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvaluationDataException(path, $"cannot be read: {e.Message}", e);
        }

        return Parse(lines, path);
    }

    /// <summary>Parses the lines of one prediction file.</summary>
    /// <param name="lines">The lines.</param>
    /// <param name="nameForErrors">A name for error messages.</param>
    /// <returns>The predictions in file order.</returns>
    /// <exception cref="EvaluationDataException">The content is malformed.</exception>
    public static IReadOnlyList<WiderPrediction> Parse(IReadOnlyList<string> lines, string? nameForErrors = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        if (lines.Count < 2)
        {
            throw new EvaluationDataException(nameForErrors, "a prediction file needs at least two lines (the image name and the number of faces).");
        }

        if (!int.TryParse(lines[1].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int count) || count < 0)
        {
            throw new EvaluationDataException(nameForErrors, $"line 2 should be the number of faces but is '{lines[1]}'.");
        }

        var result = new List<WiderPrediction>(count);
        Span<double> v = stackalloc double[5];
        for (int i = 2; i < lines.Count; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 5)
            {
                throw new EvaluationDataException(nameForErrors, $"line {i + 1} should hold 'x y w h score' but is '{lines[i]}'.");
            }

            for (int k = 0; k < 5; k++)
            {
                if (!double.TryParse(parts[k], NumberStyles.Float, CultureInfo.InvariantCulture, out v[k]) || !double.IsFinite(v[k]))
                {
                    throw new EvaluationDataException(nameForErrors, $"line {i + 1}: '{parts[k]}' is not a finite number.");
                }
            }

            result.Add(new WiderPrediction(v[0], v[1], v[2], v[3], v[4]));
        }

        if (result.Count != count)
        {
            throw new EvaluationDataException(nameForErrors, $"line 2 announces {count} faces but {result.Count} face lines follow.");
        }

        return result;
    }

    /// <summary>
    /// Reads every <c>event/name.txt</c> below a predictions folder (other files are ignored), keyed by
    /// <see cref="WiderImage.Key"/> (<c>event/name</c>).
    /// </summary>
    /// <param name="predictionsDirectory">The predictions root.</param>
    /// <returns>The predictions of every file found.</returns>
    /// <exception cref="EvaluationDataException">The folder does not exist or a file is malformed.</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<WiderPrediction>> ReadDirectory(string predictionsDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(predictionsDirectory);
        if (!Directory.Exists(predictionsDirectory))
        {
            throw new EvaluationDataException(predictionsDirectory, "the predictions folder does not exist.");
        }

        var result = new Dictionary<string, IReadOnlyList<WiderPrediction>>(StringComparer.Ordinal);
        foreach (string eventDir in Directory.EnumerateDirectories(predictionsDirectory))
        {
            string eventName = Path.GetFileName(eventDir);
            foreach (string file in Directory.EnumerateFiles(eventDir, "*.txt"))
            {
                result[eventName + "/" + Path.GetFileNameWithoutExtension(file)] = ReadFile(file);
            }
        }

        return result;
    }
}
