using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtcnn.Training.Models;

/// <summary>
/// Copies weights between TorchSharp networks and the core's <see cref="MtcnnWeights"/> (docs/weights-format.md).
/// A module parameter <c>conv4_1.weight</c> of P-Net is the tensor <c>pnet.conv4_1.weight</c>; layouts are identical
/// (OIHW kernels, <c>[out, in]</c> dense weights taking a C-H-W flatten, PReLU slopes <c>[C]</c> or <c>[1]</c>), so
/// values are copied unchanged. The landmark heads of P-Net and R-Net (<c>pnet.conv4_3</c>, <c>rnet.dense5_3</c>) are
/// optional tensors that the detector ignores.
/// </summary>
public static class WeightExchange
{
    /// <summary>
    /// Builds a weight set from trained networks. Each network's tensors replace all tensors of that network in
    /// <paramref name="baseWeights"/>; the other networks' tensors of <paramref name="baseWeights"/> are kept.
    /// Without base weights, the result holds only the given networks (all three are needed for the detector).
    /// The metadata is <paramref name="metadata"/> plus <c>trained_nets</c> (e.g. <c>pnet,rnet</c>), and, when the
    /// base weights carry a <c>source</c>, <c>base_source</c>; the format keys and <c>variant</c> are added by
    /// <see cref="MtcnnWeights"/>. The base's other metadata describes other values and is not carried over.
    /// </summary>
    /// <param name="nets">The networks, at most one of each kind, all of one variant.</param>
    /// <param name="baseWeights">Weights to take the remaining networks from, of the same variant; or null.</param>
    /// <param name="metadata">Extra metadata (e.g. <c>source</c>, <c>license</c>); or null.</param>
    /// <exception cref="ArgumentException">No networks, two of one kind, or mixed variants.</exception>
    public static MtcnnWeights Export(IReadOnlyList<MtcnnNet> nets, MtcnnWeights? baseWeights, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(nets);
        if (nets.Count == 0)
        {
            throw new ArgumentException("At least one network is needed.", nameof(nets));
        }

        var variant = nets[0].Variant;
        var kinds = new HashSet<NetKind>();
        foreach (var net in nets)
        {
            ArgumentNullException.ThrowIfNull(net, nameof(nets));
            if (net.Variant != variant)
            {
                throw new ArgumentException($"All networks must be of one variant: {MtcnnWeights.VariantName(variant)} and {MtcnnWeights.VariantName(net.Variant)} given.", nameof(nets));
            }

            if (!kinds.Add(net.Kind))
            {
                throw new ArgumentException($"Two {MtcnnNets.WeightPrefix(net.Kind)} networks given.", nameof(nets));
            }
        }

        if (baseWeights is not null && baseWeights.Variant != variant)
        {
            throw new ArgumentException($"The base weights are for the {MtcnnWeights.VariantName(baseWeights.Variant)} variant, the networks for {MtcnnWeights.VariantName(variant)}.", nameof(baseWeights));
        }

        var prefixes = kinds.Select(k => MtcnnNets.WeightPrefix(k) + ".").ToArray();
        var tensors = new List<WeightTensor>();
        if (baseWeights is not null)
        {
            tensors.AddRange(baseWeights.Tensors.Values.Where(t => !prefixes.Any(p => t.Name.StartsWith(p, StringComparison.Ordinal))));
        }

        foreach (var net in nets)
        {
            string prefix = MtcnnNets.WeightPrefix(net.Kind);
            foreach (var (name, parameter) in net.named_parameters())
            {
                using var values = parameter.detach().cpu().to_type(ScalarType.Float32).contiguous();
                int[] shape = values.shape.Select(d => checked((int)d)).ToArray();
                tensors.Add(new WeightTensor($"{prefix}.{name}", shape, values.data<float>().ToArray()));
            }
        }

        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
        {
            foreach (var kv in metadata)
            {
                meta[kv.Key] = kv.Value;
            }
        }

        meta["trained_nets"] = string.Join(",", kinds.Order().Select(MtcnnNets.WeightPrefix));
        if (baseWeights is not null && baseWeights.Metadata.TryGetValue("source", out string? baseSource))
        {
            meta["base_source"] = baseSource;
        }

        return new MtcnnWeights(variant, tensors, meta);
    }

    /// <summary>
    /// Copies a network's tensors from <paramref name="weights"/> into <paramref name="net"/>'s parameters (no
    /// gradient is recorded). Every parameter needs a tensor of exactly its shape; a shared PReLU slope (<c>[1]</c>)
    /// is also accepted for a per-channel PReLU and copied to every channel. When the landmark head of P-Net or R-Net
    /// is absent and <paramref name="allowMissingLandmarkHead"/> is true (the default), the net keeps its current
    /// values for it (the bundled original weights have no such head). O-Net's landmark head is always required.
    /// </summary>
    /// <exception cref="MtcnnFormatException">
    /// The weights are for another variant, or tensors of this network are missing, unexpected or of the wrong shape;
    /// the message lists them. The network is left unchanged then.
    /// </exception>
    public static void Import(MtcnnNet net, MtcnnWeights weights, bool allowMissingLandmarkHead = true)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(weights);
        string prefix = MtcnnNets.WeightPrefix(net.Kind);
        if (weights.Variant != net.Variant)
        {
            throw new MtcnnFormatException(
                $"The weights are for the '{MtcnnWeights.VariantName(weights.Variant)}' variant, but the {prefix} network is '{MtcnnWeights.VariantName(net.Variant)}': " +
                "the architectures differ (PReLU slopes, pooling, face outputs), so the tensors cannot be loaded. Create the network with the weights' variant.");
        }

        bool landmarkOptional = allowMissingLandmarkHead && net.Kind != NetKind.ONet;
        string landmarkPrefix = $"{prefix}.{net.LandmarkHeadName}.";
        var parameters = net.named_parameters().ToList();
        var plan = new List<(Parameter Target, WeightTensor Source)>();
        var problems = new List<string>();
        var missing = new List<string>();
        foreach (var (name, parameter) in parameters)
        {
            string full = $"{prefix}.{name}";
            if (!weights.Tensors.TryGetValue(full, out var tensor))
            {
                if (!(landmarkOptional && full.StartsWith(landmarkPrefix, StringComparison.Ordinal)))
                {
                    missing.Add(full);
                }

                continue;
            }

            long[] expected = parameter.shape;
            bool sameShape = tensor.Shape.Count == expected.Length && tensor.Shape.Select(d => (long)d).SequenceEqual(expected);
            bool sharedSlope = name.StartsWith("prelu", StringComparison.Ordinal) && tensor.ElementCount == 1 && tensor.Shape.Count == 1;
            if (!sameShape && !sharedSlope)
            {
                problems.Add($"{full} has shape [{string.Join(", ", tensor.Shape)}], the network needs [{string.Join(", ", expected)}]");
                continue;
            }

            plan.Add((parameter, tensor));
        }

        if (missing.Count > 0)
        {
            problems.Insert(0, $"missing tensor{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing)}");
        }

        var known = parameters.Select(p => $"{prefix}.{p.name}").ToHashSet(StringComparer.Ordinal);
        var unexpected = weights.Tensors.Keys.Where(k => k.StartsWith(prefix + ".", StringComparison.Ordinal) && !known.Contains(k)).ToList();
        if (unexpected.Count > 0)
        {
            problems.Add($"unexpected tensor{(unexpected.Count == 1 ? "" : "s")} {string.Join(", ", unexpected)}");
        }

        if (problems.Count > 0)
        {
            throw new MtcnnFormatException(string.Create(CultureInfo.InvariantCulture,
                $"The weights do not fit the {MtcnnWeights.VariantName(net.Variant)} {prefix} network: {string.Join("; ", problems)}."));
        }

        using var _ = no_grad();
        foreach (var (target, source) in plan)
        {
            using var values = torch.tensor(source.Data, source.Shape.Select(d => (long)d).ToArray(), ScalarType.Float32);
            using var placed = values.to(target.device);
            if (source.ElementCount == target.numel())
            {
                target.copy_(placed.reshape(target.shape));
            }
            else
            {
                target.copy_(placed.expand(target.shape));
            }
        }
    }
}
