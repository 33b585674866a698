using System.Globalization;

namespace Mtcnn.Evaluation.Annotations;

/// <summary>
/// A 1-based, inclusive range of line numbers of an annotation list, used to evaluate part of a list (for example
/// the held-out images of a split: lines 9001 to 10000 of a 10,000-line list). Line numbers are those of the file,
/// blank lines included, as in <see cref="FacePointEntry.LineNumber"/>.
/// </summary>
/// <param name="First">The first line (at least 1).</param>
/// <param name="Last">The last line (at least <paramref name="First"/>); <see cref="int.MaxValue"/> for "to the end".</param>
public readonly record struct LineRange(int First, int Last)
{
    /// <summary>Every line.</summary>
    public static LineRange All { get; } = new(1, int.MaxValue);

    /// <summary>True when the range covers every line.</summary>
    public bool IsAll => First <= 1 && Last == int.MaxValue;

    /// <summary>True when <paramref name="lineNumber"/> lies in the range.</summary>
    /// <param name="lineNumber">A 1-based line number.</param>
    /// <returns>Whether the line is selected.</returns>
    public bool Contains(int lineNumber) => lineNumber >= First && lineNumber <= Last;

    /// <summary>
    /// Parses <c>A:B</c> (lines A to B), <c>A:</c> (line A to the end) or <c>:B</c> (the first B lines); A and B are
    /// 1-based and inclusive, and B must not be below A.
    /// </summary>
    /// <param name="text">The range as typed.</param>
    /// <returns>The range.</returns>
    /// <exception cref="FormatException">The text is not a valid range; the message says why.</exception>
    public static LineRange Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || colon != text.LastIndexOf(':'))
        {
            throw new FormatException($"expected a line range like 9001:10000 (first:last, 1-based, inclusive), got '{text}'");
        }

        int first = Bound(text[..colon].Trim(), 1, text);
        int last = Bound(text[(colon + 1)..].Trim(), int.MaxValue, text);
        if (last < first)
        {
            throw new FormatException($"the last line ({last}) of the range '{text}' is before the first ({first})");
        }

        return new LineRange(first, last);
    }

    /// <summary>Parses like <see cref="Parse(string)"/> without throwing.</summary>
    /// <param name="text">The range as typed; null fails.</param>
    /// <param name="range">The range when the text is valid.</param>
    /// <returns>Whether the text is a valid range.</returns>
    public static bool TryParse(string? text, out LineRange range)
    {
        range = All;
        if (text is null)
        {
            return false;
        }

        try
        {
            range = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>"<c>A:B</c>", "<c>A:</c>" when open-ended.</summary>
    /// <returns>The range as <see cref="Parse(string)"/> reads it.</returns>
    public override string ToString() =>
        Last == int.MaxValue
            ? First.ToString(CultureInfo.InvariantCulture) + ":"
            : string.Create(CultureInfo.InvariantCulture, $"{First}:{Last}");

    private static int Bound(string part, int whenEmpty, string text)
    {
        if (part.Length == 0)
        {
            return whenEmpty;
        }

        if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1)
        {
            throw new FormatException($"'{part}' in the line range '{text}' is not a line number (a whole number from 1)");
        }

        return value;
    }
}
