namespace Mtcnn.Cluster.Tests;

/// <summary>Idle workers start on a new job when the registry wakes them, not at their next poll.</summary>
public sealed class WakeUpTests : IClassFixture<WakeUpClusterFixture>
{
    private readonly WakeUpClusterFixture fixture;

    public WakeUpTests(WakeUpClusterFixture fixture)
    {
        this.fixture = fixture;
    }

    private async Task<JobStatus> Run(string name, int count)
    {
        var inputs = Enumerable.Range(0, count).Select(i => $"{name}/img{i:D4}.jpg").ToArray();
        var job = fixture.Cluster.GrainFactory.GetGrain<IJobGrain>(name);
        await job.Submit(new JobSpec { Name = name, Inputs = inputs, Settings = "s", BaseDirectory = "/", PartitionSize = 4, LeaseSeconds = 30 });
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var status = await job.GetStatus();
        while (status.State == JobState.Running && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
            status = await job.GetStatus();
        }

        return status;
    }

    [Fact]
    public async Task Jobs_submitted_to_idle_workers_that_poll_every_ten_minutes_finish_within_seconds()
    {
        // The first job may be found by the workers' first question at start; by the second, both workers have asked,
        // found nothing and wait: only the wake-up can start them (their next poll is ten minutes away).
        string first = "wake-a-" + Guid.NewGuid().ToString("N");
        Assert.Equal(JobState.Completed, (await Run(first, 20)).State);
        await Task.Delay(300);

        string second = "wake-b-" + Guid.NewGuid().ToString("N");
        var status = await Run(second, 20);

        Assert.Equal(JobState.Completed, status.State);
        Assert.Equal(20, status.InputsByWorker.Values.Sum());
        Assert.NotNull(status.FirstLeaseUtc);
        Assert.InRange(status.FirstLeaseUtc!.Value, status.CreatedUtc, status.FinishedUtc!.Value);
        Assert.True(status.FirstLeaseUtc.Value - status.CreatedUtc < TimeSpan.FromSeconds(10),
            $"first lease {(status.FirstLeaseUtc.Value - status.CreatedUtc).TotalSeconds:0.000} s after submission");
    }
}
