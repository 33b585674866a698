using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Mtcnn.Cli.Detect;

namespace Mtcnn.Cli.Output;

/// <summary>
/// JSON output. With <c>lines</c> (format <c>jsonl</c>) each image is one line:
/// <c>{"image": "a.jpg", "width": 640, "height": 480, "faces": [{"box": [x1, y1, x2, y2], "score": s, "landmarks": [[x, y] x5]}]}</c>,
/// or <c>{"image": "a.jpg", "error": "..."}</c> for an image that failed; a detection whose candidates were capped at
/// <c>--max-candidates</c> ends with <c>"candidateLimitReached": true</c> (faces may be missing). Without it (format <c>json</c>) the same
/// objects form one indented array. Landmarks are omitted for <c>--stage pnet|rnet</c> candidates. Coordinates have 4
/// decimals, scores 6 (<see cref="NumberText"/>).
/// </summary>
internal sealed class JsonResultWriter : ResultWriter
{
    private readonly bool lines;
    private bool first = true;

    /// <summary>Creates the writer.</summary>
    /// <param name="output">Where to write.</param>
    /// <param name="lines">True for JSON Lines, false for one indented array.</param>
    public JsonResultWriter(TextWriter output, bool lines)
        : base(output)
    {
        this.lines = lines;
    }

    /// <summary>A JSON string literal (quotes included); non-ASCII text is kept readable.</summary>
    public static string Quote(string value) =>
        "\"" + JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value + "\"";

    /// <summary>
    /// One image's JSON Lines record without the line break, exactly as format <c>jsonl</c> writes it (also the record
    /// <c>mtcnn cluster</c> silos commit, so that a cluster job's detections.jsonl is byte-identical to <c>detect</c>'s).
    /// </summary>
    public static string FormatLine(ImageOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var sb = new StringBuilder(256);
        AppendCompact(sb, outcome);
        return sb.ToString();
    }

    /// <inheritdoc/>
    public override void Begin()
    {
        if (!lines)
        {
            Output.Write('[');
            Output.Flush();
        }
    }

    /// <inheritdoc/>
    public override void Write(ImageOutcome outcome)
    {
        if (lines)
        {
            Output.WriteLine(FormatLine(outcome));
        }
        else
        {
            var sb = new StringBuilder(256);
            sb.Append(first ? "\n" : ",\n");
            AppendIndented(sb, outcome);
            Output.Write(sb.ToString());
        }

        first = false;
        Output.Flush();
    }

    /// <inheritdoc/>
    public override void End()
    {
        if (!lines)
        {
            Output.WriteLine(first ? "]" : "\n]");
            Output.Flush();
        }
    }

    private static void AppendCompact(StringBuilder sb, ImageOutcome o)
    {
        sb.Append("{\"image\": ").Append(Quote(o.Path));
        if (o.Error is not null)
        {
            sb.Append(", \"error\": ").Append(Quote(o.Error)).Append('}');
            return;
        }

        sb.Append(", \"width\": ").Append(NumberText.Integer(o.Width))
          .Append(", \"height\": ").Append(NumberText.Integer(o.Height))
          .Append(", \"faces\": [");
        for (int i = 0; i < o.Boxes.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }

            var b = o.Boxes[i];
            sb.Append("{\"box\": ");
            AppendBox(sb, b.Box);
            sb.Append(", \"score\": ").Append(NumberText.Score(b.Score));
            if (b.Landmarks is { } lm)
            {
                sb.Append(", \"landmarks\": ");
                AppendLandmarks(sb, lm);
            }

            if (b.Rotation != 0)
            {
                sb.Append(", \"rotation\": ").Append(NumberText.Integer(b.Rotation));
            }

            sb.Append('}');
        }

        sb.Append(']');
        if (o.CandidateLimitReached)
        {
            sb.Append(", \"candidateLimitReached\": true");
        }

        sb.Append('}');
    }

    private static void AppendIndented(StringBuilder sb, ImageOutcome o)
    {
        const string I1 = "  ", I2 = "    ", I3 = "      ", I4 = "        ";
        sb.Append(I1).Append("{\n");
        sb.Append(I2).Append("\"image\": ").Append(Quote(o.Path));
        if (o.Error is not null)
        {
            sb.Append(",\n").Append(I2).Append("\"error\": ").Append(Quote(o.Error)).Append('\n').Append(I1).Append('}');
            return;
        }

        sb.Append(",\n").Append(I2).Append("\"width\": ").Append(NumberText.Integer(o.Width));
        sb.Append(",\n").Append(I2).Append("\"height\": ").Append(NumberText.Integer(o.Height));
        sb.Append(",\n").Append(I2).Append("\"faces\": [");
        for (int i = 0; i < o.Boxes.Count; i++)
        {
            var b = o.Boxes[i];
            sb.Append(i == 0 ? "\n" : ",\n").Append(I3).Append("{\n");
            sb.Append(I4).Append("\"box\": ");
            AppendBox(sb, b.Box);
            sb.Append(",\n").Append(I4).Append("\"score\": ").Append(NumberText.Score(b.Score));
            if (b.Landmarks is { } lm)
            {
                sb.Append(",\n").Append(I4).Append("\"landmarks\": ");
                AppendLandmarks(sb, lm);
            }

            if (b.Rotation != 0)
            {
                sb.Append(",\n").Append(I4).Append("\"rotation\": ").Append(NumberText.Integer(b.Rotation));
            }

            sb.Append('\n').Append(I3).Append('}');
        }

        sb.Append(o.Boxes.Count == 0 ? "]" : "\n" + I2 + "]");
        if (o.CandidateLimitReached)
        {
            sb.Append(",\n").Append(I2).Append("\"candidateLimitReached\": true");
        }

        sb.Append('\n').Append(I1).Append('}');
    }

    private static void AppendBox(StringBuilder sb, BoundingBox box) =>
        sb.Append('[').Append(NumberText.Coordinate(box.X1))
          .Append(", ").Append(NumberText.Coordinate(box.Y1))
          .Append(", ").Append(NumberText.Coordinate(box.X2))
          .Append(", ").Append(NumberText.Coordinate(box.Y2)).Append(']');

    private static void AppendLandmarks(StringBuilder sb, FaceLandmarks landmarks)
    {
        sb.Append('[');
        for (int k = 0; k < FaceLandmarks.Count; k++)
        {
            var p = landmarks[k];
            sb.Append(k == 0 ? "[" : ", [").Append(NumberText.Coordinate(p.X)).Append(", ").Append(NumberText.Coordinate(p.Y)).Append(']');
        }

        sb.Append(']');
    }
}
