using Mtcnn.Imaging;
using Mtcnn.TestSupport;

namespace Mtcnn.Imaging.Tests;

/// <summary>
/// Keeps the README's library quick start true: the code between the markers below is the README's block, verbatim;
/// one test compares the two texts and another runs the code on the bundled sample.
/// </summary>
public sealed class ReadmeQuickStartTests
{
    private static IReadOnlyList<Face> QuickStart(string inputPath, string outputPath, TextWriter console)
    {
        var Console = console; // the README writes to the real console
        // quickstart:begin
        var detector = new FaceDetector();                 // embedded original weights, paper defaults
        LoadedImage photo = ImageLoader.Load(inputPath);   // JPEG, PNG, BMP, WebP, GIF; EXIF orientation applied
        DetectionResult result = detector.Detect(photo.Image);

        foreach (Face face in result.Faces)                // best first
        {
            Console.WriteLine($"{face.Box} score {face.Score:F3}, left eye at {face.Landmarks.LeftEye}");
        }

        using AnnotatedImage annotated = new FaceAnnotator().Annotate(photo.Image, result);
        annotated.Save(outputPath);                        // .png, .jpg or .webp
        // quickstart:end
        return result.Faces;
    }

    private static string Between(string text, string begin, string end)
    {
        int a = text.IndexOf(begin, StringComparison.Ordinal);
        int b = text.IndexOf(end, StringComparison.Ordinal);
        Assert.True(a >= 0 && b > a, $"markers {begin} / {end} not found");
        return text[(a + begin.Length)..b];
    }

    private static string Normalise(IEnumerable<string> lines)
    {
        var list = lines.Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        int indent = list.Min(l => l.Length - l.TrimStart().Length);
        return string.Join("\n", list.Select(l => l[indent..]));
    }

    [Fact]
    public void Readme_block_is_the_tested_code()
    {
        string root = SharedData.RepoRoot;
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        string block = Between(readme, "<!-- quickstart:begin -->", "<!-- quickstart:end -->");
        var readmeLines = block.Split('\n').Where(l => !l.TrimStart().StartsWith("```", StringComparison.Ordinal));
        string source = File.ReadAllText(Path.Combine(root, "tests", "Mtcnn.Imaging.Tests", "ReadmeQuickStartTests.cs"));
        string code = Between(source, "// quickstart:" + "begin", "// quickstart:" + "end");
        Assert.Equal(Normalise(code.Split('\n')), Normalise(readmeLines));
    }

    [Fact]
    public void Readme_quick_start_finds_the_sample_face()
    {
        string input = Path.Combine(SharedData.RepoRoot, "samples", "astronaut.png");
        string output = Path.Combine(Path.GetTempPath(), $"mtcnn-quickstart-{Guid.NewGuid():N}.png");
        try
        {
            using var console = new StringWriter();
            var faces = QuickStart(input, output, console);
            var face = Assert.Single(faces);
            Assert.True(face.Box.IntersectionOverUnion(new BoundingBox(181.05f, 62.16f, 267.75f, 172.05f)) > 0.9f);
            Assert.Contains("score 1.000", console.ToString(), StringComparison.Ordinal);
            var saved = ImageLoader.Load(output);
            Assert.Equal((512, 512), (saved.Width, saved.Height));
        }
        finally
        {
            File.Delete(output);
        }
    }
}
