using Mtcnn.Cascade;
using Mtcnn.TestSupport;

namespace Mtcnn.Tests.Cascade;

/// <summary>The public crop API cuts the pixels the cascade feeds R-Net and O-Net.</summary>
public sealed class FaceCropperTests
{
    private static readonly Lazy<ImageData> Hopper = new(() =>
        ReferenceDetectionTests.DecodeRgb(Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg")));

    /// <summary>
    /// Rebuilds R-Net's result from the P-Net candidates with the cropper: square, crop, run R-Net, regress. Every
    /// candidate the detector keeps after R-Net must be one of those, with the same score and box.
    /// </summary>
    [Theory]
    [InlineData(CropBorder.ZeroPad)]
    [InlineData(CropBorder.Clip)]
    public void Crops_reproduce_the_detectors_RNet_stage(CropBorder border)
    {
        var image = Hopper.Value;
        var detector = new FaceDetector(new DetectorOptions
        {
            LastStage = CascadeStage.RNet,
            CollectStageCandidates = true,
            MaxDegreeOfParallelism = 1,
            MinFaceSize = 20,
            PNetThreshold = 0.3f,
            CropBorder = border,
        });
        var result = detector.Detect(image);
        Assert.NotEmpty(result.RNetCandidates);
        Assert.True(result.PNetCandidates.Count > result.RNetCandidates.Count);

        var cropper = new FaceCropper(image);
        var net = detector.Networks.R;
        var crop = new float[net.InputLength];
        var output = new float[net.OutputStride];
        var mine = new List<(BoundingBox Box, float Score)>();
        int borderCrossing = 0;
        foreach (var c in result.PNetCandidates)
        {
            var square = FaceCropper.Square(c.Box);
            if (!FaceCropper.CropRegion(square, image.Width, image.Height, border, out var region))
            {
                continue;
            }

            if (region.X < 0 || region.Y < 0 || region.X + region.Width > image.Width || region.Y + region.Height > image.Height)
            {
                borderCrossing++;
            }

            cropper.ExtractFloats(region, 24, 127.5f, 0.0078125f, crop);
            net.Forward(crop, 1, new float[net.ScratchPerCrop], new float[net.ScratchPerCrop], new float[net.FlatLength], new float[net.DenseSize(1)], output);
            float p = 1f / (1f + MathF.Exp(-(output[1] - output[0])));
            var frame = FaceCropper.OutputFrame(square);
            float side = frame.Width;
            var regressed = new BoundingBox(
                square.X1 + (output[2] * side), square.Y1 + (output[3] * side), square.X2 + (output[4] * side), square.Y2 + (output[5] * side));
            mine.Add((regressed, p));
        }

        foreach (var kept in result.RNetCandidates)
        {
            bool found = mine.Any(m => Math.Abs(m.Score - kept.Score) < 1e-5f
                && Math.Abs(m.Box.X1 - kept.Box.X1) < 1e-3f && Math.Abs(m.Box.Y1 - kept.Box.Y1) < 1e-3f
                && Math.Abs(m.Box.X2 - kept.Box.X2) < 1e-3f && Math.Abs(m.Box.Y2 - kept.Box.Y2) < 1e-3f);
            Assert.True(found, $"R-Net candidate {kept} is not among the cropper's results");
        }

        if (border == CropBorder.ZeroPad)
        {
            Assert.True(borderCrossing > 0, "the test should include crops past the border");
        }
    }

    [Fact]
    public void Byte_crops_are_the_rounded_area_means_with_zero_padding()
    {
        var pixels = new byte[20 * 10 * 3];
        new Random(5).NextBytes(pixels);
        var image = new ImageData(pixels, 20, 10, PixelFormat.Rgb24);
        var cropper = new FaceCropper(image);
        var region = new PixelRegion(-4, -2, 12, 12);
        var bytes = new byte[6 * 6 * 3];
        cropper.ExtractRegion(region, 6, bytes);
        var floats = new float[6 * 6 * 3];
        cropper.ExtractFloats(region, 6, 0f, 1f, floats);
        for (int i = 0; i < bytes.Length; i++)
        {
            Assert.True(Math.Abs(bytes[i] - floats[i]) <= 0.5f + 1e-4f, $"{i}: {bytes[i]} vs {floats[i]}");
        }

        // Output (0, 0) averages rows -2..-1 and columns -4..-3: all outside, so black.
        Assert.Equal(0, bytes[0]);

        // A 2x downscale inside the image: output (0, 0) is the mean of a 2x2 block.
        cropper.ExtractRegion(new PixelRegion(2, 2, 4, 4), 2, bytes);
        int sum = pixels[((2 * 20) + 2) * 3] + pixels[((2 * 20) + 3) * 3] + pixels[((3 * 20) + 2) * 3] + pixels[((3 * 20) + 3) * 3];
        Assert.Equal((int)Math.Round(sum / 4.0, MidpointRounding.AwayFromZero), bytes[0]);
    }

    [Fact]
    public void Regions_follow_the_cascade_convention()
    {
        var cropper = new FaceCropper(new ImageData(new byte[30 * 30 * 3], 30, 30, PixelFormat.Rgb24));
        static bool Region(BoundingBox b, CropBorder border, out PixelRegion r) => FaceCropper.CropRegion(b, 30, 30, border, out r);
        Assert.True(Region(new BoundingBox(1.7f, 5.2f, 12.9f, 16.4f), CropBorder.ZeroPad, out var r));
        Assert.Equal(new PixelRegion(0, 4, 12, 12), r);
        Assert.True(Region(new BoundingBox(-5f, -5f, 10f, 10f), CropBorder.ZeroPad, out r));
        Assert.Equal(new PixelRegion(-6, -6, 16, 16), r);
        Assert.True(Region(new BoundingBox(-5f, -5f, 10f, 10f), CropBorder.Clip, out r));
        Assert.Equal(new PixelRegion(0, 0, 10, 10), r);
        Assert.False(Region(new BoundingBox(40f, 40f, 50f, 50f), CropBorder.Clip, out _));
        var b = new BoundingBox(1.7f, 5.2f, 12.9f, 16.4f);
        Assert.Equal(new BoundingBox(b.X1 - 1, b.Y1 - 1, b.X2, b.Y2), FaceCropper.OutputFrame(b));
        Assert.Equal(new BoundingBox(0f, -2f, 10f, 8f), FaceCropper.Square(new BoundingBox(0f, 0f, 10f, 6f)));
        var output = new byte[12 * 12 * 3];
        Array.Fill(output, (byte)9);
        Assert.False(cropper.Extract(new BoundingBox(40f, 40f, 50f, 50f), 12, CropBorder.Clip, output));
        Assert.All(output, b => Assert.Equal(0, b));
        Assert.Throws<ArgumentOutOfRangeException>(() => cropper.ExtractRegion(new PixelRegion(0, 0, 0, 5), 12, output));
        Assert.Throws<ArgumentOutOfRangeException>(() => cropper.ExtractRegion(new PixelRegion(0, 0, 5, 5), 13, output));
    }
}
