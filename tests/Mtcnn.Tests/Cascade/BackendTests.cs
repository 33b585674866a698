using Mtcnn.Inference;
using Mtcnn.TestSupport;

namespace Mtcnn.Tests.Cascade;

/// <summary>
/// <see cref="INetworkBackend"/>: a detector whose networks run behind the interface (here the built-in kernels
/// themselves, so any difference is the interface's) gives the same detections as the built-in path.
/// </summary>
public sealed class BackendTests
{
    /// <summary>The scalar kernels behind the backend interface, counting calls.</summary>
    private sealed class KernelBackend(MtcnnWeights weights) : INetworkBackend
    {
        private readonly Networks nets = new(weights, SimdLevel.Scalar);

        public int PNetCalls;

        public int CropCalls;
        public int LargestBatch;

        public string Name => "kernels behind the interface";

        public MtcnnWeights Weights => weights;

        public void RunPNet(ReadOnlySpan<float> input, int height, int width, Span<float> output)
        {
            Interlocked.Increment(ref PNetCalls);

            int scratch = nets.P.ScratchSize(height, width);
            var a = new float[scratch];
            var (oh, ow, row) = nets.P.Forward(input, height, width, a, new float[scratch]);
            Assert.Equal((oh, ow), FaceDetector.PNetOutputSize(height, width, weights.Variant));
            int cs = nets.P.Head.OutputChannelStride, c = nets.P.ClassOutputs + 4;
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    a.AsSpan(((i * row) + j) * cs, c).CopyTo(output.Slice(((i * ow) + j) * c, c));
                }
            }
        }

        public void RunCrops(CascadeStage stage, ReadOnlySpan<float> crops, int count, Span<float> output, int stride)
        {
            Interlocked.Increment(ref CropCalls);
            LargestBatch = Math.Max(LargestBatch, count);
            var net = stage == CascadeStage.RNet ? nets.R : nets.O;
            var own = new float[count * net.OutputStride];
            net.Forward(crops, count, new float[net.ScratchPerCrop], new float[net.ScratchPerCrop], new float[count * net.FlatLength],
                new float[net.DenseSize(count)], own);
            int values = net.ClassOutputs + 4 + (stage == CascadeStage.ONet ? 10 : 0);
            Assert.True(stride >= values);
            for (int i = 0; i < count; i++)
            {
                own.AsSpan(i * net.OutputStride, values).CopyTo(output.Slice(i * stride, values));
            }
        }
    }

    [Theory]
    [InlineData("tests/fixtures/grace_hopper_512x512.jpg", 1)]
    [InlineData("tests/fixtures/grace_hopper_512x512.jpg", 2)]
    [InlineData("samples/astronaut.png", 1)]
    public void A_backend_gives_the_built_in_detections(string file, int threads)
    {
        var image = ReferenceDetectionTests.DecodeRgb(Path.Combine(SharedData.RepoRoot, file));
        var options = DetectorOptions.Default with { MaxDegreeOfParallelism = threads, CollectStageCandidates = true };
        var builtIn = new FaceDetector(options, MtcnnWeights.Default, SimdLevel.Scalar).Detect(image);
        var backend = new KernelBackend(MtcnnWeights.Default);
        var detector = new FaceDetector(options, backend);
        Assert.Same(backend, detector.Backend);
        var viaBackend = detector.Detect(image);

        Assert.Equal(builtIn.PNetCandidates.Count, viaBackend.PNetCandidates.Count);
        Assert.Equal(builtIn.RNetCandidates.Count, viaBackend.RNetCandidates.Count);
        Assert.Equal(builtIn.Faces.Count, viaBackend.Faces.Count);
        for (int i = 0; i < builtIn.Faces.Count; i++)
        {
            Assert.Equal(builtIn.Faces[i].Box, viaBackend.Faces[i].Box);
            Assert.Equal(builtIn.Faces[i].Score, viaBackend.Faces[i].Score);
            Assert.Equal(builtIn.Faces[i].Landmarks, viaBackend.Faces[i].Landmarks);
        }

        // Whole pyramid levels and one batch of crops per stage.
        Assert.Equal(CountLevels(image, options), backend.PNetCalls);
        Assert.Equal(2, backend.CropCalls);
        Assert.Equal(builtIn.PNetCandidates.Count, backend.LargestBatch);
    }

    [Theory]
    [InlineData(CascadeStage.ONet)]
    [InlineData(CascadeStage.RNet)]
    public void DetectBatch_on_a_backend_sends_each_stage_of_the_whole_batch_in_one_call(CascadeStage last)
    {
        var hopper = ReferenceDetectionTests.DecodeRgb(Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg"));
        var astronaut = ReferenceDetectionTests.DecodeRgb(Path.Combine(SharedData.RepoRoot, "samples", "astronaut.png"));
        var blank = new ImageData(new byte[64 * 48 * 3], 64, 48, PixelFormat.Rgb24); // no candidates at all
        ImageData[] images = [hopper, blank, astronaut, hopper];
        var options = DetectorOptions.Default with { LastStage = last, CollectStageCandidates = true };
        var expected = images.Select(i => new FaceDetector(options, MtcnnWeights.Default, SimdLevel.Scalar).Detect(i)).ToArray();

        var backend = new KernelBackend(MtcnnWeights.Default);
        var detector = new FaceDetector(options, backend);
        var results = detector.DetectBatch(images);
        for (int i = 0; i < images.Length; i++)
        {
            Assert.Equal(Describe(expected[i]), Describe(results[i]));
        }

        Assert.Equal(last == CascadeStage.ONet ? 2 : 1, backend.CropCalls);
        Assert.Equal(last == CascadeStage.ONet ? 2 : 1, detector.LastBatchCalls);
        Assert.Equal(expected.Sum(e => e.PNetCandidates.Count), backend.LargestBatch);
    }

    [Fact]
    public void A_failing_image_of_a_backend_batch_does_not_hold_up_the_others()
    {
        var hopper = ReferenceDetectionTests.DecodeRgb(Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg"));
        var options = DetectorOptions.Default with { MaxImagePixels = 300_000 };
        var big = new ImageData(new byte[600 * 600 * 3], 600, 600, PixelFormat.Rgb24);
        var detector = new FaceDetector(options, new KernelBackend(MtcnnWeights.Default));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => detector.DetectBatch([hopper, big, hopper]));
        Assert.Contains("MaxImagePixels", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, detector.LastBatchCalls);
    }

    private static string Describe(DetectionResult r) => string.Join(";", r.Faces.Select(f => $"{f.Box} {f.Score:R} {f.Landmarks}"))
        + "|" + string.Join(";", r.FinalCandidates.Select(c => $"{c.Box} {c.Score:R}"));

    [Fact]
    public void A_backend_is_required()
    {
        Assert.Throws<ArgumentNullException>(() => new FaceDetector(null, (INetworkBackend)null!));
    }

    private static int CountLevels(ImageData image, DetectorOptions options)
    {
        var levels = new List<Mtcnn.Cascade.PyramidLevel>();
        Mtcnn.Cascade.CascadeRunner.PlanPyramid(image.Height, image.Width, options, levels, null);
        return levels.Count;
    }
}
