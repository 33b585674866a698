using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Mtcnn.Evaluation.Tests;

/// <summary>A minimal MAT v5 writer for tests: builds files the reader must understand (and broken ones it must reject).</summary>
internal static class MatWriter
{
    internal abstract record Value;

    /// <summary>A numeric array; <paramref name="Storage"/> is the MAT data type used on disk (9 = double, 2 = uint8, 5 = int32, ...).</summary>
    internal sealed record Numeric(int Rows, int Cols, double[] ColumnMajor, int Class = 6, int Storage = 9, bool Logical = false, double[]? Imaginary = null) : Value;

    internal sealed record Chars(string Text) : Value;

    internal sealed record Cell(int Rows, int Cols, Value[] Items) : Value;

    internal sealed record Struct(string[] Fields, Value[] Values) : Value;

    internal sealed record Sparse : Value;

    internal static Numeric Column(params double[] values) => new(values.Length, 1, values);

    internal static Cell ColumnCell(params Value[] items) => new(items.Length, 1, items);

    internal static Numeric Boxes(params (double X, double Y, double W, double H)[] rows)
    {
        var cm = new double[rows.Length * 4];
        for (int r = 0; r < rows.Length; r++)
        {
            cm[r] = rows[r].X;
            cm[rows.Length + r] = rows[r].Y;
            cm[2 * rows.Length + r] = rows[r].W;
            cm[3 * rows.Length + r] = rows[r].H;
        }

        return new Numeric(rows.Length, rows.Length == 0 ? 0 : 4, cm);
    }

    internal static byte[] Write(IEnumerable<(string Name, Value Value)> variables, bool compress = true, bool bigEndian = false)
    {
        var w = new W(bigEndian);
        var header = new byte[128];
        Array.Fill(header, (byte)' ');
        Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, written by the Mtcnn.NET tests").CopyTo(header, 0);
        Array.Clear(header, 116, 8);
        header[126] = bigEndian ? (byte)'M' : (byte)'I';
        header[127] = bigEndian ? (byte)'I' : (byte)'M';
        if (bigEndian)
        {
            header[124] = 0x01;
            header[125] = 0x00;
        }
        else
        {
            header[124] = 0x00;
            header[125] = 0x01;
        }

        var output = new MemoryStream();
        output.Write(header);
        foreach (var (name, value) in variables)
        {
            byte[] matrix = w.Matrix(name, value);
            if (compress)
            {
                var z = new MemoryStream();
                using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true))
                {
                    zs.Write(matrix);
                }

                output.Write(w.Tag(15, (int)z.Length));
                output.Write(z.ToArray());
            }
            else
            {
                output.Write(matrix);
            }
        }

        return output.ToArray();
    }

    private sealed class W(bool bigEndian)
    {
        public byte[] Tag(int type, int count)
        {
            var b = new byte[8];
            U32(b, 0, (uint)type);
            U32(b, 4, (uint)count);
            return b;
        }

        public byte[] Matrix(string name, Value value)
        {
            var body = new MemoryStream();
            int cls;
            int flags = 0;
            int[] dims;
            switch (value)
            {
                case Numeric n:
                    cls = n.Class;
                    flags = (n.Logical ? 0x200 : 0) | (n.Imaginary is null ? 0 : 0x800);
                    dims = [n.Rows, n.Cols];
                    break;
                case Chars c:
                    cls = 4;
                    dims = [1, c.Text.Length];
                    break;
                case Cell c:
                    cls = 1;
                    dims = [c.Rows, c.Cols];
                    break;
                case Struct:
                    cls = 2;
                    dims = [1, 1];
                    break;
                default:
                    cls = 5;
                    dims = [1, 1];
                    break;
            }

            var flagBytes = new byte[8];
            U32(flagBytes, 0, (uint)(cls | flags));
            body.Write(Element(6, flagBytes));
            var dimBytes = new byte[4 * dims.Length];
            for (int i = 0; i < dims.Length; i++)
            {
                U32(dimBytes, 4 * i, (uint)dims[i]);
            }

            body.Write(Element(5, dimBytes));
            body.Write(Element(1, Encoding.ASCII.GetBytes(name)));
            switch (value)
            {
                case Numeric n:
                    body.Write(Element(n.Storage, Encode(n.ColumnMajor, n.Storage)));
                    if (n.Imaginary is not null)
                    {
                        body.Write(Element(n.Storage, Encode(n.Imaginary, n.Storage)));
                    }

                    break;
                case Chars c:
                    var chars = new byte[c.Text.Length * 2];
                    for (int i = 0; i < c.Text.Length; i++)
                    {
                        if (bigEndian)
                        {
                            BinaryPrimitives.WriteUInt16BigEndian(chars.AsSpan(2 * i), c.Text[i]);
                        }
                        else
                        {
                            BinaryPrimitives.WriteUInt16LittleEndian(chars.AsSpan(2 * i), c.Text[i]);
                        }
                    }

                    body.Write(Element(4, chars));
                    break;
                case Cell c:
                    foreach (var item in c.Items)
                    {
                        body.Write(Matrix(string.Empty, item));
                    }

                    break;
                case Struct s:
                    int len = s.Fields.Max(f => f.Length) + 1;
                    var lenBytes = new byte[4];
                    U32(lenBytes, 0, (uint)len);
                    body.Write(Element(5, lenBytes));
                    var names = new byte[len * s.Fields.Length];
                    for (int f = 0; f < s.Fields.Length; f++)
                    {
                        Encoding.ASCII.GetBytes(s.Fields[f]).CopyTo(names, f * len);
                    }

                    body.Write(Element(1, names));
                    foreach (var v in s.Values)
                    {
                        body.Write(Matrix(string.Empty, v));
                    }

                    break;
            }

            var result = new MemoryStream();
            result.Write(Tag(14, (int)body.Length));
            result.Write(body.ToArray());
            return result.ToArray();
        }

        private byte[] Element(int type, byte[] data)
        {
            if (data.Length <= 4 && data.Length > 0)
            {
                // Small data element format.
                var small = new byte[8];
                U32(small, 0, (uint)((data.Length << 16) | type));
                data.CopyTo(small, 4);
                return small;
            }

            int padded = (data.Length + 7) / 8 * 8;
            var b = new byte[8 + padded];
            Tag(type, data.Length).CopyTo(b, 0);
            data.CopyTo(b, 8);
            return b;
        }

        private byte[] Encode(double[] values, int storage)
        {
            int size = storage switch { 1 or 2 => 1, 3 or 4 => 2, 5 or 6 or 7 => 4, _ => 8 };
            var b = new byte[values.Length * size];
            for (int i = 0; i < values.Length; i++)
            {
                var s = b.AsSpan(i * size, size);
                switch (storage)
                {
                    case 1: s[0] = (byte)(sbyte)values[i]; break;
                    case 2: s[0] = (byte)values[i]; break;
                    case 3: if (bigEndian) { BinaryPrimitives.WriteInt16BigEndian(s, (short)values[i]); } else { BinaryPrimitives.WriteInt16LittleEndian(s, (short)values[i]); } break;
                    case 4: if (bigEndian) { BinaryPrimitives.WriteUInt16BigEndian(s, (ushort)values[i]); } else { BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)values[i]); } break;
                    case 5: if (bigEndian) { BinaryPrimitives.WriteInt32BigEndian(s, (int)values[i]); } else { BinaryPrimitives.WriteInt32LittleEndian(s, (int)values[i]); } break;
                    case 6: if (bigEndian) { BinaryPrimitives.WriteUInt32BigEndian(s, (uint)values[i]); } else { BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)values[i]); } break;
                    case 7: if (bigEndian) { BinaryPrimitives.WriteSingleBigEndian(s, (float)values[i]); } else { BinaryPrimitives.WriteSingleLittleEndian(s, (float)values[i]); } break;
                    case 12: if (bigEndian) { BinaryPrimitives.WriteInt64BigEndian(s, (long)values[i]); } else { BinaryPrimitives.WriteInt64LittleEndian(s, (long)values[i]); } break;
                    default: if (bigEndian) { BinaryPrimitives.WriteDoubleBigEndian(s, values[i]); } else { BinaryPrimitives.WriteDoubleLittleEndian(s, values[i]); } break;
                }
            }

            return b;
        }

        private void U32(byte[] b, int offset, uint v)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(offset), v);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(offset), v);
            }
        }
    }
}
