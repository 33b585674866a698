using System.Collections.Concurrent;
using Mtcnn.Cascade;

namespace Mtcnn.Tests.Cascade;

/// <summary>The cascade's reusable parallel loop: every index once, errors and cancellation surface, workspaces bounded.</summary>
public sealed class LoopRunnerTests
{
    private static (Func<Workspace> Rent, Action<Workspace> Return, Func<int> Created) Pool()
    {
        var free = new ConcurrentBag<Workspace>();
        int created = 0;
        Workspace Rent()
        {
            if (free.TryTake(out var ws))
            {
                return ws;
            }

            Interlocked.Increment(ref created);
            return new Workspace();
        }

        return (Rent, free.Add, () => Volatile.Read(ref created));
    }

    [Theory]
    [InlineData(1000, 2)]
    [InlineData(37, 4)]
    [InlineData(1, 2)]
    public void Runs_every_index_exactly_once_loop_after_loop(int count, int degree)
    {
        var ctx = new ImageContext(new IntegralImage());
        var (rent, giveBack, created) = Pool();
        var hits = new int[count];
        for (int loop = 0; loop < 50; loop++)
        {
            Array.Clear(hits);
            ctx.Loops.Run(count, degree, ctx, (i, _, _) => Interlocked.Increment(ref hits[i]), rent, giveBack, CancellationToken.None);
            Assert.All(hits, h => Assert.Equal(1, h));
        }

        // Never more workers at once than the degree, so never more workspaces.
        Assert.InRange(created(), 1, degree);
    }

    [Fact]
    public void An_error_in_a_body_surfaces_from_the_loop()
    {
        var ctx = new ImageContext(new IntegralImage());
        var (rent, giveBack, _) = Pool();
        var e = Assert.Throws<InvalidOperationException>(() => ctx.Loops.Run(100, 2, ctx, (i, _, _) =>
        {
            if (i == 7)
            {
                throw new InvalidOperationException("item 7");
            }
        }, rent, giveBack, CancellationToken.None));
        Assert.Equal("item 7", e.Message);

        // The runner is usable again afterwards.
        int sum = 0;
        ctx.Loops.Run(10, 2, ctx, (i, _, _) => Interlocked.Add(ref sum, i), rent, giveBack, CancellationToken.None);
        Assert.Equal(45, sum);
    }

    [Fact]
    public void Cancellation_stops_the_loop()
    {
        var ctx = new ImageContext(new IntegralImage());
        var (rent, giveBack, _) = Pool();
        using var cts = new CancellationTokenSource();
        int ran = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => ctx.Loops.Run(10_000, 2, ctx, (i, _, _) =>
        {
            if (Interlocked.Increment(ref ran) == 5)
            {
                cts.Cancel();
            }
        }, rent, giveBack, cts.Token));
        Assert.True(ran < 10_000);
    }
}
