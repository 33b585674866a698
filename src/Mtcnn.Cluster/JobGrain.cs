using System.Security.Cryptography;
using System.Text;
using Orleans.Runtime;

namespace Mtcnn.Cluster;

/// <summary>The persisted part of a job: its spec without the inputs (those live in the partitions) and what is committed.</summary>
[GenerateSerializer]
public sealed class JobRecord
{
    /// <summary>Null until the job is created.</summary>
    [Id(0)]
    public string? Fingerprint { get; set; }

    /// <summary>The processor settings.</summary>
    [Id(1)]
    public string Settings { get; set; } = "";

    /// <summary>Where relative inputs are opened from.</summary>
    [Id(2)]
    public string BaseDirectory { get; set; } = "";

    /// <summary>Inputs in the job.</summary>
    [Id(3)]
    public int InputCount { get; set; }

    /// <summary>Inputs per partition.</summary>
    [Id(4)]
    public int PartitionSize { get; set; }

    /// <summary>Lease length in seconds.</summary>
    [Id(5)]
    public double LeaseSeconds { get; set; }

    /// <summary>Failed attempts allowed per partition.</summary>
    [Id(6)]
    public int MaxAttempts { get; set; }

    /// <summary>One flag per partition.</summary>
    [Id(7)]
    public bool[] Committed { get; set; } = [];

    /// <summary>Failed attempts per partition.</summary>
    [Id(8)]
    public int[] Attempts { get; set; } = [];

    /// <summary>The job's state.</summary>
    [Id(9)]
    public JobState State { get; set; }

    /// <summary>Inputs committed per worker.</summary>
    [Id(10)]
    public Dictionary<string, int> InputsByWorker { get; set; } = [];

    /// <summary>Commits of already committed partitions.</summary>
    [Id(11)]
    public int DuplicateCommits { get; set; }

    /// <summary>Inputs in those commits.</summary>
    [Id(12)]
    public int DuplicateInputs { get; set; }

    /// <summary>Recent processor failures.</summary>
    [Id(13)]
    public List<string> Failures { get; set; } = [];

    /// <summary>Creation time.</summary>
    [Id(14)]
    public DateTime CreatedUtc { get; set; }

    /// <summary>Completion or failure time.</summary>
    [Id(15)]
    public DateTime? FinishedUtc { get; set; }

    /// <summary>Re-grants of previously granted partitions.</summary>
    [Id(16)]
    public int Regrants { get; set; }

    /// <summary>Grants per partition.</summary>
    [Id(17)]
    public int[] Grants { get; set; } = [];

    /// <summary>The worker last granted each partition (null: never granted or released).</summary>
    [Id(18)]
    public string?[] Holders { get; set; } = [];

    /// <summary>The latest re-grants (at most 100), oldest first.</summary>
    [Id(19)]
    public List<RegrantEvent> RegrantEvents { get; set; } = [];

    /// <summary>When the first partition was handed out (null before that).</summary>
    [Id(20)]
    public DateTime? FirstLeaseUtc { get; set; }
}

/// <summary>The job grain; see <see cref="IJobGrain"/>.</summary>
public sealed class JobGrain : Grain, IJobGrain
{
    private const int MaxFailuresKept = 20;
    private const int MaxRegrantEventsKept = 100;
    private readonly IPersistentState<JobRecord> state;
    private readonly Dictionary<int, Lease> leases = [];
    private int firstOpen;

    /// <summary>Creates the grain over its persisted record.</summary>
    public JobGrain([PersistentState("job", ClusterNames.Storage)] IPersistentState<JobRecord> state)
    {
        this.state = state;
    }

    private JobRecord R => state.State;

    private string Name => this.GetPrimaryKeyString();

    private int PartitionCount => R.Committed.Length;

    /// <inheritdoc/>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A new activation (the silo that had this grain died, or it was idle): the leases were in memory, but who
        // held each partition is persisted. Give those holders one lease length to renew, so that live workers keep
        // their partitions and only a dead worker's partitions are handed out again.
        var until = DateTime.UtcNow.AddSeconds(R.LeaseSeconds);
        for (int p = 0; p < R.Holders.Length; p++)
        {
            if (R.Holders[p] is { } holder && !R.Committed[p])
            {
                leases[p] = new Lease(Guid.Empty, holder, until);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task<SubmitResult> Submit(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Validate(spec);
        string fingerprint = Fingerprint(spec);
        if (R.Fingerprint is not null)
        {
            if (R.Fingerprint != fingerprint)
            {
                throw new ArgumentException(
                    $"job '{Name}' exists with other inputs or options ({R.InputCount} inputs); choose another --job name to start a new job", nameof(spec));
            }

            if (R.State == JobState.Running)
            {
                await GrainFactory.GetGrain<IJobRegistryGrain>(0).Register(Name);
                return new SubmitResult { Outcome = SubmitOutcome.Resumed, Status = Snapshot() };
            }

            return new SubmitResult { Outcome = SubmitOutcome.AlreadyFinished, Status = Snapshot() };
        }

        int partitions = JobSpec.PartitionCount(spec.Inputs.Count, spec.PartitionSize);
        var writes = new List<Task>(partitions);
        for (int p = 0; p < partitions; p++)
        {
            int start = p * spec.PartitionSize;
            int count = Math.Min(spec.PartitionSize, spec.Inputs.Count - start);
            var slice = new string[count];
            for (int i = 0; i < count; i++)
            {
                slice[i] = spec.Inputs[start + i];
            }

            writes.Add(Partition(p).Initialize(slice));
        }

        await Task.WhenAll(writes);
        R.Settings = spec.Settings;
        R.BaseDirectory = spec.BaseDirectory;
        R.InputCount = spec.Inputs.Count;
        R.PartitionSize = spec.PartitionSize;
        R.LeaseSeconds = spec.LeaseSeconds;
        R.MaxAttempts = spec.MaxAttempts;
        R.Committed = new bool[partitions];
        R.Attempts = new int[partitions];
        R.Grants = new int[partitions];
        R.Holders = new string?[partitions];
        R.State = JobState.Running;
        R.CreatedUtc = DateTime.UtcNow;
        R.Fingerprint = fingerprint;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IJobRegistryGrain>(0).Register(Name);
        return new SubmitResult { Outcome = SubmitOutcome.Created, Status = Snapshot() };
    }

    /// <inheritdoc/>
    public async Task<PartitionLease?> Acquire(string worker)
    {
        if (R.State != JobState.Running)
        {
            return null;
        }

        // The lowest open partition first: records complete in input order, and a partition whose lease expired
        // (its silo died) is taken by the next worker that asks instead of waiting for the end of the job.
        var now = DateTime.UtcNow;
        while (firstOpen < PartitionCount && R.Committed[firstOpen])
        {
            firstOpen++;
        }

        for (int p = firstOpen; p < PartitionCount; p++)
        {
            if (R.Committed[p] || (leases.TryGetValue(p, out var held) && held.ExpiresUtc > now))
            {
                continue;
            }

            var lease = new Lease(Guid.NewGuid(), worker, now.AddSeconds(R.LeaseSeconds));
            leases[p] = lease;
            int previous = R.Grants[p]++;
            if (previous > 0)
            {
                R.Regrants++;
                R.RegrantEvents.Add(new RegrantEvent { Partition = p, PreviousWorker = R.Holders[p] ?? "", Worker = worker, Utc = now });
                if (R.RegrantEvents.Count > MaxRegrantEventsKept)
                {
                    R.RegrantEvents.RemoveAt(0);
                }
            }

            R.Holders[p] = worker;
            R.FirstLeaseUtc ??= now;
            await state.WriteStateAsync();
            return new PartitionLease
            {
                Job = Name,
                Partition = p,
                Token = lease.Token,
                Settings = R.Settings,
                BaseDirectory = R.BaseDirectory,
                ExpiresUtc = lease.ExpiresUtc,
                LeaseSeconds = R.LeaseSeconds,
                PreviousGrants = previous,
            };
        }

        return null;
    }

    /// <inheritdoc/>
    public Task<bool> Renew(int partition, Guid token, string worker)
    {
        if (R.State != JobState.Running || partition < 0 || partition >= PartitionCount || R.Committed[partition])
        {
            return Task.FromResult(false);
        }

        var now = DateTime.UtcNow;
        if (leases.TryGetValue(partition, out var held) && held.Token != token && held.ExpiresUtc > now
            && !(held.Token == Guid.Empty && held.Worker == worker))
        {
            return Task.FromResult(false);
        }

        // Our lease, an expired one, or none (this activation is new after a silo died): the renewing worker keeps it.
        leases[partition] = new Lease(token, worker, now.AddSeconds(R.LeaseSeconds));
        R.Holders[partition] = worker;
        return Task.FromResult(true);
    }

    /// <inheritdoc/>
    public async Task Release(int partition, Guid token)
    {
        if (leases.TryGetValue(partition, out var held) && held.Token == token)
        {
            leases.Remove(partition);

            // Pending again now: idle workers elsewhere take it without waiting for their next poll.
            await GrainFactory.GetGrain<IJobRegistryGrain>(0).SignalWork();
        }

        // Holders[partition] stays: it is only a hint for a new activation, and a released partition is pending now.
    }

    /// <inheritdoc/>
    public async Task<CommitOutcome> Commit(int partition, Guid token, string worker, IReadOnlyList<string> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (R.Fingerprint is null || partition < 0 || partition >= PartitionCount)
        {
            throw new ArgumentException($"job '{Name}' has no partition {partition}", nameof(partition));
        }

        int expected = InputsOf(partition);
        if (records.Count != expected)
        {
            throw new ArgumentException($"partition {partition} of job '{Name}' has {expected} inputs, got {records.Count} records", nameof(records));
        }

        if (R.Committed[partition])
        {
            R.DuplicateCommits++;
            R.DuplicateInputs += records.Count;
            await state.WriteStateAsync();
            return CommitOutcome.Duplicate;
        }

        // First-wins in the partition too: if this grain stored its records before but died before persisting the
        // flag, the stored records stay and these are dropped.
        bool stored = await Partition(partition).Store(records, worker);
        R.Committed[partition] = true;
        leases.Remove(partition);
        if (stored)
        {
            R.InputsByWorker[worker] = R.InputsByWorker.GetValueOrDefault(worker) + records.Count;
        }
        else
        {
            R.DuplicateCommits++;
            R.DuplicateInputs += records.Count;
        }

        bool finished = R.Committed.All(c => c);
        if (finished)
        {
            R.State = JobState.Completed;
            R.FinishedUtc = DateTime.UtcNow;
        }

        await state.WriteStateAsync();
        if (finished)
        {
            await GrainFactory.GetGrain<IJobRegistryGrain>(0).Finished(Name);
        }

        return stored ? CommitOutcome.Stored : CommitOutcome.Duplicate;
    }

    /// <inheritdoc/>
    public async Task Fail(int partition, Guid token, string worker, string reason)
    {
        if (R.Fingerprint is null || partition < 0 || partition >= PartitionCount || R.Committed[partition])
        {
            return;
        }

        if (leases.TryGetValue(partition, out var held) && held.Token == token)
        {
            leases.Remove(partition);
        }

        R.Attempts[partition]++;
        R.Failures.Add($"partition {partition} on {worker}: {reason}");
        if (R.Failures.Count > MaxFailuresKept)
        {
            R.Failures.RemoveAt(0);
        }

        bool failed = R.Attempts[partition] >= R.MaxAttempts && R.State == JobState.Running;
        if (failed)
        {
            R.State = JobState.Failed;
            R.FinishedUtc = DateTime.UtcNow;
        }

        await state.WriteStateAsync();
        if (failed)
        {
            await GrainFactory.GetGrain<IJobRegistryGrain>(0).Finished(Name);
        }
        else
        {
            await GrainFactory.GetGrain<IJobRegistryGrain>(0).SignalWork();
        }
    }

    /// <inheritdoc/>
    public Task<JobStatus> GetStatus() => Task.FromResult(Snapshot());

    /// <summary>A digest of the inputs, settings and cut, which a resubmission must match.</summary>
    public static string Fingerprint(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(s);
            hash.AppendData(BitConverter.GetBytes(bytes.Length));
            hash.AppendData(bytes);
        }

        Add(spec.Settings);
        Add(spec.BaseDirectory);
        Add(spec.PartitionSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (string input in spec.Inputs)
        {
            Add(input);
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static void Validate(JobSpec spec)
    {
        if (spec.Inputs.Count == 0)
        {
            throw new ArgumentException("a job needs at least one input", nameof(spec));
        }

        if (spec.PartitionSize < 1)
        {
            throw new ArgumentException($"the partition size must be at least 1, got {spec.PartitionSize}", nameof(spec));
        }

        int partitions = JobSpec.PartitionCount(spec.Inputs.Count, spec.PartitionSize);
        if (partitions > JobSpec.MaxPartitions)
        {
            throw new ArgumentException(
                $"{spec.Inputs.Count} inputs at {spec.PartitionSize} per partition make {partitions} partitions, over the limit of {JobSpec.MaxPartitions}; "
                + $"use a partition size of at least {(spec.Inputs.Count + JobSpec.MaxPartitions - 1) / JobSpec.MaxPartitions} or split the inputs into several jobs",
                nameof(spec));
        }

        if (!(spec.LeaseSeconds > 0))
        {
            throw new ArgumentException($"the lease must last more than 0 seconds, got {spec.LeaseSeconds}", nameof(spec));
        }

        if (spec.MaxAttempts < 1)
        {
            throw new ArgumentException($"max attempts must be at least 1, got {spec.MaxAttempts}", nameof(spec));
        }
    }

    private int InputsOf(int partition) => Math.Min(R.PartitionSize, R.InputCount - (partition * R.PartitionSize));

    private IPartitionGrain Partition(int index) => GrainFactory.GetGrain<IPartitionGrain>(ClusterNames.PartitionKey(Name, index));

    private JobStatus Snapshot()
    {
        var now = DateTime.UtcNow;
        int committed = 0, done = 0;
        for (int p = 0; p < PartitionCount; p++)
        {
            if (R.Committed[p])
            {
                committed++;
                done += InputsOf(p);
            }
        }

        return new JobStatus
        {
            Name = Name,
            State = R.Fingerprint is null ? JobState.Unknown : R.State,
            Inputs = R.InputCount,
            Partitions = PartitionCount,
            CommittedPartitions = committed,
            InputsDone = done,
            LeasedPartitions = leases.Count(l => l.Value.ExpiresUtc > now && !R.Committed[l.Key]),
            InputsByWorker = new Dictionary<string, int>(R.InputsByWorker),
            Regrants = R.Regrants,
            DuplicateCommits = R.DuplicateCommits,
            DuplicateInputs = R.DuplicateInputs,
            Failures = [.. R.Failures],
            RegrantEvents = [.. R.RegrantEvents],
            CreatedUtc = R.CreatedUtc,
            FinishedUtc = R.FinishedUtc,
            FirstLeaseUtc = R.FirstLeaseUtc,
            LeaseSeconds = R.LeaseSeconds,
        };
    }

    private readonly record struct Lease(Guid Token, string Worker, DateTime ExpiresUtc);
}
