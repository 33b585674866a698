using System.Globalization;
using Mtcnn.Video;

namespace Mtcnn.Cli.Video;

/// <summary>
/// Live statistics of <c>mtcnn video</c> on stderr, one report a second:
/// <c>mtcnn: frame 240/1066, 48.1 fps, latency 62 ms, 1 face, 1 track</c>. On a terminal the line is rewritten in place;
/// otherwise (a log file, CI) each report is a plain line.
/// </summary>
internal sealed class VideoProgress
{
    private readonly CliConsole console;
    private bool lineOpen;

    /// <summary>Creates the reporter.</summary>
    public VideoProgress(CliConsole console)
    {
        this.console = console;
    }

    /// <summary>Shows one report.</summary>
    public void Report(VideoStatistics s)
    {
        var line = new System.Text.StringBuilder(96);
        line.Append(CultureInfo.InvariantCulture, $"{CliApp.Name}: frame {s.FramesDone}");
        if (s.FrameCount is { } total)
        {
            line.Append(CultureInfo.InvariantCulture, $"/{total}");
        }

        line.Append(CultureInfo.InvariantCulture, $", {s.FramesPerSecond:0.0} fps, latency {s.Latency.TotalMilliseconds:0} ms, {Plural(s.Faces, "face")}, {Plural(s.Tracks, "track")}");
        if (s.Dropped > 0)
        {
            line.Append(CultureInfo.InvariantCulture, $", {s.Dropped} dropped");
        }

        lock (console.Error)
        {
            if (console.IsErrorTerminal)
            {
                console.Error.Write("\r" + line + "\u001b[K");
                lineOpen = true;
            }
            else
            {
                console.Error.WriteLine(line.ToString());
            }

            console.Error.Flush();
        }
    }

    /// <summary>Ends an in-place line so that the next message starts on a fresh line.</summary>
    public void BreakLine()
    {
        if (!lineOpen)
        {
            return;
        }

        lock (console.Error)
        {
            console.Error.WriteLine();
            console.Error.Flush();
        }

        lineOpen = false;
    }

    /// <summary><c>1 face</c>, <c>2 faces</c>.</summary>
    public static string Plural(long count, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {noun}{(count == 1 ? "" : "s")}");
}
