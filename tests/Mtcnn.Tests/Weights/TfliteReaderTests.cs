using System.Text;
using Mtcnn.Tests.Weights.Support;
using Mtcnn.Weights.Tflite;

namespace Mtcnn.Tests.Weights;

/// <summary>The FlatBuffer/TFLite reader: reads what a FlatBuffer writer wrote, and turns every corruption into
/// <see cref="MtcnnFormatException"/>.</summary>
public sealed class TfliteReaderTests
{
    private static readonly Lazy<byte[]> SyntheticPNet = new(() => SyntheticTflite.Export(MtcnnWeights.Default, "pnet"));

    [Fact]
    public void Reads_tensors_operators_and_buffers()
    {
        var b = new TfliteBuilder();
        int x = b.Tensor("net/input", [1, 4, 4, 3]);
        int w = b.Tensor("net/w", [2, 3], [1, 2, 3, 4, 5, 6]);
        int y = b.Tensor("net/y", [1, 2]);
        b.Op(TfliteBuilder.FullyConnected, [x, w, -1], [y]);
        b.Op(TfliteBuilder.Neg, [y], [y]);
        var m = TfliteModel.Parse(b.Build(), "test.tflite");

        Assert.Equal(3u, m.Version);
        Assert.Equal(["net/input", "net/w", "net/y"], m.Tensors.Select(t => t.Name));
        Assert.Equal([2, 3], m.FindTensor("net/w").Shape);
        Assert.Equal(TfliteTensorType.Float32, m.FindTensor("net/w").Type);
        Assert.Equal([1f, 2, 3, 4, 5, 6], m.ReadFloat32(m.FindTensor("net/w")));
        Assert.Equal(0, m.Buffers[0].Length);
        Assert.Equal([TfliteBuilder.FullyConnected, TfliteBuilder.Neg], m.Operators.Select(o => o.BuiltinCode));
        Assert.Equal([x, w, -1], m.Operators[0].Inputs);
        Assert.Equal([y], m.Operators[0].Outputs);
    }

    [Fact]
    public void Missing_tensor_and_wrong_data_size_are_format_errors()
    {
        var b = new TfliteBuilder();
        b.Tensor("w", [2, 2], [1, 2, 3]);
        b.Tensor("activation", [2]);
        var m = TfliteModel.Parse(b.Build(), "test.tflite");

        var e = Assert.Throws<MtcnnFormatException>(() => m.FindTensor("nope"));
        Assert.Contains("no tensor named 'nope'", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<MtcnnFormatException>(() => m.ReadFloat32(m.FindTensor("w")));
        Assert.Contains("needs 16 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("has 12", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<MtcnnFormatException>(() => m.ReadFloat32(m.FindTensor("activation")));
        Assert.Contains("has 0", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    public void Too_short_input_is_a_format_error(int length)
    {
        var e = Assert.Throws<MtcnnFormatException>(() => TfliteModel.Parse(new byte[length], "x.tflite"));
        Assert.Contains("not a TFLite model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_identifier_is_reported()
    {
        var bytes = (byte[])SyntheticPNet.Value.Clone();
        Encoding.ASCII.GetBytes("ABCD").CopyTo(bytes, 4);
        var e = Assert.Throws<MtcnnFormatException>(() => TfliteModel.Parse(bytes, "x.tflite"));
        Assert.Contains("expected the FlatBuffer file identifier 'TFL3'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'ABCD'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Root_offset_outside_the_buffer_is_reported()
    {
        byte[] bytes = [0xff, 0xff, 0, 0, (byte)'T', (byte)'F', (byte)'L', (byte)'3', 0, 0, 0, 0];
        var e = Assert.Throws<MtcnnFormatException>(() => TfliteModel.Parse(bytes, "x.tflite"));
        Assert.Contains("outside the 12-byte buffer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_truncation_is_a_format_error()
    {
        var full = SyntheticPNet.Value;
        Assert.NotNull(TfliteModel.Parse(full, "pnet.tflite"));

        // The writer puts the last constant at the very end, so any cut removes bytes the model refers to.
        for (int length = 0; length < full.Length; length += length < 512 ? 1 : 61)
        {
            var ex = Record.Exception(() => TfliteModel.Parse(full.AsSpan(0, length), "pnet.tflite"));
            Assert.True(ex is MtcnnFormatException, $"length {length}: {ex?.GetType().Name ?? "no exception"}");
        }
    }

    [Fact]
    public void Random_garbage_never_escapes_as_another_exception()
    {
        var rng = new Random(12345);
        for (int i = 0; i < 3000; i++)
        {
            var bytes = new byte[rng.Next(0, 600)];
            rng.NextBytes(bytes);
            if (bytes.Length >= 8 && i % 2 == 0)
            {
                Encoding.ASCII.GetBytes("TFL3").CopyTo(bytes, 4);
                if (i % 4 == 0)
                {
                    // A plausible root offset, so that the vtable and field checks get exercised too.
                    BitConverter.TryWriteBytes(bytes.AsSpan(0, 4), rng.Next(8, bytes.Length));
                }
            }

            var ex = Record.Exception(() => ReadEverything(bytes));
            Assert.True(ex is null or MtcnnFormatException, $"case {i}: {ex}");
        }
    }

    [Fact]
    public void Corrupted_bytes_never_escape_as_another_exception()
    {
        var full = SyntheticPNet.Value;
        var rng = new Random(777);
        int formatErrors = 0;
        for (int i = 0; i < 1500; i++)
        {
            var bytes = (byte[])full.Clone();

            // Mostly hit the structural part at the start, where offsets, vtables and counts live.
            int flips = rng.Next(1, 4);
            for (int f = 0; f < flips; f++)
            {
                int pos = i % 3 == 0 ? rng.Next(bytes.Length) : rng.Next(Math.Min(bytes.Length, 2048));
                bytes[pos] = (byte)rng.Next(256);
            }

            var ex = Record.Exception(() => ReadEverything(bytes));
            Assert.True(ex is null or MtcnnFormatException, $"case {i}: {ex}");
            formatErrors += ex is null ? 0 : 1;
        }

        Assert.True(formatErrors > 100, $"only {formatErrors} of the corruptions were detected");
    }

    [Fact]
    public void Bad_references_inside_a_well_formed_buffer_are_reported()
    {
        var tensor = new FbTable().Set(0, new FbInts([1])).Set(2, FbScalar.U32(5)).Set(3, new FbString("t"));
        var graph = new FbTable().Set(0, new FbTables([tensor]));
        var model = new FbTable().Set(2, new FbTables([graph])).Set(4, new FbTables([new FbTable()]));
        var e = Assert.Throws<MtcnnFormatException>(() => TfliteModel.Parse(FlatBufferWriter.Finish(model, "TFL3"), "x.tflite"));
        Assert.Contains("refers to buffer 5, but the model has 1 buffers", e.Message, StringComparison.Ordinal);

        var op = new FbTable().Set(0, FbScalar.U32(0)).Set(1, new FbInts([7]));
        graph = new FbTable().Set(0, new FbTables([])).Set(3, new FbTables([op]));
        model = new FbTable().Set(1, new FbTables([new FbTable().Set(3, FbScalar.I32(3))])).Set(2, new FbTables([graph]));
        e = Assert.Throws<MtcnnFormatException>(() => TfliteModel.Parse(FlatBufferWriter.Finish(model, "TFL3"), "x.tflite"));
        Assert.Contains("refers to tensor 7, but the subgraph has 0", e.Message, StringComparison.Ordinal);

        op = new FbTable().Set(0, FbScalar.U32(4));
        graph = new FbTable().Set(3, new FbTables([op]));
        model = new FbTable().Set(2, new FbTables([graph]));
        e = Assert.Throws<MtcnnFormatException>(() => TfliteModel.Parse(FlatBufferWriter.Finish(model, "TFL3"), "x.tflite"));
        Assert.Contains("uses operator code 4, but the model has 0", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<MtcnnFormatException>(() => TfliteModel.Parse(FlatBufferWriter.Finish(new FbTable(), "TFL3"), "x.tflite"));
        Assert.Contains("has no subgraph", e.Message, StringComparison.Ordinal);
    }

    private static void ReadEverything(byte[] bytes)
    {
        var m = TfliteModel.Parse(bytes, "fuzz.tflite");
        foreach (var t in m.Tensors)
        {
            try
            {
                m.ReadFloat32(t);
            }
            catch (MtcnnFormatException)
            {
                // Expected for activations and corrupted constants; anything else fails the test.
            }
        }
    }
}
