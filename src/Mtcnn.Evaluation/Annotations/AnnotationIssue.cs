namespace Mtcnn.Evaluation.Annotations;

/// <summary>
/// A line of an annotation file that could not be used. Readers collect these instead of stopping, so one bad line
/// costs only its own record; the caller decides whether to print them or fail.
/// </summary>
/// <param name="FileName">The annotation file.</param>
/// <param name="LineNumber">1-based line number of the bad line (the record's first line for multi-line records).</param>
/// <param name="Problem">What is wrong, in words.</param>
public sealed record AnnotationIssue(string FileName, int LineNumber, string Problem)
{
    /// <summary>"<c>file:line: problem</c>", the form compilers use, so editors can jump to the line.</summary>
    public override string ToString() => $"{FileName}:{LineNumber}: {Problem}";
}
