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
    /// <summary>The command-line words after a bare <c>--</c> in the arguments being parsed (names, never options).</summary>
    private static readonly AsyncLocal<HashSet<string>?> LiteralWords = new();

    /// <summary>
    /// Notes which of <paramref name="args"/> follow a bare <c>--</c>, for <see cref="RejectOptionLikeInputs"/>; call it
    /// before parsing. The parser itself already treats those words as arguments.
    /// </summary>
    public static void NoteLiteralWords(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int at = -1;
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--")
            {
                at = i;
                break;
            }
        }

        LiteralWords.Value = at < 0 ? null : new HashSet<string>(args.Skip(at + 1), StringComparer.Ordinal);
    }

    /// <summary>
    /// Makes an input argument refuse a word that looks like an option (<c>-x</c>, <c>--foo</c>): it is a mistyped or
    /// unknown option, not a file. A file whose name starts with '-' is named <c>./-x</c>, or after <c>--</c>, which
    /// ends the options as usual; <c>-</c> alone (stdin) is an input.
    /// </summary>
    public static void RejectOptionLikeInputs(Argument argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        argument.Validators.Add(r =>
        {
            var literal = LiteralWords.Value;
            foreach (var token in r.Tokens)
            {
                if (token.Value.Length > 1 && token.Value[0] == '-' && !(literal?.Contains(token.Value) ?? false))
                {
                    r.AddError($"unknown option '{token.Value}' (to name a file that starts with '-', write ./{token.Value} or put it after --)");
                }
            }
        });
    }

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
    public static Option<float[]> FloatList(string name, float[] defaultValue, int count, string description)
    {
        string example = string.Join(',', defaultValue.Select(Format));
        string expected = count > 0 ? $"{count} comma-separated numbers like {example}" : $"comma-separated numbers like {example}";
        return List(name, defaultValue, description, expected, count, (string part, out float v) => TryFloat(part, out v));
    }

    /// <summary>A comma-separated list of integers in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int[]> IntList(string name, int[] defaultValue, int min, int max, string description) =>
        List(name, defaultValue, description, $"comma-separated whole numbers in [{min}, {max}]", 0, (string part, out int v) =>
            int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out v) && v >= min && v <= max);

    /// <summary>A comma-separated list of image sizes <c>WIDTHxHEIGHT</c>, each side in [12, 16384].</summary>
    public static Option<ImageSize[]> SizeList(string name, ImageSize[] defaultValue, string description) =>
        List(name, defaultValue, description, "sizes like 640x480,1280x720 (each side in [12, 16384])", 0, (string part, out ImageSize v) =>
        {
            string[] wh = part.Split('x', 'X');
            int w = 0, h = 0;
            bool ok = wh.Length == 2
                && int.TryParse(wh[0], NumberStyles.None, CultureInfo.InvariantCulture, out w)
                && int.TryParse(wh[1], NumberStyles.None, CultureInfo.InvariantCulture, out h)
                && w is >= 12 and <= 16384 && h is >= 12 and <= 16384;
            v = new ImageSize(w, h);
            return ok;
        });

    /// <summary>Which turns of the image to search: <c>0,90,180,270</c>, <c>all</c> or <c>auto</c> (<see cref="RotationText"/>).</summary>
    public static Option<DetectionRotations> Rotations(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "0,90,180,270|all|auto",
        DefaultValueFactory = _ => DetectionRotations.Rotate0,
        CustomParser = r => r.Tokens.Count == 0
            ? DetectionRotations.Rotate0
            : RotationText.TryParse(r.Tokens[0].Value, out var v) ? v : Fail<DetectionRotations>(r, name, $"expected {RotationText.Expected}, got '{r.Tokens[0].Value}'"),
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

    /// <summary>Parses one element of a list; false rejects the whole value.</summary>
    private delegate bool PartParser<T>(string part, out T value);

    /// <summary>
    /// A comma-separated list option: each part goes through <paramref name="parse"/>; any bad part (or, with
    /// <paramref name="count"/> &gt; 0, a wrong number of parts) is a usage error "expected {expected}, got '...'".
    /// </summary>
    private static Option<T[]> List<T>(string name, T[] defaultValue, string description, string expected, int count, PartParser<T> parse) => new(name)
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
            string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
            var values = new T[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!parse(parts[i], out values[i]))
                {
                    return Fail<T[]>(r, name, $"expected {expected}, got '{text}'");
                }
            }

            return count > 0 && values.Length != count ? Fail<T[]>(r, name, $"expected {expected}, got '{text}'") : values;
        },
    };

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
