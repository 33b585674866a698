using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Mtcnn.Alignment;

namespace Mtcnn.Cli.Align;

/// <summary>
/// The alignment options shared by <c>mtcnn align</c> and <c>mtcnn cluster submit --task align</c>: which faces, the
/// template, the crop size, the margin and the border, with the same names, defaults and messages in both.
/// </summary>
internal sealed class AlignOptionSet
{
    /// <summary>The template names.</summary>
    public static readonly string[] Templates = ["arcface112", "arcface112x96", FaceCropSpec.FaceNetTemplate];

    private static readonly string[] BorderModes = ["constant", "replicate"];

    /// <summary>Creates the options.</summary>
    public AlignOptionSet()
    {
        Largest = new Option<bool>("--largest") { Description = "Align only the largest face (by box area) of each image (the same as --select largest)." };
        Select = OptionFactory.Choice("--select", "all", FaceCropMaker.Selections,
            "Which faces get crops: all, largest (box area), best (score) or center (largest near the middle: area - 2 * squared distance of the box centre from the image centre, as facenet-pytorch's center_weighted_size).");
        Template = OptionFactory.Choice("--template", "arcface112", Templates,
            "arcface112 (112x112 landmark template, the ArcFace/InsightFace standard), arcface112x96 (96 wide, 112 high), "
            + "or facenet160 (FaceNet's box crop as facenet-pytorch's extract_face: the box plus --margin output pixels, resized to 160x160; no landmarks used).");
        Size = new Option<CropSize?>("--size")
        {
            Description = "Crop size: N (N pixels high, width in the template's proportion) or WxH; default: the template's size. Each side in [8, 4096]; facenet160 crops are square.",
            HelpName = "N|WxH",
            CustomParser = ParseSize,
        };
        Margin = OptionFactory.Float("--margin", 0f,
            "Context around the face. ArcFace templates: a fraction of the template frame on each side (the template shrinks by 1/(1+2*margin) about the centre) [0, 10]. "
            + "facenet160: pixels of the output, as facenet-pytorch's margin (often 32 or 44) [0, size - 1].");
        Border = OptionFactory.Choice("--border", "constant", BorderModes, "Outside the image: constant (black) or replicate (the edge pixel).");
    }

    /// <summary><c>--largest</c>.</summary>
    public Option<bool> Largest { get; }

    /// <summary><c>--select</c>.</summary>
    public Option<string> Select { get; }

    /// <summary><c>--template</c>.</summary>
    public Option<string> Template { get; }

    /// <summary><c>--size</c>.</summary>
    public Option<CropSize?> Size { get; }

    /// <summary><c>--margin</c>.</summary>
    public Option<float> Margin { get; }

    /// <summary><c>--border</c>.</summary>
    public Option<string> Border { get; }

    /// <summary>Every option, in help order.</summary>
    public IEnumerable<Option> All => [Largest, Select, Template, Size, Margin, Border];

    /// <summary>The crops and the face choice given on the command line.</summary>
    /// <exception cref="UsageException">A value is out of range, or --largest contradicts --select.</exception>
    public FaceCropSpec Build(ParseResult pr, string verb)
    {
        ArgumentNullException.ThrowIfNull(pr);
        var select = FaceCropMaker.ParseSelection(pr.GetValue(Select)!);
        if (pr.GetValue(Largest))
        {
            if (select is not (FaceSelection.All or FaceSelection.Largest))
            {
                throw new UsageException($"--largest contradicts --select {pr.GetValue(Select)} (see 'mtcnn {verb} --help')");
            }

            select = FaceSelection.Largest;
        }

        var crop = pr.GetValue(Size);
        if (pr.GetValue(Template) == FaceCropSpec.FaceNetTemplate)
        {
            int side = crop?.Height ?? FaceNetCrop.DefaultSize;
            if (crop is { Width: > 0 } && crop.Width != crop.Height)
            {
                throw new UsageException($"--size: facenet160 crops are square, got {crop.Width}x{crop.Height} (see 'mtcnn {verb} --help')");
            }

            float margin = pr.GetValue(Margin);
            if (!(margin >= 0 && margin < side) || margin != MathF.Floor(margin))
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                    $"--margin: with facenet160, whole output pixels in [0, {side - 1}], got {margin} (see 'mtcnn {verb} --help')"));
            }

            return new FaceCropSpec(FaceCropSpec.FaceNetTemplate, null, side, (int)margin, select);
        }

        var template = pr.GetValue(Template) == "arcface112x96" ? AlignmentTemplate.ArcFace112x96 : AlignmentTemplate.ArcFace112;
        int height = crop?.Height ?? template.Height;
        int width = crop is null ? template.Width : crop.Width > 0 ? crop.Width : Math.Max(1, (int)Math.Round(crop.Height * (double)template.Width / template.Height));
        try
        {
            var options = new FaceAlignerOptions
            {
                Template = template,
                OutputWidth = width,
                OutputHeight = height,
                Margin = pr.GetValue(Margin),
                Border = pr.GetValue(Border) == "replicate" ? AlignmentBorder.Replicate : AlignmentBorder.Constant,
            }.Validate();
            return new FaceCropSpec(template.Name, options, 0, 0, select);
        }
        catch (ArgumentOutOfRangeException e)
        {
            string name = e.ParamName == nameof(FaceAlignerOptions.Margin) ? "--margin" : "--size";
            throw DetectorOptionSet.RangeError(e, name, verb);
        }
    }

    private static CropSize? ParseSize(ArgumentResult r)
    {
        if (r.Tokens.Count == 0)
        {
            return null;
        }

        string text = r.Tokens[0].Value;
        string[] parts = text.Split('x', 'X');
        var sides = new int[parts.Length];
        bool ok = parts.Length is 1 or 2;
        for (int i = 0; ok && i < parts.Length; i++)
        {
            ok = int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sides[i]) && sides[i] is >= 8 and <= 4096;
        }

        if (!ok)
        {
            r.AddError($"--size: expected N or WxH like 112 or 96x112, each side in [8, 4096], got '{text}'");
            return null;
        }

        return parts.Length == 1 ? new CropSize(0, sides[0]) : new CropSize(sides[0], sides[1]);
    }

    /// <summary>A requested crop size; <see cref="Width"/> 0 means "from the template's proportion".</summary>
    internal sealed record CropSize(int Width, int Height);
}
