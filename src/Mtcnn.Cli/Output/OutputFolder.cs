namespace Mtcnn.Cli.Output;

/// <summary>
/// Checks an output folder once, before any work: it is created as needed and must be writable, so that a wrong
/// <c>--output</c> is one clear error up front instead of a failure for every image.
/// </summary>
internal static class OutputFolder
{
    /// <summary>Creates <paramref name="folder"/> if needed and checks that a file can be written in it.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="option">The option that named it, for the message (e.g. <c>--output</c>).</param>
    /// <exception cref="CliFailureException">The path is a file, or the folder cannot be created or written.</exception>
    public static void Prepare(string folder, string option)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (File.Exists(folder))
        {
            throw new CliFailureException($"{option}: '{folder}' is a file; give a folder (it is created if needed).");
        }

        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliFailureException($"{option}: cannot create the folder '{folder}': {Reason(e)}", e);
        }

        string probe = Path.Combine(folder, $".mtcnn-write-check-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliFailureException($"{option}: cannot write into the folder '{folder}': {Reason(e)}", e);
        }
    }

    private static string Reason(Exception e) =>
        e is UnauthorizedAccessException ? "permission denied." : CliApp.OneLine(e.Message);
}
