using System.IO.Compression;
using Mtcnn.TestSupport;
using Mtcnn.Weights.PyTorch;

namespace Mtcnn.Tests.ReferenceProject;

/// <summary>The PyTorch zip checkpoint reader and its pickle machine, on checkpoints built here and on the reference weights.</summary>
public sealed class TorchCheckpointTests
{
    private static IReadOnlyList<WeightTensor> Read(byte[] bytes, string what = "test.pt")
    {
        using var ms = new MemoryStream(bytes);
        return TorchStateDict.Read(ms, what);
    }

    private static MtcnnFormatException Fails(byte[] bytes) => Assert.Throws<MtcnnFormatException>(() => Read(bytes));

    [Fact]
    public void Reads_tensors_in_state_dict_order_with_shapes_and_values()
    {
        var w = new TorchCheckpointWriter()
            .Tensor("b.weight", [2, 3], [1, 2, 3, 4, 5, 6])
            .Tensor("a.bias", [2], [-1.5f, 7])
            .Tensor("scalar", [], [42]);

        var t = Read(w.ToBytes());

        Assert.Equal(["b.weight", "a.bias", "scalar"], t.Select(x => x.Name));
        Assert.Equal([2, 3], t[0].Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], t[0].Data);
        Assert.Equal([-1.5f, 7], t[1].Data);
        Assert.Empty(t[2].Shape);
        Assert.Equal([42f], t[2].Data);
    }

    [Fact]
    public void Views_with_an_offset_and_strides_are_copied_row_major_and_may_share_a_storage()
    {
        var w = new TorchCheckpointWriter();
        string key = w.Storage([0, 1, 2, 3, 4, 5, 6, 7]);
        w.View("transposed", key, 1, [3, 2], [1, 3]); // element (i, j) = storage[1 + i + 3j]
        w.View("tail", key, 6, [2], [1]);

        var t = Read(w.ToBytes());

        Assert.Equal([3, 2], t[0].Shape);
        Assert.Equal([1f, 4, 2, 5, 3, 6], t[0].Data);
        Assert.Equal([6f, 7], t[1].Data);
    }

    [Fact]
    public void Any_archive_folder_name_and_cpu_storages_work()
    {
        var w = new TorchCheckpointWriter { Folder = "pnet_epoch_20", Location = "cpu" }.Tensor("x", [1], [3]);
        Assert.Equal([3f], Read(w.ToBytes()).Single().Data);
    }

    [Fact]
    public void Pickle_opcodes_of_other_protocols_are_understood()
    {
        // PROTO 4, FRAME, SHORT_BINUNICODE + MEMOIZE, STACK_GLOBAL, EMPTY_LIST/APPENDS, LONG1, BINFLOAT, DICT, BINGET, POP.
        byte[] pickle =
        [
            0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0,
            (byte)'(',
            0x8c, 1, (byte)'k', 0x94,
            (byte)']', (byte)'(', 0x8a, 2, 0x00, 0x80, (byte)'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, (byte)'N', 0x88, (byte)'e',
            0x8c, 3, (byte)'m', (byte)'o', (byte)'d', 0x8c, 1, (byte)'n', 0x93, (byte)'0',
            (byte)'h', 0, (byte)'0',
            (byte)'d',
            (byte)'.',
        ];
        var root = Assert.IsType<PickleDict>(PickleReader.Read(pickle, "p"));
        Assert.Equal(["k"], root.Keys);
        var list = Assert.IsType<List<object?>>(root.Values[0]);
        Assert.Equal(new object?[] { -32768L, 1.5, null, true }, list);

        // STOP must find exactly one value.
        var e = Assert.Throws<MtcnnFormatException>(() => PickleReader.Read([0x80, 2, (byte)'K', 1, (byte)'K', 2, (byte)'.'], "p"));
        Assert.Contains("STOP with 2 values", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Not_a_zip_is_a_format_error_that_says_what_is_expected()
    {
        var e = Fails("\x80\x02}q\x00."u8.ToArray());
        Assert.Contains("test.pt is not a zip archive", e.Message, StringComparison.Ordinal);
        Assert.Contains("PyTorch 1.6", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_zip_without_data_pkl_is_a_format_error()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            zip.CreateEntry("archive/other.txt");
        }

        Assert.Contains("data.pkl", Fails(ms.ToArray()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_or_unknown_pickles_name_the_offset()
    {
        var w = new TorchCheckpointWriter().Tensor("x", [2], [1, 2]);
        var pickle = w.Pickle();

        var e = Fails(w.Zip(pickle[..(pickle.Length / 2)]));
        Assert.Contains("archive/data.pkl", e.Message, StringComparison.Ordinal);
        Assert.Contains("at byte", e.Message, StringComparison.Ordinal);

        e = Fails(w.Zip([0x80, 2, (byte)'i', (byte)'.']));
        Assert.Contains("unsupported pickle opcode 0x69 (at byte 2)", e.Message, StringComparison.Ordinal);

        e = Fails(w.Zip([0x80, 2, (byte)'h', 7, (byte)'.']));
        Assert.Contains("memo entry 7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Storage_problems_are_format_errors()
    {
        // The storage holds 2 values but the tensor's view needs 3.
        var w = new TorchCheckpointWriter();
        w.View("x", w.Storage([1, 2]), 0, [3], [1]);
        Assert.Contains("reaches past its storage of 2 values", Fails(w.ToBytes()).Message, StringComparison.Ordinal);

        // A double-precision checkpoint.
        var d = new TorchCheckpointWriter { StorageType = "DoubleStorage" }.Tensor("x", [1], [1]);
        Assert.Contains("torch.DoubleStorage; only float32", Fails(d.ToBytes()).Message, StringComparison.Ordinal);

        // The storage entry is missing from the archive.
        var m = new TorchCheckpointWriter().Tensor("x", [1], [1]);
        var withoutData = new TorchCheckpointWriter().Zip(m.Pickle());
        Assert.Contains("lacks its storage 'archive/data/0'", Fails(withoutData).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_that_is_not_a_plain_state_dict_is_refused()
    {
        // {"epoch": 20}: a training checkpoint rather than a state_dict.
        var p = new TorchCheckpointWriter.PickleBuilder();
        p.Op(0x80).Byte(2).Op('}').Op('(').Unicode("epoch").Int(20).Op('u').Op('.');
        var e = Fails(new TorchCheckpointWriter().Zip(p.ToArray()));
        Assert.Contains("tensor 'epoch' is the integer 20, not a tensor", e.Message, StringComparison.Ordinal);

        var list = new TorchCheckpointWriter.PickleBuilder();
        list.Op(0x80).Byte(2).Op(']').Op('.');
        Assert.Contains("holds a list, not a state_dict", Fails(new TorchCheckpointWriter().Zip(list.ToArray())).Message, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("pnet_epoch_20.pt", 15, "pre_layer.0.weight", new[] { 10, 3, 3, 3 }, -0.30460283160209656, 0.7697283029556274)]
    [InlineData("rnet_epoch_20.pt", 18, "conv4.weight", new[] { 128, 256 }, -0.849238395690918, -0.1277167946100235)]
    [InlineData("onet_epoch_20.pt", 21, "conv6_3.bias", new[] { 10 }, 0.24813909828662872, 0.23034431040287018)]
    public void Reads_the_reference_projects_checkpoints(string file, int count, string name, int[] shape, double first, double second)
    {
        var t = Read(File.ReadAllBytes(ReferenceProjectData.WeightFile(file)), file);

        Assert.Equal(count, t.Count);
        Assert.Equal("pre_layer.0.weight", t[0].Name);
        var x = t.Single(v => v.Name == name);
        Assert.Equal(shape, x.Shape);
        Assert.Equal((float)first, x.Data[0]);
        Assert.Equal((float)second, x.Data[1]);
        Assert.All(t.Where(v => v.Name.Contains("prelu", StringComparison.Ordinal) || v.Name is "pre_layer.1.weight" or "pre_layer.4.weight"),
            v => Assert.Equal([1], v.Shape));
    }
}
