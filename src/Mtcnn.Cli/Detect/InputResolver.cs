namespace Mtcnn.Cli.Detect;

/// <summary>One image to process.</summary>
/// <param name="Path">
/// The path as the user gave it: a file argument's text, or a folder argument joined with the file's path relative to
/// that folder (e.g. <c>photos/a/b.jpg</c>), or an <c>http(s)://</c> URL. It is also the path the file is opened with.
/// </param>
/// <param name="OutputName">
/// The annotated image's path relative to <c>--output</c>: the file name for a file argument, the path relative to the
/// scanned folder for a folder's file, with the extension changed to <c>.png</c> (made unique with <c>_2</c>, <c>_3</c>, ...).
/// </param>
/// <param name="Error">
/// Set when the input is known to fail before it is opened (a folder of a scan that cannot be read, a file name that is
/// not valid UTF-8): the input is reported as failed with this message, in its place among the others.
/// </param>
internal sealed record InputItem(string Path, string OutputName, string? Error = null);

/// <summary>
/// Expands the <c>detect</c> arguments into a list of images, in argument order: a file is taken as it is (whatever its
/// extension: the format is read from the content), a folder contributes its images (by extension, case-insensitive)
/// in ordinal order of their relative paths (descending into subfolders with <c>recursive</c>; hidden entries are
/// skipped), and <c>-</c> reads one path per line from stdin (blank lines ignored), each treated like an argument.
/// A path that does not exist is kept so that it is reported as a failed image. Links to folders are followed, but
/// every folder is scanned once: a link that leads to a folder already scanned (a loop, or a second way to the same
/// folder) is skipped with a warning. A subfolder that cannot be read becomes a failed input naming it.
/// </summary>
internal static class InputResolver
{
    /// <summary>The extensions a folder scan picks up.</summary>
    public static IReadOnlyList<string> ImageExtensions { get; } = [".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif"];

    /// <summary>Expands the arguments.</summary>
    /// <param name="arguments">The INPUT arguments.</param>
    /// <param name="recursive">Descend into subfolders.</param>
    /// <param name="stdin">Where <c>-</c> reads paths from (read once).</param>
    /// <param name="warn">Receives warnings (a folder with no images).</param>
    public static List<InputItem> Resolve(IEnumerable<string> arguments, bool recursive, TextReader stdin, Action<string> warn)
    {
        var items = new List<InputItem>();
        var outputNames = new HashSet<string>(StringComparer.Ordinal);
        bool stdinRead = false;
        foreach (string argument in arguments)
        {
            if (argument == "-")
            {
                if (stdinRead)
                {
                    continue;
                }

                stdinRead = true;
                while (stdin.ReadLine() is { } line)
                {
                    string path = line.Trim();
                    if (path.Length > 0)
                    {
                        AddArgument(path, recursive, items, outputNames, warn);
                    }
                }
            }
            else
            {
                AddArgument(argument, recursive, items, outputNames, warn);
            }
        }

        return items;
    }

    /// <summary>True when the file name has one of <see cref="ImageExtensions"/> (case-insensitive).</summary>
    public static bool HasImageExtension(string path)
    {
        string ext = Path.GetExtension(path);
        return ImageExtensions.Any(e => string.Equals(e, ext, StringComparison.OrdinalIgnoreCase));
    }

    private static void AddArgument(string argument, bool recursive, List<InputItem> items, HashSet<string> outputNames, Action<string> warn)
    {
        if (ImageInput.IsUrl(argument))
        {
            items.Add(new InputItem(argument, UniqueOutputName(ImageInput.NameOf(argument), outputNames)));
            return;
        }

        if (!Directory.Exists(argument))
        {
            items.Add(new InputItem(argument, UniqueOutputName(Path.GetFileName(argument.TrimEnd('/', Path.DirectorySeparatorChar)), outputNames), UnopenableName(argument)));
            return;
        }

        var found = new List<(string Relative, string? Error)>();
        Scan(argument, recursive, found, warn);
        if (found.Count == 0)
        {
            warn(recursive
                ? $"warning: {argument}: no images found (looked for {string.Join(' ', ImageExtensions)})"
                : $"warning: {argument}: no images found (looked for {string.Join(' ', ImageExtensions)}; use --recursive to descend into subfolders)");
        }

        foreach (var (r, error) in found.OrderBy(f => f.Relative, StringComparer.Ordinal))
        {
            string path = r.Length == 0 ? argument : Path.Join(argument, r);
            items.Add(new InputItem(path, UniqueOutputName(r.Length == 0 ? Path.GetFileName(argument.TrimEnd('/', Path.DirectorySeparatorChar)) : r, outputNames), error));
        }
    }

    /// <summary>
    /// Collects the images under <paramref name="root"/> (paths relative to it, '/'-separated) and the folders that
    /// cannot be read (with their error), visiting each real folder once.
    /// </summary>
    private static void Scan(string root, bool recursive, List<(string Relative, string? Error)> found, Action<string> warn)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = false, ReturnSpecialDirectories = false };
        var scanned = new Dictionary<string, string>(StringComparer.Ordinal) { [FolderIdentity.Of(root)] = root };
        var pending = new Stack<string>();
        pending.Push(string.Empty);
        while (pending.Count > 0)
        {
            string relative = pending.Pop();
            string folder = relative.Length == 0 ? root : Path.Join(root, relative);
            List<FileSystemInfo> entries;
            try
            {
                entries = [.. new DirectoryInfo(folder).EnumerateFileSystemInfos("*", options)];
            }
            catch (UnauthorizedAccessException)
            {
                found.Add((relative, "cannot read the folder: permission denied"));
                continue;
            }
            catch (Exception e) when (e is IOException or System.Security.SecurityException)
            {
                found.Add((relative, $"cannot read the folder: {CliApp.OneLine(e.Message)}"));
                continue;
            }

            foreach (var entry in entries)
            {
                string entryRelative = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
                if (entry is DirectoryInfo)
                {
                    if (!recursive)
                    {
                        continue;
                    }

                    string identity = FolderIdentity.Of(entry.FullName);
                    if (scanned.TryGetValue(identity, out string? first))
                    {
                        warn($"warning: {Path.Join(root, entryRelative)}: skipped: it leads to {first}, which is already scanned (a link loop, or a second link to the same folder)");
                        continue;
                    }

                    scanned.Add(identity, Path.Join(root, entryRelative));
                    pending.Push(entryRelative);
                }
                else if (HasImageExtension(entry.Name))
                {
                    found.Add((entryRelative, UnopenableName(entry.FullName)));
                }
            }
        }
    }

    /// <summary>
    /// The error for a listed file that cannot be opened by its name: on Linux a name that is not valid UTF-8 is listed
    /// with U+FFFD in place of the bad bytes, and that name does not open the file.
    /// </summary>
    private static string? UnopenableName(string path) =>
        path.Contains('\uFFFD', StringComparison.Ordinal) && !File.Exists(path)
            ? "the file name is not valid UTF-8, so it cannot be opened by name (rename the file)"
            : null;

    private static string UniqueOutputName(string relative, HashSet<string> taken)
    {
        if (relative.Length == 0)
        {
            relative = "image";
        }

        string stem = Path.ChangeExtension(relative, null);
        string candidate = stem + ".png";
        for (int n = 2; !taken.Add(candidate); n++)
        {
            candidate = $"{stem}_{n}.png";
        }

        return candidate;
    }
}
