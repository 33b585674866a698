namespace Mtcnn.Cli.Detect;

/// <summary>One reported box: a face (with landmarks) or, with <c>--stage pnet|rnet</c>, a stage candidate (without).</summary>
/// <param name="Box">The box in image pixels.</param>
/// <param name="Score">The last stage's face probability.</param>
/// <param name="Landmarks">The five landmarks; null for stage candidates.</param>
/// <param name="Rotation">Clockwise degrees the image was turned for the face to be upright (<see cref="Face.Rotation"/>).</param>
internal sealed record DetectedBox(BoundingBox Box, float Score, FaceLandmarks? Landmarks, int Rotation = 0);

/// <summary>What happened to one input image: its size and boxes, or the reason it failed.</summary>
internal sealed class ImageOutcome
{
    private ImageOutcome(string path, int width, int height, IReadOnlyList<DetectedBox> boxes, string? error, string? annotatedPath)
    {
        Path = path;
        Width = width;
        Height = height;
        Boxes = boxes;
        Error = error;
        AnnotatedPath = annotatedPath;
    }

    /// <summary>The image path as reported (see <see cref="InputItem.Path"/>).</summary>
    public string Path { get; }

    /// <summary>Width in pixels after EXIF orientation (0 when failed).</summary>
    public int Width { get; }

    /// <summary>Height in pixels after EXIF orientation (0 when failed).</summary>
    public int Height { get; }

    /// <summary>Faces or candidates in descending score order (empty when failed).</summary>
    public IReadOnlyList<DetectedBox> Boxes { get; }

    /// <summary>Why the image failed (one line, without the path); null on success.</summary>
    public string? Error { get; }

    /// <summary>Where the annotated copy was written; null when not requested or failed.</summary>
    public string? AnnotatedPath { get; }

    /// <summary>A warning about a successful outcome (one line, without the path), or null.</summary>
    public string? Warning { get; private init; }

    /// <summary>
    /// True when the detector capped the candidates at <see cref="DetectorOptions.MaxCandidates"/>
    /// (<see cref="DetectionResult.CandidateLimitReached"/>); the JSON record then says so.
    /// </summary>
    public bool CandidateLimitReached { get; private init; }

    /// <summary>True when the image could not be processed.</summary>
    public bool Failed => Error is not null;

    /// <summary>A successful outcome.</summary>
    public static ImageOutcome Success(string path, DetectionResult result, string? annotatedPath)
    {
        ArgumentNullException.ThrowIfNull(result);
        IEnumerable<DetectedBox> boxes = result.LastStage == CascadeStage.ONet
            ? result.Faces.Select(f => new DetectedBox(f.Box, f.Score, f.Landmarks, f.Rotation))
            : result.FinalCandidates.Select(c => new DetectedBox(c.Box, c.Score, null));

        // The detector already orders by score; a stable sort makes the documented order a guarantee of this output.
        var ordered = boxes.OrderByDescending(b => b.Score).ToArray();
        return new ImageOutcome(path, result.Width, result.Height, ordered, null, annotatedPath) { Warning = LimitWarning(result), CandidateLimitReached = result.CandidateLimitReached };
    }

    /// <summary>The warning for a detection whose candidates were capped at <see cref="DetectorOptions.MaxCandidates"/>.</summary>
    public static string? LimitWarning(DetectionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.CandidateLimitReached
            ? "more candidates than --max-candidates survived a stage; only the best-scoring went on, so faces may be missing (raise --thresholds or --min-face-size, or --max-candidates)"
            : null;
    }

    /// <summary>A failed outcome.</summary>
    public static ImageOutcome Failure(string path, string error) => new(path, 0, 0, [], error, null);
}
