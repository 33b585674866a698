namespace Mtcnn.Training.Data.Tests;

/// <summary>The sample file: round trip, atomic writes and clear errors for damaged files.</summary>
public sealed class SampleStoreTests : IDisposable
{
    private readonly TrainingFixtures.Folder folder = new();

    public void Dispose() => folder.Dispose();

    private static SampleSet RandomSet(int size, int count, int seed, int chunkBytes = SampleSet.DefaultChunkBytes)
    {
        var random = new Random(seed);
        var builder = new SampleSetBuilder(size, chunkBytes);
        builder.Metadata["net"] = "test";
        builder.Metadata["note"] = "äöü \"quoted\"";
        var rgb = new byte[size * size * 3];
        var box = new float[4];
        var lm = new float[10];
        SampleKind[] kinds = [SampleKind.Negative, SampleKind.Positive, SampleKind.Part, SampleKind.Landmark];
        for (int i = 0; i < count; i++)
        {
            random.NextBytes(rgb);
            var kind = kinds[random.Next(4)];
            for (int k = 0; k < 4; k++)
            {
                box[k] = kind == SampleKind.Negative ? 0f : (float)(random.NextDouble() - 0.5);
            }

            for (int k = 0; k < 10; k++)
            {
                lm[k] = kind == SampleKind.Landmark ? (float)random.NextDouble() : 0f;
            }

            builder.Add(rgb, kind, box, lm, random.Next(1000));
        }

        return builder.Build();
    }

    private static void AssertSame(SampleSet expected, SampleSet actual)
    {
        Assert.Equal(expected.Size, actual.Size);
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Metadata.OrderBy(p => p.Key), actual.Metadata.OrderBy(p => p.Key));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected.Kind(i), actual.Kind(i));
            Assert.Equal(expected.SourceImage(i), actual.SourceImage(i));
            Assert.True(expected.Box(i).SequenceEqual(actual.Box(i)), $"box {i}");
            Assert.True(expected.Landmarks(i).SequenceEqual(actual.Landmarks(i)), $"landmarks {i}");
            Assert.True(expected.Pixels(i).SequenceEqual(actual.Pixels(i)), $"pixels {i}");
        }
    }

    [Theory]
    [InlineData(12, 500, SampleSet.DefaultChunkBytes)]
    [InlineData(24, 77, 24 * 24 * 3 * 10)] // several pixel chunks (10 samples each), the last one partial
    [InlineData(48, 0, SampleSet.DefaultChunkBytes)]
    public void Round_trip_keeps_every_value(int size, int count, int chunkBytes)
    {
        var set = RandomSet(size, count, size + count, chunkBytes);
        string path = Path.Combine(folder.Path, "a.samples");
        set.Write(path);
        Assert.Equal(SampleSet.HeaderLength + MetadataLength(path) + ((long)count * (SampleSet.LabelBytesPerSample + (size * size * 3))), new FileInfo(path).Length);
        var read = SampleSet.Read(path);
        AssertSame(set, read);
        Assert.Equal(Enumerable.Range(0, count).Count(i => set.Kind(i) == SampleKind.Landmark), read.CountOf(SampleKind.Landmark));
    }

    [Fact]
    public void Layout_is_the_documented_one()
    {
        var builder = new SampleSetBuilder(2);
        builder.Add([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], SampleKind.Landmark, [0.5f, -0.25f, 0f, 1f], [0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1f], 7);
        builder.Add(new byte[12], SampleKind.Negative, [], [], 8);
        string path = Path.Combine(folder.Path, "layout.samples");
        builder.Build().Write(path);
        byte[] b = File.ReadAllBytes(path);
        Assert.Equal("MTCNNSMP"u8.ToArray(), b[..8]);
        Assert.Equal(1u, BitConverter.ToUInt32(b, 8));
        Assert.Equal(2, BitConverter.ToInt32(b, 12));
        Assert.Equal(2L, BitConverter.ToInt64(b, 16));
        Assert.Equal(0, BitConverter.ToInt32(b, 24)); // no metadata
        int o = 32;
        Assert.Equal([unchecked((byte)-2), 0], b[o..(o + 2)]);
        o += 2;
        Assert.Equal(7, BitConverter.ToInt32(b, o));
        Assert.Equal(8, BitConverter.ToInt32(b, o + 4));
        o += 8;
        Assert.Equal(0.5f, BitConverter.ToSingle(b, o));
        Assert.Equal(-0.25f, BitConverter.ToSingle(b, o + 4));
        o += 32;
        Assert.Equal(0.1f, BitConverter.ToSingle(b, o));
        o += 80;
        Assert.Equal(1, b[o]);
        Assert.Equal(12, b[o + 11]);
        Assert.Equal(o + 24, b.Length);
    }

    [Fact]
    public void Write_replaces_the_file_and_leaves_no_temporary_files()
    {
        string path = Path.Combine(folder.Path, "b.samples");
        RandomSet(12, 10, 1).Write(path);
        var second = RandomSet(12, 20, 2);
        second.Write(path);
        Assert.Equal(20, SampleSet.Read(path).Count);
        Assert.Equal(["b.samples"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failed_write_keeps_the_old_file()
    {
        string path = Path.Combine(folder.Path, "c.samples");
        RandomSet(12, 5, 1).Write(path);
        byte[] before = File.ReadAllBytes(path);

        // The target is now a folder: the rename fails and the original content must be untouched.
        string blocked = Path.Combine(folder.Path, "sub");
        Directory.CreateDirectory(Path.Combine(blocked, "x"));
        Assert.ThrowsAny<IOException>(() => RandomSet(12, 5, 2).Write(blocked));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["c.samples"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    public static TheoryData<string, int, string> Damage => new()
    {
        { "empty", 0, "truncated" },
        { "header", 20, "truncated" },
        { "labels", 32 + 100, "truncated" },
        { "pixels", -1, "truncated" },
    };

    [Theory]
    [MemberData(nameof(Damage))]
    public void Truncated_files_are_reported_with_name_and_sizes(string what, int keep, string expected)
    {
        string path = Path.Combine(folder.Path, what + ".samples");
        RandomSet(12, 10, 3).Write(path);
        byte[] b = File.ReadAllBytes(path);
        File.WriteAllBytes(path, b[..(keep >= 0 ? keep : b.Length - 1)]);
        var e = Assert.Throws<SampleFormatException>(() => SampleSet.Read(path));
        Assert.StartsWith(path + ":", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extra_bytes_wrong_magic_version_and_size_are_reported()
    {
        string path = Path.Combine(folder.Path, "d.samples");
        RandomSet(12, 4, 4).Write(path);
        byte[] good = File.ReadAllBytes(path);

        File.WriteAllBytes(path, [.. good, 0]);
        Assert.Contains("1 more than", Assert.Throws<SampleFormatException>(() => SampleSet.Read(path)).Message, StringComparison.Ordinal);

        byte[] b = (byte[])good.Clone();
        b[0] = (byte)'X';
        Write(path, b);
        Assert.Contains("not a sample file", Assert.Throws<SampleFormatException>(() => SampleSet.Read(path)).Message, StringComparison.Ordinal);

        b = (byte[])good.Clone();
        b[8] = 2;
        Write(path, b);
        Assert.Contains("version 2 is not supported", Assert.Throws<SampleFormatException>(() => SampleSet.Read(path)).Message, StringComparison.Ordinal);

        b = (byte[])good.Clone();
        BitConverter.GetBytes(0).CopyTo(b, 12);
        Write(path, b);
        Assert.Contains("invalid crop size 0", Assert.Throws<SampleFormatException>(() => SampleSet.Read(path)).Message, StringComparison.Ordinal);

        Assert.Contains("file not found", Assert.Throws<SampleFormatException>(() => SampleSet.Read(Path.Combine(folder.Path, "missing.samples"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_labels_name_the_sample()
    {
        var builder = new SampleSetBuilder(12);
        var rgb = new byte[12 * 12 * 3];
        builder.Add(rgb, SampleKind.Positive, [0.1f, 0, 0, 0], [], 0);
        builder.Add(rgb, SampleKind.Negative, [], [], 0);
        builder.Add(rgb, SampleKind.Part, [0, 0, 0.2f, 0], [], 1);
        string path = Path.Combine(folder.Path, "e.samples");
        builder.Build().Write(path);
        byte[] good = File.ReadAllBytes(path);
        int meta = BitConverter.ToInt32(good, 24);
        int kinds = 32 + meta, boxes = kinds + 3 + 12;

        byte[] b = (byte[])good.Clone();
        b[kinds + 2] = 5;
        Write(path, b);
        var e = Assert.Throws<SampleFormatException>(() => SampleSet.Read(path));
        Assert.Contains("sample 2: invalid kind 5", e.Message, StringComparison.Ordinal);

        b = (byte[])good.Clone();
        BitConverter.GetBytes(0.5f).CopyTo(b, boxes + 16); // sample 1 is a negative
        Write(path, b);
        Assert.Contains("sample 1: a negative sample has non-zero box offsets", Assert.Throws<SampleFormatException>(() => SampleSet.Read(path)).Message, StringComparison.Ordinal);

        b = (byte[])good.Clone();
        BitConverter.GetBytes(float.NaN).CopyTo(b, boxes);
        Write(path, b);
        Assert.Contains("sample 0: a box offset is not a finite number", Assert.Throws<SampleFormatException>(() => SampleSet.Read(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Builder_rejects_inconsistent_samples()
    {
        var builder = new SampleSetBuilder(12);
        var rgb = new byte[12 * 12 * 3];
        Assert.Throws<ArgumentException>(() => builder.Add(new byte[10], SampleKind.Negative, [], [], 0));
        Assert.Throws<ArgumentException>(() => builder.Add(rgb, SampleKind.Negative, [0.1f, 0, 0, 0], [], 0));
        Assert.Throws<ArgumentException>(() => builder.Add(rgb, SampleKind.Positive, [0, 0, 0, 0], [0.5f, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0));
        Assert.Throws<ArgumentException>(() => builder.Add(rgb, (SampleKind)3, [], [], 0));
        Assert.Throws<ArgumentException>(() => builder.Add(rgb, SampleKind.Part, [0, 0, 0], [], 0));
        Assert.Throws<ArgumentException>(() => builder.Add(rgb, SampleKind.Part, [], [], -1));
        Assert.Throws<ArgumentException>(() => builder.Add(rgb, SampleKind.Part, [float.PositiveInfinity, 0, 0, 0], [], 0));
        Assert.Equal(0, builder.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SampleSetBuilder(0));
        var set = builder.Build();
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Pixels(0));
    }

    private static int MetadataLength(string path)
    {
        using var s = File.OpenRead(path);
        var header = new byte[32];
        s.ReadExactly(header);
        return BitConverter.ToInt32(header, 24);
    }

    private static void Write(string path, byte[] bytes) => File.WriteAllBytes(path, bytes);
}
