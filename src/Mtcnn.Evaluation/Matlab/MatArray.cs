using System.Globalization;

namespace Mtcnn.Evaluation.Matlab;

/// <summary>The MATLAB class of an array, with the numeric codes the MAT v5 format uses.</summary>
#pragma warning disable CA1720 // The members are MATLAB's own class names (mxDOUBLE_CLASS, mxINT8_CLASS, ...).
public enum MatClass
{
    /// <summary>Cell array.</summary>
    Cell = 1,

    /// <summary>Structure array.</summary>
    Struct = 2,

    /// <summary>Object (not supported by the reader).</summary>
    Object = 3,

    /// <summary>Character array.</summary>
    Char = 4,

    /// <summary>Sparse matrix (not supported by the reader).</summary>
    Sparse = 5,

    /// <summary>Double precision.</summary>
    Double = 6,

    /// <summary>Single precision.</summary>
    Single = 7,

    /// <summary>Signed 8-bit integers.</summary>
    Int8 = 8,

    /// <summary>Unsigned 8-bit integers (also logical arrays).</summary>
    UInt8 = 9,

    /// <summary>Signed 16-bit integers.</summary>
    Int16 = 10,

    /// <summary>Unsigned 16-bit integers.</summary>
    UInt16 = 11,

    /// <summary>Signed 32-bit integers.</summary>
    Int32 = 12,

    /// <summary>Unsigned 32-bit integers.</summary>
    UInt32 = 13,

    /// <summary>Signed 64-bit integers.</summary>
    Int64 = 14,

    /// <summary>Unsigned 64-bit integers.</summary>
    UInt64 = 15,
}
#pragma warning restore CA1720

/// <summary>
/// One MATLAB array read from a MAT file: its name (empty inside cells and structs), class and dimensions. Elements
/// are stored in MATLAB's column-major order. Immutable.
/// </summary>
public abstract class MatArray
{
    private protected MatArray(string name, MatClass matClass, int[] dimensions)
    {
        Name = name;
        Class = matClass;
        Dimensions = dimensions;
        long count = 1;
        foreach (int d in dimensions)
        {
            count *= d;
        }

        Count = (int)count;
    }

    /// <summary>The variable name (empty for cell and field elements).</summary>
    public string Name { get; }

    /// <summary>The MATLAB class.</summary>
    public MatClass Class { get; }

    /// <summary>The size in each dimension (at least two).</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>Number of rows (first dimension).</summary>
    public int Rows => Dimensions[0];

    /// <summary>Number of columns (second dimension).</summary>
    public int Columns => Dimensions[1];

    /// <summary>Number of elements (product of the dimensions).</summary>
    public int Count { get; }

    /// <summary>A short description, e.g. <c>face_bbx_list: 61x1 Cell</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{(Name.Length > 0 ? Name + ": " : string.Empty)}{string.Join("x", Dimensions)} {Class}");
}

/// <summary>A numeric or logical array; every class is widened to <see cref="double"/> (64-bit integers beyond 2^53 lose precision).</summary>
public sealed class MatNumericArray : MatArray
{
    private readonly double[] real;
    private readonly double[]? imaginary;

    internal MatNumericArray(string name, MatClass matClass, int[] dimensions, double[] real, double[]? imaginary, bool isLogical)
        : base(name, matClass, dimensions)
    {
        this.real = real;
        this.imaginary = imaginary;
        IsLogical = isLogical;
    }

    /// <summary>The real parts in column-major order.</summary>
    public IReadOnlyList<double> Real => real;

    /// <summary>The imaginary parts in column-major order, or null for a real array.</summary>
    public IReadOnlyList<double>? Imaginary => imaginary;

    /// <summary>True when MATLAB marked the array as logical.</summary>
    public bool IsLogical { get; }

    /// <summary>The real part of element (<paramref name="row"/>, <paramref name="column"/>) of a 2-D array.</summary>
    /// <param name="row">Zero-based row.</param>
    /// <param name="column">Zero-based column.</param>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public double this[int row, int column]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(row);
            ArgumentOutOfRangeException.ThrowIfNegative(column);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, Count / Math.Max(1, Rows));
            return real[(column * Rows) + row];
        }
    }
}

/// <summary>A character array. MATLAB stores characters column by column; <see cref="GetRow"/> reads one row as text.</summary>
public sealed class MatCharArray : MatArray
{
    private readonly char[] chars;

    internal MatCharArray(string name, int[] dimensions, char[] chars)
        : base(name, MatClass.Char, dimensions)
    {
        this.chars = chars;
    }

    /// <summary>The text of a single-row array, or all rows joined with line feeds.</summary>
    public string Text => Rows <= 1 ? new string(chars) : string.Join('\n', Enumerable.Range(0, Rows).Select(GetRow));

    /// <summary>One row of the array as a string.</summary>
    /// <param name="row">Zero-based row.</param>
    /// <returns>The row's characters.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The row is out of range.</exception>
    public string GetRow(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Math.Max(Rows, 1));
        int columns = Rows == 0 ? 0 : Count / Rows;
        var text = new char[columns];
        for (int c = 0; c < columns; c++)
        {
            text[c] = chars[(c * Rows) + row];
        }

        return new string(text);
    }
}

/// <summary>A cell array: each element is itself an array.</summary>
public sealed class MatCellArray : MatArray
{
    private readonly MatArray[] cells;

    internal MatCellArray(string name, int[] dimensions, MatArray[] cells)
        : base(name, MatClass.Cell, dimensions)
    {
        this.cells = cells;
    }

    /// <summary>The cells in column-major order.</summary>
    public IReadOnlyList<MatArray> Cells => cells;

    /// <summary>The cell at a column-major linear index.</summary>
    /// <param name="index">Zero-based linear index.</param>
    public MatArray this[int index] => cells[index];
}

/// <summary>A structure array: every element has the same named fields, each holding an array.</summary>
public sealed class MatStructArray : MatArray
{
    private readonly string[] fieldNames;
    private readonly MatArray[] values;

    internal MatStructArray(string name, int[] dimensions, string[] fieldNames, MatArray[] values)
        : base(name, MatClass.Struct, dimensions)
    {
        this.fieldNames = fieldNames;
        this.values = values;
    }

    /// <summary>The field names in file order.</summary>
    public IReadOnlyList<string> FieldNames => fieldNames;

    /// <summary>The value of a field of one element.</summary>
    /// <param name="index">Zero-based column-major element index.</param>
    /// <param name="field">The field name (case-sensitive).</param>
    /// <returns>The field's array.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The index is out of range.</exception>
    /// <exception cref="KeyNotFoundException">There is no such field.</exception>
    public MatArray Get(int index, string field)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        int f = Array.IndexOf(fieldNames, field);
        if (f < 0)
        {
            throw new KeyNotFoundException($"The structure has no field '{field}'; its fields are {string.Join(", ", fieldNames)}.");
        }

        return values[(index * fieldNames.Length) + f];
    }
}
