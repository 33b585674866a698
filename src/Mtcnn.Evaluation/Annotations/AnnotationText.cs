namespace Mtcnn.Evaluation.Annotations;

/// <summary>Reads an annotation file's text, turning I/O failures into <see cref="EvaluationDataException"/>.</summary>
internal static class AnnotationText
{
    /// <summary>The whole file as text.</summary>
    /// <param name="path">The file.</param>
    /// <param name="what">What the file is, for the message (e.g. <c>landmark list</c>).</param>
    /// <returns>The text.</returns>
    /// <exception cref="EvaluationDataException">The file cannot be read.</exception>
    public static string Read(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EvaluationDataException(path, $"cannot read the {what}: {e.Message}", e);
        }
    }
}
