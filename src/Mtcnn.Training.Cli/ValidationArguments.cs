using System.CommandLine;
using Mtcnn.Evaluation.Annotations;

namespace Mtcnn.Training.Cli;

/// <summary>
/// <c>--val-landmarks</c>, <c>--val-images</c> and <c>--val-lines</c>, shared by <c>train</c> and <c>train-cascade</c>:
/// a landmark list whose images validate the whole cascade after every epoch.
/// </summary>
internal sealed class ValidationArguments
{
    private readonly Option<string?> list;
    private readonly Option<string?> images = new("--val-images") { Description = "Folder of --val-landmarks' images (default: the list's folder)." };
    private readonly Option<string?> lines = new("--val-lines") { Description = "Lines of --val-landmarks to use, e.g. 9001:9500." };

    /// <summary>Creates the options.</summary>
    /// <param name="listDescription">What <c>--val-landmarks</c> does in this command.</param>
    public ValidationArguments(string listDescription)
    {
        list = new Option<string?>("--val-landmarks") { Description = listDescription };
    }

    /// <summary>Adds the three options to a command.</summary>
    /// <param name="command">The command.</param>
    public void AddTo(Command command)
    {
        command.Options.Add(list);
        command.Options.Add(images);
        command.Options.Add(lines);
    }

    /// <summary>The values given: the list and its images folder as full paths (or null), and the lines (all when not given).</summary>
    /// <param name="pr">The parse result.</param>
    /// <returns>The values.</returns>
    /// <exception cref="UsageException">--val-lines is not a range.</exception>
    public (string? List, string? Images, LineRange Lines) Read(ParseResult pr)
    {
        var range = LineRange.All;
        if (pr.GetValue(lines) is { } text && !LineRange.TryParse(text, out range))
        {
            throw new UsageException($"--val-lines: '{text}' is not a range like 9001:9500");
        }

        return (pr.GetValue(list) is { } l ? Path.GetFullPath(l) : null, pr.GetValue(images) is { } i ? Path.GetFullPath(i) : null, range);
    }
}
