using System.Runtime.ExceptionServices;

namespace Mtcnn.Cascade;

/// <summary>
/// Helper threads that run the cascade's parallel loops (P-Net bands, level suppression, R-Net and O-Net chunks)
/// beside the calling thread, with nothing allocated per loop: the threads stay alive between loops and images,
/// spin briefly for the next loop (the serial steps between stages take tens to hundreds of microseconds) and then
/// block. A helper that has had no work for <see cref="IdleTimeout"/> ends; the next loop that needs it starts it
/// again. Teams are shared by every detector of the process through <see cref="TryRent"/>; a caller that finds none
/// free runs its loop on the thread pool instead (the same work, with the thread pool's allocations).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Teams and their events live as long as the process.")]
internal sealed class WorkerTeam
{
    /// <summary>How long an idle helper waits for work before its thread ends.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(5);

    // Iterations of Thread.SpinWait(SpinUnit) a helper spins for the next loop before it blocks: about 50-100 us.
    private const int Spins = 400;
    private const int SpinUnit = 20;

    private static readonly Stack<WorkerTeam> Free = new();
    private static int created;
    private static long helperAllocatedBytes;

    private readonly object gate = new();
    private readonly List<Helper> helpers = [];
    private readonly ManualResetEventSlim done = new(false, 0);

    // The loop in progress; written by the caller before it bumps the generation, read by the helpers after.
    private Action<int, Workspace, ImageContext>? body;
    private ImageContext? context;
    private Func<Workspace>? rent;
    private Action<Workspace>? giveBack;
    private CancellationToken token;
    private int count;
    private int profiled = -1; // the loop being accounted by LoopProfile, or -1
    private int next;
    private int pending;
    private ExceptionDispatchInfo? error;

    /// <summary>A team of its own (the cascade rents shared ones through <see cref="TryRent"/>).</summary>
    internal WorkerTeam()
    {
    }

    /// <summary>How long this team's idle helpers wait before their threads end.</summary>
    internal TimeSpan Idle { get; init; } = IdleTimeout;

    /// <summary>Test hook: runs on a helper after it has counted its share of a loop done and before it signals that.</summary>
    internal Action? AfterCountdownForTests { get; init; }

    /// <summary>Helpers of the current (or last) loop that have not finished their share yet.</summary>
    internal int Pending => Volatile.Read(ref pending);

    /// <summary>Helper threads of this team alive now.</summary>
    internal int AliveHelpers
    {
        get
        {
            lock (gate)
            {
                return helpers.Count(h => h.Running);
            }
        }
    }

    /// <summary>Teams the process may hold at once (callers beyond that use the thread pool).</summary>
    public static int MaxTeams { get; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>
    /// Bytes allocated so far by every helper thread while running loops (with the calling thread's own
    /// <see cref="GC.GetAllocatedBytesForCurrentThread"/>, what a parallel call allocates, free of other threads' noise).
    /// </summary>
    internal static long HelperAllocatedBytes => Interlocked.Read(ref helperAllocatedBytes);

    /// <summary>A free team, or null when <see cref="MaxTeams"/> are in use.</summary>
    public static WorkerTeam? TryRent()
    {
        lock (Free)
        {
            if (Free.TryPop(out var team))
            {
                return team;
            }

            if (created >= MaxTeams)
            {
                return null;
            }

            created++;
        }

        return new WorkerTeam();
    }

    /// <summary>Gives a team back for the next caller.</summary>
    public static void Return(WorkerTeam team)
    {
        lock (Free)
        {
            Free.Push(team);
        }
    }

    /// <summary>
    /// Runs <paramref name="loop"/> for 0 .. <paramref name="items"/> - 1 on the calling thread and
    /// <paramref name="workers"/> - 1 helpers, each taking the next index as it becomes free; returns when every index
    /// has run. The first exception (cancellation included) stops the hand-out and is rethrown here.
    /// </summary>
    public void Run(int items, int workers, Action<int, Workspace, ImageContext> loop, ImageContext ctx,
        Func<Workspace> rentWorkspace, Action<Workspace> returnWorkspace, CancellationToken ct, int profileLoop = -1)
    {
        profiled = profileLoop;
        int helpersWanted = Math.Min(workers, items) - 1;
        body = loop;
        context = ctx;
        rent = rentWorkspace;
        giveBack = returnWorkspace;
        token = ct;
        count = items;
        error = null;
        Volatile.Write(ref next, -1);
        Volatile.Write(ref pending, helpersWanted);
        done.Reset();
        lock (gate)
        {
            while (helpers.Count < helpersWanted)
            {
                helpers.Add(new Helper(this, helpers.Count));
            }

            for (int h = 0; h < helpersWanted; h++)
            {
                helpers[h].Wake();
            }
        }

        Work(0);
        if (helpersWanted > 0)
        {
            // The helpers are on their last index at most: spin a little before blocking.
            for (int s = 0; s < Spins && Volatile.Read(ref pending) != 0; s++)
            {
                Thread.SpinWait(SpinUnit);
            }

            // The event only says "look again": a helper of the previous loop may set it after this loop's Reset
            // (it decrements, the caller of that loop returns and starts this one, then the helper sets), so the
            // count alone decides. Returning on that stale signal let a helper still be inside Work after this
            // method cleared the loop's delegates (a NullReferenceException on the helper thread).
            while (Volatile.Read(ref pending) != 0)
            {
                done.Wait(CancellationToken.None);
                if (Volatile.Read(ref pending) != 0)
                {
                    done.Reset();
                }
            }
        }

        body = null;
        context = null;
        rent = null;
        giveBack = null;
        token = default;
        error?.Throw();
    }

    // The share of the loop run by one thread: indices until none is left, or until a thread fails.
    private void Work(int slot)
    {
        int loop = profiled;
        long start = loop >= 0 ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        var ws = rent!();
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                token.ThrowIfCancellationRequested();
                body!(i, ws, context!);
            }
        }
#pragma warning disable CA1031 // Kept and rethrown on the caller's thread by Run.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Interlocked.CompareExchange(ref error, ExceptionDispatchInfo.Capture(e), null);
            Volatile.Write(ref next, int.MaxValue / 2);
        }
        finally
        {
            giveBack!(ws);
            if (loop >= 0)
            {
                LoopProfile.AddBusy(loop, slot, System.Diagnostics.Stopwatch.GetTimestamp() - start);
            }
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A helper's event lives as long as its team.")]
    private sealed class Helper
    {
        private readonly WorkerTeam team;
        private readonly int index;
        private readonly ManualResetEventSlim wake = new(false, 0);
        private int generation; // bumped by the caller for each loop this helper is to join
        private int seen;

        public Helper(WorkerTeam team, int index)
        {
            this.team = team;
            this.index = index;
        }

        public bool Running { get; private set; }

        // Called under the team's gate.
        public void Wake()
        {
            Interlocked.Increment(ref generation);
            if (!Running)
            {
                Running = true;
                new Thread(Loop) { IsBackground = true, Name = $"mtcnn-helper-{index}" }.Start();
            }
            else
            {
                wake.Set();
            }
        }

        private void Loop()
        {
            while (true)
            {
                int g = Volatile.Read(ref generation);
                for (int s = 0; g == seen && s < Spins; s++)
                {
                    Thread.SpinWait(SpinUnit);
                    g = Volatile.Read(ref generation);
                }

                if (g == seen)
                {
                    wake.Reset();
                    if (Volatile.Read(ref generation) == seen && !wake.Wait(team.Idle))
                    {
                        lock (team.gate)
                        {
                            if (Volatile.Read(ref generation) == seen)
                            {
                                Running = false;
                                return;
                            }
                        }
                    }

                    continue;
                }

                seen = g;
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                team.Work(index + 1);
                Interlocked.Add(ref helperAllocatedBytes, GC.GetAllocatedBytesForCurrentThread() - allocated);
                if (Interlocked.Decrement(ref team.pending) == 0)
                {
                    team.AfterCountdownForTests?.Invoke();
                    team.done.Set();
                }
            }
        }
    }
}
