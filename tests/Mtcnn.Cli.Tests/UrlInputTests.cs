using System.Net;
using System.Net.Sockets;
using Mtcnn.Cli.Cluster;
using Mtcnn.Cli.Detect;

namespace Mtcnn.Cli.Tests;

/// <summary>
/// <c>http(s)://</c> inputs of <c>detect</c> and <c>align</c> (and so of cluster jobs, which use the same code): a URL is
/// downloaded and detected like the file it serves, and every failure (an HTTP error status, content that is no image,
/// a refused connection) is an error record naming the URL, while the rest of the batch goes on.
/// </summary>
public sealed class UrlInputTests : IDisposable
{
    private readonly HttpListener listener;
    private readonly string baseUrl;
    private readonly byte[] sample = File.ReadAllBytes(CliHarness.Sample);

    public UrlInputTests()
    {
        // HttpListener cannot bind port 0, so a free port is probed first; another process may take it before the
        // listener binds it, in which case a new port is probed (a few times at most).
        for (int attempt = 1; ; attempt++)
        {
            var candidate = new HttpListener();
            string url = $"http://127.0.0.1:{FreePort()}/";
            candidate.Prefixes.Add(url);
            try
            {
                candidate.Start();
                (listener, baseUrl) = (candidate, url);
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                candidate.Close();
            }
        }

        _ = Task.Run(Serve);
    }

    [Fact]
    public void A_url_gives_the_same_record_as_the_file_and_failures_are_error_records()
    {
        var run = CliHarness.Run(["detect", CliHarness.Sample, baseUrl + "photos/astronaut.png", baseUrl + "missing.jpg", baseUrl + "text.jpg", "--format", "jsonl"]);

        Assert.True(run.ExitCode == 1, run.ToString());
        var lines = run.Lines;
        Assert.Equal(4, lines.Length);
        string fileRecord = lines[0];
        string prefix = $"{{\"image\": \"{CliHarness.Sample}\"";
        Assert.StartsWith(prefix, fileRecord, StringComparison.Ordinal);
        Assert.Equal($"{{\"image\": \"{baseUrl}photos/astronaut.png\"" + fileRecord[prefix.Length..], lines[1]);
        Assert.Equal($"{{\"image\": \"{baseUrl}missing.jpg\", \"error\": \"the server answered HTTP 404 (Not Found).\"}}", lines[2]);
        Assert.Contains("\"error\": ", lines[3], StringComparison.Ordinal);
        Assert.Contains("not a supported image", lines[3], StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"{baseUrl}missing.jpg: the server answered HTTP 404", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_connection_is_an_error_record()
    {
        int closed = FreePort();
        var run = CliHarness.Run(["detect", $"http://127.0.0.1:{closed}/a.jpg", "--format", "jsonl"]);

        Assert.True(run.ExitCode == 1, run.ToString());
        string record = Assert.Single(run.Lines);
        Assert.StartsWith($"{{\"image\": \"http://127.0.0.1:{closed}/a.jpg\", \"error\": \"download failed: ", record, StringComparison.Ordinal);
        Assert.Contains("refused", record, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Annotated_copies_and_crops_of_urls_are_named_after_the_last_path_segment()
    {
        using var temp = CliHarness.TempFolder();
        string annotated = Path.Combine(temp.Path, "annotated");
        string crops = Path.Combine(temp.Path, "crops");

        var detect = CliHarness.Run(["detect", baseUrl + "photos/astronaut.png", baseUrl + "photos/astronaut.png?again=1", "--output", annotated, "--quiet"]);
        var align = CliHarness.Run(["align", baseUrl + "photos/astronaut.png", "--output", crops, "--quiet"]);

        Assert.True(detect.ExitCode == 0, detect.ToString());
        Assert.True(File.Exists(Path.Combine(annotated, "astronaut.png")), detect.ToString());
        Assert.True(File.Exists(Path.Combine(annotated, "astronaut_2.png")), detect.ToString());
        Assert.True(align.ExitCode == 0, align.ToString());
        Assert.True(File.Exists(Path.Combine(crops, "astronaut_0.png")), align.ToString());
        Assert.Contains($"\"image\": \"{baseUrl}photos/astronaut.png\", \"face\": 0, \"crop\": \"astronaut_0.png\"", align.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://example.org/photos/a%20b.jpg", "a b.jpg")]
    [InlineData("https://example.org/", "image")]
    [InlineData("https://example.org/x/..", "image")]
    [InlineData("HTTP://example.org/a.png?x=1", "a.png")]
    public void Url_names(string url, string name)
    {
        Assert.True(ImageInput.IsUrl(url));
        Assert.Equal(name, ImageInput.NameOf(url));
    }

    [Fact]
    public void Cluster_inputs_keep_the_path_and_the_output_name()
    {
        var item = new InputItem("photos/a \"b\".jpg", "a \"b\".png");

        Assert.Equal(item, ClusterInput.Decode(ClusterInput.Encode(item)));
        var e = Assert.Throws<InvalidOperationException>(() => ClusterInput.Decode("photos/a.jpg"));
        Assert.Contains("unsupported job input", e.Message, StringComparison.Ordinal);
    }

    // Close only: Stop followed by Close removes the prefixes twice, and the second removal binds the port again (the
    // managed HttpListener looks the endpoint up and re-creates it), which fails with "Address already in use" when
    // another socket has taken the freed port in between (seen in CI: an outgoing connection's ephemeral port).
    public void Dispose() => listener.Close();

    private async Task Serve()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var response = context.Response;
            string path = context.Request.Url!.AbsolutePath;
            byte[] body = path switch
            {
                "/photos/astronaut.png" => sample,
                "/text.jpg" => "this is not an image"u8.ToArray(),
                _ => [],
            };
            response.StatusCode = path is "/photos/astronaut.png" or "/text.jpg" ? 200 : 404;
            response.ContentLength64 = body.Length;
            await response.OutputStream.WriteAsync(body);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
