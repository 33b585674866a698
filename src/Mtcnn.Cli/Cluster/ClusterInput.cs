using System.Text.Json;
using Mtcnn.Cli.Detect;

namespace Mtcnn.Cli.Cluster;

/// <summary>
/// How <c>mtcnn cluster</c> stores an input in a job (<see cref="Mtcnn.Cluster.JobSpec.Inputs"/> is opaque to the
/// cluster): a JSON array of the path as the user named it (or the URL) and the output name <c>mtcnn detect</c> and
/// <c>mtcnn align</c> would give it (unique within the job, from which the crop names of the align task come), and a
/// third element when the submitter already knows the input fails (<see cref="InputItem.Error"/>).
/// </summary>
internal static class ClusterInput
{
    /// <summary>The stored form of <paramref name="item"/>.</summary>
    public static string Encode(InputItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return JsonSerializer.Serialize(item.Error is null ? new[] { item.Path, item.OutputName } : new[] { item.Path, item.OutputName, item.Error });
    }

    /// <summary>The item a stored input names.</summary>
    /// <exception cref="InvalidOperationException">The text is not an input of this version.</exception>
    public static InputItem Decode(string stored)
    {
        string[]? parts = null;
        try
        {
            parts = JsonSerializer.Deserialize<string[]>(stored);
        }
        catch (JsonException)
        {
            // Reported below.
        }

        if (parts is not { Length: 2 or 3 } || string.IsNullOrEmpty(parts[0]) || string.IsNullOrEmpty(parts[1]) || (parts.Length == 3 && string.IsNullOrEmpty(parts[2])))
        {
            throw new InvalidOperationException($"unsupported job input (a job of another mtcnn version?): {CliApp.OneLine(stored)}");
        }

        return new InputItem(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }
}
