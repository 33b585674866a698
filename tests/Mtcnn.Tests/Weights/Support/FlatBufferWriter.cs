using System.Buffers.Binary;
using System.Text;

namespace Mtcnn.Tests.Weights.Support;

/// <summary>A field value of a <see cref="FbTable"/> for <see cref="FlatBufferWriter"/>.</summary>
internal abstract record FbValue;

/// <summary>An inline scalar, given as its little-endian bytes.</summary>
internal sealed record FbScalar(byte[] Bytes) : FbValue
{
    public static FbScalar U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return new FbScalar(b);
    }

    public static FbScalar I32(int v) => U32(unchecked((uint)v));

    public static FbScalar I8(sbyte v) => new([unchecked((byte)v)]);

    public static FbScalar U64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return new FbScalar(b);
    }
}

internal sealed record FbString(string Value) : FbValue;

internal sealed record FbBytes(byte[] Value) : FbValue;

internal sealed record FbInts(int[] Values) : FbValue;

internal sealed record FbTableRef(FbTable Table) : FbValue;

internal sealed record FbTables(IReadOnlyList<FbTable> Tables) : FbValue;

/// <summary>A table to serialise: field index → value.</summary>
internal sealed class FbTable
{
    public SortedDictionary<int, FbValue> Fields { get; } = [];

    public FbTable Set(int field, FbValue value)
    {
        Fields[field] = value;
        return this;
    }
}

/// <summary>
/// A minimal FlatBuffer serialiser for tests, written independently of the reader under test. Unlike the official
/// builders it writes front to back (vtable, table, then the objects the table points to), which the format allows:
/// offsets to children only have to point forwards, vtable offsets may point either way.
/// </summary>
internal sealed class FlatBufferWriter
{
    private readonly List<byte> _buf = [];

    /// <summary>Serialises <paramref name="root"/> with a four-character file identifier.</summary>
    public static byte[] Finish(FbTable root, string identifier)
    {
        var w = new FlatBufferWriter();
        w._buf.AddRange(new byte[4]);
        w._buf.AddRange(Encoding.ASCII.GetBytes(identifier));
        int rootPos = w.WriteTable(root);
        w.PatchU32(0, (uint)rootPos);
        return [.. w._buf];
    }

    private int WriteTable(FbTable table)
    {
        int maxField = table.Fields.Count == 0 ? -1 : table.Fields.Keys.Max();
        Align(4);
        int vt = _buf.Count;
        int vtSize = 4 + (2 * (maxField + 1));
        _buf.AddRange(new byte[vtSize]);
        Align(4);
        int tablePos = _buf.Count;
        AddI32(tablePos - vt);
        var refs = new List<(int Pos, FbValue Value)>();
        foreach (var (field, value) in table.Fields)
        {
            int fieldPos = _buf.Count;
            if (value is FbScalar s)
            {
                _buf.AddRange(s.Bytes);
            }
            else
            {
                refs.Add((fieldPos, value));
                AddI32(0);
            }

            PatchU16(vt + 4 + (2 * field), (ushort)(fieldPos - tablePos));
        }

        PatchU16(vt, (ushort)vtSize);
        PatchU16(vt + 2, (ushort)(_buf.Count - tablePos));
        foreach (var (pos, value) in refs)
        {
            int child = WriteChild(value);
            PatchU32(pos, (uint)(child - pos));
        }

        return tablePos;
    }

    private int WriteChild(FbValue value)
    {
        switch (value)
        {
            case FbString s:
            {
                var bytes = Encoding.UTF8.GetBytes(s.Value);
                int pos = StartVector(bytes.Length, 4);
                _buf.AddRange(bytes);
                _buf.Add(0);
                return pos;
            }

            case FbBytes b:
            {
                int pos = StartVector(b.Value.Length, 16);
                _buf.AddRange(b.Value);
                return pos;
            }

            case FbInts ints:
            {
                int pos = StartVector(ints.Values.Length, 4);
                foreach (int v in ints.Values)
                {
                    AddI32(v);
                }

                return pos;
            }

            case FbTableRef t:
                return WriteTable(t.Table);

            case FbTables tables:
            {
                int pos = StartVector(tables.Tables.Count, 4);
                int first = _buf.Count;
                _buf.AddRange(new byte[4 * tables.Tables.Count]);
                for (int i = 0; i < tables.Tables.Count; i++)
                {
                    int child = WriteTable(tables.Tables[i]);
                    PatchU32(first + (4 * i), (uint)(child - (first + (4 * i))));
                }

                return pos;
            }

            default:
                throw new ArgumentException($"Unknown value {value}.", nameof(value));
        }
    }

    /// <summary>Writes a vector's count so that its elements start on an <paramref name="elementAlign"/> boundary.</summary>
    private int StartVector(int count, int elementAlign)
    {
        while ((_buf.Count + 4) % elementAlign != 0)
        {
            _buf.Add(0);
        }

        int pos = _buf.Count;
        AddI32(count);
        return pos;
    }

    private void Align(int n)
    {
        while (_buf.Count % n != 0)
        {
            _buf.Add(0);
        }
    }

    private void AddI32(int v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, v);
        _buf.AddRange(b.ToArray());
    }

    private void PatchU32(int pos, uint v)
    {
        for (int i = 0; i < 4; i++)
        {
            _buf[pos + i] = (byte)(v >> (8 * i));
        }
    }

    private void PatchU16(int pos, ushort v)
    {
        _buf[pos] = (byte)v;
        _buf[pos + 1] = (byte)(v >> 8);
    }
}
