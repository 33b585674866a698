using System.Text;
using Mtcnn.Cli.Detect;

namespace Mtcnn.Cli.Output;

/// <summary>
/// CSV output (RFC 4180 quoting, <c>\n</c> line ends): a header, then one row per face. An image without faces still
/// gets one row with the face columns empty, and an image that failed gets one row with only <c>image</c> and
/// <c>error</c> filled, so every input appears. <c>face</c> is the 0-based rank by descending score. Landmark columns
/// are empty for <c>--stage pnet|rnet</c> candidates.
/// </summary>
internal sealed class CsvResultWriter : ResultWriter
{
    /// <summary>The header line's columns.</summary>
    public static readonly string[] Columns =
    [
        "image", "width", "height", "face", "x1", "y1", "x2", "y2", "score",
        "left_eye_x", "left_eye_y", "right_eye_x", "right_eye_y", "nose_x", "nose_y",
        "mouth_left_x", "mouth_left_y", "mouth_right_x", "mouth_right_y", "error",
    ];

    /// <summary>Creates the writer.</summary>
    public CsvResultWriter(TextWriter output)
        : base(output)
    {
    }

    /// <summary>Quotes a field when it holds a comma, quote or line break.</summary>
    public static string Escape(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <inheritdoc/>
    public override void Begin()
    {
        Output.Write(string.Join(',', Columns));
        Output.Write('\n');
        Output.Flush();
    }

    /// <inheritdoc/>
    public override void Write(ImageOutcome outcome)
    {
        var sb = new StringBuilder(256);
        string image = Escape(outcome.Path);
        if (outcome.Error is not null)
        {
            sb.Append(image).Append(',', Columns.Length - 1).Append(Escape(outcome.Error)).Append('\n');
        }
        else if (outcome.Boxes.Count == 0)
        {
            sb.Append(image).Append(',').Append(NumberText.Integer(outcome.Width)).Append(',').Append(NumberText.Integer(outcome.Height))
              .Append(',', Columns.Length - 3).Append('\n');
        }
        else
        {
            for (int i = 0; i < outcome.Boxes.Count; i++)
            {
                var b = outcome.Boxes[i];
                sb.Append(image).Append(',').Append(NumberText.Integer(outcome.Width)).Append(',').Append(NumberText.Integer(outcome.Height))
                  .Append(',').Append(NumberText.Integer(i))
                  .Append(',').Append(NumberText.Coordinate(b.Box.X1)).Append(',').Append(NumberText.Coordinate(b.Box.Y1))
                  .Append(',').Append(NumberText.Coordinate(b.Box.X2)).Append(',').Append(NumberText.Coordinate(b.Box.Y2))
                  .Append(',').Append(NumberText.Score(b.Score));
                for (int k = 0; k < FaceLandmarks.Count; k++)
                {
                    if (b.Landmarks is { } lm)
                    {
                        sb.Append(',').Append(NumberText.Coordinate(lm[k].X)).Append(',').Append(NumberText.Coordinate(lm[k].Y));
                    }
                    else
                    {
                        sb.Append(",,");
                    }
                }

                sb.Append(",\n");
            }
        }

        Output.Write(sb.ToString());
        Output.Flush();
    }
}
