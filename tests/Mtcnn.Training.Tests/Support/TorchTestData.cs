using Mtcnn.Inference;
using Mtcnn.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtcnn.Training.Tests.Support;

/// <summary>Inputs for both engines and the core's networks run the way the detector runs them.</summary>
internal static class TorchTestData
{
    /// <summary>Random 8-bit RGB crops, HWC, from a seeded generator.</summary>
    public static byte[][] RandomCrops(int count, int h, int w, int seed)
    {
        var rng = new Random(seed);
        var crops = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            crops[i] = new byte[h * w * 3];
            rng.NextBytes(crops[i]);
        }

        return crops;
    }

    /// <summary>
    /// Encodes an 8-bit RGB HWC image of h x w for a variant: CHW floats (TorchSharp layout) and the same values in HWC
    /// order (the core's layout).
    /// </summary>
    public static (float[] Chw, float[] Hwc) Encode(byte[] rgb, int h, int w, ModelVariant variant)
    {
        var chw = new float[3 * h * w];
        InputEncoding.Encode(rgb, h, w, variant, chw);
        return (chw, ChwToHwc(chw, h, w));
    }

    public static float[] ChwToHwc(float[] chw, int h, int w)
    {
        var hwc = new float[chw.Length];
        for (int c = 0; c < 3; c++)
        {
            for (int p = 0; p < h * w; p++)
            {
                hwc[(p * 3) + c] = chw[(c * h * w) + p];
            }
        }

        return hwc;
    }

    /// <summary>A <c>[N, 3, h, w]</c> tensor from CHW float arrays.</summary>
    public static Tensor Batch(IReadOnlyList<float[]> chw, int h, int w)
    {
        var all = new float[chw.Count * 3 * h * w];
        for (int i = 0; i < chw.Count; i++)
        {
            chw[i].CopyTo(all, i * 3 * h * w);
        }

        return torch.tensor(all, [chw.Count, 3, h, w], ScalarType.Float32);
    }

    public static float[] Values(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();

    /// <summary>The core's P-Net maps for one HWC input: <c>[C][H][W]</c> with C = class outputs + 4.</summary>
    public static (float[] Maps, int Channels, int H, int W) CorePNet(Networks nets, float[] hwc, int h, int w)
    {
        int scratch = nets.P.ScratchSize(h, w);
        var a = new float[scratch];
        var b = new float[scratch];
        var (oh, ow, row) = nets.P.Forward(hwc, h, w, a, b);
        int cs = nets.P.Head.OutputChannelStride;
        int channels = nets.P.ClassOutputs + 4;
        var maps = new float[channels * oh * ow];
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    maps[(((c * oh) + i) * ow) + j] = a[(((i * row) + j) * cs) + c];
                }
            }
        }

        return (maps, channels, oh, ow);
    }

    /// <summary>The core's R-Net or O-Net on a batch of HWC crops: per crop the class outputs, 4 box values, and for O-Net 10 landmarks.</summary>
    public static float[][] CoreCrops(CropNet net, IReadOnlyList<float[]> hwc, int outputs)
    {
        int n = hwc.Count;
        var input = new float[n * net.InputLength];
        for (int i = 0; i < n; i++)
        {
            hwc[i].CopyTo(input, i * net.InputLength);
        }

        var output = new float[n * net.OutputStride];
        net.Forward(input, n, new float[net.ScratchPerCrop], new float[net.ScratchPerCrop], new float[n * net.FlatLength], new float[net.DenseSize(n)], output);
        var result = new float[n][];
        for (int i = 0; i < n; i++)
        {
            result[i] = output.AsSpan(i * net.OutputStride, outputs).ToArray();
        }

        return result;
    }

    /// <summary>Original-variant landmarks x1..x5, y1..y5 → interleaved x1, y1, ..., x5, y5.</summary>
    public static float[] Interleave(ReadOnlySpan<float> planar)
    {
        var r = new float[10];
        for (int k = 0; k < 5; k++)
        {
            r[2 * k] = planar[k];
            r[(2 * k) + 1] = planar[5 + k];
        }

        return r;
    }

    /// <summary>Asserts |expected - actual| &lt;= tolerance element-wise; returns the largest difference.</summary>
    public static double AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {expected.Length} expected values, {actual.Length} actual");
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)expected[i] - actual[i]);
            Assert.True(d <= tolerance, $"{what}[{i}]: expected {expected[i]}, got {actual[i]} (|diff| {d:E2} > {tolerance:E0})");
            max = Math.Max(max, d);
        }

        return max;
    }

    /// <summary>The three nets of a variant, freshly initialised from a seed.</summary>
    public static MtcnnNet[] SeededNets(ModelVariant variant, long seed)
    {
        torch.manual_seed(seed);
        return [MtcnnNets.Create(NetKind.PNet, variant), MtcnnNets.Create(NetKind.RNet, variant), MtcnnNets.Create(NetKind.ONet, variant)];
    }
}
