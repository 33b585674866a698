using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Mtcnn.Web.Api;

/// <summary>
/// The detection JSON of the API, the face schema of <c>mtcnn detect --format json</c>:
/// <c>{"image": "a.jpg", "width": 640, "height": 480, "faces": [{"box": [x1, y1, x2, y2], "score": s, "landmarks": [[x, y] x5]}]}</c>.
/// Faces are best first; coordinates are rounded to 4 decimals and scores to 6; <c>landmarks</c> (left eye, right eye,
/// nose, left and right mouth corner) is absent for the P-Net and R-Net views, which report candidates; <c>rotation</c>
/// (clockwise degrees the image must be turned for the face to be upright) is present only when it is not 0;
/// <c>candidateLimitReached</c> (true) is present only when the detector capped its candidates at
/// <see cref="DetectorOptions.MaxCandidates"/>, so that faces may be missing.
/// </summary>
internal static class DetectionJson
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The JSON document for <paramref name="result"/> as UTF-8.</summary>
    public static byte[] Serialize(string image, DetectionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("image", image);
            w.WriteNumber("width", result.Width);
            w.WriteNumber("height", result.Height);
            w.WriteStartArray("faces");
            if (result.LastStage == CascadeStage.ONet)
            {
                foreach (var face in result.Faces)
                {
                    WriteFace(w, face.Box, face.Score, face.Landmarks, face.Rotation);
                }
            }
            else
            {
                foreach (var candidate in result.FinalCandidates)
                {
                    WriteFace(w, candidate.Box, candidate.Score, null, 0);
                }
            }

            w.WriteEndArray();
            if (result.CandidateLimitReached)
            {
                w.WriteBoolean("candidateLimitReached", true);
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The JSON error body <c>{"error": message}</c> as UTF-8.</summary>
    public static byte[] Error(string message)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary><paramref name="value"/> rounded half away from zero, without negative zero.</summary>
    internal static double Round(float value, int decimals)
    {
        double rounded = Math.Round((double)value, decimals, MidpointRounding.AwayFromZero);
        return rounded == 0 ? 0 : rounded;
    }

    private static void WriteFace(Utf8JsonWriter w, BoundingBox box, float score, FaceLandmarks? landmarks, int rotation)
    {
        w.WriteStartObject();
        w.WriteStartArray("box");
        w.WriteNumberValue(Round(box.X1, 4));
        w.WriteNumberValue(Round(box.Y1, 4));
        w.WriteNumberValue(Round(box.X2, 4));
        w.WriteNumberValue(Round(box.Y2, 4));
        w.WriteEndArray();
        w.WriteNumber("score", Round(score, 6));
        if (landmarks is { } lm)
        {
            w.WriteStartArray("landmarks");
            for (int k = 0; k < FaceLandmarks.Count; k++)
            {
                w.WriteStartArray();
                w.WriteNumberValue(Round(lm[k].X, 4));
                w.WriteNumberValue(Round(lm[k].Y, 4));
                w.WriteEndArray();
            }

            w.WriteEndArray();
        }

        if (rotation != 0)
        {
            w.WriteNumber("rotation", rotation);
        }

        w.WriteEndObject();
    }
}
