namespace Mtcnn.Cluster.Tests;

/// <summary>Silos running <see cref="PartitionWorker"/>s finish jobs with every input processed and committed once.</summary>
public sealed class WorkerTests : IClassFixture<WorkerClusterFixture>
{
    private readonly WorkerClusterFixture fixture;

    public WorkerTests(WorkerClusterFixture fixture)
    {
        this.fixture = fixture;
    }

    private static async Task<JobStatus> WaitForEnd(IJobGrain job, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        var status = await job.GetStatus();
        while (status.State == JobState.Running && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
            status = await job.GetStatus();
        }

        return status;
    }

    private async Task<List<string>> AllRecords(string name, int partitions)
    {
        var records = new List<string>();
        for (int p = 0; p < partitions; p++)
        {
            var part = await fixture.Cluster.GrainFactory.GetGrain<IPartitionGrain>(ClusterNames.PartitionKey(name, p)).GetRecords();
            Assert.NotNull(part);
            records.AddRange(part);
        }

        return records;
    }

    [Fact]
    public async Task Two_silos_complete_a_job_with_one_record_per_input_in_input_order()
    {
        string name = "w-" + Guid.NewGuid().ToString("N");
        var inputs = Enumerable.Range(0, 500).Select(i => $"{name}/img{i:D4}.jpg").ToArray();
        var job = fixture.Cluster.GrainFactory.GetGrain<IJobGrain>(name);
        await job.Submit(new JobSpec { Name = name, Inputs = inputs, Settings = "s", BaseDirectory = "/", PartitionSize = 7, LeaseSeconds = 5 });

        var status = await WaitForEnd(job, TimeSpan.FromSeconds(60));

        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(inputs.Select(i => "s|" + i), await AllRecords(name, status.Partitions));
        Assert.All(inputs, i => Assert.Equal(1, RecordingProcessor.Shared.Processed[i]));
        Assert.Equal(500, status.InputsByWorker.Values.Sum());
        Assert.Equal(0, status.DuplicateInputs);
    }

    [Fact]
    public async Task A_failed_attempt_is_retried_and_the_job_still_completes()
    {
        string name = "f-" + Guid.NewGuid().ToString("N");
        var inputs = Enumerable.Range(0, 40).Select(i => $"{name}/img{i:D4}.jpg").ToArray();
        RecordingProcessor.Shared.FailOnce[inputs[13]] = true;
        var job = fixture.Cluster.GrainFactory.GetGrain<IJobGrain>(name);
        await job.Submit(new JobSpec { Name = name, Inputs = inputs, Settings = "s", BaseDirectory = "/", PartitionSize = 10, LeaseSeconds = 5 });

        var status = await WaitForEnd(job, TimeSpan.FromSeconds(60));

        Assert.Equal(JobState.Completed, status.State);
        var failure = Assert.Single(status.Failures);
        Assert.StartsWith("partition 1 on ", failure, StringComparison.Ordinal);
        Assert.EndsWith($"injected failure on {inputs[13]}", failure, StringComparison.Ordinal);
        Assert.Equal(inputs.Select(i => "s|" + i), await AllRecords(name, status.Partitions));
    }

    [Fact]
    public async Task A_stopped_silo_releases_its_lease_and_the_other_silo_finishes_the_job()
    {
        string name = "k-" + Guid.NewGuid().ToString("N");
        var inputs = Enumerable.Range(0, 60).Select(i => $"{name}/img{i:D4}.jpg").ToArray();
        var job = fixture.Cluster.GrainFactory.GetGrain<IJobGrain>(name);
        RecordingProcessor.Shared.Delay = TimeSpan.FromMilliseconds(150);
        try
        {
            await job.Submit(new JobSpec { Name = name, Inputs = inputs, Settings = "s", BaseDirectory = "/", PartitionSize = 3, LeaseSeconds = 2 });
            await Task.Delay(400);
            var extra = await fixture.Cluster.StartAdditionalSiloAsync();
            await Task.Delay(300);
            await fixture.Cluster.StopSiloAsync(extra);

            var status = await WaitForEnd(job, TimeSpan.FromSeconds(60));

            Assert.Equal(JobState.Completed, status.State);
            Assert.Equal(inputs.Select(i => "s|" + i), await AllRecords(name, status.Partitions));
            Assert.Equal(60, status.InputsByWorker.Values.Sum());
        }
        finally
        {
            RecordingProcessor.Shared.Delay = TimeSpan.Zero;
        }
    }
}
