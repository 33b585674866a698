using System.Text.Json;
using Mtcnn.TestSupport;
using Mtcnn.Tests.Cascade;

namespace Mtcnn.Tests.ReferenceProject;

/// <summary>
/// The reference project's files in ../shared, read at test time and never copied into the repository (they carry no
/// licence): its weights (data/reference_weights/*.pt), its test image (data/images/reference_mid.png) and the outputs
/// of its own code (reference/reference_project_test_vectors.json, reference/reference_project_mid_min12.json).
/// Every accessor skips the test when the file is absent.
/// </summary>
internal static class ReferenceProjectData
{
    private static readonly Lazy<MtcnnWeights> LazyWeights = new(() => ReferenceWeightsImporter.Import(
        File.ReadAllBytes(WeightFile(ReferenceWeightsImporter.PNetFileName)),
        File.ReadAllBytes(WeightFile(ReferenceWeightsImporter.RNetFileName)),
        File.ReadAllBytes(WeightFile(ReferenceWeightsImporter.ONetFileName))));

    /// <summary>The path of one of the reference checkpoints.</summary>
    public static string WeightFile(string name) => SharedData.Require(Path.Combine("data", "reference_weights", name));

    /// <summary>The three checkpoints imported (once per test run).</summary>
    public static MtcnnWeights Weights
    {
        get
        {
            WeightFile(ReferenceWeightsImporter.PNetFileName);
            WeightFile(ReferenceWeightsImporter.RNetFileName);
            WeightFile(ReferenceWeightsImporter.ONetFileName);
            return LazyWeights.Value;
        }
    }

    /// <summary>reference_project_test_vectors.json.</summary>
    public static JsonDocument TestVectors() =>
        JsonDocument.Parse(File.ReadAllBytes(SharedData.Require(Path.Combine("reference", "reference_project_test_vectors.json"))));

    /// <summary>reference_project_mid_min12.json.</summary>
    public static JsonDocument MidMin12() =>
        JsonDocument.Parse(File.ReadAllBytes(SharedData.Require(Path.Combine("reference", "reference_project_mid_min12.json"))));

    /// <summary>reference_mid.png decoded to RGB (its alpha channel, fully opaque, dropped as cv2.imread does).</summary>
    public static ImageData MidImage() =>
        ReferenceDetectionTests.DecodeRgb(SharedData.Require(Path.Combine("data", "images", "reference_mid.png")));

    /// <summary>A <c>[y][x][c]</c> uint8 array of the JSON as packed bytes.</summary>
    public static byte[] Hwc(JsonElement element)
    {
        var bytes = new List<byte>();
        foreach (var row in element.EnumerateArray())
        {
            foreach (var px in row.EnumerateArray())
            {
                foreach (var c in px.EnumerateArray())
                {
                    bytes.Add(c.GetByte());
                }
            }
        }

        return [.. bytes];
    }

    /// <summary>All numbers of a nested JSON array, flattened in order.</summary>
    public static double[] Flatten(JsonElement element)
    {
        var values = new List<double>();
        void Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (var c in e.EnumerateArray())
                {
                    Walk(c);
                }
            }
            else
            {
                values.Add(e.GetDouble());
            }
        }

        Walk(element);
        return [.. values];
    }
}
