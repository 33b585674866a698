namespace Mtcnn;

/// <summary>A point in image pixel coordinates (x to the right, y downwards).</summary>
/// <param name="X">Horizontal coordinate in pixels.</param>
/// <param name="Y">Vertical coordinate in pixels.</param>
public readonly record struct Point2F(float X, float Y);

/// <summary>
/// An axis-aligned box in image pixel coordinates, given by its corners (x1, y1) top-left and (x2, y2) bottom-right.
/// MTCNN boxes are not clipped to the image: a face at the border can have corners outside it.
/// </summary>
public readonly record struct BoundingBox(float X1, float Y1, float X2, float Y2)
{
    /// <summary>Width <c>X2 - X1</c> in pixels.</summary>
    public float Width => X2 - X1;

    /// <summary>Height <c>Y2 - Y1</c> in pixels.</summary>
    public float Height => Y2 - Y1;

    /// <summary>Area <c>Width * Height</c> in square pixels (0 for an empty or inverted box).</summary>
    public float Area => Math.Max(0f, Width) * Math.Max(0f, Height);

    /// <summary>Centre of the box.</summary>
    public Point2F Center => new((X1 + X2) * 0.5f, (Y1 + Y2) * 0.5f);

    /// <summary>
    /// Intersection over union with another box, with continuous coordinates (no +1 pixel convention).
    /// Returns 0 when both boxes are empty.
    /// </summary>
    public float IntersectionOverUnion(BoundingBox other)
    {
        float iw = Math.Min(X2, other.X2) - Math.Max(X1, other.X1);
        float ih = Math.Min(Y2, other.Y2) - Math.Max(Y1, other.Y1);
        if (iw <= 0 || ih <= 0)
        {
            return 0f;
        }

        float inter = iw * ih;
        float union = Area + other.Area - inter;
        return union > 0 ? inter / union : 0f;
    }
}

/// <summary>
/// The five facial landmarks MTCNN predicts. "Left" is the side with the smaller x in the upright face: in the image
/// itself for a face of <see cref="Face.Rotation"/> 0, and in the image turned by <see cref="Face.Rotation"/> otherwise
/// (for a frontal face, the subject's right eye and mouth corner). The names keep their meaning when a face found in a
/// turned image is mapped back, so in the input a sideways face's "left" eye may be above or below the other.
/// </summary>
/// <param name="LeftEye">Centre of the eye on the left of the upright face.</param>
/// <param name="RightEye">Centre of the eye on the right of the upright face.</param>
/// <param name="Nose">Tip of the nose.</param>
/// <param name="MouthLeft">Mouth corner on the left of the upright face.</param>
/// <param name="MouthRight">Mouth corner on the right of the upright face.</param>
public readonly record struct FaceLandmarks(Point2F LeftEye, Point2F RightEye, Point2F Nose, Point2F MouthLeft, Point2F MouthRight)
{
    /// <summary>Number of landmarks (always 5).</summary>
    public const int Count = 5;

    /// <summary>The landmark at <paramref name="index"/> in the order left eye, right eye, nose, mouth left, mouth right.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not in 0..4.</exception>
    public Point2F this[int index] => index switch
    {
        0 => LeftEye,
        1 => RightEye,
        2 => Nose,
        3 => MouthLeft,
        4 => MouthRight,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "A landmark index must be in 0..4."),
    };
}

/// <summary>One detected face.</summary>
/// <param name="Box">The face box after the last stage's regression (not squared, not clipped).</param>
/// <param name="Score">The face probability of the last stage that ran, in [0, 1].</param>
/// <param name="Landmarks">The five landmarks predicted by O-Net.</param>
public readonly record struct Face(BoundingBox Box, float Score, FaceLandmarks Landmarks)
{
    /// <summary>
    /// Clockwise degrees (0, 90, 180 or 270) the input image was turned for this face to be upright, that is, the turn
    /// of <see cref="DetectorOptions.Rotations"/> it was found in. 0 unless more turns than the image as given are
    /// searched. Box and landmarks are always in the input's coordinates.
    /// </summary>
    public int Rotation { get; init; }
}

/// <summary>A candidate window after one stage of the cascade (P-Net or R-Net): box and that stage's score.</summary>
/// <param name="Box">The candidate box in image pixels.</param>
/// <param name="Score">The face probability the stage gave the window.</param>
public readonly record struct Candidate(BoundingBox Box, float Score);
