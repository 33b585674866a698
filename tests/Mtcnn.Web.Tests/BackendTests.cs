using System.Collections.Concurrent;
using System.Net;

namespace Mtcnn.Web.Tests;

/// <summary>
/// <see cref="WebServerOptions.Backend"/>: image work sent elsewhere (as <c>mtcnn serve --cluster</c> does), and the
/// <see cref="ImageWorker"/> that silos run giving the same bytes as the in-process server.
/// </summary>
public sealed class BackendTests
{
    [Fact]
    public async Task The_backend_gets_the_upload_name_raw_query_and_endpoint_and_its_answer_is_the_response()
    {
        var backend = new RecordingBackend(w => new ImageWorkResult
        {
            Status = 200,
            Body = "{\"ok\":true}"u8.ToArray(),
            Faces = 3,
            DetectMs = 1.5,
            Worker = "silo-7",
        });
        await using var app = await TestApp.StartAsync(new WebServerOptions { Backend = backend });

        using var response = await app.Client.PostAsync("/api/detect?minFaceSize=30&Thresholds=0.5,0.6,0.7", Fixtures.Form(Fixtures.Sample, "a b.png"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"ok\":true}", await response.Content.ReadAsStringAsync());
        Assert.Equal("silo-7", response.Headers.GetValues("X-Mtcnn-Worker").Single());
        Assert.Equal("3", response.Headers.GetValues("X-Face-Count").Single());
        Assert.Contains("detect;dur=1.5", response.Headers.GetValues("Server-Timing").Single(), StringComparison.Ordinal);

        var work = Assert.Single(backend.Calls);
        Assert.Equal("a b.png", work.Name);
        Assert.Equal("?minFaceSize=30&Thresholds=0.5,0.6,0.7", work.Query);
        Assert.False(work.Annotate);
        Assert.Equal(Fixtures.Sample, work.Image.ToArray());

        using var annotate = await app.Client.PostAsync("/api/annotate?format=jpeg", Fixtures.Form(Fixtures.Sample));
        Assert.Equal(HttpStatusCode.OK, annotate.StatusCode);
        Assert.True(backend.Calls.Last().Annotate);
    }

    [Fact]
    public async Task A_bad_query_is_refused_before_the_backend_is_asked()
    {
        var backend = new RecordingBackend(_ => throw new InvalidOperationException("must not be called"));
        await using var app = await TestApp.StartAsync(new WebServerOptions { Backend = backend });
        using var response = await app.Client.PostAsync("/api/detect?minFaceSize=2", Fixtures.Form(Fixtures.Sample));
        string error = await Fixtures.ErrorAsync(response, 400);
        Assert.Contains("minFaceSize", error, StringComparison.Ordinal);
        Assert.Empty(backend.Calls);
    }

    [Theory]
    [InlineData(503, "the cluster did not process the image (no silo); retry shortly.")]
    [InlineData(422, "x.png: the image data is corrupt.")]
    [InlineData(415, "x.png: not a supported image.")]
    public async Task A_refusal_from_the_backend_is_a_json_error_with_its_status(int status, string message)
    {
        var backend = new RecordingBackend(_ => ImageWorkResult.Refused(status, message));
        await using var app = await TestApp.StartAsync(new WebServerOptions { Backend = backend });
        using var response = await app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        Assert.Equal(message, await Fixtures.ErrorAsync(response, status));
    }

    [Fact]
    public async Task Health_names_the_backend_and_counts_the_requests_out_to_it()
    {
        var release = new TaskCompletionSource();
        var backend = new RecordingBackend(_ => new ImageWorkResult { Status = 200, Body = "{}"u8.ToArray() }, release.Task);
        await using var app = await TestApp.StartAsync(new WebServerOptions { Backend = backend, MaxConcurrentDetections = 5 });

        var pending = app.Client.PostAsync("/api/detect", Fixtures.Form(Fixtures.Sample));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (backend.Calls.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        using (var health = await app.Client.GetAsync("/api/health"))
        {
            var json = await Fixtures.JsonAsync(health);
            Assert.Equal("recording backend", json.GetProperty("backend").GetString());
            Assert.Equal(5, json.GetProperty("workers").GetInt32());
            Assert.Equal(1, json.GetProperty("busy").GetInt32());
            Assert.Equal(1, json.GetProperty("admitted").GetInt32());
        }

        release.SetResult();
        using var response = await pending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await using var local = await TestApp.StartAsync();
        using var localHealth = await local.Client.GetAsync("/api/health");
        Assert.Equal("in-process", (await Fixtures.JsonAsync(localHealth)).GetProperty("backend").GetString());
    }

    [Theory]
    [InlineData("/api/detect", "")]
    [InlineData("/api/detect", "?minFaceSize=40&stage=rnet")]
    [InlineData("/api/annotate", "?format=png")]
    public async Task The_worker_gives_the_same_bytes_as_the_in_process_server(string path, string query)
    {
        await using var app = await TestApp.StartAsync();
        using var response = await app.Client.PostAsync(path + query, Fixtures.Form(Fixtures.Sample));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        byte[] expected = await response.Content.ReadAsByteArrayAsync();

        var worker = new ImageWorker(null, WebServerOptions.DefaultMaxUploadBytes, WebServerOptions.DefaultMaxPixels);
        var result = worker.Run(new ImageWork(Fixtures.Sample, "astronaut.png", query, path.EndsWith("annotate", StringComparison.Ordinal)), CancellationToken.None);
        Assert.Equal(200, result.Status);
        Assert.Equal(expected, result.Body);
        Assert.Equal(response.Content.Headers.ContentType!.ToString(), result.ContentType);
        Assert.Equal((512, 512), (result.Width, result.Height));
        Assert.Equal(response.Headers.GetValues("X-Face-Count").Single(), result.Faces.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void The_worker_refuses_what_the_server_refuses_with_the_same_status()
    {
        var worker = new ImageWorker(null, 1000, WebServerOptions.DefaultMaxPixels);
        Assert.Equal(413, worker.Run(new ImageWork(Fixtures.Sample, "big.png", "", false), CancellationToken.None).Status);

        worker = new ImageWorker(null, WebServerOptions.DefaultMaxUploadBytes, 100);
        var tooMany = worker.Run(new ImageWork(Fixtures.Sample, "a.png", "", false), CancellationToken.None);
        Assert.Equal(422, tooMany.Status);
        Assert.Contains("a.png", tooMany.Error, StringComparison.Ordinal);

        worker = new ImageWorker(null, WebServerOptions.DefaultMaxUploadBytes, WebServerOptions.DefaultMaxPixels);
        Assert.Equal(415, worker.Run(new ImageWork("hello"u8.ToArray(), "t.txt", "", false), CancellationToken.None).Status);
        Assert.Equal(400, worker.Run(new ImageWork(Fixtures.Sample, "a.png", "?bogus=1", false), CancellationToken.None).Status);
        Assert.Equal(400, worker.Run(new ImageWork(Fixtures.Sample, "a.png", "format=png", false), CancellationToken.None).Status);
        Assert.Equal(200, worker.Run(new ImageWork(Fixtures.Sample, "a.png", "format=png", true), CancellationToken.None).Status);
    }

    private sealed class RecordingBackend(Func<ImageWork, ImageWorkResult> answer, Task? gate = null) : IImageWorkBackend
    {
        public ConcurrentQueue<ImageWork> Calls { get; } = new();

        public string Description => "recording backend";

        public async Task<ImageWorkResult> RunAsync(ImageWork work, CancellationToken cancellationToken)
        {
            Calls.Enqueue(work);
            if (gate is not null)
            {
                await gate.WaitAsync(cancellationToken);
            }

            return answer(work);
        }
    }
}
