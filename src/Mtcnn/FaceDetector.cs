using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Mtcnn.Cascade;
using Mtcnn.Inference;

namespace Mtcnn;

/// <summary>
/// MTCNN face detector (Zhang et al. 2016): finds faces, their scores and five landmarks in 8-bit images.
/// Construct once and reuse: construction prepares the networks; detection then reuses pooled buffers.
/// </summary>
/// <remarks>
/// <para><b>Thread safety.</b> All members are safe to call from any number of threads at once. Concurrent
/// <see cref="Detect(ImageData, CancellationToken)"/> calls each take their own scratch memory from an internal pool;
/// the networks and options are immutable. Results are immutable values.</para>
/// <para><b>Parallelism.</b> One call splits its pyramid into row bands and its crops into batches and runs them on up
/// to <see cref="DetectorOptions.MaxDegreeOfParallelism"/> threads; <see cref="DetectBatch"/> runs whole images in
/// parallel instead, each on one thread.</para>
/// </remarks>
public sealed class FaceDetector
{
    private readonly CascadeRunner runner;
    private readonly DetectorOptions turnOptions;
    private readonly ConcurrentBag<ImageContext> contexts = [];

    /// <summary>Creates a detector.</summary>
    /// <param name="options">Settings; null uses <see cref="DetectorOptions.Default"/>. Validated here.</param>
    /// <param name="weights">Network weights; null uses the embedded original weights (<see cref="MtcnnWeights.Default"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="MtcnnFormatException">The weights lack a tensor or have a wrong shape.</exception>
    public FaceDetector(DetectorOptions? options = null, MtcnnWeights? weights = null)
        : this(options, weights, Simd.Best)
    {
    }

    /// <summary>
    /// Creates a detector whose networks run on <paramref name="backend"/> (for example ONNX Runtime) with its
    /// weights; the cascade around them is the same as the built-in one's.
    /// </summary>
    /// <param name="options">Settings; null uses <see cref="DetectorOptions.Default"/>. Validated here.</param>
    /// <param name="backend">Runs the networks.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="MtcnnFormatException">The backend's weights lack a tensor or have a wrong shape.</exception>
    public FaceDetector(DetectorOptions? options, INetworkBackend backend)
        : this(options, (backend ?? throw new ArgumentNullException(nameof(backend))).Weights, Simd.Best, backend)
    {
    }

    internal FaceDetector(DetectorOptions? options, MtcnnWeights? weights, SimdLevel level, INetworkBackend? backend = null)
    {
        Options = (options ?? DetectorOptions.Default).Validate();
        Weights = weights ?? MtcnnWeights.Default;
        Networks = new Networks(Weights, level);
        Backend = backend;
        runner = new CascadeRunner(Networks, backend: backend);
        turnOptions = Options.Rotations == DetectionRotations.Rotate0 ? Options : Options with { MaxFaces = 0 };
    }

    /// <summary>The validated settings.</summary>
    public DetectorOptions Options { get; }

    /// <summary>Where the networks run: null for the built-in kernels.</summary>
    public INetworkBackend? Backend { get; }

    /// <summary>P-Net's output map size for an input of <paramref name="height"/> x <paramref name="width"/> pixels with <paramref name="variant"/>'s pooling.</summary>
    public static (int Height, int Width) PNetOutputSize(int height, int width, ModelVariant variant)
    {
        static int Side(int n, bool ceil) => ((ceil ? (n - 2 + 1) / 2 : (n - 2) / 2) - 4);
        bool ceil = variant == ModelVariant.Original;
        return (Math.Max(0, Side(height, ceil)), Math.Max(0, Side(width, ceil)));
    }

    /// <summary>
    /// Images above this many pixels are resampled without a summed-area table (<see cref="CascadeRunner.DirectResamplingPixels"/>);
    /// tests lower it to send ordinary photos through that path.
    /// </summary>
    internal long DirectResamplingAbove
    {
        get => runner.DirectAbove;
        set => runner.DirectAbove = value;
    }

    /// <summary>The weights in use.</summary>
    public MtcnnWeights Weights { get; }

    internal Networks Networks { get; }

    /// <summary>Detects faces in one image.</summary>
    /// <param name="image">The pixels. An image smaller than 12 pixels on a side (or smaller than the minimum face size) gives an empty result.</param>
    /// <param name="cancellationToken">Stops the work between bands and crop batches.</param>
    /// <returns>Faces in descending score order, plus stage candidates if requested and timings.</returns>
    /// <exception cref="ArgumentException">The image is the default (empty) value.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The image has more pixels than <see cref="DetectorOptions.MaxImagePixels"/>.</exception>
    public DetectionResult Detect(ImageData image, CancellationToken cancellationToken = default) =>
        Detect(image, Options.EffectiveParallelism, cancellationToken);

    /// <summary>Detects faces in pixels given as a span (no copy is made).</summary>
    /// <param name="pixels">Pixel bytes, first row first.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="format">Byte layout of a pixel.</param>
    /// <param name="stride">Bytes from one row to the next; 0 means tightly packed.</param>
    /// <param name="cancellationToken">Stops the work between bands and crop batches.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is invalid, the buffer is too short, or the image is too large.</exception>
    public DetectionResult Detect(ReadOnlySpan<byte> pixels, int width, int height, PixelFormat format, int stride = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        int bpp = ImageData.BytesPerPixelOf(format);
        if (stride == 0)
        {
            stride = width * bpp;
        }

        if (stride < width * bpp)
        {
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"The stride must be at least width * {bpp} = {width * bpp} bytes.");
        }

        long needed = ((long)(height - 1) * stride) + ((long)width * bpp);
        if (pixels.Length < needed)
        {
            throw new ArgumentOutOfRangeException(nameof(pixels), pixels.Length, $"A {width}x{height} {format} image with stride {stride} needs at least {needed} bytes.");
        }

        return DetectCore(pixels, width, height, stride, format, Options.EffectiveParallelism, cancellationToken);
    }

    /// <summary>
    /// Detects faces in many images of any sizes, several images at a time on up to
    /// <see cref="DetectorOptions.MaxDegreeOfParallelism"/> threads. Results are in input order.
    /// </summary>
    /// <param name="images">The images.</param>
    /// <param name="cancellationToken">Stops the batch.</param>
    /// <exception cref="ArgumentException">An image is empty (the message gives its index).</exception>
    public IReadOnlyList<DetectionResult> DetectBatch(IReadOnlyList<ImageData> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var results = new DetectionResult[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].IsEmpty)
            {
                throw new ArgumentException($"Image {i} of the batch is empty.", nameof(images));
            }
        }

        if (Backend is not null && Options.Rotations == DetectionRotations.Rotate0 && images.Count > 1)
        {
            DetectBatchOnBackend(images, results, cancellationToken);
            return results;
        }

        var po = new ParallelOptions { MaxDegreeOfParallelism = Options.EffectiveParallelism, CancellationToken = cancellationToken };
        Parallel.For(0, images.Count, po, i => results[i] = Detect(images[i], 1, cancellationToken));
        return results;
    }

    private DetectionResult Detect(ImageData image, int degree, CancellationToken cancellationToken)
    {
        if (image.IsEmpty)
        {
            throw new ArgumentException("The image is empty (default ImageData).", nameof(image));
        }

        return DetectCore(image.Pixels.Span, image.Width, image.Height, image.Stride, image.Format, degree, cancellationToken);
    }

    private DetectionResult DetectCore(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format, int degree, CancellationToken cancellationToken)
    {
        CheckPixels(width, height, nameof(pixels));

        if (Options.Rotations == DetectionRotations.Rotate0)
        {
            return RunOnce(pixels, width, height, stride, format, Options, degree, cancellationToken);
        }

        long t0 = Stopwatch.GetTimestamp();
        var turns = DetectTurns(pixels, width, height, stride, format, degree, cancellationToken);
        return RotationMerge.Combine(turns, width, height, Options, Stopwatch.GetElapsedTime(t0));
    }

    /// <summary>
    /// One detection per turn that <see cref="DetectorOptions.Rotations"/> names, each result already mapped back to
    /// the input's coordinates (faces with <see cref="Face.Rotation"/> set), in increasing angle. The turned pixels go
    /// to one pooled buffer, reused for every turn.
    /// </summary>
    internal List<RotationMerge.Turn> DetectTurns(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format, int degree, CancellationToken cancellationToken)
    {
        var angles = Options.RotationAngles;
        var turns = new List<RotationMerge.Turn>(angles.Count);
        int bpp = ImageData.BytesPerPixelOf(format);
        byte[]? buffer = null;
        try
        {
            foreach (int angle in angles)
            {
                DetectionResult r;
                var (rw, rh) = ImageRotation.RotatedSize(width, height, angle);
                if (angle == 0)
                {
                    r = RunOnce(pixels, width, height, stride, format, turnOptions, degree, cancellationToken);
                }
                else
                {
                    int bytes = rw * rh * bpp;
                    buffer ??= ArrayPool<byte>.Shared.Rent(bytes);
                    ImageRotation.Rotate(pixels, width, height, stride, bpp, angle, buffer);
                    r = RunOnce(buffer.AsSpan(0, bytes), rw, rh, rw * bpp, format, turnOptions, degree, cancellationToken);
                }

                turns.Add(RotationMerge.MapBack(r, angle, rw, rh));
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return turns;
    }

    private void CheckPixels(int width, int height, string paramName)
    {
        if ((long)width * height > Options.MaxImagePixels)
        {
            throw new ArgumentOutOfRangeException(paramName, $"The image has {(long)width * height} pixels ({width}x{height}); the limit (MaxImagePixels) is {Options.MaxImagePixels}.");
        }
    }

    /// <summary>Images of a batch whose crops go to the backend together (one R-Net and one O-Net call per group).</summary>
    public const int BackendBatchImages = 64;

    /// <summary>
    /// <see cref="DetectBatch"/> on a backend: groups of up to <see cref="BackendBatchImages"/> images are detected side
    /// by side, each on a thread of its own (they wait for each other at R-Net and O-Net), and every stage's crops of
    /// the whole group go to the backend in one call.
    /// </summary>
    private void DetectBatchOnBackend(IReadOnlyList<ImageData> images, DetectionResult[] results, CancellationToken cancellationToken)
    {
        for (int start = 0; start < images.Count; start += BackendBatchImages)
        {
            int count = Math.Min(BackendBatchImages, images.Count - start);
            var batch = new CropBatch(Backend!, count);
            LastBatchCalls = 0;
            var errors = new Exception?[count];
            var threads = new Thread[count];
            for (int k = 0; k < count; k++)
            {
                int index = start + k;
                threads[k] = new Thread(() =>
                {
                    using var member = batch.Join();
                    try
                    {
                        var image = images[index];
                        CheckPixels(image.Width, image.Height, nameof(images));
                        results[index] = RunOnce(image.Pixels.Span, image.Width, image.Height, image.Stride, image.Format, Options, 1, cancellationToken, member);
                    }
#pragma warning disable CA1031 // Rethrown on the caller's thread below.
                    catch (Exception e)
#pragma warning restore CA1031
                    {
                        errors[index - start] = e;
                    }
                })
                { IsBackground = true, Name = "mtcnn-batch" };
                threads[k].Start();
            }

            foreach (var t in threads)
            {
                t.Join();
            }

            LastBatchCalls += batch.Calls;
            if (errors.FirstOrDefault(e => e is not null) is { } error)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
            }
        }
    }

    /// <summary>Backend crop calls of the last group of the last <see cref="DetectBatch"/> (for tests).</summary>
    internal int LastBatchCalls { get; private set; }

    private DetectionResult RunOnce(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format, DetectorOptions options, int degree, CancellationToken cancellationToken, CropBatch.Member? member = null)
    {
        var ctx = contexts.TryTake(out var c) ? c : runner.NewContext();
        try
        {
            ctx.BatchMember = member;
            return runner.Run(pixels, width, height, stride, format, options, degree, ctx, cancellationToken);
        }
        finally
        {
            ctx.BatchMember = null;
            contexts.Add(ctx);
        }
    }
}
