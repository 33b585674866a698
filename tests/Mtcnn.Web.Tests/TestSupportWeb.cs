using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Mtcnn.Web.Tests;

/// <summary>One log entry seen by <see cref="LogCollector"/>.</summary>
internal sealed record LogEntry(string Category, LogLevel Level, EventId Id, string Message, Exception? Exception)
{
    public override string ToString() => $"{Level} {Category}[{Id.Id}]: {Message}{(Exception is null ? string.Empty : " | " + Exception.GetType().Name + ": " + Exception.Message)}";
}

/// <summary>
/// A logger provider that keeps every entry that passes the host's filters, so tests can check what an operator sees.
/// </summary>
internal sealed class LogCollector : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}

/// <summary>A parsed HTTP/1.1 response read from a raw socket.</summary>
internal sealed record RawResponse(int Status, string StatusLine, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out string? v) ? v : null;

    public override string ToString() => $"{StatusLine} [{string.Join("; ", Headers.Select(h => h.Key + ": " + h.Value))}] {Body}";
}

/// <summary>Requests written byte by byte to a socket: what HttpClient refuses to send (bad paths, stalls, trickles).</summary>
internal static class RawHttp
{
    /// <summary>Connects to <paramref name="baseAddress"/>.</summary>
    public static async Task<TcpClient> ConnectAsync(string baseAddress)
    {
        var uri = new Uri(baseAddress);
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(uri.Host, uri.Port);
        return tcp;
    }

    /// <summary>Sends <paramref name="request"/> as is and reads one response (the connection is then closed).</summary>
    public static async Task<RawResponse> SendAsync(string baseAddress, string request)
    {
        using var tcp = await ConnectAsync(baseAddress);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        return await ReadResponseAsync(stream, headOnly: request.StartsWith("HEAD ", StringComparison.Ordinal));
    }

    /// <summary>
    /// Reads one response: the head, then (unless <paramref name="headOnly"/>, for a HEAD request) a body of
    /// Content-Length bytes, chunked, or up to the close.
    /// </summary>
    public static async Task<RawResponse> ReadResponseAsync(NetworkStream stream, TimeSpan? timeout = null, bool headOnly = false)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var data = new List<byte>();
        byte[] buffer = new byte[16384];
        int headEnd;
        while ((headEnd = IndexOf(data, "\r\n\r\n"u8)) < 0)
        {
            int n = await stream.ReadAsync(buffer, cts.Token);
            if (n == 0)
            {
                throw new IOException($"the connection closed before a whole response head arrived ({data.Count} bytes: {Encoding.Latin1.GetString([.. data])}).");
            }

            data.AddRange(buffer.AsSpan(0, n));
        }

        string head = Encoding.Latin1.GetString([.. data], 0, headEnd);
        string[] lines = head.Split("\r\n");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            string name = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out string? before) ? before + ", " + value : value;
        }

        var body = data.Skip(headEnd + 4).ToList();
        bool chunked = headers.TryGetValue("Transfer-Encoding", out string? te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase);
        long? length = headers.TryGetValue("Content-Length", out string? cl) ? long.Parse(cl, System.Globalization.CultureInfo.InvariantCulture) : null;
        while (!headOnly)
        {
            if (length is { } l && body.Count >= l)
            {
                break;
            }

            if (chunked && IndexOf(body, "0\r\n\r\n"u8) >= 0)
            {
                body = Dechunk(body);
                break;
            }

            if (length is null && !chunked && lines[0].Contains(" 304 ", StringComparison.Ordinal))
            {
                break;
            }

            int n;
            try
            {
                n = await stream.ReadAsync(buffer, cts.Token);
            }
            catch (IOException)
            {
                n = 0;
            }

            if (n == 0)
            {
                break;
            }

            body.AddRange(buffer.AsSpan(0, n));
        }

        int status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return new RawResponse(status, lines[0], headers, Encoding.UTF8.GetString([.. body]));
    }

    private static List<byte> Dechunk(List<byte> body)
    {
        var result = new List<byte>();
        int i = 0;
        while (true)
        {
            int end = IndexOf(body.Skip(i).ToList(), "\r\n"u8);
            int size = int.Parse(Encoding.ASCII.GetString([.. body.Skip(i).Take(end)]).Split(';')[0], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
            i += end + 2;
            if (size == 0)
            {
                return result;
            }

            result.AddRange(body.Skip(i).Take(size));
            i += size + 2;
        }
    }

    private static int IndexOf(List<byte> data, ReadOnlySpan<byte> needle)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(data);
        return span.IndexOf(needle);
    }
}
