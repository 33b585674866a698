using System.Diagnostics;
using System.Text.Json;
using Mtcnn.TestSupport;
using OpenCvSharp;

namespace Mtcnn.Video.Tests;

/// <summary><c>mtcnn video</c> run as a real process: JSON Lines, annotated output, errors, Ctrl+C.</summary>
public sealed class VideoCommandTests
{
    private static readonly string[] FaceKeys = ["id", "box", "score", "landmarks"];

    /// <summary>Checks a frame line's shape and returns its faces.</summary>
    private static JsonElement[] AssertFrame(JsonElement line, long index)
    {
        Assert.Equal(["frame", "time", "faces"], line.EnumerateObject().Select(p => p.Name));
        Assert.Equal(index, line.GetProperty("frame").GetInt64());
        Assert.True(line.GetProperty("time").GetDouble() >= 0);
        var faces = line.GetProperty("faces").EnumerateArray().ToArray();
        foreach (var face in faces)
        {
            Assert.Equal(FaceKeys, face.EnumerateObject().Select(p => p.Name));
            Assert.True(face.GetProperty("id").GetInt32() >= 1);
            Assert.Equal(4, face.GetProperty("box").GetArrayLength());
            Assert.InRange(face.GetProperty("score").GetDouble(), 0, 1);
            Assert.Equal(5, face.GetProperty("landmarks").GetArrayLength());
            Assert.All(face.GetProperty("landmarks").EnumerateArray(), p => Assert.Equal(2, p.GetArrayLength()));
        }

        return faces;
    }

    private static (int Frames, int Width, int Height) Probe(string path)
    {
        using var capture = new VideoCapture(path);
        Assert.True(capture.IsOpened(), path + " does not open");
        int frames = 0;
        using var frame = new Mat();
        while (capture.Read(frame) && !frame.Empty())
        {
            frames++;
        }

        return (frames, capture.FrameWidth, capture.FrameHeight);
    }

    private static void AssertOneLineError(CliRun run, int exitCode, string expected)
    {
        Assert.True(run.ExitCode == exitCode, run.ToString());
        Assert.Equal("", run.StdOut);
        string line = Assert.Single(run.ErrorLines);
        Assert.StartsWith("mtcnn: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Rotations_auto_tracks_the_face_of_a_clip_turned_a_quarter_turn()
    {
        // The short clip turned a quarter turn clockwise, frame by frame.
        string turned = TestClips.NewPath("turned.avi");
        int height;
        using (var capture = new VideoCapture(TestClips.Moving30))
        {
            height = capture.FrameHeight;
            using var writer = new VideoWriter(turned, FourCC.MJPG, TestClips.FramesPerSecond, new Size(capture.FrameHeight, capture.FrameWidth));
            using var frame = new Mat();
            using var rotated = new Mat();
            while (capture.Read(frame) && !frame.Empty())
            {
                Cv2.Rotate(frame, rotated, RotateFlags.Rotate90Clockwise);
                writer.Write(rotated);
            }
        }

        var upright = VideoCli.Run(["video", TestClips.Moving30, "--format", "jsonl", "--quiet", "--max-frames", "10"]);
        var run = VideoCli.Run(["video", turned, "--format", "jsonl", "--quiet", "--max-frames", "10", "--rotations", "auto"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(10, run.JsonLines.Length);
        for (int i = 0; i < 10; i++)
        {
            var face = Assert.Single(AssertFrame(run.JsonLines[i], i));
            Assert.Equal(1, face.GetProperty("id").GetInt32());
            var b = Assert.Single(AssertFrame(upright.JsonLines[i], i)).GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var t = face.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();

            // A quarter turn clockwise maps (x, y) to (height + 1 - y, x) for 1-based box corners.
            var expected = new BoundingBox(height + 1 - b[3], b[0], height + 1 - b[1], b[2]);
            float iou = new BoundingBox(t[0], t[1], t[2], t[3]).IntersectionOverUnion(expected);
            Assert.True(iou >= 0.8f, $"frame {i}: IoU {iou} with the upright clip's face turned");
        }
    }

    [Fact]
    public void Jsonl_has_one_line_per_frame_with_the_face_and_one_id()
    {
        var run = VideoCli.Run(["video", TestClips.Moving30, "--format", "jsonl", "--quiet"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.StdErr);
        var lines = run.JsonLines;
        Assert.Equal(30, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            var face = Assert.Single(AssertFrame(lines[i], i));
            Assert.Equal(1, face.GetProperty("id").GetInt32());
            Assert.Equal(i / TestClips.FramesPerSecond, lines[i].GetProperty("time").GetDouble(), 3);
        }

        Assert.StartsWith("{\"frame\": 0, \"time\": 0, \"faces\": [{\"id\": 1, \"box\": [", run.Lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Output_file_is_playable_with_every_frame_and_the_summary_names_it()
    {
        using var temp = new TempDir();
        string output = Path.Combine(temp.Path, "sub", "annotated.mp4");
        var run = VideoCli.Run(["video", TestClips.Moving30, "--output", output]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.StdOut);
        Assert.Equal((30, 640, 480), Probe(output));
        string summary = run.ErrorLines[^1];
        Assert.StartsWith("mtcnn: 30 frames of ", summary, StringComparison.Ordinal);
        Assert.Contains("30 detected (", summary, StringComparison.Ordinal);
        Assert.Contains($"{Environment.ProcessorCount} at a time x 1 thread)", summary, StringComparison.Ordinal); // --workers 0: a frame per thread
        Assert.Contains("1 face id", summary, StringComparison.Ordinal);
        Assert.Contains($"wrote {output} (mp4v, 30 frames", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scene_cut_is_named_in_the_summary_and_its_face_is_reported_on_the_cut_frame()
    {
        var run = VideoCli.Run(["video", TestClips.Cut40, "--format", "jsonl", "--track-min-hits", "3"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.JsonLines;
        Assert.Equal(40, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            Assert.Equal(i < TestClips.CutFrame ? 0 : 1, AssertFrame(lines[i], i).Length);
        }

        Assert.Contains("1 face id, faces in 20 frames, 1 scene cut", run.ErrorLines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Every_3_still_reports_every_frame_and_avi_output_works()
    {
        using var temp = new TempDir();
        string output = Path.Combine(temp.Path, "every3.avi");
        var run = VideoCli.Run(["video", TestClips.Moving30, "--every", "3", "-f", "jsonl", "-o", output, "-q"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.JsonLines;
        Assert.Equal(30, lines.Length);
        for (int i = 0; i < 30; i++)
        {
            var face = Assert.Single(AssertFrame(lines[i], i));
            Assert.Equal(1, face.GetProperty("id").GetInt32());
            // Between detections the box is carried over unchanged.
            Assert.Equal(lines[i - (i % 3)].GetProperty("faces")[0].GetProperty("box").GetRawText(), face.GetProperty("box").GetRawText());
        }

        Assert.Equal((30, 640, 480), Probe(output));
    }

    [Fact]
    public void Max_frames_limits_the_frames_processed()
    {
        var run = VideoCli.Run(["video", TestClips.Moving30, "--max-frames", "5", "--format", "jsonl"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(5, run.Lines.Length);
        Assert.StartsWith("mtcnn: 5 frames of ", run.ErrorLines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Frames_whose_candidates_were_capped_say_so_and_the_summary_warns()
    {
        var run = VideoCli.Run(["video", TestClips.Moving30, "--max-frames", "3", "--format", "jsonl", "--thresholds", "0,0,0", "--max-candidates", "50"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(3, run.Lines.Length);
        Assert.All(run.JsonLines, l => Assert.True(l.GetProperty("candidateLimitReached").GetBoolean()));
        Assert.Contains("mtcnn: warning: in 3 detection frames more candidates than --max-candidates (50) survived a stage", run.StdErr, StringComparison.Ordinal);

        var normal = VideoCli.Run(["video", TestClips.Moving30, "--max-frames", "3", "--format", "jsonl"]);
        Assert.True(normal.ExitCode == 0, normal.ToString());
        Assert.All(normal.JsonLines, l => Assert.False(l.TryGetProperty("candidateLimitReached", out _)));
        Assert.DoesNotContain("--max-candidates", normal.StdErr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Shared_webcam_clip_has_one_face_with_one_id_in_most_frames()
    {
        string clip = SharedData.Require("data/video/video_test.avi");
        var run = VideoCli.Run(["video", clip, "--format", "jsonl", "--every", "2", "--quiet"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.JsonLines;
        Assert.Equal(1066, lines.Length);
        var faces = lines.Select((l, i) => AssertFrame(l, i)).ToArray();
        int single = faces.Count(f => f.Length == 1);
        Assert.True(single >= 0.95 * lines.Length, $"{single} of {lines.Length} frames have exactly one face");
        var ids = faces.Where(f => f.Length == 1).GroupBy(f => f[0].GetProperty("id").GetInt32()).OrderByDescending(g => g.Count()).ToArray();
        Assert.True(ids[0].Count() >= 0.95 * lines.Length, $"the main id covers {ids[0].Count()} frames; ids: {string.Join(", ", ids.Select(g => $"{g.Key}x{g.Count()}"))}");
    }

    [SkippableFact]
    public void Shared_webcam_clip_honours_max_frames()
    {
        string clip = SharedData.Require("data/video/video_test.avi");
        var run = VideoCli.Run(["video", clip, "--format", "jsonl", "--max-frames", "25"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(25, run.Lines.Length);
        Assert.Equal(24, run.JsonLines[^1].GetProperty("frame").GetInt32());
        Assert.Equal(24 / 20.0, run.JsonLines[^1].GetProperty("time").GetDouble(), 3);
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(2)] // as `timeout -s INT` delivers it: to the process, then to its process group
    public void Sigint_stops_cleanly_and_leaves_a_playable_file_with_every_reported_frame(int signals)
    {
        // A shell without job control starts background jobs with SIGINT ignored, and the ignore is inherited by
        // every child: then no program under test can see Ctrl+C, whatever it does.
        Skip.If(SigintIgnored(), "SIGINT is ignored in this test process (started as a background job?), so the child cannot receive it");
        using var temp = new TempDir();
        string output = Path.Combine(temp.Path, "interrupted.mp4");
        var run = VideoCli.RunAndInterrupt(
            ["video", TestClips.Moving400, "--output", output, "--format", "jsonl"],
            stdout => stdout.Count(c => c == '\n') >= 10,
            signals);

        Assert.True(run.ExitCode == 0, run.ToString());
        int reported = run.Lines.Length;
        Assert.InRange(reported, 10, 399);
        Assert.Equal(Enumerable.Range(0, reported), run.JsonLines.Select(l => l.GetProperty("frame").GetInt32()));
        Assert.Single(run.ErrorLines, l => l.StartsWith("mtcnn: stopping", StringComparison.Ordinal));
        Assert.StartsWith($"mtcnn: stopped after {reported} frames of ", run.ErrorLines[^1], StringComparison.Ordinal);
        Assert.Equal((reported, 640, 480), Probe(output));
    }

    [Fact]
    public void A_missing_file_is_one_line_and_exit_1()
    {
        var run = VideoCli.Run(["video", "/nonexistent/clip.mp4"]);
        AssertOneLineError(run, 1, "mtcnn: error: cannot open '/nonexistent/clip.mp4': no such file.");
    }

    [Fact]
    public void An_unreadable_file_is_one_line_and_exit_1()
    {
        using var temp = new TempDir();
        string path = Path.Combine(temp.Path, "noise.mp4");
        var bytes = new byte[50000];
        new Random(7).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);

        var run = VideoCli.Run(["video", path, "--format", "jsonl"]);
        AssertOneLineError(run, 1, $"mtcnn: error: cannot open '{path}': not a video file");
    }

    [SkippableFact]
    public void An_unsupported_codec_is_one_line_and_exit_1()
    {
        // AV1: the apt ffmpeg encodes it (libaom), OpenCV's built-in FFmpeg has no AV1 decoder.
        using var temp = new TempDir();
        string path = Path.Combine(temp.Path, "av1.mkv");
        Skip.IfNot(MakeWithFfmpeg(["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "1", "-c:v", "libaom-av1", "-cpu-used", "8", path]),
            "ffmpeg with libaom-av1 is not available to make an AV1 clip");

        var run = VideoCli.Run(["video", path]);
        AssertOneLineError(run, 1, $"mtcnn: error: cannot decode '{path}': no frame could be decoded (codec 'AV01': unsupported");
    }

    [Fact]
    public void A_missing_camera_is_one_line_and_exit_1()
    {
        var run = VideoCli.Run(["video", "--camera", "7", "--output", "never.mp4"]);
        AssertOneLineError(run, 1, "mtcnn: error: camera 7 is missing or busy");
        Assert.False(File.Exists(Path.Combine(SharedData.RepoRoot, "never.mp4")));
    }

    [Fact]
    public void An_unwritable_output_is_one_line_and_exit_1()
    {
        var run = VideoCli.Run(["video", TestClips.Moving30, "--output", "/proc/mtcnn-test/out.mp4"]);
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.StartsWith("mtcnn: error: ", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[] { "video" }, "give a video file or stream URL (INPUT), or --camera N")]
    [InlineData(new[] { "video", "a.mp4", "--camera", "0" }, "give either INPUT or --camera, not both")]
    [InlineData(new[] { "video", "a.mp4", "--output", "out.mkv" }, "--output: the file must end in .mp4 or .avi")]
    [InlineData(new[] { "video", "a.mp4", "--output", "./a.mp4" }, "--output: './a.mp4' is the input file")]
    [InlineData(new[] { "video", "a.mp4", "--every", "0" }, "--every: DetectEvery must be in [1, 100000], got 0")]
    [InlineData(new[] { "video", "a.mp4", "--smoothing", "1" }, "--smoothing: Smoothing must be in [0, 1), got 1")]
    [InlineData(new[] { "video", "a.mp4", "--track-iou", "2" }, "--track-iou: IouThreshold must be in [0, 1], got 2")]
    [InlineData(new[] { "video", "a.mp4", "--track-expiry", "0" }, "--track-expiry: ExpireAfterMisses must be in [1, 100000], got 0")]
    [InlineData(new[] { "video", "a.mp4", "--workers", "65" }, "--workers: must be in [0, 64], got 65")]
    [InlineData(new[] { "video", "a.mp4", "--track-min-hits", "0" }, "--track-min-hits: MinHits must be in [1, 1000], got 0")]
    [InlineData(new[] { "video", "a.mp4", "--scene-cut", "300" }, "--scene-cut: SceneCutThreshold must be in [0, 255], got 300")]
    [InlineData(new[] { "video", "a.mp4", "--min-face-size", "2" }, "--min-face-size: MinFaceSize must be in [4, 100000], got 2")]
    [InlineData(new[] { "video", "a.mp4", "--max-frames", "-1" }, "--max-frames: must be 0 (all) or positive")]
    [InlineData(new[] { "video", "--camera", "x" }, "--camera: expected a camera number")]
    [InlineData(new[] { "video", "a.mp4", "--format", "csv" }, "expected one of none, jsonl")]
    public void Usage_errors_exit_with_2_and_one_line(string[] args, string expected)
    {
        var run = VideoCli.Run(args);
        AssertOneLineError(run, 2, expected);
    }

    [Fact]
    public void Help_lists_the_options_and_examples()
    {
        var run = VideoCli.Run(["video", "--help"]);

        Assert.Equal(0, run.ExitCode);
        foreach (string option in new[] { "--camera", "--output", "--format", "--every", "--max-frames", "--min-face-size", "--thresholds", "--track-iou", "--smoothing", "--track-expiry", "--track-min-hits", "--scene-cut", "--workers", "--threads", "--quiet" })
        {
            Assert.Contains(option, run.StdOut, StringComparison.Ordinal);
        }

        Assert.Contains("Examples:\n  mtcnn video ", run.StdOut, StringComparison.Ordinal);
    }

    private static bool MakeWithFfmpeg(string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string a in new[] { "-v", "error", "-y" }.Concat(args))
            {
                psi.ArgumentList.Add(a);
            }

            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("mtcnn-video-cli-").FullName;

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static bool SigintIgnored()
    {
        var line = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal)) : null;
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0x2) != 0;
    }
}
