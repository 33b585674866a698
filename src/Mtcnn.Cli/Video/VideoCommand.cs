using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Mtcnn.Video;

namespace Mtcnn.Cli.Video;

/// <summary>
/// <c>mtcnn video INPUT | --camera N</c>: detects and tracks faces through a video file, stream or camera; writes an
/// annotated video (<c>--output</c>) and/or one JSON line per frame on stdout (<c>--format jsonl</c>); live statistics
/// and a summary on stderr. Ctrl+C (SIGINT) or SIGTERM stops reading, finishes the frames already read, closes the
/// output file properly and exits with 0; a second Ctrl+C (2 s or more later) ends the process at once. Exit code 1
/// for a missing or busy camera, an unreadable file or an unsupported codec, 2 for a usage error.
/// </summary>
internal static class VideoCommand
{
    private static readonly string[] Formats = ["none", "jsonl"];

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var p = VideoPipelineOptions.Default;
        var t = TrackerOptions.Default;
        var input = new Argument<string?>("INPUT")
        {
            Description = "A video file (any container and codec FFmpeg decodes: mp4, avi, mkv, webm, mov, ...) or a stream URL (rtsp://, http://, ...). Omit it with --camera.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        OptionFactory.RejectOptionLikeInputs(input);
        var camera = new Option<int?>("--camera")
        {
            Description = "Read from camera N (/dev/videoN on Linux) instead of a file.",
            HelpName = "N",
            CustomParser = r => int.TryParse(r.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v <= 1000
                ? v
                : Fail<int?>(r, "--camera", $"expected a camera number in [0, 1000], got '{r.Tokens[0].Value}'"),
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Write the annotated video to this file: .mp4 (MPEG-4 Part 2) or .avi (Motion JPEG). Its folder is created as needed; an existing file is replaced.",
            HelpName = "file",
        };
        var format = OptionFactory.Choice("--format", "none", Formats, "Per-frame results on stdout: jsonl writes one JSON line per frame; none writes nothing.");
        format.Aliases.Add("-f");
        var every = OptionFactory.Int("--every", p.DetectEvery, "Detect on every Nth frame and carry the tracked faces over to the frames in between [1, 100000].");
        var maxFrames = OptionFactory.Int("--max-frames", 0, "Stop after this many frames; 0 reads to the end (or until Ctrl+C).");
        var detector = new DetectorOptionSet(
            "Threads for detection; 0 uses every core. With --workers 0 a file runs that many frames at once on one thread each and a camera gives each frame all of them; with --workers N each frame uses this many.");
        var workers = OptionFactory.Int("--workers", 0,
            "Frames detected at once [0, 64]. 0 (auto): for a file, one frame per thread (the best throughput); for a camera, one frame on all threads (the lowest latency).");
        var trackIou = OptionFactory.Float("--track-iou", t.IouThreshold, "Smallest box overlap (IoU) for a detection to continue a track [0, 1].");
        var smoothing = OptionFactory.Float("--smoothing", t.Smoothing,
            "Smoothing factor α of boxes and landmarks [0, 1): reported = α·previous + (1−α)·detected; 0 reports raw detections.");
        var expiry = OptionFactory.Int("--track-expiry", t.ExpireAfterMisses,
            "Forget a face after this many detection frames without it; until then it keeps its id when it reappears [1, 100000].");
        var minHits = OptionFactory.Int("--track-min-hits", t.MinHits,
            "Report a new face (and give it an id) only after this many consecutive detections, which hides one-frame false positives; faces on the first M-1 detection frames of the clip and of each scene are reported at once [1, 1000].");
        var sceneCut = OptionFactory.Float("--scene-cut", p.SceneCutThreshold,
            "Scene-cut threshold [0, 255]: a frame whose 32x24 greyscale thumbnail differs from the previous one by more than this many grey levels on average starts a new scene, whose faces are reported at once; 0 turns it off.");
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No live statistics and no summary on stderr (errors are still shown)." };

        var command = new Command("video",
            "Detect and track faces through a video file, stream or camera: an annotated video (--output) and/or one JSON line per "
            + "frame on stdout (--format jsonl), with stable face ids. Live statistics and a summary on stderr. Ctrl+C stops "
            + "cleanly (the output file stays playable). Exit code 0: done or stopped, 1: camera or file problem, 2: usage error.")
        {
            input, camera, output, format, every, maxFrames,
        };
        detector.AddTo(command);
        command.Options.Add(workers);
        command.Options.Add(trackIou);
        command.Options.Add(smoothing);
        command.Options.Add(expiry);
        command.Options.Add(minHits);
        command.Options.Add(sceneCut);
        command.Options.Add(quiet);
        command.With(
            "mtcnn video clip.mp4 --output annotated.mp4",
            "mtcnn video clip.mp4 --format jsonl --every 3 > faces.jsonl",
            "mtcnn video --camera 0 --output webcam.avi --min-face-size 40",
            "mtcnn video rtsp://camera.local/stream --format jsonl --max-frames 300 --quiet",
            "mtcnn video phone-sideways.mp4 --rotations 90 --output upright-faces.mp4");

        command.SetAction(pr =>
        {
            var settings = new VideoSettings(
                pr.GetValue(input),
                pr.GetValue(camera),
                pr.GetValue(output),
                pr.GetValue(format)!,
                detector.Read(pr),
                pr.GetValue(detector.Weights),
                new VideoPipelineOptions
                {
                    DetectEvery = pr.GetValue(every),
                    MaxFrames = pr.GetValue(maxFrames),
                    DetectionWorkers = pr.GetValue(workers),
                    SceneCutThreshold = pr.GetValue(sceneCut),
                    Tracker = new TrackerOptions
                    {
                        IouThreshold = pr.GetValue(trackIou),
                        Smoothing = pr.GetValue(smoothing),
                        ExpireAfterMisses = pr.GetValue(expiry),
                        MinHits = pr.GetValue(minHits),
                    },
                },
                pr.GetValue(quiet));
            return Execute(settings, console);
        });
        return command;
    }

    private static int Execute(VideoSettings s, CliConsole console)
    {
        var (pipelineOptions, detectorOptions) = Validate(s);
        var weights = WeightsFile.Load(s.WeightsPath, "--weights", console);
        var detector = new FaceDetector(detectorOptions, weights);
        var pipeline = new VideoPipeline(detector, pipelineOptions);

        using var source = s.Camera is { } index ? VideoSource.OpenCamera(index) : VideoSource.OpenFile(s.Input!);
        VideoFileWriter? writer = null;
        VideoSummary summary;
        var progress = new VideoProgress(console);
        using var stop = new CancellationTokenSource();
        try
        {
            if (s.Output is not null)
            {
                string? folder = Path.GetDirectoryName(Path.GetFullPath(s.Output));
                if (folder is not null)
                {
                    Directory.CreateDirectory(folder);
                }

                writer = new VideoFileWriter(s.Output, source.Width, source.Height, source.FramesPerSecond);
            }

            var json = s.Format == "jsonl" ? new VideoJsonWriter(console.Out) : null;
            using var signals = new StopSignals(stop, console, s.Quiet);
            summary = pipeline.Run(
                source,
                writer,
                json is null ? null : json.Write,
                s.Quiet ? null : progress.Report,
                stop.Token);
        }
        finally
        {
            // Finishes the file (an MP4's index is written here): also after a failure or Ctrl+C.
            writer?.Dispose();
            progress.BreakLine();
        }

        if (!s.Quiet)
        {
            console.WriteErrorLine(Summary(summary, source, writer, pipelineOptions.DetectionWorkers, detectorOptions.EffectiveParallelism));
            if (summary.CandidateLimitFrames > 0)
            {
                console.WriteErrorLine($"{CliApp.Name}: warning: in {VideoProgress.Plural(summary.CandidateLimitFrames, "detection frame")} more candidates than --max-candidates ({detectorOptions.MaxCandidates}) survived a stage; only the best-scoring went on, so faces may be missing there (raise --thresholds or --min-face-size, or --max-candidates)");
            }
        }

        return ExitCodes.Success;
    }

    /// <summary>
    /// Checks the combination of arguments and every range; returns the pipeline and detector options for this source
    /// kind, with <c>--workers 0</c> resolved.
    /// </summary>
    private static (VideoPipelineOptions Pipeline, DetectorOptions Detector) Validate(VideoSettings s)
    {
        if (s.Input is null && s.Camera is null)
        {
            throw new UsageException("give a video file or stream URL (INPUT), or --camera N (see 'mtcnn video --help')");
        }

        if (s.Input is not null && s.Camera is not null)
        {
            throw new UsageException("give either INPUT or --camera, not both (see 'mtcnn video --help')");
        }

        if (s.Output is not null && VideoFileWriter.CodecFor(s.Output) is null)
        {
            throw new UsageException($"--output: the file must end in {string.Join(" or ", VideoFileWriter.SupportedExtensions)}, got '{s.Output}' (see 'mtcnn video --help')");
        }

        if (s.Output is not null && s.Input is not null
            && string.Equals(Path.GetFullPath(s.Output), Path.GetFullPath(s.Input), StringComparison.Ordinal))
        {
            throw new UsageException($"--output: '{s.Output}' is the input file; writing it would destroy the input (see 'mtcnn video --help')");
        }

        if (s.Pipeline.MaxFrames < 0)
        {
            throw new UsageException($"--max-frames: must be 0 (all) or positive, got {s.Pipeline.MaxFrames} (see 'mtcnn video --help')");
        }

        DetectorOptionSet.Validate(s.DetectorOptions, "video");
        if (s.Pipeline.DetectionWorkers is < 0 or > 64)
        {
            throw new UsageException($"--workers: must be in [0, 64], got {s.Pipeline.DetectionWorkers} (see 'mtcnn video --help')");
        }

        var pipeline = s.Pipeline;
        var detector = s.DetectorOptions;
        if (pipeline.DetectionWorkers == 0)
        {
            // A file is about throughput: whole frames on one thread each scale best (and hold up best on a busy
            // machine). A camera is about latency: each frame gets every thread.
            (int workers, int perFrame) = s.Camera is null ? Detect.DetectPipeline.Split(detector.EffectiveParallelism, 64) : (1, detector.EffectiveParallelism);
            pipeline = pipeline with { DetectionWorkers = workers };
            detector = detector with { MaxDegreeOfParallelism = perFrame };
        }

        try
        {
            // A camera must not fall behind real time: drop frames instead of queueing them.
            return ((pipeline with { DropFramesWhenBehind = s.Camera is not null }).Validate(), detector);
        }
        catch (ArgumentOutOfRangeException e)
        {
            string option = e.ParamName switch
            {
                nameof(VideoPipelineOptions.DetectEvery) => "--every",
                nameof(VideoPipelineOptions.DetectionWorkers) => "--workers",
                nameof(TrackerOptions.IouThreshold) => "--track-iou",
                nameof(TrackerOptions.Smoothing) => "--smoothing",
                nameof(TrackerOptions.ExpireAfterMisses) => "--track-expiry",
                nameof(TrackerOptions.MinHits) => "--track-min-hits",
                nameof(VideoPipelineOptions.SceneCutThreshold) => "--scene-cut",
                _ => e.ParamName ?? "option",
            };
            throw DetectorOptionSet.RangeError(e, option, "video");
        }
    }

    private static string Summary(VideoSummary r, VideoSource source, VideoFileWriter? writer, int workers, int threads)
    {
        var sb = new System.Text.StringBuilder(256);
        sb.Append(CultureInfo.InvariantCulture, $"{CliApp.Name}: {(r.Stopped ? "stopped after " : "")}{VideoProgress.Plural(r.Frames, "frame")} of {source.Description} ({source.Width}x{source.Height}");
        if (source.Codec.Length > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {source.Codec}");
        }

        sb.Append(CultureInfo.InvariantCulture, $") in {r.Elapsed.TotalSeconds:0.00} s: {r.FramesPerSecond:0.0} fps");
        sb.Append(CultureInfo.InvariantCulture, $", {r.DetectionFrames} detected ({r.MeanDetectionTime.TotalMilliseconds:0.0} ms each, {workers} at a time x {VideoProgress.Plural(threads, "thread")})");
        if (r.Dropped > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {r.Dropped} dropped");
        }

        sb.Append(CultureInfo.InvariantCulture, $", latency median {r.LatencyMedian.TotalMilliseconds:0} ms, p95 {r.Latency95.TotalMilliseconds:0} ms");
        sb.Append(CultureInfo.InvariantCulture, $", {VideoProgress.Plural(r.Tracks, "face id")}, faces in {r.FramesWithFaces} frames");
        if (r.SceneCuts > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {VideoProgress.Plural(r.SceneCuts, "scene cut")}");
        }

        if (writer is not null)
        {
            sb.Append(CultureInfo.InvariantCulture, $"; wrote {writer.Path} ({writer.Codec}, {writer.FramesWritten} frames, {writer.FramesPerSecond:0.##} fps)");
        }

        return sb.ToString();
    }

    private static T Fail<T>(System.CommandLine.Parsing.ArgumentResult result, string name, string message)
    {
        result.AddError($"{name}: {message}");
        return default!;
    }

    /// <summary>
    /// SIGINT (Ctrl+C) and SIGTERM: the first one stops reading so that the run finishes cleanly. Copies arriving within
    /// <see cref="Grace"/> of it are ignored, because some senders deliver a signal twice (<c>timeout</c> signals the
    /// child and then its whole process group); a later one is left to the default handling, which ends the process at
    /// once (an MP4 being written is then not finished).
    /// </summary>
    private sealed class StopSignals : IDisposable
    {
        private static readonly TimeSpan Grace = TimeSpan.FromSeconds(2);
        private readonly CancellationTokenSource stop;
        private readonly CliConsole console;
        private readonly bool quiet;
        private readonly List<PosixSignalRegistration> registrations = [];
        private long firstSignal;

        public StopSignals(CancellationTokenSource stop, CliConsole console, bool quiet)
        {
            this.stop = stop;
            this.console = console;
            this.quiet = quiet;
            foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            {
                try
                {
                    registrations.Add(PosixSignalRegistration.Create(signal, Handle));
                }
                catch (PlatformNotSupportedException)
                {
                    // No such signal here: the default handling stays.
                }
            }
        }

        public void Dispose()
        {
            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }

        private void Handle(PosixSignalContext context)
        {
            long now = Stopwatch.GetTimestamp();
            long first = Interlocked.CompareExchange(ref firstSignal, now, 0);
            if (first == 0)
            {
                context.Cancel = true;
                if (!quiet)
                {
                    console.WriteErrorLine($"{CliApp.Name}: stopping: finishing the frames already read (Ctrl+C again to quit at once)");
                }

                stop.Cancel();
            }
            else if (Stopwatch.GetElapsedTime(first, now) < Grace)
            {
                context.Cancel = true;
            }
        }
    }

    private sealed record VideoSettings(
        string? Input, int? Camera, string? Output, string Format, DetectorOptions DetectorOptions, string? WeightsPath, VideoPipelineOptions Pipeline, bool Quiet);
}
