using System.Collections.Concurrent;
using System.Globalization;
using SkiaSharp;

namespace Mtcnn.Imaging;

/// <summary>
/// Draws detection results onto a copy of an image: face boxes with score labels and the five landmarks as dots in
/// distinct colours, or candidate boxes with scores (the P-Net / R-Net views). Line width, text size and dot radius scale
/// with the image size unless set in <see cref="AnnotationOptions"/>. Text uses the platform font manager (fontconfig
/// on Linux); when no usable typeface exists, boxes and dots are still drawn and text is skipped
/// (<see cref="CanDrawText"/> is false). Instances are immutable and thread-safe.
/// </summary>
public sealed class FaceAnnotator
{
    private const string LabelCharacters = "0123456789.";
    private static readonly ConcurrentDictionary<string, SKTypeface?> TypefaceCache = new(StringComparer.Ordinal);

    private readonly SKTypeface? _typeface;

    /// <summary>Creates an annotator; looks the font up once (results are cached per family for the process).</summary>
    /// <param name="options">Drawing settings; null uses <see cref="AnnotationOptions.Default"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid (see <see cref="AnnotationOptions.Validate"/>).</exception>
    public FaceAnnotator(AnnotationOptions? options = null)
        : this(options, resolveTypeface: true)
    {
    }

    /// <summary>Creates an annotator, optionally without any typeface (to exercise the no-font path in tests).</summary>
    internal FaceAnnotator(AnnotationOptions? options, bool resolveTypeface)
    {
        Options = (options ?? AnnotationOptions.Default).Validate();
        if (resolveTypeface)
        {
            _typeface = Options.Typeface is { } given && HasDigits(given) ? given : TypefaceCache.GetOrAdd(Options.FontFamily, ResolveTypeface);
        }
    }

    /// <summary>The validated drawing settings.</summary>
    public AnnotationOptions Options { get; }

    /// <summary>True when a typeface with digits was found, so score labels are drawn.</summary>
    public bool CanDrawText => _typeface is not null;

    /// <summary>Draws faces (box, score, landmarks) onto a copy of <paramref name="image"/>.</summary>
    /// <param name="image">The image the faces were detected in (any <see cref="PixelFormat"/> and stride); not modified.</param>
    /// <param name="faces">The faces, in image pixel coordinates.</param>
    /// <returns>The annotated copy, the size of <paramref name="image"/>; the caller disposes it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="faces"/> is null.</exception>
    /// <exception cref="ArgumentException">The image is empty.</exception>
    public AnnotatedImage Annotate(ImageData image, IReadOnlyList<Face> faces)
    {
        ArgumentNullException.ThrowIfNull(faces);
        return Draw(image, canvas => DrawFaces(canvas, image.Width, image.Height, faces));
    }

    /// <summary>Draws candidate boxes with their scores onto a copy of <paramref name="image"/>.</summary>
    /// <param name="image">The image the candidates were found in; not modified.</param>
    /// <param name="candidates">The candidates, in image pixel coordinates.</param>
    /// <returns>The annotated copy, the size of <paramref name="image"/>; the caller disposes it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="candidates"/> is null.</exception>
    /// <exception cref="ArgumentException">The image is empty.</exception>
    public AnnotatedImage Annotate(ImageData image, IReadOnlyList<Candidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        return Draw(image, canvas => DrawCandidates(canvas, image.Width, image.Height, candidates));
    }

    /// <summary>
    /// Draws a detection result: its faces with landmarks when O-Net ran last, otherwise the candidates of the last
    /// stage that ran (<see cref="DetectionResult.FinalCandidates"/>).
    /// </summary>
    /// <param name="image">The image the result is for; not modified.</param>
    /// <param name="result">The detection result.</param>
    /// <returns>The annotated copy; the caller disposes it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is null.</exception>
    /// <exception cref="ArgumentException">The image is empty.</exception>
    public AnnotatedImage Annotate(ImageData image, DetectionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.LastStage == CascadeStage.ONet ? Annotate(image, result.Faces) : Annotate(image, result.FinalCandidates);
    }

    /// <summary>Draws faces onto an existing canvas (e.g. a video frame) whose image is <paramref name="width"/> x <paramref name="height"/>.</summary>
    /// <param name="canvas">The canvas to draw on, in image pixel coordinates.</param>
    /// <param name="width">Image width in pixels (sets the automatic sizes).</param>
    /// <param name="height">Image height in pixels (sets the automatic sizes).</param>
    /// <param name="faces">The faces.</param>
    /// <exception cref="ArgumentNullException">A reference argument is null.</exception>
    public void DrawFaces(SKCanvas canvas, int width, int height, IReadOnlyList<Face> faces)
    {
        ArgumentNullException.ThrowIfNull(canvas);
        ArgumentNullException.ThrowIfNull(faces);
        var style = new Style(Options, width, height);
        using var stroke = NewStroke(style);
        using var fill = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        using var ring = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1f, style.Radius / 3f), Color = new SKColor(0, 0, 0, 160) };
        using var font = NewFont(style);
        foreach (var face in faces)
        {
            DrawBox(canvas, face.Box, face.Score, style, stroke, fill, font);
            if (Options.DrawLandmarks)
            {
                for (int i = 0; i < FaceLandmarks.Count; i++)
                {
                    Point2F p = face.Landmarks[i];
                    fill.Color = Options.LandmarkColors[i];
                    canvas.DrawCircle(p.X, p.Y, style.Radius, fill);

                    // A thin dark ring keeps the dot visible on skin of a similar colour.
                    canvas.DrawCircle(p.X, p.Y, style.Radius, ring);
                }
            }
        }
    }

    /// <summary>Draws candidate boxes and scores onto an existing canvas whose image is <paramref name="width"/> x <paramref name="height"/>.</summary>
    /// <param name="canvas">The canvas to draw on, in image pixel coordinates.</param>
    /// <param name="width">Image width in pixels (sets the automatic sizes).</param>
    /// <param name="height">Image height in pixels (sets the automatic sizes).</param>
    /// <param name="candidates">The candidates.</param>
    /// <exception cref="ArgumentNullException">A reference argument is null.</exception>
    public void DrawCandidates(SKCanvas canvas, int width, int height, IReadOnlyList<Candidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(canvas);
        ArgumentNullException.ThrowIfNull(candidates);
        var style = new Style(Options, width, height);
        using var stroke = NewStroke(style);
        using var fill = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        using var font = NewFont(style);
        foreach (var candidate in candidates)
        {
            DrawBox(canvas, candidate.Box, candidate.Score, style, stroke, fill, font);
        }
    }

    private static AnnotatedImage Draw(ImageData image, Action<SKCanvas> draw)
    {
        SKBitmap bitmap = image.ToSKBitmap();
        try
        {
            using (var canvas = new SKCanvas(bitmap))
            {
                draw(canvas);
                canvas.Flush();
            }

            return new AnnotatedImage(bitmap);
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    // Box outlines are not antialiased: crisp lines in exactly the box colour, like OpenCV's rectangles.
    private static SKPaint NewStroke(Style style) => new()
    {
        IsAntialias = false,
        Style = SKPaintStyle.Stroke,
        StrokeWidth = style.LineWidth,
        Color = style.Options.BoxColor,
    };

    private SKFont? NewFont(Style style) =>
        _typeface is not null && style.Options.DrawScores ? new SKFont(_typeface, style.FontSize) { Edging = SKFontEdging.Antialias } : null;

    private static void DrawBox(SKCanvas canvas, BoundingBox box, float score, Style style, SKPaint stroke, SKPaint fill, SKFont? font)
    {
        if (style.Options.DrawBoxes)
        {
            canvas.DrawRect(box.X1, box.Y1, box.Width, box.Height, stroke);
        }

        if (font is null)
        {
            return;
        }

        string label = score.ToString("F" + style.Options.ScoreDecimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        float textWidth = font.MeasureText(label);
        font.GetFontMetrics(out SKFontMetrics metrics);
        float pad = Math.Max(1f, style.FontSize * 0.15f);
        float labelHeight = metrics.Descent - metrics.Ascent + (2 * pad);
        float half = style.LineWidth / 2;
        float left = box.X1 - half;

        // Above the box's top edge; inside it when that would leave the image.
        float top = box.Y1 - half - labelHeight;
        if (top < 0)
        {
            top = box.Y1 + half;
        }

        fill.Color = style.Options.BoxColor;
        canvas.DrawRect(left, top, textWidth + (2 * pad), labelHeight, fill);
        fill.Color = style.Options.TextColor;
        canvas.DrawText(label, left + pad, top + pad - metrics.Ascent, SKTextAlign.Left, font, fill);
    }

    private static SKTypeface? ResolveTypeface(string family)
    {
        SKTypeface? matched = null;
        if (!string.IsNullOrWhiteSpace(family))
        {
            matched = SKFontManager.Default.MatchFamily(family);
            if (matched is not null && HasDigits(matched))
            {
                return matched;
            }

            matched?.Dispose();
        }

        // SKTypeface.Default is a shared instance: never dispose it. Without a font manager it is an empty typeface.
        SKTypeface fallback = SKTypeface.Default;
        return HasDigits(fallback) ? fallback : null;
    }

    private static bool HasDigits(SKTypeface typeface) => typeface.GlyphCount > 0 && typeface.ContainsGlyphs(LabelCharacters);

    /// <summary>Sizes resolved for one image.</summary>
    private readonly struct Style
    {
        public Style(AnnotationOptions options, int width, int height)
        {
            Options = options;
            float shortSide = Math.Max(1, Math.Min(width, height));
            LineWidth = options.LineWidth ?? Math.Max(1f, shortSide / 256f);
            FontSize = options.FontSize ?? Math.Max(10f, shortSide / 32f);
            Radius = options.LandmarkRadius ?? Math.Max(2.5f, 2f * LineWidth);
        }

        public AnnotationOptions Options { get; }

        public float LineWidth { get; }

        public float FontSize { get; }

        public float Radius { get; }
    }
}
