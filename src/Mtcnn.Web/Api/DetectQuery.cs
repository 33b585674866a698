using System.Globalization;

namespace Mtcnn.Web.Api;

/// <summary>
/// The query parameters of <c>/api/detect</c> and <c>/api/annotate</c>, parsed with the invariant culture into
/// <see cref="DetectorOptions"/>. Names are matched case-insensitively; an unknown name, a repeated name, a malformed
/// value or a value out of range is a 400 whose message names the parameter (and, for ranges, the valid range).
/// </summary>
internal sealed record DetectQuery(DetectorOptions Options, string Format)
{
    /// <summary>Parameter names, as documented.</summary>
    public static readonly IReadOnlyList<string> DetectParameters =
        ["minFaceSize", "scaleFactor", "thresholds", "pnetThreshold", "rnetThreshold", "onetThreshold", "stage", "maxFaces", "cropBorder", "rotations"];

    /// <summary>The extra parameter of <c>/api/annotate</c>: the encoded format of the annotated image.</summary>
    public const string FormatParameter = "format";

    /// <summary>Formats <c>/api/annotate</c> can return.</summary>
    public static readonly IReadOnlyList<string> Formats = ["png", "jpeg", "webp"];

    private static readonly string[] Stages = ["pnet", "rnet", "onet"];
    private static readonly string[] Borders = ["zero", "clip"];

    /// <summary>Parses <paramref name="query"/>.</summary>
    /// <param name="query">The request's query.</param>
    /// <param name="allowFormat">True for <c>/api/annotate</c>, which also takes <c>format</c>.</param>
    /// <param name="maxPixels">The server's pixel limit, passed on as <see cref="DetectorOptions.MaxImagePixels"/>.</param>
    /// <exception cref="ApiException">A parameter is unknown, repeated, malformed or out of range (400).</exception>
    /// <param name="maxCandidates">The server's candidate limit, passed on as <see cref="DetectorOptions.MaxCandidates"/>.</param>
    public static DetectQuery Parse(IQueryCollection query, bool allowFormat, long maxPixels, int maxCandidates)
    {
        ArgumentNullException.ThrowIfNull(query);
        foreach (var (key, values) in query)
        {
            bool known = DetectParameters.Contains(key, StringComparer.OrdinalIgnoreCase)
                || (allowFormat && string.Equals(key, FormatParameter, StringComparison.OrdinalIgnoreCase));
            if (!known)
            {
                string names = string.Join(", ", allowFormat ? [.. DetectParameters, FormatParameter] : DetectParameters);
                throw new ApiException($"unknown query parameter '{key}'; known parameters are {names}.");
            }

            if (values.Count > 1)
            {
                throw new ApiException($"query parameter '{key}' is given {values.Count} times; give it once.");
            }
        }

        var d = DetectorOptions.Default;
        float[] thresholds = [d.PNetThreshold, d.RNetThreshold, d.ONetThreshold];
        if (Text(query, "thresholds") is { } list)
        {
            if (Text(query, "pnetThreshold") is not null || Text(query, "rnetThreshold") is not null || Text(query, "onetThreshold") is not null)
            {
                throw new ApiException("give either thresholds=P,R,O or pnetThreshold / rnetThreshold / onetThreshold, not both.");
            }

            string[] parts = list.Split(',', StringSplitOptions.TrimEntries);
            if (parts.Length != 3 || !TryFloat(parts[0], out thresholds[0]) || !TryFloat(parts[1], out thresholds[1]) || !TryFloat(parts[2], out thresholds[2]))
            {
                throw new ApiException($"thresholds: expected 3 comma-separated numbers like 0.6,0.7,0.7, got '{list}'.");
            }
        }

        var options = d with
        {
            MinFaceSize = Float(query, "minFaceSize", d.MinFaceSize),
            ScaleFactor = Float(query, "scaleFactor", d.ScaleFactor),
            PNetThreshold = Float(query, "pnetThreshold", thresholds[0]),
            RNetThreshold = Float(query, "rnetThreshold", thresholds[1]),
            ONetThreshold = Float(query, "onetThreshold", thresholds[2]),
            MaxFaces = Int(query, "maxFaces", d.MaxFaces),
            LastStage = Choice(query, "stage", "onet", Stages) switch
            {
                "pnet" => CascadeStage.PNet,
                "rnet" => CascadeStage.RNet,
                _ => CascadeStage.ONet,
            },
            CropBorder = Choice(query, "cropBorder", "zero", Borders) == "clip" ? CropBorder.Clip : CropBorder.ZeroPad,
            Rotations = Rotations(query),

            // One thread per image: the worker pool already runs one image per core.
            MaxDegreeOfParallelism = 1,
            MaxImagePixels = maxPixels,
            MaxCandidates = maxCandidates,
        };
        Validate(options);
        string format = allowFormat ? Choice(query, FormatParameter, "png", [.. Formats]) : "png";
        return new DetectQuery(options, format);
    }

    /// <summary>Checks the options, turning a range error into a 400 that names the query parameter and the range.</summary>
    private static void Validate(DetectorOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            string parameter = e.ParamName switch
            {
                nameof(DetectorOptions.MinFaceSize) => "minFaceSize",
                nameof(DetectorOptions.ScaleFactor) => "scaleFactor",
                nameof(DetectorOptions.PNetThreshold) => "pnetThreshold",
                nameof(DetectorOptions.RNetThreshold) => "rnetThreshold",
                nameof(DetectorOptions.ONetThreshold) => "onetThreshold",
                nameof(DetectorOptions.MaxFaces) => "maxFaces",
                _ => e.ParamName ?? "option",
            };
            string message = e.Message;
            int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            message = (cut >= 0 ? message[..cut] : message).Trim().TrimEnd('.');
            string got = e.ActualValue is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : e.ActualValue?.ToString() ?? "?";
            throw new ApiException($"{parameter}: {message}, got {got}.", e);
        }
    }

    private static string? Text(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var v) && v.Count > 0 ? v[0] ?? string.Empty : null;

    private static float Float(IQueryCollection query, string name, float defaultValue)
    {
        string? text = Text(query, name);
        if (text is null)
        {
            return defaultValue;
        }

        return TryFloat(text, out float value)
            ? value
            : throw new ApiException($"{name}: expected a number like {defaultValue.ToString(CultureInfo.InvariantCulture)}, got '{text}'.");
    }

    private static DetectionRotations Rotations(IQueryCollection query)
    {
        string? text = Text(query, "rotations");
        if (text is null)
        {
            return DetectionRotations.Rotate0;
        }

        return RotationText.TryParse(text, out var rotations)
            ? rotations
            : throw new ApiException($"rotations: expected {RotationText.Expected}, got '{text}'.");
    }

    private static int Int(IQueryCollection query, string name, int defaultValue)
    {
        string? text = Text(query, name);
        if (text is null)
        {
            return defaultValue;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new ApiException($"{name}: expected a whole number, got '{text}'.");
    }

    private static string Choice(IQueryCollection query, string name, string defaultValue, string[] choices)
    {
        string? text = Text(query, name);
        if (text is null)
        {
            return defaultValue;
        }

        string value = text.Trim().ToLowerInvariant();
        return choices.Contains(value) ? value : throw new ApiException($"{name}: expected one of {string.Join(", ", choices)}, got '{text}'.");
    }

    private static bool TryFloat(string text, out float value) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);
}
