using System.Globalization;
using SkiaSharp;

namespace Mtcnn.Imaging;

/// <summary>
/// Immutable drawing settings for <see cref="FaceAnnotator"/>: colours, what to draw and sizes. Sizes left null scale
/// with the image's shorter side <c>s = min(width, height)</c> so that annotations look alike on small and large
/// pictures. <see cref="Validate"/> (called by the annotator) checks every value.
/// </summary>
public sealed record AnnotationOptions
{
    /// <summary>The default options.</summary>
    public static AnnotationOptions Default { get; } = new();

    /// <summary>Colour of boxes and of the score label's background. Default green (0, 230, 118).</summary>
    public SKColor BoxColor { get; init; } = new(0, 230, 118);

    /// <summary>Colour of the score text. Default black.</summary>
    public SKColor TextColor { get; init; } = SKColors.Black;

    /// <summary>
    /// Colours of the five landmark dots in the order left eye, right eye, nose, mouth left, mouth right. Default
    /// blue, red, yellow, purple, orange. Must hold exactly 5 colours.
    /// </summary>
    public IReadOnlyList<SKColor> LandmarkColors { get; init; } =
    [
        new(33, 150, 243),
        new(244, 67, 54),
        new(255, 235, 59),
        new(156, 39, 176),
        new(255, 152, 0),
    ];

    /// <summary>Draw the boxes. Default true.</summary>
    public bool DrawBoxes { get; init; } = true;

    /// <summary>Draw each box's score as text (e.g. "0.998") above it. Default true. Skipped when no typeface is available.</summary>
    public bool DrawScores { get; init; } = true;

    /// <summary>Draw the five landmarks of faces as dots in <see cref="LandmarkColors"/> (candidates have none). Default true.</summary>
    public bool DrawLandmarks { get; init; } = true;

    /// <summary>Digits after the decimal point in score labels. Default 3; range [0, 6].</summary>
    public int ScoreDecimals { get; init; } = 3;

    /// <summary>Box line width in pixels; null (default) means <c>max(1, s / 256)</c>. Range (0, 1000].</summary>
    public float? LineWidth { get; init; }

    /// <summary>Score text size in pixels; null (default) means <c>max(10, s / 32)</c>. Range [1, 1000].</summary>
    public float? FontSize { get; init; }

    /// <summary>Landmark dot radius in pixels; null (default) means <c>max(2.5, 2 * line width)</c>. Dots get a thin dark ring. Range (0, 1000].</summary>
    public float? LandmarkRadius { get; init; }

    /// <summary>
    /// Font family for score text, looked up through the platform's font manager (fontconfig on Linux). Default
    /// "DejaVu Sans"; when it is not installed the platform's default typeface is used.
    /// </summary>
    public string FontFamily { get; init; } = "DejaVu Sans";

    /// <summary>
    /// A typeface to use instead of looking up <see cref="FontFamily"/> (e.g. one loaded from a font file where no
    /// font manager exists); null (default) looks it up. The caller keeps ownership and must keep it alive.
    /// </summary>
    public SKTypeface? Typeface { get; init; }

    /// <summary>Checks every value against its documented range.</summary>
    /// <returns>This instance, for chaining.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names it and the valid range.</exception>
    /// <exception cref="ArgumentException"><see cref="LandmarkColors"/> does not hold 5 colours or <see cref="FontFamily"/> is null.</exception>
    public AnnotationOptions Validate()
    {
        if (LandmarkColors is null || LandmarkColors.Count != FaceLandmarks.Count)
        {
            throw new ArgumentException($"LandmarkColors must hold exactly {FaceLandmarks.Count} colours.", nameof(LandmarkColors));
        }

        if (FontFamily is null)
        {
            throw new ArgumentException("FontFamily must not be null.", nameof(FontFamily));
        }

        if (ScoreDecimals is < 0 or > 6)
        {
            throw new ArgumentOutOfRangeException(nameof(ScoreDecimals), ScoreDecimals, "ScoreDecimals must be in [0, 6].");
        }

        CheckSize(LineWidth, 0f, nameof(LineWidth), lowInclusive: false);
        CheckSize(FontSize, 1f, nameof(FontSize), lowInclusive: true);
        CheckSize(LandmarkRadius, 0f, nameof(LandmarkRadius), lowInclusive: false);
        return this;
    }

    private static void CheckSize(float? value, float low, string name, bool lowInclusive)
    {
        if (value is not float v)
        {
            return;
        }

        bool ok = (lowInclusive ? v >= low : v > low) && v <= 1000f;
        if (!ok)
        {
            string range = string.Create(CultureInfo.InvariantCulture, $"{(lowInclusive ? "[" : "(")}{low}, 1000]");
            throw new ArgumentOutOfRangeException(name, v, $"{name} must be null (automatic) or in {range}.");
        }
    }
}
