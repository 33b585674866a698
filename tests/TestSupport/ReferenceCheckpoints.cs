namespace Mtcnn.TestSupport;

/// <summary>
/// Synthetic checkpoints in the reference project's architecture (state_dict names and shapes as in its
/// <c>model_store/*_epoch_20.pt</c>), filled with seeded random values, for importer tests that must not depend on
/// the unlicensed files.
/// </summary>
internal static class ReferenceCheckpoints
{
    /// <summary>The state_dict layout of each net: names and shapes, in the files' order.</summary>
    public static IReadOnlyList<(string Name, int[] Shape)> Layout(string net) => net switch
    {
        "pnet" =>
        [
            ("pre_layer.0.weight", [10, 3, 3, 3]), ("pre_layer.0.bias", [10]), ("pre_layer.1.weight", [1]),
            ("pre_layer.3.weight", [16, 10, 3, 3]), ("pre_layer.3.bias", [16]), ("pre_layer.4.weight", [1]),
            ("pre_layer.5.weight", [32, 16, 3, 3]), ("pre_layer.5.bias", [32]), ("pre_layer.6.weight", [1]),
            ("conv4_1.weight", [1, 32, 1, 1]), ("conv4_1.bias", [1]), ("conv4_2.weight", [4, 32, 1, 1]), ("conv4_2.bias", [4]),
            ("conv4_3.weight", [10, 32, 1, 1]), ("conv4_3.bias", [10]),
        ],
        "rnet" =>
        [
            ("pre_layer.0.weight", [28, 3, 3, 3]), ("pre_layer.0.bias", [28]), ("pre_layer.1.weight", [1]),
            ("pre_layer.3.weight", [48, 28, 3, 3]), ("pre_layer.3.bias", [48]), ("pre_layer.4.weight", [1]),
            ("pre_layer.6.weight", [64, 48, 2, 2]), ("pre_layer.6.bias", [64]), ("pre_layer.7.weight", [1]),
            ("conv4.weight", [128, 256]), ("conv4.bias", [128]), ("prelu4.weight", [1]),
            ("conv5_1.weight", [1, 128]), ("conv5_1.bias", [1]), ("conv5_2.weight", [4, 128]), ("conv5_2.bias", [4]),
            ("conv5_3.weight", [10, 128]), ("conv5_3.bias", [10]),
        ],
        "onet" =>
        [
            ("pre_layer.0.weight", [32, 3, 3, 3]), ("pre_layer.0.bias", [32]), ("pre_layer.1.weight", [1]),
            ("pre_layer.3.weight", [64, 32, 3, 3]), ("pre_layer.3.bias", [64]), ("pre_layer.4.weight", [1]),
            ("pre_layer.6.weight", [64, 64, 3, 3]), ("pre_layer.6.bias", [64]), ("pre_layer.7.weight", [1]),
            ("pre_layer.9.weight", [128, 64, 2, 2]), ("pre_layer.9.bias", [128]), ("pre_layer.10.weight", [1]),
            ("conv5.weight", [256, 512]), ("conv5.bias", [256]), ("prelu5.weight", [1]),
            ("conv6_1.weight", [1, 256]), ("conv6_1.bias", [1]), ("conv6_2.weight", [4, 256]), ("conv6_2.bias", [4]),
            ("conv6_3.weight", [10, 256]), ("conv6_3.bias", [10]),
        ],
        _ => throw new ArgumentOutOfRangeException(nameof(net), net, "pnet, rnet or onet"),
    };

    /// <summary>
    /// A checkpoint of <paramref name="net"/> with values in [-0.1, 0.1). <paramref name="edit"/> may change a tensor's
    /// shape (return another) or leave it out (return null).
    /// </summary>
    public static byte[] Synthetic(string net, int seed = 1, Func<string, int[], int[]?>? edit = null)
    {
        var rng = new Random(seed);
        var w = new TorchCheckpointWriter();
        foreach (var (name, shape) in Layout(net))
        {
            var s = edit is null ? shape : edit(name, shape);
            if (s is null)
            {
                continue;
            }

            var values = new float[s.Aggregate(1, (a, b) => a * b)];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)((rng.NextDouble() * 0.2) - 0.1);
            }

            w.Tensor(name, s, values);
        }

        return w.ToBytes();
    }
}
