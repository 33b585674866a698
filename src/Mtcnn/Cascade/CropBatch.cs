namespace Mtcnn.Cascade;

/// <summary>
/// Batches the R-Net and O-Net crops of several images that are detected at the same time
/// (<see cref="FaceDetector.DetectBatch"/> on a backend): each image's detection arrives at a stage with its crops (or
/// none) and waits; when every image of the batch has arrived at that stage or finished, the last one to get there
/// sends all the crops to the backend in one call and hands each image its outputs. One round per stage; an image
/// that fails or stops early counts as arrived at the stages it did not reach, so nobody waits for it. Thread-safe.
/// </summary>
internal sealed class CropBatch
{
    private readonly INetworkBackend backend;
    private readonly object gate = new();
    private readonly Round[] rounds = [new(CascadeStage.RNet), new(CascadeStage.ONet)];
    private readonly int participants;

    /// <summary>Creates the coordinator for <paramref name="participants"/> images.</summary>
    public CropBatch(INetworkBackend backend, int participants)
    {
        this.backend = backend;
        this.participants = participants;
    }

    /// <summary>Backend calls made (for tests).</summary>
    public int Calls { get; private set; }

    /// <summary>One image's part in the batch; dispose it when the image's detection ends.</summary>
    public sealed class Member : IDisposable
    {
        private readonly CropBatch owner;

        internal Member(CropBatch owner) => this.owner = owner;

        /// <summary>The stages this image has arrived at.</summary>
        internal bool[] Arrived { get; } = new bool[2];

        /// <summary>Sends this image's crops for <paramref name="stage"/> and waits for their outputs.</summary>
        public void Run(CascadeStage stage, ReadOnlySpan<float> crops, int count, Span<float> output, int stride) =>
            owner.Arrive(this, stage, crops, count, output, stride);

        /// <inheritdoc/>
        public void Dispose() => owner.Leave(this);
    }

    /// <summary>A member for one image.</summary>
    public Member Join() => new(this);

    private void Arrive(Member member, CascadeStage stage, ReadOnlySpan<float> crops, int count, Span<float> output, int stride)
    {
        var round = rounds[stage == CascadeStage.RNet ? 0 : 1];
        var entry = new Entry(count == 0 ? [] : crops.ToArray(), count, stride);
        bool last;
        lock (gate)
        {
            member.Arrived[round.Index] = true;
            round.Entries.Add(entry);
            last = ++round.Arrived == participants;
        }

        if (last)
        {
            Execute(round);
        }
        else
        {
            lock (gate)
            {
                while (!round.Finished)
                {
                    Monitor.Wait(gate);
                }
            }
        }

        if (round.Error is { } error)
        {
            throw new InvalidOperationException("The batched network call failed: " + error.Message, error);
        }

        entry.Output.AsSpan(0, count * stride).CopyTo(output);
    }

    private void Leave(Member member)
    {
        var pending = new List<Round>();
        lock (gate)
        {
            foreach (var round in rounds)
            {
                if (!member.Arrived[round.Index])
                {
                    member.Arrived[round.Index] = true;
                    if (++round.Arrived == participants)
                    {
                        pending.Add(round);
                    }
                }
            }
        }

        foreach (var round in pending)
        {
            Execute(round);
        }
    }

    /// <summary>One backend call with every image's crops of the round, then the outputs handed back.</summary>
    private void Execute(Round round)
    {
        try
        {
            var entries = round.Entries;
            int total = entries.Sum(e => e.Count);
            if (total > 0)
            {
                var first = entries.First(e => e.Count > 0);
                int stride = first.Stride;
                int per = first.Crops.Length / first.Count;
                var input = new float[total * per];
                var output = new float[total * stride];
                int at = 0;
                foreach (var e in entries)
                {
                    e.Crops.AsSpan(0, e.Count * per).CopyTo(input.AsSpan(at * per));
                    at += e.Count;
                }

                backend.RunCrops(round.Stage, input, total, output, stride);
                lock (gate)
                {
                    Calls++;
                }

                at = 0;
                foreach (var e in entries)
                {
                    output.AsSpan(at * stride, e.Count * stride).CopyTo(e.Output);
                    at += e.Count;
                }
            }
        }
#pragma warning disable CA1031 // Handed to every waiting image, which rethrows it.
        catch (Exception e)
#pragma warning restore CA1031
        {
            round.Error = e;
        }
        finally
        {
            lock (gate)
            {
                round.Finished = true;
                Monitor.PulseAll(gate);
            }
        }
    }

    private sealed class Round(CascadeStage stage)
    {
        public CascadeStage Stage { get; } = stage;

        public int Index => Stage == CascadeStage.RNet ? 0 : 1;

        public List<Entry> Entries { get; } = [];

        public int Arrived { get; set; }

        public bool Finished { get; set; }

        public Exception? Error { get; set; }
    }

    private sealed class Entry(float[] crops, int count, int stride)
    {
        public float[] Crops { get; } = crops;

        public int Count { get; } = count;

        public int Stride { get; } = stride;

        public float[] Output { get; } = new float[count * stride];
    }
}
