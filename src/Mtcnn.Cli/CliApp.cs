using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using Mtcnn.Cli.Align;
using Mtcnn.Cli.Bench;
using Mtcnn.Cli.Cluster;
using Mtcnn.Cli.Detect;
using Mtcnn.Cli.Eval;
using Mtcnn.Cli.PrepareData;
using Mtcnn.Cli.Serve;
using Mtcnn.Cli.Train;
using Mtcnn.Cli.Video;
using Mtcnn.Imaging;

namespace Mtcnn.Cli;

/// <summary>
/// Builds the <c>mtcnn</c> command tree and runs it: parse errors and <see cref="UsageException"/> exit with 2,
/// <see cref="CliFailureException"/> and any other exception with 1, always as one line on stderr without a stack
/// trace (set <c>MTCNN_DEBUG=1</c> to see one).
/// </summary>
internal static class CliApp
{
    /// <summary>The command's name as typed.</summary>
    public const string Name = "mtcnn";

    /// <summary>Parses <paramref name="args"/>, runs the chosen verb and returns the exit code.</summary>
    public static int Run(string[] args, CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        var root = BuildRoot(console);
        int code;
        try
        {
            OptionFactory.NoteLiteralWords(args);
            var parse = root.Parse(args);
            if (args.Length > 0 && TrainForwarder.Verbs.Contains(args[0]))
            {
                // Training lives in the separate mtcnn-train tool: it parses and reports its own arguments.
                code = TrainForwarder.Run(args, console);
            }
            else if (args.Length == 0)
            {
                // Bare `mtcnn`: show what it can do, on stderr because it is not a result; still a usage error.
                root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = console.Error, Error = console.Error });
                code = ExitCodes.Usage;
            }
            else if (parse.Action is ParseErrorAction)
            {
                string help = HelpHint(parse.CommandResult);
                foreach (var error in parse.Errors)
                {
                    console.WriteErrorLine($"{Name}: {OneLine(error.Message).TrimEnd('.')} ({help})");
                }

                code = ExitCodes.Usage;
            }
            else
            {
                code = parse.Invoke(new InvocationConfiguration
                {
                    Output = console.Out,
                    Error = console.Error,
                    EnableDefaultExceptionHandler = false,
                });
            }
        }
        catch (UsageException e)
        {
            console.WriteErrorLine($"{Name}: {OneLine(e.Message)}");
            code = ExitCodes.Usage;
        }
        catch (CliFailureException e)
        {
            console.WriteErrorLine($"{Name}: error: {OneLine(e.Message)}");
            WriteDebug(console, e);
            code = ExitCodes.Failure;
        }
#pragma warning disable CA1031 // The command's contract is one line on stderr and exit code 1 for any failure.
        catch (Exception e)
#pragma warning restore CA1031
        {
            console.WriteErrorLine($"{Name}: error: {OneLine(e.Message)}");
            WriteDebug(console, e);
            code = ExitCodes.Failure;
        }

        try
        {
            console.Out.Flush();
        }
        catch (IOException)
        {
            // stdout closed early (e.g. piped into `head`): nothing more to say.
        }

        return code;
    }

    /// <summary>
    /// A name (a file path from a folder scan or stdin may hold any character but '/' and NUL) as it is shown in
    /// one-line output: control characters are written as escapes (<c>\n</c>, <c>\t</c>, <c>\r</c>, <c>\\</c> for a
    /// backslash next to one, otherwise <c>\xNN</c>), so that a line stays one line. Other names are unchanged.
    /// </summary>
    public static string Printable(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!name.Any(char.IsControl))
        {
            return name;
        }

        var sb = new System.Text.StringBuilder(name.Length + 8);
        foreach (char c in name)
        {
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\\' => "\\\\",
                _ when char.IsControl(c) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"\\x{(int)c:X2}"),
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }

    /// <summary>Collapses a possibly multi-line message onto one line.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>
    /// An image loader's problem for a record that already names the image: on one line, without the file name, with
    /// the remedy in command-line terms (the library's own message names its <c>ImageLoadOptions</c> settings).
    /// </summary>
    public static string LoadProblem(ImageLoadException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string problem = OneLine(e.Problem);
        return e.Remedy switch
        {
            ImageLoadRemedy.AllowIncompleteData => problem + " Pass --allow-incomplete to accept partially decoded images.",
            ImageLoadRemedy.MaxPixelCount or ImageLoadRemedy.MaxFileSizeBytes => problem + " (a fixed limit of mtcnn; see Limits in its README)",
            _ => problem,
        };
    }

    private static RootCommand BuildRoot(CliConsole console)
    {
        var root = new RootCommand("Mtcnn.NET: MTCNN face detection (boxes, scores, five landmarks) from the command line.")
        {
            DetectCommand.Create(console),
            AlignCommand.Create(console),
            EvalCommand.Create(console),
            VideoCommand.Create(console),
            WeightsCommand.Create(console),
            BenchCommand.Create(console),
            ServeCommand.Create(console),
            PrepareDataCommand.Create(console),
            ClusterCommand.Create(console),
        };
        foreach (var entry in TrainForwarder.HelpEntries())
        {
            root.Subcommands.Add(entry);
        }

        root.With(
            "mtcnn detect samples/astronaut.png --output out/",
            "mtcnn detect photos/ --recursive --format jsonl > faces.jsonl",
            "mtcnn align photos/ --recursive --output crops/",
            "mtcnn eval wider --images WIDER_val/images --gt eval_tools/ground_truth",
            "mtcnn video clip.mp4 --output annotated.mp4 --format jsonl > faces.jsonl",
            "mtcnn weights info my-weights.safetensors",
            "mtcnn bench --sizes 640x480 --iterations 10",
            "mtcnn serve --urls http://127.0.0.1:5000",
            "mtcnn cluster submit photos/ --redis 127.0.0.1:6379 --job photos --output out/ --wait",
            "mtcnn prepare-data --net pnet --landmarks trainImageList_80x80.txt --lines 1:9000 --output samples/");
        HelpExamples.Install(root);
        return root;
    }

    private static string HelpHint(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? r = command; r is CommandResult c; r = r.Parent)
        {
            names.Add(c.Command is RootCommand ? Name : c.Command.Name);
        }

        names.Reverse();
        return $"see '{string.Join(' ', names)} --help'";
    }

    private static void WriteDebug(CliConsole console, Exception e)
    {
        if (Environment.GetEnvironmentVariable("MTCNN_DEBUG") is "1" or "true")
        {
            console.WriteErrorLine(e.ToString());
        }
    }
}
