using System.Text.Json;
using Mtcnn.TestSupport;

namespace Mtcnn.Cli.Tests;

/// <summary>`mtcnn detect` on folders, stdin lists and batches with failures, run as a real process.</summary>
public sealed class BatchTests
{
    [Fact]
    public void Folder_reports_images_with_relative_names_in_sorted_order_and_recursive_descends()
    {
        using var temp = CliHarness.TempFolder();
        temp.CopySample("photos/b.png");
        temp.CopySample("photos/A.PNG");
        temp.CopySample("photos/sub/c.jpeg.png");
        temp.CopySample("photos/sub/deeper/d.png");
        File.WriteAllText(temp.File("photos/notes.txt"), "not an image");
        Schema.WriteBlank(temp.File("photos/sub/blank.bmp.png"), 64, 48);

        var flat = CliHarness.Run(["detect", "photos", "-f", "jsonl"], workingDirectory: temp.Path);
        var deep = CliHarness.Run(["detect", "photos/", "--recursive", "-f", "jsonl", "--quiet"], workingDirectory: temp.Path);

        Assert.True(flat.ExitCode == 0, flat.ToString());
        Assert.Equal(["photos/A.PNG", "photos/b.png"], flat.JsonLines.Select(r => r.GetProperty("image").GetString()!).ToArray());
        Assert.True(deep.ExitCode == 0, deep.ToString());
        Assert.Equal(
            ["photos/A.PNG", "photos/b.png", "photos/sub/blank.bmp.png", "photos/sub/c.jpeg.png", "photos/sub/deeper/d.png"],
            deep.JsonLines.Select(r => r.GetProperty("image").GetString()!).ToArray());
        foreach (var record in deep.JsonLines)
        {
            var faces = Schema.AssertImageRecord(record, landmarks: true);
            Assert.Equal(record.GetProperty("image").GetString()!.Contains("blank", StringComparison.Ordinal) ? 0 : 1, faces.Length);
        }

        // Summary on stderr for several images, unless --quiet.
        Assert.Contains("mtcnn: 2 images, 2 faces, 0 failed", flat.StdErr, StringComparison.Ordinal);
        Assert.Equal("", deep.StdErr);
    }

    [Fact]
    public void Output_mirrors_folders_and_names_files_png()
    {
        using var temp = CliHarness.TempFolder();
        temp.CopySample("in/x.png");
        temp.CopySample("in/sub/y.png");
        File.Copy(CliHarness.Sample, temp.File("in/sub/y.jpg"));

        var run = CliHarness.Run(["detect", "in", "-r", "--output", "out", "-q"], workingDirectory: temp.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        var written = Directory.GetFiles(Path.Combine(temp.Path, "out"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(temp.Path, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["out/sub/y.png", "out/sub/y_2.png", "out/x.png"], written);
    }

    [Fact]
    public void Stdin_list_reads_one_path_per_line_and_ignores_blank_lines()
    {
        using var temp = CliHarness.TempFolder();
        temp.CopySample("one.png");
        temp.CopySample("dir/two.png");
        Schema.WriteBlank(temp.File("blank.png"), 40, 30);

        var run = CliHarness.Run(["detect", "-", "--format", "jsonl"], stdin: "one.png\n\n   \ndir\r\nblank.png\n", workingDirectory: temp.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        var records = run.JsonLines;
        Assert.Equal(["one.png", "dir/two.png", "blank.png"], records.Select(r => r.GetProperty("image").GetString()!).ToArray());
        Assert.Equal([1, 1, 0], records.Select(r => Schema.AssertImageRecord(r, landmarks: true).Length).ToArray());
        Assert.Equal(40, records[2].GetProperty("width").GetInt32());
    }

    [Fact]
    public void Corrupt_and_missing_files_give_error_records_while_the_batch_continues()
    {
        using var temp = CliHarness.TempFolder();
        temp.CopySample("a.png");
        File.WriteAllBytes(temp.File("corrupt.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5, 6, 7, 8]);
        File.WriteAllText(temp.File("text.png"), "hello, this is not an image");
        temp.CopySample("z.png");

        var run = CliHarness.Run(["detect", "a.png", "corrupt.jpg", "missing.jpg", "text.png", "z.png", "-f", "jsonl"], workingDirectory: temp.Path);

        Assert.Equal(1, run.ExitCode);
        var records = run.JsonLines;
        Assert.Equal(5, records.Length);
        Assert.Single(Schema.AssertImageRecord(records[0], landmarks: true));
        Schema.AssertErrorRecord(records[1], "corrupt.jpg");
        Assert.Contains("not found", Schema.AssertErrorRecord(records[2], "missing.jpg"), StringComparison.OrdinalIgnoreCase);
        Schema.AssertErrorRecord(records[3], "text.png");
        Assert.Single(Schema.AssertImageRecord(records[4], landmarks: true));

        // One line per failed image on stderr, plus the summary; never a stack trace.
        var errors = run.ErrorLines.Where(l => l.StartsWith("mtcnn: error: ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, errors.Length);
        Assert.StartsWith("mtcnn: error: corrupt.jpg: ", errors[0], StringComparison.Ordinal);
        Assert.StartsWith("mtcnn: error: missing.jpg: ", errors[1], StringComparison.Ordinal);
        Assert.StartsWith("mtcnn: error: text.png: ", errors[2], StringComparison.Ordinal);
        Assert.Contains("5 images, 2 faces, 3 failed", run.StdErr, StringComparison.Ordinal);
        Schema.AssertNoStackTrace(run.StdErr);
    }

    [Fact]
    public void Errors_appear_in_every_format()
    {
        using var temp = CliHarness.TempFolder();
        temp.CopySample("a.png");
        Schema.WriteBlank(temp.File("blank.png"), 50, 40);
        string[] inputs = ["a.png", "missing.png", "blank.png"];

        var json = CliHarness.Run(["detect", .. inputs, "-f", "json", "-q"], workingDirectory: temp.Path);
        var csv = CliHarness.Run(["detect", .. inputs, "-f", "csv", "-q"], workingDirectory: temp.Path);
        var text = CliHarness.Run(["detect", .. inputs, "-q"], workingDirectory: temp.Path);

        Assert.Equal(1, json.ExitCode);
        using var doc = JsonDocument.Parse(json.StdOut);
        var records = doc.RootElement.EnumerateArray().ToArray();
        Assert.Equal(3, records.Length);
        Schema.AssertImageRecord(records[0], landmarks: true);
        Schema.AssertErrorRecord(records[1], "missing.png");
        Assert.Empty(Schema.AssertImageRecord(records[2], landmarks: true));

        // CSV: a face row, an error row, and an empty-face row for the image without faces.
        Assert.Equal(1, csv.ExitCode);
        Assert.Equal(4, csv.Lines.Length);
        Assert.StartsWith("a.png,512,512,0,", csv.Lines[1], StringComparison.Ordinal);
        Assert.StartsWith("missing.png,,,,,,,,,,,,,,,,,,,", csv.Lines[2], StringComparison.Ordinal);
        Assert.Contains("not found", csv.Lines[2], StringComparison.OrdinalIgnoreCase);
        Assert.Equal("blank.png,50,40" + new string(',', 17), csv.Lines[3]);

        Assert.Equal(1, text.ExitCode);
        Assert.Contains("missing.png: error: ", text.StdOut, StringComparison.Ordinal);
        Assert.Contains("blank.png: 0 faces (50x40)", text.StdOut, StringComparison.Ordinal);
        Assert.Single(text.ErrorLines);
        Schema.AssertNoStackTrace(text.StdErr);
    }

    [Fact]
    public void Parallel_batch_keeps_input_order()
    {
        using var temp = CliHarness.TempFolder();
        var names = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            // Alternate slow (the sample) and fast (tiny blank) images so that workers finish out of order.
            string name = $"img{11 - i:00}.png";
            if (i % 2 == 0)
            {
                temp.CopySample(name);
            }
            else
            {
                Schema.WriteBlank(temp.File(name), 16 + i, 16);
            }

            names.Add(name);
        }

        var run = CliHarness.Run(["detect", .. names, "-f", "jsonl", "--threads", "2"], workingDirectory: temp.Path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(names, run.JsonLines.Select(r => r.GetProperty("image").GetString()!).ToList());
        Assert.Contains("12 images, 6 faces, 0 failed", run.StdErr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Max_faces_keeps_the_best_faces_of_a_group_photo()
    {
        string photo = SharedData.Require("data/images/2008_001009.jpg");

        var all = CliHarness.Run(["detect", photo, "-f", "jsonl"]);
        var one = CliHarness.Run(["detect", photo, "-f", "jsonl", "--max-faces", "1"]);

        var allFaces = Schema.AssertImageRecord(all.JsonLines[0], landmarks: true);
        var oneFace = Assert.Single(Schema.AssertImageRecord(one.JsonLines[0], landmarks: true));
        Assert.True(allFaces.Length >= 2, all.StdOut);
        Assert.Equal(allFaces[0].GetRawText(), oneFace.GetRawText());
    }
}
