namespace Mtcnn.Training.Data;

/// <summary>A face with its five annotated points (CNN_FacePoint layout).</summary>
/// <param name="Box">The face box (left, top, right, bottom) in 0-based continuous pixel coordinates.</param>
/// <param name="Points">Left eye, right eye, nose, left and right mouth corner.</param>
/// <param name="LineNumber">The list line the face comes from (1-based).</param>
public readonly record struct LandmarkFace(BoundingBox Box, FaceLandmarks Points, int LineNumber);

/// <summary>One image to cut samples from, with everything known about its faces.</summary>
/// <param name="Index">The image's index in the run (stored as each sample's source image).</param>
/// <param name="Path">The image file.</param>
/// <param name="AnnotationFile">The annotation file that names the image (for messages).</param>
/// <param name="LineNumber">The annotation line that names the image (1-based, for messages).</param>
/// <param name="Faces">Face boxes that label positives, parts and negatives (WIDER faces, and landmark faces when
/// they serve as face boxes).</param>
/// <param name="IgnoredFaces">Boxes that are neither faces nor background (WIDER's invalid faces): no negative may touch them.</param>
/// <param name="LandmarkFaces">Faces with five points, the sources of landmark samples.</param>
public sealed record TrainingImage(
    int Index,
    string Path,
    string AnnotationFile,
    int LineNumber,
    IReadOnlyList<BoundingBox> Faces,
    IReadOnlyList<BoundingBox> IgnoredFaces,
    IReadOnlyList<LandmarkFace> LandmarkFaces);
