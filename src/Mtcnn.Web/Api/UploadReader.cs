using System.Buffers;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Mtcnn.Web.Api;

/// <summary>
/// An uploaded file held in memory: <c>Buffer[..Length]</c>, in an array rented from <see cref="ArrayPool{T}.Shared"/>
/// (uploads are usually large enough for the large-object heap, where fresh arrays per request cost full collections).
/// </summary>
internal sealed class Upload
{
    private byte[]? buffer;

    /// <summary>Takes ownership of a rented <paramref name="buffer"/>.</summary>
    public Upload(byte[] buffer, int length, string name)
    {
        this.buffer = buffer;
        Length = length;
        Name = name;
    }

    /// <summary>Number of valid bytes.</summary>
    public int Length { get; }

    /// <summary>The client's file name, or "upload" when it gave none; only used in messages and the JSON.</summary>
    public string Name { get; }

    /// <summary>The valid bytes.</summary>
    /// <exception cref="ObjectDisposedException">After <see cref="Release"/>.</exception>
    public ReadOnlySpan<byte> Span => (buffer ?? throw new ObjectDisposedException(nameof(Upload))).AsSpan(0, Length);

    /// <summary>
    /// Returns the buffer to the pool; call once the bytes are no longer read (the decoder copies them). An upload whose
    /// work never runs (cancelled while queued) is simply collected.
    /// </summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref buffer, null) is { } b)
        {
            ArrayPool<byte>.Shared.Return(b);
        }
    }
}

/// <summary>
/// Reads the image of a request into memory, never to disk: the field <c>image</c> of a <c>multipart/form-data</c>
/// body (streamed section by section, other fields skipped, exactly one <c>image</c> field), or the whole body when its
/// content type is <c>image/*</c> or <c>application/octet-stream</c>. The declared type only selects how the body is
/// framed: the image format is found from the bytes later. More than the byte limit is a 413 as soon as it is seen
/// (from <c>Content-Length</c> when given; a multipart body may add <see cref="MultipartOverheadBytes"/> of framing and
/// other fields). After a 413 the server still drains up to <see cref="DrainBytes"/> more, so the client reads the
/// answer. A body with a <c>Content-Encoding</c> (gzip, br, ...) is a 415: it is not
/// decompressed.
/// </summary>
internal static class UploadReader
{
    /// <summary>The multipart field that carries the image.</summary>
    public const string FieldName = "image";

    /// <summary>Room for multipart framing and small extra fields on top of the image limit.</summary>
    public const long MultipartOverheadBytes = 64 * 1024;

    /// <summary>
    /// Bytes past the body limit that the server still reads (and discards) after answering 413, so that a client still
    /// sending its body reads the answer instead of a reset connection. Kestrel's body limit is the body limit plus
    /// this; a client sending more than that gets the connection closed after the 413 and may see only the close.
    /// </summary>
    public const long DrainBytes = 1024 * 1024;

    /// <summary>
    /// Most parts other than the image field (before and after it together); a form from the demo page has none.
    /// </summary>
    public const int MaxParts = 100;

    /// <summary>Most header lines in one part.</summary>
    public const int MaxPartHeaders = 16;

    /// <summary>Most bytes of one part's header block.</summary>
    public const int MaxPartHeaderBytes = 16 * 1024;

    private const string DefaultName = "upload";
    private const int ChunkSize = 64 * 1024;

    /// <summary>Reads the upload.</summary>
    /// <param name="request">The request.</param>
    /// <param name="maxBytes">Largest image accepted, in bytes.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <exception cref="ApiException">
    /// 400 (no image field or more than one, empty body, malformed multipart), 413 (too large) or 415 (content type or
    /// content encoding).
    /// </exception>
    public static async Task<Upload> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckNotEncoded(request.Headers.ContentEncoding);
        string? contentType = request.ContentType;
        if (string.IsNullOrWhiteSpace(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
        {
            throw UnsupportedType(contentType);
        }

        if (mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            CheckDeclaredLength(request.ContentLength, maxBytes + MultipartOverheadBytes, maxBytes);
            var body = new BodyStream(request.BodyReader, maxBytes + MultipartOverheadBytes, () => TooLarge(maxBytes));
            return await ReadMultipartAsync(request, body, mediaType, maxBytes, cancellationToken).ConfigureAwait(false);
        }

        if (mediaType.Type.Equals("image", StringComparison.OrdinalIgnoreCase)
            || mediaType.MediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase))
        {
            CheckDeclaredLength(request.ContentLength, maxBytes, maxBytes);
            var body = new BodyStream(request.BodyReader, maxBytes, () => TooLarge(maxBytes));
            return await ReadAllAsync(body, request.ContentLength, DefaultName, maxBytes, cancellationToken).ConfigureAwait(false);
        }

        throw UnsupportedType(contentType);
    }

    private static async Task<Upload> ReadMultipartAsync(HttpRequest request, Stream body, MediaTypeHeaderValue mediaType, long maxBytes, CancellationToken cancellationToken)
    {
        string boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value ?? string.Empty;
        if (boundary.Length is 0 or > 256)
        {
            throw new ApiException("the multipart/form-data content type has no valid boundary.");
        }

        if (request.ContentLength == 0)
        {
            throw new ApiException("the multipart/form-data body is empty (0 bytes).");
        }

        var reader = new MultipartReader(boundary, body)
        {
            BodyLengthLimit = null,
            HeadersCountLimit = MaxPartHeaders,
            HeadersLengthLimit = MaxPartHeaderBytes,
        };
        int parts = 0;
        int others = 0;
        int images = 0;
        bool inImagePart = false;
        Upload? upload = null;
        try
        {
            MultipartSection? section;
            while ((section = await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false)) is not null)
            {
                parts++;
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !string.Equals(HeaderUtilities.RemoveQuotes(disposition.Name).Value, FieldName, StringComparison.Ordinal))
                {
                    // Other fields are skipped by the reader when it looks for the next section.
                    if (++others > MaxParts)
                    {
                        throw new ApiException(upload is null
                            ? $"the multipart/form-data body has more than {MaxParts} parts before the field '{FieldName}'."
                            : $"the multipart/form-data body has more than {MaxParts} parts besides the field '{FieldName}'.");
                    }

                    continue;
                }

                if (++images > 1)
                {
                    // The later image parts are skipped unread, only counted, so that the message can say how many came.
                    continue;
                }

                string name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? string.Empty;
                inImagePart = true;
                // The request's length bounds the section's: a good first buffer size when the client declared it.
                upload = await ReadAllAsync(section.Body, request.ContentLength, CleanName(name), maxBytes, cancellationToken).ConfigureAwait(false);
                inImagePart = false;
            }

            // The rest of the body has been read to its closing boundary: the image was the only one.
            if (images > 1)
            {
                throw new ApiException($"one image per request: the multipart/form-data body has {images} fields named '{FieldName}'; send each image in its own request.");
            }

            if (upload is not null)
            {
                Upload result = upload;
                upload = null;
                return result;
            }
        }
        catch (InvalidDataException e)
        {
            // MultipartReader's complaint about a malformed body: a header line or block over the limits, a header
            // line without a colon, more than the allowed number of headers.
            string limits = $"at most {MaxPartHeaders} header lines and {MaxPartHeaderBytes} bytes of headers per part";
            throw new ApiException(
                parts == 0
                    ? $"malformed multipart/form-data body: it does not start with the boundary '--{boundary}' its content type declares, or the first part's headers are malformed or too large ({e.Message.TrimEnd('.')}; {limits})."
                    : $"malformed multipart/form-data body: the headers of part {parts + 1} are malformed or too large ({e.Message.TrimEnd('.')}; {limits}).",
                e);
        }
        catch (IOException e) when (e is not BadHttpRequestException && !cancellationToken.IsCancellationRequested)
        {
            // MultipartReader's stream reports the body ending before the boundary it looks for as an IOException
            // (Kestrel's own limits and framing errors are BadHttpRequestException, answered with their status).
            throw new ApiException(
                inImagePart
                    ? $"malformed multipart/form-data body: the '{FieldName}' part ends before its closing boundary '--{boundary}' (truncated upload?)."
                    : parts == 0
                        ? $"malformed multipart/form-data body: no boundary '--{boundary}' found before the body ends (the body uses another boundary than its content type declares, or it is empty or truncated)."
                        : $"malformed multipart/form-data body: it ends inside part {parts}, before the next boundary '--{boundary}' (truncated upload?).",
                e);
        }
        finally
        {
            // Still set only when the body turned out bad after the image was read.
            upload?.Release();
        }

        throw new ApiException($"the multipart/form-data body has no field named '{FieldName}'.");
    }

    private static async Task<Upload> ReadAllAsync(Stream body, long? lengthHint, string name, long maxBytes, CancellationToken cancellationToken)
    {
        // With a length hint the buffer is rented once; otherwise it grows by doubling up to the limit.
        int initial = (int)Math.Min(maxBytes, lengthHint is > 0 and var n ? n : ChunkSize);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initial, 1));
        byte[] probe = new byte[1];
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    // Full: read one byte to see whether more is coming before growing the buffer.
                    if (await body.ReadAsync(probe, cancellationToken).ConfigureAwait(false) == 0)
                    {
                        break;
                    }

                    if (length >= maxBytes)
                    {
                        throw TooLarge(maxBytes);
                    }

                    byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(maxBytes, (long)buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                    buffer[length++] = probe[0];
                    continue;
                }

                // Never read past the limit into a rented buffer that happens to be larger.
                int room = (int)Math.Min(buffer.Length - length, maxBytes - length);
                if (room == 0)
                {
                    if (await body.ReadAsync(probe, cancellationToken).ConfigureAwait(false) > 0)
                    {
                        throw TooLarge(maxBytes);
                    }

                    break;
                }

                int read = await body.ReadAsync(buffer.AsMemory(length, room), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            if (length == 0)
            {
                throw new ApiException("the upload is empty (0 bytes).");
            }

            return new Upload(buffer, length, name);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>
    /// The client's file name as shown in the JSON, messages and logs: without folders, control characters (no forged log
    /// lines) or excess length; "upload" when nothing is left.
    /// </summary>
    internal static string CleanName(string? fileName)
    {
        string name = Path.GetFileName((fileName ?? string.Empty).Replace('\\', '/'));
        name = new string([.. name.Select(c => char.IsControl(c) ? '_' : c)]).Trim();
        if (name.Length > 200)
        {
            name = name[..200];
        }

        return name.Length == 0 ? DefaultName : name;
    }

    private static void CheckDeclaredLength(long? contentLength, long allowed, long maxBytes)
    {
        if (contentLength is { } n && n > allowed)
        {
            throw TooLarge(maxBytes);
        }
    }

    private static void CheckNotEncoded(Microsoft.Extensions.Primitives.StringValues contentEncoding)
    {
        foreach (string? value in contentEncoding)
        {
            foreach (string coding in (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!coding.Equals("identity", StringComparison.OrdinalIgnoreCase))
                {
                    throw new ApiException(
                        StatusCodes.Status415UnsupportedMediaType,
                        $"compressed request bodies are not accepted (Content-Encoding: {contentEncoding}); send the image bytes as they are, without a Content-Encoding (image formats are compressed already).");
                }
            }
        }
    }

    private static ApiException TooLarge(long maxBytes) =>
        new(StatusCodes.Status413PayloadTooLarge, $"the upload is larger than the limit of {maxBytes} bytes.");

    private static ApiException UnsupportedType(string? contentType) =>
        new(
            StatusCodes.Status415UnsupportedMediaType,
            $"unsupported content type '{contentType ?? "(none)"}': send the image as the multipart/form-data field '{FieldName}', "
            + "or as the raw body with an image/* or application/octet-stream content type.");
}
