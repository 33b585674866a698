using Mtcnn.Cli.Detect;
using Mtcnn.Cli.Output;
using Mtcnn.Cluster;
using Mtcnn.Imaging;

namespace Mtcnn.Cli.Cluster;

/// <summary>
/// A silo's processor for <c>mtcnn cluster</c> jobs: decodes and detects each input with the same code as
/// <c>mtcnn detect</c> (<see cref="DetectPipeline"/>) and formats it with the same JSON Lines writer
/// (<see cref="JsonResultWriter.FormatLine"/>), so records match <c>detect --format jsonl</c> byte for byte. One
/// <see cref="FaceDetector"/> per distinct job settings (normally one per silo), shared by all of the silo's workers.
/// </summary>
internal sealed class DetectPartitionProcessor : IPartitionProcessor
{
    private readonly Dictionary<string, DetectPipeline> pipelines = new(StringComparer.Ordinal);
    private readonly Lock gate = new();
    private readonly CliConsole console;

    /// <summary>Creates the processor; warnings (e.g. an unverifiable weight file) go to <paramref name="console"/>'s stderr.</summary>
    public DetectPartitionProcessor(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        this.console = console;
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Process(string settings, string baseDirectory, IReadOnlyList<string> inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var pipeline = PipelineFor(settings);
        var records = new string[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string input = inputs[i];
            string open = baseDirectory.Length == 0 || Path.IsPathRooted(input) ? input : Path.Combine(baseDirectory, input);
            var outcome = pipeline.Process(new InputItem(input, string.Empty), open, cancellationToken);
            records[i] = JsonResultWriter.FormatLine(outcome);
        }

        return records;
    }

    private DetectPipeline PipelineFor(string settings)
    {
        lock (gate)
        {
            if (pipelines.TryGetValue(settings, out var existing))
            {
                return existing;
            }

            var s = ClusterJobSettings.Parse(settings);
            MtcnnWeights? weights;
            try
            {
                weights = WeightsFile.Load(s.Weights, "--weights", console);
            }
            catch (Exception e) when (e is UsageException or CliFailureException)
            {
                throw new InvalidOperationException(e.Message, e);
            }

            var detector = new FaceDetector(s.ToDetectorOptions(), weights);
            var pipeline = new DetectPipeline(detector, 1, null, null, new ImageLoadOptions { AllowIncompleteData = s.AllowIncomplete });
            pipelines[settings] = pipeline;
            return pipeline;
        }
    }
}
