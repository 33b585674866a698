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

    /// <summary>How long an idle worker waits before asking for work again.</summary>
    public TimeSpan IdlePoll { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// The silo's workers: each loop asks the running jobs for a partition lease, reads the partition's inputs, runs the
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
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, options.Workers)).Select(_ => Task.Run(() => Loop(stoppingToken), CancellationToken.None)));

    private async Task Loop(CancellationToken stoppingToken)
    {
        var registry = grains.GetGrain<IJobRegistryGrain>(0);
        while (!stoppingToken.IsCancellationRequested)
        {
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
                    await Task.Delay(options.IdlePoll, stoppingToken);
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
                    await Task.Delay(options.IdlePoll, stoppingToken);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "renewing job {Job} partition {Partition} failed: {Message}")]
    private static partial void LogRenewFailed(ILogger logger, string job, int partition, string message);
}
