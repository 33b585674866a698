using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mtcnn.FacenetReplay;

/// <summary>One face as facenet-pytorch's <c>MTCNN.detect</c> returned it.</summary>
internal sealed record PytorchFace(float X1, float Y1, float X2, float Y2, float Probability, float[] Points);

/// <summary>What one timed block of facenet-pytorch calls gave.</summary>
internal sealed record PytorchTiming(IReadOnlyList<double> Milliseconds, IReadOnlyList<PytorchFace> Faces);

/// <summary>
/// The real facenet-pytorch, run by <c>facenet_pytorch_worker.py</c> in a Python process that stays up for the whole
/// benchmark: each photo is handed over once as raw RGB in a file, then the worker times blocks of
/// <c>MTCNN.detect</c> calls on it (time taken inside Python around each call, so the pipe costs nothing).
/// </summary>
internal sealed class FacenetPytorchWorker(Process process, string folder) : IDisposable
{

    /// <summary>Versions and build settings of the PyTorch the worker runs on (one line each).</summary>
    public string Description { get; private set; } = "";

    /// <summary>Starts the worker on a facenet-pytorch checkout, or explains why it cannot.</summary>
    public static FacenetPytorchWorker Start(string python, string checkout)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "facenet_pytorch_worker.py");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"{script}: missing from the benchmark's output folder");
        }

        if (!File.Exists(Path.Combine(checkout, "models", "mtcnn.py")))
        {
            throw new InvalidOperationException($"{checkout}: not a facenet-pytorch checkout (no models/mtcnn.py)");
        }

        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(checkout);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{python}: could not be started");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{python}: could not be started ({e.Message})", e);
        }

        string folder = Path.Combine(Path.GetTempPath(), $"mtcnn-facenet-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        var worker = new FacenetPytorchWorker(process, folder);
        var info = worker.Ask(new JsonObject { ["op"] = "info" });
        string config = info["config"]?.GetValue<string>() ?? "";
        string[] wanted = ["MKL-DNN", "oneDNN", "CPU capability", "BLAS_INFO", "LAPACK"];
        var lines = config.Split('\n').Select(l => l.Trim().TrimStart('-', ' ')).Where(l => wanted.Any(w => l.Contains(w, StringComparison.Ordinal)))
            .Select(l => l.StartsWith("Build settings", StringComparison.Ordinal) ? l.Split(',').First(p => p.Contains("BLAS_INFO", StringComparison.Ordinal)).Trim() : l);
        worker.Description = $"torch {info["torch"]}, torchvision {info["torchvision"]}, mkldnn available {info["mkldnn"]}; " + string.Join("; ", lines);
        return worker;
    }

    /// <summary>Times <paramref name="calls"/> calls of <c>MTCNN.detect</c> on one photo after <paramref name="warmup"/> untimed ones.</summary>
    public PytorchTiming Time(byte[] rgb, int width, int height, string name, int minFace, int threads, int warmup, int calls)
    {
        string path = Path.Combine(folder, $"{name}-{width}x{height}.rgb");
        if (!File.Exists(path))
        {
            File.WriteAllBytes(path, rgb);
        }

        var answer = Ask(new JsonObject
        {
            ["op"] = "time", ["path"] = path, ["width"] = width, ["height"] = height, ["min_face"] = minFace,
            ["threads"] = threads, ["warmup"] = warmup, ["calls"] = calls,
        });
        var ms = answer["ms"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        var boxes = answer["boxes"]!.AsArray();
        var points = answer["points"]!.AsArray();
        var faces = new List<PytorchFace>();
        for (int i = 0; i < boxes.Count; i++)
        {
            var b = boxes[i]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
            var p = points[i]!.AsArray().SelectMany(pt => pt!.AsArray().Select(v => v!.GetValue<float>())).ToArray();
            faces.Add(new PytorchFace(b[0], b[1], b[2], b[3], b[4], p));
        }

        return new PytorchTiming(ms, faces);
    }

    public void Dispose()
    {
        try
        {
            process.StandardInput.Close();
            if (!process.WaitForExit(5000))
            {
                process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.Dispose();
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temporary folder.
        }
    }

    private JsonNode Ask(JsonObject command)
    {
        process.StandardInput.WriteLine(command.ToJsonString());
        process.StandardInput.Flush();
        string? line = process.StandardOutput.ReadLine()
            ?? throw new InvalidOperationException($"the facenet-pytorch worker ended (exit code {(process.HasExited ? process.ExitCode.ToString(CultureInfo.InvariantCulture) : "?")}); its error output is above");
        var answer = JsonNode.Parse(line) ?? throw new JsonException("empty answer from the facenet-pytorch worker");
        if (answer["error"] is { } error)
        {
            throw new InvalidOperationException("facenet-pytorch worker: " + error.GetValue<string>());
        }

        return answer;
    }
}
