using System.Collections.Concurrent;
using Mtcnn.Cascade;
using Mtcnn.TestSupport;

namespace Mtcnn.Tests.Cascade;

/// <summary>The helper threads behind the cascade's parallel loops: hand-out, errors, cancellation, idle exit.</summary>
public sealed class WorkerTeamTests
{
    private static readonly Func<Workspace> NewWorkspace = () => new Workspace();
    private static readonly Action<Workspace> Drop = _ => { };

    private static ImageContext Context() => new(new IntegralImage());

    [Fact]
    public void Every_index_runs_exactly_once_and_on_more_than_one_thread()
    {
        var team = new WorkerTeam();
        var ctx = Context();
        for (int round = 0; round < 200; round++)
        {
            var hits = new int[97];
            team.Run(hits.Length, 3, (i, _, c) =>
            {
                Assert.Same(ctx, c);
                Interlocked.Increment(ref hits[i]);
                Thread.SpinWait(200);
            }, ctx, NewWorkspace, Drop, CancellationToken.None);
            Assert.All(hits, h => Assert.Equal(1, h));
        }

        // Two indices that can only finish together: the helper must take one while the caller holds the other.
        using var both = new Barrier(2);
        var ran = new ConcurrentDictionary<int, bool>();
        team.Run(2, 2, (_, _, _) =>
        {
            ran[Environment.CurrentManagedThreadId] = true;
            Assert.True(both.SignalAndWait(TimeSpan.FromSeconds(30)), "no helper took the second index");
        }, ctx, NewWorkspace, Drop, CancellationToken.None);
        Assert.Equal(2, ran.Count);
    }

    [Fact]
    public void A_late_signal_from_the_last_loop_does_not_end_the_next_one_early()
    {
        // A helper that is slow between counting its share done and signalling it: the caller sees the count, returns
        // and starts the next loop (which resets the signal) before the helper signals. That stale signal must not let
        // the next Run return while its helper still has its share to run (it once did, and the helper then found the
        // loop's delegates cleared: a NullReferenceException that ended the process).
        bool slow = false;
        var team = new WorkerTeam
        {
            AfterCountdownForTests = () =>
            {
                if (Volatile.Read(ref slow))
                {
                    Volatile.Write(ref slow, false);
                    Thread.Sleep(50);
                }
            },
        };
        var ctx = Context();
        for (int round = 0; round < 10; round++)
        {
            // Caller and helper take one index each and finish together, so the caller sees the count reach zero
            // while it spins and returns; the helper sleeps before signalling.
            using (var both = new Barrier(2))
            {
                Volatile.Write(ref slow, true);
                team.Run(2, 2, (_, _, _) => Assert.True(both.SignalAndWait(TimeSpan.FromSeconds(30))), ctx, NewWorkspace, Drop, CancellationToken.None);
            }

            // The next loop: the caller runs both indices and waits for the helper, which signals the old loop first.
            int ran = 0;
            team.Run(2, 2, (_, _, _) => Interlocked.Increment(ref ran), ctx, NewWorkspace, Drop, CancellationToken.None);
            Assert.Equal(0, team.Pending);
            Assert.Equal(2, ran);
        }
    }

    [Fact]
    public void A_failing_index_is_rethrown_on_the_caller_and_the_team_stays_usable()
    {
        var team = new WorkerTeam();
        var ctx = Context();
        var e = Assert.Throws<InvalidOperationException>(() => team.Run(50, 2, (i, _, _) =>
        {
            if (i == 17)
            {
                throw new InvalidOperationException("index 17");
            }
        }, ctx, NewWorkspace, Drop, CancellationToken.None));
        Assert.Equal("index 17", e.Message);

        int ran = 0;
        team.Run(40, 2, (_, _, _) => Interlocked.Increment(ref ran), ctx, NewWorkspace, Drop, CancellationToken.None);
        Assert.Equal(40, ran);
    }

    [Fact]
    public void Cancellation_stops_the_loop_with_OperationCanceledException()
    {
        var team = new WorkerTeam();
        using var cts = new CancellationTokenSource();
        int ran = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => team.Run(10_000, 2, (i, _, _) =>
        {
            if (Interlocked.Increment(ref ran) == 10)
            {
                cts.Cancel();
            }
        }, Context(), NewWorkspace, Drop, cts.Token));
        Assert.True(ran < 10_000);
    }

    [Fact]
    public void Every_workspace_rented_is_given_back()
    {
        var team = new WorkerTeam();
        int rented = 0, returned = 0;
        team.Run(64, 2, (_, _, _) => Thread.SpinWait(100), Context(),
            () => { Interlocked.Increment(ref rented); return new Workspace(); },
            _ => Interlocked.Increment(ref returned), CancellationToken.None);
        Assert.Equal(rented, returned);
        Assert.InRange(rented, 1, 2);
    }

    [Fact]
    public void Idle_helpers_end_and_come_back_when_needed()
    {
        var team = new WorkerTeam { Idle = TimeSpan.FromMilliseconds(50) };
        var ctx = Context();
        team.Run(20, 3, (_, _, _) => Thread.SpinWait(100), ctx, NewWorkspace, Drop, CancellationToken.None);
        Assert.True(SpinWait.SpinUntil(() => team.AliveHelpers == 0, TimeSpan.FromSeconds(10)), "idle helpers did not end");

        int ran = 0;
        team.Run(20, 3, (_, _, _) => Interlocked.Increment(ref ran), ctx, NewWorkspace, Drop, CancellationToken.None);
        Assert.Equal(20, ran);
    }

    [Fact]
    public void Concurrent_detections_on_one_detector_match_single_ones_when_teams_run_out()
    {
        // More callers than teams: some loops run on the thread pool instead; every result must still be exact.
        var img = Fixtures.Hopper();
        var det = new FaceDetector(new DetectorOptions { MaxDegreeOfParallelism = 2, MinFaceSize = 20 });
        var expected = det.Detect(img).Faces;
        var results = new DetectionResult[WorkerTeam.MaxTeams * 3];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = results.Length }, i => results[i] = det.Detect(img));
        Assert.All(results, r => Assert.Equal(expected, r.Faces));
    }
}

/// <summary>Steady-state allocation of Detect, counted in bytes over repeated calls (not timed).</summary>
[Collection(nameof(RunsAlone))]
public sealed class DetectAllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Detect_allocates_only_its_result_in_steady_state(int threads)
    {
        var img = Fixtures.Hopper();
        var det = new FaceDetector(new DetectorOptions { MaxDegreeOfParallelism = threads, MinFaceSize = 20 });
        for (int i = 0; i < 5; i++)
        {
            det.Detect(img);
        }

        // Counted on the calling thread and on the team's helpers, so the test host's own allocations meanwhile do
        // not count.
        // The best of five rounds: a one-off event in a round (a helper thread started again after its idle timeout,
        // a slow machine's late JIT tiering) is not steady state, while an allocation made by every call shows in
        // every round.
        const int calls = 10;
        int faces = det.Detect(img).Faces.Count;
        long perCall = long.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread() + WorkerTeam.HelperAllocatedBytes;
            for (int i = 0; i < calls; i++)
            {
                det.Detect(img);
            }

            perCall = Math.Min(perCall, (GC.GetAllocatedBytesForCurrentThread() + WorkerTeam.HelperAllocatedBytes - before) / calls);
        }

        // The result: a DetectionResult (about 112 bytes) and its Face array (24 bytes plus 60 a face). Before the
        // worker team this was 864 bytes at one thread and over 9,000 at two.
        long result = 112 + 24 + (60 * faces);
        Assert.True(perCall <= result + 64, $"{perCall} bytes allocated per Detect at {threads} thread(s); the result accounts for about {result}");
    }
}

/// <summary>The loop accounting of the <c>-- profile</c> probe: off by default, and when on it sees every loop of a detection.</summary>
[Collection(nameof(RunsAlone))]
public sealed class LoopProfileTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Each_loop_of_a_detection_is_counted_once_with_its_threads_busy_time(int threads)
    {
        var img = Fixtures.Hopper();
        var det = new FaceDetector(new DetectorOptions { MaxDegreeOfParallelism = threads, MinFaceSize = 20 });
        var expected = det.Detect(img).Faces;
        Assert.False(LoopProfile.Enabled);
        LoopProfile.Reset();
        det.Detect(img);
        Assert.All(LoopProfile.Snapshot(), l => Assert.Equal(0, l.Calls));
        try
        {
            LoopProfile.Enabled = true;
            Assert.Equal(expected, det.Detect(img).Faces);
        }
        finally
        {
            LoopProfile.Enabled = false;
        }

        var loops = LoopProfile.Snapshot();
        foreach (var l in new[] { 1, 3, 4 })
        {
            // P-Net, R-Net and O-Net each run one loop per detection; its threads were busy at most threads x its wall time.
            Assert.Equal(1, loops[l].Calls);
            Assert.True(loops[l].Busy[0] > 0, LoopProfile.Names[l]);
            Assert.True(loops[l].Busy.Sum() <= (threads * loops[l].Wall) + 1e-3, $"{LoopProfile.Names[l]}: busy {loops[l].Busy.Sum()} s, wall {loops[l].Wall} s");
        }

        LoopProfile.Reset();
    }
}

/// <summary>Runs alone: the allocation counter is process-wide.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;

/// <summary>The committed photo these tests detect on.</summary>
internal static class Fixtures
{
    public static ImageData Hopper() =>
        ReferenceDetectionTests.DecodeRgb(Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg"));
}
