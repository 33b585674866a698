using System.Globalization;

namespace Mtcnn.Alignment;

/// <summary>
/// Aligns faces for recognition: fits the least-squares similarity transform (<see cref="SimilarityTransform.Estimate(ReadOnlySpan{Point2F}, ReadOnlySpan{Point2F})"/>)
/// that maps a face's landmarks onto a template and warps the face into a fixed-size RGB24 crop with bilinear
/// sampling, as ArcFace-style pipelines do with MTCNN's five landmarks.
/// </summary>
/// <remarks>
/// <para><b>Thread safety.</b> Immutable after construction; every member may be called from any number of threads
/// at once.</para>
/// <para><b>Degenerate landmarks</b> (non-finite, coinciding, or five points on one line) give an
/// <see cref="AlignmentException"/>, never a crop of NaNs.</para>
/// </remarks>
public sealed class FaceAligner
{
    private readonly Point2F[] targets;

    /// <summary>Creates an aligner.</summary>
    /// <param name="options">Settings; null uses <see cref="FaceAlignerOptions.Default"/>. Validated here.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public FaceAligner(FaceAlignerOptions? options = null)
    {
        Options = (options ?? FaceAlignerOptions.Default).Validate();
        targets = Options.TargetPoints();
    }

    /// <summary>The validated settings.</summary>
    public FaceAlignerOptions Options { get; }

    /// <summary>Width of every crop in pixels.</summary>
    public int OutputWidth => Options.EffectiveWidth;

    /// <summary>Height of every crop in pixels.</summary>
    public int OutputHeight => Options.EffectiveHeight;

    /// <summary>The template points in crop coordinates (after output size and margin).</summary>
    public IReadOnlyList<Point2F> TargetPoints => targets;

    /// <summary>Fits the transform from image coordinates to crop coordinates for five landmarks.</summary>
    /// <param name="landmarks">The face's landmarks in image pixels.</param>
    /// <returns>The least-squares similarity transform onto the template.</returns>
    /// <exception cref="InvalidOperationException">The template does not have five points.</exception>
    /// <exception cref="AlignmentException">The landmarks are degenerate.</exception>
    public SimilarityTransform EstimateTransform(FaceLandmarks landmarks)
    {
        if (targets.Length != FaceLandmarks.Count)
        {
            throw new InvalidOperationException($"The template '{Options.Template.Name}' has {targets.Length} points; five-landmark alignment needs 5. Pass the points as a span instead.");
        }

        Span<Point2F> points = [landmarks.LeftEye, landmarks.RightEye, landmarks.Nose, landmarks.MouthLeft, landmarks.MouthRight];
        return EstimateTransform(points);
    }

    /// <summary>Fits the transform from image coordinates to crop coordinates for any number of points.</summary>
    /// <param name="points">One image point per template point, in the template's order.</param>
    /// <returns>The least-squares similarity transform onto the template.</returns>
    /// <exception cref="ArgumentException">The number of points differs from the template's.</exception>
    /// <exception cref="AlignmentException">The points are degenerate.</exception>
    public SimilarityTransform EstimateTransform(ReadOnlySpan<Point2F> points)
    {
        if (points.Length != targets.Length)
        {
            throw new ArgumentException($"The template '{Options.Template.Name}' has {targets.Length} points but {points.Length} were given.", nameof(points));
        }

        PointChecks.Check(points, "landmark");
        return SimilarityTransform.Estimate(points, targets);
    }

    /// <summary>Aligns one face.</summary>
    /// <param name="image">The source image (any <see cref="PixelFormat"/>).</param>
    /// <param name="landmarks">The face's five landmarks in image pixels.</param>
    /// <returns>The crop and its transform.</returns>
    /// <exception cref="ArgumentException">The image is empty.</exception>
    /// <exception cref="AlignmentException">The landmarks are degenerate.</exception>
    public AlignedFace Align(ImageData image, FaceLandmarks landmarks) => Render(image, EstimateTransform(landmarks));

    /// <summary>Aligns one detected face by its landmarks.</summary>
    /// <param name="image">The image the face was detected in.</param>
    /// <param name="face">The detected face.</param>
    /// <returns>The crop and its transform.</returns>
    /// <exception cref="ArgumentException">The image is empty.</exception>
    /// <exception cref="AlignmentException">The landmarks are degenerate.</exception>
    public AlignedFace Align(ImageData image, Face face) => Align(image, face.Landmarks);

    /// <summary>Aligns by any number of points (for user templates that are not the five MTCNN landmarks).</summary>
    /// <param name="image">The source image.</param>
    /// <param name="points">One image point per template point.</param>
    /// <returns>The crop and its transform.</returns>
    /// <exception cref="ArgumentException">The image is empty or the point count differs from the template's.</exception>
    /// <exception cref="AlignmentException">The points are degenerate.</exception>
    public AlignedFace Align(ImageData image, ReadOnlySpan<Point2F> points) => Render(image, EstimateTransform(points));

    /// <summary>Aligns one face into a caller's RGB24 buffer (no allocation).</summary>
    /// <param name="image">The source image.</param>
    /// <param name="landmarks">The face's five landmarks in image pixels.</param>
    /// <param name="destination">At least <c>(OutputHeight − 1)·stride + OutputWidth·3</c> bytes.</param>
    /// <param name="destinationStride">Bytes between rows; 0 means <c>OutputWidth·3</c>.</param>
    /// <returns>The transform from image to crop coordinates.</returns>
    /// <exception cref="ArgumentException">The image is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The stride or buffer is too small.</exception>
    /// <exception cref="AlignmentException">The landmarks are degenerate.</exception>
    public SimilarityTransform AlignInto(ImageData image, FaceLandmarks landmarks, Span<byte> destination, int destinationStride = 0)
    {
        var transform = EstimateTransform(landmarks);
        Warp(image, transform, destination, OutputWidth, OutputHeight, destinationStride, Options.Border, Options.BorderColor);
        return transform;
    }

    /// <summary>
    /// Warps an image with a similarity transform into an RGB24 buffer: output pixel (u, v) takes the bilinear sample of
    /// the source at <c>transform⁻¹(u, v)</c>.
    /// </summary>
    /// <param name="source">The source image (any <see cref="PixelFormat"/>; grey is expanded, alpha dropped).</param>
    /// <param name="transform">Maps source coordinates to destination coordinates.</param>
    /// <param name="destination">The RGB24 output buffer.</param>
    /// <param name="width">Output width in pixels (at least 1).</param>
    /// <param name="height">Output height in pixels (at least 1).</param>
    /// <param name="stride">Bytes between output rows; 0 means <c>width·3</c>.</param>
    /// <param name="border">How positions outside the source are filled.</param>
    /// <param name="borderColor">The colour for <see cref="AlignmentBorder.Constant"/>.</param>
    /// <exception cref="ArgumentException">The source is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size, the stride or the buffer is too small.</exception>
    /// <exception cref="InvalidOperationException">The transform has no inverse.</exception>
    public static void Warp(ImageData source, SimilarityTransform transform, Span<byte> destination, int width, int height, int stride, AlignmentBorder border, RgbColor borderColor)
    {
        if (source.IsEmpty)
        {
            throw new ArgumentException("The image is empty (default ImageData).", nameof(source));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (stride == 0)
        {
            stride = width * 3;
        }

        if (stride < width * 3)
        {
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"The stride must be at least width * 3 = {width * 3} bytes.");
        }

        long needed = ((long)(height - 1) * stride) + (width * 3L);
        if (destination.Length < needed)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), destination.Length, string.Create(CultureInfo.InvariantCulture, $"A {width}x{height} RGB24 output with stride {stride} needs at least {needed} bytes."));
        }

        if (!Enum.IsDefined(border))
        {
            throw new ArgumentOutOfRangeException(nameof(border), border, "Border must be Constant or Replicate.");
        }

        BilinearWarp.Run(source, transform.Inverse(), destination, width, height, stride, border, borderColor);
    }

    private AlignedFace Render(ImageData image, SimilarityTransform transform)
    {
        if (image.IsEmpty)
        {
            throw new ArgumentException("The image is empty (default ImageData).", nameof(image));
        }

        int w = OutputWidth;
        int h = OutputHeight;
        byte[] pixels = new byte[w * h * 3];
        BilinearWarp.Run(image, transform.Inverse(), pixels, w, h, w * 3, Options.Border, Options.BorderColor);
        return new AlignedFace(pixels, w, h, transform, targets);
    }
}
