using System.Buffers.Binary;
using System.Text;

namespace Mtcnn.Weights.Tflite;

/// <summary>A table inside a FlatBuffer: where it starts, where its vtable is, and both sizes (all in bytes).</summary>
/// <param name="Position">Absolute offset of the table's first byte (its signed vtable offset).</param>
/// <param name="VTable">Absolute offset of the vtable.</param>
/// <param name="VTableSize">Size of the vtable in bytes, including its two 16-bit size fields.</param>
/// <param name="TableSize">Size of the table's inline data in bytes, including the vtable offset.</param>
/// <param name="Path">Where the table sits in the schema (used in error messages), e.g. <c>Model.subgraphs[0]</c>.</param>
internal readonly record struct FlatBufferTable(int Position, int VTable, int VTableSize, int TableSize, string Path);

/// <summary>A vector inside a FlatBuffer.</summary>
/// <param name="Start">Absolute offset of the first element.</param>
/// <param name="Count">Number of elements (0 when the field is absent).</param>
/// <param name="ElementSize">Bytes per element (4 for offsets to tables or strings).</param>
/// <param name="Path">Where the vector sits in the schema (used in error messages).</param>
internal readonly record struct FlatBufferVector(int Start, int Count, int ElementSize, string Path);

/// <summary>
/// Reads the FlatBuffers wire format (https://flatbuffers.dev/internals/) without generated code. Every read is
/// bounds-checked against the buffer, so a truncated or corrupt file throws <see cref="MtcnnFormatException"/> naming the
/// schema path that failed, never an <see cref="IndexOutOfRangeException"/>.
/// </summary>
/// <remarks>
/// Wire format in brief: the file starts with a 32-bit offset to the root table. A table starts with a signed 32-bit
/// offset back to its vtable (<c>vtable = table - soffset</c>); the vtable holds its own size, the table's inline size,
/// then one 16-bit offset per field (0 = field absent, use the default). Offsets to strings, vectors and sub-tables are
/// unsigned 32-bit values relative to where they are stored. Vectors and strings start with a 32-bit element count.
/// All numbers are little-endian.
/// </remarks>
internal readonly ref struct FlatBufferReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _data;
    private readonly string _what;

    /// <summary>Creates a reader over <paramref name="data"/>.</summary>
    /// <param name="data">The whole FlatBuffer.</param>
    /// <param name="what">What the buffer is (e.g. <c>pnet.tflite</c>), for error messages.</param>
    public FlatBufferReader(ReadOnlySpan<byte> data, string what)
    {
        _data = data;
        _what = what;
    }

    /// <summary>Length of the buffer in bytes.</summary>
    public int Length => _data.Length;

    /// <summary>The four-byte file identifier stored after the root offset, or null when the buffer is too short.</summary>
    public string? FileIdentifier =>
        _data.Length >= 8 ? Encoding.ASCII.GetString(_data.Slice(4, 4)) : null;

    /// <summary>The root table.</summary>
    public FlatBufferTable Root(string path)
    {
        if (_data.Length < 8)
        {
            throw Error(path, $"needs at least 8 bytes for the root offset and file identifier; the buffer has {_data.Length}");
        }

        return TableAt(Indirect(0, path), path);
    }

    /// <summary>The table stored at absolute offset <paramref name="position"/>; validates its vtable.</summary>
    public FlatBufferTable TableAt(int position, string path)
    {
        Need(position, 4, path, "table");
        long vtable = (long)position - BinaryPrimitives.ReadInt32LittleEndian(_data[position..]);
        if (vtable < 0 || vtable > _data.Length - 4)
        {
            throw Error(path, $"the table at byte {position} points to a vtable at byte {vtable}, outside the {_data.Length}-byte buffer");
        }

        int vt = (int)vtable;
        int vtSize = BinaryPrimitives.ReadUInt16LittleEndian(_data[vt..]);
        int tableSize = BinaryPrimitives.ReadUInt16LittleEndian(_data[(vt + 2)..]);
        if (vtSize < 4 || vtSize % 2 != 0 || vt + vtSize > _data.Length)
        {
            throw Error(path, $"the vtable at byte {vt} has an invalid size {vtSize}");
        }

        if (tableSize < 4 || (long)position + tableSize > _data.Length)
        {
            throw Error(path, $"the table at byte {position} claims {tableSize} bytes of inline data, which do not fit the {_data.Length}-byte buffer");
        }

        return new FlatBufferTable(position, vt, vtSize, tableSize, path);
    }

    /// <summary>An unsigned 32-bit scalar field, or <paramref name="defaultValue"/> when absent.</summary>
    public uint UInt32(FlatBufferTable table, int field, string name, uint defaultValue = 0)
    {
        int p = FieldPosition(table, field, 4, name);
        return p < 0 ? defaultValue : BinaryPrimitives.ReadUInt32LittleEndian(_data[p..]);
    }

    /// <summary>A signed 32-bit scalar field, or <paramref name="defaultValue"/> when absent.</summary>
    public int Int32(FlatBufferTable table, int field, string name, int defaultValue = 0)
    {
        int p = FieldPosition(table, field, 4, name);
        return p < 0 ? defaultValue : BinaryPrimitives.ReadInt32LittleEndian(_data[p..]);
    }

    /// <summary>An unsigned 64-bit scalar field, or <paramref name="defaultValue"/> when absent.</summary>
    public ulong UInt64(FlatBufferTable table, int field, string name, ulong defaultValue = 0)
    {
        int p = FieldPosition(table, field, 8, name);
        return p < 0 ? defaultValue : BinaryPrimitives.ReadUInt64LittleEndian(_data[p..]);
    }

    /// <summary>A signed 8-bit scalar field (FlatBuffers <c>byte</c>), or <paramref name="defaultValue"/> when absent.</summary>
    public sbyte Int8(FlatBufferTable table, int field, string name, sbyte defaultValue = 0)
    {
        int p = FieldPosition(table, field, 1, name);
        return p < 0 ? defaultValue : unchecked((sbyte)_data[p]);
    }

    /// <summary>A sub-table field, or null when absent.</summary>
    public FlatBufferTable? Table(FlatBufferTable table, int field, string name)
    {
        int p = FieldPosition(table, field, 4, name);
        string path = table.Path + "." + name;
        return p < 0 ? null : TableAt(Indirect(p, path), path);
    }

    /// <summary>A string field, or null when absent. Invalid UTF-8 is an error.</summary>
    public string? String(FlatBufferTable table, int field, string name)
    {
        int p = FieldPosition(table, field, 4, name);
        if (p < 0)
        {
            return null;
        }

        string path = table.Path + "." + name;
        var v = VectorAt(Indirect(p, path), 1, path);
        try
        {
            return StrictUtf8.GetString(_data.Slice(v.Start, v.Count));
        }
        catch (DecoderFallbackException e)
        {
            throw new MtcnnFormatException($"{_what}: {path} is not valid UTF-8.", e);
        }
    }

    /// <summary>A vector field with elements of <paramref name="elementSize"/> bytes; an absent field gives an empty vector.</summary>
    public FlatBufferVector Vector(FlatBufferTable table, int field, string name, int elementSize)
    {
        int p = FieldPosition(table, field, 4, name);
        string path = table.Path + "." + name;
        return p < 0 ? new FlatBufferVector(0, 0, elementSize, path) : VectorAt(Indirect(p, path), elementSize, path);
    }

    /// <summary>Element <paramref name="index"/> of a vector of tables.</summary>
    public FlatBufferTable TableElement(FlatBufferVector vector, int index)
    {
        string path = $"{vector.Path}[{index}]";
        return TableAt(Indirect(ElementPosition(vector, index, 4), path), path);
    }

    /// <summary>Element <paramref name="index"/> of a vector of 32-bit signed integers.</summary>
    public int Int32Element(FlatBufferVector vector, int index) =>
        BinaryPrimitives.ReadInt32LittleEndian(_data[ElementPosition(vector, index, 4)..]);

    /// <summary>All elements of a vector of 32-bit signed integers.</summary>
    public int[] Int32Elements(FlatBufferVector vector)
    {
        var result = new int[vector.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = Int32Element(vector, i);
        }

        return result;
    }

    /// <summary>The bytes of a vector of bytes.</summary>
    public ReadOnlySpan<byte> Bytes(FlatBufferVector vector)
    {
        if (vector.ElementSize != 1)
        {
            throw new InvalidOperationException("Bytes() needs a vector of 1-byte elements.");
        }

        return _data.Slice(vector.Start, vector.Count);
    }

    /// <summary>A checked slice of the whole buffer (e.g. for data stored outside the FlatBuffer proper).</summary>
    public ReadOnlySpan<byte> Slice(ulong offset, ulong length, string path)
    {
        if (offset > (ulong)_data.Length || length > (ulong)_data.Length - offset)
        {
            throw Error(path, $"bytes {offset}..{offset + length} lie outside the {_data.Length}-byte buffer");
        }

        return _data.Slice((int)offset, (int)length);
    }

    private int ElementPosition(FlatBufferVector vector, int index, int size)
    {
        if (vector.ElementSize != size)
        {
            throw new InvalidOperationException($"{vector.Path} has {vector.ElementSize}-byte elements, not {size}.");
        }

        if ((uint)index >= (uint)vector.Count)
        {
            throw Error(vector.Path, $"element {index} requested but the vector has {vector.Count}");
        }

        // VectorAt checked that all Count elements lie inside the buffer.
        return vector.Start + (index * size);
    }

    private FlatBufferVector VectorAt(int position, int elementSize, string path)
    {
        Need(position, 4, path, "vector length");
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(_data[position..]);
        long start = (long)position + 4;
        if ((long)count * elementSize > _data.Length - start)
        {
            throw Error(path, $"a vector of {count} elements of {elementSize} bytes at byte {position} runs past the end of the {_data.Length}-byte buffer");
        }

        return new FlatBufferVector((int)start, (int)count, elementSize, path);
    }

    private int FieldPosition(FlatBufferTable table, int field, int size, string name)
    {
        int slot = 4 + (2 * field);
        if (slot + 2 > table.VTableSize)
        {
            return -1; // The vtable is shorter: the field was written by an older schema or left at its default.
        }

        int offset = BinaryPrimitives.ReadUInt16LittleEndian(_data[(table.VTable + slot)..]);
        if (offset == 0)
        {
            return -1;
        }

        if (offset < 4 || offset + size > table.TableSize)
        {
            throw Error(table.Path + "." + name, $"the field's offset {offset} (+{size} bytes) lies outside its table of {table.TableSize} bytes");
        }

        return table.Position + offset;
    }

    private int Indirect(int position, string path)
    {
        Need(position, 4, path, "offset");
        long target = (long)position + BinaryPrimitives.ReadUInt32LittleEndian(_data[position..]);
        if (target > _data.Length - 4)
        {
            throw Error(path, $"the offset at byte {position} points to byte {target}, outside the {_data.Length}-byte buffer");
        }

        return (int)target;
    }

    private void Need(int position, int size, string path, string what)
    {
        if (position < 0 || (long)position + size > _data.Length)
        {
            throw Error(path, $"the {what} at byte {position} (+{size} bytes) lies outside the {_data.Length}-byte buffer");
        }
    }

    private MtcnnFormatException Error(string path, string detail) =>
        new($"{_what} is not a valid FlatBuffer (truncated or corrupt?): {path}: {detail}.");
}
