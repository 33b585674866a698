using Orleans.Runtime;

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
    private readonly IPersistentState<RegistryRecord> state;

    /// <summary>Creates the grain over its persisted record.</summary>
    public JobRegistryGrain([PersistentState("registry", ClusterNames.Storage)] IPersistentState<RegistryRecord> state)
    {
        this.state = state;
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
