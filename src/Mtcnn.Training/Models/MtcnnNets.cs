namespace Mtcnn.Training.Models;

/// <summary>Creates the networks and names their properties.</summary>
public static class MtcnnNets
{
    /// <summary>
    /// A freshly initialised network (see <see cref="MtcnnNet"/> for the initialisation; call
    /// <c>torch.manual_seed</c> first for reproducible values). P-Net is a <see cref="PNetModule"/>, R-Net and O-Net are
    /// <see cref="CropNetModule"/>s.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Unknown kind or variant.</exception>
    public static MtcnnNet Create(NetKind kind, ModelVariant variant)
    {
        if (variant is not (ModelVariant.Original or ModelVariant.Reference))
        {
            throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown model variant.");
        }

        return kind switch
        {
            NetKind.PNet => new PNetModule(variant),
            NetKind.RNet or NetKind.ONet => new CropNetModule(kind, variant),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown network kind."),
        };
    }

    /// <summary>Side of the square training input: 12 (P-Net), 24 (R-Net) or 48 (O-Net).</summary>
    public static int InputSize(NetKind kind) => kind switch
    {
        NetKind.PNet => 12,
        NetKind.RNet => 24,
        NetKind.ONet => 48,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown network kind."),
    };

    /// <summary>The tensor-name prefix of a network in the weight format: <c>pnet</c>, <c>rnet</c> or <c>onet</c>.</summary>
    public static string WeightPrefix(NetKind kind) => kind switch
    {
        NetKind.PNet => "pnet",
        NetKind.RNet => "rnet",
        NetKind.ONet => "onet",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown network kind."),
    };

    /// <summary>Parses <c>pnet</c>, <c>rnet</c> or <c>onet</c> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static NetKind ParseKind(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "PNET" => NetKind.PNet,
            "RNET" => NetKind.RNet,
            "ONET" => NetKind.ONet,
            _ => throw new ArgumentException($"Unknown network '{name}': expected pnet, rnet or onet.", nameof(name)),
        };
    }

    /// <summary>Parses a variant name, <c>original</c> or <c>reference</c> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static ModelVariant ParseVariant(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "ORIGINAL" => ModelVariant.Original,
            "REFERENCE" => ModelVariant.Reference,
            _ => throw new ArgumentException($"Unknown model variant '{name}': expected original or reference.", nameof(name)),
        };
    }
}
