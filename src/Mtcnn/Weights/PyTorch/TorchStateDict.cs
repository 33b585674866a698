using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace Mtcnn.Weights.PyTorch;

/// <summary>
/// Reads a PyTorch checkpoint in the zip format of <c>torch.save</c> (PyTorch 1.6 and later) that holds a plain
/// <c>state_dict</c> of float32 tensors, without PyTorch. Pure parsing of a stream; nothing in the file is executed.
/// </summary>
/// <remarks>
/// <para>The archive has one top-level folder (<c>archive/</c> for files written by current PyTorch) with
/// <c>data.pkl</c>, the pickled state_dict, and <c>data/&lt;key&gt;</c>, one raw storage per key. In the pickle each
/// tensor is <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])</c>
/// whose storage is a persistent id <c>('storage', torch.FloatStorage, key, location, element count)</c>. The location
/// (e.g. <c>cuda:0</c>) does not matter here: storages are read as little-endian float32 on the CPU.</para>
/// <para>Tensors are returned contiguous (row-major) whatever their storage offset and strides, in the order of the
/// state_dict. Several tensors may share one storage.</para>
/// </remarks>
internal static class TorchStateDict
{
    /// <summary>Largest archive entry read into memory (storages and the pickle).</summary>
    private const long MaxEntryBytes = 1L << 30;

    /// <summary>Reads the tensors of a state_dict checkpoint.</summary>
    /// <param name="stream">The <c>.pt</c> file, seekable (e.g. a <see cref="MemoryStream"/> or a file stream); not disposed.</param>
    /// <param name="what">Name of the input for messages (e.g. the file name).</param>
    /// <returns>The tensors in state_dict order, named by their state_dict keys.</returns>
    /// <exception cref="MtcnnFormatException">The stream is not a zip checkpoint of a plain float32 state_dict.</exception>
    public static IReadOnlyList<WeightTensor> Read(Stream stream, string what)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new MtcnnFormatException($"{what} is not a zip archive, so not a PyTorch checkpoint in the format of torch.save since PyTorch 1.6 "
                + "(files saved with _use_new_zipfile_serialization=False are not supported): " + e.Message, e);
        }

        using (zip)
        {
            try
            {
                return ReadArchive(zip, what);
            }
            catch (InvalidDataException e)
            {
                throw new MtcnnFormatException($"{what}: a zip entry cannot be read: {e.Message}", e);
            }
        }
    }

    private static List<WeightTensor> ReadArchive(ZipArchive zip, string what)
    {
        var pickles = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.IndexOf('/', StringComparison.Ordinal) == e.FullName.Length - 9).ToList();
        if (pickles.Count != 1)
        {
            throw new MtcnnFormatException($"{what}: expected exactly one '<folder>/data.pkl' in the zip archive (a torch.save checkpoint); found {pickles.Count}.");
        }

        string prefix = pickles[0].FullName[..^"data.pkl".Length];
        var byteOrder = zip.GetEntry(prefix + "byteorder");
        if (byteOrder is not null)
        {
            string order = System.Text.Encoding.ASCII.GetString(ReadEntry(byteOrder, what)).Trim();
            if (order != "little")
            {
                throw new MtcnnFormatException($"{what}: the storages are '{order}'-endian; only 'little' is supported.");
            }
        }

        string pickleName = $"{what}:{pickles[0].FullName}";
        object? root = PickleReader.Read(ReadEntry(pickles[0], what), pickleName);
        if (root is not PickleDict dict)
        {
            throw new MtcnnFormatException($"{pickleName}: the checkpoint holds {Describe(root)}, not a state_dict (an OrderedDict of tensors).");
        }

        var storages = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var tensors = new List<WeightTensor>(dict.Count);
        for (int i = 0; i < dict.Count; i++)
        {
            if (dict.Keys[i] is not string name)
            {
                throw new MtcnnFormatException($"{pickleName}: state_dict key {i} is {Describe(dict.Keys[i])}, not a string.");
            }

            tensors.Add(ReadTensor(zip, prefix, name, dict.Values[i], storages, what));
        }

        return tensors;
    }

    private static WeightTensor ReadTensor(ZipArchive zip, string prefix, string name, object? value, Dictionary<string, float[]> storages, string what)
    {
        string where = $"{what}: tensor '{name}'";

        // A state_dict of parameters may wrap tensors in _rebuild_parameter(tensor, requires_grad, hooks).
        if (value is PickleCall { Callable: PickleGlobal { Module: "torch._utils", Name: "_rebuild_parameter" or "_rebuild_parameter_with_state" } } p
            && p.Arguments.Length >= 1)
        {
            value = p.Arguments[0];
        }

        if (value is not PickleCall { Callable: PickleGlobal { Module: "torch._utils", Name: "_rebuild_tensor_v2" } } call)
        {
            throw new MtcnnFormatException($"{where} is {Describe(value)}, not a tensor (the file must hold a plain state_dict of tensors).");
        }

        var args = call.Arguments;
        if (args.Length < 4 || args[0] is not PicklePersistent { Id: object?[] pid } || args[1] is not long offset
            || args[2] is not object?[] sizeTuple || args[3] is not object?[] strideTuple)
        {
            throw new MtcnnFormatException($"{where}: _rebuild_tensor_v2 expects (storage, offset, size, stride, ...); found {args.Length} arguments of another form.");
        }

        if (pid.Length < 5 || pid[0] is not "storage" || pid[1] is not PickleGlobal storageType || pid[2] is not string key || pid[4] is not long numel)
        {
            throw new MtcnnFormatException($"{where}: the storage reference is not ('storage', type, key, location, size).");
        }

        if (storageType is not { Module: "torch", Name: "FloatStorage" })
        {
            throw new MtcnnFormatException($"{where} has storage type {storageType}; only float32 (torch.FloatStorage) is supported.");
        }

        long[] size = Integers(sizeTuple, where, "size");
        long[] stride = Integers(strideTuple, where, "stride");
        if (size.Length != stride.Length)
        {
            throw new MtcnnFormatException($"{where} has {size.Length} sizes but {stride.Length} strides.");
        }

        if (!storages.TryGetValue(key, out var storage))
        {
            var entry = zip.GetEntry($"{prefix}data/{key}")
                ?? throw new MtcnnFormatException($"{where}: the archive lacks its storage '{prefix}data/{key}'.");
            byte[] bytes = ReadEntry(entry, what);
            if (bytes.Length != numel * 4)
            {
                throw new MtcnnFormatException($"{where}: storage '{prefix}data/{key}' has {bytes.Length} bytes; the pickle declares {numel} float32 values ({numel * 4} bytes).");
            }

            storage = new float[numel];
            for (int i = 0; i < storage.Length; i++)
            {
                storage[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
            }

            storages[key] = storage;
        }

        // Check that every element of the strided view lies inside the storage, then copy it out row-major.
        long count = 1, last = offset;
        for (int d = 0; d < size.Length; d++)
        {
            if (size[d] < 0 || size[d] > int.MaxValue || stride[d] < 0)
            {
                throw new MtcnnFormatException($"{where} has an invalid size {size[d]} or stride {stride[d]} in dimension {d}.");
            }

            count = size[d] == 0 ? 0 : Math.Min(count * size[d], (long)int.MaxValue + 1);
            last += size[d] == 0 ? 0 : (size[d] - 1) * stride[d];
        }

        if (offset < 0 || (count > 0 && last >= storage.Length) || count > int.MaxValue)
        {
            throw new MtcnnFormatException(string.Create(CultureInfo.InvariantCulture,
                $"{where} (offset {offset}, size [{string.Join(", ", size)}], stride [{string.Join(", ", stride)}]) reaches past its storage of {storage.Length} values."));
        }

        var data = new float[count];
        var shape = size.Select(s => (int)s).ToArray();
        if (count > 0)
        {
            var idx = new int[shape.Length];
            for (long i = 0; i < count; i++)
            {
                long src = offset;
                for (int d = 0; d < shape.Length; d++)
                {
                    src += idx[d] * stride[d];
                }

                data[i] = storage[src];
                for (int d = shape.Length - 1; d >= 0; d--)
                {
                    if (++idx[d] < shape[d])
                    {
                        break;
                    }

                    idx[d] = 0;
                }
            }
        }

        return new WeightTensor(name, shape, data);
    }

    private static long[] Integers(object?[] tuple, string where, string what) =>
        tuple.Select(v => v is long l ? l : throw new MtcnnFormatException($"{where}: its {what} holds {Describe(v)}, not an integer.")).ToArray();

    private static byte[] ReadEntry(ZipArchiveEntry entry, string what)
    {
        if (entry.Length > MaxEntryBytes)
        {
            throw new MtcnnFormatException($"{what}: zip entry '{entry.FullName}' has {entry.Length} bytes; at most {MaxEntryBytes} are read.");
        }

        using var s = entry.Open();
        using var ms = new MemoryStream((int)entry.Length);
        s.CopyTo(ms);
        return ms.ToArray();
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"the string '{s}'",
        long l => string.Create(CultureInfo.InvariantCulture, $"the integer {l}"),
        PickleCall c => $"an object made by {c.Callable}",
        PickleDict => "a dict",
        object?[] => "a tuple",
        List<object?> => "a list",
        _ => $"a {value.GetType().Name}",
    };
}
