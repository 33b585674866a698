using Mtcnn.Training.Cascade;
using Mtcnn.Training.Data;
using Mtcnn.Training.Data.Tests;
using Mtcnn.Training.Models;
using Mtcnn.Training.Training;

namespace Mtcnn.Training.Tests;

/// <summary>train-cascade on a tiny landmark fixture: every step runs, a stopped run resumes, a finished one is not redone.</summary>
[Collection("torch")]
public sealed class CascadeTrainingTests : IDisposable
{
    private readonly TrainingFixtures.Folder temp = new();

    private string Root => temp.Path;

    public void Dispose() => temp.Dispose();

    private CascadeOptions Options() => new()
    {
        Sources = new DataSources { Landmarks = TrainingFixtures.HopperSet(Path.Combine(Root, "data"), count: 6) },
        Epochs = [2, 1, 1],
        BatchSizes = [64, 32, 16],
        LearningRates = [0.003, 0.003, 0.003],
        Threads = 1,
        Seed = 3,
    };

    [Fact]
    public void A_stopped_cascade_resumes_and_a_finished_one_is_not_redone()
    {
        var options = Options();
        var run = CascadeTraining.Create(options, Path.Combine(Root, "cascade"));
        using var cts = new CancellationTokenSource();
        var stopped = run.Run(new StopIn(NetKind.RNet, cts), cts.Token);
        Assert.Null(stopped);
        Assert.True(File.Exists(run.SamplesPath(NetKind.PNet)));
        Assert.True(File.Exists(run.SamplesPath(NetKind.RNet)));
        Assert.True(File.Exists(Path.Combine(run.RunPath(NetKind.PNet), TrainingRun.WeightsFileName)));
        Assert.False(File.Exists(Path.Combine(run.Folder, CascadeTraining.WeightsFileName)));

        var reopened = CascadeTraining.Open(run.Folder);
        Assert.Equal(options.ToJson(), reopened.Options.ToJson());
        var messages = new List<string>();
        var weightsPath = reopened.Run(new Recorder(messages));
        Assert.NotNull(weightsPath);
        Assert.DoesNotContain(messages, m => m.StartsWith("preparing pnet", StringComparison.Ordinal));
        Assert.DoesNotContain(messages, m => m.StartsWith("preparing rnet", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("resuming rnet", StringComparison.Ordinal) || m.StartsWith("rnet:", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("preparing onet", StringComparison.Ordinal));

        // The result is a complete cascade: P-Net from the pnet run, R-Net from the rnet run, O-Net from the onet run.
        var weights = MtcnnWeights.Read(File.ReadAllBytes(weightsPath));
        var pnet = MtcnnWeights.Read(File.ReadAllBytes(Path.Combine(run.RunPath(NetKind.PNet), TrainingRun.WeightsFileName)));
        var rnet = MtcnnWeights.Read(File.ReadAllBytes(Path.Combine(run.RunPath(NetKind.RNet), TrainingRun.WeightsFileName)));
        Assert.Equal(pnet.Get("pnet.conv1.weight").Data, weights.Get("pnet.conv1.weight").Data);
        Assert.Equal(rnet.Get("rnet.conv1.weight").Data, weights.Get("rnet.conv1.weight").Data);
        Assert.NotEqual(MtcnnWeights.Default.Get("onet.conv1.weight").Data, weights.Get("onet.conv1.weight").Data);
        _ = new FaceDetector(weights: weights);

        // Running a finished cascade again trains nothing and leaves the weights as they are.
        var before = File.ReadAllBytes(weightsPath);
        messages.Clear();
        Assert.Equal(weightsPath, CascadeTraining.Open(run.Folder).Run(new Recorder(messages)));
        Assert.DoesNotContain(messages, m => m.StartsWith("preparing", StringComparison.Ordinal));
        Assert.Equal(before, File.ReadAllBytes(weightsPath));
    }

    [Fact]
    public void A_used_folder_and_bad_options_are_refused()
    {
        var target = Path.Combine(Root, "used");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "x"), "x");
        var e = Assert.Throws<IOException>(() => CascadeTraining.Create(Options(), target));
        Assert.Contains("--resume", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CascadeTraining.Create(Options() with { Epochs = [1, 1] }, Path.Combine(Root, "x")));
        var open = Assert.Throws<InvalidDataException>(() => CascadeTraining.Open(Root));
        Assert.Contains("cascade.json", open.Message, StringComparison.Ordinal);
    }

    private sealed class StopIn(NetKind net, CancellationTokenSource cts) : ICascadeObserver
    {
        private bool active;

        public void OnPreparation(NetKind stage, PreparationProgress progress)
        {
        }

        public void OnIssue(Mtcnn.Evaluation.Annotations.AnnotationIssue issue)
        {
        }

        public void OnBatch(int epoch, int epochs, int batch, int batches, double loss)
        {
            if (active)
            {
                cts.Cancel();
            }
        }

        public void OnEpoch(EpochMetrics metrics)
        {
        }

        public void OnMessage(string message) => active |= message.StartsWith(TrainingRun.NetName(net) + ":", StringComparison.Ordinal);
    }

    internal sealed class Recorder(List<string> messages) : ICascadeObserver
    {
        public void OnPreparation(NetKind stage, PreparationProgress progress)
        {
        }

        public void OnIssue(Mtcnn.Evaluation.Annotations.AnnotationIssue issue) => messages.Add(issue.ToString());

        public void OnBatch(int epoch, int epochs, int batch, int batches, double loss)
        {
        }

        public void OnEpoch(EpochMetrics metrics)
        {
        }

        public void OnMessage(string message) => messages.Add(message);
    }
}
