using System.Text.Json;
using Mtcnn.Imaging;

namespace Mtcnn.Cli.Tests;

/// <summary>Checks of the documented output schema.</summary>
internal static class Schema
{
    /// <summary>Asserts the exact key set and value types of a successful image record and returns its faces.</summary>
    public static JsonElement[] AssertImageRecord(JsonElement record, bool landmarks)
    {
        Assert.Equal(JsonValueKind.Object, record.ValueKind);
        // "candidateLimitReached" (always true) is there only when the detector capped its candidates.
        string[] recordKeys = record.TryGetProperty("candidateLimitReached", out var limited) && limited.GetBoolean()
            ? ["image", "width", "height", "faces", "candidateLimitReached"]
            : ["image", "width", "height", "faces"];
        Assert.Equal(recordKeys, record.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(JsonValueKind.String, record.GetProperty("image").ValueKind);
        Assert.True(record.GetProperty("width").GetInt32() > 0);
        Assert.True(record.GetProperty("height").GetInt32() > 0);
        var faces = record.GetProperty("faces").EnumerateArray().ToArray();
        float previous = float.PositiveInfinity;
        foreach (var face in faces)
        {
            string[] keys = landmarks ? ["box", "score", "landmarks"] : ["box", "score"];
            if (face.TryGetProperty("rotation", out var rotation))
            {
                // Present only for a face found in a turned copy of the image (--rotations).
                Assert.Contains(rotation.GetInt32(), new[] { 90, 180, 270 });
                keys = [.. keys, "rotation"];
            }

            Assert.Equal(keys, face.EnumerateObject().Select(p => p.Name).ToArray());
            var box = face.GetProperty("box").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(4, box.Length);
            Assert.True(box[2] > box[0] && box[3] > box[1], "x2 > x1 and y2 > y1");
            float score = face.GetProperty("score").GetSingle();
            Assert.InRange(score, 0f, 1f);
            Assert.True(score <= previous, "faces are in descending score order");
            previous = score;
            if (landmarks)
            {
                var points = face.GetProperty("landmarks").EnumerateArray().ToArray();
                Assert.Equal(5, points.Length);
                Assert.All(points, p => Assert.Equal(2, p.GetArrayLength()));
            }
        }

        return faces;
    }

    /// <summary>Asserts the exact key set of an error record and returns its message.</summary>
    public static string AssertErrorRecord(JsonElement record, string image)
    {
        Assert.Equal(["image", "error"], record.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(image, record.GetProperty("image").GetString());
        string message = record.GetProperty("error").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message;
    }

    /// <summary>The box of a face record.</summary>
    public static BoundingBox Box(JsonElement face)
    {
        var b = face.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        return new BoundingBox(b[0], b[1], b[2], b[3]);
    }

    /// <summary>Asserts that stderr has no stack trace or exception type names.</summary>
    public static void AssertNoStackTrace(string stderr)
    {
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", stderr, StringComparison.Ordinal);
    }

    /// <summary>Writes a flat grey RGB image (no faces) as PNG.</summary>
    public static void WriteBlank(string path, int width, int height)
    {
        var pixels = new byte[width * height * 3];
        Array.Fill(pixels, (byte)128);
        ImageSaver.Save(new ImageData(pixels, width, height, PixelFormat.Rgb24), path);
    }
}
