using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Mtcnn.Onnx;

namespace Mtcnn.OnnxRuntime;

/// <summary>Which ONNX Runtime execution provider runs the networks.</summary>
public enum ExecutionProvider
{
    /// <summary>ONNX Runtime's CPU provider.</summary>
    Cpu,

    /// <summary>NVIDIA CUDA (needs the Microsoft.ML.OnnxRuntime.Gpu.Linux package, a GPU and the CUDA runtime).</summary>
    Cuda,

    /// <summary>CUDA when it can be used, otherwise the CPU with a warning.</summary>
    Auto,
}

/// <summary>Settings of an <see cref="OnnxRuntimeBackend"/>.</summary>
public sealed record OnnxRuntimeBackendOptions
{
    /// <summary>The execution provider. Default <see cref="ExecutionProvider.Cpu"/>.</summary>
    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>CUDA device index. Default 0.</summary>
    public int DeviceId { get; init; }

    /// <summary>Threads ONNX Runtime uses inside one network call on the CPU; 0 lets it choose (every core). Default 0.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// Whether ONNX Runtime's intra-op threads spin while waiting for work. Default false: the networks' many small
    /// operators left a second spinning thread slower than one thread (Zen 5, 2 vCPUs: 640x480 73 ms with spinning,
    /// 32 ms without; docs/onnx.md).
    /// </summary>
    public bool SpinThreads { get; init; }

    /// <summary>Graph optimisations. Default all.</summary>
    public GraphOptimizationLevel Optimization { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>Changes to the session options after these settings are applied (for anything else ONNX Runtime offers).</summary>
    public Action<SessionOptions>? Configure { get; init; }
}

/// <summary>The provider could not be used (which one, and why), and the user asked for it explicitly.</summary>
public sealed class ExecutionProviderException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ExecutionProviderException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ExecutionProviderException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ExecutionProviderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Runs P-Net, R-Net and O-Net on ONNX Runtime for a <see cref="FaceDetector"/>
/// (<c>new FaceDetector(options, OnnxRuntimeBackend.Create(weights))</c>): the networks are exported from the weights
/// in memory (<see cref="OnnxExporter"/>), one session each. P-Net gets one call per pyramid level, R-Net and O-Net one
/// call per image with every candidate's crop in the batch. Thread-safe (ONNX Runtime sessions are).
/// </summary>
public sealed class OnnxRuntimeBackend : INetworkBackend, IDisposable
{
    private readonly InferenceSession pnet;
    private readonly InferenceSession rnet;
    private readonly InferenceSession onet;
    private readonly int classes;

    private OnnxRuntimeBackend(MtcnnWeights weights, SessionOptions options, string name)
    {
        Weights = weights;
        Name = name;
        pnet = new InferenceSession(OnnxExporter.Export(weights, MtcnnNetwork.PNet), options);
        rnet = new InferenceSession(OnnxExporter.Export(weights, MtcnnNetwork.RNet), options);
        onet = new InferenceSession(OnnxExporter.Export(weights, MtcnnNetwork.ONet), options);
        classes = weights.Get("pnet.conv4_1.weight").Shape[0];
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public MtcnnWeights Weights { get; }

    /// <summary>The provider in use.</summary>
    public ExecutionProvider Provider { get; private init; }

    // ONNX Runtime's own log goes to stderr in colour and several lines (a missing CUDA library, say); this backend
    // reports such failures itself in one line, so only fatal messages are let through.
    private static readonly Lazy<OrtEnv> Env = new(() =>
    {
        try
        {
            var quiet = new EnvironmentCreationOptions { logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, logId = "mtcnn" };
            return OrtEnv.CreateInstanceWithOptions(ref quiet);
        }
        catch (OnnxRuntimeException)
        {
            // Created before by the application, with its own settings.
            return OrtEnv.Instance();
        }
    });

    /// <summary>The providers this ONNX Runtime build offers (e.g. <c>CPUExecutionProvider</c>).</summary>
    public static IReadOnlyList<string> AvailableProviders() => Env.Value.GetAvailableProviders();

    /// <summary>Creates the backend.</summary>
    /// <param name="weights">The weights; null uses the embedded original weights.</param>
    /// <param name="options">Settings; null uses the CPU.</param>
    /// <param name="warning">Receives a one-line warning when <see cref="ExecutionProvider.Auto"/> falls back to the CPU.</param>
    /// <exception cref="ExecutionProviderException">The provider asked for explicitly cannot be used.</exception>
    public static OnnxRuntimeBackend Create(MtcnnWeights? weights = null, OnnxRuntimeBackendOptions? options = null, Action<string>? warning = null)
    {
        weights ??= MtcnnWeights.Default;
        options ??= new OnnxRuntimeBackendOptions();
        _ = Env.Value;
        if (options.Provider is ExecutionProvider.Cuda or ExecutionProvider.Auto)
        {
            var session = new SessionOptions();
            string? problem = null;
            if (!AvailableProviders().Contains("CUDAExecutionProvider"))
            {
                problem = "the CUDA execution provider is not in this ONNX Runtime build (" + string.Join(", ", AvailableProviders())
                    + "); it needs the Microsoft.ML.OnnxRuntime.Gpu.Linux package";
            }
            else
            {
                try
                {
                    session.AppendExecutionProvider_CUDA(options.DeviceId);
                }
                catch (OnnxRuntimeException e)
                {
                    problem = "CUDA could not be initialised: " + OneLine(e.Message);
                }
            }

            if (problem is null)
            {
                Apply(session, options);
                return new OnnxRuntimeBackend(weights, session, $"onnxruntime (CUDA, device {options.DeviceId})") { Provider = ExecutionProvider.Cuda };
            }

            session.Dispose();
            if (options.Provider == ExecutionProvider.Cuda)
            {
                throw new ExecutionProviderException($"execution provider cuda: {problem}.");
            }

            warning?.Invoke($"execution provider cuda: {problem}; using the CPU.");
        }

        var cpu = new SessionOptions();
        Apply(cpu, options);
        return new OnnxRuntimeBackend(weights, cpu, "onnxruntime (CPU)") { Provider = ExecutionProvider.Cpu };
    }

    private static void Apply(SessionOptions session, OnnxRuntimeBackendOptions options)
    {
        session.GraphOptimizationLevel = options.Optimization;
        session.IntraOpNumThreads = options.IntraOpThreads;
        session.AddSessionConfigEntry("session.intra_op.allow_spinning", options.SpinThreads ? "1" : "0");
        options.Configure?.Invoke(session);
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();

    /// <inheritdoc/>
    public void RunPNet(ReadOnlySpan<float> input, int height, int width, Span<float> output)
    {
        var (oh, ow) = FaceDetector.PNetOutputSize(height, width, Weights.Variant);
        float[] nchw = ArrayPool<float>.Shared.Rent(3 * height * width);
        try
        {
            ToNchw(input, 1, height, width, nchw);
            using var x = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, nchw.AsMemory(0, 3 * height * width), [1, 3, height, width]);
            using var run = new RunOptions();
            using var results = pnet.Run(run, ["input"], [x], ["class_logits", "box"]);
            ReadOnlySpan<float> logits = results[0].GetTensorDataAsSpan<float>();
            ReadOnlySpan<float> box = results[1].GetTensorDataAsSpan<float>();
            int plane = oh * ow, cs = classes + 4;
            for (int p = 0; p < plane; p++)
            {
                int o = p * cs;
                for (int c = 0; c < classes; c++)
                {
                    output[o + c] = logits[(c * plane) + p];
                }

                for (int c = 0; c < 4; c++)
                {
                    output[o + classes + c] = box[(c * plane) + p];
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(nchw);
        }
    }

    /// <inheritdoc/>
    public void RunCrops(CascadeStage stage, ReadOnlySpan<float> crops, int count, Span<float> output, int stride)
    {
        if (count == 0)
        {
            return;
        }

        bool o = stage == CascadeStage.ONet;
        int size = o ? 48 : 24;
        int n = count * 3 * size * size;
        float[] nchw = ArrayPool<float>.Shared.Rent(n);
        try
        {
            ToNchw(crops, count, size, size, nchw);
            using var x = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, nchw.AsMemory(0, n), [count, 3, size, size]);
            string[] names = o ? ["class_logits", "box", "landmarks"] : ["class_logits", "box"];
            using var run = new RunOptions();
            using var results = (o ? onet : rnet).Run(run, ["input"], [x], names);
            ReadOnlySpan<float> logits = results[0].GetTensorDataAsSpan<float>();
            ReadOnlySpan<float> box = results[1].GetTensorDataAsSpan<float>();
            ReadOnlySpan<float> marks = o ? results[2].GetTensorDataAsSpan<float>() : default;
            for (int i = 0; i < count; i++)
            {
                var row = output.Slice(i * stride);
                logits.Slice(i * classes, classes).CopyTo(row);
                box.Slice(i * 4, 4).CopyTo(row[classes..]);
                if (o)
                {
                    marks.Slice(i * 10, 10).CopyTo(row[(classes + 4)..]);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(nchw);
        }
    }

    /// <summary>Channels-last images (<c>count x h x w x 3</c>) to NCHW.</summary>
    private static void ToNchw(ReadOnlySpan<float> hwc, int count, int h, int w, Span<float> nchw)
    {
        int plane = h * w;
        for (int b = 0; b < count; b++)
        {
            var src = hwc.Slice(b * plane * 3, plane * 3);
            var dst = nchw.Slice(b * plane * 3, plane * 3);
            for (int p = 0; p < plane; p++)
            {
                dst[p] = src[3 * p];
                dst[plane + p] = src[(3 * p) + 1];
                dst[(2 * plane) + p] = src[(3 * p) + 2];
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        pnet.Dispose();
        rnet.Dispose();
        onet.Dispose();
    }
}
