using System.Globalization;
using System.Text;
using Mtcnn.Cli.Detect;
using Mtcnn.Video;

namespace Mtcnn.Cli.Video;

/// <summary>
/// JSON Lines for <c>mtcnn video --format jsonl</c>: one line per frame, flushed at once so that a live camera's results
/// can be consumed as they come:
/// <c>{"frame": 0, "time": 0, "faces": [{"id": 1, "box": [x1, y1, x2, y2], "score": s, "landmarks": [[x, y] x5]}]}</c>.
/// The face objects are those of <c>mtcnn detect</c> with a leading <c>"id"</c>; numbers have the same precision
/// (coordinates 4 decimals, scores 6, <see cref="NumberText"/>); <c>time</c> is in seconds with 3 decimals.
/// A detection frame whose candidates were capped at <c>--max-candidates</c> has <c>"candidateLimitReached": true</c>
/// after its faces (faces may be missing there).
/// </summary>
internal sealed class VideoJsonWriter
{
    private readonly TextWriter output;
    private readonly StringBuilder sb = new(512);

    /// <summary>Creates the writer.</summary>
    public VideoJsonWriter(TextWriter output)
    {
        this.output = output;
    }

    /// <summary>Writes one frame's line and flushes.</summary>
    public void Write(FrameResult frame)
    {
        sb.Clear();
        sb.Append("{\"frame\": ").Append(frame.Index.ToString(CultureInfo.InvariantCulture))
          .Append(", \"time\": ").Append(Seconds(frame.Time))
          .Append(", \"faces\": [");
        for (int i = 0; i < frame.Faces.Count; i++)
        {
            var f = frame.Faces[i];
            sb.Append(i == 0 ? "{\"id\": " : ", {\"id\": ").Append(NumberText.Integer(f.Id))
              .Append(", \"box\": [").Append(NumberText.Coordinate(f.Box.X1))
              .Append(", ").Append(NumberText.Coordinate(f.Box.Y1))
              .Append(", ").Append(NumberText.Coordinate(f.Box.X2))
              .Append(", ").Append(NumberText.Coordinate(f.Box.Y2))
              .Append("], \"score\": ").Append(NumberText.Score(f.Score))
              .Append(", \"landmarks\": [");
            for (int k = 0; k < FaceLandmarks.Count; k++)
            {
                var p = f.Landmarks[k];
                sb.Append(k == 0 ? "[" : ", [").Append(NumberText.Coordinate(p.X)).Append(", ").Append(NumberText.Coordinate(p.Y)).Append(']');
            }

            sb.Append("]}");
        }

        sb.Append(']');
        if (frame.CandidateLimitReached)
        {
            sb.Append(", \"candidateLimitReached\": true");
        }

        sb.Append('}');
        output.WriteLine(sb.ToString());
        output.Flush();
    }

    /// <summary>Seconds rounded to milliseconds, without trailing zeros: <c>0</c>, <c>0.05</c>, <c>12.345</c>.</summary>
    public static string Seconds(double seconds)
    {
        double rounded = Math.Round(seconds, 3, MidpointRounding.AwayFromZero);
        return (rounded == 0 ? 0 : rounded).ToString("0.###", CultureInfo.InvariantCulture);
    }
}
