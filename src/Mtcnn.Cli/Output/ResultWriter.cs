using Mtcnn.Cli.Detect;

namespace Mtcnn.Cli.Output;

/// <summary>
/// Writes <c>detect</c> results to stdout in one of the formats, one image at a time in input order, flushing after
/// each image so that a consumer of a long batch sees results as they come.
/// </summary>
internal abstract class ResultWriter
{
    /// <summary>The format names <c>--format</c> accepts.</summary>
    public static readonly string[] Formats = ["text", "json", "jsonl", "csv"];

    /// <summary>Creates the writer.</summary>
    protected ResultWriter(TextWriter output)
    {
        Output = output;
    }

    /// <summary>Where results go.</summary>
    protected TextWriter Output { get; }

    /// <summary>Creates the writer for a format name (one of <see cref="Formats"/>).</summary>
    public static ResultWriter Create(string format, TextWriter output) => format switch
    {
        "text" => new TextResultWriter(output),
        "json" => new JsonResultWriter(output, lines: false),
        "jsonl" => new JsonResultWriter(output, lines: true),
        "csv" => new CsvResultWriter(output),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown format."),
    };

    /// <summary>Called once before the first image.</summary>
    public virtual void Begin()
    {
    }

    /// <summary>Writes one image's outcome.</summary>
    public abstract void Write(ImageOutcome outcome);

    /// <summary>Called once after the last image.</summary>
    public virtual void End()
    {
    }
}
