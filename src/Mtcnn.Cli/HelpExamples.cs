using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Mtcnn.Cli;

/// <summary>
/// Adds a copy-pasteable "Examples:" section to a command's <c>--help</c> page (only that command's own page, so that the
/// parent's command list stays one line per verb).
/// </summary>
internal static partial class HelpExamples
{
    private static readonly ConditionalWeakTable<Command, string[]> Table = [];

    /// <summary>Registers example command lines for <paramref name="command"/>; returns it for chaining.</summary>
    public static T With<T>(this T command, params string[] examples)
        where T : Command
    {
        Table.AddOrUpdate(command, examples);
        return command;
    }

    /// <summary>Makes the help option of <paramref name="root"/> (it applies to every subcommand) print the examples.</summary>
    public static void Install(RootCommand root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        if (help.Action is HelpAction inner)
        {
            help.Action = new ExamplesAction(inner);
        }
    }

    /// <summary>A list default in the help text: <c>[default: 0.6|0.7|0.7]</c> (numbers or sizes joined by '|').</summary>
    [GeneratedRegex(@"\[default: [0-9.xX]+(\|[0-9.xX]+)+\]", RegexOptions.CultureInvariant)]
    private static partial Regex ListDefault();

    private sealed class ExamplesAction : SynchronousCommandLineAction
    {
        private readonly HelpAction inner;

        public ExamplesAction(HelpAction inner)
        {
            this.inner = inner;
        }

        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            // The help page is written to a buffer first so that list defaults read as the option takes them:
            // the parser joins a list default with '|' ("0.6|0.7|0.7"), but list options want commas.
            var config = parseResult.InvocationConfiguration;
            var output = config.Output;
            var page = new StringWriter();
            int code;
            config.Output = page;
            try
            {
                code = inner.Invoke(parseResult);
            }
            finally
            {
                config.Output = output;
            }

            output.Write(ListDefault().Replace(page.ToString(), m => m.Value.Replace('|', ',')));
            if (Table.TryGetValue(parseResult.CommandResult.Command, out var examples) && examples.Length > 0)
            {
                output.WriteLine("Examples:");
                foreach (string e in examples)
                {
                    output.WriteLine("  " + e);
                }

                output.WriteLine();
                output.Flush();
            }

            return code;
        }
    }
}
