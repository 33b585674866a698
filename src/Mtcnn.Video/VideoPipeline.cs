using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using OpenCvSharp;

namespace Mtcnn.Video;

/// <summary>
/// Detects and tracks faces through a video with decoding, detection and output overlapping on separate threads.
/// </summary>
/// <remarks>
/// <para><b>Stages.</b> (1) A decoding thread reads frames from the <see cref="VideoSource"/> into pooled buffers and
/// puts them into a bounded queue. (2) A detection thread takes them in order, runs the <see cref="FaceDetector"/> on
/// every <see cref="VideoPipelineOptions.DetectEvery"/>th frame (up to <see cref="VideoPipelineOptions.DetectionWorkers"/>
/// frames at once), feeds the detections to a <see cref="FaceTracker"/> in frame order, carries the tracked faces over to
/// the frames in between, and puts the frames into a second bounded queue. (3) The calling thread draws the faces,
/// encodes the frame into the <see cref="VideoFileWriter"/>, and calls the frame and statistics callbacks, in frame
/// order. Both queues hold at most <see cref="VideoPipelineOptions.QueueCapacity"/> frames, so memory stays bounded and
/// a slow stage slows the decoder down (or, with <see cref="VideoPipelineOptions.DropFramesWhenBehind"/>, makes it drop
/// frames).</para>
/// <para><b>Scene cuts.</b> The decoding thread compares each frame with the one before it on a 32x24 greyscale
/// thumbnail; a mean absolute difference above <see cref="VideoPipelineOptions.SceneCutThreshold"/> marks a cut (a
/// dropped frame passes its mark on to the next frame kept), and the detection thread calls
/// <see cref="FaceTracker.StartScene"/> when that frame reaches the tracker, so that the faces of the new scene are
/// reported at once (see <see cref="FaceTracker"/>).</para>
/// <para><b>Stopping.</b> Cancelling the token passed to <see cref="Run"/> stops reading; the frames already read are
/// still detected, written and reported, then <see cref="Run"/> returns normally with
/// <see cref="VideoSummary.Stopped"/> set. The caller then disposes the writer, which finishes the file. A failure in
/// any stage stops all of them, and <see cref="Run"/> rethrows it after the threads have ended.</para>
/// <para><b>Thread safety.</b> One pipeline may run several videos one after another or at once (each run has its own
/// tracker and threads); the detector is shared, which it allows. The callbacks run on the thread that called
/// <see cref="Run"/>.</para>
/// </remarks>
public sealed class VideoPipeline
{
    private readonly FaceDetector detector;

    /// <summary>Creates a pipeline.</summary>
    /// <param name="detector">The detector; its options (minimum face size, thresholds, threads per frame) apply to every frame.</param>
    /// <param name="options">Settings; null uses <see cref="VideoPipelineOptions.Default"/>. Validated here.</param>
    /// <param name="annotator">Draws the faces onto the frames written; null uses a default <see cref="FrameAnnotator"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public VideoPipeline(FaceDetector detector, VideoPipelineOptions? options = null, FrameAnnotator? annotator = null)
    {
        ArgumentNullException.ThrowIfNull(detector);
        this.detector = detector;
        Options = (options ?? VideoPipelineOptions.Default).Validate();
        Annotator = annotator ?? new FrameAnnotator();
    }

    /// <summary>The validated settings.</summary>
    public VideoPipelineOptions Options { get; }

    /// <summary>Draws faces onto the written frames (when <see cref="VideoPipelineOptions.Annotate"/> is set).</summary>
    public FrameAnnotator Annotator { get; }

    /// <summary>Processes the video until its end, <see cref="VideoPipelineOptions.MaxFrames"/>, or the token.</summary>
    /// <param name="source">Where frames come from (not disposed here).</param>
    /// <param name="writer">Receives every processed frame, annotated; null for none. Not disposed here: dispose it afterwards to finish the file.</param>
    /// <param name="onFrame">Called for every frame in order, on the calling thread; null for none.</param>
    /// <param name="onStatistics">Called about once per <see cref="VideoPipelineOptions.StatisticsInterval"/> on the calling thread; null for none.</param>
    /// <param name="cancellationToken">Stops reading new frames; the frames already read are finished.</param>
    /// <returns>What the run did.</returns>
    public VideoSummary Run(
        VideoSource source,
        VideoFileWriter? writer = null,
        Action<FrameResult>? onFrame = null,
        Action<VideoStatistics>? onStatistics = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var run = new RunState(this, source, writer, onFrame, onStatistics, cancellationToken);
        return run.Execute();
    }

    /// <summary>One frame travelling through the stages.</summary>
    private sealed class FrameItem(long index, double time, Mat pixels, long decodedAt, bool isDetection, bool sceneCut)
    {
        public long Index { get; } = index;

        public double Time { get; } = time;

        public Mat Pixels { get; } = pixels;

        public long DecodedAt { get; } = decodedAt;

        public bool IsDetection { get; } = isDetection;

        public bool SceneCut { get; } = sceneCut;

        public Task<(DetectionResult Result, TimeSpan Time)>? Detection { get; set; }

        public IReadOnlyList<TrackedFace> Faces { get; set; } = [];

        public TimeSpan DetectionTime { get; set; }

        public bool CandidateLimitReached { get; set; }

        public int Tracks { get; set; }
    }

    /// <summary>The state of one <see cref="VideoPipeline.Run"/> call.</summary>
    private sealed class RunState : IDisposable
    {
        private readonly VideoPipeline owner;
        private readonly VideoPipelineOptions options;
        private readonly VideoSource source;
        private readonly VideoFileWriter? writer;
        private readonly Action<FrameResult>? onFrame;
        private readonly Action<VideoStatistics>? onStatistics;
        private readonly CancellationToken stop;
        private readonly CancellationTokenSource abort = new();
        private readonly CancellationTokenSource decodeCancel;
        private readonly Channel<FrameItem> decoded;
        private readonly Channel<FrameItem> detected;
        private readonly MatPool pool = new();
        private readonly FaceTracker tracker;
        private readonly Stopwatch clock = new();
        private readonly List<double> latencies = [];
        private Exception? failure;
        private long dropped;
        private bool reachedEnd;

        public RunState(VideoPipeline owner, VideoSource source, VideoFileWriter? writer, Action<FrameResult>? onFrame, Action<VideoStatistics>? onStatistics, CancellationToken stop)
        {
            this.owner = owner;
            options = owner.Options;
            this.source = source;
            this.writer = writer;
            this.onFrame = onFrame;
            this.onStatistics = onStatistics;
            this.stop = stop;
            decodeCancel = CancellationTokenSource.CreateLinkedTokenSource(stop, abort.Token);
            tracker = new FaceTracker(options.Tracker);
            var bounded = new BoundedChannelOptions(options.QueueCapacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = true,
                SingleWriter = true,
            };
            decoded = Channel.CreateBounded<FrameItem>(bounded);
            detected = Channel.CreateBounded<FrameItem>(bounded);
        }

        public VideoSummary Execute()
        {
            clock.Start();
            var decodeThread = new Thread(Decode) { Name = "mtcnn-video-decode", IsBackground = true };
            var detectThread = new Thread(DetectAndTrack) { Name = "mtcnn-video-detect", IsBackground = true };
            decodeThread.Start();
            detectThread.Start();
            var summary = Output();
            decodeThread.Join();
            detectThread.Join();
            ReturnLeftovers(decoded.Reader);
            ReturnLeftovers(detected.Reader);
            if (failure is not null)
            {
                ExceptionDispatchInfo.Throw(failure);
            }

            return summary with { Stopped = stop.IsCancellationRequested && !reachedEnd };
        }

        public void Dispose()
        {
            pool.Dispose();
            decodeCancel.Dispose();
            abort.Dispose();
        }

        /// <summary>Stage 1: read frames into the first queue.</summary>
        private void Decode()
        {
            try
            {
                long index = 0;
                int accepted = 0;
                bool cutPending = false;
                using var cuts = new SceneCutDetector(options.SceneCutThreshold);
                var token = decodeCancel.Token;
                while (!token.IsCancellationRequested)
                {
                    if (options.MaxFrames > 0 && index >= options.MaxFrames)
                    {
                        reachedEnd = true;
                        break;
                    }

                    var mat = pool.Rent();
                    if (!source.Read(mat, out double time))
                    {
                        pool.Return(mat);
                        reachedEnd = true;
                        break;
                    }

                    cutPending |= cuts.IsCut(mat);
                    var item = new FrameItem(index++, time, mat, Stopwatch.GetTimestamp(), accepted % options.DetectEvery == 0, cutPending);
                    if (options.DropFramesWhenBehind)
                    {
                        if (!decoded.Writer.TryWrite(item))
                        {
                            pool.Return(mat);
                            Interlocked.Increment(ref dropped);
                            continue; // a cut on this frame stays pending for the next one
                        }
                    }
                    else if (!Write(decoded.Writer, item, token))
                    {
                        pool.Return(mat);
                        break;
                    }

                    accepted++;
                    cutPending = false;
                }
            }
#pragma warning disable CA1031 // Any failure of a stage is handed to the caller of Run.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Fail(e);
            }
            finally
            {
                decoded.Writer.TryComplete();
            }
        }

        /// <summary>Stage 2: detect on every Nth frame (up to DetectionWorkers at once) and track, in frame order.</summary>
        private void DetectAndTrack()
        {
            var pending = new Queue<FrameItem>();
            int inFlight = 0;
            try
            {
                var reader = decoded.Reader;
                while (WaitToRead(reader, abort.Token))
                {
                    while (reader.TryRead(out var item))
                    {
                        if (item.IsDetection)
                        {
                            item.Detection = options.DetectionWorkers == 1
                                ? Task.FromResult(DetectTimed(item.Pixels))
                                : Task.Run(() => DetectTimed(item.Pixels), abort.Token);
                            inFlight++;
                        }

                        pending.Enqueue(item);

                        // The oldest frame can be finished once its detection is done (or it needs none); with every worker
                        // busy, wait for it. Frames then leave strictly in order, which the tracker requires.
                        while (pending.TryPeek(out var head) && (head.Detection is null || head.Detection.IsCompleted || inFlight >= options.DetectionWorkers))
                        {
                            pending.Dequeue();
                            if (head.Detection is not null)
                            {
                                inFlight--;
                            }

                            Finish(head);
                        }
                    }
                }

                while (!abort.IsCancellationRequested && pending.TryDequeue(out var item))
                {
                    Finish(item);
                }
            }
#pragma warning disable CA1031 // Any failure of a stage is handed to the caller of Run.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Fail(e);
            }
            finally
            {
                // Frames still waiting (after a failure): let running detections end before their pixels are reused.
                foreach (var item in pending)
                {
                    try
                    {
                        item.Detection?.Wait();
                    }
                    catch (AggregateException)
                    {
                        // Already failing; the first failure is the one reported.
                    }

                    pool.Return(item.Pixels);
                }

                detected.Writer.TryComplete();
            }
        }

        private (DetectionResult Result, TimeSpan Time) DetectTimed(Mat pixels)
        {
            long start = Stopwatch.GetTimestamp();
            var result = MatDetection.Detect(owner.detector, pixels, abort.Token);
            return (result, Stopwatch.GetElapsedTime(start));
        }

        private void Finish(FrameItem item)
        {
            if (item.SceneCut)
            {
                tracker.StartScene();
            }

            if (item.Detection is { } detection)
            {
                var (result, time) = detection.GetAwaiter().GetResult();
                item.Faces = tracker.Update(result.Faces);
                item.DetectionTime = time;
                item.CandidateLimitReached = result.CandidateLimitReached;
            }
            else
            {
                item.Faces = tracker.Visible;
            }

            item.Tracks = tracker.TracksCreated;
            if (!Write(detected.Writer, item, abort.Token))
            {
                pool.Return(item.Pixels);
            }
        }

        /// <summary>Stage 3 (calling thread): annotate, encode, report, in frame order.</summary>
        private VideoSummary Output()
        {
            long frames = 0, detectionFrames = 0, framesWithFaces = 0, sceneCuts = 0, limitFrames = 0;
            int maxFaces = 0, tracks = 0, lastFaces = 0;
            double detectionSeconds = 0;
            var lastReport = TimeSpan.Zero;
            long intervalFrames = 0;
            double intervalLatency = 0;
            long? expected = options.MaxFrames > 0 ? Math.Min(source.FrameCount ?? long.MaxValue, options.MaxFrames) : source.FrameCount;
            try
            {
                var reader = detected.Reader;
                while (WaitToRead(reader, abort.Token))
                {
                    while (!abort.IsCancellationRequested && reader.TryRead(out var item))
                    {
                        try
                        {
                            if (writer is not null)
                            {
                                if (options.Annotate)
                                {
                                    owner.Annotator.Draw(item.Pixels, item.Faces);
                                }

                                writer.Write(item.Pixels);
                            }
                        }
                        finally
                        {
                            pool.Return(item.Pixels);
                        }

                        var latency = Stopwatch.GetElapsedTime(item.DecodedAt);
                        frames++;
                        sceneCuts += item.SceneCut ? 1 : 0;
                        if (item.IsDetection)
                        {
                            detectionFrames++;
                            detectionSeconds += item.DetectionTime.TotalSeconds;
                            limitFrames += item.CandidateLimitReached ? 1 : 0;
                        }

                        lastFaces = item.Faces.Count;
                        framesWithFaces += lastFaces > 0 ? 1 : 0;
                        maxFaces = Math.Max(maxFaces, lastFaces);
                        tracks = item.Tracks;
                        latencies.Add(latency.TotalSeconds);
                        intervalFrames++;
                        intervalLatency += latency.TotalSeconds;

                        onFrame?.Invoke(new FrameResult(item.Index, item.Time, item.IsDetection, item.Faces, latency, item.DetectionTime, item.SceneCut, item.CandidateLimitReached));

                        var now = clock.Elapsed;
                        if (onStatistics is not null && now - lastReport >= options.StatisticsInterval)
                        {
                            double span = (now - lastReport).TotalSeconds;
                            onStatistics(new VideoStatistics(
                                frames,
                                expected,
                                now,
                                intervalFrames / Math.Max(span, 1e-9),
                                TimeSpan.FromSeconds(intervalLatency / Math.Max(intervalFrames, 1)),
                                lastFaces,
                                tracks,
                                Interlocked.Read(ref dropped)));
                            lastReport = now;
                            intervalFrames = 0;
                            intervalLatency = 0;
                        }
                    }
                }
            }
#pragma warning disable CA1031 // Any failure of a stage is handed to the caller of Run.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Fail(e);
            }

            var elapsed = clock.Elapsed;
            latencies.Sort();
            return new VideoSummary(
                frames,
                detectionFrames,
                Interlocked.Read(ref dropped),
                elapsed,
                frames / Math.Max(elapsed.TotalSeconds, 1e-9),
                TimeSpan.FromSeconds(Percentile(latencies, 0.5)),
                TimeSpan.FromSeconds(Percentile(latencies, 0.95)),
                TimeSpan.FromSeconds(detectionFrames > 0 ? detectionSeconds / detectionFrames : 0),
                tracks,
                framesWithFaces,
                maxFaces,
                sceneCuts,
                limitFrames,
                Stopped: false);
        }

        private void Fail(Exception e)
        {
            if (e is OperationCanceledException && abort.IsCancellationRequested)
            {
                return; // a consequence of an earlier failure, not a cause
            }

            Interlocked.CompareExchange(ref failure, e, null);
            abort.Cancel();
        }

        private void ReturnLeftovers(ChannelReader<FrameItem> reader)
        {
            while (reader.TryRead(out var item))
            {
                pool.Return(item.Pixels);
            }
        }

        private static double Percentile(List<double> sorted, double p) =>
            sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

        /// <summary>Writes to a bounded queue, waiting for room; false when cancelled first.</summary>
        private static bool Write(ChannelWriter<FrameItem> channel, FrameItem item, CancellationToken token)
        {
            if (channel.TryWrite(item))
            {
                return true;
            }

            try
            {
                channel.WriteAsync(item, token).AsTask().GetAwaiter().GetResult();
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        /// <summary>Waits until the queue has an item; false when it is completed and empty, or when cancelled.</summary>
        private static bool WaitToRead(ChannelReader<FrameItem> channel, CancellationToken token)
        {
            try
            {
                var wait = channel.WaitToReadAsync(token);
                return wait.IsCompleted ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }
}
