using System.Globalization;
using Mtcnn.Evaluation.Annotations;
using Mtcnn.Training.Cascade;
using Mtcnn.Training.Data;
using Mtcnn.Training.Data.Tests;
using Mtcnn.Training.Models;
using Mtcnn.Training.Training;

namespace Mtcnn.Training.Tests;

/// <summary>
/// Whole-cascade validation on images cut from the committed Grace Hopper photo: the validator's numbers, the held-out
/// split, a run that keeps its start when training makes it worse, frozen layers, and a cascade that trains O-Net alone.
/// </summary>
[Collection("torch")]
public sealed class CascadeValidationTests : IDisposable
{
    private readonly TrainingFixtures.Folder temp = new();

    private string Root => temp.Path;

    public void Dispose() => temp.Dispose();

    [Fact]
    public void The_validator_scores_the_detector_on_the_list_and_sees_moved_points()
    {
        // The fixture's annotation is the bundled detector's own face mapped into each crop, so it scores near perfect.
        var list = TrainingFixtures.HopperSet(Path.Combine(Root, "v"), count: 5);
        var validator = CascadeValidator.FromList(list, null, LineRange.All, threads: 1);
        Assert.Equal(5, validator.Count);
        var score = validator.Evaluate(MtcnnWeights.Default);
        Assert.Equal(5, score.Evaluated);
        Assert.Equal(5, score.Detected);
        Assert.Equal(1.0, score.DetectionRate);
        Assert.InRange(score.Nme, 0, 0.05);

        // The same images with every point moved 3 px right: the error grows by about 3 px / inter-ocular distance.
        var moved = Path.Combine(Root, "v", "moved.txt");
        File.WriteAllLines(moved, File.ReadAllLines(list).Select(line =>
        {
            var f = line.Split(' ');
            for (var k = 5; k < 15; k += 2)
            {
                f[k] = (float.Parse(f[k], CultureInfo.InvariantCulture) + 3).ToString("F3", CultureInfo.InvariantCulture);
            }

            return string.Join(' ', f);
        }));
        var worse = CascadeValidator.FromList(moved, null, LineRange.All, threads: 2).Evaluate(MtcnnWeights.Default);
        Assert.Equal(5, worse.Detected);
        Assert.True(worse.Nme > score.Nme + 0.1, $"NME {score.Nme} -> {worse.Nme}");

        // Lines select entries; an empty selection is an error naming the list.
        Assert.Equal(2, CascadeValidator.FromList(list, null, new LineRange(2, 3), 1).Count);
        var e = Assert.Throws<InvalidDataException>(() => CascadeValidator.FromList(list, null, new LineRange(50, 60), 1));
        Assert.Contains("hopper.txt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Held_out_images_are_chosen_by_the_seed_and_written_verbatim()
    {
        var list = Path.Combine(Root, "list.txt");
        var lines = Enumerable.Range(1, 400).Select(i => $"img/{i}.jpg 10 40 12 42 15 20 35 20 25 30 18 35 32 35").ToArray();
        File.WriteAllLines(list, lines);
        var (images, _) = new DataSources { Landmarks = list }.Load();
        var (training, heldOut) = CascadeValidator.HoldOut(images, list, 0.1, seed: 5, Path.Combine(Root, "a", "val.txt"));
        Assert.InRange(heldOut, 20, 60);
        Assert.Equal(400, training.Count + heldOut);
        Assert.Equal(Enumerable.Range(0, training.Count), training.Select(t => t.Index));
        var written = File.ReadAllLines(Path.Combine(Root, "a", "val.txt"));
        Assert.Equal(heldOut, written.Length);
        Assert.All(written, w => Assert.Contains(w, lines));
        var trainingLines = training.Select(t => t.LineNumber).ToHashSet();
        Assert.All(written, w => Assert.DoesNotContain(Array.IndexOf(lines, w) + 1, trainingLines));

        // The same seed gives the same split; another seed another one.
        var (again, _) = CascadeValidator.HoldOut(images, list, 0.1, seed: 5, Path.Combine(Root, "b", "val.txt"));
        Assert.Equal(training.Select(t => t.LineNumber), again.Select(t => t.LineNumber));
        Assert.Equal(written, File.ReadAllLines(Path.Combine(Root, "b", "val.txt")));
        var (other, _) = CascadeValidator.HoldOut(images, list, 0.1, seed: 6, Path.Combine(Root, "c", "val.txt"));
        Assert.NotEqual(training.Select(t => t.LineNumber), other.Select(t => t.LineNumber));
    }

    [Fact]
    public void Frozen_layers_stay_bit_identical_and_the_others_train()
    {
        var samples = Path.Combine(Root, "o.samples");
        TrainerTests.Synthetic(48, 96, 4).Write(samples);
        var options = new TrainOptions
        {
            Net = NetKind.ONet, Samples = samples, Init = "default", Epochs = 1, BatchSize = 32, LearningRate = 0.01,
            Threads = 1, Seed = 2, Freeze = ["trunk", "face"],
        };
        var result = TrainingRun.Create(options, Path.Combine(Root, "runs")).Run();
        var weights = MtcnnWeights.Read(File.ReadAllBytes(result.WeightsFile));
        foreach (var layer in new[] { "conv1", "conv4", "prelu4", "dense5", "prelu5", "dense6_1" })
        {
            foreach (var name in weights.Tensors.Keys.Where(k => k.StartsWith($"onet.{layer}.", StringComparison.Ordinal)))
            {
                Assert.Equal(MtcnnWeights.Default.Get(name).Data, weights.Get(name).Data);
            }
        }

        Assert.NotEqual(MtcnnWeights.Default.Get("onet.dense6_2.weight").Data, weights.Get("onet.dense6_2.weight").Data);
        Assert.NotEqual(MtcnnWeights.Default.Get("onet.dense6_3.weight").Data, weights.Get("onet.dense6_3.weight").Data);
    }

    [Fact]
    public void A_run_that_only_gets_worse_keeps_its_start_says_so_and_stops_early()
    {
        var list = TrainingFixtures.HopperSet(Path.Combine(Root, "v"), count: 4);
        var samples = Path.Combine(Root, "o.samples");
        TrainerTests.Synthetic(48, 64, 5).Write(samples);

        // A learning rate this large wrecks the landmark head in one step; the start must be what the run keeps.
        var options = new TrainOptions
        {
            Net = NetKind.ONet, Samples = samples, Init = "default", Epochs = 6, BatchSize = 32, LearningRate = 50,
            Optimizer = OptimizerKind.Sgd, Threads = 1, Seed = 2, Freeze = ["trunk", "face", "box"], ValLandmarks = list, Patience = 2,
        };
        var messages = new List<string>();
        var run = TrainingRun.Create(options, Path.Combine(Root, "runs"));
        var result = run.Run(new TrainerTests.Recorder(messages));
        Assert.True(result.Completed);
        Assert.True(result.StoppedEarly);
        Assert.Equal(2, result.History.Count);
        Assert.Equal(0, result.KeptEpoch);
        Assert.NotNull(result.Start);
        Assert.Equal(4, result.Start!.CascadeDetected);
        Assert.All(result.History, m => Assert.True(m.CascadeNme > result.Start.CascadeNme));
        Assert.Contains("kept the starting onet", result.Selection, StringComparison.Ordinal);
        Assert.Contains(messages, m => m.Contains("kept the starting onet", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("stopping before epoch 3", StringComparison.Ordinal));
        Assert.Equal(result.Selection + "\n", File.ReadAllText(Path.Combine(run.Folder, TrainingRun.SelectionFile)));

        // weights.safetensors is the start (the bundled O-Net); last.safetensors the wrecked last epoch.
        var kept = MtcnnWeights.Read(File.ReadAllBytes(result.WeightsFile));
        Assert.Equal(MtcnnWeights.Default.Get("onet.dense6_3.weight").Data, kept.Get("onet.dense6_3.weight").Data);
        var last = MtcnnWeights.Read(File.ReadAllBytes(Path.Combine(run.Folder, TrainingRun.LastWeightsFileName)));
        Assert.NotEqual(MtcnnWeights.Default.Get("onet.dense6_3.weight").Data, last.Get("onet.dense6_3.weight").Data);

        // metrics.csv: the start as epoch 0, then the epochs, each with its cascade score; the cascade plots exist.
        var rows = File.ReadAllLines(Path.Combine(run.Folder, TrainingRun.MetricsFile));
        Assert.Equal(EpochMetrics.CsvHeader, rows[0]);
        Assert.Equal(4, rows.Length);
        Assert.StartsWith("0,", rows[1], StringComparison.Ordinal);
        Assert.All(rows.Skip(1), r => Assert.Equal(4, EpochMetrics.FromCsv(r).CascadeEvaluated));
        Assert.All(TrainingPlots.CascadeFileNames, f => Assert.True(File.Exists(Path.Combine(run.Folder, f)), f));

        // Resuming the finished run trains nothing more and keeps the same choice.
        var again = TrainingRun.Open(run.Folder).Run();
        Assert.Equal(0, again.KeptEpoch);
        Assert.Equal(2, again.History.Count);
        Assert.Equal(result.Selection, again.Selection);
    }

    [Fact]
    public void A_cascade_that_trains_only_onet_keeps_pnet_and_rnet_and_validates_on_held_out_images()
    {
        var options = CascadeOptions.FineTuneRecipe("default") with
        {
            Sources = new DataSources { Landmarks = TrainingFixtures.HopperSet(Path.Combine(Root, "data"), count: 8) },
            Epochs = [1, 1, 2],
            BatchSizes = [64, 32, 16],
            ValidationFraction = 0.3,
            Threads = 1,
            Seed = 1,
        };
        var messages = new List<string>();
        var run = CascadeTraining.Create(options, Path.Combine(Root, "cascade"));
        var path = run.Run(new CascadeTrainingTests.Recorder(messages));
        Assert.NotNull(path);
        Assert.False(File.Exists(run.SamplesPath(NetKind.PNet)));
        Assert.False(File.Exists(run.SamplesPath(NetKind.RNet)));
        Assert.True(File.Exists(run.SamplesPath(NetKind.ONet)));
        Assert.Contains(messages, m => m.StartsWith("pnet: not trained", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("held out for whole-cascade validation", StringComparison.Ordinal));
        var held = File.ReadAllLines(run.HeldOutListPath);
        Assert.NotEmpty(held);

        var weights = MtcnnWeights.Read(File.ReadAllBytes(path));
        foreach (var name in weights.Tensors.Keys.Where(k => !k.StartsWith("onet.dense6_2", StringComparison.Ordinal) && !k.StartsWith("onet.dense6_3", StringComparison.Ordinal)))
        {
            Assert.Equal(MtcnnWeights.Default.Get(name).Data, weights.Get(name).Data);
        }

        var onet = TrainingRun.Open(run.RunPath(NetKind.ONet));
        Assert.Equal(run.HeldOutListPath, onet.Options.ValLandmarks);
        Assert.Equal(["trunk", "face"], onet.Options.Freeze);
        Assert.True(File.Exists(Path.Combine(onet.Folder, TrainingRun.SelectionFile)));
    }

    [Fact]
    public void Stage_subsets_need_trained_starting_weights()
    {
        var options = new CascadeOptions { Sources = new DataSources { Landmarks = "x.txt" }, Stages = [NetKind.ONet] };
        Assert.Contains("--init", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>((options with { Init = "default", Stages = [NetKind.ONet, NetKind.PNet] }).Validate);
        Assert.Throws<ArgumentException>((options with { Init = "default", ValidationFraction = 1 }).Validate);
        (options with { Init = "default" }).Validate();
    }
}

/// <summary>Heads trained on cached features of a frozen trunk: the same training as running the whole net, resumable exactly.</summary>
[Collection("torch")]
public sealed class FrozenTrunkCacheTests : IDisposable
{
    private readonly TrainingFixtures.Folder temp = new();

    public void Dispose() => temp.Dispose();

    private static TrainOptions Options(string samples) => new()
    {
        Net = NetKind.ONet, Samples = samples, Init = "default", Epochs = 3, BatchSize = 32, LearningRate = 0.003,
        Threads = 1, Seed = 4, Freeze = ["trunk", "face"], ValidationFraction = 0.2,
    };

    [Fact]
    public void Cached_features_train_the_heads_as_the_whole_net_does()
    {
        var samples = Path.Combine(temp.Path, "o.samples");
        TrainerTests.Synthetic(48, 160, 6).Write(samples);
        var messages = new List<string>();
        var cached = TrainingRun.Create(Options(samples), Path.Combine(temp.Path, "a")).Run(new TrainerTests.Recorder(messages));
        Assert.Contains(messages, m => m.Contains("the trunk is frozen", StringComparison.Ordinal));
        var whole = TrainingRun.Create(Options(samples) with { CacheFrozenTrunk = false }, Path.Combine(temp.Path, "b")).Run();
        var a = MtcnnWeights.Read(File.ReadAllBytes(cached.WeightsFile));
        var b = MtcnnWeights.Read(File.ReadAllBytes(whole.WeightsFile));
        foreach (var name in a.Tensors.Keys)
        {
            var x = a.Get(name).Data;
            var y = b.Get(name).Data;
            for (var i = 0; i < x.Length; i++)
            {
                Assert.True(Math.Abs(x[i] - y[i]) <= 1e-4f * (1 + Math.Abs(y[i])), $"{name}[{i}]: {x[i]} vs {y[i]}");
            }
        }

        Assert.NotEqual(MtcnnWeights.Default.Get("onet.dense6_3.weight").Data, a.Get("onet.dense6_3.weight").Data);
        for (var e = 0; e < 3; e++)
        {
            Assert.Equal(whole.History[e].TrainLoss, cached.History[e].TrainLoss, 1e-4);
            Assert.Equal(whole.History[e].ValLandmarkError, cached.History[e].ValLandmarkError, 1e-4);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_cached_run_resumes_to_the_same_bits(bool cache)
    {
        var samples = Path.Combine(temp.Path, "o.samples");
        TrainerTests.Synthetic(48, 160, 7).Write(samples);
        var straight = TrainingRun.Create(Options(samples) with { CacheFrozenTrunk = cache }, Path.Combine(temp.Path, "a")).Run();

        // The same run twice gives the same bits (the cached features are gathered into libtorch-aligned memory).
        var straight2 = TrainingRun.Create(Options(samples) with { CacheFrozenTrunk = cache }, Path.Combine(temp.Path, "c")).Run();
        Assert.Equal(File.ReadAllBytes(straight.WeightsFile), File.ReadAllBytes(straight2.WeightsFile));
        var interrupted = TrainingRun.Create(Options(samples) with { CacheFrozenTrunk = cache }, Path.Combine(temp.Path, "b"));
        using var cts = new CancellationTokenSource();
        Assert.False(interrupted.Run(new CancelInEpoch(2, cts), cts.Token).Completed);
        var resumed = TrainingRun.Open(interrupted.Folder).Run();
        static string[] Rows(TrainingResult r) => r.History.Select(m => (m with { Seconds = 0, SamplesPerSecond = 0 }).ToCsv()).ToArray();
        Assert.Equal(Rows(straight), Rows(resumed));
        Assert.Equal(File.ReadAllBytes(straight.WeightsFile), File.ReadAllBytes(resumed.WeightsFile));
    }

    private sealed class CancelInEpoch(int epoch, CancellationTokenSource cts) : ITrainingObserver
    {
        public void OnBatch(int e, int epochs, int batch, int batches, double loss)
        {
            if (e == epoch && batch == 2)
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
