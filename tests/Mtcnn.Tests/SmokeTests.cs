namespace Mtcnn.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_are_the_papers()
    {
        var o = DetectorOptions.Default.Validate();
        Assert.Equal(20f, o.MinFaceSize);
        Assert.Equal(0.709f, o.ScaleFactor);
        Assert.Equal([0.6f, 0.7f, 0.7f], o.Thresholds);
    }

    [Theory]
    [InlineData(nameof(DetectorOptions.MinFaceSize))]
    [InlineData(nameof(DetectorOptions.ScaleFactor))]
    [InlineData(nameof(DetectorOptions.PNetThreshold))]
    [InlineData(nameof(DetectorOptions.ONetNmsThreshold))]
    public void Out_of_range_values_name_the_option_and_range(string name)
    {
        var o = name switch
        {
            nameof(DetectorOptions.MinFaceSize) => DetectorOptions.Default with { MinFaceSize = 1 },
            nameof(DetectorOptions.ScaleFactor) => DetectorOptions.Default with { ScaleFactor = 1.2f },
            nameof(DetectorOptions.PNetThreshold) => DetectorOptions.Default with { PNetThreshold = float.NaN },
            _ => DetectorOptions.Default with { ONetNmsThreshold = 0 },
        };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => o.Validate());
        Assert.Equal(name, e.ParamName);
        Assert.Contains("must be in", e.Message, StringComparison.Ordinal);
    }
}
