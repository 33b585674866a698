using System.Collections.Concurrent;

namespace Mtcnn.Web.Detection;

/// <summary>
/// A fixed pool of dedicated threads that run the CPU-bound part of image requests (decode, detect, encode), one
/// request per thread, so that at most <see cref="Concurrency"/> images are processed at once and ASP.NET Core's
/// thread pool stays free for I/O. Requests are admitted up to <see cref="Concurrency"/> + the queue length
/// (<see cref="TryAdmit"/>); a cancelled request that is still queued is skipped. Thread-safe.
/// </summary>
internal sealed class DetectionWorkers : IDisposable
{
    private readonly BlockingCollection<WorkItem> queue = new(new ConcurrentQueue<WorkItem>());
    private readonly Thread[] threads;
    private readonly int capacity;
    private int admitted;
    private int running;

    /// <summary>Starts <paramref name="concurrency"/> worker threads.</summary>
    /// <param name="concurrency">Worker threads, at least 1.</param>
    /// <param name="maxQueued">Admitted requests that may wait beyond the running ones.</param>
    /// <param name="startThreads">
    /// False when the work runs elsewhere (<see cref="WebServerOptions.Backend"/>): no thread is started, the pool only
    /// admits requests and counts the calls out (<see cref="BeginExternal"/>), and <see cref="RunAsync{T}"/> must not be used.
    /// </param>
    public DetectionWorkers(int concurrency, int maxQueued, bool startThreads = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxQueued);
        Concurrency = concurrency;
        capacity = concurrency + maxQueued;
        threads = new Thread[startThreads ? concurrency : 0];
        for (int i = 0; i < threads.Length; i++)
        {
            threads[i] = new Thread(Loop) { IsBackground = true, Name = $"mtcnn-worker-{i + 1}" };
            threads[i].Start();
        }
    }

    /// <summary>Number of worker threads.</summary>
    public int Concurrency { get; }

    /// <summary>Requests admitted and not yet released (running, queued, or still uploading).</summary>
    public int Admitted => Volatile.Read(ref admitted);

    /// <summary>Work items running right now.</summary>
    public int Running => Volatile.Read(ref running);

    /// <summary>
    /// Reserves a place for one request; false when <see cref="Concurrency"/> + the queue length are taken. Every
    /// successful call must be paired with one <see cref="Release"/>.
    /// </summary>
    public bool TryAdmit()
    {
        if (Interlocked.Increment(ref admitted) > capacity)
        {
            Interlocked.Decrement(ref admitted);
            return false;
        }

        return true;
    }

    /// <summary>Gives back a place reserved by <see cref="TryAdmit"/>.</summary>
    public void Release() => Interlocked.Decrement(ref admitted);

    /// <summary>Counts a request whose work runs elsewhere as running until <see cref="EndExternal"/>.</summary>
    public void BeginExternal() => Interlocked.Increment(ref running);

    /// <summary>Ends what <see cref="BeginExternal"/> began.</summary>
    public void EndExternal() => Interlocked.Decrement(ref running);

    /// <summary>Runs <paramref name="work"/> on a worker thread when one is free.</summary>
    /// <param name="work">The work; it receives <paramref name="cancellationToken"/> and should observe it.</param>
    /// <param name="cancellationToken">Cancels the wait (and is passed to the work).</param>
    /// <returns>The work's result; faults with its exception, or is cancelled.</returns>
    public Task<T> RunAsync<T>(Func<CancellationToken, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (threads.Length == 0)
        {
            throw new InvalidOperationException("This pool starts no threads: the work runs on the backend.");
        }

        var item = new WorkItem<T>(work, cancellationToken);
        queue.Add(item, CancellationToken.None);
        return item.Task;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        queue.CompleteAdding();
        foreach (var t in threads)
        {
            t.Join();
        }

        queue.Dispose();
    }

    private void Loop()
    {
        foreach (var item in queue.GetConsumingEnumerable())
        {
            Interlocked.Increment(ref running);
            try
            {
                item.Execute();
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        }
    }

    private abstract class WorkItem
    {
        public abstract void Execute();
    }

    private sealed class WorkItem<T> : WorkItem
    {
        private readonly Func<CancellationToken, T> work;
        private readonly CancellationToken token;
        private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration registration;

        public WorkItem(Func<CancellationToken, T> work, CancellationToken token)
        {
            this.work = work;
            this.token = token;

            // A request that times out or is aborted while queued completes at once; its item is skipped later.
            registration = token.Register(static s => ((WorkItem<T>)s!).completion.TrySetCanceled(((WorkItem<T>)s!).token), this);
        }

        public Task<T> Task => completion.Task;

        public override void Execute()
        {
            if (completion.Task.IsCompleted)
            {
                registration.Dispose();
                return;
            }

            try
            {
                completion.TrySetResult(work(token));
            }
            catch (OperationCanceledException e) when (token.IsCancellationRequested)
            {
                completion.TrySetCanceled(e.CancellationToken);
            }
#pragma warning disable CA1031 // Any failure of the work belongs to the request that queued it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                completion.TrySetException(e);
            }
            finally
            {
                registration.Dispose();
            }
        }
    }
}
