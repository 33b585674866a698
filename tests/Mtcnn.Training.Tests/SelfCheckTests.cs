using System.Diagnostics;
using System.Reflection;
using Mtcnn.TestSupport;
using Mtcnn.Training.Data.Tests;
using Mtcnn.Training.Diagnostics;

namespace Mtcnn.Training.Tests;

/// <summary>The training self-check (libtorch against the core) and its fallback search, driven by the fault hook.</summary>
[Collection("torch")]
public sealed class SelfCheckTests : IDisposable
{
    private readonly TrainingFixtures.Folder temp = new();

    public void Dispose() => temp.Dispose();

    private static string TrainDll =>
        typeof(SelfCheckTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "MtcnnTrainDll").Value!;

    private static (int Code, string Out, string Err) Run(IEnumerable<string> args, string? fault, string? isa = null)
    {
        var start = new ProcessStartInfo(CliLocator.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(TrainDll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        // An ISA limit this process inherited (scripts/test.sh sets one where libtorch needs it) is kept unless replaced.
        start.Environment.Remove(TorchSelfCheck.FaultVariable);
        if (fault is not null)
        {
            start.Environment[TorchSelfCheck.FaultVariable] = fault;
        }

        if (isa is not null)
        {
            start.Environment[OneDnnIsa.Variable] = isa;
        }

        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(300_000), "the program did not finish in 5 minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void The_check_passes_here_and_the_hook_makes_R_and_O_Net_fail()
    {
        var clean = TorchSelfCheck.Run(SelfCheckFault.None);
        Assert.Equal(6, clean.Cases.Count);
        Assert.True(clean.Passed, clean.DescribeFailures());
        var faulty = TorchSelfCheck.Run(SelfCheckFault.Parse("all"));
        Assert.False(faulty.Passed);
        Assert.All(faulty.Cases, c => Assert.Equal(c.Net == Models.NetKind.PNet, c.Passed));
        Assert.Throws<ArgumentException>(() => SelfCheckFault.Parse("isa>NOPE"));
    }

    [Fact]
    public void Environment_SetEnvironmentVariable_does_not_reach_native_getenv()
    {
        // Why the ISA limit needs a child process: .NET's copy of the environment is not the C library's.
        const string name = "MTCNN_SELF_CHECK_ENV_PROBE";
        Environment.SetEnvironmentVariable(name, "1");
        try
        {
            Assert.Equal("1", Environment.GetEnvironmentVariable(name));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Null(LibTorchNative.NativeEnvironmentVariable(name));
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    /// <summary>The fallback search starts from no ISA limit; where the environment needs one, those tests cannot run.</summary>
    private static void SkipUnderAnInheritedLimit() =>
        Skip.If(OneDnnIsa.Limit is not null, $"{OneDnnIsa.LimitVariable}={OneDnnIsa.Limit} is set for this run (libtorch needs it here), so the search from no limit cannot be exercised");

    [SkippableFact]
    public void Check_reports_the_facts_and_finds_AVX2_when_wider_ISAs_fail()
    {
        SkipUnderAnInheritedLimit();
        var ok = Run(["check"], null);
        Assert.True(ok.Code == 0, ok.Out + ok.Err);
        Assert.Contains("oneDNN", ok.Out, StringComparison.Ordinal);
        Assert.Contains("CPU:", ok.Out, StringComparison.Ordinal);
        Assert.Contains("verdict: pass", ok.Out, StringComparison.Ordinal);

        if (!OneDnnIsa.Candidates().Contains("AVX2"))
        {
            return; // no AVX2 here: the search cannot end on it
        }

        var bad = Run(["check"], "isa>AVX2");
        Assert.Equal(1, bad.Code);
        Assert.Contains("would use: DNNL_MAX_CPU_ISA=AVX2", bad.Out, StringComparison.Ordinal);
        var off = Run(["check"], "onednn");
        Assert.Contains("would use: oneDNN off", off.Out, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Training_reruns_with_the_chosen_ISA_and_stops_when_nothing_passes()
    {
        SkipUnderAnInheritedLimit();
        var samples = Path.Combine(temp.Path, "pnet.samples");
        TrainerTests.Synthetic(12, 64, seed: 3).Write(samples);
        string[] args = ["train", "--net", "pnet", "--samples", samples, "--epochs", "1", "--batch-size", "32", "--threads", "1", "--project", Path.Combine(temp.Path, "runs")];
        if (OneDnnIsa.Candidates().Contains("AVX2"))
        {
            var rerun = Run(args, "isa>AVX2");
            Assert.True(rerun.Code == 0, rerun.Err);
            Assert.Contains("chosen: DNNL_MAX_CPU_ISA=AVX2; re-running", rerun.Err, StringComparison.Ordinal);
            Assert.Contains("matches the core", rerun.Err, StringComparison.Ordinal);
            Assert.Contains("weights:", rerun.Out, StringComparison.Ordinal);
        }

        var user = Run(args, "isa>SSE41", isa: "AVX2");
        Assert.Equal(1, user.Code);
        Assert.Contains("DNNL_MAX_CPU_ISA=AVX2 is set in the environment", user.Err, StringComparison.Ordinal);

        var none = Run(args, "all");
        Assert.Equal(1, none.Code);
        Assert.Contains("not training", none.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", none.Err, StringComparison.Ordinal);
    }
}
