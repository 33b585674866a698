using OpenCvSharp;

namespace Mtcnn.Video.Tests;

/// <summary>The pipeline in-process on clips made by <see cref="TestClips"/>: detection, tracking, output file, stopping.</summary>
public sealed class PipelineTests
{
    private static readonly FaceDetector Detector = new(new DetectorOptions { MinFaceSize = 30 });

    private static (VideoSummary Summary, List<FrameResult> Frames) RunOn(string clip, VideoPipelineOptions options, string? output = null, Action<FrameResult>? also = null, CancellationToken stop = default)
    {
        using var source = VideoSource.OpenFile(clip);
        var frames = new List<FrameResult>();
        VideoSummary summary;
        using (var writer = output is null ? null : new VideoFileWriter(output, source.Width, source.Height, source.FramesPerSecond))
        {
            summary = new VideoPipeline(Detector, options).Run(source, writer, f =>
            {
                frames.Add(f);
                also?.Invoke(f);
            }, cancellationToken: stop);
        }

        return (summary, frames);
    }

    [Fact]
    public void Every_frame_has_the_face_with_one_stable_id_where_the_sample_is()
    {
        var (summary, frames) = RunOn(TestClips.Moving30, VideoPipelineOptions.Default with { Tracker = new TrackerOptions { Smoothing = 0 } });

        Assert.Equal(30, frames.Count);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), frames.Select(f => f.Index));
        Assert.All(frames, f => Assert.True(f.Detected));
        for (int i = 0; i < frames.Count; i++)
        {
            var face = Assert.Single(frames[i].Faces);
            Assert.Equal(1, face.Id);
            Assert.InRange(face.Score, 0.9f, 1f);
            float expectedLeft = TestClips.FaceLeft(i, 30, 640, 256);
            Assert.True(Math.Abs(face.Box.X1 - expectedLeft) < 10, $"frame {i}: x1 {face.Box.X1}, expected about {expectedLeft}");
            Assert.Equal(i / TestClips.FramesPerSecond, frames[i].Time, 3);
        }

        Assert.Equal(30, summary.Frames);
        Assert.Equal(30, summary.DetectionFrames);
        Assert.Equal(1, summary.Tracks);
        Assert.Equal(30, summary.FramesWithFaces);
        Assert.False(summary.Stopped);
    }

    [Fact]
    public void Every_3_detects_on_frames_0_3_6_and_reports_every_frame_with_the_boxes_carried_over()
    {
        var (summary, frames) = RunOn(TestClips.Moving30, new VideoPipelineOptions { DetectEvery = 3 });

        Assert.Equal(30, frames.Count);
        Assert.Equal(10, summary.DetectionFrames);
        for (int i = 0; i < 30; i++)
        {
            Assert.Equal(i % 3 == 0, frames[i].Detected);
            var face = Assert.Single(frames[i].Faces);
            Assert.Equal(1, face.Id);
            Assert.Equal(frames[i - (i % 3)].Faces[0].Box, face.Box);
        }

        Assert.All(frames.Where(f => !f.Detected), f => Assert.Equal(TimeSpan.Zero, f.DetectionTime));
    }

    [Fact]
    public void Several_detection_workers_give_the_same_results_in_the_same_order()
    {
        var (_, one) = RunOn(TestClips.Moving30, new VideoPipelineOptions { DetectEvery = 2 });
        var (_, three) = RunOn(TestClips.Moving30, new VideoPipelineOptions { DetectEvery = 2, DetectionWorkers = 3, QueueCapacity = 2 });

        Assert.Equal(one.Select(f => (f.Index, f.Detected)), three.Select(f => (f.Index, f.Detected)));
        Assert.Equal(one.Select(f => f.Faces.ToArray()), three.Select(f => f.Faces.ToArray()));
    }

    [Fact]
    public void The_annotated_output_file_is_playable_with_every_frame_at_the_source_size()
    {
        string output = TestClips.NewPath("out.mp4");
        var (summary, _) = RunOn(TestClips.Moving30, VideoPipelineOptions.Default, output);

        using var reopened = new VideoCapture(output);
        Assert.True(reopened.IsOpened());
        Assert.Equal(640, reopened.FrameWidth);
        Assert.Equal(480, reopened.FrameHeight);
        Assert.Equal(20, reopened.Fps, 3);
        int decoded = 0;
        using var frame = new Mat();
        while (reopened.Read(frame) && !frame.Empty())
        {
            decoded++;
        }

        Assert.Equal(30, decoded);
        Assert.Equal(30, summary.Frames);
    }

    [Fact]
    public async Task Two_videos_at_once_on_one_detector_give_the_results_of_two_runs_one_after_the_other()
    {
        var options = new VideoPipelineOptions { DetectEvery = 2 };
        var (_, alone) = RunOn(TestClips.Moving30, options);

        var runs = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => RunOn(TestClips.Moving30, options).Frames)));

        Assert.All(runs, r => Assert.Equal(alone.Select(f => f.Faces.ToArray()), r.Select(f => f.Faces.ToArray())));
    }

    [Fact]
    public void Max_frames_stops_after_that_many_frames()
    {
        var (summary, frames) = RunOn(TestClips.Moving30, new VideoPipelineOptions { MaxFrames = 7 });

        Assert.Equal(7, frames.Count);
        Assert.Equal(7, summary.Frames);
        Assert.False(summary.Stopped);
    }

    [Fact]
    public void Cancelling_stops_reading_finishes_the_frames_read_and_leaves_a_playable_file()
    {
        string output = TestClips.NewPath("stopped.avi");
        using var stop = new CancellationTokenSource();
        var (summary, frames) = RunOn(TestClips.Moving400, new VideoPipelineOptions { QueueCapacity = 2 }, output, f =>
        {
            if (f.Index == 4)
            {
                stop.Cancel();
            }
        }, stop.Token);

        Assert.True(summary.Stopped);
        Assert.InRange(frames.Count, 5, 5 + 2 + 2 + 2); // the frames in the two queues and the two stages are finished
        Assert.Equal(Enumerable.Range(0, frames.Count).Select(i => (long)i), frames.Select(f => f.Index));
        using var reopened = new VideoCapture(output);
        Assert.Equal(frames.Count, reopened.FrameCount);
    }

    [Fact]
    public void When_behind_a_live_source_drops_frames_instead_of_queueing_them()
    {
        // A slow consumer (20 ms a frame) and a one-frame queue: the decoder, much faster, must drop frames.
        var (summary, frames) = RunOn(TestClips.Moving30, new VideoPipelineOptions { DropFramesWhenBehind = true, QueueCapacity = 1 }, also: _ => Thread.Sleep(20));

        Assert.True(summary.Dropped > 0, "nothing was dropped");
        Assert.Equal(30, summary.Frames + summary.Dropped);
        Assert.Equal(frames.Count, summary.Frames);
        Assert.Equal(0, frames[0].Index);
        Assert.All(frames.Zip(frames.Skip(1)), p => Assert.True(p.Second.Index > p.First.Index));
        Assert.All(frames, f => Assert.True(f.Detected));
    }

    [Fact]
    public void A_failing_callback_ends_every_stage_and_is_rethrown()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            RunOn(TestClips.Moving400, new VideoPipelineOptions { QueueCapacity = 2 }, also: f =>
            {
                if (f.Index == 3)
                {
                    throw new InvalidOperationException("callback failed");
                }
            }));

        Assert.Equal("callback failed", e.Message);
    }

    [Fact]
    public void Statistics_arrive_on_the_interval_with_sensible_values()
    {
        using var source = VideoSource.OpenFile(TestClips.Moving30);
        var stats = new List<VideoStatistics>();
        new VideoPipeline(Detector, new VideoPipelineOptions { StatisticsInterval = TimeSpan.FromTicks(1) }).Run(source, onStatistics: stats.Add);

        Assert.NotEmpty(stats);
        Assert.All(stats, s =>
        {
            Assert.Equal(30, s.FrameCount);
            Assert.True(s.FramesPerSecond > 0);
            Assert.Equal(1, s.Faces);
            Assert.Equal(1, s.Tracks);
        });
        Assert.Equal(30, stats[^1].FramesDone);
    }

    [Fact]
    public void A_face_right_after_a_scene_cut_is_reported_on_the_cut_frame()
    {
        // MinHits 3: without the scene rule the astronaut, present from the cut on, would wait for its third detection.
        var tracker = new TrackerOptions { MinHits = 3 };
        var (summary, frames) = RunOn(TestClips.Cut40, new VideoPipelineOptions { Tracker = tracker });

        Assert.Equal([(long)TestClips.CutFrame], frames.Where(f => f.SceneCut).Select(f => f.Index));
        Assert.Equal(1, summary.SceneCuts);
        Assert.All(frames.Take(TestClips.CutFrame), f => Assert.Empty(f.Faces));
        Assert.All(frames.Skip(TestClips.CutFrame), f => Assert.Equal(1, Assert.Single(f.Faces).Id));
    }

    [Fact]
    public void Without_scene_cut_detection_the_face_after_the_cut_waits_for_min_hits_detections()
    {
        var tracker = new TrackerOptions { MinHits = 3 };
        var (summary, frames) = RunOn(TestClips.Cut40, new VideoPipelineOptions { Tracker = tracker, SceneCutThreshold = 0 });

        Assert.Equal(0, summary.SceneCuts);
        Assert.DoesNotContain(frames, f => f.SceneCut);
        Assert.Equal(TestClips.CutFrame + 2, frames.First(f => f.Faces.Count > 0).Index);
    }

    [Fact]
    public void With_every_3_a_cut_between_detection_frames_reaches_the_next_detection_frame()
    {
        // Frame 20 is the cut, frame 21 the next detection frame (0, 3, ..., 18, 21): its face is reported at once.
        var tracker = new TrackerOptions { MinHits = 3 };
        var (_, frames) = RunOn(TestClips.Cut40, new VideoPipelineOptions { Tracker = tracker, DetectEvery = 3 });

        Assert.Equal(21, frames.First(f => f.Faces.Count > 0).Index);
        Assert.True(frames[21].Detected);
    }

    [Fact]
    public void The_scene_cut_detector_compares_consecutive_thumbnails_against_the_threshold()
    {
        using var grey = new Mat(240, 320, MatType.CV_8UC3, new Scalar(100, 100, 100));
        using var noisy = grey.Clone();
        Cv2.Randn(noisy, new Scalar(100, 100, 100), new Scalar(20, 20, 20)); // strong pixel noise averages out
        using var brighter = new Mat(240, 320, MatType.CV_8UC3, new Scalar(125, 125, 125));
        using var white = new Mat(240, 320, MatType.CV_8UC3, new Scalar(255, 255, 255));
        using var cuts = new SceneCutDetector(20);

        Assert.False(cuts.IsCut(white)); // the first frame is never a cut
        Assert.True(cuts.IsCut(grey));
        Assert.Equal(155, cuts.LastDifference, 1);
        Assert.False(cuts.IsCut(noisy));
        Assert.True(cuts.LastDifference < 5, $"noise gave {cuts.LastDifference}");
        Assert.True(cuts.IsCut(brighter)); // 25 grey levels > 20
        Assert.False(cuts.IsCut(brighter));
        Assert.Equal(0, cuts.LastDifference, 3);

        using var off = new SceneCutDetector(0);
        Assert.False(off.IsCut(white));
        Assert.False(off.IsCut(grey));
    }

    [Theory]
    [InlineData(-1f)]
    [InlineData(256f)]
    public void A_scene_cut_threshold_outside_0_255_is_rejected(float threshold)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new VideoPipeline(Detector, new VideoPipelineOptions { SceneCutThreshold = threshold }));
        Assert.Equal(nameof(VideoPipelineOptions.SceneCutThreshold), e.ParamName);
    }

    [Theory]
    [InlineData(0, 1, 8)]
    [InlineData(1, 0, 8)]
    [InlineData(1, 1, 0)]
    public void Out_of_range_pipeline_options_are_rejected(int every, int workers, int queue)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new VideoPipeline(Detector, new VideoPipelineOptions { DetectEvery = every, DetectionWorkers = workers, QueueCapacity = queue }));
        Assert.Contains(" must be in [", e.Message, StringComparison.Ordinal);
    }
}
