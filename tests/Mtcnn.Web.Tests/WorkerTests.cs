using Mtcnn.Web.Detection;

namespace Mtcnn.Web.Tests;

/// <summary>The worker pool and the detector cache on their own.</summary>
public sealed class WorkerTests
{
    [Fact]
    public void Admission_stops_at_workers_plus_queue()
    {
        using var workers = new DetectionWorkers(2, 3);
        Assert.Equal(5, Enumerable.Range(0, 8).Count(_ => workers.TryAdmit()));
        Assert.Equal(5, workers.Admitted);
        workers.Release();
        Assert.True(workers.TryAdmit());
        Assert.False(workers.TryAdmit());
    }

    [Fact]
    public async Task Work_runs_on_at_most_the_worker_count_of_threads()
    {
        using var workers = new DetectionWorkers(2, 100);
        int running = 0, peak = 0;
        var names = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => workers.RunAsync(_ =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            names.Add(Thread.CurrentThread.Name ?? "?");
            Thread.Sleep(5);
            Interlocked.Decrement(ref running);
            return i;
        }, CancellationToken.None)));
        Assert.InRange(peak, 1, 2);
        Assert.All(names, n => Assert.StartsWith("mtcnn-worker-", n, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Failures_and_cancellation_reach_the_caller()
    {
        using var workers = new DetectionWorkers(1, 10);
        await Assert.ThrowsAsync<InvalidOperationException>(() => workers.RunAsync<int>(_ => throw new InvalidOperationException("boom"), CancellationToken.None));

        // Occupy the only worker, queue an item, cancel it while queued: it completes as cancelled and never runs.
        using var release = new ManualResetEventSlim();
        var blocker = workers.RunAsync(_ => release.Wait(TimeSpan.FromSeconds(30), CancellationToken.None), CancellationToken.None);
        using var cts = new CancellationTokenSource();
        bool ran = false;
        var queued = workers.RunAsync(_ => ran = true, cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        release.Set();
        Assert.True(await blocker);
        Assert.Equal(7, await workers.RunAsync(_ => 7, CancellationToken.None));
        Assert.False(ran);
    }

    [Fact]
    public void Detectors_are_shared_per_options()
    {
        var cache = new DetectorCache(null);
        var a = cache.Get(new DetectorOptions { MinFaceSize = 30 });
        Assert.Same(a, cache.Get(new DetectorOptions { MinFaceSize = 30 }));
        Assert.NotSame(a, cache.Get(new DetectorOptions { MinFaceSize = 31 }));
        for (int i = 0; i < DetectorCache.Capacity; i++)
        {
            cache.Get(new DetectorOptions { MinFaceSize = 100 + i });
        }

        Assert.NotSame(a, cache.Get(new DetectorOptions { MinFaceSize = 30 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Get(new DetectorOptions { MinFaceSize = 1 }));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
