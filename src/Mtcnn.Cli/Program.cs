namespace Mtcnn.Cli;

/// <summary>Process entry point of the <c>mtcnn</c> command.</summary>
internal static class Program
{
    private static int Main(string[] args) => CliApp.Run(args, CliConsole.CreateSystem());
}
