using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Mtcnn.Evaluation.Matlab;

/// <summary>
/// Reads MATLAB Level 5 MAT-files (the format of MATLAB 5 to 7.2, "-v7" and older; also what
/// <c>scipy.io.savemat</c> writes): numeric, logical, character, cell and structure arrays, plain or zlib-compressed
/// (miCOMPRESSED), little- or big-endian, with the small data element format. Sparse arrays, objects and MAT v7.3
/// (HDF5) files are rejected with a clear message. Every problem is an <see cref="EvaluationDataException"/> that
/// names the file. Thread-safe (no shared state).
/// </summary>
/// <remarks>Layout as documented in MathWorks' "MAT-File Format" (Level 5): a 128-byte header, then data elements,
/// each an 8-byte tag (type, byte count) or a 4-byte small tag, padded to 8 bytes.</remarks>
public static class MatFile
{
    private const int HeaderSize = 128;
    private const int MaxDepth = 64;

    private const int MiInt8 = 1;
    private const int MiUInt8 = 2;
    private const int MiInt16 = 3;
    private const int MiUInt16 = 4;
    private const int MiInt32 = 5;
    private const int MiUInt32 = 6;
    private const int MiSingle = 7;
    private const int MiDouble = 9;
    private const int MiInt64 = 12;
    private const int MiUInt64 = 13;
    private const int MiMatrix = 14;
    private const int MiCompressed = 15;
    private const int MiUtf8 = 16;
    private const int MiUtf16 = 17;
    private const int MiUtf32 = 18;

    /// <summary>Reads every variable of a MAT file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The variables by name, in file order.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="EvaluationDataException">The file is missing, unreadable, not MAT v5, truncated or corrupt.</exception>
    public static IReadOnlyDictionary<string, MatArray> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new EvaluationDataException(path, $"cannot be read: {e.Message}", e);
        }

        return Parse(bytes, path);
    }

    /// <summary>Reads every variable of a MAT file held in memory.</summary>
    /// <param name="bytes">The file content.</param>
    /// <param name="nameForErrors">A name for error messages; null for none.</param>
    /// <returns>The variables by name, in file order.</returns>
    /// <exception cref="EvaluationDataException">The content is not MAT v5, truncated or corrupt.</exception>
    public static IReadOnlyDictionary<string, MatArray> Parse(ReadOnlySpan<byte> bytes, string? nameForErrors = null)
    {
        if (bytes.Length < HeaderSize)
        {
            throw new EvaluationDataException(nameForErrors, $"not a MAT file: {bytes.Length} bytes, shorter than the 128-byte MAT v5 header.");
        }

        if (bytes.StartsWith("MATLAB 7.3"u8))
        {
            throw new EvaluationDataException(nameForErrors, "a MAT v7.3 (HDF5) file, which is not supported; save it with -v7 (or read it with scipy and re-save).");
        }

        bool bigEndian;
        if (bytes[126] == (byte)'I' && bytes[127] == (byte)'M')
        {
            bigEndian = false;
        }
        else if (bytes[126] == (byte)'M' && bytes[127] == (byte)'I')
        {
            bigEndian = true;
        }
        else
        {
            throw new EvaluationDataException(nameForErrors, "not a MAT v5 file: the endian indicator at bytes 126-127 is neither 'IM' nor 'MI'.");
        }

        var reader = new Reader(nameForErrors, bigEndian);
        var result = new Dictionary<string, MatArray>(StringComparer.Ordinal);
        foreach (var array in reader.ReadTopLevel(bytes[HeaderSize..].ToArray()))
        {
            result[array.Name] = array;
        }

        return result;
    }

    private readonly struct Element(int type, int offset, int length)
    {
        public int Type { get; } = type;

        public int Offset { get; } = offset;

        public int Length { get; } = length;
    }

    private sealed class Reader(string? file, bool bigEndian)
    {
        public List<MatArray> ReadTopLevel(byte[] data)
        {
            var arrays = new List<MatArray>();
            int pos = 0;
            while (pos < data.Length)
            {
                if (data.Length - pos < 8 && data.AsSpan(pos).IndexOfAnyExcept((byte)0) < 0)
                {
                    break; // trailing padding
                }

                var e = ReadElement(data, ref pos, data.Length, topLevel: true);
                if (e.Type == MiCompressed)
                {
                    byte[] inflated = Inflate(data, e);
                    int p = 0;
                    while (p < inflated.Length)
                    {
                        var inner = ReadElement(inflated, ref p, inflated.Length, topLevel: false);
                        if (inner.Type == MiMatrix)
                        {
                            arrays.Add(ReadMatrix(inflated, inner, 0));
                        }
                    }
                }
                else if (e.Type == MiMatrix)
                {
                    arrays.Add(ReadMatrix(data, e, 0));
                }
            }

            return arrays;
        }

        private byte[] Inflate(byte[] data, Element e)
        {
            try
            {
                using var input = new MemoryStream(data, e.Offset, e.Length, writable: false);
                using var z = new ZLibStream(input, CompressionMode.Decompress);
                using var output = new MemoryStream();
                z.CopyTo(output);
                return output.ToArray();
            }
            catch (InvalidDataException ex)
            {
                throw Error($"the compressed element at offset {HeaderSize + e.Offset - 8} is corrupt or truncated ({ex.Message}).", ex);
            }
        }

        private Element ReadElement(byte[] data, ref int pos, int end, bool topLevel)
        {
            if (end - pos < 4)
            {
                throw Error($"truncated: a data element tag at offset {pos} needs at least 4 bytes, {end - pos} remain.");
            }

            uint first = U32(data, pos);
            if ((first >> 16) != 0)
            {
                // Small data element: 2-byte count and 2-byte type packed in one word, data in the next 4 bytes.
                int n = (int)(first >> 16);
                int type = (int)(first & 0xFFFF);
                if (n > 4 || end - pos < 8)
                {
                    throw Error($"truncated or corrupt small data element at offset {pos} (type {type}, {n} bytes).");
                }

                var small = new Element(type, pos + 4, n);
                pos += 8;
                return small;
            }

            if (end - pos < 8)
            {
                throw Error($"truncated: a data element tag at offset {pos} needs 8 bytes, {end - pos} remain.");
            }

            int t = (int)first;
            uint count = U32(data, pos + 4);
            long available = end - pos - 8;
            if (count > available)
            {
                throw Error($"truncated: the element at offset {pos} (type {t}) declares {count} bytes but only {available} remain.");
            }

            var element = new Element(t, pos + 8, (int)count);

            // Elements are padded to 8 bytes, except compressed ones at the top level, which are stored back to back.
            long next = pos + 8L + count;
            if (!(topLevel && t == MiCompressed))
            {
                next = Math.Min(end, (next + 7) & ~7L);
            }

            pos = (int)next;
            return element;
        }

        private MatArray ReadMatrix(byte[] data, Element matrix, int depth)
        {
            if (depth > MaxDepth)
            {
                throw Error($"arrays are nested more than {MaxDepth} levels deep.");
            }

            if (matrix.Type != MiMatrix)
            {
                throw Error($"expected an array element (miMATRIX) at offset {matrix.Offset - 8}, found type {matrix.Type}.");
            }

            if (matrix.Length == 0)
            {
                // An empty element stands for an empty array (MATLAB writes it for [] inside cells).
                return new MatNumericArray(string.Empty, MatClass.Double, [0, 0], [], null, false);
            }

            int pos = matrix.Offset;
            int end = matrix.Offset + matrix.Length;
            var flags = ReadElement(data, ref pos, end, false);
            if (flags.Type != MiUInt32 || flags.Length < 8)
            {
                throw Error($"the array at offset {matrix.Offset - 8} has no valid array-flags subelement.");
            }

            uint flagWord = U32(data, flags.Offset);
            var cls = (MatClass)(flagWord & 0xFF);
            bool complex = (flagWord & 0x800) != 0;
            bool logical = (flagWord & 0x200) != 0;

            var dimsElement = ReadElement(data, ref pos, end, false);
            if (dimsElement.Type != MiInt32 || dimsElement.Length < 8 || dimsElement.Length % 4 != 0)
            {
                throw Error($"the array at offset {matrix.Offset - 8} has no valid dimensions subelement.");
            }

            int[] dims = new int[dimsElement.Length / 4];
            long count = 1;
            for (int i = 0; i < dims.Length; i++)
            {
                dims[i] = (int)U32(data, dimsElement.Offset + (4 * i));
                if (dims[i] < 0)
                {
                    throw Error($"the array at offset {matrix.Offset - 8} has a negative dimension ({dims[i]}).");
                }

                count *= dims[i];
            }

            if (count > int.MaxValue)
            {
                throw Error($"the array at offset {matrix.Offset - 8} has {count} elements, too many.");
            }

            var nameElement = ReadElement(data, ref pos, end, false);
            string name = Encoding.ASCII.GetString(data, nameElement.Offset, nameElement.Length).TrimEnd('\0');
            int n = (int)count;

            switch (cls)
            {
                case MatClass.Cell:
                {
                    var cells = new MatArray[n];
                    for (int i = 0; i < n; i++)
                    {
                        cells[i] = ReadMatrix(data, ReadElement(data, ref pos, end, false), depth + 1);
                    }

                    return new MatCellArray(name, dims, cells);
                }

                case MatClass.Struct:
                {
                    var lengthElement = ReadElement(data, ref pos, end, false);
                    int fieldLength = lengthElement.Length >= 4 ? (int)U32(data, lengthElement.Offset) : 0;
                    var namesElement = ReadElement(data, ref pos, end, false);
                    if (fieldLength <= 0 || namesElement.Length % fieldLength != 0)
                    {
                        throw Error($"the structure '{name}' has an invalid field-name length ({fieldLength}).");
                    }

                    int fieldCount = namesElement.Length / fieldLength;
                    var fields = new string[fieldCount];
                    for (int f = 0; f < fieldCount; f++)
                    {
                        fields[f] = Encoding.ASCII.GetString(data, namesElement.Offset + (f * fieldLength), fieldLength).TrimEnd('\0');
                    }

                    var values = new MatArray[n * fieldCount];
                    for (int i = 0; i < values.Length; i++)
                    {
                        values[i] = ReadMatrix(data, ReadElement(data, ref pos, end, false), depth + 1);
                    }

                    return new MatStructArray(name, dims, fields, values);
                }

                case MatClass.Char:
                {
                    var text = ReadElement(data, ref pos, end, false);
                    char[] chars = DecodeChars(data, text, n, name);
                    return new MatCharArray(name, dims, chars);
                }

                case >= MatClass.Double and <= MatClass.UInt64:
                {
                    double[] re = ReadNumbers(data, ReadElement(data, ref pos, end, false), n, name);
                    double[]? im = complex ? ReadNumbers(data, ReadElement(data, ref pos, end, false), n, name) : null;
                    return new MatNumericArray(name, cls, dims, re, im, logical);
                }

                case MatClass.Sparse:
                    throw Error($"the variable '{name}' is a sparse matrix, which is not supported.");
                default:
                    throw Error($"the variable '{name}' has MATLAB class {(int)cls} ({cls}), which is not supported (objects and function handles cannot be read).");
            }
        }

        private char[] DecodeChars(byte[] data, Element e, int n, string name)
        {
            string text = e.Type switch
            {
                MiUInt16 or MiUtf16 => bigEndian ? Encoding.BigEndianUnicode.GetString(data, e.Offset, e.Length) : Encoding.Unicode.GetString(data, e.Offset, e.Length),
                MiUInt8 or MiInt8 or MiUtf8 => Encoding.UTF8.GetString(data, e.Offset, e.Length),
                MiUtf32 => (bigEndian ? new UTF32Encoding(true, false) : new UTF32Encoding(false, false)).GetString(data, e.Offset, e.Length),
                _ => throw Error($"the character array '{name}' is stored with data type {e.Type}, which is not a character type."),
            };
            if (text.Length != n)
            {
                throw Error($"the character array '{name}' should hold {n} characters but holds {text.Length}.");
            }

            return text.ToCharArray();
        }

        private double[] ReadNumbers(byte[] data, Element e, int n, string name)
        {
            int size = e.Type switch
            {
                MiInt8 or MiUInt8 => 1,
                MiInt16 or MiUInt16 => 2,
                MiInt32 or MiUInt32 or MiSingle => 4,
                MiDouble or MiInt64 or MiUInt64 => 8,
                _ => throw Error($"the numeric array '{name}' is stored with data type {e.Type}, which is not numeric."),
            };
            if ((long)n * size != e.Length)
            {
                throw Error($"the numeric array '{name}' should hold {n} values of {size} bytes but its data has {e.Length} bytes.");
            }

            var values = new double[n];
            var span = data.AsSpan(e.Offset, e.Length);
            for (int i = 0; i < n; i++)
            {
                var s = span.Slice(i * size, size);
                values[i] = e.Type switch
                {
                    MiInt8 => (sbyte)s[0],
                    MiUInt8 => s[0],
                    MiInt16 => bigEndian ? BinaryPrimitives.ReadInt16BigEndian(s) : BinaryPrimitives.ReadInt16LittleEndian(s),
                    MiUInt16 => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s),
                    MiInt32 => bigEndian ? BinaryPrimitives.ReadInt32BigEndian(s) : BinaryPrimitives.ReadInt32LittleEndian(s),
                    MiUInt32 => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s),
                    MiSingle => bigEndian ? BinaryPrimitives.ReadSingleBigEndian(s) : BinaryPrimitives.ReadSingleLittleEndian(s),
                    MiDouble => bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(s) : BinaryPrimitives.ReadDoubleLittleEndian(s),
                    MiInt64 => bigEndian ? BinaryPrimitives.ReadInt64BigEndian(s) : BinaryPrimitives.ReadInt64LittleEndian(s),
                    _ => bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s),
                };
            }

            return values;
        }

        private uint U32(byte[] data, int offset) =>
            bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(offset, 4)) : BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset, 4));

        private EvaluationDataException Error(string problem, Exception? inner = null) =>
            new(file, string.Create(CultureInfo.InvariantCulture, $"MAT file {problem}"), inner);
    }
}
