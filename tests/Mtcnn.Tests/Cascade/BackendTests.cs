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
