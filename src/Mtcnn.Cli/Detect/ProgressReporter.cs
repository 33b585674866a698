using System.Diagnostics;
using System.Globalization;

namespace Mtcnn.Cli.Detect;

/// <summary>
/// Progress of a batch on stderr, at most once a second: <c>[120/5000] 2.4 s elapsed, 48 img/s</c>. On a terminal the
/// line is rewritten in place; otherwise (a log file, CI) each report is a plain line. Reports only for batches of more
/// than <see cref="MinImages"/> images and only when enabled (<c>--quiet</c> disables it).
/// </summary>
internal sealed class ProgressReporter
{
    /// <summary>Batches up to this size report no progress.</summary>
    public const int MinImages = 4;

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly CliConsole console;
    private readonly int total;
    private readonly bool enabled;
    private readonly string label;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private TimeSpan lastReport;
    private bool lineOpen;

    /// <summary>Creates a reporter for <paramref name="total"/> images; the clock starts now.</summary>
    /// <param name="console">Where the lines go (stderr).</param>
    /// <param name="total">Images in the batch.</param>
    /// <param name="enabled">False reports nothing.</param>
    /// <param name="label">Text before each line (e.g. a phase name and a space); empty for none.</param>
    public ProgressReporter(CliConsole console, int total, bool enabled, string label = "")
    {
        this.console = console;
        this.label = label;
        this.total = total;
        this.enabled = enabled && total > MinImages;
    }

    /// <summary>Time since construction.</summary>
    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>Reports <paramref name="done"/> finished images if a second has passed since the last report.</summary>
    public void Tick(int done)
    {
        var now = clock.Elapsed;
        if (!enabled || now - lastReport < Interval)
        {
            return;
        }

        lastReport = now;
        double rate = done / Math.Max(now.TotalSeconds, 1e-9);
        string line = label + string.Create(CultureInfo.InvariantCulture, $"[{done}/{total}] {now.TotalSeconds:0.0} s elapsed, {rate:0.#} img/s");
        lock (console.Error)
        {
            if (console.IsErrorTerminal)
            {
                console.Error.Write("\r" + line + "\u001b[K");
                lineOpen = true;
            }
            else
            {
                console.Error.WriteLine(line);
            }

            console.Error.Flush();
        }
    }

    /// <summary>Ends an in-place progress line so that the next message starts on a fresh line.</summary>
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
}
