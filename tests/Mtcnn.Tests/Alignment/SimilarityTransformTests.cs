using Mtcnn.Alignment;

namespace Mtcnn.Tests.Alignment;

/// <summary>Least-squares similarity estimation (Umeyama): exact recovery, optimality under noise, degenerate input.</summary>
public sealed class SimilarityTransformTests
{
    private static double[] RandomPoints(Random rng, int n, double range)
    {
        var xy = new double[n * 2];
        for (int i = 0; i < xy.Length; i++)
        {
            xy[i] = (rng.NextDouble() * 2 - 1) * range;
        }

        return xy;
    }

    private static double[] ApplyAll(SimilarityTransform t, double[] xy)
    {
        var result = new double[xy.Length];
        for (int i = 0; i < xy.Length; i += 2)
        {
            (result[i], result[i + 1]) = t.Apply(xy[i], xy[i + 1]);
        }

        return result;
    }

    private static double Sse(SimilarityTransform t, double[] source, double[] target)
    {
        double sum = 0;
        for (int i = 0; i < source.Length; i += 2)
        {
            var (x, y) = t.Apply(source[i], source[i + 1]);
            sum += (x - target[i]) * (x - target[i]) + (y - target[i + 1]) * (y - target[i + 1]);
        }

        return sum;
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(5, 3)]
    [InlineData(5, 4)]
    [InlineData(68, 5)]
    public void Known_similarity_is_recovered_to_1e_6(int n, int seed)
    {
        var rng = new Random(seed);
        for (int trial = 0; trial < 50; trial++)
        {
            var truth = SimilarityTransform.FromScaleRotation(
                0.05 + rng.NextDouble() * 5, (rng.NextDouble() * 2 - 1) * Math.PI, (rng.NextDouble() * 2 - 1) * 500, (rng.NextDouble() * 2 - 1) * 500);
            var source = RandomPoints(rng, n, 300);
            var target = ApplyAll(truth, source);
            var est = SimilarityTransform.Estimate(source, target);
            Assert.Equal(truth.A, est.A, 1e-6);
            Assert.Equal(truth.B, est.B, 1e-6);
            Assert.Equal(truth.TranslateX, est.TranslateX, 1e-6);
            Assert.Equal(truth.TranslateY, est.TranslateY, 1e-6);
            Assert.Equal(truth.Scale, est.Scale, 1e-6);
        }
    }

    [Fact]
    public void Float_points_recover_the_transform_to_float_precision()
    {
        var truth = SimilarityTransform.FromScaleRotation(1.7, 0.3, 12.5, -40.25);
        Point2F[] source = [new(30, 40), new(70, 41), new(50, 60), new(35, 80), new(66, 79)];
        var target = source.Select(truth.Apply).ToArray();
        var est = SimilarityTransform.Estimate(source, target);
        Assert.Equal(truth.Scale, est.Scale, 1e-5);
        Assert.Equal(truth.Rotation, est.Rotation, 1e-5);
        Assert.Equal(truth.TranslateX, est.TranslateX, 1e-3);
        Assert.Equal(truth.TranslateY, est.TranslateY, 1e-3);
    }

    [Fact]
    public void With_noise_the_estimate_is_the_least_squares_optimum()
    {
        var rng = new Random(11);
        var truth = SimilarityTransform.FromScaleRotation(1.3, -0.4, 20, 30);
        var source = RandomPoints(rng, 5, 60);
        var target = ApplyAll(truth, source);
        for (int i = 0; i < target.Length; i++)
        {
            target[i] += (rng.NextDouble() * 2 - 1) * 3;
        }

        var est = SimilarityTransform.Estimate(source, target);
        double best = Sse(est, source, target);
        Assert.True(best > 0);

        // Any small change of any parameter (a, b, tx, ty) makes the fit worse ...
        foreach (double h in new[] { 1e-3, -1e-3, 1e-5, -1e-5 })
        {
            Assert.True(Sse(est with { A = est.A + h }, source, target) > best);
            Assert.True(Sse(est with { B = est.B + h }, source, target) > best);
            Assert.True(Sse(est with { TranslateX = est.TranslateX + h }, source, target) > best);
            Assert.True(Sse(est with { TranslateY = est.TranslateY + h }, source, target) > best);
        }

        // ... and the gradient of the (quadratic) objective vanishes: solve the 4x4 normal equations independently.
        var normal = new double[4, 5];
        for (int i = 0; i < source.Length; i += 2)
        {
            double x = source[i], y = source[i + 1];
            double[][] rows = [[x, -y, 1, 0, target[i]], [y, x, 0, 1, target[i + 1]]];
            foreach (var r in rows)
            {
                for (int j = 0; j < 4; j++)
                {
                    for (int k = 0; k < 5; k++)
                    {
                        normal[j, k] += r[j] * r[k];
                    }
                }
            }
        }

        double[] solved = SolveGauss(normal);
        Assert.Equal(solved[0], est.A, 1e-9);
        Assert.Equal(solved[1], est.B, 1e-9);
        Assert.Equal(solved[2], est.TranslateX, 1e-7);
        Assert.Equal(solved[3], est.TranslateY, 1e-7);
    }

    private static double[] SolveGauss(double[,] m)
    {
        int n = m.GetLength(0);
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++)
            {
                if (Math.Abs(m[r, c]) > Math.Abs(m[pivot, c]))
                {
                    pivot = r;
                }
            }

            for (int k = 0; k <= n; k++)
            {
                (m[c, k], m[pivot, k]) = (m[pivot, k], m[c, k]);
            }

            for (int r = 0; r < n; r++)
            {
                if (r != c)
                {
                    double f = m[r, c] / m[c, c];
                    for (int k = c; k <= n; k++)
                    {
                        m[r, k] -= f * m[c, k];
                    }
                }
            }
        }

        return Enumerable.Range(0, n).Select(i => m[i, n] / m[i, i]).ToArray();
    }

    [Fact]
    public void Inverse_and_composition_round_trip()
    {
        var t = SimilarityTransform.FromScaleRotation(2.5, 1.1, -7, 13);
        var id = t.Then(t.Inverse());
        Assert.Equal(1, id.A, 1e-12);
        Assert.Equal(0, id.B, 1e-12);
        Assert.Equal(0, id.TranslateX, 1e-12);
        Assert.Equal(0, id.TranslateY, 1e-12);
        var (x, y) = t.Inverse().Apply(t.Apply(3.0, -4.0).X, t.Apply(3.0, -4.0).Y);
        Assert.Equal(3, x, 1e-12);
        Assert.Equal(-4, y, 1e-12);
        Assert.Equal([t.A, -t.B, t.TranslateX, t.B, t.A, t.TranslateY], t.ToMatrix());
        Assert.Throws<InvalidOperationException>(() => new SimilarityTransform(0, 0, 1, 1).Inverse());
    }

    [Fact]
    public void All_equal_points_give_a_clear_error()
    {
        Point2F[] same = [new(10, 10), new(10, 10), new(10, 10), new(10, 10), new(10, 10)];
        var ex = Assert.Throws<AlignmentException>(() => SimilarityTransform.Estimate(same, AlignmentTemplate.ArcFace112.Points.ToArray()));
        Assert.Contains("coincide", ex.Message, StringComparison.Ordinal);
        Assert.Throws<AlignmentException>(() => SimilarityTransform.Estimate(AlignmentTemplate.ArcFace112.Points.ToArray(), same));
        double[] fractional = [0.1, 0.7, 0.1, 0.7, 0.1, 0.7];
        Assert.Throws<AlignmentException>(() => SimilarityTransform.Estimate(fractional, [0, 0, 1, 0, 0, 1]));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Non_finite_points_give_a_clear_error(float bad)
    {
        Point2F[] src = [new(10, 10), new(bad, 20), new(30, 5)];
        Point2F[] dst = [new(0, 0), new(1, 0), new(0, 1)];
        var ex = Assert.Throws<AlignmentException>(() => SimilarityTransform.Estimate(src, dst));
        Assert.Contains("point 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_few_or_mismatched_points_are_argument_errors()
    {
        Assert.Throws<ArgumentException>(() => SimilarityTransform.Estimate([new Point2F(1, 2)], [new Point2F(3, 4)]));
        Assert.Throws<ArgumentException>(() => SimilarityTransform.Estimate([new Point2F(1, 2), new Point2F(2, 2)], [new Point2F(3, 4)]));
        Assert.Throws<ArgumentException>(() => SimilarityTransform.Estimate(new double[] { 1, 2, 3 }, new double[] { 1, 2, 3 }));
    }
}
