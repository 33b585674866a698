namespace Mtcnn.Video;

/// <summary>Live statistics of a running <see cref="VideoPipeline"/>, reported about once per <see cref="VideoPipelineOptions.StatisticsInterval"/>.</summary>
/// <param name="FramesDone">Frames fully processed (output) so far.</param>
/// <param name="FrameCount">Frames the source declares (files), or null when unknown (cameras, streams).</param>
/// <param name="Elapsed">Time since the pipeline started.</param>
/// <param name="FramesPerSecond">Processing rate over the last interval (frames output per second).</param>
/// <param name="Latency">Mean latency (decode end to output end) of the frames output in the last interval.</param>
/// <param name="Faces">Faces visible in the latest frame.</param>
/// <param name="Tracks">Track ids handed out so far (distinct faces seen).</param>
/// <param name="Dropped">Frames dropped because the pipeline was behind (only with <see cref="VideoPipelineOptions.DropFramesWhenBehind"/>).</param>
public sealed record VideoStatistics(
    long FramesDone, long? FrameCount, TimeSpan Elapsed, double FramesPerSecond, TimeSpan Latency, int Faces, int Tracks, long Dropped);
