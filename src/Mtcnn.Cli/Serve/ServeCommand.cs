using System.CommandLine;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Mtcnn.Cli.Cluster;
using Mtcnn.Cluster;
using Mtcnn.Web;

namespace Mtcnn.Cli.Serve;

/// <summary>
/// <c>mtcnn serve</c>: runs the web demo (the page, the JSON API and its OpenAPI description) until Ctrl+C or SIGTERM.
/// The listening addresses and one line per request go to stderr; exit code 0 after a clean stop, 1 when the server
/// cannot start (for example, the port is taken), 2 for a usage error.
/// </summary>
internal static class ServeCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var d = WebServerOptions.Default;
        var urls = new Option<string>("--urls")
        {
            Description = "Addresses to listen on, separated by ';'. Port 0 picks a free port. Use http://0.0.0.0:5000 to accept other machines (there is no authentication).",
            HelpName = "url",
            DefaultValueFactory = _ => WebServerOptions.DefaultUrls,
        };
        var maxUpload = OptionFactory.Long("--max-upload-bytes", d.MaxUploadBytes, "Largest image upload in bytes; larger ones get 413 [1, 1073741824].");
        var maxPixels = OptionFactory.Long("--max-pixels", d.MaxPixels, "Largest image in pixels (width * height); larger ones get 422 [1, 500000000].");
        var maxCandidates = OptionFactory.Int("--max-candidates", d.MaxCandidates, "Most candidates a detection passes from one stage to the next (bounds the work of a request with thresholds near 0); a capped result says \"candidateLimitReached\": true [1, 10000000].");
        var timeout = OptionFactory.Float("--request-timeout-seconds", (float)d.RequestTimeout.TotalSeconds, "Longest time one request may take, queueing included; then 503 [0.001, 3600].");
        var threads = OptionFactory.Int("--threads", 0, "Images processed at once, one thread each; 0 uses every core. With --cluster: images sent to the cluster at once; 0 means 64 [0, 1024].");
        var queue = OptionFactory.Int("--max-queue", d.MaxQueuedRequests, "Requests that may wait for a free thread; more get 503 at once [0, 100000].");
        var weights = new Option<string>("--weights")
        {
            Description = "Weight file or folder (as in detect); default: the embedded original weights.",
            HelpName = "path",
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No line per request on stderr (warnings and errors are still shown)." };
        var cluster = new Option<string>("--cluster")
        {
            Description = "Run the detections on the silos of an 'mtcnn cluster' (its Redis as redis://HOST:PORT) instead of in this process, "
                + "so that web front ends and compute scale apart. --weights then names a file every silo can read.",
            HelpName = "redis://host:port",
        };
        var clusterId = ClusterCommand.ClusterIdOption();
        var backend = new BackendOptionSet();

        var command = new Command("serve",
            "Run the web demo: a page to try the detector on images and a webcam, and a JSON API (POST /api/detect, POST /api/annotate, "
            + "GET /api/health, OpenAPI at /openapi/v1.json). Uploads are kept in memory only. Stop with Ctrl+C.")
        {
            urls, maxUpload, maxPixels, maxCandidates, timeout, threads, queue, weights, quiet, cluster, clusterId,
        };
        backend.AddTo(command);
        command.With(
            "mtcnn serve",
            "mtcnn serve --urls http://127.0.0.1:8080 --threads 2",
            "mtcnn serve --max-upload-bytes 5000000 --max-pixels 12000000 --request-timeout-seconds 10",
            "mtcnn serve --urls http://0.0.0.0:8080 --cluster redis://10.0.0.5:6379");

        command.SetAction(pr =>
        {
            float seconds = pr.GetValue(timeout);
            if (!(seconds >= 0.001f && seconds <= 3600))
            {
                throw new UsageException($"--request-timeout-seconds: must be in [0.001, 3600], got {seconds.ToString(CultureInfo.InvariantCulture)} (see 'mtcnn serve --help')");
            }

            var options = new WebServerOptions
            {
                Urls = pr.GetValue(urls)!,
                MaxUploadBytes = pr.GetValue(maxUpload),
                MaxPixels = pr.GetValue(maxPixels),
                MaxCandidates = pr.GetValue(maxCandidates),
                RequestTimeout = TimeSpan.FromSeconds(seconds),
                MaxConcurrentDetections = pr.GetValue(threads),
                MaxQueuedRequests = pr.GetValue(queue),
            };
            Validate(options);
            string? redis = pr.GetValue(cluster);
            if (redis is null)
            {
                options = options with { Weights = WeightsFile.Load(pr.GetValue(weights), "--weights", console) };

                // ONNX Runtime: each request's networks get one thread, as the built-in kernels do in serve.
                using var onnx = backend.Create(pr, options.Weights, 1, console);
                return Run(options with { NetworkBackend = onnx }, pr.GetValue(quiet), console);
            }

            if (pr.GetValue(backend.Backend) != "builtin")
            {
                throw new UsageException("--backend: with --cluster the silos run the networks (see 'mtcnn serve --help')");
            }

            return RunOnCluster(options, ClusterEndpoint(redis), pr.GetValue(clusterId)!, pr.GetValue(weights), pr.GetValue(quiet), console);
        });
        return command;
    }

    /// <summary>Checks the options, turning a range error into a usage error that names the command-line option.</summary>
    /// <exception cref="UsageException">A value is out of range.</exception>
    public static void Validate(WebServerOptions options)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            string option = e.ParamName switch
            {
                nameof(WebServerOptions.MaxUploadBytes) => "--max-upload-bytes",
                nameof(WebServerOptions.MaxPixels) => "--max-pixels",
                nameof(WebServerOptions.MaxCandidates) => "--max-candidates",
                nameof(WebServerOptions.RequestTimeout) => "--request-timeout-seconds",
                nameof(WebServerOptions.MaxConcurrentDetections) => "--threads",
                nameof(WebServerOptions.MaxQueuedRequests) => "--max-queue",
                _ => "--urls",
            };
            string message = e.Message;
            int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            message = CliApp.OneLine(cut >= 0 ? message[..cut] : message).TrimEnd('.');
            string got = e is ArgumentOutOfRangeException { ActualValue: IFormattable f } ? $", got {f.ToString(null, CultureInfo.InvariantCulture)}" : string.Empty;
            throw new UsageException($"{option}: {message}{got} (see 'mtcnn serve --help')", e);
        }
    }

    /// <summary>Checks <c>--cluster</c>: <c>redis://HOST:PORT</c> (or <c>HOST:PORT</c>).</summary>
    /// <exception cref="UsageException">It is not such an endpoint.</exception>
    internal static string ClusterEndpoint(string text)
    {
        string t = text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) ? text["redis://".Length..].TrimEnd('/') : text;
        int colon = t.LastIndexOf(':');
        if (colon <= 0 || t.Any(char.IsWhiteSpace)
            || !int.TryParse(t[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw new UsageException($"--cluster: expected redis://HOST:PORT, got '{text}' (see 'mtcnn serve --help')");
        }

        return ClusterCommand.RedisText(text);
    }

    /// <summary>
    /// <c>serve --cluster</c>: connects to the cluster as an Orleans client, checks the weights the silos will load,
    /// then serves with the cluster as the backend.
    /// </summary>
    private static int RunOnCluster(WebServerOptions options, string redis, string clusterId, string? weights, bool quiet, CliConsole console)
    {
        if (options.MaxUploadBytes > ImageCall.MaxImageBytes)
        {
            throw new UsageException($"--max-upload-bytes: with --cluster at most {ImageCall.MaxImageBytes} (one Orleans message per image), got {options.MaxUploadBytes} (see 'mtcnn serve --help')");
        }

        string? weightsPath = null;
        if (weights is not null)
        {
            // Checked here so that a bad file is one clear error now, not a 503 per request; the silos load the same path.
            _ = WeightsFile.Load(weights, "--weights", console);
            weightsPath = Path.GetFullPath(weights);
        }

        using var client = ClusterCommand.Connect(redis, clusterId, console);
        var grains = client.Services.GetRequiredService<IClusterClient>();
        int silos = grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).GetAwaiter().GetResult().Count;
        string description = $"cluster '{clusterId}' via Redis {redis}";
        // Retries on another silo are worth a line on stderr (the Orleans client's own messages stay quiet).
        using var logs = LoggerFactory.Create(l => l.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(LogLevel.Warning));
        var logger = logs.CreateLogger("Mtcnn.Serve.Cluster");
        var backend = new ClusterWorkBackend(new ClusterImageClient(grains, logger), options, weightsPath, description);
        options = options with
        {
            Backend = backend,
            MaxConcurrentDetections = options.MaxConcurrentDetections == 0 ? 64 : options.MaxConcurrentDetections,
        };
        console.WriteErrorLine(string.Create(CultureInfo.InvariantCulture,
            $"{CliApp.Name}: detections run on {description} ({silos} silo{(silos == 1 ? "" : "s")} active now)."));
        try
        {
            return Run(options, quiet, console);
        }
        finally
        {
            client.StopAsync().GetAwaiter().GetResult();
        }
    }

    private static int Run(WebServerOptions options, bool quiet, CliConsole console)
    {
        using var app = WebDemoHost.Create(options, builder =>
        {
            // One line per message on stderr; framework chatter only from warnings up.
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.ColorBehavior = console.IsErrorTerminal ? LoggerColorBehavior.Default : LoggerColorBehavior.Disabled;
            });
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Logging.AddFilter("Mtcnn", quiet ? LogLevel.Warning : LogLevel.Information);

            // A failed start (e.g. the port is taken) is reported as the command's one-line error, not as a logged stack trace.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        });

        // Compile the detection paths now rather than in the first request (hundreds of milliseconds otherwise); on a
        // cluster the silos warm themselves when they start.
        var warm = WebDemoHost.WarmUp(app);
        if (!quiet && options.Backend is null)
        {
            console.WriteErrorLine(string.Create(CultureInfo.InvariantCulture, $"{CliApp.Name}: detector ready (warm-up {warm.TotalMilliseconds:F0} ms)."));
        }

        app.StartAsync().GetAwaiter().GetResult();
        foreach (string address in WebDemoHost.ListeningAddresses(app))
        {
            console.WriteErrorLine($"{CliApp.Name}: listening on {address} (page at {address}/, API at {address}/api/detect)");
        }

        console.WriteErrorLine($"{CliApp.Name}: press Ctrl+C to stop.");
        app.WaitForShutdownAsync().GetAwaiter().GetResult();
        console.WriteErrorLine($"{CliApp.Name}: stopped.");
        return ExitCodes.Success;
    }
}
