using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Mtcnn.Inference;

namespace Mtcnn.Onnx.Tests;

/// <summary>
/// The exported models run by ONNX Runtime 1.32 against the core's kernels (scalar, the reference the SIMD paths are
/// tested against): the golden 12x12 pattern, random maps and random crops, for the bundled weights and for random
/// weights of the reference variant; the metadata, the opsets, and the official checker.
/// </summary>
public sealed class OnnxExportTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Variants() => new() { "original", "reference" };

    private static MtcnnWeights Weights(string variant) => variant == "original" ? MtcnnWeights.Default : ReferenceWeights.Random(20261207);

    private static InferenceSession Session(MtcnnWeights weights, MtcnnNetwork net, int opset = OnnxExporter.DefaultOpset) =>
        new(OnnxExporter.Export(weights, net, opset), new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL });

    /// <summary>HWC floats (the core's layout) to one NCHW image of a batch.</summary>
    private static void ToNchw(float[] hwc, int h, int w, float[] nchw, int index)
    {
        int plane = h * w;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    nchw[(index * 3 * plane) + (c * plane) + (y * w) + x] = hwc[(((y * w) + x) * 3) + c];
                }
            }
        }
    }

    private static float[] Random(int n, Random rng, float scale = 1f)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        }

        return v;
    }

    private static float[] Pattern(int h, int w)
    {
        var hwc = new float[h * w * 3];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    hwc[(((y * w) + x) * 3) + c] = (float)(((((c * 31) + (y * 17) + (x * 7)) % 256) - 127.5) * 0.0078125);
                }
            }
        }

        return hwc;
    }

    private static double Close(float expected, float actual, string what)
    {
        double d = Math.Abs((double)expected - actual);
        Assert.True(d <= Tolerance, $"{what}: core {expected}, ONNX Runtime {actual} (|diff| {d:E2})");
        return d;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void PNet_matches_the_core_on_the_golden_pattern_and_random_maps(string variant)
    {
        var weights = Weights(variant);
        var core = new Networks(weights, SimdLevel.Scalar);
        using var session = Session(weights, MtcnnNetwork.PNet);
        var rng = new Random(7);
        var cases = new (int H, int W, float[] Hwc)[] { (12, 12, Pattern(12, 12)), (31, 23, Random(31 * 23 * 3, rng)), (57, 45, Random(57 * 45 * 3, rng)), (12, 40, Random(12 * 40 * 3, rng)) };
        int classes = core.P.ClassOutputs;
        foreach (var (h, w, hwc) in cases)
        {
            // A batch of two: the image and its negation (the batch dimension is real).
            var nchw = new float[2 * 3 * h * w];
            ToNchw(hwc, h, w, nchw, 0);
            ToNchw([.. hwc.Select(v => -v)], h, w, nchw, 1);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(nchw, [2, 3, h, w]))]);
            var logits = results.Single(r => r.Name == "class_logits").AsTensor<float>();
            var box = results.Single(r => r.Name == "box").AsTensor<float>();
            var prob = results.Single(r => r.Name == "prob").AsTensor<float>();
            for (int b = 0; b < 2; b++)
            {
                float[] input = b == 0 ? hwc : [.. hwc.Select(v => -v)];
                int scratch = core.P.ScratchSize(h, w);
                var a = new float[scratch];
                var (oh, ow, row) = core.P.Forward(input, h, w, a, new float[scratch]);
                Assert.Equal([2, classes, oh, ow], logits.Dimensions.ToArray());
                int cs = core.P.Head.OutputChannelStride;
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        int at = ((i * row) + j) * cs;
                        for (int c = 0; c < classes; c++)
                        {
                            Close(a[at + c], logits[b, c, i, j], $"{variant} pnet {h}x{w}[{b}] logit {c} at {i},{j}");
                        }

                        for (int c = 0; c < 4; c++)
                        {
                            Close(a[at + classes + c], box[b, c, i, j], $"{variant} pnet {h}x{w}[{b}] box {c} at {i},{j}");
                        }

                        double p = classes == 2 ? 1 / (1 + Math.Exp(a[at] - a[at + 1])) : 1 / (1 + Math.Exp(-a[at]));
                        Close((float)p, prob[b, 0, i, j], $"{variant} pnet prob at {i},{j}");
                    }
                }
            }
        }

        if (variant == "original")
        {
            // The golden vector (../shared/reference/golden_vectors.json): softmax [0.99474, 0.00526] on the 12x12 pattern,
            // so the face probability (channel 1) is 0.00526.
            var nchw = new float[3 * 12 * 12];
            ToNchw(Pattern(12, 12), 12, 12, nchw, 0);
            using var r = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(nchw, [1, 3, 12, 12]))]);
            Assert.Equal(0.005256622455165086, r.Single(x => x.Name == "prob").AsTensor<float>()[0, 0, 0, 0], 1e-4);
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void RNet_and_ONet_match_the_core_on_random_crops(string variant)
    {
        var weights = Weights(variant);
        var core = new Networks(weights, SimdLevel.Scalar);
        foreach (var (net, crop, name) in new[] { (core.R, MtcnnNetwork.RNet, "rnet"), (core.O, MtcnnNetwork.ONet, "onet") })
        {
            using var session = Session(weights, crop);
            int size = net.InputSize, n = 7;
            var rng = new Random(size);
            var hwc = Random(n * size * size * 3, rng);
            var nchw = new float[hwc.Length];
            for (int i = 0; i < n; i++)
            {
                ToNchw(hwc.AsSpan(i * size * size * 3, size * size * 3).ToArray(), size, size, nchw, i);
            }

            var output = new float[n * net.OutputStride];
            net.Forward(hwc, n, new float[net.ScratchPerCrop], new float[net.ScratchPerCrop], new float[n * net.FlatLength], new float[net.DenseSize(n)], output);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(nchw, [n, 3, size, size]))]);
            var logits = results.Single(r => r.Name == "class_logits").AsTensor<float>();
            var box = results.Single(r => r.Name == "box").AsTensor<float>();
            var prob = results.Single(r => r.Name == "prob").AsTensor<float>();
            int classes = net.ClassOutputs;
            for (int i = 0; i < n; i++)
            {
                int at = i * net.OutputStride;
                for (int c = 0; c < classes; c++)
                {
                    Close(output[at + c], logits[i, c], $"{variant} {name} crop {i} logit {c}");
                }

                for (int c = 0; c < 4; c++)
                {
                    Close(output[at + classes + c], box[i, c], $"{variant} {name} crop {i} box {c}");
                }

                if (crop == MtcnnNetwork.ONet)
                {
                    var landmarks = results.Single(r => r.Name == "landmarks").AsTensor<float>();
                    for (int c = 0; c < 10; c++)
                    {
                        Close(output[at + classes + 4 + c], landmarks[i, c], $"{variant} onet crop {i} landmark {c}");
                    }
                }

                double p = classes == 2 ? 1 / (1 + Math.Exp(output[at] - output[at + 1])) : 1 / (1 + Math.Exp(-output[at]));
                Close((float)p, prob[i, 0], $"{variant} {name} crop {i} prob");
            }
        }
    }

    [Fact]
    public void Models_carry_their_variant_input_convention_and_source_hash_with_dynamic_dimensions()
    {
        using var pnet = Session(MtcnnWeights.Default, MtcnnNetwork.PNet);
        var meta = pnet.ModelMetadata.CustomMetadataMap;
        Assert.Equal("original", meta["mtcnn.variant"]);
        Assert.Equal("pnet", meta["mtcnn.network"]);
        Assert.Equal("RGB", meta["mtcnn.channel_order"]);
        Assert.Equal("(value - 127.5) * 0.0078125", meta["mtcnn.normalization"]);
        Assert.Matches("^[0-9a-f]{64}$", meta["mtcnn.weights_sha256"]);
        Assert.Equal("Mtcnn.NET", pnet.ModelMetadata.ProducerName);
        Assert.Equal([-1, 3, -1, -1], pnet.InputMetadata["input"].Dimensions);
        Assert.Equal(["class_logits", "box", "prob"], pnet.OutputMetadata.Keys.ToArray());

        using var onet = Session(ReferenceWeights.Random(1), MtcnnNetwork.ONet);
        Assert.Equal("reference", onet.ModelMetadata.CustomMetadataMap["mtcnn.variant"]);
        Assert.Equal("BGR", onet.ModelMetadata.CustomMetadataMap["mtcnn.channel_order"]);
        Assert.Equal([-1, 3, 48, 48], onet.InputMetadata["input"].Dimensions);
        Assert.Equal(["class_logits", "box", "landmarks", "prob"], onet.OutputMetadata.Keys.ToArray());

        var given = OnnxExporter.Export(MtcnnWeights.Default, MtcnnNetwork.RNet, sourceSha256: new string('a', 64));
        using var rnet = new InferenceSession(given);
        Assert.Equal(new string('a', 64), rnet.ModelMetadata.CustomMetadataMap["mtcnn.weights_sha256"]);
    }

    [Theory]
    [InlineData(13)]
    [InlineData(17)]
    [InlineData(21)]
    public void Every_offered_opset_loads_and_gives_the_same_answer(int opset)
    {
        using var session = Session(MtcnnWeights.Default, MtcnnNetwork.RNet, opset);
        using var baseline = Session(MtcnnWeights.Default, MtcnnNetwork.RNet);
        var input = Random(3 * 24 * 24, new Random(3));
        float Prob(InferenceSession s)
        {
            using var r = s.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input, [1, 3, 24, 24]))]);
            return r.Single(x => x.Name == "prob").AsTensor<float>()[0, 0];
        }

        Assert.Equal(Prob(baseline), Prob(session), 1e-6);
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExporter.Export(MtcnnWeights.Default, MtcnnNetwork.PNet, 12));
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExporter.Export(MtcnnWeights.Default, MtcnnNetwork.PNet, 22));
    }

    [SkippableFact]
    public void The_official_checker_accepts_every_model_of_both_variants()
    {
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        Skip.IfNot(Run(python, "-c \"import onnx\"").Code == 0, "the onnx Python package is missing (Debian: apt-get install python3-onnx; scripts/test.sh installs it)");
        string dir = Path.Combine(Path.GetTempPath(), "mtcnn-onnx-check-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var files = new List<string>();
            foreach (var (variant, weights) in new[] { ("original", MtcnnWeights.Default), ("reference", ReferenceWeights.Random(5)) })
            {
                foreach (var net in Enum.GetValues<MtcnnNetwork>())
                {
                    string path = Path.Combine(dir, $"{variant}-{OnnxExporter.FileName(net)}");
                    File.WriteAllBytes(path, OnnxExporter.Export(weights, net));
                    files.Add(path);
                }
            }

            string script = "import onnx, sys\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\n    print('ok', p)\n";
            string scriptPath = Path.Combine(dir, "check.py");
            File.WriteAllText(scriptPath, script);
            var (code, output) = Run(python, $"\"{scriptPath}\" " + string.Join(' ', files.Select(f => $"\"{f}\"")));
            Assert.True(code == 0, output);
            Assert.Equal(6, output.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (int Code, string Output) Run(string file, string arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        try
        {
            using var p = Process.Start(start)!;
            string stdout = p.StandardOutput.ReadToEnd();
            string stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, stdout + stderr);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}

/// <summary>Random weights with the reference project's shapes (one class logit, floor pooling: smaller dense inputs).</summary>
internal static class ReferenceWeights
{
    private static readonly (string Name, int[] Shape)[] Shapes =
    [
        ("pnet.conv1.weight", [10, 3, 3, 3]), ("pnet.conv1.bias", [10]), ("pnet.prelu1.weight", [10]),
        ("pnet.conv2.weight", [16, 10, 3, 3]), ("pnet.conv2.bias", [16]), ("pnet.prelu2.weight", [16]),
        ("pnet.conv3.weight", [32, 16, 3, 3]), ("pnet.conv3.bias", [32]), ("pnet.prelu3.weight", [32]),
        ("pnet.conv4_1.weight", [1, 32, 1, 1]), ("pnet.conv4_1.bias", [1]), ("pnet.conv4_2.weight", [4, 32, 1, 1]), ("pnet.conv4_2.bias", [4]),
        ("rnet.conv1.weight", [28, 3, 3, 3]), ("rnet.conv1.bias", [28]), ("rnet.prelu1.weight", [28]),
        ("rnet.conv2.weight", [48, 28, 3, 3]), ("rnet.conv2.bias", [48]), ("rnet.prelu2.weight", [48]),
        ("rnet.conv3.weight", [64, 48, 2, 2]), ("rnet.conv3.bias", [64]), ("rnet.prelu3.weight", [64]),
        ("rnet.dense4.weight", [128, 256]), ("rnet.dense4.bias", [128]), ("rnet.prelu4.weight", [128]),
        ("rnet.dense5_1.weight", [1, 128]), ("rnet.dense5_1.bias", [1]), ("rnet.dense5_2.weight", [4, 128]), ("rnet.dense5_2.bias", [4]),
        ("onet.conv1.weight", [32, 3, 3, 3]), ("onet.conv1.bias", [32]), ("onet.prelu1.weight", [32]),
        ("onet.conv2.weight", [64, 32, 3, 3]), ("onet.conv2.bias", [64]), ("onet.prelu2.weight", [64]),
        ("onet.conv3.weight", [64, 64, 3, 3]), ("onet.conv3.bias", [64]), ("onet.prelu3.weight", [64]),
        ("onet.conv4.weight", [128, 64, 2, 2]), ("onet.conv4.bias", [128]), ("onet.prelu4.weight", [128]),
        ("onet.dense5.weight", [256, 512]), ("onet.dense5.bias", [256]), ("onet.prelu5.weight", [256]),
        ("onet.dense6_1.weight", [1, 256]), ("onet.dense6_1.bias", [1]), ("onet.dense6_2.weight", [4, 256]), ("onet.dense6_2.bias", [4]),
        ("onet.dense6_3.weight", [10, 256]), ("onet.dense6_3.bias", [10]),
    ];

    public static MtcnnWeights Random(int seed)
    {
        var rng = new Random(seed);
        return new MtcnnWeights(ModelVariant.Reference, Shapes.Select(s =>
        {
            int n = s.Shape.Aggregate(1, (a, b) => a * b);
            int fanIn = s.Shape.Length > 1 ? n / s.Shape[0] : 1;
            float scale = s.Name.Contains("prelu", StringComparison.Ordinal) ? 0.25f : (float)Math.Sqrt(3.0 / fanIn);
            var data = new float[n];
            for (int i = 0; i < n; i++)
            {
                data[i] = s.Name.Contains("prelu", StringComparison.Ordinal) ? scale : (float)((rng.NextDouble() * 2) - 1) * scale;
            }

            return new WeightTensor(s.Name, s.Shape, data);
        }));
    }
}
