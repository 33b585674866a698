using System.Globalization;
using Mtcnn.Evaluation.Fddb;
using Mtcnn.Evaluation.Landmarks;
using Mtcnn.Evaluation.Wider;
using Mtcnn.Imaging;
using SkiaSharp;

namespace Mtcnn.Evaluation;

/// <summary>
/// Draws evaluation curves as PNG files with SkiaSharp: the three WIDER FACE precision-recall curves, the FDDB
/// ROC curves and the cumulative landmark error curves, with grid, axis labels and a legend giving AP, TPR@1000 or the
/// mean error. Text needs a system font (DejaVu Sans or
/// any with digits); without one the curves and legend swatches are still drawn. Thread-safe.
/// </summary>
public static class EvaluationPlots
{
    private const int Width = 900;
    private const int Height = 680;
    private const float Left = 80;
    private const float Right = 30;
    private const float Top = 50;
    private const float Bottom = 70;

    private static readonly SKColor[] Palette = [new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28)];
    private static readonly Lazy<SKTypeface?> Font = new(ResolveTypeface);

    /// <summary>Draws the easy, medium and hard precision-recall curves into one PNG.</summary>
    /// <param name="result">A WIDER FACE evaluation.</param>
    /// <param name="path">The PNG file to write (its folder is created).</param>
    /// <param name="title">The chart title; null uses "WIDER FACE validation".</param>
    public static void SavePrecisionRecall(WiderEvaluationResult result, string path, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var series = result.Settings.Select(s => new Series(
            string.Create(CultureInfo.InvariantCulture, $"{s.Setting.ToString().ToLowerInvariant()}: AP {s.AveragePrecision:F3}"),
            [.. s.Recall.Zip(s.Precision, (r, p) => (r, p)).Where(pt => pt.r > 0)])).ToArray();
        Save(series, title ?? "WIDER FACE validation", "Recall", "Precision", 1, 1, legendLeft: true, path);
    }

    /// <summary>Draws the FDDB discrete and continuous ROC curves into one PNG.</summary>
    /// <param name="result">An FDDB evaluation.</param>
    /// <param name="path">The PNG file to write (its folder is created).</param>
    /// <param name="maxFalsePositives">The x-axis range. Default 2000; at least 10.</param>
    /// <param name="title">The chart title; null uses "FDDB".</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxFalsePositives"/> is below 10.</exception>
    public static void SaveRoc(FddbResult result, string path, int maxFalsePositives = 2000, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFalsePositives, 10);
        Series[] series =
        [
            new(string.Create(CultureInfo.InvariantCulture, $"discrete: TPR {result.DiscreteTruePositiveRateAt1000:F3} at 1000 FP"), Steps(result.Discrete)),
            new(string.Create(CultureInfo.InvariantCulture, $"continuous: TPR {result.ContinuousTruePositiveRateAt1000:F3} at 1000 FP"), Steps(result.Continuous)),
        ];
        Save(series, title ?? "FDDB", "False positives", "True positive rate", maxFalsePositives, 1, legendLeft: false, path);
    }

    /// <summary>
    /// Draws the cumulative error distribution of a landmark evaluation: for each error e on the x axis, the fraction of
    /// detected faces whose normalised mean error is at most e; one curve normalised by the inter-ocular distance, one by
    /// the box size.
    /// </summary>
    /// <param name="result">A landmark evaluation.</param>
    /// <param name="path">The PNG file to write (its folder is created).</param>
    /// <param name="maxError">The x-axis range, in (0, 10]. Default 0.3.</param>
    /// <param name="title">The chart title; null gives one with the detection count.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxError"/> is outside (0, 10].</exception>
    public static void SaveCumulativeError(LandmarkEvaluationResult result, string path, double maxError = 0.3, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!(maxError > 0 && maxError <= 10))
        {
            throw new ArgumentOutOfRangeException(nameof(maxError), maxError, "The x-axis range must be in (0, 10].");
        }

        var detected = result.Images.Where(i => i.Status == LandmarkImageStatus.Detected).ToList();
        Series[] series =
        [
            new(string.Create(CultureInfo.InvariantCulture, $"inter-ocular: mean {result.MeanInterOcularError:F4}"), Cumulative(detected.Select(i => i.InterOcularError), maxError)),
            new(string.Create(CultureInfo.InvariantCulture, $"box size: mean {result.MeanBoxError:F4}"), Cumulative(detected.Select(i => i.BoxError), maxError)),
        ];
        string heading = title ?? string.Create(
            CultureInfo.InvariantCulture,
            $"Landmark error: {result.Detected} of {result.Evaluated} faces detected, {result.FailureRate * 100:F1}% above {result.FailureThreshold:0.###} inter-ocular");
        Save(series, heading, "Normalised mean error", "Fraction of detected faces", maxError, 1, legendLeft: false, path);
    }

    /// <summary>The empirical distribution function as a staircase from (0, 0), held at its last value up to <paramref name="xEnd"/>.</summary>
    private static (double X, double Y)[] Cumulative(IEnumerable<double> values, double xEnd)
    {
        double[] sorted = [.. values.Order()];
        var points = new List<(double X, double Y)>((2 * sorted.Length) + 2) { (0, 0) };
        for (int i = 0; i < sorted.Length; i++)
        {
            points.Add((sorted[i], (double)i / sorted.Length));
            points.Add((sorted[i], (double)(i + 1) / sorted.Length));
        }

        if (sorted.Length > 0 && sorted[^1] < xEnd)
        {
            points.Add((xEnd, 1));
        }

        return [.. points];
    }

    private static (double X, double Y)[] Steps(IReadOnlyList<RocPoint> points) => [(0, 0), .. points.Select(p => ((double)p.FalsePositives, p.TruePositiveRate))];

    private sealed record Series(string Label, (double X, double Y)[] Points);

    private static void Save(Series[] series, string title, string xLabel, string yLabel, double xMax, double yMax, bool legendLeft, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        using var bitmap = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        {
            Draw(canvas, series, title, xLabel, yLabel, xMax, yMax, legendLeft);
        }

        ImageSaver.Save(bitmap, path);
    }

    private static void Draw(SKCanvas canvas, Series[] series, string title, string xLabel, string yLabel, double xMax, double yMax, bool legendLeft)
    {
        canvas.Clear(SKColors.White);
        float plotW = Width - Left - Right;
        float plotH = Height - Top - Bottom;
        // x is not clamped: points past the axis end are cut off by the clip, not piled up on the edge.
        float X(double v) => Left + (float)(Math.Clamp(v / xMax, -1, 2) * plotW);
        float Y(double v) => Top + plotH - (float)(Math.Clamp(v / yMax, 0, 1) * plotH);

        using var grid = new SKPaint { Color = new SKColor(0xE0, 0xE0, 0xE0), StrokeWidth = 1, IsAntialias = false, Style = SKPaintStyle.Stroke };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        SKTypeface? typeface = Font.Value;
        using SKFont? small = typeface is null ? null : new SKFont(typeface, 15);
        using SKFont? large = typeface is null ? null : new SKFont(typeface, 20);

        for (int i = 0; i <= 10; i++)
        {
            double fx = xMax * i / 10;
            double fy = yMax * i / 10;
            canvas.DrawLine(X(fx), Top, X(fx), Top + plotH, grid);
            canvas.DrawLine(Left, Y(fy), Left + plotW, Y(fy), grid);
            if (small is not null)
            {
                string xs = fx.ToString(xMax > 10 ? "0" : xMax >= 1 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
                canvas.DrawText(xs, X(fx), Top + plotH + 20, SKTextAlign.Center, small, text);
                canvas.DrawText(fy.ToString("0.0", CultureInfo.InvariantCulture), Left - 8, Y(fy) + 5, SKTextAlign.Right, small, text);
            }
        }

        canvas.DrawRect(Left, Top, plotW, plotH, axis);
        if (large is not null && small is not null)
        {
            canvas.DrawText(title, Width / 2f, Top - 18, SKTextAlign.Center, large, text);
            canvas.DrawText(xLabel, Left + (plotW / 2), Height - 18, SKTextAlign.Center, small, text);
            canvas.Save();
            canvas.RotateDegrees(-90, 22, Top + (plotH / 2));
            canvas.DrawText(yLabel, 22, Top + (plotH / 2), SKTextAlign.Center, small, text);
            canvas.Restore();
        }

        using var clip = new SKPath();
        clip.AddRect(new SKRect(Left, Top, Left + plotW, Top + plotH));
        canvas.Save();
        canvas.ClipPath(clip, antialias: true);
        for (int s = 0; s < series.Length; s++)
        {
            var pts = series[s].Points;
            if (pts.Length == 0)
            {
                continue;
            }

            using var line = new SKPaint { Color = Palette[s % Palette.Length], StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeJoin = SKStrokeJoin.Round };
            using var path = new SKPath();
            path.MoveTo(X(pts[0].X), Y(pts[0].Y));
            for (int i = 1; i < pts.Length; i++)
            {
                path.LineTo(X(pts[i].X), Y(pts[i].Y));
            }

            canvas.DrawPath(path, line);
        }

        canvas.Restore();

        // Legend: a swatch and a label per series, in a box inside the plot.
        float rowH = 24;
        float boxW = 330;
        float boxH = (series.Length * rowH) + 12;
        float bx = legendLeft ? Left + 16 : Left + plotW - boxW - 16;
        float by = Top + plotH - boxH - 16;
        using var legendFill = new SKPaint { Color = new SKColor(255, 255, 255, 230), Style = SKPaintStyle.Fill };
        using var legendEdge = new SKPaint { Color = new SKColor(0xA0, 0xA0, 0xA0), Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawRect(bx, by, boxW, boxH, legendFill);
        canvas.DrawRect(bx, by, boxW, boxH, legendEdge);
        for (int s = 0; s < series.Length; s++)
        {
            float y = by + 6 + (s * rowH) + (rowH / 2);
            using var swatch = new SKPaint { Color = Palette[s % Palette.Length], StrokeWidth = 4, IsAntialias = true, Style = SKPaintStyle.Stroke };
            canvas.DrawLine(bx + 10, y, bx + 40, y, swatch);
            if (small is not null)
            {
                canvas.DrawText(series[s].Label, bx + 50, y + 5, SKTextAlign.Left, small, text);
            }
        }
    }

    private static SKTypeface? ResolveTypeface()
    {
        foreach (string family in new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica" })
        {
            var t = SKFontManager.Default.MatchFamily(family);
            if (t is not null && t.GlyphCount > 0 && t.ContainsGlyphs("0123456789APR"))
            {
                return t;
            }

            t?.Dispose();
        }

        var fallback = SKTypeface.Default;
        return fallback.GlyphCount > 0 && fallback.ContainsGlyphs("0123456789") ? fallback : null;
    }
}
