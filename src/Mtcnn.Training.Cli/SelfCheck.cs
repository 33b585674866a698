using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Mtcnn.Training.Diagnostics;

namespace Mtcnn.Training.Cli;

/// <summary>
/// <c>mtcnn-train check</c>, the hidden probe it runs in child processes, and the gate in front of every command that
/// uses libtorch: the self-check runs in-process; when it fails, child processes try narrower oneDNN ISA limits
/// (oneDNN reads the limit from the C environment once, so a running process cannot change its own), then oneDNN off
/// (a switch that works in-process); the command then re-runs itself with the widest limit that passed.
/// </summary>
internal static class SelfCheck
{
    /// <summary>Set on the re-run so that it checks again but never searches again.</summary>
    private const string RerunVariable = "MTCNN_TRAIN_SELF_CHECK_RERUN";

    private const string ProbeVerb = "self-check-probe";

    public static Command CreateCheck()
    {
        var speed = new Option<bool>("--speed") { Description = "Also measure O-Net training speed (batch 128, Adam, synthetic samples) in this configuration." };
        var command = new Command("check", "Check that libtorch computes P-, R- and O-Net (both variants) as the core does (1e-4); when not, find the oneDNN setting that does.") { speed };
        command.SetAction(pr =>
        {
            int code = RunCheck();
            if (pr.GetValue(speed))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"O-Net training: {OnetSamplesPerSecond():F0} samples/s (batch 128, Adam, {TorchSharp.torch.get_num_threads()} libtorch threads, oneDNN ISA limit {DescribeLimit()})"));
            }

            return code;
        });
        return command;
    }

    public static Command CreateProbe()
    {
        var command = new Command(ProbeVerb, "Runs the self-check once; exit 0 when it passes, 3 when not (used by the fallback search).") { Hidden = true };
        command.SetAction(_ => TorchSelfCheck.Run().Passed ? 0 : 3);
        return command;
    }

    private static int RunCheck()
    {
        Console.WriteLine($"TorchSharp: {typeof(TorchSharp.torch).Assembly.GetName().Version}; libtorch: oneDNN {LibTorchNative.OneDnnVersion ?? "?"}, ATen CPU capability {LibTorchNative.AtenCpuCapability ?? "?"}");
        Console.WriteLine($"CPU: {CpuModel()}");
        Console.WriteLine($"oneDNN ISA limit: {DescribeLimit()}; oneDNN enabled: {LibTorchNative.OneDnnEnabled?.ToString() ?? "unknown"}");
        var result = TorchSelfCheck.Run();
        foreach (var c in result.Cases)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {c.Name,-16} max |diff| {c.MaxDifference:E2}  {(c.Passed ? "pass" : "FAIL")}"));
        }

        if (result.Passed)
        {
            Console.WriteLine("verdict: pass");
            return 0;
        }

        Console.WriteLine("verdict: FAIL; searching for a setting that passes ...");
        var choice = Search(Console.Out);
        Console.WriteLine(choice is null ? "nothing passes: do not train with this libtorch on this machine" : $"would use: {choice}");
        return 1;
    }

    /// <summary>The gate: null to go on in this process, or the exit code of the re-run that did the work.</summary>
    public static int? Ensure(string[] args)
    {
        var result = TorchSelfCheck.Run();
        bool rerun = Environment.GetEnvironmentVariable(RerunVariable) == "1";
        if (result.Passed)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"self-check: libtorch matches the core (max |diff| {result.MaxDifference:E1}; oneDNN ISA limit {DescribeLimit()})"));
            return null;
        }

        Console.Error.WriteLine($"self-check: libtorch's results differ from the core's ({result.DescribeFailures()}; oneDNN ISA limit {DescribeLimit()})");
        if (rerun)
        {
            throw new InvalidOperationException("the self-check failed again in the re-run with the setting chosen for it; do not train with this libtorch on this machine");
        }

        var log = Console.Error;
        var choice = Search(log);
        if (OneDnnIsa.Limit is { } user)
        {
            throw new InvalidOperationException($"{OneDnnIsa.LimitVariable}={user} is set in the environment and gives wrong results; " +
                (choice is null ? "no other setting passes either" : $"{choice} passes: set that, or unset {OneDnnIsa.LimitVariable} to let mtcnn-train choose"));
        }

        if (choice is null)
        {
            throw new InvalidOperationException("the self-check fails with every oneDNN ISA limit and with oneDNN off: libtorch computes wrong results on this machine; not training (see `mtcnn-train check`)");
        }

        if (choice == "oneDNN off")
        {
            LibTorchNative.SetOneDnnEnabled(false);
            log.WriteLine("self-check: chosen: oneDNN off (in this process)");
            return null;
        }

        log.WriteLine($"self-check: chosen: {choice}; re-running with it (set it yourself to skip this search)");
        var psi = SelfStart(args);
        psi.Environment[OneDnnIsa.Variable] = choice.Split('=')[1];
        psi.Environment.Remove(OneDnnIsa.NewVariable);
        psi.Environment[RerunVariable] = "1";
        using var child = Process.Start(psi) ?? throw new InvalidOperationException("could not start the re-run");
        ConsoleCancelEventHandler ignore = (_, e) => e.Cancel = true; // the terminal's Ctrl+C reaches the child too
        Console.CancelKeyPress += ignore;
        child.WaitForExit();
        Console.CancelKeyPress -= ignore;
        return child.ExitCode;
    }

    /// <summary>Tries the ISA limits in child processes (widest first), then oneDNN off in this process; returns e.g. <c>DNNL_MAX_CPU_ISA=AVX2</c>, <c>oneDNN off</c> or null.</summary>
    private static string? Search(TextWriter log)
    {
        foreach (var isa in OneDnnIsa.Candidates())
        {
            var psi = SelfStart([ProbeVerb]);
            psi.Environment[OneDnnIsa.Variable] = isa;
            psi.Environment.Remove(OneDnnIsa.NewVariable);
            psi.RedirectStandardOutput = true;
            psi.RedirectStandardError = true;
            using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start the self-check probe");
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            log.WriteLine($"self-check: {OneDnnIsa.Variable}={isa}: {(p.ExitCode == 0 ? "passes" : p.ExitCode == 3 ? "fails" : $"probe exited with {p.ExitCode}")}");
            if (p.ExitCode == 0)
            {
                return $"{OneDnnIsa.Variable}={isa}";
            }
        }

        if (!LibTorchNative.CanSwitchOneDnn)
        {
            log.WriteLine("self-check: oneDNN cannot be switched off in this libtorch");
            return null;
        }

        LibTorchNative.SetOneDnnEnabled(false);
        bool off = TorchSelfCheck.Run().Passed;
        LibTorchNative.SetOneDnnEnabled(true);
        log.WriteLine($"self-check: oneDNN off: {(off ? "passes" : "fails")}");
        return off ? "oneDNN off" : null;
    }

    private static ProcessStartInfo SelfStart(IEnumerable<string> args)
    {
        string exe = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            psi.ArgumentList.Add(typeof(SelfCheck).Assembly.Location);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }

    /// <summary>Forward, loss, backward and Adam update of O-Net on random batches for about five seconds after two warm-up steps.</summary>
    private static double OnetSamplesPerSecond()
    {
        const int batch = 128;
        var rng = new Random(7);
        var input = new float[batch * 3 * 48 * 48];
        var labels = new long[batch];
        var boxes = new float[batch * 4];
        var marks = new float[batch * 10];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        for (int i = 0; i < batch; i++)
        {
            labels[i] = (i % 4) switch { 0 => 1, 1 => 0, 2 => -1, _ => -2 };
        }

        for (int i = 0; i < boxes.Length; i++)
        {
            boxes[i] = (float)(rng.NextDouble() - 0.5);
        }

        for (int i = 0; i < marks.Length; i++)
        {
            marks[i] = (float)rng.NextDouble();
        }

        using var net = Models.MtcnnNets.Create(Models.NetKind.ONet, Mtcnn.ModelVariant.Original);
        net.train();
        using var optimizer = new Training.ParameterOptimizer(net.named_parameters().Select(p => (p.name, p.parameter)), Training.OptimizerKind.Adam, 0.9, 0);
        var x = TorchSharp.torch.tensor(input, [batch, 3, 48, 48]);
        var y = TorchSharp.torch.tensor(labels, [batch]);
        var b = TorchSharp.torch.tensor(boxes, [batch, 4]);
        var m = TorchSharp.torch.tensor(marks, [batch, 10]);
        var clock = new Stopwatch();
        long samples = 0;
        for (int step = 0; ; step++)
        {
            if (step == 2)
            {
                clock.Start();
            }

            using (var scope = TorchSharp.torch.NewDisposeScope())
            {
                var loss = Training.MultiTaskLoss.Compute(net.forward(x), y, b, m, Mtcnn.ModelVariant.Original, (1, 0.5, 1), 0.7);
                optimizer.ZeroGrad();
                loss.Total.backward();
                optimizer.Update(0.001);
            }

            if (step >= 2)
            {
                samples += batch;
                if (clock.Elapsed.TotalSeconds >= 5)
                {
                    return samples / clock.Elapsed.TotalSeconds;
                }
            }
        }
    }

    private static string DescribeLimit() => OneDnnIsa.Limit is { } l ? $"{OneDnnIsa.LimitVariable}={l}" : "none (the widest the CPU offers)";

    private static string CpuModel()
    {
        try
        {
            var lines = File.ReadLines("/proc/cpuinfo").Take(30).ToArray();
            string Field(string key) => lines.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
            return $"{Field("model name")} (family {Field("cpu family")}, model {Field("model\t")})";
        }
        catch (IOException)
        {
            return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (UnauthorizedAccessException)
        {
            return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
        }
    }
}
