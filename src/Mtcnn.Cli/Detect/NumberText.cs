using System.Globalization;

namespace Mtcnn.Cli.Detect;

/// <summary>Culture-invariant number text for the machine-readable formats.</summary>
internal static class NumberText
{
    /// <summary>Decimals of box and landmark coordinates.</summary>
    public const int CoordinateDecimals = 4;

    /// <summary>Decimals of scores.</summary>
    public const int ScoreDecimals = 6;

    /// <summary>
    /// <paramref name="value"/> rounded to <paramref name="decimals"/> places (half away from zero), without trailing
    /// zeros, exponent or negative zero: <c>181.05</c>, <c>0.999987</c>, <c>-3.5</c>, <c>0</c>. Non-finite values give
    /// <c>null</c> (the detector produces none).
    /// </summary>
    public static string Format(float value, int decimals)
    {
        if (!float.IsFinite(value))
        {
            return "null";
        }

        double rounded = Math.Round((double)value, decimals, MidpointRounding.AwayFromZero);
        if (rounded == 0)
        {
            rounded = 0; // drops the sign of -0
        }

        return rounded.ToString(decimals switch
        {
            CoordinateDecimals => "0.####",
            ScoreDecimals => "0.######",
            _ => "0." + new string('#', decimals),
        }, CultureInfo.InvariantCulture);
    }

    /// <summary>A coordinate with <see cref="CoordinateDecimals"/> places.</summary>
    public static string Coordinate(float value) => Format(value, CoordinateDecimals);

    /// <summary>A score with <see cref="ScoreDecimals"/> places.</summary>
    public static string Score(float value) => Format(value, ScoreDecimals);

    /// <summary>An integer, invariant.</summary>
    public static string Integer(int value) => value.ToString(CultureInfo.InvariantCulture);
}
