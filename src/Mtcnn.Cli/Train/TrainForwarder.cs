using System.CommandLine;
using System.Diagnostics;

namespace Mtcnn.Cli.Train;

/// <summary>
/// <c>mtcnn train</c> and <c>mtcnn train-cascade</c>. Training needs libtorch (about 650 MB), which the detection tool
/// deliberately does not carry; these verbs hand their arguments to the separate <c>mtcnn-train</c> tool and return
/// its exit code. The tool is looked for, in order: the <c>MTCNN_TRAIN</c> environment variable (an executable or a
/// <c>.dll</c>), next to this program, on <c>PATH</c> (an installed .NET tool), and in a source checkout's build output.
/// </summary>
internal static class TrainForwarder
{
    /// <summary>The verbs forwarded.</summary>
    public static IReadOnlySet<string> Verbs { get; } = new HashSet<string>(StringComparer.Ordinal) { "train", "train-cascade" };

    /// <summary>The environment variable that names the training tool.</summary>
    public const string EnvironmentVariable = "MTCNN_TRAIN";

    private const string ToolName = "mtcnn-train";
    private const string AssemblyFile = "Mtcnn.Training.Cli.dll";

    /// <summary>Commands that show the verbs in <c>mtcnn --help</c>; invocation never reaches them (see <see cref="Run"/>).</summary>
    public static IEnumerable<Command> HelpEntries() =>
    [
        new Command("train", "Train P-Net, R-Net or O-Net on prepared samples (runs the separate mtcnn-train tool; see `mtcnn train --help`)."),
        new Command("train-cascade", "Prepare data and train P-Net, R-Net and O-Net in turn, resumable (runs mtcnn-train)."),
    ];

    /// <summary>Runs the training tool with <paramref name="args"/> (the verb first) and returns its exit code.</summary>
    /// <param name="args">The whole command line of <c>mtcnn</c>.</param>
    /// <param name="console">For the error message when the tool is missing.</param>
    /// <returns>The tool's exit code, or 1 when it cannot be started.</returns>
    public static int Run(string[] args, CliConsole console)
    {
        var (file, prefix) = Locate() ?? throw new CliFailureException(
            "training runs in the separate mtcnn-train tool (it carries libtorch, ~650 MB, which mtcnn does not), and it was not found. "
            + "Install it (`dotnet tool install --global Mtcnn.NET.Training.Tool`), run it from a checkout "
            + "(`dotnet run --project src/Mtcnn.Training.Cli -c Release -- " + args[0] + " ...`), or set " + EnvironmentVariable + " to its path.");
        var start = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (var a in prefix.Concat(args))
        {
            start.ArgumentList.Add(a);
        }

        // The child shares the terminal; Ctrl+C reaches it directly and it stops after the current batch.
        ConsoleCancelEventHandler ignore = (_, e) => e.Cancel = true;
        Console.CancelKeyPress += ignore;
        try
        {
            console.Out.Flush();
            using var process = Process.Start(start) ?? throw new CliFailureException($"cannot start {file}");
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CliFailureException($"cannot start {file}: {e.Message}", e);
        }
        finally
        {
            Console.CancelKeyPress -= ignore;
        }
    }

    /// <summary>Finds the training tool: the file to start and the arguments that go before the user's.</summary>
    /// <returns>Null when it is nowhere.</returns>
    internal static (string File, string[] Prefix)? Locate()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
        {
            return Launch(configured);
        }

        var here = AppContext.BaseDirectory;
        foreach (var candidate in new[] { Path.Combine(here, ToolName), Path.Combine(here, AssemblyFile) })
        {
            if (File.Exists(candidate))
            {
                return Launch(candidate);
            }
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, ToolName);
            if (File.Exists(candidate))
            {
                return (candidate, []);
            }
        }

        // A source checkout: src/Mtcnn.Cli/bin/<config>/<tfm>/<rid>/ → src/Mtcnn.Training.Cli/bin/<config>/<tfm>/<rid>/.
        for (var dir = new DirectoryInfo(here); dir is not null; dir = dir.Parent)
        {
            if (dir.Name == "Mtcnn.Cli" && dir.Parent is { Name: "src" } src)
            {
                var relative = Path.GetRelativePath(dir.FullName, here);
                var sibling = Path.Combine(src.FullName, "Mtcnn.Training.Cli", relative, AssemblyFile);
                return File.Exists(sibling) ? Launch(sibling) : null;
            }
        }

        return null;
    }

    private static (string, string[]) Launch(string path) =>
        path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? (DotnetHost(), [path]) : (path, []);

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
}
