using System.CommandLine;
using System.CommandLine.Invocation;

namespace Mtcnn.Training.Cli;

/// <summary>
/// Entry point of <c>mtcnn-train</c>, the training tool. It lives apart from <c>mtcnn</c> so that the detection tool
/// stays free of libtorch (about 650 MB); <c>mtcnn train …</c> forwards here when this tool is installed.
/// Usage errors exit with 2, failures with 1, both as one line on stderr (MTCNN_DEBUG=1 shows the stack trace).
/// </summary>
internal static class Program
{
    private const string Name = "mtcnn-train";

    private static int Main(string[] args)
    {
        var root = new RootCommand("Mtcnn.NET training: train P-Net, R-Net and O-Net (TorchSharp/libtorch on the CPU) and whole cascades.")
        {
            TrainCommand.Create(),
            TrainCascadeCommand.Create(),
            SelfCheck.CreateCheck(),
            SelfCheck.CreateProbe(),
        };
        try
        {
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                foreach (var error in parse.Errors)
                {
                    Console.Error.WriteLine($"{Name}: {error.Message} (see {Name} --help)");
                }

                return 2;
            }

            if (args.Length > 0 && args[0] is "train" or "train-cascade" && !args.Contains("--help") && !args.Contains("-h")
                && SelfCheck.Ensure(args) is { } rerunCode)
            {
                return rerunCode;
            }

            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"{Name}: {e.Message}");
            return 2;
        }
#pragma warning disable CA1031 // One line on stderr and exit code 1 for any failure.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine($"{Name}: error: {e.Message}");
            if (Environment.GetEnvironmentVariable("MTCNN_DEBUG") == "1")
            {
                Console.Error.WriteLine(e);
            }

            return 1;
        }
    }
}

/// <summary>A mistake in the command line; exit code 2.</summary>
internal sealed class UsageException : Exception
{
    public UsageException()
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
