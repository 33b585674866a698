using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Mtcnn.Cluster.Tests;

/// <summary>
/// A test cluster of <c>silos</c> silos, each configured by <typeparamref name="TConfigurator"/> (Orleans builds it
/// with its parameterless constructor, so each setting is its own small configurator class).
/// </summary>
public abstract class TestClusterFixture<TConfigurator>(short silos) : IAsyncLifetime
    where TConfigurator : ISiloConfigurator, new()
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(silos);
        builder.AddSiloBuilderConfigurator<TConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>In-memory job storage, the <see cref="RecordingProcessor"/> and <paramref name="workers"/> partition workers per silo.</summary>
    protected static void AddRecordingWorkers(ISiloBuilder siloBuilder, int workers, TimeSpan idlePoll)
    {
        siloBuilder.AddMemoryGrainStorage(ClusterNames.Storage);
        siloBuilder.Services.AddSingleton<IPartitionProcessor>(RecordingProcessor.Shared);
        siloBuilder.Services.Configure<WorkerOptions>(o =>
        {
            o.Workers = workers;
            o.IdlePoll = idlePoll;
        });
        siloBuilder.Services.AddHostedService<PartitionWorker>();
    }
}

/// <summary>A one-silo test cluster with the job grains on in-memory storage and no workers: the tests drive the grains.</summary>
public sealed class GrainClusterFixture() : TestClusterFixture<GrainClusterFixture.StorageOnly>(1)
{
    public sealed class StorageOnly : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.AddMemoryGrainStorage(ClusterNames.Storage);
    }
}

/// <summary>
/// A two-silo test cluster whose silos run <see cref="PartitionWorker"/>s over <see cref="RecordingProcessor.Shared"/>:
/// the whole lease, process, renew and commit loop in one process.
/// </summary>
public sealed class WorkerClusterFixture() : TestClusterFixture<WorkerClusterFixture.WithWorkers>(2)
{
    public sealed class WithWorkers : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => AddRecordingWorkers(siloBuilder, 2, TimeSpan.FromMilliseconds(50));
    }
}

/// <summary>
/// Two silos whose workers poll only every ten minutes: jobs finish in time only if the registry's wake-ups reach them.
/// </summary>
public sealed class WakeUpClusterFixture() : TestClusterFixture<WakeUpClusterFixture.WithSleepyWorkers>(2)
{
    public sealed class WithSleepyWorkers : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => AddRecordingWorkers(siloBuilder, 1, TimeSpan.FromMinutes(10));
    }
}

/// <summary>
/// A processor that turns each input into <c>settings|input</c> and counts how often each input was processed; inputs
/// named in <see cref="FailOnce"/> make their first attempt throw, and <see cref="Delay"/> slows every partition.
/// </summary>
public sealed class RecordingProcessor : IPartitionProcessor
{
    public static RecordingProcessor Shared { get; } = new();

    public ConcurrentDictionary<string, int> Processed { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, bool> FailOnce { get; } = new(StringComparer.Ordinal);

    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    public IReadOnlyList<string> Process(string settings, string baseDirectory, IReadOnlyList<string> inputs, CancellationToken cancellationToken)
    {
        foreach (string input in inputs)
        {
            if (FailOnce.TryRemove(input, out _))
            {
                throw new InvalidOperationException($"injected failure on {input}");
            }
        }

        if (Delay > TimeSpan.Zero)
        {
            Task.Delay(Delay, cancellationToken).GetAwaiter().GetResult();
        }

        var records = new string[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            Processed.AddOrUpdate(inputs[i], 1, (_, n) => n + 1);
            records[i] = settings + "|" + inputs[i];
        }

        return records;
    }
}
