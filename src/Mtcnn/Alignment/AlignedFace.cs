namespace Mtcnn.Alignment;

/// <summary>An aligned face crop: RGB24 pixels and the transform that produced them. Immutable.</summary>
public sealed class AlignedFace
{
    internal AlignedFace(byte[] pixels, int width, int height, SimilarityTransform transform, IReadOnlyList<Point2F> targetPoints)
    {
        Pixels = pixels;
        Image = new ImageData(pixels, width, height, PixelFormat.Rgb24);
        Transform = transform;
        TargetPoints = targetPoints;
    }

    /// <summary>The crop as a tightly packed <see cref="PixelFormat.Rgb24"/> image.</summary>
    public ImageData Image { get; }

    /// <summary>The same bytes as <see cref="Image"/>, row by row, top row first.</summary>
    public ReadOnlyMemory<byte> Pixels { get; }

    /// <summary>Width of the crop in pixels.</summary>
    public int Width => Image.Width;

    /// <summary>Height of the crop in pixels.</summary>
    public int Height => Image.Height;

    /// <summary>
    /// The transform from source-image pixel coordinates to crop coordinates (the matrix OpenCV's
    /// <c>warpAffine</c> would take); <see cref="SimilarityTransform.ToMatrix"/> gives it as a 2x3 matrix.
    /// </summary>
    public SimilarityTransform Transform { get; }

    /// <summary>The template points in crop coordinates, where the landmarks were fitted to.</summary>
    public IReadOnlyList<Point2F> TargetPoints { get; }

    /// <summary>Maps landmarks from the source image into the crop.</summary>
    /// <param name="landmarks">Landmarks in source-image pixels.</param>
    /// <returns>The same landmarks in crop pixels.</returns>
    public FaceLandmarks MapLandmarks(FaceLandmarks landmarks) => Transform.Apply(landmarks);
}
