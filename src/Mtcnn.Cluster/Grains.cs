using Orleans.Concurrency;

namespace Mtcnn.Cluster;

/// <summary>
/// One job (key: its name). It owns the partition table: hands out partitions with leases, takes commits idempotently
/// (keyed by job and partition; the first commit's records are kept, later ones are dropped) and persists what is
/// committed, so that a reactivation on another silo resumes where the job was. Leases live only in memory: after a
/// reactivation every uncommitted partition is pending again, and workers still running an old lease may commit it.
/// </summary>
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Creates the job, or resumes it when one of the same name, inputs and settings exists.</summary>
    /// <exception cref="ArgumentException">The spec is invalid, or the name is taken by a job with other inputs or settings.</exception>
    Task<SubmitResult> Submit(JobSpec spec);

    /// <summary>Leases a pending partition to <paramref name="worker"/>; null when none is pending (or the job is not running).</summary>
    Task<PartitionLease?> Acquire(string worker);

    /// <summary>Extends a lease; false when the worker should stop (the partition is committed or leased to someone else).</summary>
    Task<bool> Renew(int partition, Guid token, string worker);

    /// <summary>Ends a lease without a result (the worker is shutting down): the partition is pending again at once.</summary>
    Task Release(int partition, Guid token);

    /// <summary>Commits one record per input of the partition, in input order.</summary>
    /// <exception cref="ArgumentException">The partition does not exist or the number of records is not its number of inputs.</exception>
    Task<CommitOutcome> Commit(int partition, Guid token, string worker, IReadOnlyList<string> records);

    /// <summary>Reports that processing the partition failed as a whole (not a bad image: those are records).</summary>
    Task Fail(int partition, Guid token, string worker, string reason);

    /// <summary>The job's state and progress.</summary>
    Task<JobStatus> GetStatus();
}

/// <summary>One partition's inputs and, once committed, its records (key: <c>JOB/INDEX</c>). Writes are first-wins.</summary>
public interface IPartitionGrain : IGrainWithStringKey
{
    /// <summary>Stores the inputs (idempotent: the same inputs again are accepted, others refused once records exist).</summary>
    Task Initialize(IReadOnlyList<string> inputs);

    /// <summary>The partition's inputs.</summary>
    Task<IReadOnlyList<string>> GetInputs();

    /// <summary>Stores the records unless some were stored before; true when these are the stored ones.</summary>
    Task<bool> Store(IReadOnlyList<string> records, string worker);

    /// <summary>The stored records; null before the first commit.</summary>
    Task<IReadOnlyList<string>?> GetRecords();
}

/// <summary>
/// A silo's workers, told by the registry that work may be waiting (a job was registered, a partition was released or
/// failed and can be retried), so that they ask at once instead of at their next idle poll.
/// </summary>
public interface IWorkObserver : IGrainObserver
{
    /// <summary>Work may be waiting; a hint only (the workers still ask the jobs for leases).</summary>
    [OneWay]
    Task WorkAvailable();
}

/// <summary>
/// The cluster's list of jobs (key 0), which workers poll for running ones; it also tells subscribed workers when work
/// appears (subscriptions live in memory and expire unless renewed, so workers subscribe again periodically).
/// </summary>
public interface IJobRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Adds or renews a subscription to <see cref="IWorkObserver.WorkAvailable"/>.</summary>
    Task Subscribe(IWorkObserver observer);

    /// <summary>Ends a subscription (a silo shutting down).</summary>
    Task Unsubscribe(IWorkObserver observer);

    /// <summary>Tells every subscribed worker that work may be waiting.</summary>
    [OneWay]
    Task SignalWork();

    /// <summary>Adds a running job.</summary>
    Task Register(string job);

    /// <summary>Marks a job finished (completed or failed): workers stop asking it for work.</summary>
    Task Finished(string job);

    /// <summary>Running jobs, oldest first.</summary>
    Task<IReadOnlyList<string>> GetRunning();

    /// <summary>Every job ever registered, oldest first.</summary>
    Task<IReadOnlyList<string>> GetAll();
}
