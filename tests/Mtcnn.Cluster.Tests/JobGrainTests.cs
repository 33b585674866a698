using Orleans.Runtime;

namespace Mtcnn.Cluster.Tests;

/// <summary>The job grain's partitioning, leases, idempotent commits and resume, driven directly on a test cluster.</summary>
public sealed class JobGrainTests : IClassFixture<GrainClusterFixture>
{
    private readonly IGrainFactory grains;
    private readonly GrainClusterFixture fixture;

    public JobGrainTests(GrainClusterFixture fixture)
    {
        this.fixture = fixture;
        grains = fixture.Cluster.GrainFactory;
    }

    private static JobSpec Spec(string name, int inputs, int partitionSize = 25, double leaseSeconds = 30, int maxAttempts = 3) => new()
    {
        Name = name,
        Inputs = Enumerable.Range(0, inputs).Select(i => $"img{i:D5}.jpg").ToArray(),
        Settings = "{\"minFaceSize\":20}",
        BaseDirectory = "/data",
        PartitionSize = partitionSize,
        LeaseSeconds = leaseSeconds,
        MaxAttempts = maxAttempts,
    };

    private static string NewName() => "job-" + Guid.NewGuid().ToString("N");

    private async Task<IReadOnlyList<string>> RecordsFor(IJobGrain job, PartitionLease lease)
    {
        var inputs = await grains.GetGrain<IPartitionGrain>(ClusterNames.PartitionKey(lease.Job, lease.Partition)).GetInputs();
        return inputs.Select(i => "r:" + i).ToArray();
    }

    [Fact]
    public async Task Submit_cuts_the_inputs_into_partitions_in_order()
    {
        string name = NewName();
        var spec = Spec(name, 2003);
        var result = await grains.GetGrain<IJobGrain>(name).Submit(spec);

        Assert.Equal(SubmitOutcome.Created, result.Outcome);
        Assert.Equal(JobState.Running, result.Status.State);
        Assert.Equal(2003, result.Status.Inputs);
        Assert.Equal(81, result.Status.Partitions);
        var all = new List<string>();
        for (int p = 0; p < 81; p++)
        {
            var inputs = await grains.GetGrain<IPartitionGrain>(ClusterNames.PartitionKey(name, p)).GetInputs();
            Assert.Equal(p < 80 ? 25 : 3, inputs.Count);
            all.AddRange(inputs);
        }

        Assert.Equal(spec.Inputs, all);
        Assert.Contains(name, await grains.GetGrain<IJobRegistryGrain>(0).GetRunning());
    }

    [Fact]
    public async Task Invalid_specs_are_refused()
    {
        var job = grains.GetGrain<IJobGrain>(NewName());
        await Assert.ThrowsAsync<ArgumentException>(() => job.Submit(Spec("x", 0)));
        await Assert.ThrowsAsync<ArgumentException>(() => job.Submit(Spec("x", 5, partitionSize: 0)));
        await Assert.ThrowsAsync<ArgumentException>(() => job.Submit(Spec("x", 5, leaseSeconds: 0)));
        await Assert.ThrowsAsync<ArgumentException>(() => job.Submit(Spec("x", 5, maxAttempts: 0)));
        var tooMany = await Assert.ThrowsAsync<ArgumentException>(() => job.Submit(Spec("x", JobSpec.MaxPartitions + 1, partitionSize: 1)));
        Assert.Contains($"over the limit of {JobSpec.MaxPartitions}", tooMany.Message, StringComparison.Ordinal);
        Assert.Contains("use a partition size of at least 2", tooMany.Message, StringComparison.Ordinal);
        Assert.Equal(JobState.Unknown, (await job.GetStatus()).State);
    }

    [Fact]
    public async Task Leases_go_out_lowest_partition_first_and_only_once_while_live()
    {
        string name = NewName();
        var job = grains.GetGrain<IJobGrain>(name);
        await job.Submit(Spec(name, 60, partitionSize: 25));

        var a = await job.Acquire("w1");
        var b = await job.Acquire("w2");
        var c = await job.Acquire("w1");
        Assert.Equal([0, 1, 2], new[] { a!.Partition, b!.Partition, c!.Partition });
        Assert.Equal(0, a.PreviousGrants);
        Assert.Null(await job.Acquire("w3"));
        Assert.Equal(3, (await job.GetStatus()).LeasedPartitions);

        // A released lease is pending again at once.
        await job.Release(b.Partition, b.Token);
        var again = await job.Acquire("w3");
        Assert.Equal(1, again!.Partition);
        Assert.Equal(1, again.PreviousGrants);
    }

    [Fact]
    public async Task An_expired_lease_is_handed_out_again_and_the_old_holder_loses_it()
    {
        string name = NewName();
        var job = grains.GetGrain<IJobGrain>(name);
        await job.Submit(Spec(name, 10, partitionSize: 5, leaseSeconds: 0.5));

        var first = await job.Acquire("dead-silo");
        var second = await job.Acquire("live-silo");
        Assert.Equal(0, first!.Partition);
        Assert.Equal(1, second!.Partition);

        // The live silo renews; the dead one does not.
        for (int i = 0; i < 4; i++)
        {
            await Task.Delay(200);
            Assert.True(await job.Renew(second.Partition, second.Token, "live-silo"));
        }

        var retried = await job.Acquire("other-silo");
        Assert.Equal(0, retried!.Partition);
        Assert.Equal(1, retried.PreviousGrants);
        Assert.False(await job.Renew(first.Partition, first.Token, "dead-silo"));

        var status = await job.GetStatus();
        Assert.Equal(1, status.Regrants);
        var regrant = Assert.Single(status.RegrantEvents);
        Assert.Equal(0, regrant.Partition);
        Assert.Equal("dead-silo", regrant.PreviousWorker);
        Assert.Equal("other-silo", regrant.Worker);
    }

    [Fact]
    public async Task Commits_are_idempotent_first_commit_wins()
    {
        string name = NewName();
        var job = grains.GetGrain<IJobGrain>(name);
        await job.Submit(Spec(name, 7, partitionSize: 4, leaseSeconds: 0.3));

        var slow = await job.Acquire("slow");
        await Task.Delay(500);
        var fast = await job.Acquire("fast");
        Assert.Equal(slow!.Partition, fast!.Partition);

        var fastRecords = (await RecordsFor(job, fast)).Select(r => r + ":fast").ToArray();
        Assert.Equal(CommitOutcome.Stored, await job.Commit(fast.Partition, fast.Token, "fast", fastRecords));
        var slowRecords = (await RecordsFor(job, slow)).Select(r => r + ":slow").ToArray();
        Assert.Equal(CommitOutcome.Duplicate, await job.Commit(slow.Partition, slow.Token, "slow", slowRecords));

        Assert.Equal(fastRecords, await grains.GetGrain<IPartitionGrain>(ClusterNames.PartitionKey(name, 0)).GetRecords());
        var status = await job.GetStatus();
        Assert.Equal(1, status.CommittedPartitions);
        Assert.Equal(4, status.InputsDone);
        Assert.Equal(1, status.DuplicateCommits);
        Assert.Equal(4, status.DuplicateInputs);
        Assert.Equal(4, status.InputsByWorker["fast"]);
        Assert.False(status.InputsByWorker.ContainsKey("slow"));

        // A committed partition is never handed out again, and its lease cannot be renewed.
        var next = await job.Acquire("fast");
        Assert.Equal(1, next!.Partition);
        Assert.False(await job.Renew(slow.Partition, slow.Token, "slow"));
    }

    [Fact]
    public async Task A_commit_with_the_wrong_number_of_records_or_partition_is_refused()
    {
        string name = NewName();
        var job = grains.GetGrain<IJobGrain>(name);
        await job.Submit(Spec(name, 7, partitionSize: 4));
        var lease = await job.Acquire("w");

        await Assert.ThrowsAsync<ArgumentException>(() => job.Commit(lease!.Partition, lease.Token, "w", ["only one"]));
        await Assert.ThrowsAsync<ArgumentException>(() => job.Commit(9, lease!.Partition == 0 ? lease.Token : Guid.Empty, "w", ["a"]));
        Assert.Equal(0, (await job.GetStatus()).CommittedPartitions);
    }

    [Fact]
    public async Task Resubmitting_resumes_a_running_job_and_does_not_redo_a_finished_one()
    {
        string name = NewName();
        var job = grains.GetGrain<IJobGrain>(name);
        var spec = Spec(name, 9, partitionSize: 4);
        await job.Submit(spec);
        var lease = await job.Acquire("w");
        await job.Commit(lease!.Partition, lease.Token, "w", await RecordsFor(job, lease));

        var resumed = await job.Submit(spec);
        Assert.Equal(SubmitOutcome.Resumed, resumed.Outcome);
        Assert.Equal(4, resumed.Status.InputsDone);

        // The same name with other inputs or settings is another job: refused.
        await Assert.ThrowsAsync<ArgumentException>(() => job.Submit(spec with { Inputs = spec.Inputs.Take(8).ToArray() }));
        await Assert.ThrowsAsync<ArgumentException>(() => job.Submit(spec with { Settings = "{\"minFaceSize\":40}" }));

        for (var l = await job.Acquire("w"); l is not null; l = await job.Acquire("w"))
        {
            Assert.NotEqual(0, l.Partition);
            await job.Commit(l.Partition, l.Token, "w", await RecordsFor(job, l));
        }

        var done = await job.GetStatus();
        Assert.Equal(JobState.Completed, done.State);
        Assert.Equal(9, done.InputsDone);
        Assert.NotNull(done.FinishedUtc);
        Assert.DoesNotContain(name, await grains.GetGrain<IJobRegistryGrain>(0).GetRunning());
        Assert.Contains(name, await grains.GetGrain<IJobRegistryGrain>(0).GetAll());

        var again = await job.Submit(spec);
        Assert.Equal(SubmitOutcome.AlreadyFinished, again.Outcome);
        Assert.Null(await job.Acquire("w"));
    }

    [Fact]
    public async Task A_partition_that_fails_max_attempts_times_fails_the_job_with_the_reasons()
    {
        string name = NewName();
        var job = grains.GetGrain<IJobGrain>(name);
        await job.Submit(Spec(name, 3, partitionSize: 3, maxAttempts: 2));

        var one = await job.Acquire("w1");
        await job.Fail(one!.Partition, one.Token, "w1", "weights missing");
        Assert.Equal(JobState.Running, (await job.GetStatus()).State);
        var two = await job.Acquire("w2");
        Assert.Equal(0, two!.Partition);
        await job.Fail(two.Partition, two.Token, "w2", "weights missing again");

        var status = await job.GetStatus();
        Assert.Equal(JobState.Failed, status.State);
        Assert.Equal(["partition 0 on w1: weights missing", "partition 0 on w2: weights missing again"], status.Failures);
        Assert.Null(await job.Acquire("w3"));
        Assert.DoesNotContain(name, await grains.GetGrain<IJobRegistryGrain>(0).GetRunning());
    }

    [Fact]
    public async Task After_a_reactivation_live_holders_keep_their_partitions()
    {
        string name = NewName();
        var job = grains.GetGrain<IJobGrain>(name);
        await job.Submit(Spec(name, 6, partitionSize: 2, leaseSeconds: 20));
        var held = await job.Acquire("w1");
        Assert.Equal(0, held!.Partition);

        // Lose the activation (as when its silo dies): the leases were in memory, the holders are persisted.
        var management = grains.GetGrain<IManagementGrain>(0);
        Assert.True(await JobActivations(management) > 0);
        await management.ForceActivationCollection(TimeSpan.Zero);
        for (int i = 0; i < 50 && await JobActivations(management) > 0; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, await JobActivations(management));

        var other = await job.Acquire("w2");
        Assert.Equal(1, other!.Partition);
        Assert.True(await job.Renew(held.Partition, held.Token, "w1"));
        Assert.Equal(2, (await job.Acquire("w2"))!.Partition);
    }

    private static async Task<int> JobActivations(IManagementGrain management) =>
        (await management.GetSimpleGrainStatistics())
            .Where(s => s.GrainType.Contains(nameof(JobGrain), StringComparison.Ordinal))
            .Sum(s => s.ActivationCount);
}
