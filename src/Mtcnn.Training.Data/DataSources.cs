using System.Globalization;
using Mtcnn.Evaluation;
using Mtcnn.Evaluation.Annotations;

namespace Mtcnn.Training.Data;

/// <summary>Where the annotated images come from. At least one of the two sources must be given.</summary>
public sealed record DataSources
{
    /// <summary>A WIDER FACE box list (<c>wider_face_train_bbx_gt.txt</c> layout); null for none.</summary>
    public string? WiderAnnotations { get; init; }

    /// <summary>The folder the WIDER list's paths are relative to (e.g. <c>WIDER_train/images</c>).</summary>
    public string? WiderImages { get; init; }

    /// <summary>A CNN_FacePoint landmark list (<c>path left right top bottom x1 y1 ... x5 y5</c>); null for none.</summary>
    public string? Landmarks { get; init; }

    /// <summary>The folder the landmark list's paths are relative to; null uses the list's own folder.</summary>
    public string? LandmarkImages { get; init; }

    /// <summary>The lines of the landmark list to use (e.g. 1:9000 for training, 9001:10000 for evaluation). Default: all.</summary>
    public LineRange LandmarkLines { get; init; } = LineRange.All;

    /// <summary>
    /// Whether the landmark list's boxes also label positives, parts and negatives in its images (so that a landmark set
    /// alone gives every sample kind). Null (default): yes when no WIDER list is given, no otherwise.
    /// </summary>
    public bool? FacesFromLandmarks { get; init; }

    /// <summary>The resolved value of <see cref="FacesFromLandmarks"/>.</summary>
    public bool UseLandmarkFaces => FacesFromLandmarks ?? WiderAnnotations is null;

    /// <summary>
    /// Reads the annotation files and lists the images in run order: WIDER images first (in file order), then the
    /// landmark list's images (in order of first appearance; lines naming the same image are merged into one image).
    /// </summary>
    /// <returns>The images and the annotation lines that could not be used.</returns>
    /// <exception cref="ArgumentException">Neither source is given, or a list is given without its image folder.</exception>
    /// <exception cref="EvaluationDataException">An annotation file cannot be read at all.</exception>
    public (IReadOnlyList<TrainingImage> Images, IReadOnlyList<AnnotationIssue> Issues) Load()
    {
        if (WiderAnnotations is null && Landmarks is null)
        {
            throw new ArgumentException("Give a WIDER FACE box list, a landmark list, or both.");
        }

        if (WiderAnnotations is not null && WiderImages is null)
        {
            throw new ArgumentException("A WIDER FACE box list needs the folder of its images.");
        }

        var images = new List<TrainingImage>();
        var issues = new List<AnnotationIssue>();
        if (WiderAnnotations is not null)
        {
            var wider = WiderAnnotationFile.Read(WiderAnnotations);
            issues.AddRange(wider.Issues);
            foreach (var image in wider.Images)
            {
                var faces = new List<BoundingBox>();
                var ignored = new List<BoundingBox>();
                foreach (var f in image.Faces)
                {
                    var box = new BoundingBox((float)f.Box.X, (float)f.Box.Y, (float)(f.Box.X + f.Box.Width), (float)(f.Box.Y + f.Box.Height));
                    (f.Invalid ? ignored : faces).Add(box);
                }

                images.Add(new TrainingImage(images.Count, Path.Combine(WiderImages!, image.ImagePath), WiderAnnotations, image.LineNumber, faces, ignored, []));
            }
        }

        if (Landmarks is not null)
        {
            var list = FacePointList.Read(Landmarks);
            issues.AddRange(list.Issues.Where(i => LandmarkLines.Contains(i.LineNumber)));
            string folder = LandmarkImages ?? Path.GetDirectoryName(Path.GetFullPath(Landmarks)) ?? ".";
            bool useFaces = UseLandmarkFaces;
            var order = new List<string>();
            var byPath = new Dictionary<string, List<FacePointEntry>>(StringComparer.Ordinal);
            foreach (var e in list.Entries)
            {
                if (!LandmarkLines.Contains(e.LineNumber))
                {
                    continue;
                }

                if (!byPath.TryGetValue(e.ImagePath, out var group))
                {
                    byPath[e.ImagePath] = group = [];
                    order.Add(e.ImagePath);
                }

                group.Add(e);
            }

            foreach (string path in order)
            {
                var group = byPath[path];
                var marks = group.Select(e => new LandmarkFace(e.Box, e.Landmarks, e.LineNumber)).ToArray();
                var faces = useFaces ? marks.Select(m => m.Box).ToArray() : [];
                images.Add(new TrainingImage(images.Count, Path.Combine(folder, path), Landmarks, group[0].LineNumber, faces, [], marks));
            }
        }

        return (images, issues);
    }
}
