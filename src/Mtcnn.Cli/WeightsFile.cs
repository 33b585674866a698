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
    /// <param name="console">Where a warning about a file that cannot be verified goes (stderr); null: no warning.</param>
    /// <returns>The weights and the file's bytes.</returns>
    /// <exception cref="CliFailureException">
    /// The file cannot be read, is not a valid mtcnn-weights file, is damaged (a tensor does not match its recorded
    /// sha256) or holds non-finite values.
    /// </exception>
    public static (MtcnnWeights Weights, byte[] Bytes) Read(string file, string optionName, CliConsole? console)
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

        MtcnnWeights weights;
        try
        {
            weights = MtcnnWeights.Read(bytes);
        }
        catch (MtcnnFormatException e)
        {
            throw new CliFailureException($"{optionName}: '{file}' is not a valid weight file: {e.Message}", e);
        }

        if (weights.Integrity == WeightIntegrity.Unverified)
        {
            console?.WriteErrorLine($"{CliApp.Name}: warning: {optionName}: '{file}' cannot be verified: {MtcnnWeights.UnverifiedNote}.");
        }

        return (weights, bytes);
    }

    /// <summary>
    /// Resolves and reads <c>--weights</c>; null when the option was not given (the embedded weights, verified when
    /// first used). A file without tensor hashes loads with a warning on <paramref name="console"/>'s stderr.
    /// </summary>
    public static MtcnnWeights? Load(string? path, string optionName, CliConsole console) =>
        path is null ? null : Read(Resolve(path, optionName), optionName, console).Weights;
}
