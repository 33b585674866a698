using SkiaSharp;

namespace Mtcnn.Benchmarks;

/// <summary>
/// Benchmark inputs: ordinary photos (1 to 24 faces) scaled to the benchmark sizes. Uses ../shared/data/images when
/// present (five photos, as the speed target in the detector issue), else the bundled public-domain sample.
/// </summary>
internal static class BenchImages
{
    public static readonly string[] PhotoNames = ["astronaut.png", "faceapi_faces.jpg", "2007_007763.jpg", "2008_002079.jpg", "reference_mid.png"];

    public static IReadOnlyList<string> Sources()
    {
        string? repo = FindRepo();
        var shared = repo is null ? null : Path.Combine(repo, "..", "shared", "data", "images");
        if (shared is not null && PhotoNames.All(n => File.Exists(Path.Combine(shared, n))))
        {
            return PhotoNames.Select(n => Path.GetFullPath(Path.Combine(shared, n))).ToArray();
        }

        string sample = Path.Combine(repo ?? ".", "samples", "astronaut.png");
        return [sample];
    }

    /// <summary>Decodes a photo and scales it (high-quality filtering) to exactly width x height, RGB24.</summary>
    public static ImageData Load(string path, int width, int height)
    {
        using var src = SKBitmap.Decode(path) ?? throw new InvalidOperationException("cannot decode " + path);
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var scaled = src.Resize(info, new SKSamplingOptions(SKCubicResampler.Mitchell)) ?? throw new InvalidOperationException("cannot resize " + path);
        var rgba = scaled.GetPixelSpan();
        var rgb = new byte[width * height * 3];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgb[i] = rgba[j];
            rgb[i + 1] = rgba[j + 1];
            rgb[i + 2] = rgba[j + 2];
        }

        return new ImageData(rgb, width, height, PixelFormat.Rgb24);
    }

    private static string? FindRepo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Mtcnn.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? (File.Exists("Mtcnn.slnx") ? Directory.GetCurrentDirectory() : null);
    }
}
