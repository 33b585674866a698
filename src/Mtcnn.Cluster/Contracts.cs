namespace Mtcnn.Cluster;

/// <summary>
/// What a client submits: the inputs in output order, the opaque settings every silo's <see cref="IPartitionProcessor"/>
/// interprets (detector options, task), and how the job is cut and leased.
/// </summary>
[GenerateSerializer]
[Immutable]
public sealed record JobSpec
{
    /// <summary>The job's name (the key of its grain); submitting the same name again resumes it.</summary>
    [Id(0)]
    public required string Name { get; init; }

    /// <summary>The inputs as the user named them (each gives one output record, in this order).</summary>
    [Id(1)]
    public required IReadOnlyList<string> Inputs { get; init; }

    /// <summary>The processor's settings (for <c>mtcnn</c>: the detector options as JSON).</summary>
    [Id(2)]
    public required string Settings { get; init; }

    /// <summary>The folder relative inputs are opened from (the submitter's working directory; shared storage).</summary>
    [Id(3)]
    public required string BaseDirectory { get; init; }

    /// <summary>Inputs per partition, the unit of leasing, retry and commit.</summary>
    [Id(4)]
    public int PartitionSize { get; init; } = 25;

    /// <summary>Seconds a lease lasts without renewal; a dead silo's partitions run elsewhere this long after its last renewal.</summary>
    [Id(5)]
    public double LeaseSeconds { get; init; } = 10;

    /// <summary>Failed attempts (a processor exception, not a bad image) after which a partition fails the job.</summary>
    [Id(6)]
    public int MaxAttempts { get; init; } = 3;

    /// <summary>
    /// Most partitions in one job: the job grain rewrites its partition table (a few dozen bytes per partition) at each
    /// lease and commit, so a job's storage traffic grows with the square of its partition count. Larger collections
    /// take a larger partition size or several jobs (docs/cluster.md).
    /// </summary>
    public const int MaxPartitions = 20_000;

    /// <summary>
    /// Most bytes of inputs (UTF-16 characters counted twice) in one job: the inputs travel in one <c>Submit</c> message, and
    /// Orleans refuses message bodies over 100 MB.
    /// </summary>
    public const long MaxInputBytes = 64L * 1024 * 1024;

    /// <summary>Partitions of <paramref name="inputs"/> inputs at <paramref name="partitionSize"/> each.</summary>
    public static int PartitionCount(int inputs, int partitionSize) => (inputs + partitionSize - 1) / partitionSize;
}

/// <summary>A partition handed to one worker until <see cref="ExpiresUtc"/> unless renewed.</summary>
[GenerateSerializer]
[Immutable]
public sealed record PartitionLease
{
    /// <summary>The job.</summary>
    [Id(0)]
    public required string Job { get; init; }

    /// <summary>The partition's index (0-based, in input order).</summary>
    [Id(1)]
    public required int Partition { get; init; }

    /// <summary>Identifies this grant; renewals, commits and releases name it.</summary>
    [Id(2)]
    public required Guid Token { get; init; }

    /// <summary>The job's processor settings.</summary>
    [Id(3)]
    public required string Settings { get; init; }

    /// <summary>The folder relative inputs are opened from.</summary>
    [Id(4)]
    public required string BaseDirectory { get; init; }

    /// <summary>When the lease ends unless renewed.</summary>
    [Id(5)]
    public required DateTime ExpiresUtc { get; init; }

    /// <summary>The lease's length in seconds (renew well within it).</summary>
    [Id(6)]
    public required double LeaseSeconds { get; init; }

    /// <summary>How many times this partition was handed out before (0 on the first grant).</summary>
    [Id(7)]
    public int PreviousGrants { get; init; }
}

/// <summary>A job's lifecycle.</summary>
public enum JobState
{
    /// <summary>No job of that name was submitted.</summary>
    Unknown,

    /// <summary>Partitions are pending, leased or committed.</summary>
    Running,

    /// <summary>Every partition is committed.</summary>
    Completed,

    /// <summary>A partition failed <see cref="JobSpec.MaxAttempts"/> times; see <see cref="JobStatus.Failures"/>.</summary>
    Failed,
}

/// <summary>What submitting did.</summary>
public enum SubmitOutcome
{
    /// <summary>A new job was created.</summary>
    Created,

    /// <summary>The job existed with the same inputs and settings and is still running: it goes on.</summary>
    Resumed,

    /// <summary>The job existed with the same inputs and settings and is finished: nothing is redone.</summary>
    AlreadyFinished,
}

/// <summary>A snapshot of one job.</summary>
[GenerateSerializer]
public sealed record JobStatus
{
    /// <summary>The job's name.</summary>
    [Id(0)]
    public required string Name { get; init; }

    /// <summary>Its state.</summary>
    [Id(1)]
    public required JobState State { get; init; }

    /// <summary>Inputs in the job.</summary>
    [Id(2)]
    public int Inputs { get; init; }

    /// <summary>Partitions in the job.</summary>
    [Id(3)]
    public int Partitions { get; init; }

    /// <summary>Partitions committed.</summary>
    [Id(4)]
    public int CommittedPartitions { get; init; }

    /// <summary>Inputs whose records are committed.</summary>
    [Id(5)]
    public int InputsDone { get; init; }

    /// <summary>Partitions under a live lease now.</summary>
    [Id(6)]
    public int LeasedPartitions { get; init; }

    /// <summary>Inputs committed by each worker (silo address), first commits only.</summary>
    [Id(7)]
    public IReadOnlyDictionary<string, int> InputsByWorker { get; init; } = new Dictionary<string, int>();

    /// <summary>Grants of a partition that had been granted before (its lease expired or was released): work possibly redone.</summary>
    [Id(8)]
    public int Regrants { get; init; }

    /// <summary>Commits of partitions already committed (their work was redone and dropped).</summary>
    [Id(9)]
    public int DuplicateCommits { get; init; }

    /// <summary>Inputs of the duplicate commits.</summary>
    [Id(10)]
    public int DuplicateInputs { get; init; }

    /// <summary>Processor failures, newest last (at most 20): "partition N on WORKER: reason".</summary>
    [Id(11)]
    public IReadOnlyList<string> Failures { get; init; } = [];

    /// <summary>When the job was created.</summary>
    [Id(12)]
    public DateTime CreatedUtc { get; init; }

    /// <summary>When it completed or failed; null while running.</summary>
    [Id(13)]
    public DateTime? FinishedUtc { get; init; }

    /// <summary>The leases' length in seconds.</summary>
    [Id(14)]
    public double LeaseSeconds { get; init; }

    /// <summary>The latest re-grants (at most 100), oldest first.</summary>
    [Id(15)]
    public IReadOnlyList<RegrantEvent> RegrantEvents { get; init; } = [];

    /// <summary>When a worker took the first partition; null before that.</summary>
    [Id(16)]
    public DateTime? FirstLeaseUtc { get; init; }
}

/// <summary>A partition handed out again after its lease expired or was released.</summary>
[GenerateSerializer]
[Immutable]
public sealed record RegrantEvent
{
    /// <summary>The partition.</summary>
    [Id(0)]
    public int Partition { get; init; }

    /// <summary>The worker that held it before.</summary>
    [Id(1)]
    public string PreviousWorker { get; init; } = "";

    /// <summary>The worker it went to.</summary>
    [Id(2)]
    public string Worker { get; init; } = "";

    /// <summary>When.</summary>
    [Id(3)]
    public DateTime Utc { get; init; }
}

/// <summary>The answer to <see cref="IJobGrain.Submit"/>.</summary>
[GenerateSerializer]
public sealed record SubmitResult
{
    /// <summary>What happened.</summary>
    [Id(0)]
    public required SubmitOutcome Outcome { get; init; }

    /// <summary>The job afterwards.</summary>
    [Id(1)]
    public required JobStatus Status { get; init; }
}

/// <summary>The answer to <see cref="IJobGrain.Commit"/>.</summary>
public enum CommitOutcome
{
    /// <summary>The partition's records are stored now (the first commit).</summary>
    Stored,

    /// <summary>The partition was committed before; these records were dropped (idempotence).</summary>
    Duplicate,
}
