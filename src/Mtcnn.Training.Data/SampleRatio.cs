using System.Globalization;

namespace Mtcnn.Training.Data;

/// <summary>
/// Relative numbers of the four sample kinds to keep, as negative : positive : part : landmark. A zero drops a kind.
/// The paper's and reference project's target is 3:1:1:2.
/// </summary>
/// <param name="Negative">Share of negatives.</param>
/// <param name="Positive">Share of positives.</param>
/// <param name="Part">Share of parts.</param>
/// <param name="Landmark">Share of landmark samples.</param>
public readonly record struct SampleRatio(int Negative, int Positive, int Part, int Landmark)
{
    /// <summary>3:1:1:2.</summary>
    public static SampleRatio Default { get; } = new(3, 1, 1, 2);

    /// <summary>The share of a kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>Its share.</returns>
    public int Of(SampleKind kind) => kind switch
    {
        SampleKind.Negative => Negative,
        SampleKind.Positive => Positive,
        SampleKind.Part => Part,
        SampleKind.Landmark => Landmark,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown sample kind."),
    };

    /// <summary>Parses <c>N:P:R:L</c> (four whole numbers &gt;= 0, not all zero).</summary>
    /// <param name="text">The text.</param>
    /// <param name="ratio">The ratio.</param>
    /// <returns>False when the text is malformed.</returns>
    public static bool TryParse(string? text, out SampleRatio ratio)
    {
        ratio = default;
        string[] parts = (text ?? string.Empty).Split(':', StringSplitOptions.TrimEntries);
        if (parts.Length != 4)
        {
            return false;
        }

        var v = new int[4];
        for (int i = 0; i < 4; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out v[i]) || v[i] > 1_000_000)
            {
                return false;
            }
        }

        if (v.Sum() == 0)
        {
            return false;
        }

        ratio = new SampleRatio(v[0], v[1], v[2], v[3]);
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Negative}:{Positive}:{Part}:{Landmark}");
}

/// <summary>Numbers of samples per kind.</summary>
/// <param name="Negative">Negatives.</param>
/// <param name="Positive">Positives.</param>
/// <param name="Part">Parts.</param>
/// <param name="Landmark">Landmark samples.</param>
public readonly record struct SampleCounts(long Negative, long Positive, long Part, long Landmark)
{
    /// <summary>All kinds together.</summary>
    public long Total => Negative + Positive + Part + Landmark;

    /// <summary>The count of a kind.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>Its count.</returns>
    public long Of(SampleKind kind) => kind switch
    {
        SampleKind.Negative => Negative,
        SampleKind.Positive => Positive,
        SampleKind.Part => Part,
        SampleKind.Landmark => Landmark,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown sample kind."),
    };

    /// <summary>Counts from an array indexed by <see cref="KindIndex"/>.</summary>
    internal static SampleCounts From(ReadOnlySpan<long> byIndex) => new(byIndex[0], byIndex[1], byIndex[2], byIndex[3]);

    /// <summary>0 negative, 1 positive, 2 part, 3 landmark.</summary>
    internal static int KindIndex(SampleKind kind) => kind switch
    {
        SampleKind.Negative => 0,
        SampleKind.Positive => 1,
        SampleKind.Part => 2,
        _ => 3,
    };

    /// <summary>The kinds in <see cref="KindIndex"/> order.</summary>
    internal static ReadOnlySpan<SampleKind> Kinds => [SampleKind.Negative, SampleKind.Positive, SampleKind.Part, SampleKind.Landmark];

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Negative} negative, {Positive} positive, {Part} part, {Landmark} landmark ({Total} in all)");
}
