using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Mtcnn.Cli.Cluster;

namespace Mtcnn.Cli.Tests;

/// <summary>
/// <c>mtcnn cluster</c>: the job settings carry every detector option to the silos, and bad arguments or an unreachable
/// Redis give one clear line (the multi-process run with Redis and a killed silo is scripts/cluster-e2e.sh).
/// </summary>
public sealed class ClusterCliTests
{
    private static readonly string[] HandledOptions =
    [
        nameof(DetectorOptions.MinFaceSize), nameof(DetectorOptions.ScaleFactor), nameof(DetectorOptions.PNetThreshold),
        nameof(DetectorOptions.RNetThreshold), nameof(DetectorOptions.ONetThreshold), nameof(DetectorOptions.PNetNmsThreshold),
        nameof(DetectorOptions.PyramidNmsThreshold), nameof(DetectorOptions.RNetNmsThreshold), nameof(DetectorOptions.ONetNmsThreshold),
        nameof(DetectorOptions.CropBorder), nameof(DetectorOptions.MaxFaces), nameof(DetectorOptions.LastStage),
        nameof(DetectorOptions.MaxImagePixels), nameof(DetectorOptions.MaxCandidates), nameof(DetectorOptions.Rotations), nameof(DetectorOptions.RotationMergeIou),

        // Not part of a job: a silo runs one image per thread, and stage candidates are not collected by detect's records.
        nameof(DetectorOptions.MaxDegreeOfParallelism), nameof(DetectorOptions.CollectStageCandidates),
    ];

    [Fact]
    public void Every_detector_option_is_known_to_the_job_settings()
    {
        var settable = typeof(DetectorOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is not null)
            .Select(p => p.Name)
            .Order(StringComparer.Ordinal);

        // A new DetectorOptions property must be carried by ClusterJobSettings (or listed as not part of a job) before
        // this passes, so that `cluster submit` never drops an option silently.
        Assert.Equal(HandledOptions.Order(StringComparer.Ordinal), settable);
    }

    [Fact]
    public void Job_settings_round_trip_every_option_through_json()
    {
        var options = new DetectorOptions
        {
            MinFaceSize = 33,
            ScaleFactor = 0.6f,
            PNetThreshold = 0.5f,
            RNetThreshold = 0.65f,
            ONetThreshold = 0.8f,
            PNetNmsThreshold = 0.4f,
            PyramidNmsThreshold = 0.6f,
            RNetNmsThreshold = 0.55f,
            ONetNmsThreshold = 0.45f,
            CropBorder = CropBorder.Clip,
            MaxFaces = 3,
            MaxCandidates = 777,
            MaxImagePixels = 12_345_678,
            Rotations = DetectionRotations.Auto,
            RotationMergeIou = 0.4f,
        };

        var back = ClusterJobSettings.Parse(ClusterJobSettings.From(options, "rnet", "/w/weights.safetensors", allowIncomplete: true).ToJson());

        Assert.Equal(options with { LastStage = CascadeStage.RNet, MaxDegreeOfParallelism = 1 }, back.ToDetectorOptions());
        Assert.Equal("/w/weights.safetensors", back.Weights);
        Assert.True(back.AllowIncomplete);
    }

    [Fact]
    public void Align_settings_round_trip_through_json()
    {
        var aligner = new Mtcnn.Alignment.FaceAlignerOptions
        {
            Template = Mtcnn.Alignment.AlignmentTemplate.ArcFace112x96,
            OutputWidth = 120,
            OutputHeight = 140,
            Margin = 0.25,
            Border = Mtcnn.Alignment.AlignmentBorder.Replicate,
        };
        var spec = new Mtcnn.Cli.Align.FaceCropSpec(aligner.Template.Name, aligner.Validate(), 0, 0, FaceSelection.Largest);
        var settings = ClusterJobSettings.From(DetectorOptions.Default, "onet", null, allowIncomplete: false).WithAlign(spec, "/share/out/crops");

        var back = ClusterJobSettings.Parse(settings.ToJson());

        Assert.Equal("align", back.Task);
        Assert.Equal("largest", back.Select);
        Assert.Equal("/share/out/crops", back.CropsDirectory);
        Assert.Equal(aligner.Validate(), back.ToAlignerOptions());
        Assert.Equal(spec, back.ToCropSpec());
        Assert.Throws<InvalidOperationException>(() => ClusterJobSettings.Parse(settings.ToJson().Replace("/share/out/crops", "", StringComparison.Ordinal)));

        var facenet = new Mtcnn.Cli.Align.FaceCropSpec("facenet160", null, 160, 32, FaceSelection.Center);
        var again = ClusterJobSettings.Parse(ClusterJobSettings.From(DetectorOptions.Default, "onet", null, false).WithAlign(facenet, "/c").ToJson());
        Assert.Equal(facenet, again.ToCropSpec());
        Assert.Throws<InvalidOperationException>(() => (again with { Margin = 160 }).ToCropSpec());
        Assert.Throws<InvalidOperationException>(() => (again with { Select = "widest" }).ToCropSpec());
    }

    [Fact]
    public void Settings_of_another_version_are_refused_with_a_message()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ClusterJobSettings.Parse("{\"Task\":\"paint\",\"Thresholds\":[1,2,3],\"NmsThresholds\":[1,2,3,4]}"));
        Assert.Contains("unsupported job settings", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => ClusterJobSettings.Parse("not json"));
    }

    [Theory]
    [InlineData("submit", "samples", "--redis", "host:port", "--job", "j")]
    [InlineData("submit", "samples", "--redis", "127.0.0.1:6379", "--job", "a/b")]
    [InlineData("submit", "samples", "--redis", "127.0.0.1:6379", "--job", "j", "--wait")]
    [InlineData("submit", "samples", "--redis", "127.0.0.1:6379", "--job", "j", "--partition-size", "0")]
    [InlineData("submit", "samples", "--redis", "127.0.0.1:6379", "--job", "j", "--lease-seconds", "0.1")]
    [InlineData("submit", "samples", "--redis", "127.0.0.1:6379", "--job", "j", "--task", "align")]
    [InlineData("submit", "samples", "--redis", "127.0.0.1:6379", "--job", "j", "--task", "align", "--output", "o", "--stage", "rnet")]
    [InlineData("submit", "samples", "--redis", "127.0.0.1:6379", "--job", "j", "--task", "align", "--output", "o", "--margin", "-1")]
    [InlineData("submit", "samples", "--redis", "127.0.0.1:6379", "--job", "j", "--task", "align", "--output", "o", "--size", "3")]
    [InlineData("submit", "samples", "--redis", "127.0.0.1:6379", "--job", "j", "--task", "paint")]
    [InlineData("silo", "--redis", "127.0.0.1:6379", "--silo-port", "70000")]
    [InlineData("silo", "--redis", "127.0.0.1:6379", "--address", "not-an-ip")]
    [InlineData("silo", "--redis", "127.0.0.1:6379", "--threads", "-1")]
    public void Bad_arguments_are_usage_errors_on_one_line(params string[] args)
    {
        var run = CliHarness.Run(["cluster", .. args]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.DoesNotContain("   at ", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("--", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Inputs_that_give_no_images_fail_before_anything_is_submitted()
    {
        string empty = Directory.CreateTempSubdirectory("mtcnn-cluster-empty-").FullName;
        try
        {
            // Port 1 on loopback has no Redis: reaching it would be a different error, so this also shows nothing was sent.
            var run = CliHarness.Run(["cluster", "submit", empty, "--redis", "127.0.0.1:1", "--job", "j"]);

            Assert.True(run.ExitCode == 1, run.ToString());
            Assert.Contains($"{empty}: no images found", run.StdErr, StringComparison.Ordinal);
            Assert.Contains("no images to process", run.StdErr, StringComparison.Ordinal);
            Assert.DoesNotContain("Redis", run.StdErr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void A_job_over_the_partition_limit_is_refused_before_connecting()
    {
        string list = string.Join('\n', Enumerable.Range(0, Mtcnn.Cluster.JobSpec.MaxPartitions + 1).Select(i => $"photo{i}.jpg"));
        var run = CliHarness.Run(["cluster", "submit", "-", "--redis", "127.0.0.1:1", "--job", "j", "--partition-size", "1"], stdin: list);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("over the limit of 20000; use --partition-size 2 or more", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("Redis", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreachable_redis_is_one_clear_line()
    {
        int port = FreePort();
        var run = CliHarness.Run(["cluster", "status", "--redis", $"127.0.0.1:{port}"], timeoutSeconds: 90);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains($"Redis 127.0.0.1:{port}", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StdErr, StringComparison.Ordinal);
        Assert.Single(run.ErrorLines);
    }

    [Theory]
    [InlineData("--cluster", "not an endpoint", "--cluster: expected redis://HOST:PORT, got 'not an endpoint'")]
    [InlineData("--cluster", "redis://host", "--cluster: expected redis://HOST:PORT")]
    [InlineData("--cluster", "redis://host:99999", "--cluster: expected redis://HOST:PORT")]
    [InlineData("--max-upload-bytes", "70000000", "--max-upload-bytes: with --cluster at most 67108864")]
    public void Serve_on_a_cluster_checks_its_options_first(string option, string value, string message)
    {
        string[] args = option == "--cluster"
            ? ["serve", "--cluster", value]
            : ["serve", "--cluster", "redis://127.0.0.1:1", option, value];
        var run = CliHarness.Run(args);
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(message, run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_on_an_unreachable_cluster_is_one_clear_line()
    {
        int port = FreePort();
        var run = CliHarness.Run(["serve", "--cluster", $"redis://127.0.0.1:{port}", "--urls", "http://127.0.0.1:0"], timeoutSeconds: 90);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains($"cannot reach cluster 'mtcnn' through Redis redis://127.0.0.1:{port}", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StdErr, StringComparison.Ordinal);
        Assert.Single(run.ErrorLines);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
