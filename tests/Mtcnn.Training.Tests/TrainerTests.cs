using Mtcnn.Training.Data;
using Mtcnn.Training.Data.Tests;
using Mtcnn.Training.Models;
using Mtcnn.Training.Training;
using TorchSharp;

namespace Mtcnn.Training.Tests;

/// <summary>The trainer on small synthetic sample sets: the loss falls, OHEM keeps what it should, resume is exact.</summary>
[Collection("torch")]
public sealed class TrainerTests : IDisposable
{
    private readonly TrainingFixtures.Folder temp = new();

    private string Root => temp.Path;

    public void Dispose() => temp.Dispose();

    /// <summary>
    /// A learnable toy task: a "face" is a bright square on a dark noisy background whose position gives the box
    /// offsets and the landmarks; negatives are noise only.
    /// </summary>
    internal static SampleSet Synthetic(int size, int count, int seed)
    {
        var rng = new Random(seed);
        var builder = new SampleSetBuilder(size);
        var pixels = new byte[size * size * 3];
        var box = new float[4];
        var marks = new float[10];
        for (var i = 0; i < count; i++)
        {
            var kind = (i % 4) switch { 0 => SampleKind.Negative, 1 => SampleKind.Positive, 2 => SampleKind.Part, _ => SampleKind.Landmark };
            for (var p = 0; p < pixels.Length; p++)
            {
                pixels[p] = (byte)rng.Next(0, 60);
            }

            Array.Clear(box);
            Array.Clear(marks);
            if (kind != SampleKind.Negative)
            {
                var shift = kind == SampleKind.Part ? 0.3f : 0.1f;
                var dx = (float)(rng.NextDouble() * 2 - 1) * shift;
                var dy = (float)(rng.NextDouble() * 2 - 1) * shift;
                var x0 = (int)Math.Round((0.2f + dx) * size);
                var y0 = (int)Math.Round((0.2f + dy) * size);
                var side = (int)(0.6f * size);
                for (var y = Math.Max(0, y0); y < Math.Min(size, y0 + side); y++)
                {
                    for (var x = Math.Max(0, x0); x < Math.Min(size, x0 + side); x++)
                    {
                        var o = (y * size + x) * 3;
                        pixels[o] = 230;
                        pixels[o + 1] = 200;
                        pixels[o + 2] = 180;
                    }
                }

                box[0] = (x0 - 0f) / size;
                box[1] = (y0 - 0f) / size;
                box[2] = (x0 + side - size) / (float)size;
                box[3] = (y0 + side - size) / (float)size;
                if (kind == SampleKind.Landmark)
                {
                    float[] template = [0.35f, 0.4f, 0.65f, 0.4f, 0.5f, 0.55f, 0.38f, 0.7f, 0.62f, 0.7f];
                    for (var k = 0; k < 10; k += 2)
                    {
                        marks[k] = template[k] + dx;
                        marks[k + 1] = template[k + 1] + dy;
                    }
                }
            }

            builder.Add(pixels, kind, box, marks, i / 2);
        }

        return builder.Build();
    }

    private static TrainOptions Options(string samples, NetKind net = NetKind.PNet, int epochs = 4) => new()
    {
        Net = net,
        Samples = samples,
        Epochs = epochs,
        BatchSize = 32,
        LearningRate = 0.003,
        ValidationFraction = 0.2,
        Seed = 7,
        Threads = 1,
    };

    private string WriteSamples(int size, int count, int seed = 3)
    {
        var path = Path.Combine(Root, $"s{size}-{count}-{seed}.samples");
        Synthetic(size, count, seed).Write(path);
        return path;
    }

    [Fact]
    public void A_seeded_tiny_run_lowers_the_loss_and_writes_its_outputs()
    {
        var run = TrainingRun.Create(Options(WriteSamples(12, 640)), Path.Combine(Root, "runs"));
        Assert.EndsWith("pnet1", run.Folder, StringComparison.Ordinal);
        var result = run.Run();
        Assert.True(result.Completed);
        Assert.Equal(4, result.History.Count);
        var first = result.History[0];
        var last = result.History[^1];
        Assert.True(last.TrainLoss < 0.8 * first.TrainLoss, $"loss {first.TrainLoss} -> {last.TrainLoss}");
        Assert.True(last.ValAccuracy > 0.9, $"validation accuracy {last.ValAccuracy}");
        foreach (var file in new[] { "options.json", "metrics.csv", "checkpoint.ckpt", "weights.safetensors", "loss.png", "accuracy.png", "regression.png" })
        {
            Assert.True(File.Exists(Path.Combine(run.Folder, file)), file);
        }

        Assert.Equal(5, File.ReadAllLines(Path.Combine(run.Folder, "metrics.csv")).Length);

        // The export is a complete cascade the core detector loads: the trained P-Net with the bundled R-Net and O-Net.
        var weights = MtcnnWeights.Read(File.ReadAllBytes(result.WeightsFile));
        Assert.Equal(ModelVariant.Original, weights.Variant);
        Assert.Equal(MtcnnWeights.Default.Get("onet.dense5.weight").Data, weights.Get("onet.dense5.weight").Data);
        Assert.NotEqual(MtcnnWeights.Default.Get("pnet.conv1.weight").Data, weights.Get("pnet.conv1.weight").Data);
        _ = new FaceDetector(weights: weights);

        // A second run gets the next Root.
        Assert.EndsWith("pnet2", TrainingRun.Create(Options(run.Options.Samples), Path.Combine(Root, "runs")).Folder, StringComparison.Ordinal);
    }

    [Fact]
    public void Resuming_after_an_interrupted_epoch_equals_an_uninterrupted_run()
    {
        var samples = WriteSamples(24, 320);
        var options = Options(samples, NetKind.RNet, epochs: 3);
        var straight = TrainingRun.Create(options, Path.Combine(Root, "a")).Run();

        var interrupted = TrainingRun.Create(options, Path.Combine(Root, "b"));
        using var cts = new CancellationTokenSource();
        var partial = interrupted.Run(new CancelAt(epoch: 2, batch: 3, cts), cts.Token);
        Assert.False(partial.Completed);
        Assert.Single(partial.History);
        var resumed = TrainingRun.Open(interrupted.Folder).Run();
        Assert.True(resumed.Completed);

        Assert.Equal(File.ReadAllBytes(straight.WeightsFile), File.ReadAllBytes(resumed.WeightsFile));
        static string[] Rows(TrainingResult r) => r.History.Select(m => (m with { Seconds = 0, SamplesPerSecond = 0 }).ToCsv()).ToArray();
        Assert.Equal(Rows(straight), Rows(resumed));
        var a = TrainingCheckpoint.Read(Path.Combine(straight.Folder, TrainingCheckpoint.FileName));
        var b = TrainingCheckpoint.Read(Path.Combine(resumed.Folder, TrainingCheckpoint.FileName));
        Assert.Equal(a.OptimizerStep, b.OptimizerStep);
        foreach (var (name, t) in a.Tensors)
        {
            Assert.Equal(t.Values, b.Tensors[name].Values);
        }
    }

    [Fact]
    public void Fine_tuning_starts_from_the_bundled_weights()
    {
        var options = Options(WriteSamples(48, 96), NetKind.ONet, epochs: 1) with { Init = "default", LearningRate = 1e-9, Optimizer = OptimizerKind.Sgd, Momentum = 0, Flip = false };
        var result = TrainingRun.Create(options, Path.Combine(Root, "runs")).Run();
        var weights = MtcnnWeights.Read(File.ReadAllBytes(result.WeightsFile));
        var before = MtcnnWeights.Default.Get("onet.conv2.weight").Data;
        var after = weights.Get("onet.conv2.weight").Data;
        for (var i = 0; i < before.Length; i++)
        {
            Assert.Equal(before[i], after[i], 1e-5f);
        }
    }

    [Fact]
    public void The_reference_variant_trains_and_exports_a_complete_cascade_over_a_reference_base()
    {
        // A reference-variant base cascade (random weights) that the trained R-Net is merged into.
        torch.manual_seed(11);
        using var p = MtcnnNets.Create(NetKind.PNet, ModelVariant.Reference);
        using var r = MtcnnNets.Create(NetKind.RNet, ModelVariant.Reference);
        using var o = MtcnnNets.Create(NetKind.ONet, ModelVariant.Reference);
        var basePath = Path.Combine(Root, "base.safetensors");
        File.WriteAllBytes(basePath, WeightExchange.Export([p, r, o], null, null).ToBytes());

        var options = Options(WriteSamples(24, 128), NetKind.RNet, epochs: 2) with { Variant = ModelVariant.Reference, BaseWeights = basePath };
        var result = TrainingRun.Create(options, Path.Combine(Root, "runs")).Run();
        Assert.True(result.History[^1].TrainLoss < result.History[0].TrainLoss);
        var weights = MtcnnWeights.Read(File.ReadAllBytes(result.WeightsFile));
        Assert.Equal(ModelVariant.Reference, weights.Variant);
        Assert.Equal([1], weights.Get("rnet.prelu1.weight").Shape);
        Assert.Equal([1, 128], weights.Get("rnet.dense5_1.weight").Shape);
        var baseWeights = MtcnnWeights.Read(File.ReadAllBytes(basePath));
        Assert.Equal(baseWeights.Get("pnet.conv1.weight").Data, weights.Get("pnet.conv1.weight").Data);
        Assert.NotEqual(baseWeights.Get("rnet.conv1.weight").Data, weights.Get("rnet.conv1.weight").Data);
        _ = new FaceDetector(weights: weights);

        // Without a base the export holds only the trained network (and says so).
        var messages = new List<string>();
        var alone = TrainingRun.Create(options with { BaseWeights = null, Epochs = 1 }, Path.Combine(Root, "runs")).Run(new Recorder(messages));
        Assert.Contains(messages, m => m.Contains("only the trained network", StringComparison.Ordinal));
        Assert.All(MtcnnWeights.Read(File.ReadAllBytes(alone.WeightsFile)).Tensors.Keys, k => Assert.StartsWith("rnet.", k, StringComparison.Ordinal));
    }

    [Fact]
    public void Samples_of_the_wrong_size_and_bad_checkpoints_give_clear_errors()
    {
        var run = TrainingRun.Create(Options(WriteSamples(24, 16)), Path.Combine(Root, "runs"));
        var e = Assert.Throws<InvalidDataException>(() => run.Run());
        Assert.Contains("24x24", e.Message, StringComparison.Ordinal);
        Assert.Contains("pnet trains on 12x12", e.Message, StringComparison.Ordinal);

        var bad = Path.Combine(Root, "bad.ckpt");
        File.WriteAllText(bad, "not a checkpoint");
        var c = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Read(bad));
        Assert.Contains("bad.ckpt", c.Message, StringComparison.Ordinal);

        var o = Assert.Throws<InvalidDataException>(() => TrainingRun.Open(Root));
        Assert.Contains("options.json", o.Message, StringComparison.Ordinal);
    }

    internal sealed class Recorder(List<string> messages) : ITrainingObserver
    {
        public void OnBatch(int epoch, int epochs, int batch, int batches, double loss)
        {
        }

        public void OnEpoch(EpochMetrics metrics)
        {
        }

        public void OnMessage(string message) => messages.Add(message);
    }

    private sealed class CancelAt(int epoch, int batch, CancellationTokenSource cts) : ITrainingObserver
    {
        public void OnBatch(int e, int epochs, int b, int batches, double loss)
        {
            if (e == epoch && b == batch)
            {
                cts.Cancel();
            }
        }

        public void OnEpoch(EpochMetrics metrics)
        {
        }

        public void OnMessage(string message)
        {
        }
    }
}
