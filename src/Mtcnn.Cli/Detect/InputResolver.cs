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
internal sealed record InputItem(string Path, string OutputName);

/// <summary>
/// Expands the <c>detect</c> arguments into a list of images, in argument order: a file is taken as it is (whatever its
/// extension: the format is read from the content), a folder contributes its images (by extension, case-insensitive)
/// in ordinal order of their relative paths (descending into subfolders with <c>recursive</c>; hidden entries are
/// skipped), and <c>-</c> reads one path per line from stdin (blank lines ignored), each treated like an argument.
/// A path that does not exist is kept so that it is reported as a failed image.
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
            items.Add(new InputItem(argument, UniqueOutputName(Path.GetFileName(argument.TrimEnd('/', Path.DirectorySeparatorChar)), outputNames)));
            return;
        }

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = recursive,
            IgnoreInaccessible = true,
            MatchCasing = MatchCasing.CaseInsensitive,
        };
        var relative = Directory.EnumerateFiles(argument, "*", options)
            .Where(HasImageExtension)
            .Select(f => Path.GetRelativePath(argument, f).Replace(Path.DirectorySeparatorChar, '/'))
            .OrderBy(r => r, StringComparer.Ordinal)
            .ToList();
        if (relative.Count == 0)
        {
            warn(recursive
                ? $"warning: {argument}: no images found (looked for {string.Join(' ', ImageExtensions)})"
                : $"warning: {argument}: no images found (looked for {string.Join(' ', ImageExtensions)}; use --recursive to descend into subfolders)");
        }

        foreach (string r in relative)
        {
            items.Add(new InputItem(Path.Join(argument, r), UniqueOutputName(r, outputNames)));
        }
    }

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
