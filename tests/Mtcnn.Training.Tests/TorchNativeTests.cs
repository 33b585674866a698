using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtcnn.Training.Tests;

/// <summary>
/// TorchSharp's native library loads in the test output (on Debian 12 only after build/TorchSharpNativeFix.targets
/// patched it) and runs a convolution forward and backward.
/// </summary>
public sealed class TorchNativeTests
{
    [Fact]
    public void Conv_forward_and_backward_run_and_match_a_hand_computed_gradient()
    {
        using var scope = NewDisposeScope();
        using var conv = nn.Conv2d(1, 1, 2, bias: false);
        using (no_grad())
        {
            conv.weight!.copy_(torch.tensor(new float[] { 1, 2, 3, 4 }, [1, 1, 2, 2]));
        }

        var x = torch.arange(9, ScalarType.Float32).reshape(1, 1, 3, 3).requires_grad_(true);
        var y = conv.forward(x);
        Assert.Equal([1L, 1, 2, 2], y.shape);

        // y(i, j) = sum_k w(k) x(i + ky, j + kx): for x = 0..8 row-major the four outputs are 27, 37, 57, 67.
        Assert.Equal([27f, 37f, 57f, 67f], y.data<float>().ToArray());

        y.sum().backward();

        // d(sum y)/dw(ky, kx) = sum of the 2x2 input windows shifted by (ky, kx): 0+1+3+4, 1+2+4+5, 3+4+6+7, 4+5+7+8.
        Assert.Equal([8f, 12f, 20f, 24f], conv.weight!.grad!.data<float>().ToArray());

        // dx: how many windows each input pixel is in, weighted: corners get one weight each.
        var gx = x.grad!.data<float>().ToArray();
        Assert.Equal(1f, gx[0]);
        Assert.Equal(10f, gx[4]);
        Assert.Equal(4f, gx[8]);
    }

    [Fact]
    public void The_native_library_in_the_output_resolves_all_its_dependencies()
    {
        string lib = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        Assert.True(File.Exists(lib), $"{lib} is missing");
        var psi = new ProcessStartInfo("ldd", $"\"{lib}\"") { RedirectStandardOutput = true, RedirectStandardError = true };
        Process? p;
        try
        {
            p = Process.Start(psi);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return; // no ldd on this system: the conv test above covers loading
        }

        using (p)
        {
            string text = p!.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            // A missing *weak* version (GLIBCXX_3.4.32 after the fix) is only a notice; anything else not found is fatal.
            var fatal = text.Split('\n').Where(l => l.Contains("not found", StringComparison.Ordinal) && !l.Contains("weak version", StringComparison.Ordinal));
            Assert.Empty(fatal);
            Assert.Contains("libtorch_cpu.so", text, StringComparison.Ordinal);
        }
    }
}
