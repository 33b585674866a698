using Orleans.Runtime;

namespace Mtcnn.Cluster;

/// <summary>The persisted part of a partition.</summary>
[GenerateSerializer]
public sealed class PartitionRecord
{
    /// <summary>The inputs, in output order.</summary>
    [Id(0)]
    public List<string> Inputs { get; set; } = [];

    /// <summary>One record per input once committed; null before.</summary>
    [Id(1)]
    public List<string>? Records { get; set; }

    /// <summary>The worker whose commit was stored.</summary>
    [Id(2)]
    public string? CommittedBy { get; set; }

    /// <summary>When it was stored.</summary>
    [Id(3)]
    public DateTime? CommittedUtc { get; set; }
}

/// <summary>The partition grain; see <see cref="IPartitionGrain"/>.</summary>
public sealed class PartitionGrain : Grain, IPartitionGrain
{
    private readonly IPersistentState<PartitionRecord> state;

    /// <summary>Creates the grain over its persisted record.</summary>
    public PartitionGrain([PersistentState("partition", ClusterNames.Storage)] IPersistentState<PartitionRecord> state)
    {
        this.state = state;
    }

    /// <inheritdoc/>
    public async Task Initialize(IReadOnlyList<string> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (state.State.Inputs.SequenceEqual(inputs, StringComparer.Ordinal))
        {
            return;
        }

        if (state.State.Records is not null)
        {
            throw new InvalidOperationException($"partition '{this.GetPrimaryKeyString()}' is committed with other inputs");
        }

        state.State.Inputs = [.. inputs];
        await state.WriteStateAsync();
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> GetInputs() => Task.FromResult<IReadOnlyList<string>>(state.State.Inputs);

    /// <inheritdoc/>
    public async Task<bool> Store(IReadOnlyList<string> records, string worker)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (state.State.Records is not null)
        {
            return false;
        }

        if (records.Count != state.State.Inputs.Count)
        {
            throw new ArgumentException($"partition '{this.GetPrimaryKeyString()}' has {state.State.Inputs.Count} inputs, got {records.Count} records", nameof(records));
        }

        state.State.Records = [.. records];
        state.State.CommittedBy = worker;
        state.State.CommittedUtc = DateTime.UtcNow;
        await state.WriteStateAsync();
        return true;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>?> GetRecords() => Task.FromResult<IReadOnlyList<string>?>(state.State.Records);
}
