using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace Mtcnn.TestSupport;

/// <summary>Weight files made for tests: legacy files without tensor hashes, and files with chosen values.</summary>
internal static class WeightFiles
{
    /// <summary>
    /// <paramref name="file"/> as a file written before tensor hashes existed: the same data section, the header
    /// without <see cref="MtcnnWeights.TensorHashKey"/> (re-padded so the data stays 8-byte aligned).
    /// </summary>
    public static byte[] WithoutTensorHashes(byte[] file)
    {
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(file, 8, headerLength))!.AsObject();
        header["__metadata__"]!.AsObject().Remove(MtcnnWeights.TensorHashKey);
        string json = header.ToJsonString();
        json += new string(' ', (8 - (Encoding.UTF8.GetByteCount(json) % 8)) % 8);
        byte[] head = Encoding.UTF8.GetBytes(json);
        var result = new byte[8 + head.Length + (file.Length - 8 - headerLength)];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)head.Length);
        head.CopyTo(result, 8);
        file.AsSpan(8 + headerLength).CopyTo(result.AsSpan(8 + head.Length));
        return result;
    }

    /// <summary>The default weights with one value replaced, written (with hashes of the changed values) to bytes.</summary>
    public static byte[] DefaultWith(string tensor, int index, float value)
    {
        var d = MtcnnWeights.Default;
        var tensors = d.Tensors.Values.Select(t =>
        {
            if (t.Name != tensor)
            {
                return t;
            }

            var data = (float[])t.Data.Clone();
            data[index] = value;
            return t with { Data = data };
        });
        return new MtcnnWeights(d.Variant, tensors, d.Metadata).ToBytes();
    }

    /// <summary>The byte range of the data section of a safetensors file.</summary>
    public static int DataStart(byte[] file) => 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
}
