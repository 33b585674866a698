using System.CommandLine;
using Mtcnn.OnnxRuntime;

namespace Mtcnn.Cli;

/// <summary>
/// <c>--backend builtin|onnxruntime</c> and <c>--execution-provider cpu|cuda|auto</c>: where the networks run, shared by
/// <c>detect</c>, <c>bench</c> and <c>serve</c>.
/// </summary>
internal sealed class BackendOptionSet
{
    private static readonly string[] Backends = ["builtin", "onnxruntime"];
    private static readonly string[] Providers = ["cpu", "cuda", "auto"];

    /// <summary>Creates the options.</summary>
    public BackendOptionSet()
    {
        Backend = OptionFactory.Choice("--backend", "builtin", Backends,
            "Where the networks run: builtin (this library's CPU kernels, the fastest on a CPU) or onnxruntime (ONNX Runtime; see docs/onnx.md).");
        Provider = OptionFactory.Choice("--execution-provider", "cpu", Providers,
            "With --backend onnxruntime: cpu, cuda (an error when CUDA cannot be used), or auto (CUDA when it can be used, else the CPU with a warning). "
            + "This tool ships ONNX Runtime's CPU build.");
    }

    /// <summary><c>--backend</c>.</summary>
    public Option<string> Backend { get; }

    /// <summary><c>--execution-provider</c>.</summary>
    public Option<string> Provider { get; }

    /// <summary>Both options.</summary>
    public IEnumerable<Option> All => [Backend, Provider];

    /// <summary>Adds both options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in All)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// The backend the command line asks for: null for the built-in kernels; otherwise an ONNX Runtime backend over
    /// <paramref name="weights"/> using <paramref name="threads"/> threads inside each call (0: every core).
    /// </summary>
    /// <exception cref="CliFailureException">The execution provider asked for cannot be used.</exception>
    public OnnxRuntimeBackend? Create(System.CommandLine.ParseResult pr, MtcnnWeights? weights, int threads, CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(pr);
        if (pr.GetValue(Backend) != "onnxruntime")
        {
            if (pr.GetResult(Provider) is { Implicit: false })
            {
                throw new UsageException("--execution-provider: only with --backend onnxruntime");
            }

            return null;
        }

        var provider = pr.GetValue(Provider) switch
        {
            "cuda" => ExecutionProvider.Cuda,
            "auto" => ExecutionProvider.Auto,
            _ => ExecutionProvider.Cpu,
        };
        try
        {
            return OnnxRuntimeBackend.Create(weights, new OnnxRuntimeBackendOptions { Provider = provider, IntraOpThreads = threads },
                w => console.WriteErrorLine($"{CliApp.Name}: warning: {w}"));
        }
        catch (ExecutionProviderException e)
        {
            throw new CliFailureException(e.Message, e);
        }
    }
}
