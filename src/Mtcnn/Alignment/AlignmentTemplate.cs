using System.Globalization;

namespace Mtcnn.Alignment;

/// <summary>
/// Where the landmarks should land in an aligned crop: reference points in the pixel coordinates of a
/// <see cref="Width"/> x <see cref="Height"/> image. The built-in templates hold the five MTCNN landmarks in their
/// order (left eye, right eye, nose, left mouth corner, right mouth corner). Immutable and thread-safe.
/// </summary>
public sealed class AlignmentTemplate
{
    private readonly Point2F[] points;

    private AlignmentTemplate(string name, Point2F[] points, int width, int height)
    {
        Name = name;
        this.points = points;
        Width = width;
        Height = height;
    }

    /// <summary>
    /// The standard five-point template of ArcFace-style recognisers (InsightFace), for a 112x112 crop:
    /// (38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366), (41.5493, 92.3655), (70.7299, 92.2041).
    /// </summary>
    public static AlignmentTemplate ArcFace112 { get; } = new("arcface112", ArcFacePoints(0f), 112, 112);

    /// <summary>The same template for a 112 (high) x 96 (wide) crop: every x is 8 pixels smaller.</summary>
    public static AlignmentTemplate ArcFace112x96 { get; } = new("arcface112x96", ArcFacePoints(-8f), 96, 112);

    /// <summary>A short name: <c>arcface112</c>, <c>arcface112x96</c> or the name given to <see cref="Create"/>.</summary>
    public string Name { get; }

    /// <summary>The reference points, in the order the landmarks are given to the aligner.</summary>
    public IReadOnlyList<Point2F> Points => points;

    /// <summary>Width in pixels of the crop the points refer to.</summary>
    public int Width { get; }

    /// <summary>Height in pixels of the crop the points refer to.</summary>
    public int Height { get; }

    internal ReadOnlySpan<Point2F> PointSpan => points;

    /// <summary>Creates a user template.</summary>
    /// <param name="points">Two or more reference points (five to align <see cref="FaceLandmarks"/>), in crop pixels.</param>
    /// <param name="width">Width of the crop the points refer to, in [1, 8192].</param>
    /// <param name="height">Height of the crop the points refer to, in [1, 8192].</param>
    /// <param name="name">A name for messages and records; default <c>custom</c>.</param>
    /// <returns>The template.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="points"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    /// <exception cref="ArgumentException">Fewer than two points.</exception>
    /// <exception cref="AlignmentException">A point is not finite, the points coincide, or three or more points are collinear.</exception>
    public static AlignmentTemplate Create(IReadOnlyList<Point2F> points, int width, int height, string name = "custom")
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (width is < 1 or > 8192)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "The template width must be in [1, 8192].");
        }

        if (height is < 1 or > 8192)
        {
            throw new ArgumentOutOfRangeException(nameof(height), height, "The template height must be in [1, 8192].");
        }

        if (points.Count < 2)
        {
            throw new ArgumentException($"A template needs at least 2 points; got {points.Count}.", nameof(points));
        }

        Point2F[] copy = [.. points];
        PointChecks.Check(copy, $"template '{name}'");
        return new AlignmentTemplate(name, copy, width, height);
    }

    /// <summary>A short description: name, size and point count.</summary>
    /// <returns>For example <c>arcface112 (112x112, 5 points)</c>.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Name} ({Width}x{Height}, {points.Length} points)");

    private static Point2F[] ArcFacePoints(float dx) =>
    [
        new(38.2946f + dx, 51.6963f),
        new(73.5318f + dx, 51.5014f),
        new(56.0252f + dx, 71.7366f),
        new(41.5493f + dx, 92.3655f),
        new(70.7299f + dx, 92.2041f),
    ];
}
