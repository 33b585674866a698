using System.Globalization;

namespace Mtcnn.Alignment;

/// <summary>How <see cref="FaceAligner"/> fills output pixels whose source position lies outside the image.</summary>
public enum AlignmentBorder
{
    /// <summary>Outside the image is <see cref="FaceAlignerOptions.BorderColor"/>; samples near the edge blend with it. Default.</summary>
    Constant,

    /// <summary>Outside the image repeats the nearest edge pixel.</summary>
    Replicate,
}

/// <summary>An 8-bit RGB colour.</summary>
/// <param name="R">Red, 0–255.</param>
/// <param name="G">Green, 0–255.</param>
/// <param name="B">Blue, 0–255.</param>
public readonly record struct RgbColor(byte R, byte G, byte B);

/// <summary>
/// Immutable settings for <see cref="FaceAligner"/>: template, output size, margin and border handling. Defaults give
/// the standard 112x112 ArcFace crop with a black border.
/// </summary>
/// <remarks>
/// The target point of template point <c>p</c> in an output of size <c>W x H</c> is
/// <c>c + (p·(W/Tw, H/Th) − c) / (1 + 2·Margin)</c> with <c>c = (W/2, H/2)</c> and <c>Tw x Th</c> the template's size:
/// the template is first stretched to the output size, then shrunk about the output centre so that a band of
/// <c>Margin</c> times the face frame's size shows around it. Coordinates are pixel indices (pixel (0, 0) is sampled
/// at the source position the transform maps to (0, 0)), the convention of OpenCV's <c>warpAffine</c>.
/// </remarks>
public sealed record FaceAlignerOptions
{
    /// <summary>The default options: <see cref="AlignmentTemplate.ArcFace112"/>, 112x112, no margin, black constant border.</summary>
    public static FaceAlignerOptions Default { get; } = new();

    /// <summary>The reference points. Default <see cref="AlignmentTemplate.ArcFace112"/>.</summary>
    public AlignmentTemplate Template { get; init; } = AlignmentTemplate.ArcFace112;

    /// <summary>Output width in pixels; 0 uses the template's width. Default 0; range [0, 8192].</summary>
    public int OutputWidth { get; init; }

    /// <summary>Output height in pixels; 0 uses the template's height. Default 0; range [0, 8192].</summary>
    public int OutputHeight { get; init; }

    /// <summary>
    /// Context around the face as a fraction of the template frame on each side: the template is scaled about the
    /// output centre by <c>1 / (1 + 2·Margin)</c>, so 0.25 shows the 112x112 ArcFace frame in the central 74.7x74.7
    /// pixels of a 112x112 output. Default 0; range [0, 10].
    /// </summary>
    public double Margin { get; init; }

    /// <summary>What outside the source image looks like. Default <see cref="AlignmentBorder.Constant"/>.</summary>
    public AlignmentBorder Border { get; init; } = AlignmentBorder.Constant;

    /// <summary>The colour of <see cref="AlignmentBorder.Constant"/> borders. Default black.</summary>
    public RgbColor BorderColor { get; init; }

    /// <summary>The output width after resolving 0 to the template's width.</summary>
    public int EffectiveWidth => OutputWidth == 0 ? Template.Width : OutputWidth;

    /// <summary>The output height after resolving 0 to the template's height.</summary>
    public int EffectiveHeight => OutputHeight == 0 ? Template.Height : OutputHeight;

    /// <summary>Checks every value against its documented range.</summary>
    /// <returns>This instance, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><see cref="Template"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range; the message names it and the valid range.</exception>
    public FaceAlignerOptions Validate()
    {
        if (Template is null)
        {
            throw new ArgumentNullException(nameof(Template), "Template must be set.");
        }

        if (OutputWidth is < 0 or > 8192)
        {
            throw new ArgumentOutOfRangeException(nameof(OutputWidth), OutputWidth, "OutputWidth must be in [0, 8192] (0 uses the template's width).");
        }

        if (OutputHeight is < 0 or > 8192)
        {
            throw new ArgumentOutOfRangeException(nameof(OutputHeight), OutputHeight, "OutputHeight must be in [0, 8192] (0 uses the template's height).");
        }

        if (!(Margin >= 0 && Margin <= 10))
        {
            throw new ArgumentOutOfRangeException(nameof(Margin), Margin, string.Create(CultureInfo.InvariantCulture, $"Margin must be in [0, 10]."));
        }

        if (!Enum.IsDefined(Border))
        {
            throw new ArgumentOutOfRangeException(nameof(Border), Border, "Border must be Constant or Replicate.");
        }

        return this;
    }

    /// <summary>The template points moved into the output frame (stretched to the output size, shrunk by the margin).</summary>
    /// <returns>One target point per template point.</returns>
    public Point2F[] TargetPoints()
    {
        int w = EffectiveWidth;
        int h = EffectiveHeight;
        double sx = (double)w / Template.Width;
        double sy = (double)h / Template.Height;
        double shrink = 1 / (1 + (2 * Margin));
        double cx = w / 2.0;
        double cy = h / 2.0;
        var result = new Point2F[Template.Points.Count];
        for (int i = 0; i < result.Length; i++)
        {
            Point2F p = Template.Points[i];
            result[i] = new Point2F((float)(cx + (((p.X * sx) - cx) * shrink)), (float)(cy + (((p.Y * sy) - cy) * shrink)));
        }

        return result;
    }
}
