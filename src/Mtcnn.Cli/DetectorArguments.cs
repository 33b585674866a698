using System.CommandLine;
using Mtcnn.Cli.Detect;

namespace Mtcnn.Cli;

/// <summary>
/// The detector options shared by <c>align</c> and <c>eval</c>: minimum face, pyramid factor, thresholds, weights and
/// threads, spelled as in <c>detect</c>. Values given on the command line override a base (the defaults, or the
/// paper's settings with <c>--paper</c>).
/// </summary>
internal sealed class DetectorArguments
{
    private DetectorArguments()
    {
        var d = DetectorOptions.Default;
        MinFace = OptionFactory.Float("--min-face-size", d.MinFaceSize, "Smallest face to find, in pixels [4, 100000].");
        Scale = OptionFactory.Float("--scale-factor", d.ScaleFactor, "Ratio between pyramid levels [0.1, 0.95].");
        Thresholds = OptionFactory.FloatList("--thresholds", [d.PNetThreshold, d.RNetThreshold, d.ONetThreshold], 3,
            "Face probability thresholds of P-Net, R-Net and O-Net, each in [0, 1].");
        Weights = new Option<string>("--weights")
        {
            Description = "Weight file (mtcnn-weights safetensors) or a folder holding exactly one; default: the embedded original weights.",
            HelpName = "path",
        };
        Threads = OptionFactory.Int("--threads", 0, "Threads to use; 0 uses every core. Images run in parallel, one thread each [0, 1024].");
        MaxCandidates = OptionFactory.Int("--max-candidates", d.MaxCandidates, "At most this many candidates go from P-Net to R-Net and from R-Net to O-Net, the best-scoring; more give a warning [1, 10000000]. It bounds the time of near-zero thresholds and tiny --min-face-size.");
        Rotations = OptionFactory.Rotations("--rotations", DetectorOptionSet.RotationsDescription);
    }

    /// <summary><c>--rotations</c>.</summary>
    public Option<DetectionRotations> Rotations { get; }

    /// <summary><c>--min-face-size</c>.</summary>
    public Option<float> MinFace { get; }

    /// <summary><c>--scale-factor</c>.</summary>
    public Option<float> Scale { get; }

    /// <summary><c>--thresholds</c>.</summary>
    public Option<float[]> Thresholds { get; }

    /// <summary><c>--max-candidates</c>.</summary>
    public Option<int> MaxCandidates { get; }

    /// <summary><c>--weights</c>.</summary>
    public Option<string> Weights { get; }

    /// <summary><c>--threads</c>.</summary>
    public Option<int> Threads { get; }

    /// <summary>Creates the options and adds them to <paramref name="command"/>.</summary>
    public static DetectorArguments AddTo(Command command)
    {
        var a = new DetectorArguments();
        command.Options.Add(a.MinFace);
        command.Options.Add(a.Scale);
        command.Options.Add(a.Thresholds);
        command.Options.Add(a.Weights);
        command.Options.Add(a.Threads);
        command.Options.Add(a.MaxCandidates);
        command.Options.Add(a.Rotations);
        return a;
    }

    /// <summary>The options on top of <paramref name="baseOptions"/>, validated.</summary>
    /// <param name="pr">The parse result.</param>
    /// <param name="baseOptions">Values used where the command line gives none.</param>
    /// <param name="commandName">The verb, for the help hint of a range error.</param>
    /// <exception cref="UsageException">A value is out of range.</exception>
    public DetectorOptions Build(ParseResult pr, DetectorOptions baseOptions, string commandName)
    {
        var o = baseOptions;
        if (Given(pr, MinFace))
        {
            o = o with { MinFaceSize = pr.GetValue(MinFace) };
        }

        if (Given(pr, Scale))
        {
            o = o with { ScaleFactor = pr.GetValue(Scale) };
        }

        if (Given(pr, Thresholds))
        {
            float[] t = pr.GetValue(Thresholds)!;
            o = o with { PNetThreshold = t[0], RNetThreshold = t[1], ONetThreshold = t[2] };
        }

        if (Given(pr, MaxCandidates))
        {
            o = o with { MaxCandidates = pr.GetValue(MaxCandidates) };
        }

        if (Given(pr, Rotations))
        {
            o = o with { Rotations = pr.GetValue(Rotations) };
        }

        o = o with { MaxDegreeOfParallelism = pr.GetValue(Threads) };
        DetectCommand.ValidateOptions(o, commandName);
        return o;
    }

    /// <summary>Reads the weights named by <c>--weights</c>, or null for the embedded ones.</summary>
    /// <param name="pr">The parse result.</param>
    /// <param name="console">Where a warning about a weight file that cannot be verified goes.</param>
    public MtcnnWeights? LoadWeights(ParseResult pr, CliConsole console) => WeightsFile.Load(pr.GetValue(Weights), "--weights", console);

    private static bool Given<T>(ParseResult pr, Option<T> option) => pr.GetResult(option) is { Implicit: false };
}
