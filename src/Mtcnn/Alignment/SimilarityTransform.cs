using System.Globalization;

namespace Mtcnn.Alignment;

/// <summary>
/// A 2-D similarity transform (rotation, uniform scale, translation; no reflection or shear) in image pixel
/// coordinates: <c>x' = A·x − B·y + TranslateX</c>, <c>y' = B·x + A·y + TranslateY</c>. As a 2x3 matrix, row-major:
/// <c>[A, −B, TranslateX; B, A, TranslateY]</c>, the layout OpenCV's <c>warpAffine</c> and scikit-image use.
/// Immutable value; all members are thread-safe.
/// </summary>
/// <param name="A">Scale times the cosine of the rotation angle.</param>
/// <param name="B">Scale times the sine of the rotation angle.</param>
/// <param name="TranslateX">Horizontal translation in pixels, applied after rotation and scaling.</param>
/// <param name="TranslateY">Vertical translation in pixels, applied after rotation and scaling.</param>
public readonly record struct SimilarityTransform(double A, double B, double TranslateX, double TranslateY)
{
    // A point set whose RMS distance from its centroid is below this fraction of its coordinate magnitude (plus one
    // pixel) is treated as a single point: rounding, not geometry, decides its "shape".
    private const double RelativeSpreadTolerance = 1e-7;

    /// <summary>The transform that leaves every point where it is.</summary>
    public static SimilarityTransform Identity { get; } = new(1, 0, 0, 0);

    /// <summary>The uniform scale factor <c>sqrt(A² + B²)</c>.</summary>
    public double Scale => Math.Sqrt((A * A) + (B * B));

    /// <summary>
    /// The rotation angle in radians, in (−π, π]: <c>atan2(B, A)</c>. With y pointing down (image coordinates) a
    /// positive angle turns clockwise on screen.
    /// </summary>
    public double Rotation => Math.Atan2(B, A);

    /// <summary>Element (row 1, column 1) of the 2x3 matrix: <see cref="A"/>.</summary>
    public double M11 => A;

    /// <summary>Element (row 1, column 2) of the 2x3 matrix: <c>−B</c>.</summary>
    public double M12 => -B;

    /// <summary>Element (row 1, column 3) of the 2x3 matrix: <see cref="TranslateX"/>.</summary>
    public double M13 => TranslateX;

    /// <summary>Element (row 2, column 1) of the 2x3 matrix: <see cref="B"/>.</summary>
    public double M21 => B;

    /// <summary>Element (row 2, column 2) of the 2x3 matrix: <see cref="A"/>.</summary>
    public double M22 => A;

    /// <summary>Element (row 2, column 3) of the 2x3 matrix: <see cref="TranslateY"/>.</summary>
    public double M23 => TranslateY;

    /// <summary>Builds a transform from its scale, rotation and translation.</summary>
    /// <param name="scale">Uniform scale factor (positive).</param>
    /// <param name="rotation">Rotation angle in radians (see <see cref="Rotation"/> for the direction).</param>
    /// <param name="translateX">Horizontal translation in pixels.</param>
    /// <param name="translateY">Vertical translation in pixels.</param>
    public static SimilarityTransform FromScaleRotation(double scale, double rotation, double translateX, double translateY) =>
        new(scale * Math.Cos(rotation), scale * Math.Sin(rotation), translateX, translateY);

    /// <summary>Maps a point.</summary>
    /// <param name="x">Horizontal coordinate.</param>
    /// <param name="y">Vertical coordinate.</param>
    /// <returns>The mapped point.</returns>
    public (double X, double Y) Apply(double x, double y) => ((A * x) - (B * y) + TranslateX, (B * x) + (A * y) + TranslateY);

    /// <summary>Maps a point (computed in double precision, returned as single precision).</summary>
    /// <param name="point">The point to map.</param>
    /// <returns>The mapped point.</returns>
    public Point2F Apply(Point2F point)
    {
        var (x, y) = Apply(point.X, point.Y);
        return new Point2F((float)x, (float)y);
    }

    /// <summary>Maps all five landmarks.</summary>
    /// <param name="landmarks">The landmarks to map.</param>
    /// <returns>The mapped landmarks.</returns>
    public FaceLandmarks Apply(FaceLandmarks landmarks) => new(
        Apply(landmarks.LeftEye), Apply(landmarks.RightEye), Apply(landmarks.Nose), Apply(landmarks.MouthLeft), Apply(landmarks.MouthRight));

    /// <summary>The transform that undoes this one.</summary>
    /// <returns>The inverse transform.</returns>
    /// <exception cref="InvalidOperationException">The scale is zero or not finite, so there is no inverse.</exception>
    public SimilarityTransform Inverse()
    {
        double d = (A * A) + (B * B);
        if (!(d > 0) || !double.IsFinite(d) || !double.IsFinite(TranslateX) || !double.IsFinite(TranslateY))
        {
            throw new InvalidOperationException($"The transform {this} has no inverse (its scale is zero or not finite).");
        }

        // The inverse of z -> c·z + t (complex numbers) is z -> z/c − t/c, and 1/c = conj(c)/|c|².
        double ia = A / d;
        double ib = -B / d;
        return new SimilarityTransform(ia, ib, -((ia * TranslateX) - (ib * TranslateY)), -((ib * TranslateX) + (ia * TranslateY)));
    }

    /// <summary>The transform that applies this one first, then <paramref name="next"/>.</summary>
    /// <param name="next">The transform applied second.</param>
    /// <returns>The composition <c>next ∘ this</c>.</returns>
    public SimilarityTransform Then(SimilarityTransform next)
    {
        var (tx, ty) = next.Apply(TranslateX, TranslateY);
        return new SimilarityTransform((next.A * A) - (next.B * B), (next.A * B) + (next.B * A), tx, ty);
    }

    /// <summary>The 2x3 matrix in row-major order: <c>[M11, M12, M13, M21, M22, M23]</c>.</summary>
    /// <returns>A new six-element array.</returns>
    public double[] ToMatrix() => [M11, M12, M13, M21, M22, M23];

    /// <summary>The sum over all pairs of the squared distance between the mapped source point and its target.</summary>
    /// <param name="source">Points before the transform.</param>
    /// <param name="target">Where each point should land.</param>
    /// <returns>The residual sum of squares in square pixels.</returns>
    /// <exception cref="ArgumentException">The two spans differ in length.</exception>
    public double SumOfSquaredErrors(ReadOnlySpan<Point2F> source, ReadOnlySpan<Point2F> target)
    {
        if (source.Length != target.Length)
        {
            throw new ArgumentException($"The source has {source.Length} points but the target has {target.Length}.", nameof(target));
        }

        double sum = 0;
        for (int i = 0; i < source.Length; i++)
        {
            var (x, y) = Apply(source[i].X, source[i].Y);
            double dx = x - target[i].X;
            double dy = y - target[i].Y;
            sum += (dx * dx) + (dy * dy);
        }

        return sum;
    }

    /// <summary>
    /// Estimates the similarity transform that maps <paramref name="source"/> onto <paramref name="target"/> with the
    /// least sum of squared distances (Umeyama 1991, "Least-squares estimation of transformation parameters between
    /// two point patterns", restricted to proper rotations).
    /// </summary>
    /// <param name="source">At least two points, e.g. detected landmarks.</param>
    /// <param name="target">The same number of points, e.g. a template.</param>
    /// <returns>The least-squares transform from source to target.</returns>
    /// <exception cref="ArgumentException">Fewer than two points, or the spans differ in length.</exception>
    /// <exception cref="AlignmentException">A coordinate is NaN or infinite, or the source or target points all coincide.</exception>
    public static SimilarityTransform Estimate(ReadOnlySpan<Point2F> source, ReadOnlySpan<Point2F> target)
    {
        if (source.Length != target.Length)
        {
            throw new ArgumentException($"The source has {source.Length} points but the target has {target.Length}.", nameof(target));
        }

        double[] s = new double[source.Length * 2];
        double[] t = new double[target.Length * 2];
        for (int i = 0; i < source.Length; i++)
        {
            s[2 * i] = source[i].X;
            s[(2 * i) + 1] = source[i].Y;
            t[2 * i] = target[i].X;
            t[(2 * i) + 1] = target[i].Y;
        }

        return Estimate(s, t);
    }

    /// <summary>
    /// Estimates the least-squares similarity transform from points given as interleaved coordinates
    /// (<c>x0, y0, x1, y1, …</c>) in double precision. See <see cref="Estimate(ReadOnlySpan{Point2F}, ReadOnlySpan{Point2F})"/>.
    /// </summary>
    /// <param name="sourceXY">Source coordinates, two per point, at least two points.</param>
    /// <param name="targetXY">Target coordinates, as many as <paramref name="sourceXY"/>.</param>
    /// <returns>The least-squares transform from source to target.</returns>
    /// <exception cref="ArgumentException">Fewer than two points, an odd number of coordinates, or different lengths.</exception>
    /// <exception cref="AlignmentException">A coordinate is NaN or infinite, or the source or target points all coincide.</exception>
    public static SimilarityTransform Estimate(ReadOnlySpan<double> sourceXY, ReadOnlySpan<double> targetXY)
    {
        if (sourceXY.Length % 2 != 0)
        {
            throw new ArgumentException($"Coordinates come in (x, y) pairs; got {sourceXY.Length} values.", nameof(sourceXY));
        }

        if (sourceXY.Length != targetXY.Length)
        {
            throw new ArgumentException($"The source has {sourceXY.Length / 2} points but the target has {targetXY.Length / 2.0} points.", nameof(targetXY));
        }

        int n = sourceXY.Length / 2;
        if (n < 2)
        {
            throw new ArgumentException($"A similarity transform needs at least 2 point pairs; got {n}.", nameof(sourceXY));
        }

        CheckFinite(sourceXY, "source");
        CheckFinite(targetXY, "target");

        // In complex notation the model is t ≈ c·s + d with one complex scale-rotation c. Centring both sets removes d;
        // the least-squares c is then Σ conj(s̃)·t̃ / Σ|s̃|², the 2-D form of Umeyama's SVD solution (the SVD's sign
        // correction against reflections is implicit: a complex factor cannot reflect).
        var (msx, msy, sourceSpread) = Centroid(sourceXY);
        var (mtx, mty, targetSpread) = Centroid(targetXY);
        CheckSpread(sourceXY, msx, msy, sourceSpread, "source");
        CheckSpread(targetXY, mtx, mty, targetSpread, "target");

        double re = 0;
        double im = 0;
        for (int i = 0; i < n; i++)
        {
            double sx = sourceXY[2 * i] - msx;
            double sy = sourceXY[(2 * i) + 1] - msy;
            double tx = targetXY[2 * i] - mtx;
            double ty = targetXY[(2 * i) + 1] - mty;
            re += (sx * tx) + (sy * ty);
            im += (sx * ty) - (sy * tx);
        }

        double a = re / sourceSpread;
        double b = im / sourceSpread;
        if (!(((a * a) + (b * b)) > 0))
        {
            // Possible only when the target's shape is orthogonal to the source's (e.g. two points swapped onto a
            // rotated copy with zero net correlation); no scale-rotation fits better than collapsing to a point.
            throw new AlignmentException("The source and target point sets are uncorrelated: the least-squares similarity has zero scale.");
        }

        return new SimilarityTransform(a, b, mtx - ((a * msx) - (b * msy)), mty - ((b * msx) + (a * msy)));
    }

    /// <summary>Formats the transform as its 2x3 matrix.</summary>
    /// <returns>A string like <c>[[a, -b, tx], [b, a, ty]]</c> (invariant culture).</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"[[{M11:G6}, {M12:G6}, {M13:G6}], [{M21:G6}, {M22:G6}, {M23:G6}]]");

    private static void CheckFinite(ReadOnlySpan<double> xy, string which)
    {
        for (int i = 0; i < xy.Length; i++)
        {
            if (!double.IsFinite(xy[i]))
            {
                throw new AlignmentException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"The {which} point {i / 2} has a non-finite {(i % 2 == 0 ? "x" : "y")} coordinate ({xy[i]})."));
            }
        }
    }

    private static (double MeanX, double MeanY, double Spread) Centroid(ReadOnlySpan<double> xy)
    {
        int n = xy.Length / 2;
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++)
        {
            mx += xy[2 * i];
            my += xy[(2 * i) + 1];
        }

        mx /= n;
        my /= n;
        double spread = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = xy[2 * i] - mx;
            double dy = xy[(2 * i) + 1] - my;
            spread += (dx * dx) + (dy * dy);
        }

        return (mx, my, spread);
    }

    private static void CheckSpread(ReadOnlySpan<double> xy, double mx, double my, double spread, string which)
    {
        int n = xy.Length / 2;
        double magnitude = 1;
        foreach (double v in xy)
        {
            magnitude = Math.Max(magnitude, Math.Abs(v));
        }

        double rms = Math.Sqrt(spread / n);
        if (!(rms > RelativeSpreadTolerance * magnitude))
        {
            throw new AlignmentException(string.Create(
                CultureInfo.InvariantCulture,
                $"All {n} {which} points coincide at ({mx:G6}, {my:G6}) (RMS spread {rms:G3} px): a similarity transform needs points that are spread out."));
        }
    }
}
