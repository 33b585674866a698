namespace Mtcnn.Evaluation;

/// <summary>A progress report of a long evaluation run.</summary>
/// <param name="Stage">What is happening: <c>detect</c> while images are processed, <c>score</c> while scoring.</param>
/// <param name="Completed">Items finished so far in this stage (including skipped ones).</param>
/// <param name="Total">Items in this stage.</param>
/// <param name="Skipped">Items skipped because their output already existed (resumed run).</param>
/// <param name="Item">The item just finished (an image path relative to the images folder), or null.</param>
public readonly record struct EvaluationProgress(string Stage, int Completed, int Total, int Skipped, string? Item);
