using System.CommandLine;
using System.Globalization;

namespace Mtcnn.Cli;

/// <summary>
/// The detector options shared by the verbs that detect (<c>detect</c>, <c>video</c>): minimum face size, scale factor,
/// thresholds, suppression overlaps, maximum faces, crop border, weights and threads, with the same names, defaults and
/// messages everywhere.
/// </summary>
internal sealed class DetectorOptionSet
{
    /// <summary>Help text of <c>--rotations</c>, shared by every verb that detects.</summary>
    internal const string RotationsDescription =
        "Turns of the image to search for upright faces, clockwise degrees: 0 (default), a list like 0,90,180,270 (every face any turn finds, "
        + "duplicates merged), all (the same as 0,90,180,270), or auto (all four turns; only the faces of the turn the faces agree is upright). "
        + "Each extra turn is a full detection.";

    private static readonly string[] Borders = ["zero", "clip"];

    /// <summary>Creates the options.</summary>
    /// <param name="threadsDescription">Help text of <c>--threads</c>, which differs by verb.</param>
    public DetectorOptionSet(string threadsDescription)
    {
        var d = DetectorOptions.Default;
        MinFaceSize = OptionFactory.Float("--min-face-size", d.MinFaceSize, "Smallest face to find, in pixels [4, 100000]. Larger is faster.");
        ScaleFactor = OptionFactory.Float("--scale-factor", d.ScaleFactor, "Ratio between pyramid levels [0.1, 0.95].");
        Thresholds = OptionFactory.FloatList("--thresholds", [d.PNetThreshold, d.RNetThreshold, d.ONetThreshold], 3,
            "Face probability thresholds of P-Net, R-Net and O-Net, each in [0, 1].");
        NmsThresholds = OptionFactory.FloatList("--nms-thresholds", [d.PNetNmsThreshold, d.PyramidNmsThreshold, d.RNetNmsThreshold, d.ONetNmsThreshold], 4,
            "Suppression overlaps for P-Net per level, P-Net across the pyramid, R-Net and O-Net, each in (0, 1].");
        MaxFaces = OptionFactory.Int("--max-faces", 0, "Keep at most this many faces per image, best first; 0 keeps all [0, 100000].");
        MaxCandidates = OptionFactory.Int("--max-candidates", d.MaxCandidates, "At most this many candidates go from P-Net to R-Net and from R-Net to O-Net, the best-scoring; more give a warning [1, 10000000]. It bounds the time of near-zero thresholds and tiny --min-face-size.");
        CropBorder = OptionFactory.Choice("--crop-border", "zero", Borders,
            "How R-Net/O-Net crops past the image edge are filled: zero (black, as the original MTCNN) or clip (as facenet-pytorch).");
        Weights = new Option<string>("--weights")
        {
            Description = "Weight file (mtcnn-weights safetensors) or a folder holding exactly one; default: the embedded original weights.",
            HelpName = "path",
        };
        Threads = OptionFactory.Int("--threads", 0, threadsDescription + " [0, 1024]");
        Rotations = OptionFactory.Rotations("--rotations", RotationsDescription);
    }

    /// <summary><c>--rotations 0,90,180,270|all|auto</c>.</summary>
    public Option<DetectionRotations> Rotations { get; }

    /// <summary><c>--min-face-size</c>.</summary>
    public Option<float> MinFaceSize { get; }

    /// <summary><c>--scale-factor</c>.</summary>
    public Option<float> ScaleFactor { get; }

    /// <summary><c>--thresholds P,R,O</c>.</summary>
    public Option<float[]> Thresholds { get; }

    /// <summary><c>--nms-thresholds L,P,R,O</c>.</summary>
    public Option<float[]> NmsThresholds { get; }

    /// <summary><c>--max-faces</c>.</summary>
    public Option<int> MaxFaces { get; }

    /// <summary><c>--max-candidates</c>.</summary>
    public Option<int> MaxCandidates { get; }

    /// <summary><c>--crop-border zero|clip</c>.</summary>
    public Option<string> CropBorder { get; }

    /// <summary><c>--weights PATH</c>.</summary>
    public Option<string> Weights { get; }

    /// <summary><c>--threads N</c>.</summary>
    public Option<int> Threads { get; }

    /// <summary>Every option, in help order.</summary>
    public IEnumerable<Option> All => [MinFaceSize, ScaleFactor, Thresholds, NmsThresholds, MaxFaces, MaxCandidates, CropBorder, Weights, Threads, Rotations];

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in All)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The detector options given on the command line (not yet validated).</summary>
    public DetectorOptions Read(ParseResult pr)
    {
        float[] t = pr.GetValue(Thresholds)!;
        float[] n = pr.GetValue(NmsThresholds)!;
        return new DetectorOptions
        {
            MinFaceSize = pr.GetValue(MinFaceSize),
            ScaleFactor = pr.GetValue(ScaleFactor),
            PNetThreshold = t[0],
            RNetThreshold = t[1],
            ONetThreshold = t[2],
            PNetNmsThreshold = n[0],
            PyramidNmsThreshold = n[1],
            RNetNmsThreshold = n[2],
            ONetNmsThreshold = n[3],
            MaxFaces = pr.GetValue(MaxFaces),
            MaxCandidates = pr.GetValue(MaxCandidates),
            CropBorder = pr.GetValue(CropBorder) == "clip" ? Mtcnn.CropBorder.Clip : Mtcnn.CropBorder.ZeroPad,
            MaxDegreeOfParallelism = pr.GetValue(Threads),
            Rotations = pr.GetValue(Rotations),
        };
    }

    /// <summary>Checks detector options, turning a range error into a usage error that names the command-line option.</summary>
    /// <param name="options">The options to check.</param>
    /// <param name="verb">The verb whose help the message points to.</param>
    /// <exception cref="UsageException">A value is out of range.</exception>
    public static void Validate(DetectorOptions options, string verb)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            string option = e.ParamName switch
            {
                nameof(DetectorOptions.MinFaceSize) => "--min-face-size",
                nameof(DetectorOptions.ScaleFactor) => "--scale-factor",
                nameof(DetectorOptions.PNetThreshold) or nameof(DetectorOptions.RNetThreshold) or nameof(DetectorOptions.ONetThreshold) => "--thresholds",
                nameof(DetectorOptions.PNetNmsThreshold) or nameof(DetectorOptions.PyramidNmsThreshold)
                    or nameof(DetectorOptions.RNetNmsThreshold) or nameof(DetectorOptions.ONetNmsThreshold) => "--nms-thresholds",
                nameof(DetectorOptions.MaxFaces) => "--max-faces",
                nameof(DetectorOptions.MaxCandidates) => "--max-candidates",
                nameof(DetectorOptions.MaxDegreeOfParallelism) => "--threads",
                nameof(DetectorOptions.Rotations) => "--rotations",
                _ => e.ParamName ?? "option",
            };
            throw RangeError(e, option, verb);
        }
    }

    /// <summary>A usage error for an out-of-range value: <c>OPTION: MESSAGE, got VALUE (see 'mtcnn VERB --help')</c>.</summary>
    public static UsageException RangeError(ArgumentOutOfRangeException e, string option, string verb)
    {
        ArgumentNullException.ThrowIfNull(e);
        string message = e.Message;
        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        message = CliApp.OneLine(cut >= 0 ? message[..cut] : message).TrimEnd('.');
        string got = e.ActualValue switch
        {
            // A float option's value widened to double (-0.1f is -0.10000000149011612): shown as typed.
            double d when (double)(float)d == d => ((float)d).ToString(CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => e.ActualValue?.ToString() ?? "?",
        };
        return new UsageException($"{option}: {message}, got {got} (see '{CliApp.Name} {verb} --help')", e);
    }
}
