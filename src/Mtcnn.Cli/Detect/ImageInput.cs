using System.Globalization;
using System.Net;
using System.Net.Http;
using Mtcnn.Imaging;

namespace Mtcnn.Cli.Detect;

/// <summary>
/// Opens an input of <c>detect</c>, <c>align</c> or a cluster job: a file path, or an <c>http://</c> / <c>https://</c>
/// URL downloaded into memory and decoded like a file. A download is bounded: at most
/// <see cref="ImageLoadOptions.MaxFileSizeBytes"/> bytes (256 MiB by default; a larger <c>Content-Length</c> is refused
/// before the body is read), at most <see cref="DownloadTimeout"/> in all, at most five redirects, and only a 2xx
/// answer is decoded. Every failure is an <see cref="ImageLoadException"/> naming the URL and the problem.
/// </summary>
internal static class ImageInput
{
    /// <summary>The longest a download may take, from connecting to the last byte.</summary>
    public static readonly TimeSpan DownloadTimeout = TimeSpan.FromSeconds(60);

    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = true,
        MaxAutomaticRedirections = 5,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
        DefaultRequestHeaders = { { "User-Agent", "mtcnn (Mtcnn.NET)" } },
    };

    /// <summary>True for an <c>http://</c> or <c>https://</c> URL (case-insensitive scheme).</summary>
    public static bool IsUrl(string input) =>
        input.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || input.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A file name for what a URL points to (its last path segment, unescaped, without characters a file name cannot
    /// hold), or <c>image</c> when it has none; the caller makes it unique.
    /// </summary>
    public static string NameOf(string url)
    {
        string segment = Uri.TryCreate(url, UriKind.Absolute, out var uri) ? Uri.UnescapeDataString(uri.Segments.LastOrDefault() ?? string.Empty) : string.Empty;
        var chars = segment.Trim('/').Select(c => c is '/' or '\\' or ':' or '\0' || char.IsControl(c) ? '_' : c).ToArray();
        string name = new string(chars).Trim('.', ' ');
        return name.Length == 0 ? "image" : name;
    }

    /// <summary>Decodes the image at <paramref name="input"/> (a path or a URL).</summary>
    /// <param name="input">The input as named in the job (reported in errors).</param>
    /// <param name="openPath">Where a file input is opened (the same as <paramref name="input"/> unless relative to another folder).</param>
    /// <param name="options">Decoding limits.</param>
    /// <param name="cancellationToken">Stops a download.</param>
    /// <exception cref="ImageLoadException">The file or URL cannot be read or decoded.</exception>
    public static LoadedImage Load(string input, string openPath, ImageLoadOptions options, CancellationToken cancellationToken = default) =>
        IsUrl(input) ? Download(input, options, cancellationToken) : ImageLoader.Load(openPath, options);

    private static LoadedImage Download(string url, ImageLoadOptions options, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw new ImageLoadException(url, ImageLoadError.NotFound, "is not a valid URL.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DownloadTimeout);
        byte[] bytes;
        try
        {
            bytes = Fetch(uri, url, options.MaxFileSizeBytes, timeout.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ImageLoadException(url, ImageLoadError.Unreadable,
                string.Create(CultureInfo.InvariantCulture, $"download timed out after {DownloadTimeout.TotalSeconds:0} s."), e);
        }
        catch (HttpRequestException e)
        {
            throw new ImageLoadException(url, ImageLoadError.Unreadable, $"download failed: {CliApp.OneLine(Innermost(e).Message).TrimEnd('.')}.", e);
        }
        catch (IOException e)
        {
            throw new ImageLoadException(url, ImageLoadError.Unreadable, $"download failed: {CliApp.OneLine(e.Message).TrimEnd('.')}.", e);
        }

        return ImageLoader.Decode(bytes, url, options);
    }

    private static async Task<byte[]> Fetch(Uri uri, string url, long maxBytes, CancellationToken cancellationToken)
    {
        using var response = await Http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            string reason = string.IsNullOrEmpty(response.ReasonPhrase) ? string.Empty : $" ({response.ReasonPhrase})";
            throw new ImageLoadException(url, ImageLoadError.NotFound,
                string.Create(CultureInfo.InvariantCulture, $"the server answered HTTP {(int)response.StatusCode}{reason}."));
        }

        long? length = response.Content.Headers.ContentLength;
        if (length > maxBytes)
        {
            throw new ImageLoadException(url, ImageLoadError.TooLarge,
                string.Create(CultureInfo.InvariantCulture, $"is {length} bytes, over the {maxBytes}-byte limit."));
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream(length is > 0 ? (int)length.Value : 1 << 16);
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new ImageLoadException(url, ImageLoadError.TooLarge,
                    string.Create(CultureInfo.InvariantCulture, $"is over the {maxBytes}-byte limit."));
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
