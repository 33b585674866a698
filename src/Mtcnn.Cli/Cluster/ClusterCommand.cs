using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Mtcnn.Cli.Align;
using Mtcnn.Cli.Detect;
using Mtcnn.Cli.Serve;
using Mtcnn.Cluster;
using Orleans;
using Orleans.Runtime;

namespace Mtcnn.Cli.Cluster;

/// <summary>
/// <c>mtcnn cluster silo|submit|status</c>: detection jobs on a Microsoft Orleans cluster whose membership and job
/// state live in Redis (see docs/cluster.md). Silos run the detector; <c>submit</c> splits a job into partitions that
/// live silos lease, and with <c>--wait</c> merges the committed records into <c>DIR/detections.jsonl</c>, byte-identical
/// to <c>mtcnn detect --format jsonl</c> on the same inputs and options.
/// </summary>
internal static class ClusterCommand
{
    /// <summary>The subfolder of <c>--output</c> the align task's crops go to.</summary>
    public const string CropsFolder = "crops";

    private static readonly string[] Stages = ["pnet", "rnet", "onet"];
    private static readonly string[] Tasks = ["detect", "align"];

    /// <summary>Builds the command and its verbs.</summary>
    public static Command Create(CliConsole console)
    {
        var command = new Command("cluster", "Run detection jobs on an Orleans cluster of silos sharing a Redis server (membership, job state, results).")
        {
            CreateSilo(console),
            CreateSubmit(console),
            CreateStatus(console),
        };
        command.With(
            "mtcnn cluster silo --redis 127.0.0.1:6379 --silo-port 11111 --gateway-port 30000",
            "mtcnn cluster submit photos/ --recursive --redis 127.0.0.1:6379 --job photos --output out/ --wait",
            "mtcnn cluster status --redis 127.0.0.1:6379");
        return command;
    }

    private static Option<string> RedisOption() => new("--redis")
    {
        Description = "Redis server as HOST:PORT holding the cluster's membership and job state.",
        HelpName = "host:port",
        Required = true,
    };

    internal static Option<string> ClusterIdOption() => new("--cluster-id")
    {
        Description = "Cluster id: silos and clients with the same Redis and id form one cluster.",
        DefaultValueFactory = _ => ClusterNames.DefaultClusterId,
        HelpName = "id",
    };

    private static Command CreateSilo(CliConsole console)
    {
        var redis = RedisOption();
        var clusterId = ClusterIdOption();
        var address = new Option<string>("--address")
        {
            Description = "IP address this silo listens on and announces to the others (one silo per machine: the machine's address).",
            DefaultValueFactory = _ => "127.0.0.1",
            HelpName = "ip",
        };
        var siloPort = OptionFactory.Int("--silo-port", 11111, "Port for silo-to-silo traffic [1, 65535].");
        var gatewayPort = OptionFactory.Int("--gateway-port", 30000, "Port clients (submit, status) connect to [1, 65535].");
        var threads = OptionFactory.Int("--threads", 0, "Partitions processed at once, one thread each; 0 uses every core.");
        var verbose = new Option<bool>("--verbose") { Description = "Log Orleans' informational messages too (default: warnings and errors)." };
        var command = new Command("silo", "Run a silo: joins the cluster, hosts the job grains and detects the partitions it leases. Ctrl+C leaves gracefully.")
        {
            redis, clusterId, address, siloPort, gatewayPort, threads, verbose,
        };
        command.With(
            "mtcnn cluster silo --redis 127.0.0.1:6379",
            "mtcnn cluster silo --redis 10.0.0.5:6379 --address 10.0.0.21 --threads 8");
        command.SetAction(pr =>
        {
            if (!IPAddress.TryParse(pr.GetValue(address), out var ip))
            {
                throw new UsageException($"--address: expected an IP address, got '{pr.GetValue(address)}' (see 'mtcnn cluster silo --help')");
            }

            int workers = pr.GetValue(threads);
            if (workers < 0 || workers > 1024)
            {
                throw new UsageException($"--threads: must be in [0, 1024], got {workers} (see 'mtcnn cluster silo --help')");
            }

            var settings = new SiloSettings
            {
                Redis = RedisText(pr.GetValue(redis)!),
                ClusterId = pr.GetValue(clusterId)!,
                Address = ip,
                SiloPort = Port(pr.GetValue(siloPort), "--silo-port"),
                GatewayPort = Port(pr.GetValue(gatewayPort), "--gateway-port"),
                Workers = workers == 0 ? Environment.ProcessorCount : workers,
                LogLevel = pr.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning,
            };
            return RunSilo(settings, console);
        });
        return command;
    }

    private static int RunSilo(SiloSettings settings, CliConsole console)
    {
        // The web API's work for 'mtcnn serve --cluster', compiled before the silo joins so that its first request is not slow.
        var images = new SiloImageProcessor(console);
        images.WarmUp();
        using var host = ClusterHosting.BuildSilo(settings, new DetectPartitionProcessor(console), console.Error, images);
        try
        {
            host.StartAsync().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new CliFailureException($"the silo could not join cluster '{settings.ClusterId}' through Redis {settings.Redis}: {CliApp.OneLine(ClusterHosting.Describe(e))}", e);
        }

        var silo = host.Services.GetRequiredService<ILocalSiloDetails>();
        console.WriteErrorLine(string.Create(CultureInfo.InvariantCulture,
            $"{CliApp.Name}: silo {silo.SiloAddress} joined cluster '{settings.ClusterId}' (Redis {settings.Redis}, gateway port {settings.GatewayPort}, {settings.Workers} worker{(settings.Workers == 1 ? "" : "s")}); press Ctrl+C to leave."));
        host.WaitForShutdownAsync().GetAwaiter().GetResult();
        console.WriteErrorLine($"{CliApp.Name}: silo {silo.SiloAddress} left the cluster.");
        return ExitCodes.Success;
    }

    private static Command CreateSubmit(CliConsole console)
    {
        var inputs = new Argument<string[]>("INPUT")
        {
            Description = "Image files, folders of images, or - to read paths from stdin; every silo must be able to read them (shared storage).",
            Arity = ArgumentArity.OneOrMore,
        };
        var redis = RedisOption();
        var clusterId = ClusterIdOption();
        var job = new Option<string>("--job")
        {
            Description = "The job's name; submitting the same name with the same inputs and options resumes it, a finished job is not redone.",
            Required = true,
            HelpName = "name",
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Folder for detections.jsonl (written with --wait when the job completes) and, with --task align, the crops under DIR/crops/ "
                + "(must be on storage every silo can write).",
            HelpName = "dir",
        };
        var task = OptionFactory.Choice("--task", "detect", Tasks,
            "What to run on each image: detect, or align (detect, then write aligned crops and DIR/crops/align.jsonl as 'mtcnn align --output DIR/crops' would).");
        var align = new AlignOptionSet();
        var recursive = new Option<bool>("--recursive", "-r") { Description = "Also scan the subfolders of folder inputs." };
        var detector = new DetectorOptionSet("Not used by submit: each silo's --threads sets its parallelism.");
        var stage = OptionFactory.Choice("--stage", "onet", Stages, "Last cascade stage to run (as in detect).");
        var allowIncomplete = new Option<bool>("--allow-incomplete")
        {
            Description = "Detect in the decoded part of truncated or partly corrupt images instead of reporting them as failed.",
        };
        var wait = new Option<bool>("--wait") { Description = "Show progress until the job ends, then write DIR/detections.jsonl." };
        var partitionSize = OptionFactory.Int("--partition-size", 25, "Images per partition, the unit of leasing, retry and commit [1, 100000].");
        var leaseSeconds = OptionFactory.Float("--lease-seconds", 10, "Seconds a silo's lease on a partition lasts without renewal; a dead silo's partitions run elsewhere after this [0.5, 3600].");
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress lines (errors and the summary are still shown)." };
        var progressSeconds = OptionFactory.Float("--progress-seconds", 5, "With --wait and stderr not a terminal: seconds between progress lines [0.5, 3600].");
        var command = new Command("submit",
            "Submit (or resume) a job: the inputs are split into partitions that live silos lease, detect and commit. "
            + "With --wait, shows progress and writes DIR/detections.jsonl as 'mtcnn detect --format jsonl' would.")
        {
            inputs, redis, clusterId, job, output, task, recursive,
        };
        foreach (var option in detector.All.Where(o => o != detector.Threads))
        {
            command.Options.Add(option);
        }

        foreach (var option in align.All)
        {
            command.Options.Add(option);
        }

        command.Options.Add(stage);
        command.Options.Add(allowIncomplete);
        command.Options.Add(wait);
        command.Options.Add(partitionSize);
        command.Options.Add(leaseSeconds);
        command.Options.Add(quiet);
        command.Options.Add(progressSeconds);
        command.With(
            "mtcnn cluster submit photos/ --recursive --redis 127.0.0.1:6379 --job photos --output out/ --wait",
            "find /mnt/share -name '*.jpg' | mtcnn cluster submit - --redis 10.0.0.5:6379 --job archive --min-face-size 40",
            "mtcnn cluster submit /mnt/share/faces --recursive --redis 10.0.0.5:6379 --job crops --task align --largest --output /mnt/share/out --wait");
        command.SetAction(pr =>
        {
            var options = detector.Read(pr) with { MaxDegreeOfParallelism = 0 };
            DetectorOptionSet.Validate(options, "cluster submit");
            int size = pr.GetValue(partitionSize);
            if (size < 1 || size > 100_000)
            {
                throw new UsageException($"--partition-size: must be in [1, 100000], got {size} (see 'mtcnn cluster submit --help')");
            }

            float lease = pr.GetValue(leaseSeconds);
            if (!(lease >= 0.5f && lease <= 3600f))
            {
                throw new UsageException($"--lease-seconds: must be in [0.5, 3600], got {lease.ToString(CultureInfo.InvariantCulture)} (see 'mtcnn cluster submit --help')");
            }

            float every = pr.GetValue(progressSeconds);
            if (!(every >= 0.5f && every <= 3600f))
            {
                throw new UsageException($"--progress-seconds: must be in [0.5, 3600], got {every.ToString(CultureInfo.InvariantCulture)} (see 'mtcnn cluster submit --help')");
            }

            string? dir = pr.GetValue(output);
            bool waitForIt = pr.GetValue(wait);
            if (waitForIt && dir is null)
            {
                throw new UsageException("--wait needs --output DIR for detections.jsonl (see 'mtcnn cluster submit --help')");
            }

            string? weights = pr.GetValue(detector.Weights);
            weights = weights is null ? null : Path.GetFullPath(WeightsFile.Resolve(weights, "--weights"));
            var settings = ClusterJobSettings.From(options, pr.GetValue(stage)!, weights, pr.GetValue(allowIncomplete));
            if (pr.GetValue(task) == "align")
            {
                if (dir is null)
                {
                    throw new UsageException("--task align needs --output DIR: the silos write the crops into DIR/crops (see 'mtcnn cluster submit --help')");
                }

                if (settings.Stage != "onet")
                {
                    throw new UsageException("--task align needs landmarks: --stage must be onet (see 'mtcnn cluster submit --help')");
                }

                settings = settings.WithAlign(align.Build(pr, "cluster submit"), Path.Combine(Path.GetFullPath(dir), CropsFolder));
            }
            var submit = new SubmitSettings(
                pr.GetValue(inputs)!, pr.GetValue(recursive), RedisText(pr.GetValue(redis)!), pr.GetValue(clusterId)!, JobName(pr.GetValue(job)!),
                dir, settings, size, lease, waitForIt, pr.GetValue(quiet), every);
            return Submit(submit, console);
        });
        return command;
    }

    private static int Submit(SubmitSettings s, CliConsole console)
    {
        var items = InputResolver.Resolve(s.Inputs, s.Recursive, console.In, w => console.WriteErrorLine($"{CliApp.Name}: {w}"));
        if (items.Count == 0)
        {
            throw new CliFailureException("no images to process.");
        }

        if (s.Settings.CropsDirectory is { } crops)
        {
            try
            {
                Directory.CreateDirectory(crops);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new CliFailureException($"--output: cannot create '{crops}': {e.Message}", e);
            }
        }

        string[] encoded = items.Select(ClusterInput.Encode).ToArray();
        long bytes = encoded.Sum(e => 2L * e.Length);
        if (bytes > JobSpec.MaxInputBytes)
        {
            throw new CliFailureException(string.Create(CultureInfo.InvariantCulture,
                $"{items.Count} inputs take {bytes / 1048576.0:0.#} MiB, over the {JobSpec.MaxInputBytes / 1048576} MiB a job's submission may carry; split them into several jobs"));
        }

        int partitionCount = JobSpec.PartitionCount(items.Count, s.PartitionSize);
        if (partitionCount > JobSpec.MaxPartitions)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"--partition-size: {items.Count} inputs at {s.PartitionSize} per partition make {partitionCount} partitions, over the limit of {JobSpec.MaxPartitions}; "
                + $"use --partition-size {(items.Count + JobSpec.MaxPartitions - 1) / JobSpec.MaxPartitions} or more, or split the inputs into several jobs"));
        }

        var spec = new JobSpec
        {
            Name = s.Job,
            Inputs = encoded,
            Settings = s.Settings.ToJson(),
            BaseDirectory = Directory.GetCurrentDirectory(),
            PartitionSize = s.PartitionSize,
            LeaseSeconds = s.LeaseSeconds,
        };
        using var host = Connect(s.Redis, s.ClusterId, console);
        var client = host.Services.GetRequiredService<IClusterClient>();
        var jobGrain = client.GetGrain<IJobGrain>(s.Job);
        SubmitResult result;
        try
        {
            result = jobGrain.Submit(spec).GetAwaiter().GetResult();
        }
        catch (ArgumentException e)
        {
            throw new CliFailureException($"--job {s.Job}: {FirstSentence(e)}", e);
        }

        string what = result.Outcome switch
        {
            SubmitOutcome.Created => "submitted",
            SubmitOutcome.Resumed => "resumed",
            _ => "already finished, nothing redone",
        };
        console.WriteErrorLine(string.Create(CultureInfo.InvariantCulture,
            $"{CliApp.Name}: job '{s.Job}' {what}: {result.Status.Inputs} images in {result.Status.Partitions} partitions, {result.Status.InputsDone} done."));
        if (!s.Wait)
        {
            host.StopAsync().GetAwaiter().GetResult();
            return ExitCodes.Success;
        }

        var status = WaitForEnd(client, jobGrain, result.Status, s.Quiet, TimeSpan.FromSeconds(s.ProgressSeconds), console);
        if (status.State == JobState.Failed)
        {
            throw new CliFailureException($"job '{s.Job}' failed: {(status.Failures.Count > 0 ? status.Failures[^1] : "no reason recorded")}");
        }

        var clock = Stopwatch.StartNew();
        string file = Path.Combine(s.Output!, "detections.jsonl");
        string? cropRecords = s.Settings.CropsDirectory is { } cropsFolder ? Path.Combine(cropsFolder, AlignCommand.RecordFile) : null;
        var (failed, faces) = WriteRecords(client, s.Job, status.Partitions, file, cropRecords);
        double elapsed = ((status.FinishedUtc ?? DateTime.UtcNow) - status.CreatedUtc).TotalSeconds;
        string firstLease = status.FirstLeaseUtc is { } first
            ? string.Create(CultureInfo.InvariantCulture, $", the first lease {(first - status.CreatedUtc).TotalSeconds:0.000} s after submission")
            : "";
        console.WriteErrorLine(string.Create(CultureInfo.InvariantCulture,
            $"{CliApp.Name}: job '{s.Job}': {status.Inputs} images, {failed} failed, {elapsed:0.00} s from submission to the last commit ({status.Inputs / Math.Max(elapsed, 1e-9):0.#} img/s{firstLease}); "
            + $"{status.Regrants} partition{(status.Regrants == 1 ? "" : "s")} re-leased, {status.DuplicateInputs} image{(status.DuplicateInputs == 1 ? "" : "s")} redone; "
            + $"wrote {file}{(cropRecords is null ? "" : $" and {faces} aligned face{(faces == 1 ? "" : "s")} in {cropRecords}")} in {clock.Elapsed.TotalSeconds:0.00} s"));
        host.StopAsync().GetAwaiter().GetResult();
        return failed > 0 ? ExitCodes.Failure : ExitCodes.Success;
    }

    private static JobStatus WaitForEnd(IClusterClient client, IJobGrain job, JobStatus status, bool quiet, TimeSpan every, CliConsole console)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var clock = Stopwatch.StartNew();
        double lastTime = 0;
        int lastDone = status.InputsDone;
        double rate = 0;
        bool terminal = console.IsErrorTerminal;
        var nextLine = TimeSpan.Zero;
        while (status.State == JobState.Running)
        {
            Thread.Sleep(Math.Min(500, (int)every.TotalMilliseconds));
            try
            {
                status = job.GetStatus().GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansException)
            {
                // The job grain is moving to another silo after one died: ask again.
                continue;
            }

            double now = clock.Elapsed.TotalSeconds;
            if (now - lastTime >= 2)
            {
                rate = (status.InputsDone - lastDone) / (now - lastTime);
                lastDone = status.InputsDone;
                lastTime = now;
            }

            if (!quiet && (terminal || clock.Elapsed >= nextLine || status.State != JobState.Running))
            {
                int silos = SilosAlive(management);
                string line = string.Create(CultureInfo.InvariantCulture,
                    $"{CliApp.Name}: {status.InputsDone}/{status.Inputs} images ({100.0 * status.InputsDone / Math.Max(1, status.Inputs):0.0} %), {rate:0.#} img/s, {silos} silo{(silos == 1 ? "" : "s")} alive, {status.LeasedPartitions} partition{(status.LeasedPartitions == 1 ? "" : "s")} leased");
                if (terminal)
                {
                    lock (console.Error)
                    {
                        console.Error.Write("\r" + line + "\u001b[K");
                        console.Error.Flush();
                    }
                }
                else
                {
                    console.WriteErrorLine(line);
                    nextLine = clock.Elapsed + every;
                }
            }
        }

        if (!quiet && terminal)
        {
            console.WriteErrorLine(string.Empty);
        }

        return status;
    }

    private static int SilosAlive(IManagementGrain management)
    {
        try
        {
            return management.GetHosts(onlyActive: true).GetAwaiter().GetResult().Count;
        }
        catch (Exception e) when (e is TimeoutException or SiloUnavailableException or OrleansException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Writes every partition's records in order (through temporary files, renamed at the end): the first line of each
    /// input's record to <paramref name="file"/>, the align task's further lines (one per crop) to
    /// <paramref name="cropRecords"/>. Returns the number of error records and of crop records.
    /// </summary>
    private static (int Failed, int Crops) WriteRecords(IClusterClient client, string job, int partitions, string file, string? cropRecords)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(file));
        string current = file;
        try
        {
            Directory.CreateDirectory(folder!);
            string temporary = file + ".partial";
            string? cropTemporary = cropRecords is null ? null : cropRecords + ".partial";
            int failed = 0, crops = 0;
            using (var writer = new StreamWriter(temporary, append: false, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" })
            using (var cropWriter = cropTemporary is null ? null : new StreamWriter(cropTemporary, append: false, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" })
            {
                for (int p = 0; p < partitions; p++)
                {
                    var records = client.GetGrain<IPartitionGrain>(ClusterNames.PartitionKey(job, p)).GetRecords().GetAwaiter().GetResult()
                        ?? throw new CliFailureException($"job '{job}': partition {p} has no records although the job completed");
                    foreach (string record in records)
                    {
                        int newline = record.IndexOf('\n', StringComparison.Ordinal);
                        string first = newline < 0 ? record : record[..newline];
                        writer.WriteLine(first);
                        if (IsError(first))
                        {
                            failed++;
                        }

                        if (newline >= 0 && cropWriter is not null)
                        {
                            foreach (string line in record[(newline + 1)..].Split('\n'))
                            {
                                cropWriter.WriteLine(line);
                                if (AlignCommand.IsCropLine(line))
                                {
                                    crops++;
                                }
                            }
                        }
                    }
                }
            }

            File.Move(temporary, file, overwrite: true);
            if (cropRecords is not null)
            {
                current = cropRecords;
                File.Move(cropTemporary!, cropRecords, overwrite: true);
            }

            return (failed, crops);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliFailureException($"cannot write '{current}': {CliApp.OneLine(e.Message)}", e);
        }
    }

    private static bool IsError(string record)
    {
        using var doc = JsonDocument.Parse(record);
        return doc.RootElement.TryGetProperty("error", out _);
    }

    private static Command CreateStatus(CliConsole console)
    {
        var redis = RedisOption();
        var clusterId = ClusterIdOption();
        var job = new Option<string>("--job") { Description = "Show only this job.", HelpName = "name" };
        var command = new Command("status", "Show the cluster's silos (address, status, images done) and jobs (state, progress, failures).")
        {
            redis, clusterId, job,
        };
        command.With("mtcnn cluster status --redis 127.0.0.1:6379", "mtcnn cluster status --redis 127.0.0.1:6379 --job photos");
        command.SetAction(pr => Status(RedisText(pr.GetValue(redis)!), pr.GetValue(clusterId)!, pr.GetValue(job), console));
        return command;
    }

    private static int Status(string redis, string clusterId, string? jobName, CliConsole console)
    {
        using var host = Connect(redis, clusterId, console);
        var client = host.Services.GetRequiredService<IClusterClient>();
        var names = jobName is null ? client.GetGrain<IJobRegistryGrain>(0).GetAll().GetAwaiter().GetResult() : [JobName(jobName)];
        var jobs = names.Select(n => client.GetGrain<IJobGrain>(n).GetStatus().GetAwaiter().GetResult()).ToList();
        var perWorker = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var j in jobs)
        {
            foreach (var (worker, count) in j.InputsByWorker)
            {
                perWorker[worker] = perWorker.GetValueOrDefault(worker) + count;
            }
        }

        var hosts = client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false).GetAwaiter().GetResult();
        var output = console.Out;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cluster '{clusterId}' (Redis {redis}): {hosts.Count(h => h.Status == SiloStatus.Active)} silo(s) active"));
        foreach (var h in hosts.OrderBy(h => h.StartTime))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  silo {h.SiloAddress}  {h.Status.ToString().ToLowerInvariant()}  started {h.StartTime:yyyy-MM-dd HH:mm:ss}Z  images done {perWorker.GetValueOrDefault(h.SiloAddress.ToString())}"));
        }

        if (jobs.Count == 0)
        {
            output.WriteLine("no jobs");
        }

        foreach (var j in jobs)
        {
            if (j.State == JobState.Unknown)
            {
                output.WriteLine($"job '{j.Name}': not found");
                continue;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"job '{j.Name}': {j.State.ToString().ToLowerInvariant()}, {j.InputsDone}/{j.Inputs} images, {j.CommittedPartitions}/{j.Partitions} partitions committed, {j.LeasedPartitions} leased, "
                + $"{j.Regrants} re-leased, {j.DuplicateInputs} images redone, {j.Failures.Count} failure(s)"));
            foreach (string failure in j.Failures)
            {
                output.WriteLine($"  failure: {failure}");
            }

            foreach (var e in j.RegrantEvents.TakeLast(10))
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  re-leased: partition {e.Partition} from {(e.PreviousWorker.Length == 0 ? "?" : e.PreviousWorker)} to {e.Worker} at {e.Utc:yyyy-MM-ddTHH:mm:ss.fff}Z"));
            }
        }

        output.Flush();
        host.StopAsync().GetAwaiter().GetResult();
        return ExitCodes.Success;
    }

    internal static IHost Connect(string redis, string clusterId, CliConsole console)
    {
        var host = ClusterHosting.BuildClient(redis, clusterId, TextWriter.Null);
        try
        {
            host.StartAsync().GetAwaiter().GetResult();
            return host;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            host.Dispose();
            _ = console;
            throw new CliFailureException($"cannot reach cluster '{clusterId}' through Redis {redis} (is a silo running?): {CliApp.OneLine(ClusterHosting.Describe(e))}", e);
        }
    }

    internal static string RedisText(string redis)
    {
        try
        {
            _ = ClusterHosting.RedisOptions(redis);
            return redis;
        }
        catch (ArgumentException e)
        {
            throw new UsageException(FirstSentence(e), e);
        }
    }

    private static string JobName(string name) =>
        name.Length is > 0 and <= 200 && !name.Contains('/', StringComparison.Ordinal) && !name.Any(char.IsControl)
            ? name
            : throw new UsageException($"--job: a name of 1 to 200 characters without '/' or control characters, got '{name}'");

    private static int Port(int port, string option) =>
        port is >= 1 and <= 65535 ? port : throw new UsageException($"{option}: must be in [1, 65535], got {port} (see 'mtcnn cluster silo --help')");

    private static string FirstSentence(ArgumentException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return CliApp.OneLine(cut >= 0 ? message[..cut] : message);
    }

    private sealed record SubmitSettings(
        string[] Inputs, bool Recursive, string Redis, string ClusterId, string Job, string? Output, ClusterJobSettings Settings,
        int PartitionSize, double LeaseSeconds, bool Wait, bool Quiet, double ProgressSeconds);
}
