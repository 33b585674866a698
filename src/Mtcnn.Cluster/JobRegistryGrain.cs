using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Utilities;

namespace Mtcnn.Cluster;

/// <summary>The persisted job list.</summary>
[GenerateSerializer]
public sealed class RegistryRecord
{
    /// <summary>Every job, oldest first.</summary>
    [Id(0)]
    public List<string> All { get; set; } = [];

    /// <summary>Running jobs, oldest first.</summary>
    [Id(1)]
    public List<string> Running { get; set; } = [];
}

/// <summary>The registry grain; see <see cref="IJobRegistryGrain"/>.</summary>
public sealed class JobRegistryGrain : Grain, IJobRegistryGrain
{
    /// <summary>How long a subscription lasts unless renewed; workers renew at a third of it.</summary>
    public static readonly TimeSpan SubscriptionLifetime = TimeSpan.FromSeconds(60);

    private readonly IPersistentState<RegistryRecord> state;
    private readonly ObserverManager<IWorkObserver> observers;

    /// <summary>Creates the grain over its persisted record.</summary>
    public JobRegistryGrain([PersistentState("registry", ClusterNames.Storage)] IPersistentState<RegistryRecord> state, ILogger<JobRegistryGrain> logger)
    {
        this.state = state;
        observers = new ObserverManager<IWorkObserver>(SubscriptionLifetime, logger);
    }

    /// <inheritdoc/>
    public Task Subscribe(IWorkObserver observer)
    {
        observers.Subscribe(observer, observer);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task Unsubscribe(IWorkObserver observer)
    {
        observers.Unsubscribe(observer);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task SignalWork()
    {
        // One-way calls to each worker; one that is gone is dropped when its subscription expires.
        observers.Notify(o => o.WorkAvailable());
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task Register(string job)
    {
        bool changed = false;
        if (!state.State.All.Contains(job))
        {
            state.State.All.Add(job);
            changed = true;
        }

        if (!state.State.Running.Contains(job))
        {
            state.State.Running.Add(job);
            changed = true;
        }

        if (changed)
        {
            await state.WriteStateAsync();
        }

        // Also when resumed: a resubmitted job may have pending partitions that no worker is looking at.
        await SignalWork();
    }

    /// <inheritdoc/>
    public async Task Finished(string job)
    {
        if (state.State.Running.Remove(job))
        {
            await state.WriteStateAsync();
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> GetRunning() => Task.FromResult<IReadOnlyList<string>>([.. state.State.Running]);

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> GetAll() => Task.FromResult<IReadOnlyList<string>>([.. state.State.All]);
}
