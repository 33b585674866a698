using System.Text.Json;

namespace Mtcnn.Cli.Serve;

/// <summary>
/// What <c>mtcnn serve --cluster</c> sends with each image (<see cref="Mtcnn.Cluster.ImageCall.Settings"/>): the
/// request's query and endpoint, the front end's limits, and the weight file the silos load (a path every silo can
/// read; null for the embedded weights). JSON.
/// </summary>
internal sealed record ClusterImageSettings
{
    private static readonly JsonSerializerOptions Json = new();

    /// <summary>The raw query string.</summary>
    public string Query { get; init; } = string.Empty;

    /// <summary>True for <c>/api/annotate</c>.</summary>
    public bool Annotate { get; init; }

    /// <summary>Largest upload in bytes.</summary>
    public long MaxUploadBytes { get; init; }

    /// <summary>Largest image in pixels.</summary>
    public long MaxPixels { get; init; }

    /// <summary>Most candidates between stages; 0 (settings from a front end before this field): the default.</summary>
    public int MaxCandidates { get; init; }

    /// <summary>Weight file or folder (absolute), or null.</summary>
    public string? Weights { get; init; }

    /// <summary>The JSON text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads the JSON text.</summary>
    /// <exception cref="ArgumentException">The text is not such a document.</exception>
    public static ClusterImageSettings Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ClusterImageSettings>(json, Json) ?? throw new ArgumentException("the image settings are empty.", nameof(json));
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"the image settings are not valid JSON: {e.Message}", nameof(json), e);
        }
    }
}
