using Mtcnn.Alignment;
using Mtcnn.Cli.Align;
using Mtcnn.Cli.Detect;
using Mtcnn.Cli.Output;
using Mtcnn.Cluster;
using Mtcnn.Imaging;

namespace Mtcnn.Cli.Cluster;

/// <summary>
/// A silo's processor for <c>mtcnn cluster</c> jobs: decodes and detects each input with the same code as
/// <c>mtcnn detect</c> (<see cref="DetectPipeline"/>) and formats it with the same JSON Lines writer
/// (<see cref="JsonResultWriter.FormatLine"/>), so records match <c>detect --format jsonl</c> byte for byte. The align
/// task then aligns the faces with <c>mtcnn align</c>'s code, writes the crops into the job's crops folder and appends
/// <c>align</c>'s records to the input's record, one line each (the submitter splits them apart). One
/// <see cref="FaceDetector"/> per distinct job settings (normally one per silo), shared by all of the silo's workers.
/// </summary>
internal sealed class DetectPartitionProcessor : IPartitionProcessor
{
    private readonly Dictionary<string, (DetectPipeline Pipeline, ClusterJobSettings Settings, FaceCropMaker? Aligner)> pipelines = new(StringComparer.Ordinal);
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
        var (pipeline, s, aligner) = PipelineFor(settings);
        var records = new string[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var item = ClusterInput.Decode(inputs[i]);
            string open = baseDirectory.Length == 0 || Path.IsPathRooted(item.Path) || ImageInput.IsUrl(item.Path) ? item.Path : Path.Combine(baseDirectory, item.Path);
            if (aligner is null)
            {
                records[i] = JsonResultWriter.FormatLine(pipeline.Process(item, open, cancellationToken));
                continue;
            }

            // The align task: the detect record, then `mtcnn align`'s lines for the input (a record per crop, or one
            // record saying why there is none).
            AlignCommand.AlignOutcome? aligned = null;
            var outcome = pipeline.Process(item, open, (image, result) =>
            {
                aligned = AlignCommand.AlignFaces(item, image, result.Faces, aligner, s.CropsDirectory!);
                return aligned.Error;
            }, cancellationToken);
            var lines = AlignCommand.Lines(outcome.Error is not null || aligned is null
                ? AlignCommand.AlignOutcome.Failure(item.Path, outcome.Error ?? "not aligned")
                : aligned);
            records[i] = JsonResultWriter.FormatLine(outcome) + "\n" + string.Join('\n', lines);
        }

        return records;
    }

    private (DetectPipeline Pipeline, ClusterJobSettings Settings, FaceCropMaker? Aligner) PipelineFor(string settings)
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
            var crops = s.ToCropSpec();
            var pipeline = new DetectPipeline(detector, 1, null, null, new ImageLoadOptions { AllowIncompleteData = s.AllowIncomplete }, crops.Select);
            var aligner = s.Task == "align" ? crops.CreateMaker() : null;
            pipelines[settings] = (pipeline, s, aligner);
            return pipelines[settings];
        }
    }
}
