using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Mtcnn.Cluster.Tests;

/// <summary>
/// The image grain behind <c>mtcnn serve --cluster</c>: calls from a client spread over the silos, each silo runs at most
/// its worker count at once, and refusals and limits are clear.
/// </summary>
public sealed class ImageGrainTests : IClassFixture<ImageClusterFixture>
{
    private readonly ImageClusterFixture fixture;

    public ImageGrainTests(ImageClusterFixture fixture)
    {
        this.fixture = fixture;
    }

    [Fact]
    public async Task Calls_from_a_client_spread_over_both_silos_and_return_the_processor_reply()
    {
        var client = new ClusterImageClient(fixture.Cluster.Client, NullLogger.Instance);
        var replies = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
            client.ProcessAsync(new ImageCall { Image = [(byte)i, 1, 2], Name = $"img{i}", Settings = "s" }, CancellationToken.None)));

        for (int i = 0; i < replies.Length; i++)
        {
            Assert.Equal(200, replies[i].Status);
            Assert.Equal([2, 1, (byte)i], replies[i].Body);
            Assert.Equal($"s|img{i}", replies[i].ContentType);
        }

        var silos = fixture.Cluster.GetActiveSilos().Select(s => s.SiloAddress.ToString()).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(2, silos.Count);
        Assert.Equal(silos, replies.Select(r => r.Silo!).ToHashSet(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Each_silo_processes_at_most_its_worker_count_at_once()
    {
        EchoImageProcessor.Shared.Reset(TimeSpan.FromMilliseconds(30));
        int most;
        try
        {
            var client = new ClusterImageClient(fixture.Cluster.Client, NullLogger.Instance);
            await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
                client.ProcessAsync(new ImageCall { Image = [1], Name = $"c{i}", Settings = "s" }, CancellationToken.None)));
            most = EchoImageProcessor.Shared.MaxConcurrent;
        }
        finally
        {
            EchoImageProcessor.Shared.Reset(TimeSpan.Zero);
        }

        // Two silos with one worker each: never more than two calls inside processors at once, and at least two at some point.
        Assert.Equal(ImageClusterFixture.Silos, most);
    }

    [Fact]
    public async Task A_silo_without_an_image_processor_refuses_with_503()
    {
        using var gate = new ImageGate(null, 1);
        var reply = await gate.RunAsync(new ImageCall { Image = [1], Name = "a", Settings = "" }, "S1");
        Assert.Equal(503, reply.Status);
        Assert.Equal("silo S1 does not process images.", reply.Error);
        Assert.Equal(0, gate.Served);
    }

    [Fact]
    public async Task An_image_over_the_message_limit_is_refused_before_it_is_sent()
    {
        var client = new ClusterImageClient(fixture.Cluster.Client, NullLogger.Instance);
        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            client.ProcessAsync(new ImageCall { Image = new byte[ImageCall.MaxImageBytes + 1], Name = "big", Settings = "" }, CancellationToken.None));
        Assert.StartsWith("the image is larger than the cluster's limit of 67108864 bytes.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Silo_and_connection_failures_are_retried_other_failures_are_not()
    {
        Assert.True(ClusterImageClient.IsTransient(new SiloUnavailableException()));
        Assert.True(ClusterImageClient.IsTransient(new TimeoutException()));
        Assert.True(ClusterImageClient.IsTransient(new OrleansException("wrapped", new TimeoutException())));
        Assert.False(ClusterImageClient.IsTransient(new InvalidOperationException()));
        Assert.False(ClusterImageClient.IsTransient(new OrleansException("no inner")));
    }
}

/// <summary>Two silos, one image worker each, over <see cref="EchoImageProcessor.Shared"/>.</summary>
public sealed class ImageClusterFixture() : TestClusterFixture<ImageClusterFixture.WithImages>(Silos)
{
    public const short Silos = 2;

    public sealed class WithImages : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddMemoryGrainStorage(ClusterNames.Storage);
            siloBuilder.Services.AddSingleton(new ImageGate(EchoImageProcessor.Shared, 1));
        }
    }
}

/// <summary>Answers with the image reversed and <c>settings|name</c> as the content type; records the most calls inside it at once.</summary>
public sealed class EchoImageProcessor : IImageProcessor
{
    private int inside;
    private int maxConcurrent;
    private TimeSpan delay;

    public static EchoImageProcessor Shared { get; } = new();

    public int MaxConcurrent => Volatile.Read(ref maxConcurrent);

    public void Reset(TimeSpan delay)
    {
        this.delay = delay;
        Volatile.Write(ref maxConcurrent, 0);
    }

    public ImageReply Process(ImageCall image, CancellationToken cancellationToken)
    {
        int now = Interlocked.Increment(ref inside);
        int seen;
        while (now > (seen = Volatile.Read(ref maxConcurrent)) && Interlocked.CompareExchange(ref maxConcurrent, now, seen) != seen)
        {
        }

        try
        {
            if (delay > TimeSpan.Zero)
            {
                Thread.Sleep(delay);
            }

            return new ImageReply { Status = 200, Body = [.. image.Image.Reverse()], ContentType = image.Settings + "|" + image.Name };
        }
        finally
        {
            Interlocked.Decrement(ref inside);
        }
    }

    public void WarmUp()
    {
    }
}
