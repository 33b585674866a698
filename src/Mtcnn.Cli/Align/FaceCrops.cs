using System.Globalization;
using Mtcnn.Alignment;

namespace Mtcnn.Cli.Align;

/// <summary>
/// What <c>align</c> makes of each chosen face: a landmark-aligned crop onto an ArcFace template
/// (<see cref="FaceAligner"/>), or with <c>--template facenet160</c> FaceNet's margin-expanded box crop
/// (<see cref="FaceNetCrop"/>); and which faces are chosen.
/// </summary>
/// <param name="Template">The template name: <c>arcface112</c>, <c>arcface112x96</c> or <c>facenet160</c>.</param>
/// <param name="Aligner">The aligner's options (ArcFace templates); null for <c>facenet160</c>.</param>
/// <param name="FaceNetSize">The box crop's side (<c>facenet160</c>).</param>
/// <param name="FaceNetMargin">The box crop's margin in output pixels (<c>facenet160</c>).</param>
/// <param name="Select">Which faces of an image get crops.</param>
internal sealed record FaceCropSpec(string Template, FaceAlignerOptions? Aligner, int FaceNetSize, int FaceNetMargin, FaceSelection Select)
{
    /// <summary>The template name of FaceNet's box crops.</summary>
    public const string FaceNetTemplate = "facenet160";

    /// <summary>The cropper for these settings (thread-safe, shared by all images).</summary>
    public FaceCropMaker CreateMaker() => new(this);
}

/// <summary>One crop: its pixels, the 2x3 matrix from image to crop coordinates, and the source region of a box crop.</summary>
internal sealed record FaceCropResult(ImageData Image, double[] Matrix, (int X1, int Y1, int X2, int Y2)? Region);

/// <summary>Makes the crops a <see cref="FaceCropSpec"/> describes. Thread-safe.</summary>
internal sealed class FaceCropMaker
{
    private readonly FaceAligner? aligner;
    private readonly FaceNetCrop? facenet;

    /// <summary>Creates the maker.</summary>
    public FaceCropMaker(FaceCropSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        if (spec.Aligner is { } options)
        {
            aligner = new FaceAligner(options);
        }
        else
        {
            facenet = new FaceNetCrop(spec.FaceNetSize, spec.FaceNetMargin);
        }
    }

    /// <summary>The settings.</summary>
    public FaceCropSpec Spec { get; }

    /// <summary>Crops one face.</summary>
    /// <exception cref="AlignmentException">The face cannot be cropped (degenerate landmarks, a box outside the image).</exception>
    public FaceCropResult Crop(ImageData image, Face face)
    {
        if (aligner is not null)
        {
            var aligned = aligner.Align(image, face);
            var t = aligned.Transform;
            return new FaceCropResult(aligned.Image, [t.M11, t.M12, t.M13, t.M21, t.M22, t.M23], null);
        }

        var (crop, region) = facenet!.Crop(image, face.Box);

        // Pixel edges map to pixel edges: x1 -> 0 and x2 -> size (the resize stretches the region to a square).
        double sx = (double)facenet.Size / (region.X2 - region.X1), sy = (double)facenet.Size / (region.Y2 - region.Y1);
        return new FaceCropResult(crop, [sx, 0, -region.X1 * sx, 0, sy, -region.Y1 * sy], region);
    }

    /// <summary>The names of the selections, as <c>--select</c> takes them.</summary>
    public static readonly string[] Selections = ["all", "largest", "best", "center"];

    /// <summary>The selection named <paramref name="name"/> (one of <see cref="Selections"/>).</summary>
    public static FaceSelection ParseSelection(string name) => name switch
    {
        "largest" => FaceSelection.Largest,
        "best" => FaceSelection.Best,
        "center" => FaceSelection.Center,
        "all" => FaceSelection.All,
        _ => throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"unknown face selection '{name}'"), nameof(name)),
    };

    /// <summary>The <c>--select</c> name of <paramref name="selection"/>.</summary>
    public static string SelectionName(FaceSelection selection) => Selections[(int)selection];
}
