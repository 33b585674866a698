using System.Runtime.ExceptionServices;

namespace Mtcnn.Cascade;

/// <summary>
/// Runs one parallel loop of the cascade at a time on the calling thread plus helpers from the thread pool, without
/// allocating: each worker takes the next index as it becomes free (items come largest first, which balances better
/// than contiguous ranges). One instance belongs to one <see cref="ImageContext"/>, so to one detection at a time.
/// </summary>
/// <remarks>
/// Helpers join only while a loop is open and has fewer than degree - 1 of them. A helper the pool starts late, after
/// the caller has done all the work and closed the loop, leaves at once (or joins whichever loop of this context is open
/// then, within that limit); the caller waits only for helpers that joined, so a busy thread pool can slow a detection
/// but never stall it.
/// </remarks>
internal sealed class LoopRunner : IThreadPoolWorkItem
{
    private readonly object gate = new();
    private Func<Workspace>? rent;
    private Action<Workspace>? giveBack;
    private Action<int, Workspace, ImageContext>? body;
    private ImageContext? context;
    private CancellationToken token;
    private ExceptionDispatchInfo? error;
    private int count;
    private int next;
    private int active;
    private int helpers;
    private bool open;

    /// <summary>Runs <paramref name="body"/> for indices 0 .. count - 1 on up to <paramref name="degree"/> threads.</summary>
    public void Run(int count, int degree, ImageContext ctx, Action<int, Workspace, ImageContext> body,
        Func<Workspace> rent, Action<Workspace> giveBack, CancellationToken ct)
    {
        lock (gate)
        {
            this.count = count;
            this.body = body;
            this.rent = rent;
            this.giveBack = giveBack;
            context = ctx;
            token = ct;
            error = null;
            next = -1;
            active = 0;
            helpers = Math.Min(degree, count) - 1;
            open = true;
        }

        for (int h = 0; h < helpers; h++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        Work();
        lock (gate)
        {
            open = false;
            while (active > 0)
            {
                Monitor.Wait(gate);
            }
        }

        error?.Throw();
        ct.ThrowIfCancellationRequested();
    }

    void IThreadPoolWorkItem.Execute()
    {
        lock (gate)
        {
            // At most degree - 1 helpers at once, so a loop never uses more workspaces than its degree.
            if (!open || active >= helpers)
            {
                return;
            }

            active++;
        }

        try
        {
            Work();
        }
        finally
        {
            lock (gate)
            {
                active--;
                if (active == 0 && !open)
                {
                    Monitor.PulseAll(gate);
                }
            }
        }
    }

    private void Work()
    {
        var ws = rent!();
        try
        {
            int i;
            while (error is null && !token.IsCancellationRequested && (i = Interlocked.Increment(ref next)) < count)
            {
                body!(i, ws, context!);
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref error, ExceptionDispatchInfo.Capture(e), null);
        }
        finally
        {
            giveBack!(ws);
        }
    }
}
