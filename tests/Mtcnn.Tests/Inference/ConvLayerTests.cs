using Mtcnn.Inference;

namespace Mtcnn.Tests.Inference;

/// <summary>
/// The direct convolution kernels of every vector width against the scalar path (near: the scalar loop does not fuse
/// its multiply-adds), and against one another: each output lane is the same chain of FMAs in the same tap order at
/// every width, so 128, 256 and 512 bits give the same bits.
/// </summary>
public sealed class ConvLayerTests
{
    public static TheoryData<int, int, int, int, bool> Shapes() => new()
    {
        { 3, 3, 10, 13, true },   // P-Net conv1: tightly packed input, one block at 16 lanes, three at 4
        { 3, 10, 16, 21, true },  // P-Net conv2 shape, channel-padded input
        { 3, 28, 48, 9, true },   // R-Net conv2 shape: blocks in pairs and a single one at 128 bits
        { 1, 64, 40, 29, false }, // a fully connected layer over 29 samples, no PReLU
        { 2, 64, 64, 7, true },   // fewer positions than a block of eight: the tail alone
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Vector_widths_agree_bit_for_bit_and_with_the_scalar_path(int k, int cin, int cout, int width, bool prelu)
    {
        var rnd = new Random((k * 1000) + cin + cout);
        var weights = Enumerable.Range(0, cout * cin * k * k).Select(_ => (rnd.NextSingle() - 0.5f) * 0.4f).ToArray();
        var bias = Enumerable.Range(0, cout).Select(_ => rnd.NextSingle() - 0.5f).ToArray();
        var slopes = Enumerable.Range(0, cout).Select(_ => rnd.NextSingle() * 0.5f).ToArray();
        int height = k + 2;
        int count = ((height - k) * width) + width - k + 1;
        float[]? reference = null;
        float[]? vectorResult = null;
        foreach (var level in Enum.GetValues<SimdLevel>().Where(Simd.IsSupported))
        {
            int lanes = Simd.LanesOf(level);
            int sin = cin == 3 ? 3 : (cin + lanes - 1) / lanes * lanes;
            var layer = new ConvLayer(weights, bias, slopes, prelu, cout, cin, k, sin, level);
            var input = new float[height * width * sin];
            var data = new Random(5);
            for (int p = 0; p < height * width; p++)
            {
                for (int c = 0; c < cin; c++)
                {
                    input[(p * sin) + c] = (data.NextSingle() * 2) - 1;
                }
            }

            var output = new float[count * layer.OutputChannelStride];
            layer.Forward(input, output, 0, count, width);
            var compact = new float[count * cout];
            for (int p = 0; p < count; p++)
            {
                Array.Copy(output, p * layer.OutputChannelStride, compact, p * cout, cout);
            }

            if (level == SimdLevel.Scalar)
            {
                reference = compact;
                continue;
            }

            for (int i = 0; i < compact.Length; i++)
            {
                Assert.True(Math.Abs(compact[i] - reference![i]) <= 1e-5f * (1 + Math.Abs(reference[i])), $"{level}: value {i} is {compact[i]}, scalar {reference[i]}");
            }

            vectorResult ??= compact;
            Assert.Equal(vectorResult, compact);
        }
    }
}
