using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Runtime.CompilerServices;

namespace Mtcnn.Cli;

/// <summary>
/// Adds a copy-pasteable "Examples:" section to a command's <c>--help</c> page (only that command's own page, so that the
/// parent's command list stays one line per verb).
/// </summary>
internal static class HelpExamples
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
            int code = inner.Invoke(parseResult);
            if (Table.TryGetValue(parseResult.CommandResult.Command, out var examples) && examples.Length > 0)
            {
                var output = parseResult.InvocationConfiguration.Output;
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
