using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Mtcnn.TestSupport;

/// <summary>
/// Writes PyTorch zip checkpoints of a state_dict the way <c>torch.save</c> does (pickle protocol 2, storages under
/// <c>archive/data/&lt;key&gt;</c>), for tests of the checkpoint reader. Written from the format's description
/// (CPython's pickletools opcode list and PyTorch's serialization layout), not from any PyTorch code.
/// </summary>
internal sealed class TorchCheckpointWriter
{
    private readonly List<Entry> entries = [];
    private readonly List<(string Key, float[] Values)> storages = [];

    /// <summary>Storage type written for every storage (a float32 checkpoint has torch.FloatStorage).</summary>
    public string StorageType { get; init; } = "FloatStorage";

    /// <summary>Device tag of the storages (the reference weights say cuda:0).</summary>
    public string Location { get; init; } = "cuda:0";

    /// <summary>Folder of the archive (torch.save writes <c>archive</c>).</summary>
    public string Folder { get; init; } = "archive";

    /// <summary>Adds a new storage and returns its key.</summary>
    public string Storage(float[] values)
    {
        string key = storages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        storages.Add((key, values));
        return key;
    }

    /// <summary>Adds a contiguous tensor with its own storage.</summary>
    public TorchCheckpointWriter Tensor(string name, int[] shape, float[] values)
    {
        var stride = new int[shape.Length];
        int s = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            stride[d] = s;
            s *= shape[d];
        }

        return View(name, Storage(values), 0, shape, stride);
    }

    /// <summary>Adds a tensor viewing <paramref name="storageKey"/> with an offset and strides.</summary>
    public TorchCheckpointWriter View(string name, string storageKey, int offset, int[] shape, int[] stride)
    {
        entries.Add(new Entry(name, storageKey, offset, shape, stride));
        return this;
    }

    /// <summary>The pickle alone.</summary>
    public byte[] Pickle()
    {
        var p = new PickleBuilder();
        p.Op(0x80).Byte(2);
        p.Global("collections", "OrderedDict").Op(')').Op('R');
        p.Op('(');
        foreach (var e in entries)
        {
            p.Unicode(e.Name);
            p.Global("torch._utils", "_rebuild_tensor_v2");
            p.Op('(');
            p.Op('(').Unicode("storage").Global("torch", StorageType).Unicode(e.Key).Unicode(Location)
                .Int(storages.First(s => s.Key == e.Key).Values.Length).Op('t');
            p.Op('Q');
            p.Int(e.Offset);
            p.Tuple(e.Shape);
            p.Tuple(e.Stride);
            p.Op(0x89);
            p.Global("collections", "OrderedDict").Op(')').Op('R');
            p.Op('t');
            p.Op('R');
        }

        p.Op('u');

        // The state_dict's _metadata attribute, set with BUILD as torch.save does.
        p.Op('}').Unicode("_metadata").Global("collections", "OrderedDict").Op(')').Op('R');
        p.Op('(').Unicode(string.Empty).Op('}').Unicode("version").Int(1).Op('s').Op('u');
        p.Op('s').Op('b');
        p.Op('.');
        return p.ToArray();
    }

    /// <summary>The whole checkpoint (stored, not compressed, as torch.save does).</summary>
    public byte[] ToBytes() => Zip(Pickle());

    /// <summary>A checkpoint holding <paramref name="pickle"/> and this writer's storages.</summary>
    public byte[] Zip(byte[] pickle)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, $"{Folder}/data.pkl", pickle);
            foreach (var (key, values) in storages)
            {
                var bytes = new byte[values.Length * 4];
                for (int i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
                }

                Add(zip, $"{Folder}/data/{key}", bytes);
            }

            Add(zip, $"{Folder}/version", "3\n"u8.ToArray());
        }

        return ms.ToArray();
    }

    /// <summary>A checkpoint holding the given tensors, each contiguous with its own storage.</summary>
    public static byte[] FromTensors(IEnumerable<(string Name, int[] Shape, float[] Values)> tensors)
    {
        var w = new TorchCheckpointWriter();
        foreach (var (name, shape, values) in tensors)
        {
            w.Tensor(name, shape, values);
        }

        return w.ToBytes();
    }

    private static void Add(ZipArchive zip, string name, byte[] bytes)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        using var s = entry.Open();
        s.Write(bytes);
    }

    private sealed record Entry(string Name, string Key, int Offset, int[] Shape, int[] Stride);

    /// <summary>Emits pickle opcodes; memoises every string and global with BINPUT as CPython's pickler does.</summary>
    internal sealed class PickleBuilder
    {
        private readonly List<byte> ms = [];
        private int memo;

        public PickleBuilder Op(char op) => Op((byte)op);

        public PickleBuilder Op(byte op)
        {
            ms.Add(op);
            return this;
        }

        public PickleBuilder Byte(byte b) => Op(b);

        public PickleBuilder Unicode(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            Op('X');
            Span<byte> len = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(len, bytes.Length);
            ms.AddRange(len);
            ms.AddRange(bytes);
            return Put();
        }

        public PickleBuilder Global(string module, string name)
        {
            Op('c');
            ms.AddRange(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
            return Put();
        }

        public PickleBuilder Int(int v)
        {
            if (v is >= 0 and < 256)
            {
                return Op('K').Byte((byte)v);
            }

            if (v is >= 0 and < 65536)
            {
                Op('M');
                ms.Add((byte)v);
                ms.Add((byte)(v >> 8));
                return this;
            }

            Op('J');
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(b, v);
            ms.AddRange(b);
            return this;
        }

        public PickleBuilder Tuple(int[] values)
        {
            switch (values.Length)
            {
                case 0:
                    return Op(')');
                case 1:
                    return Int(values[0]).Op(0x85);
                default:
                    Op('(');
                    foreach (int v in values)
                    {
                        Int(v);
                    }

                    return Op('t');
            }
        }

        public byte[] ToArray() => [.. ms];

        private PickleBuilder Put()
        {
            if (memo < 256)
            {
                Op('q').Byte((byte)memo);
            }
            else
            {
                Op('r');
                Span<byte> b = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(b, memo);
                ms.AddRange(b);
            }

            memo++;
            return this;
        }
    }
}
