using System.Buffers;
using System.IO.Pipelines;

namespace Mtcnn.Web.Api;

/// <summary>
/// A read-only stream over the request's <see cref="PipeReader"/> whose reads end cleanly when their token is cancelled,
/// and which stops at a byte limit of its own.
/// </summary>
/// <remarks>
/// Kestrel's request body stream, read with a token that fires mid-read (the request timeout during a slow upload),
/// throws without completing the pipe read it started, so the server's own draining of the rest of the body after the
/// response fails with "Reading is already in progress" and an error in the log. Here a cancelled token calls
/// <see cref="PipeReader.CancelPendingRead"/> instead: the pending read returns a cancelled result, which is
/// acknowledged with <see cref="PipeReader.AdvanceTo(SequencePosition)"/> (consuming nothing) before the
/// <see cref="OperationCanceledException"/> is thrown, so the reader is left idle and the server can drain it.
/// <para>
/// The byte limit is the application's, below Kestrel's (which is higher by <see cref="UploadReader.DrainBytes"/>): a body
/// over it is refused here while Kestrel can still read, and discard, the rest, so the 413 reaches a client that is still
/// sending instead of a connection closed under it.
/// </para>
/// </remarks>
internal sealed class BodyStream : ReadOnlyForwardStream
{
    private readonly PipeReader reader;
    private readonly long maxBytes;
    private readonly Func<Exception> tooLarge;
    private long total;

    /// <summary>Reads from <paramref name="reader"/>; the reader is not completed by this stream.</summary>
    /// <param name="reader">The request body.</param>
    /// <param name="maxBytes">Most bytes the body may have.</param>
    /// <param name="tooLarge">The exception thrown when the body has more than <paramref name="maxBytes"/>.</param>
    public BodyStream(PipeReader reader, long maxBytes, Func<Exception> tooLarge)
    {
        this.reader = reader;
        this.maxBytes = maxBytes;
        this.tooLarge = tooLarge;
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            ReadResult result;
            using (cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(static r => ((PipeReader)r!).CancelPendingRead(), reader) : default)
            {
                result = await reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            }

            ReadOnlySequence<byte> data = result.Buffer;
            if (result.IsCanceled)
            {
                reader.AdvanceTo(data.Start);
                cancellationToken.ThrowIfCancellationRequested();

                // A cancellation that arrived after the read it was meant for: read again.
                continue;
            }

            if (data.IsEmpty)
            {
                reader.AdvanceTo(data.Start, data.End);
                if (result.IsCompleted)
                {
                    return 0;
                }

                continue;
            }

            if (total + data.Length > maxBytes)
            {
                // Over the limit: nothing more is handed out (the bytes seen are left to the server's drain).
                reader.AdvanceTo(data.Start);
                throw tooLarge();
            }

            int count = (int)Math.Min(data.Length, buffer.Length);
            ReadOnlySequence<byte> slice = data.Slice(0, count);
            slice.CopyTo(buffer.Span);
            reader.AdvanceTo(slice.End);
            total += count;
            return count;
        }
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("The request body is read asynchronously only.");
}
