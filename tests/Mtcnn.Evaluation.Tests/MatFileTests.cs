using Mtcnn.Evaluation.Matlab;
using static Mtcnn.Evaluation.Tests.MatWriter;

namespace Mtcnn.Evaluation.Tests;

/// <summary>The MAT v5 reader on files written by the test writer: every supported element kind, and bad files.</summary>
public sealed class MatFileTests
{
    private static (string, Value)[] Sample() =>
    [
        ("a", new Numeric(2, 3, [1, 2, 3, 4, 5, 6])),
        ("bytes", new Numeric(1, 3, [0, 128, 255], Class: 9, Storage: 2)),
        ("ints", new Numeric(2, 1, [-5, 70000], Class: 12, Storage: 5)),
        ("shorts", new Numeric(1, 2, [-300, 300], Class: 10, Storage: 3)),
        ("wide", new Numeric(1, 1, [1234567890123], Class: 14, Storage: 12)),
        ("flag", new Numeric(1, 2, [1, 0], Class: 9, Storage: 2, Logical: true)),
        ("z", new Numeric(1, 1, [1.5], Imaginary: [-2.5])),
        ("single", new Numeric(1, 1, [0.25], Class: 7, Storage: 7)),
        ("name", new Chars("0--Parade")),
        ("x", new Chars("ab")),
        ("nested", ColumnCell(ColumnCell(new Chars("img_1"), new Chars("img_2")), Column(), Boxes((1, 2, 3, 4), (5, 6, 7, 8)))),
        ("s", new Struct(["alpha", "b"], [Column(42), new Chars("text")])),
    ];

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void Every_supported_kind_round_trips(bool compress, bool bigEndian)
    {
        var vars = MatFile.Parse(Write(Sample(), compress, bigEndian), "sample.mat");
        Assert.Equal(["a", "bytes", "ints", "shorts", "wide", "flag", "z", "single", "name", "x", "nested", "s"], vars.Keys);

        var a = Assert.IsType<MatNumericArray>(vars["a"]);
        Assert.Equal([2, 3], a.Dimensions);
        Assert.Equal(MatClass.Double, a.Class);
        Assert.Equal(3.0, a[0, 1]); // column-major: column 1 holds 3, 4
        Assert.Equal(6.0, a[1, 2]);
        Assert.Equal([0.0, 128, 255], Assert.IsType<MatNumericArray>(vars["bytes"]).Real);
        Assert.Equal([-5.0, 70000], Assert.IsType<MatNumericArray>(vars["ints"]).Real);
        Assert.Equal([-300.0, 300], Assert.IsType<MatNumericArray>(vars["shorts"]).Real);
        Assert.Equal(1234567890123.0, Assert.IsType<MatNumericArray>(vars["wide"]).Real[0]);
        Assert.True(Assert.IsType<MatNumericArray>(vars["flag"]).IsLogical);
        var z = Assert.IsType<MatNumericArray>(vars["z"]);
        Assert.Equal(1.5, z.Real[0]);
        Assert.Equal(-2.5, z.Imaginary![0]);
        Assert.Equal(0.25, Assert.IsType<MatNumericArray>(vars["single"]).Real[0]);
        Assert.Equal("0--Parade", Assert.IsType<MatCharArray>(vars["name"]).Text);
        Assert.Equal("ab", Assert.IsType<MatCharArray>(vars["x"]).Text); // small data element

        var nested = Assert.IsType<MatCellArray>(vars["nested"]);
        Assert.Equal([3, 1], nested.Dimensions);
        var names = Assert.IsType<MatCellArray>(nested[0]);
        Assert.Equal("img_2", Assert.IsType<MatCharArray>(names[1]).Text);
        Assert.Equal(0, nested[1].Count);
        var boxes = Assert.IsType<MatNumericArray>(nested[2]);
        Assert.Equal(5.0, boxes[1, 0]);
        Assert.Equal(4.0, boxes[0, 3]);

        var s = Assert.IsType<MatStructArray>(vars["s"]);
        Assert.Equal(["alpha", "b"], s.FieldNames);
        Assert.Equal(42.0, Assert.IsType<MatNumericArray>(s.Get(0, "alpha")).Real[0]);
        Assert.Equal("text", Assert.IsType<MatCharArray>(s.Get(0, "b")).Text);
        Assert.Throws<KeyNotFoundException>(() => s.Get(0, "missing"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Truncated_files_give_a_clear_error_naming_the_file(bool compress)
    {
        byte[] full = Write(Sample(), compress);
        string path = Path.Combine(Path.GetTempPath(), $"mtcnn-truncated-{Guid.NewGuid():N}.mat");
        try
        {
            foreach (int cut in new[] { 100, 128 + 4, full.Length / 2, full.Length - 3 })
            {
                File.WriteAllBytes(path, full[..cut]);
                var e = Assert.Throws<EvaluationDataException>(() => MatFile.Read(path));
                Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
                Assert.Equal(path, e.FileName);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Files_that_are_not_mat_v5_are_rejected_with_the_reason()
    {
        var text = new byte[200];
        Array.Fill(text, (byte)'x');
        Assert.Contains("endian indicator", Assert.Throws<EvaluationDataException>(() => MatFile.Parse(text, "t.mat")).Message, StringComparison.Ordinal);
        var hdf = Write(Sample());
        "MATLAB 7.3 MAT-file"u8.CopyTo(hdf);
        Assert.Contains("v7.3", Assert.Throws<EvaluationDataException>(() => MatFile.Parse(hdf, "h.mat")).Message, StringComparison.Ordinal);
        Assert.Contains("sparse", Assert.Throws<EvaluationDataException>(() => MatFile.Parse(Write([("sp", new Sparse())]), "s.mat")).Message, StringComparison.Ordinal);
        Assert.Contains("cannot be read", Assert.Throws<EvaluationDataException>(() => MatFile.Read("/nonexistent/x.mat")).Message, StringComparison.Ordinal);

        byte[] corrupt = Write(Sample(), compress: true);
        for (int i = 140; i < 180; i++)
        {
            corrupt[i] ^= 0x5A;
        }

        Assert.Throws<EvaluationDataException>(() => MatFile.Parse(corrupt, "c.mat"));
    }
}
