using System.Globalization;
using Mtcnn.Evaluation.Wider;

namespace Mtcnn.Evaluation.Annotations;

/// <summary>One annotated face of a WIDER FACE box list with its attribute flags.</summary>
/// <param name="Box">Left, top, width and height in pixels.</param>
/// <param name="Blur">0 clear, 1 normal, 2 heavy.</param>
/// <param name="Expression">0 typical, 1 exaggerated.</param>
/// <param name="Illumination">0 normal, 1 extreme.</param>
/// <param name="Invalid">True for faces the annotators marked invalid (training code skips them).</param>
/// <param name="Occlusion">0 none, 1 partial, 2 heavy.</param>
/// <param name="Pose">0 typical, 1 atypical.</param>
public sealed record WiderFace(WiderBox Box, int Blur, int Expression, int Illumination, bool Invalid, int Occlusion, int Pose);

/// <summary>The faces of one image of a WIDER FACE box list.</summary>
/// <param name="LineNumber">1-based line of the image's file name.</param>
/// <param name="ImagePath">The path as written, e.g. <c>0--Parade/0_Parade_marchingband_1_849.jpg</c>.</param>
/// <param name="Faces">Its faces (empty for images annotated with zero faces).</param>
public sealed record WiderAnnotatedImage(int LineNumber, string ImagePath, IReadOnlyList<WiderFace> Faces);

/// <summary>The readable images of a WIDER FACE box list and the records that were not readable.</summary>
/// <param name="FileName">The list file.</param>
/// <param name="Images">Images in file order.</param>
/// <param name="Issues">Records that were skipped, with the reason.</param>
public sealed record WiderAnnotationResult(string FileName, IReadOnlyList<WiderAnnotatedImage> Images, IReadOnlyList<AnnotationIssue> Issues);

/// <summary>
/// Reads WIDER FACE box lists (<c>wider_face_train_bbx_gt.txt</c>, <c>wider_face_val_bbx_gt.txt</c>): per image a
/// line with the file name, a line with the face count, then one line per face
/// <c>x y w h blur expression illumination invalid occlusion pose</c>. An image with zero faces is followed by one
/// all-zero placeholder line, which is skipped. A malformed record is reported and skipped as a whole (an image with
/// a face missing would teach the trainer that the face is background); reading resumes at the next file name.
/// </summary>
public static class WiderAnnotationFile
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    /// <summary>Reads a box list.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The images and the skipped records.</returns>
    /// <exception cref="EvaluationDataException">The file cannot be read.</exception>
    public static WiderAnnotationResult Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(AnnotationText.Read(path, "WIDER FACE box list"), path);
    }

    /// <summary>Parses the text of a box list.</summary>
    /// <param name="text">The file's text.</param>
    /// <param name="fileName">The name used in issues.</param>
    /// <returns>The images and the skipped records.</returns>
    public static WiderAnnotationResult Parse(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        var lines = text.Split('\n').Select(l => l.Trim()).ToArray();
        var images = new List<WiderAnnotatedImage>();
        var issues = new List<AnnotationIssue>();
        var i = 0;
        while (i < lines.Length)
        {
            if (lines[i].Length == 0)
            {
                i++;
                continue;
            }

            var start = i;
            if (!LooksLikeImage(lines[i]))
            {
                issues.Add(new AnnotationIssue(fileName, i + 1, $"expected an image file name, found '{Shorten(lines[i])}'"));
                i = NextImageLine(lines, i + 1);
                continue;
            }

            var path = lines[i].Replace('\\', '/');
            i++;
            if (i >= lines.Length || !int.TryParse(lines[i], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                var found = i < lines.Length ? $"'{Shorten(lines[i])}'" : "the end of the file";
                issues.Add(new AnnotationIssue(fileName, i + 1, $"expected the face count of {path}, found {found}"));
                i = NextImageLine(lines, i);
                continue;
            }

            i++;
            var faces = new List<WiderFace>(count);
            string? problem = null;
            var faceLines = Math.Max(count, 1);
            for (var f = 0; f < faceLines; f++, i++)
            {
                if (i >= lines.Length)
                {
                    problem = $"{path}: the file ends after {f} of {count} face lines";
                    break;
                }

                if (LooksLikeImage(lines[i]))
                {
                    problem = $"{path}: expected {count} face lines, found {f}";
                    break;
                }

                if (!TryParseFace(lines[i], out var face, out var error))
                {
                    problem = $"{path}: face line {f + 1}: {error}";
                    break;
                }

                if (count > 0)
                {
                    faces.Add(face);
                }
            }

            if (problem is not null)
            {
                issues.Add(new AnnotationIssue(fileName, i + 1, problem));
                i = NextImageLine(lines, i);
                continue;
            }

            images.Add(new WiderAnnotatedImage(start + 1, path, faces));
        }

        return new WiderAnnotationResult(fileName, images, issues);
    }

    private static bool TryParseFace(string line, out WiderFace face, out string error)
    {
        face = null!;
        var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 4)
        {
            error = $"expected 'x y w h blur expression illumination invalid occlusion pose', found '{Shorten(line)}'";
            return false;
        }

        var v = new double[10];
        for (var k = 0; k < Math.Min(fields.Length, 10); k++)
        {
            if (!double.TryParse(fields[k], NumberStyles.Float, CultureInfo.InvariantCulture, out v[k]) || !double.IsFinite(v[k]))
            {
                error = $"field {k + 1} ('{Shorten(fields[k])}') is not a number";
                return false;
            }
        }

        if (v[2] < 0 || v[3] < 0)
        {
            error = $"negative width or height ({v[2]} x {v[3]})";
            return false;
        }

        face = new WiderFace(new WiderBox(v[0], v[1], v[2], v[3]), (int)v[4], (int)v[5], (int)v[6], v[7] != 0, (int)v[8], (int)v[9]);
        error = string.Empty;
        return true;
    }

    private static bool LooksLikeImage(string line) =>
        !line.Contains(' ', StringComparison.Ordinal) && ImageExtensions.Any(e => line.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    private static int NextImageLine(string[] lines, int from)
    {
        var i = from;
        while (i < lines.Length && !LooksLikeImage(lines[i]))
        {
            i++;
        }

        return i;
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
