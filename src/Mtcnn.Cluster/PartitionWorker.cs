using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Mtcnn.Cluster;

/// <summary>Settings of the workers a silo runs.</summary>
public sealed class WorkerOptions
{
    /// <summary>Partitions processed at once on this silo (each on one thread).</summary>
    public int Workers { get; set; } = 1;

    /// <summary>
    /// How long an idle worker waits before asking for work again when nothing wakes it. The registry wakes idle workers
    /// when a job is submitted or a partition is released or failed; the poll finds what nobody announces (a lease that
    /// expired because its silo died) and covers a lost subscription.
    /// </summary>
    public TimeSpan IdlePoll { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the silo renews its subscription to the registry's wake-ups (which expire after a minute).</summary>
    public TimeSpan Resubscribe { get; set; } = TimeSpan.FromSeconds(20);
}

/// <summary>Wakes a silo's idle workers when the registry says that work may be waiting.</summary>
internal sealed class WorkSignal : IWorkObserver
{
    private TaskCompletionSource current = New();

    /// <summary>Completes at the next wake-up after this was read.</summary>
    public Task Next => Volatile.Read(ref current).Task;

    /// <inheritdoc/>
    public Task WorkAvailable()
    {
        Interlocked.Exchange(ref current, New()).TrySetResult();
        return Task.CompletedTask;
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// The silo's workers: each loop asks the running jobs for a partition lease (when idle, again after a wake-up from
/// the registry or <see cref="WorkerOptions.IdlePoll"/>), reads the partition's inputs, runs the
/// <see cref="IPartitionProcessor"/> while renewing the lease at a third of its length, and commits the records. A
/// lost lease (the partition was committed or taken over) cancels the work; stopping the silo releases the lease.
/// </summary>
public sealed partial class PartitionWorker : BackgroundService
{
    private readonly IGrainFactory grains;
    private readonly IPartitionProcessor processor;
    private readonly WorkerOptions options;
    private readonly ILogger<PartitionWorker> logger;
    private readonly string worker;

    /// <summary>Creates the workers.</summary>
    public PartitionWorker(IGrainFactory grains, ILocalSiloDetails silo, IPartitionProcessor processor, IOptions<WorkerOptions> options, ILogger<PartitionWorker> logger)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(options);
        this.grains = grains;
        this.processor = processor;
        this.options = options.Value;
        this.logger = logger;
        worker = silo.SiloAddress.ToString();
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var signal = new WorkSignal();
        var reference = grains.CreateObjectReference<IWorkObserver>(signal);
        try
        {
            // The first subscription is tried before the workers' first question, so that a job submitted after that
            // question wakes them; should it fail, they poll until a later renewal succeeds.
            var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var subscription = KeepSubscribed(reference, subscribed, stoppingToken);
            await subscribed.Task;
            var loops = Enumerable.Range(0, Math.Max(1, options.Workers)).Select(_ => Task.Run(() => Loop(signal, stoppingToken), CancellationToken.None));
            await Task.WhenAll(loops.Append(subscription));
        }
        finally
        {
            grains.DeleteObjectReference<IWorkObserver>(reference);
        }
    }

    private async Task KeepSubscribed(IWorkObserver reference, TaskCompletionSource subscribed, CancellationToken stoppingToken)
    {
        var registry = grains.GetGrain<IJobRegistryGrain>(0);
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan next = options.Resubscribe;
            try
            {
                await registry.Subscribe(reference);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // The registry may be moving to another silo; the workers poll meanwhile and the next try may succeed.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogSubscribeFailed(logger, e.GetType().Name, e.Message);
                next = TimeSpan.FromTicks(Math.Min(next.Ticks, TimeSpan.FromSeconds(1).Ticks));
            }

            subscribed.TrySetResult();
            try
            {
                await Task.Delay(next, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        subscribed.TrySetResult();
    }

    private async Task WaitForWork(Task wake, CancellationToken stoppingToken)
    {
        using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        await Task.WhenAny(wake, Task.Delay(options.IdlePoll, poll.Token));
        await poll.CancelAsync();
        stoppingToken.ThrowIfCancellationRequested();
    }

    private async Task Loop(WorkSignal signal, CancellationToken stoppingToken)
    {
        var registry = grains.GetGrain<IJobRegistryGrain>(0);
        while (!stoppingToken.IsCancellationRequested)
        {
            // Read before asking: a wake-up that arrives while this round finds nothing is not lost.
            var wake = signal.Next;
            try
            {
                PartitionLease? lease = null;
                foreach (string job in await registry.GetRunning())
                {
                    lease = await grains.GetGrain<IJobGrain>(job).Acquire(worker);
                    if (lease is not null)
                    {
                        break;
                    }
                }

                if (lease is null)
                {
                    await WaitForWork(wake, stoppingToken);
                    continue;
                }

                await Run(lease, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // A worker survives any failure of one round (an unreachable grain while a silo dies) and tries again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogRoundFailed(logger, e.GetType().Name, e.Message);
                try
                {
                    await WaitForWork(wake, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private async Task Run(PartitionLease lease, CancellationToken stoppingToken)
    {
        var job = grains.GetGrain<IJobGrain>(lease.Job);
        var inputs = await grains.GetGrain<IPartitionGrain>(ClusterNames.PartitionKey(lease.Job, lease.Partition)).GetInputs();
        using var work = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var renewing = new CancellationTokenSource();
        var renewal = Renew(job, lease, work, renewing.Token);
        IReadOnlyList<string> records;
        try
        {
            records = await Task.Run(() => processor.Process(lease.Settings, lease.BaseDirectory, inputs, work.Token), CancellationToken.None);
        }
        catch (OperationCanceledException) when (work.IsCancellationRequested)
        {
            await renewing.CancelAsync();
            await renewal;
            if (stoppingToken.IsCancellationRequested)
            {
                await job.Release(lease.Partition, lease.Token);
            }

            return;
        }
#pragma warning disable CA1031 // Any processor failure is reported to the job as a failed attempt.
        catch (Exception e)
#pragma warning restore CA1031
        {
            await renewing.CancelAsync();
            await renewal;
            await job.Fail(lease.Partition, lease.Token, worker, e.Message);
            return;
        }

        await renewing.CancelAsync();
        await renewal;
        await job.Commit(lease.Partition, lease.Token, worker, records);
    }

    private async Task Renew(IJobGrain job, PartitionLease lease, CancellationTokenSource work, CancellationToken stop)
    {
        var period = TimeSpan.FromSeconds(Math.Max(0.05, lease.LeaseSeconds / 3));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                bool kept;
                try
                {
                    kept = await job.Renew(lease.Partition, lease.Token, worker);
                }
#pragma warning disable CA1031 // The job grain may be moving to another silo; the next tick tries again.
                catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
                {
                    LogRenewFailed(logger, lease.Job, lease.Partition, e.Message);
                    continue;
                }

                if (!kept)
                {
                    await work.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Processing ended.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "worker round failed ({Type}): {Message}")]
    private static partial void LogRoundFailed(ILogger logger, string type, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "subscribing to the registry's wake-ups failed ({Type}): {Message}; polling meanwhile")]
    private static partial void LogSubscribeFailed(ILogger logger, string type, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "renewing job {Job} partition {Partition} failed: {Message}")]
    private static partial void LogRenewFailed(ILogger logger, string job, int partition, string message);
}
