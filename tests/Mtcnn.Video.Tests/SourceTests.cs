namespace Mtcnn.Video.Tests;

/// <summary>Opening inputs and outputs: what works, and the one-line reasons when it does not.</summary>
public sealed class SourceTests
{
    [Fact]
    public void A_clip_opens_with_its_size_rate_count_and_codec()
    {
        using var source = VideoSource.OpenFile(TestClips.Moving30);

        Assert.Equal(640, source.Width);
        Assert.Equal(480, source.Height);
        Assert.Equal(20, source.FramesPerSecond, 3);
        Assert.Equal(30, source.FrameCount);
        Assert.Equal("MJPG", source.Codec);
        Assert.False(source.IsCamera);
    }

    [Fact]
    public void A_missing_file_is_reported_as_such()
    {
        var e = Assert.Throws<VideoException>(() => VideoSource.OpenFile("/nonexistent/clip.mp4"));
        Assert.Equal("cannot open '/nonexistent/clip.mp4': no such file.", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_video_is_reported()
    {
        string path = TestClips.NewPath("noise.mp4");
        var bytes = new byte[20000];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<VideoException>(() => VideoSource.OpenFile(path));
        Assert.Contains("not a video file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_is_not_a_video()
    {
        var e = Assert.Throws<VideoException>(() => VideoSource.OpenFile(Path.GetTempPath()));
        Assert.Contains("it is a folder", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_camera_is_reported_not_hidden()
    {
        var e = Assert.Throws<VideoException>(() => VideoSource.OpenCamera(7));
        Assert.Equal("camera 7 is missing or busy: it could not be opened.", e.Message);
    }

    [Theory]
    [InlineData("out.mkv")]
    [InlineData("out")]
    [InlineData("out.mp4.txt")]
    public void Only_mp4_and_avi_outputs_are_accepted(string name)
    {
        Assert.Null(VideoFileWriter.CodecFor(name));
        Assert.Throws<ArgumentException>(() => new VideoFileWriter(TestClips.NewPath(name), 64, 48, 25));
    }

    [Fact]
    public void An_output_in_a_missing_folder_is_reported()
    {
        var e = Assert.Throws<VideoException>(() => new VideoFileWriter("/nonexistent/folder/out.mp4", 64, 48, 25));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }
}
