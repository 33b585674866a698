using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Mtcnn.Cluster;

/// <summary>How a silo joins the cluster.</summary>
public sealed record SiloSettings
{
    /// <summary>Redis as <c>HOST:PORT</c> (membership and job state).</summary>
    public required string Redis { get; init; }

    /// <summary>The cluster id; silos and clients with the same id and Redis form one cluster.</summary>
    public string ClusterId { get; init; } = ClusterNames.DefaultClusterId;

    /// <summary>The address other silos and clients reach this one at.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>The silo-to-silo port.</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>The client gateway port.</summary>
    public int GatewayPort { get; init; } = 30000;

    /// <summary>Partitions processed at once (one thread each).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>
    /// Failure detection: a silo that misses <see cref="MissedProbes"/> probes of <see cref="ProbeTimeout"/> each is
    /// voted dead. Orleans' defaults (10 s, 3) take tens of seconds; these take a few.
    /// </summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Missed probes before a suspicion vote.</summary>
    public int MissedProbes { get; init; } = 2;

    /// <summary>Least severity written to stderr.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Warning;
}

/// <summary>Builds silo and client hosts on Redis clustering and Redis grain storage.</summary>
public static class ClusterHosting
{
    /// <summary>Parses <c>HOST:PORT</c> or <c>redis://HOST:PORT</c> into Redis client options.</summary>
    /// <exception cref="ArgumentException">The text is not an endpoint.</exception>
    public static ConfigurationOptions RedisOptions(string redis)
    {
        ArgumentNullException.ThrowIfNull(redis);
        string text = redis.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) ? redis["redis://".Length..].TrimEnd('/') : redis;
        int colon = text.LastIndexOf(':');
        if (text.Length == 0 || colon == 0 || (colon > 0 && !int.TryParse(text[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture, out _)))
        {
            throw new ArgumentException($"--redis: expected HOST:PORT, got '{redis}'", nameof(redis));
        }

        var options = ConfigurationOptions.Parse(text);
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 5000;
        return options;
    }

    /// <summary>
    /// A silo host with the job grains, Redis membership and storage, <see cref="PartitionWorker"/>s over
    /// <paramref name="processor"/>, and the image grain over <paramref name="images"/> (null: image calls are refused).
    /// Image calls and partitions share the CPU: each runs at most <see cref="SiloSettings.Workers"/> at once.
    /// </summary>
    public static IHost BuildSilo(SiloSettings settings, IPartitionProcessor processor, TextWriter log, IImageProcessor? images = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(processor);
        var redis = RedisOptions(settings.Redis);
        return new HostBuilder()
            .ConfigureLogging(l => l.ClearProviders().AddProvider(new TextWriterLoggerProvider(log, settings.LogLevel)).SetMinimumLevel(settings.LogLevel)
                // Start-up notes about server GC and a watchdog that reports a busy machine as a possible deadlock.
                .AddFilter("Orleans.Runtime.Silo", LogLevel.Error)
                .AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error))
            .UseOrleans(silo =>
            {
                silo.UseRedisClustering(o => o.ConfigurationOptions = redis.Clone());
                silo.AddRedisGrainStorage(ClusterNames.Storage, o => o.ConfigurationOptions = redis.Clone());
                silo.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = settings.ClusterId;
                    o.ServiceId = settings.ClusterId;
                });
                silo.ConfigureEndpoints(settings.Address, settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: false);
                silo.Configure<ClusterMembershipOptions>(o =>
                {
                    o.ProbeTimeout = settings.ProbeTimeout;
                    o.NumMissedProbesLimit = settings.MissedProbes;
                    o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
                    o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(20);
                    o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
                });
                silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(15));
                silo.Services.AddSingleton(processor);
                silo.Services.Configure<WorkerOptions>(o => o.Workers = settings.Workers);
                silo.Services.AddHostedService<PartitionWorker>();
                silo.Services.AddSingleton(new ImageGate(images, Math.Max(1, settings.Workers)));
            })
            .Build();
    }

    /// <summary>
    /// The message of a failure to reach Redis or the cluster, on one line and without StackExchange.Redis' connection
    /// diagnostics dump.
    /// </summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is RedisConnectionException or RedisTimeoutException)
            {
                return "Redis did not answer (" + (e is RedisTimeoutException ? "timed out" : "cannot connect") + ")";
            }
        }

        string message = exception.Message.ReplaceLineEndings(" ");
        int cut = message.IndexOf(" - Last Connection Exception", StringComparison.Ordinal);
        return cut >= 0 ? message[..cut] : message;
    }

    /// <summary>A client host that finds the silos' gateways through Redis.</summary>
    public static IHost BuildClient(string redis, string clusterId, TextWriter log, LogLevel level = LogLevel.Error)
    {
        var options = RedisOptions(redis);
        return new HostBuilder()
            .ConfigureLogging(l => l.ClearProviders().AddProvider(new TextWriterLoggerProvider(log, level)).SetMinimumLevel(level))
            .UseOrleansClient(client =>
            {
                client.UseRedisClustering(o => o.ConfigurationOptions = options.Clone());
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = clusterId;
                });
                client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(2));
                client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(15));
            })
            .Build();
    }
}

/// <summary>Writes log entries at or above a level as single lines to a text writer (stderr).</summary>
internal sealed class TextWriterLoggerProvider : ILoggerProvider
{
    private readonly TextWriter writer;
    private readonly LogLevel level;

    public TextWriterLoggerProvider(TextWriter writer, LogLevel level)
    {
        this.writer = writer;
        this.level = level;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(TextWriterLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.level && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string message = formatter(state, exception).ReplaceLineEndings(" ");
            string line = $"mtcnn: {logLevel.ToString().ToLowerInvariant()}: {category}: {message}";
            lock (owner.writer)
            {
                owner.writer.WriteLine(line);
                owner.writer.Flush();
            }
        }
    }
}
