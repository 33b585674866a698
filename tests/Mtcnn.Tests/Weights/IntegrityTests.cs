using System.Buffers.Binary;
using System.Text;
using Mtcnn.TestSupport;
using Xunit.Abstractions;

namespace Mtcnn.Tests.Weights;

/// <summary>
/// Damaged weight files are refused, naming the file and the tensor: every tensor's sha256 is recorded in the header
/// and checked on load, and NaN or infinite values are refused even in files without hashes (which still load, marked
/// unverified).
/// </summary>
public sealed class IntegrityTests(ITestOutputHelper output)
{
    private const string Source = "weights/damaged.safetensors";

    [Fact]
    public void The_embedded_file_records_a_hash_of_every_tensor_and_verifies()
    {
        Assert.Equal(WeightIntegrity.Verified, MtcnnWeights.Default.Integrity);
        Assert.DoesNotContain(MtcnnWeights.TensorHashKey, MtcnnWeights.Default.Metadata.Keys);

        using var s = typeof(MtcnnWeights).Assembly.GetManifestResourceStream("Mtcnn.Resources.mtcnn-original.safetensors")!;
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        byte[] file = ms.ToArray();
        string header = Encoding.UTF8.GetString(file, 8, WeightFiles.DataStart(file) - 8);
        foreach (string name in MtcnnWeights.Default.Tensors.Keys)
        {
            Assert.Contains(name + "=", header, StringComparison.Ordinal);
        }

        Assert.Equal(WeightIntegrity.Verified, MtcnnWeights.Read(file).Integrity);
        Assert.True(file.AsSpan().SequenceEqual(MtcnnWeights.Default.ToBytes()), "the embedded file is not what the writer writes");
    }

    [Fact]
    public void Every_one_of_200_random_data_mutations_is_refused_naming_the_damaged_tensor()
    {
        byte[] original = MtcnnWeights.Default.ToBytes();
        int dataStart = WeightFiles.DataStart(original);
        var ranges = TensorRanges(original);
        var random = new Random(14);
        for (int i = 0; i < 200; i++)
        {
            byte[] copy = (byte[])original.Clone();
            int at = random.Next(dataStart, copy.Length);
            copy[at] ^= (byte)random.Next(1, 256);
            string tensor = ranges.Single(r => at - dataStart >= r.Begin && at - dataStart < r.End).Name;

            var e = Assert.Throws<MtcnnFormatException>(() => MtcnnWeights.Read(copy, Source));
            Assert.StartsWith(Source + ": ", e.Message, StringComparison.Ordinal);
            Assert.Contains($"Tensor '{tensor}'", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_header_mutation_is_refused_or_leaves_every_tensor_bit_identical()
    {
        byte[] original = MtcnnWeights.Default.ToBytes();
        int dataStart = WeightFiles.DataStart(original);
        var random = new Random(1414);
        int refused = 0;
        for (int i = 0; i < 200; i++)
        {
            byte[] copy = (byte[])original.Clone();
            int at = random.Next(0, dataStart);
            copy[at] ^= (byte)random.Next(1, 256);
            MtcnnWeights read;
            try
            {
                read = MtcnnWeights.Read(copy);
            }
            catch (MtcnnFormatException)
            {
                refused++;
                continue;
            }

            // What still loads (a changed licence text, a space turned into a tab) must hold the same values.
            Assert.Equal(WeightIntegrity.Verified, read.Integrity);
            Assert.Equal(MtcnnWeights.Default.Tensors.Keys, read.Tensors.Keys);
            foreach (var t in MtcnnWeights.Default.Tensors.Values)
            {
                Assert.True(t.Data.AsSpan().SequenceEqual(read.Get(t.Name).Data), $"byte {at}: {t.Name} changed");
            }
        }

        output.WriteLine($"{refused} of 200 header mutations refused; the other {200 - refused} load bit-identical tensors");
        Assert.True(refused > 100, $"only {refused} of 200 header mutations refused");
    }

    [Theory]
    [InlineData("onet.conv1.bias", 3, float.NaN, "NaN")]
    [InlineData("pnet.conv1.weight", 0, float.PositiveInfinity, "Infinity")]
    [InlineData("rnet.prelu4.weight", 127, float.NegativeInfinity, "-Infinity")]
    public void Non_finite_values_are_refused_naming_file_tensor_and_index(string tensor, int index, float value, string shown)
    {
        byte[] file = WeightFiles.DefaultWith(tensor, index, value);
        foreach (byte[] bytes in new[] { file, WeightFiles.WithoutTensorHashes(file) })
        {
            var e = Assert.Throws<MtcnnFormatException>(() => MtcnnWeights.Read(bytes, Source));
            Assert.Equal($"{Source}: Tensor '{tensor}' holds a non-finite value ({shown}) at index {index}; weights must be finite.", e.Message);
        }
    }

    [Fact]
    public void A_file_without_hashes_loads_unverified_with_the_same_values()
    {
        byte[] legacy = WeightFiles.WithoutTensorHashes(MtcnnWeights.Default.ToBytes());
        var w = MtcnnWeights.Read(legacy);

        Assert.Equal(WeightIntegrity.Unverified, w.Integrity);
        Assert.Contains("cannot be detected", MtcnnWeights.UnverifiedNote, StringComparison.Ordinal);
        foreach (var t in MtcnnWeights.Default.Tensors.Values)
        {
            Assert.True(t.Data.AsSpan().SequenceEqual(w.Get(t.Name).Data), t.Name);
        }

        // Writing it again adds the hashes: the file becomes the default file, byte for byte.
        Assert.True(w.ToBytes().AsSpan().SequenceEqual(MtcnnWeights.Default.ToBytes()));

        // A damaged legacy file cannot be caught (as the note says) unless the damage makes a value non-finite.
        byte[] damaged = (byte[])legacy.Clone();
        damaged[^1] ^= 0x01;
        Assert.Equal(WeightIntegrity.Unverified, MtcnnWeights.Read(damaged).Integrity);
    }

    [Fact]
    public void Hashes_passed_in_as_metadata_are_replaced_by_the_hashes_of_the_written_values()
    {
        var meta = new Dictionary<string, string> { [MtcnnWeights.TensorHashKey] = "t=" + new string('0', 64) };
        var w = new MtcnnWeights(ModelVariant.Original, [new WeightTensor("t", [2], [1f, 2f])], meta);
        Assert.DoesNotContain(MtcnnWeights.TensorHashKey, w.Metadata.Keys);
        Assert.Equal(WeightIntegrity.NotFromFile, w.Integrity);
        Assert.Equal(WeightIntegrity.Verified, MtcnnWeights.Read(w.ToBytes()).Integrity);
    }

    [Theory]
    [InlineData("t=abc", "malformed or repeated entry 't=abc'")]
    [InlineData("t=" + Zeros + " t=" + Zeros, "malformed or repeated entry")]
    [InlineData("", "Tensor 't' has no recorded sha256")]
    [InlineData("u=" + Zeros, "Tensor 't' has no recorded sha256")]
    [InlineData("t=" + Zeros, "Tensor 't' does not match its recorded sha256 (expected 0000")]
    public void A_damaged_hash_record_is_refused(string record, string expected)
    {
        var data = new byte[8];
        string header = "{\"__metadata__\":{\"format\":\"mtcnn-weights\",\"format_version\":\"1\",\"variant\":\"original\",\"tensor_sha256\":\""
            + record + "\"},\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        var e = Assert.Throws<MtcnnFormatException>(() => MtcnnWeights.Read(bytes));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hash_recorded_for_a_tensor_the_file_lacks_is_refused()
    {
        byte[] two = new MtcnnWeights(ModelVariant.Original, [new WeightTensor("a", [1], [1f]), new WeightTensor("b", [1], [2f])]).ToBytes();
        byte[] one = new MtcnnWeights(ModelVariant.Original, [new WeightTensor("a", [1], [1f])]).ToBytes();

        // Move two's hash record into one's header: 'b' is recorded but absent.
        string twoHeader = Encoding.UTF8.GetString(two, 8, WeightFiles.DataStart(two) - 8);
        string record = twoHeader[(twoHeader.IndexOf("\"tensor_sha256\":\"", StringComparison.Ordinal) + 17)..];
        record = record[..record.IndexOf('"', StringComparison.Ordinal)];
        string oneHeader = Encoding.UTF8.GetString(one, 8, WeightFiles.DataStart(one) - 8).TrimEnd();
        int start = oneHeader.IndexOf("\"tensor_sha256\":\"", StringComparison.Ordinal) + 17;
        int end = oneHeader.IndexOf('"', start);
        string header = oneHeader[..start] + record + oneHeader[end..];
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(8 + h.Length), 1f);

        var e = Assert.Throws<MtcnnFormatException>(() => MtcnnWeights.Read(bytes));
        Assert.Contains("records tensor 'b', which the file does not hold", e.Message, StringComparison.Ordinal);
    }

    private const string Zeros = "0000000000000000000000000000000000000000000000000000000000000000";

    private static List<(string Name, long Begin, long End)> TensorRanges(byte[] file)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(file.AsMemory(8, WeightFiles.DataStart(file) - 8));
        return [.. doc.RootElement.EnumerateObject()
            .Where(p => p.Name != "__metadata__")
            .Select(p =>
            {
                var o = p.Value.GetProperty("data_offsets");
                return (p.Name, o[0].GetInt64(), o[1].GetInt64());
            })];
    }
}
