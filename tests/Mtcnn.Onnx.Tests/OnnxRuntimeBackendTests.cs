using Mtcnn.Imaging;
using Mtcnn.OnnxRuntime;
using Mtcnn.TestSupport;
using Xunit.Abstractions;

namespace Mtcnn.Onnx.Tests;

/// <summary>
/// <see cref="OnnxRuntimeBackend"/>: the same faces as the built-in kernels on the fixture photos (and ../shared's
/// photos when present), within the stated tolerance; the provider rules.
/// </summary>
public sealed class OnnxRuntimeBackendTests(ITestOutputHelper output)
{
    // ONNX Runtime's kernels sum in another order than ours: outputs differ by about 1e-6, so a window whose score sits
    // on a threshold can land on the other side; the faces themselves agree to these bounds.
    private const double BoxTolerance = 0.01;       // pixels
    private const double ScoreTolerance = 1e-4;
    private const double LandmarkTolerance = 0.01;  // pixels

    public static TheoryData<string> Photos()
    {
        var data = new TheoryData<string> { "tests/fixtures/grace_hopper_512x512.jpg", "samples/astronaut.png" };
        foreach (string name in new[] { "2007_007763.jpg", "2008_001009.jpg", "2008_002079.jpg" })
        {
            data.Add("shared:" + name);
        }

        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Photos))]
    public void Gives_the_built_in_faces(string photo)
    {
        string path = photo.StartsWith("shared:", StringComparison.Ordinal)
            ? SharedData.Require("data/images/" + photo["shared:".Length..])
            : Path.Combine(SharedData.RepoRoot, photo);
        var image = ImageLoader.Load(path).Image;
        using var backend = OnnxRuntimeBackend.Create();
        foreach (int threads in new[] { 1, 2 })
        {
            var options = DetectorOptions.Default with { MaxDegreeOfParallelism = threads };
            var expected = new FaceDetector(options).Detect(image);
            var actual = new FaceDetector(options, backend).Detect(image);
            Assert.Equal(expected.Faces.Count, actual.Faces.Count);
            double box = 0, score = 0, mark = 0;
            for (int i = 0; i < expected.Faces.Count; i++)
            {
                var e = expected.Faces[i];
                var a = actual.Faces[i];
                box = Math.Max(box, new[] { e.Box.X1 - a.Box.X1, e.Box.Y1 - a.Box.Y1, e.Box.X2 - a.Box.X2, e.Box.Y2 - a.Box.Y2 }.Max(Math.Abs));
                score = Math.Max(score, Math.Abs(e.Score - a.Score));
                for (int k = 0; k < FaceLandmarks.Count; k++)
                {
                    mark = Math.Max(mark, Math.Max(Math.Abs(e.Landmarks[k].X - a.Landmarks[k].X), Math.Abs(e.Landmarks[k].Y - a.Landmarks[k].Y)));
                }
            }

            output.WriteLine($"{photo} threads {threads}: {expected.Faces.Count} faces; max |diff| box {box:E2} px, score {score:E2}, landmarks {mark:E2} px");
            Assert.True(box <= BoxTolerance && score <= ScoreTolerance && mark <= LandmarkTolerance, $"{photo}: box {box}, score {score}, landmarks {mark}");
        }
    }

    [Fact]
    public void DetectBatch_batches_the_crops_of_all_images_and_gives_each_images_faces()
    {
        ImageData[] images =
        [
            ImageLoader.Load(Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg")).Image,
            ImageLoader.Load(Path.Combine(SharedData.RepoRoot, "samples", "astronaut.png")).Image,
            new ImageData(new byte[80 * 60 * 3], 80, 60, PixelFormat.Rgb24),
        ];
        using var backend = OnnxRuntimeBackend.Create();
        var detector = new FaceDetector(DetectorOptions.Default, backend);
        var batch = detector.DetectBatch(images);
        for (int i = 0; i < images.Length; i++)
        {
            var single = detector.Detect(images[i]);
            Assert.Equal(single.Faces.Count, batch[i].Faces.Count);
            for (int f = 0; f < single.Faces.Count; f++)
            {
                Assert.True(single.Faces[f].Box.IntersectionOverUnion(batch[i].Faces[f].Box) > 0.9999f);
                Assert.Equal(single.Faces[f].Score, batch[i].Faces[f].Score, 1e-5f);
            }
        }
    }

    [Fact]
    public void An_explicit_cuda_request_on_a_cpu_build_is_one_clear_error_and_auto_falls_back_with_a_warning()
    {
        Skip.If(OnnxRuntimeBackend.AvailableProviders().Contains("CUDAExecutionProvider"), "this ONNX Runtime build has CUDA");
        var e = Assert.Throws<ExecutionProviderException>(() => OnnxRuntimeBackend.Create(null, new OnnxRuntimeBackendOptions { Provider = ExecutionProvider.Cuda }));
        Assert.StartsWith("execution provider cuda: the CUDA execution provider is not in this ONNX Runtime build (CPUExecutionProvider", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);

        var warnings = new List<string>();
        using var backend = OnnxRuntimeBackend.Create(null, new OnnxRuntimeBackendOptions { Provider = ExecutionProvider.Auto }, warnings.Add);
        Assert.Equal(ExecutionProvider.Cpu, backend.Provider);
        Assert.Equal("onnxruntime (CPU)", backend.Name);
        var warning = Assert.Single(warnings);
        Assert.EndsWith("; using the CPU.", warning, StringComparison.Ordinal);
    }
}
