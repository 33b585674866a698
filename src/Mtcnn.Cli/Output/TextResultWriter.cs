using System.Globalization;
using System.Text;
using Mtcnn.Cli.Detect;

namespace Mtcnn.Cli.Output;

/// <summary>
/// Human-readable output: a line per image (path, size, number of faces, annotated file), then a line per face with
/// score, box and landmarks (coordinates to 0.1 px), or <c>path: error: message</c> for an image that failed.
/// Not meant to be parsed: use json, jsonl or csv for that.
/// </summary>
internal sealed class TextResultWriter : ResultWriter
{
    /// <summary>Creates the writer.</summary>
    public TextResultWriter(TextWriter output)
        : base(output)
    {
    }

    /// <inheritdoc/>
    public override void Write(ImageOutcome outcome)
    {
        var sb = new StringBuilder(256);
        if (outcome.Error is not null)
        {
            sb.Append(CliApp.Printable(outcome.Path)).Append(": error: ").Append(outcome.Error).Append('\n');
        }
        else
        {
            bool faces = outcome.Boxes.Count == 0 || outcome.Boxes[0].Landmarks is not null;
            string noun = faces ? "face" : "candidate";
            sb.Append(CliApp.Printable(outcome.Path)).Append(": ")
              .Append(NumberText.Integer(outcome.Boxes.Count)).Append(' ').Append(noun).Append(outcome.Boxes.Count == 1 ? "" : "s")
              .Append(" (").Append(NumberText.Integer(outcome.Width)).Append('x').Append(NumberText.Integer(outcome.Height)).Append(')');
            if (outcome.AnnotatedPath is not null)
            {
                sb.Append(" -> ").Append(CliApp.Printable(outcome.AnnotatedPath));
            }

            sb.Append('\n');
            for (int i = 0; i < outcome.Boxes.Count; i++)
            {
                var b = outcome.Boxes[i];
                sb.Append("  ").Append(noun).Append(' ').Append(NumberText.Integer(i + 1))
                  .Append(": score ").Append(NumberText.Score(b.Score))
                  .Append(", box ").Append(Point(b.Box.X1, b.Box.Y1)).Append('-').Append(Point(b.Box.X2, b.Box.Y2))
                  .Append(", ").Append(b.Box.Width.ToString("0.0", CultureInfo.InvariantCulture))
                  .Append('x').Append(b.Box.Height.ToString("0.0", CultureInfo.InvariantCulture)).Append(" px");
                if (b.Rotation != 0)
                {
                    sb.Append(", upright when turned ").Append(NumberText.Integer(b.Rotation)).Append(" degrees clockwise");
                }

                if (b.Landmarks is { } lm)
                {
                    sb.Append("\n      eyes ").Append(Point(lm.LeftEye)).Append(' ').Append(Point(lm.RightEye))
                      .Append(", nose ").Append(Point(lm.Nose))
                      .Append(", mouth ").Append(Point(lm.MouthLeft)).Append(' ').Append(Point(lm.MouthRight));
                }

                sb.Append('\n');
            }
        }

        Output.Write(sb.ToString());
        Output.Flush();
    }

    private static string Point(Point2F p) => Point(p.X, p.Y);

    private static string Point(float x, float y) =>
        string.Create(CultureInfo.InvariantCulture, $"({x:0.0}, {y:0.0})");
}
