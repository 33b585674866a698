using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Mtcnn.Cli;

/// <summary>
/// Options whose values are parsed with the invariant culture (a decimal point, never a comma), so that
/// <c>--scale-factor 0.709</c> means the same on every machine. Malformed values become parse errors (exit code 2)
/// whose message names the option and shows an example.
/// </summary>
internal static class OptionFactory
{
    /// <summary>A single number.</summary>
    public static Option<float> Float(string name, float defaultValue, string description) => new(name)
    {
        Description = description,
        HelpName = "number",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => r.Tokens.Count == 0
            ? defaultValue
            : TryFloat(r.Tokens[0].Value, out float v) ? v : Fail<float>(r, name, $"expected a number like {Format(defaultValue)}, got '{r.Tokens[0].Value}'"),
    };

    /// <summary>A single integer.</summary>
    public static Option<int> Int(string name, int defaultValue, string description) => new(name)
    {
        Description = description,
        HelpName = "int",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => r.Tokens.Count == 0
            ? defaultValue
            : int.TryParse(r.Tokens[0].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : Fail<int>(r, name, $"expected a whole number, got '{r.Tokens[0].Value}'"),
    };

    /// <summary>A single 64-bit integer.</summary>
    public static Option<long> Long(string name, long defaultValue, string description) => new(name)
    {
        Description = description,
        HelpName = "int",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => r.Tokens.Count == 0
            ? defaultValue
            : long.TryParse(r.Tokens[0].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : Fail<long>(r, name, $"expected a whole number, got '{r.Tokens[0].Value}'"),
    };

    /// <summary>A comma-separated list of numbers; <paramref name="count"/> &gt; 0 demands exactly that many.</summary>
    public static Option<float[]> FloatList(string name, float[] defaultValue, int count, string description) => new(name)
    {
        Description = description,
        HelpName = "list",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
            {
                return defaultValue;
            }

            string text = r.Tokens[0].Value;
            string example = string.Join(',', defaultValue.Select(Format));
            string expected = count > 0 ? $"{count} comma-separated numbers like {example}" : $"comma-separated numbers like {example}";
            string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
            var values = new float[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!TryFloat(parts[i], out values[i]))
                {
                    return Fail<float[]>(r, name, $"expected {expected}, got '{text}'");
                }
            }

            return count > 0 && values.Length != count ? Fail<float[]>(r, name, $"expected {expected}, got '{text}'") : values;
        },
    };

    /// <summary>A comma-separated list of integers in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int[]> IntList(string name, int[] defaultValue, int min, int max, string description) => new(name)
    {
        Description = description,
        HelpName = "list",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
            {
                return defaultValue;
            }

            string text = r.Tokens[0].Value;
            var values = new List<int>();
            foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
                {
                    return Fail<int[]>(r, name, $"expected comma-separated whole numbers in [{min}, {max}], got '{text}'");
                }

                values.Add(v);
            }

            return [.. values];
        },
    };

    /// <summary>A comma-separated list of image sizes <c>WIDTHxHEIGHT</c>.</summary>
    public static Option<ImageSize[]> SizeList(string name, ImageSize[] defaultValue, string description) => new(name)
    {
        Description = description,
        HelpName = "list",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
            {
                return defaultValue;
            }

            string text = r.Tokens[0].Value;
            var values = new List<ImageSize>();
            foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
            {
                string[] wh = part.Split('x', 'X');
                if (wh.Length != 2
                    || !int.TryParse(wh[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
                    || !int.TryParse(wh[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h)
                    || w is < 12 or > 16384 || h is < 12 or > 16384)
                {
                    return Fail<ImageSize[]>(r, name, $"expected sizes like 640x480,1280x720 (each side in [12, 16384]), got '{text}'");
                }

                values.Add(new ImageSize(w, h));
            }

            return [.. values];
        },
    };

    /// <summary>One of a fixed set of words, matched case-insensitively and returned in lower case.</summary>
    public static Option<string> Choice(string name, string defaultValue, string[] choices, string description)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            HelpName = string.Join('|', choices),
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r =>
            {
                if (r.Tokens.Count == 0)
                {
                    return defaultValue;
                }

                string v = r.Tokens[0].Value.ToLowerInvariant();
                return choices.Contains(v) ? v : Fail<string>(r, name, $"expected one of {string.Join(", ", choices)}, got '{r.Tokens[0].Value}'");
            },
        };
        return option;
    }

    /// <summary>Formats a number the way the options read it.</summary>
    public static string Format(float value) => value.ToString(CultureInfo.InvariantCulture);

    private static bool TryFloat(string text, out float value) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);

    private static T Fail<T>(ArgumentResult result, string name, string message)
    {
        result.AddError($"{name}: {message}");
        return default!;
    }
}

/// <summary>An image size in pixels.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
internal readonly record struct ImageSize(int Width, int Height)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Width}x{Height}");
}
