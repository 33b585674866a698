namespace Mtcnn.Cli;

/// <summary>
/// Runs a function over 0..n−1 on several threads and hands the results to the calling thread strictly in index order,
/// as soon as each next one is ready, so output streams in input order while work runs ahead in parallel. A window
/// bounds how far the workers may run ahead of the oldest result not yet handed over, so memory stays bounded on any
/// batch size.
/// </summary>
internal static class OrderedParallel
{
    /// <summary>Runs <paramref name="work"/> for every index and <paramref name="emit"/> for each result in order.</summary>
    /// <param name="count">Number of items.</param>
    /// <param name="workers">Items processed at once (at least 1).</param>
    /// <param name="work">Computes one item's result (on a worker thread).</param>
    /// <param name="emit">Receives index and result, in index order, on the calling thread.</param>
    /// <param name="waiting">Called about four times a second while the next result is not ready, with the number of results emitted so far.</param>
    /// <param name="window">Results that may be finished but not yet emitted; 0 means <c>max(16, 8 * workers)</c>.</param>
    /// <param name="cancellationToken">Stops the run (workers finish their current item).</param>
    /// <exception cref="CliFailureException">A worker threw; its message is passed on.</exception>
    public static void Run<T>(int count, int workers, Func<int, CancellationToken, T> work, Action<int, T> emit, Action<int> waiting,
        int window = 0, CancellationToken cancellationToken = default)
        where T : class
    {
        workers = Math.Clamp(workers, 1, Math.Max(count, 1));
        var slots = new T?[count];
        var gate = new object();
        Exception? fatal = null;
        int next = -1;
        using var ahead = new SemaphoreSlim(window > 0 ? window : Math.Max(16, workers * 8));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        void Worker()
        {
            try
            {
                while (true)
                {
                    ahead.Wait(stop.Token);
                    int i = Interlocked.Increment(ref next);
                    if (i >= count)
                    {
                        return;
                    }

                    T result = work(i, stop.Token);
                    lock (gate)
                    {
                        slots[i] = result;
                        Monitor.PulseAll(gate);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The run was stopped; the emitting loop reports why.
            }
#pragma warning disable CA1031 // Handed to the calling thread and rethrown there.
            catch (Exception e)
#pragma warning restore CA1031
            {
                lock (gate)
                {
                    fatal ??= e;
                    Monitor.PulseAll(gate);
                }
            }
        }

        var threads = new Thread[workers];
        for (int w = 0; w < threads.Length; w++)
        {
            threads[w] = new Thread(Worker) { IsBackground = true, Name = $"mtcnn-worker-{w}" };
            threads[w].Start();
        }

        try
        {
            for (int i = 0; i < count; i++)
            {
                T? result;
                while (true)
                {
                    lock (gate)
                    {
                        result = slots[i];
                        if (result is null && fatal is null)
                        {
                            Monitor.Wait(gate, 250);
                            result = slots[i];
                        }

                        if (fatal is not null)
                        {
                            throw new CliFailureException(fatal.Message, fatal);
                        }
                    }

                    if (result is not null)
                    {
                        break;
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    waiting(i);
                }

                slots[i] = null;
                ahead.Release();
                emit(i, result);
            }
        }
        finally
        {
            stop.Cancel();
            foreach (var t in threads)
            {
                t.Join();
            }
        }
    }
}
