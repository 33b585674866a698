using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Mtcnn.Weights.PyTorch;

/// <summary>A <c>module.name</c> reference made by the GLOBAL / STACK_GLOBAL opcodes (never resolved or called).</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>The result of REDUCE on a callable other than <c>collections.OrderedDict</c>: recorded, not executed.</summary>
internal sealed class PickleCall(object? callable, object?[] arguments)
{
    public object? Callable { get; } = callable;

    public object?[] Arguments { get; } = arguments;

    /// <summary>The state given by a later BUILD, if any.</summary>
    public object? State { get; set; }
}

/// <summary>The value made by BINPERSID: the persistent id (for PyTorch, a storage reference tuple).</summary>
internal sealed record PicklePersistent(object? Id);

/// <summary>A pickled dict or <c>collections.OrderedDict</c>, in insertion order.</summary>
internal sealed class PickleDict
{
    private readonly List<object?> keys = [];
    private readonly Dictionary<object, int> index = [];

    public List<object?> Values { get; } = [];

    public IReadOnlyList<object?> Keys => keys;

    public int Count => keys.Count;

    /// <summary>The state given by a later BUILD (PyTorch stores the state_dict's <c>_metadata</c> there).</summary>
    public object? State { get; set; }

    public void Set(object? key, object? value)
    {
        if (key is not null && index.TryGetValue(key, out int i))
        {
            Values[i] = value;
            return;
        }

        if (key is not null)
        {
            index[key] = keys.Count;
        }

        keys.Add(key);
        Values.Add(value);
    }
}

/// <summary>
/// A small, safe reader of Python pickles (protocols 0–5 in their binary forms) sufficient for PyTorch checkpoints.
/// It builds a tree of plain values instead of executing anything: GLOBAL yields a <see cref="PickleGlobal"/>, REDUCE a
/// <see cref="PickleCall"/> (except <c>collections.OrderedDict()</c>, which yields an empty <see cref="PickleDict"/>),
/// BINPERSID a <see cref="PicklePersistent"/>. Values: <c>null</c> (None), <see cref="bool"/>, <see cref="long"/>,
/// <see cref="double"/>, <see cref="string"/>, <c>byte[]</c>, tuples as <c>object?[]</c>, lists as
/// <c>List&lt;object?&gt;</c>, dicts as <see cref="PickleDict"/>.
/// </summary>
/// <remarks>
/// Opcodes as defined by CPython's <c>Lib/pickletools.py</c>. Every length and index is checked against the input,
/// so a truncated or corrupt pickle gives <see cref="MtcnnFormatException"/> naming the opcode and its byte offset.
/// </remarks>
internal static class PickleReader
{
    private static readonly object Mark = new();

    /// <summary>Reads one pickle (up to its STOP opcode) and returns the value it builds.</summary>
    /// <param name="data">The pickle bytes.</param>
    /// <param name="what">Name of the input for messages (e.g. <c>pnet.pt:archive/data.pkl</c>).</param>
    /// <exception cref="MtcnnFormatException">The bytes are not a pickle this reader understands.</exception>
    public static object? Read(ReadOnlySpan<byte> data, string what)
    {
        var stack = new List<object?>();
        var memo = new Dictionary<long, object?>();
        int pos = 0;
        while (true)
        {
            if (pos >= data.Length)
            {
                throw Error(what, pos, "the pickle ends without a STOP opcode (truncated?)");
            }

            int at = pos;
            byte op = data[pos++];
            switch (op)
            {
                case 0x80: // PROTO n
                    Need(data, pos, 1, what, at);
                    if (data[pos] > 5)
                    {
                        throw Error(what, at, $"unsupported pickle protocol {data[pos]} (expected 2 to 5)");
                    }

                    pos++;
                    break;
                case 0x95: // FRAME n (protocol 4): a length prefix only
                    Need(data, pos, 8, what, at);
                    pos += 8;
                    break;
                case (byte)'.': // STOP
                    if (stack.Count != 1 || ReferenceEquals(stack[0], Mark))
                    {
                        throw Error(what, at, $"STOP with {stack.Count} values on the stack (expected exactly one)");
                    }

                    return stack[0];
                case (byte)'(': // MARK
                    stack.Add(Mark);
                    break;
                case (byte)'}': // EMPTY_DICT
                    stack.Add(new PickleDict());
                    break;
                case (byte)']': // EMPTY_LIST
                    stack.Add(new List<object?>());
                    break;
                case (byte)')': // EMPTY_TUPLE
                    stack.Add(Array.Empty<object?>());
                    break;
                case (byte)'N': // NONE
                    stack.Add(null);
                    break;
                case 0x88: // NEWTRUE
                    stack.Add(true);
                    break;
                case 0x89: // NEWFALSE
                    stack.Add(false);
                    break;
                case (byte)'K': // BININT1
                    Need(data, pos, 1, what, at);
                    stack.Add((long)data[pos]);
                    pos += 1;
                    break;
                case (byte)'M': // BININT2
                    Need(data, pos, 2, what, at);
                    stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(data[pos..]));
                    pos += 2;
                    break;
                case (byte)'J': // BININT
                    Need(data, pos, 4, what, at);
                    stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(data[pos..]));
                    pos += 4;
                    break;
                case 0x8a: // LONG1 n: little-endian two's complement of n bytes
                {
                    Need(data, pos, 1, what, at);
                    int n = data[pos++];
                    Need(data, pos, n, what, at);
                    stack.Add(LittleEndianLong(data.Slice(pos, n), what, at));
                    pos += n;
                    break;
                }

                case (byte)'G': // BINFLOAT: big-endian double
                    Need(data, pos, 8, what, at);
                    stack.Add(BinaryPrimitives.ReadDoubleBigEndian(data[pos..]));
                    pos += 8;
                    break;
                case (byte)'X': // BINUNICODE: 4-byte length, UTF-8
                {
                    int n = Length32(data, ref pos, what, at);
                    stack.Add(Utf8(data.Slice(pos, n), what, at));
                    pos += n;
                    break;
                }

                case 0x8c: // SHORT_BINUNICODE: 1-byte length
                {
                    Need(data, pos, 1, what, at);
                    int n = data[pos++];
                    Need(data, pos, n, what, at);
                    stack.Add(Utf8(data.Slice(pos, n), what, at));
                    pos += n;
                    break;
                }

                case (byte)'T': // BINSTRING (Python 2 str): 4-byte length
                {
                    int n = Length32(data, ref pos, what, at);
                    stack.Add(Encoding.Latin1.GetString(data.Slice(pos, n)));
                    pos += n;
                    break;
                }

                case (byte)'U': // SHORT_BINSTRING: 1-byte length
                {
                    Need(data, pos, 1, what, at);
                    int n = data[pos++];
                    Need(data, pos, n, what, at);
                    stack.Add(Encoding.Latin1.GetString(data.Slice(pos, n)));
                    pos += n;
                    break;
                }

                case (byte)'B': // BINBYTES: 4-byte length
                {
                    int n = Length32(data, ref pos, what, at);
                    stack.Add(data.Slice(pos, n).ToArray());
                    pos += n;
                    break;
                }

                case (byte)'C': // SHORT_BINBYTES: 1-byte length
                {
                    Need(data, pos, 1, what, at);
                    int n = data[pos++];
                    Need(data, pos, n, what, at);
                    stack.Add(data.Slice(pos, n).ToArray());
                    pos += n;
                    break;
                }

                case (byte)'q': // BINPUT: 1-byte memo index
                    Need(data, pos, 1, what, at);
                    memo[data[pos++]] = Top(stack, what, at, "BINPUT");
                    break;
                case (byte)'r': // LONG_BINPUT: 4-byte memo index
                    Need(data, pos, 4, what, at);
                    memo[BinaryPrimitives.ReadUInt32LittleEndian(data[pos..])] = Top(stack, what, at, "LONG_BINPUT");
                    pos += 4;
                    break;
                case 0x94: // MEMOIZE (protocol 4): next free memo index
                    memo[memo.Count] = Top(stack, what, at, "MEMOIZE");
                    break;
                case (byte)'h': // BINGET
                    Need(data, pos, 1, what, at);
                    stack.Add(MemoGet(memo, data[pos++], what, at));
                    break;
                case (byte)'j': // LONG_BINGET
                    Need(data, pos, 4, what, at);
                    stack.Add(MemoGet(memo, BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]), what, at));
                    pos += 4;
                    break;
                case (byte)'c': // GLOBAL "module\nname\n"
                {
                    string module = Line(data, ref pos, what, at);
                    string name = Line(data, ref pos, what, at);
                    stack.Add(new PickleGlobal(module, name));
                    break;
                }

                case 0x93: // STACK_GLOBAL (protocol 4)
                {
                    object? name = Pop(stack, what, at, "STACK_GLOBAL");
                    object? module = Pop(stack, what, at, "STACK_GLOBAL");
                    if (module is not string m || name is not string n)
                    {
                        throw Error(what, at, "STACK_GLOBAL needs two strings");
                    }

                    stack.Add(new PickleGlobal(m, n));
                    break;
                }

                case (byte)'t': // TUPLE: everything since the last MARK
                    stack.Add(PopToMark(stack, what, at, "TUPLE").ToArray());
                    break;
                case 0x85: // TUPLE1
                case 0x86: // TUPLE2
                case 0x87: // TUPLE3
                {
                    int n = op - 0x84;
                    if (stack.Count < n)
                    {
                        throw Error(what, at, $"TUPLE{n} needs {n} values on the stack; found {stack.Count}");
                    }

                    var items = stack.GetRange(stack.Count - n, n);
                    if (items.Any(i => ReferenceEquals(i, Mark)))
                    {
                        throw Error(what, at, $"TUPLE{n} reached a MARK");
                    }

                    stack.RemoveRange(stack.Count - n, n);
                    stack.Add(items.ToArray());
                    break;
                }

                case (byte)'l': // LIST: everything since the last MARK
                    stack.Add(PopToMark(stack, what, at, "LIST"));
                    break;
                case (byte)'d': // DICT: key/value pairs since the last MARK
                {
                    var items = PopToMark(stack, what, at, "DICT");
                    var dict = new PickleDict();
                    SetItems(dict, items, what, at);
                    stack.Add(dict);
                    break;
                }

                case (byte)'a': // APPEND
                {
                    object? value = Pop(stack, what, at, "APPEND");
                    if (Top(stack, what, at, "APPEND") is not List<object?> list)
                    {
                        throw Error(what, at, "APPEND to something that is not a list");
                    }

                    list.Add(value);
                    break;
                }

                case (byte)'e': // APPENDS
                {
                    var items = PopToMark(stack, what, at, "APPENDS");
                    if (Top(stack, what, at, "APPENDS") is not List<object?> list)
                    {
                        throw Error(what, at, "APPENDS to something that is not a list");
                    }

                    list.AddRange(items);
                    break;
                }

                case (byte)'s': // SETITEM
                {
                    object? value = Pop(stack, what, at, "SETITEM");
                    object? key = Pop(stack, what, at, "SETITEM");
                    if (Top(stack, what, at, "SETITEM") is not PickleDict dict)
                    {
                        throw Error(what, at, "SETITEM on something that is not a dict");
                    }

                    dict.Set(key, value);
                    break;
                }

                case (byte)'u': // SETITEMS
                {
                    var items = PopToMark(stack, what, at, "SETITEMS");
                    if (Top(stack, what, at, "SETITEMS") is not PickleDict dict)
                    {
                        throw Error(what, at, "SETITEMS on something that is not a dict");
                    }

                    SetItems(dict, items, what, at);
                    break;
                }

                case (byte)'R': // REDUCE: callable(*args), recorded
                {
                    object? args = Pop(stack, what, at, "REDUCE");
                    object? callable = Pop(stack, what, at, "REDUCE");
                    if (args is not object?[] tuple)
                    {
                        throw Error(what, at, "REDUCE needs an argument tuple");
                    }

                    bool orderedDict = callable is PickleGlobal { Module: "collections", Name: "OrderedDict" };
                    if (orderedDict && tuple.Length == 0)
                    {
                        stack.Add(new PickleDict());
                    }
                    else
                    {
                        stack.Add(new PickleCall(callable, tuple));
                    }

                    break;
                }

                case (byte)'b': // BUILD: set the state of the object below
                {
                    object? state = Pop(stack, what, at, "BUILD");
                    switch (Top(stack, what, at, "BUILD"))
                    {
                        case PickleDict d:
                            d.State = state;
                            break;
                        case PickleCall c:
                            c.State = state;
                            break;
                        default:
                            throw Error(what, at, "BUILD on something that is neither a dict nor a reduced object");
                    }

                    break;
                }

                case (byte)'Q': // BINPERSID
                    stack.Add(new PicklePersistent(Pop(stack, what, at, "BINPERSID")));
                    break;
                case (byte)'0': // POP
                    Pop(stack, what, at, "POP");
                    break;
                case (byte)'1': // POP_MARK
                    PopToMark(stack, what, at, "POP_MARK");
                    break;
                case (byte)'2': // DUP
                    stack.Add(Top(stack, what, at, "DUP"));
                    break;
                default:
                    throw Error(what, at, string.Create(CultureInfo.InvariantCulture, $"unsupported pickle opcode 0x{op:x2}"));
            }
        }
    }

    private static MtcnnFormatException Error(string what, int offset, string message) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{what}: {message} (at byte {offset})."));

    private static void Need(ReadOnlySpan<byte> data, int pos, int count, string what, int at)
    {
        if (count < 0 || pos > data.Length - count)
        {
            throw Error(what, at, $"opcode 0x{data[at]:x2} needs {count} more bytes; the pickle has {data.Length - pos} left (truncated?)");
        }
    }

    private static int Length32(ReadOnlySpan<byte> data, ref int pos, string what, int at)
    {
        Need(data, pos, 4, what, at);
        uint n = BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]);
        pos += 4;
        if (n > (uint)(data.Length - pos))
        {
            throw Error(what, at, $"a length of {n} bytes runs past the end of the pickle ({data.Length - pos} left)");
        }

        return (int)n;
    }

    private static string Utf8(ReadOnlySpan<byte> bytes, string what, int at)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new MtcnnFormatException(string.Create(CultureInfo.InvariantCulture, $"{what}: a string is not valid UTF-8 (at byte {at})."), e);
        }
    }

    private static string Line(ReadOnlySpan<byte> data, ref int pos, string what, int at)
    {
        int end = data[pos..].IndexOf((byte)'\n');
        if (end < 0)
        {
            throw Error(what, at, "GLOBAL is not followed by two newline-terminated names");
        }

        string s = Encoding.ASCII.GetString(data.Slice(pos, end));
        pos += end + 1;
        return s;
    }

    private static long LittleEndianLong(ReadOnlySpan<byte> bytes, string what, int at)
    {
        if (bytes.Length > 8)
        {
            throw Error(what, at, $"an integer of {bytes.Length} bytes is too large");
        }

        if (bytes.Length == 0)
        {
            return 0;
        }

        long v = 0;
        for (int i = bytes.Length - 1; i >= 0; i--)
        {
            v = (v << 8) | bytes[i];
        }

        // Sign-extend from the top byte.
        int shift = 64 - (8 * bytes.Length);
        return (v << shift) >> shift;
    }

    private static object? MemoGet(Dictionary<long, object?> memo, long key, string what, int at) =>
        memo.TryGetValue(key, out var v) ? v : throw Error(what, at, $"memo entry {key} is read before it is written");

    private static object? Top(List<object?> stack, string what, int at, string op)
    {
        if (stack.Count == 0 || ReferenceEquals(stack[^1], Mark))
        {
            throw Error(what, at, $"{op} needs a value on the stack");
        }

        return stack[^1];
    }

    private static object? Pop(List<object?> stack, string what, int at, string op)
    {
        object? v = Top(stack, what, at, op);
        stack.RemoveAt(stack.Count - 1);
        return v;
    }

    private static List<object?> PopToMark(List<object?> stack, string what, int at, string op)
    {
        int m = stack.FindLastIndex(v => ReferenceEquals(v, Mark));
        if (m < 0)
        {
            throw Error(what, at, $"{op} without a MARK");
        }

        var items = stack.GetRange(m + 1, stack.Count - m - 1);
        stack.RemoveRange(m, stack.Count - m);
        return items;
    }

    private static void SetItems(PickleDict dict, List<object?> items, string what, int at)
    {
        if (items.Count % 2 != 0)
        {
            throw Error(what, at, $"an odd number ({items.Count}) of keys and values");
        }

        for (int i = 0; i < items.Count; i += 2)
        {
            dict.Set(items[i], items[i + 1]);
        }
    }
}
