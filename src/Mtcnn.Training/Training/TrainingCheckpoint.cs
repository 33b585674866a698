using System.Globalization;

namespace Mtcnn.Training.Training;

/// <summary>
/// The state a run needs to continue: the network's parameters, the optimiser's moments and step count, and the
/// number of finished epochs. Stored as a safetensors file (the project's weight-file writer, so the layout is the
/// one documented in docs/weights-format.md) with tensor names <c>model.{parameter}</c> and <c>optim.{m|v}.{parameter}</c>
/// and the counters in its metadata. Written atomically: a temporary file, then a rename over the old checkpoint,
/// so a kill at any moment leaves either the previous or the new checkpoint, never a torn one.
/// </summary>
public sealed class TrainingCheckpoint
{
    /// <summary>The checkpoint's file name in a run folder.</summary>
    public const string FileName = "checkpoint.ckpt";

    /// <summary>Creates a checkpoint.</summary>
    /// <param name="epoch">Finished epochs.</param>
    /// <param name="optimizerStep">Optimiser updates taken.</param>
    /// <param name="tensors">Model and optimiser tensors.</param>
    public TrainingCheckpoint(int epoch, long optimizerStep, IReadOnlyDictionary<string, (long[] Shape, float[] Values)> tensors)
    {
        Epoch = epoch;
        OptimizerStep = optimizerStep;
        Tensors = tensors;
    }

    /// <summary>Finished epochs.</summary>
    public int Epoch { get; }

    /// <summary>Optimiser updates taken.</summary>
    public long OptimizerStep { get; }

    /// <summary>The stored tensors by name.</summary>
    public IReadOnlyDictionary<string, (long[] Shape, float[] Values)> Tensors { get; }

    /// <summary>Writes the checkpoint atomically.</summary>
    /// <param name="path">The file.</param>
    /// <param name="variant">The architecture (recorded in the file).</param>
    public void Write(string path, ModelVariant variant)
    {
        var tensors = Tensors.Select(kv => new WeightTensor(kv.Key, kv.Value.Shape.Select(d => checked((int)d)).ToArray(), kv.Value.Values));
        var meta = new Dictionary<string, string>
        {
            ["content"] = "mtcnn-training-checkpoint",
            ["epoch"] = Epoch.ToString(CultureInfo.InvariantCulture),
            ["optimizer_step"] = OptimizerStep.ToString(CultureInfo.InvariantCulture),
        };
        var file = new MtcnnWeights(variant, tensors, meta);
        AtomicFile.Write(path, file.Write);
    }

    /// <summary>Reads a checkpoint.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The checkpoint.</returns>
    /// <exception cref="InvalidDataException">The file is missing, unreadable or not a training checkpoint.</exception>
    public static TrainingCheckpoint Read(string path)
    {
        MtcnnWeights file;
        try
        {
            using var stream = File.OpenRead(path);
            file = MtcnnWeights.Read(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or MtcnnFormatException)
        {
            throw new InvalidDataException($"{path}: cannot read the checkpoint: {e.Message}", e);
        }

        if (!file.Metadata.TryGetValue("content", out var content) || content != "mtcnn-training-checkpoint"
            || !int.TryParse(file.Metadata.GetValueOrDefault("epoch"), NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
            || !long.TryParse(file.Metadata.GetValueOrDefault("optimizer_step"), NumberStyles.None, CultureInfo.InvariantCulture, out var step))
        {
            throw new InvalidDataException($"{path}: not a training checkpoint (metadata 'content', 'epoch' or 'optimizer_step' missing)");
        }

        var tensors = file.Tensors.ToDictionary(kv => kv.Key, kv => (kv.Value.Shape.Select(d => (long)d).ToArray(), kv.Value.Data), StringComparer.Ordinal);
        return new TrainingCheckpoint(epoch, step, tensors);
    }
}

/// <summary>Writes files so that readers see the old or the new content, never a partial one.</summary>
public static class AtomicFile
{
    /// <summary>Writes through a temporary file in the same folder, flushes it to disk, then renames it over <paramref name="path"/>.</summary>
    /// <param name="path">The destination.</param>
    /// <param name="write">Writes the content.</param>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Writes text atomically.</summary>
    /// <param name="path">The destination.</param>
    /// <param name="text">The content (UTF-8).</param>
    public static void WriteText(string path, string text) =>
        Write(path, s =>
        {
            using var w = new StreamWriter(s, leaveOpen: true);
            w.Write(text);
        });
}
