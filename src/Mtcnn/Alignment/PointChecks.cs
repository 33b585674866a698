using System.Globalization;

namespace Mtcnn.Alignment;

/// <summary>Shape checks shared by templates and landmarks: finite, spread out, and (from three points) not on one line.</summary>
internal static class PointChecks
{
    /// <summary>
    /// Smallest ratio of the minor to the major standard deviation of a point set (the square root of the scatter
    /// matrix's eigenvalue ratio) accepted as "not collinear". Five face landmarks are never within 1 % of a line.
    /// </summary>
    public const double MinSpreadRatio = 0.01;

    public static void Check(ReadOnlySpan<Point2F> points, string what)
    {
        int n = points.Length;
        for (int i = 0; i < n; i++)
        {
            if (!float.IsFinite(points[i].X) || !float.IsFinite(points[i].Y))
            {
                throw new AlignmentException(string.Create(CultureInfo.InvariantCulture, $"The {what} point {i} is not finite ({points[i].X}, {points[i].Y})."));
            }
        }

        double mx = 0;
        double my = 0;
        double magnitude = 1;
        foreach (var p in points)
        {
            mx += p.X;
            my += p.Y;
            magnitude = Math.Max(magnitude, Math.Max(Math.Abs(p.X), Math.Abs(p.Y)));
        }

        mx /= n;
        my /= n;
        double sxx = 0;
        double syy = 0;
        double sxy = 0;
        foreach (var p in points)
        {
            double dx = p.X - mx;
            double dy = p.Y - my;
            sxx += dx * dx;
            syy += dy * dy;
            sxy += dx * dy;
        }

        // Eigenvalues of the 2x2 scatter matrix [[sxx, sxy], [sxy, syy]].
        double half = (sxx + syy) / 2;
        double root = Math.Sqrt((((sxx - syy) / 2) * ((sxx - syy) / 2)) + (sxy * sxy));
        double major = half + root;
        double minor = Math.Max(0, half - root);
        if (!(Math.Sqrt(major / n) > 1e-6 * magnitude))
        {
            throw new AlignmentException(string.Create(CultureInfo.InvariantCulture, $"All {n} {what} points coincide at ({mx:G6}, {my:G6})."));
        }

        if (n >= 3 && Math.Sqrt(minor / major) < MinSpreadRatio)
        {
            throw new AlignmentException(string.Create(
                CultureInfo.InvariantCulture,
                $"The {n} {what} points are collinear (spread across their line is {Math.Sqrt(minor / major):P2} of the spread along it; at least {MinSpreadRatio:P0} is needed)."));
        }
    }
}
