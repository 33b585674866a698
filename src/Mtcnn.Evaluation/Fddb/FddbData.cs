namespace Mtcnn.Evaluation.Fddb;

/// <summary>An FDDB face annotation: an ellipse in image pixels.</summary>
/// <param name="MajorRadius">Half the length of the first axis (FDDB's "major axis radius").</param>
/// <param name="MinorRadius">Half the length of the second axis.</param>
/// <param name="Angle">Rotation of the first axis from the x axis, in radians (y down, so positive turns clockwise on screen).</param>
/// <param name="CenterX">Horizontal centre.</param>
/// <param name="CenterY">Vertical centre.</param>
public readonly record struct FddbEllipse(double MajorRadius, double MinorRadius, double Angle, double CenterX, double CenterY);

/// <summary>A detection in FDDB's rectangle format: left, top, width, height in pixels, and a score.</summary>
/// <param name="X">Left edge.</param>
/// <param name="Y">Top edge.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
/// <param name="Score">Confidence; only its order matters.</param>
public readonly record struct FddbDetection(double X, double Y, double Width, double Height, double Score)
{
    /// <summary>Converts a detected face (corner box) to FDDB's rectangle format.</summary>
    /// <param name="face">The detected face.</param>
    /// <returns>The detection.</returns>
    public static FddbDetection FromFace(Face face) =>
        new(face.Box.X1, face.Box.Y1, face.Box.X2 - face.Box.X1, face.Box.Y2 - face.Box.Y1, face.Score);
}

/// <summary>One annotated FDDB image.</summary>
/// <param name="Name">The image path without extension, relative to the images folder (e.g. <c>2002/08/11/big/img_591</c>).</param>
/// <param name="Faces">The annotated ellipses.</param>
public sealed record FddbImage(string Name, IReadOnlyList<FddbEllipse> Faces);

/// <summary>One of FDDB's ten folds.</summary>
/// <param name="Number">The fold number (1-10), from the file name.</param>
/// <param name="Images">The fold's images in file order.</param>
public sealed record FddbFold(int Number, IReadOnlyList<FddbImage> Images);
