using System.Text.RegularExpressions;

namespace Mtcnn.Training.Models;

/// <summary>
/// Which layers of a network a run keeps fixed (<c>--freeze</c>). A freeze list holds group names and layer names:
/// <list type="bullet">
/// <item><c>conv</c>: the convolution layers and their PReLUs (P-Net <c>conv1</c>..<c>conv3</c>, R-Net
/// <c>conv1</c>..<c>conv3</c>, O-Net <c>conv1</c>..<c>conv4</c>);</item>
/// <item><c>trunk</c>: everything except the three heads (the convolutions and R-/O-Net's fully connected layer with
/// its PReLU);</item>
/// <item><c>face</c>, <c>box</c>, <c>landmarks</c>: one head (<c>conv4_1</c>/<c>dense5_1</c>/<c>dense6_1</c>, ... <c>_2</c>, ... <c>_3</c>);</item>
/// <item>a layer name of the weight format, e.g. <c>dense5</c> or <c>prelu2</c>.</item>
/// </list>
/// Training only O-Net's landmark head is <c>trunk,face,box</c>: the detections (scores and boxes) then stay exactly those of
/// the starting weights. Frozen parameters get no gradient and are left out of the optimiser, so they stay bit for bit.
/// </summary>
public static partial class LayerFreeze
{
    /// <summary>The group names.</summary>
    public static readonly IReadOnlyList<string> Groups = ["conv", "trunk", "face", "box", "landmarks"];

    /// <summary>Checks that every entry is a group or looks like a layer name.</summary>
    /// <param name="freeze">The list.</param>
    /// <exception cref="ArgumentException">An entry is neither.</exception>
    public static void Validate(IReadOnlyList<string> freeze)
    {
        ArgumentNullException.ThrowIfNull(freeze);
        foreach (var entry in freeze)
        {
            if (!Groups.Contains(entry) && !LayerPattern().IsMatch(entry))
            {
                throw new ArgumentException($"freeze: '{entry}' is not a group ({string.Join(", ", Groups)}) or a layer name like conv1, prelu2 or dense5");
            }
        }
    }

    /// <summary>Checks that the named layers exist in a network and that something is left to train.</summary>
    /// <param name="freeze">The list.</param>
    /// <param name="net">Which network.</param>
    /// <param name="parameterNames">The network's parameter names (<c>conv1.weight</c>, ...).</param>
    /// <exception cref="ArgumentException">A layer does not exist, or every parameter would be frozen.</exception>
    public static void CheckAgainst(IReadOnlyList<string> freeze, NetKind net, IReadOnlyCollection<string> parameterNames)
    {
        var layers = parameterNames.Select(LayerOf).ToHashSet(StringComparer.Ordinal);
        foreach (var entry in freeze.Where(e => !Groups.Contains(e)))
        {
            if (!layers.Contains(entry))
            {
                throw new ArgumentException($"freeze: {net} has no layer '{entry}' (it has {string.Join(", ", layers.Order(StringComparer.Ordinal))})");
            }
        }

        if (parameterNames.All(p => IsFrozen(freeze, net, p)))
        {
            throw new ArgumentException($"freeze: '{string.Join(',', freeze)}' leaves nothing of {net} to train");
        }
    }

    /// <summary>Whether a parameter is frozen by the list.</summary>
    /// <param name="freeze">The list.</param>
    /// <param name="net">Which network the parameter belongs to.</param>
    /// <param name="parameterName">A parameter name such as <c>dense6_3.weight</c>.</param>
    /// <returns>True when it stays fixed.</returns>
    public static bool IsFrozen(IReadOnlyList<string> freeze, NetKind net, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(freeze);
        var layer = LayerOf(parameterName);
        var head = HeadOf(layer);
        foreach (var entry in freeze)
        {
            var hit = entry switch
            {
                "conv" => head is null && (layer.StartsWith("conv", StringComparison.Ordinal) || IsConvPrelu(net, layer)),
                "trunk" => head is null,
                "face" or "box" or "landmarks" => head == entry,
                _ => entry == layer,
            };
            if (hit)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The layer of a parameter name (<c>dense6_3.weight</c> → <c>dense6_3</c>).</summary>
    /// <param name="parameterName">The parameter name.</param>
    /// <returns>The layer name.</returns>
    public static string LayerOf(string parameterName)
    {
        var dot = parameterName.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? parameterName : parameterName[..dot];
    }

    private static string? HeadOf(string layer)
    {
        var m = HeadPattern().Match(layer);
        return !m.Success ? null : m.Groups[1].Value switch
        {
            "1" => "face",
            "2" => "box",
            _ => "landmarks",
        };
    }

    // A PReLU belongs to the convolutions when it follows one: prelu1..prelu3 in P- and R-Net, prelu1..prelu4 in O-Net
    // (R-Net's prelu4 and O-Net's prelu5 follow the fully connected layer).
    private static bool IsConvPrelu(NetKind net, string layer)
    {
        var m = PreluPattern().Match(layer);
        var convolutions = net == NetKind.ONet ? 4 : 3;
        return m.Success && int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) <= convolutions;
    }

    [GeneratedRegex("^(?:conv|dense)[0-9]+_([123])$", RegexOptions.CultureInvariant)]
    private static partial Regex HeadPattern();

    [GeneratedRegex("^prelu([0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex PreluPattern();

    [GeneratedRegex("^[a-z]+[0-9]+(?:_[0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex LayerPattern();
}
