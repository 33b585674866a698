using System.Buffers.Binary;
using System.Text;

namespace Mtcnn.Tests.Weights;

/// <summary>The mtcnn-weights safetensors format: round trips exactly, and every kind of bad file gives a
/// <see cref="MtcnnFormatException"/> that names the problem.</summary>
public sealed class SafetensorsFormatTests
{
    private const string GoodMeta = "\"__metadata__\":{\"format\":\"mtcnn-weights\",\"format_version\":\"1\",\"variant\":\"original\"}";

    [Fact]
    public void Default_weights_round_trip_to_identical_bytes_tensors_and_metadata()
    {
        var w = MtcnnWeights.Default;
        var bytes = w.ToBytes();
        var back = MtcnnWeights.Read(bytes);

        Assert.Equal(w.Variant, back.Variant);
        Assert.Equal(w.Metadata, back.Metadata);
        Assert.Equal(w.Tensors.Keys, back.Tensors.Keys);
        foreach (var (name, t) in w.Tensors)
        {
            Assert.Equal(t.Shape, back.Tensors[name].Shape);
            Assert.True(t.Data.AsSpan().SequenceEqual(back.Tensors[name].Data), name);
        }

        Assert.True(bytes.AsSpan().SequenceEqual(back.ToBytes()));
    }

    [Fact]
    public void A_small_weight_set_round_trips_through_streams_with_aligned_data()
    {
        var w = new MtcnnWeights(
            ModelVariant.Reference,
            [
                new WeightTensor("b.weight", [2, 1], [1.5f, -0f]),
                new WeightTensor("a.bias", [3], [float.Epsilon, float.MaxValue, -float.MaxValue]),
                new WeightTensor("empty", [0], []),
            ],
            new Dictionary<string, string> { ["source"] = "unit test \u00e9 \"quoted\"", ["format"] = "overwritten" });

        using var ms = new MemoryStream();
        w.Write(ms);
        ms.Position = 0;
        var back = MtcnnWeights.Read(ms);

        Assert.Equal(ModelVariant.Reference, back.Variant);
        Assert.Equal("unit test \u00e9 \"quoted\"", back.Metadata["source"]);
        Assert.Equal(MtcnnWeights.FormatName, back.Metadata["format"]);
        Assert.Equal(["a.bias", "b.weight", "empty"], back.Tensors.Keys);
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(back.Get("b.weight").Data[1]));
        Assert.Equal(-float.MaxValue, back.Get("a.bias").Data[2]);
        Assert.Equal(WeightIntegrity.Verified, back.Integrity);
        Assert.True(ms.ToArray().AsSpan().SequenceEqual(back.ToBytes()));

        // safetensors readers expect the data section 8-byte aligned.
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(ms.ToArray()) % 8);
    }

    [Fact]
    public void Missing_tensor_lookup_names_the_tensor()
    {
        var e = Assert.Throws<MtcnnFormatException>(() => MtcnnWeights.Default.Get("pnet.conv9.weight"));
        Assert.Contains("'pnet.conv9.weight'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "at least 8 bytes")]
    [InlineData(7, "at least 8 bytes")]
    [InlineData(8, "does not fit")]
    [InlineData(300, "header length")]
    [InlineData(-1, "data_offsets")]
    [InlineData(-4000, "data_offsets")]
    public void Truncated_files_are_format_errors(int length, string expected)
    {
        var bytes = MtcnnWeights.Default.ToBytes();
        int n = length >= 0 ? length : bytes.Length + length;
        var e = Assert.Throws<MtcnnFormatException>(() => MtcnnWeights.Read(bytes.AsSpan(0, n)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL << 40)]
    [InlineData(2_000_000UL)]
    public void A_bad_header_length_is_a_format_error(ulong headerLength)
    {
        var bytes = MtcnnWeights.Default.ToBytes();
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength);
        var e = Assert.Throws<MtcnnFormatException>(() => MtcnnWeights.Read(bytes));
        Assert.Contains($"header length {headerLength}", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"__metadata__\":{\"format\":\"other\",\"format_version\":\"1\",\"variant\":\"original\"}}", "Expected metadata format = 'mtcnn-weights', found 'other'")]
    [InlineData("{\"__metadata__\":{\"format_version\":\"1\",\"variant\":\"original\"}}", "found '(none)'")]
    [InlineData("{}", "Expected metadata format")]
    [InlineData("{\"__metadata__\":{\"format\":\"mtcnn-weights\",\"format_version\":\"2\",\"variant\":\"original\"}}", "Expected format_version 1, found '2'")]
    [InlineData("{\"__metadata__\":{\"format\":\"mtcnn-weights\",\"variant\":\"original\"}}", "Expected format_version 1, found '(none)'")]
    [InlineData("{\"__metadata__\":{\"format\":\"mtcnn-weights\",\"format_version\":\"1\",\"variant\":\"tiny\"}}", "Expected variant 'original' or 'reference', found 'tiny'")]
    [InlineData("{\"__metadata__\":{\"format\":\"mtcnn-weights\",\"format_version\":\"1\"}}", "found '(none)'")]
    [InlineData("{\"__metadata__\":{\"format\":\"mtcnn-weights\",\"format_version\":1,\"variant\":\"original\"}}", "Metadata 'format_version' must be a string")]
    [InlineData("{\"__metadata__\":[]}", "__metadata__ must be a JSON object")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", "Tensor 't' has dtype F16; only F32 is supported")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", "Tensor 't' has dtype 32")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}", "Tensor 't' has data_offsets [0, 800]")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", "Tensor 't' has data_offsets [-8, 0]")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "do not fit its shape [3]")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "Tensor 't' has data_offsets [0]")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":\"F32\",\"shape\":[-2,-1],\"data_offsets\":[0,8]}}", "invalid dimension -2")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", "do not fit its shape")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", "shape entry '1.5' that is not an integer")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", "shape that is not a JSON array")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":\"F32\",\"shape\":[2]}}", "Tensor 't' lacks dtype, shape or data_offsets")]
    [InlineData("{" + GoodMeta + ",\"t\":[]}", "Tensor 't' lacks dtype, shape or data_offsets")]
    [InlineData("{" + GoodMeta + ",\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", "Tensor 't' appears twice")]
    [InlineData("[1, 2]", "not a JSON object")]
    [InlineData("{\"unterminated", "not valid JSON")]
    public void Bad_headers_are_format_errors_that_name_the_problem(string header, string expected)
    {
        var e = Assert.Throws<MtcnnFormatException>(() => MtcnnWeights.Read(Craft(header, new byte[16])));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hand_made_valid_file_is_read()
    {
        var data = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(data, 1.25f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), -2f);
        var w = MtcnnWeights.Read(Craft("{" + GoodMeta + ",\"t\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}", data));
        Assert.Equal([1.25f, -2f], w.Get("t").Data);
        Assert.Equal([1, 2], w.Get("t").Shape);
    }

    private static byte[] Craft(string header, byte[] data)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }
}
