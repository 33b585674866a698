namespace Mtcnn.Cli;

/// <summary>Finds and reads weight files named on the command line.</summary>
internal static class WeightsFile
{
    /// <summary>
    /// Resolves a weights path: a file is used as it is; a folder must hold exactly one <c>*.safetensors</c> file.
    /// </summary>
    /// <param name="path">The path given.</param>
    /// <param name="optionName">The option or argument name for messages (e.g. <c>--weights</c>).</param>
    /// <returns>The file to read.</returns>
    /// <exception cref="UsageException">The path does not exist, or the folder holds no or several weight files.</exception>
    public static string Resolve(string path, string optionName)
    {
        if (File.Exists(path))
        {
            return path;
        }

        if (!Directory.Exists(path))
        {
            throw new UsageException($"{optionName}: '{path}' does not exist.");
        }

        var files = Directory.GetFiles(path, "*.safetensors").Order(StringComparer.Ordinal).ToArray();
        return files.Length switch
        {
            1 => files[0],
            0 => throw new UsageException($"{optionName}: the folder '{path}' holds no *.safetensors file."),
            _ => throw new UsageException($"{optionName}: the folder '{path}' holds several *.safetensors files ({string.Join(", ", files.Select(Path.GetFileName))}); name one."),
        };
    }

    /// <summary>Reads and parses a weight file.</summary>
    /// <param name="file">The file (see <see cref="Resolve"/>).</param>
    /// <param name="optionName">The option or argument name for messages.</param>
    /// <returns>The weights and the file's bytes.</returns>
    /// <exception cref="CliFailureException">The file cannot be read or is not a valid mtcnn-weights file.</exception>
    public static (MtcnnWeights Weights, byte[] Bytes) Read(string file, string optionName)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliFailureException($"{optionName}: cannot read '{file}': {e.Message}", e);
        }

        try
        {
            return (MtcnnWeights.Read(bytes), bytes);
        }
        catch (MtcnnFormatException e)
        {
            throw new CliFailureException($"{optionName}: '{file}' is not a valid weight file: {e.Message}", e);
        }
    }

    /// <summary>Resolves and reads <c>--weights</c>; null when the option was not given (the embedded weights).</summary>
    public static MtcnnWeights? Load(string? path, string optionName) =>
        path is null ? null : Read(Resolve(path, optionName), optionName).Weights;
}
