using System.Globalization;
using System.Text.Json;
using Mtcnn.Imaging;
using Mtcnn.TestSupport;

namespace Mtcnn.Cli.Tests;

/// <summary>`mtcnn detect` on the bundled sample, run as a real process: every format and the annotated output.</summary>
public sealed class DetectTests
{
    [Fact]
    public void The_onnxruntime_backend_gives_the_builtin_faces_and_its_provider_errors_are_one_line()
    {
        string[] inputs = [CliHarness.Sample, Path.Combine(SharedData.RepoRoot, "tests", "fixtures", "grace_hopper_512x512.jpg")];
        var builtIn = CliHarness.Run(["detect", .. inputs, "--format", "jsonl", "-q"]);
        var onnx = CliHarness.Run(["detect", .. inputs, "--format", "jsonl", "-q", "--backend", "onnxruntime", "--threads", "2"]);
        Assert.True(onnx.ExitCode == 0, onnx.ToString());
        var a = builtIn.JsonLines.ToArray();
        var b = onnx.JsonLines.ToArray();
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            var fa = a[i].GetProperty("faces").EnumerateArray().ToArray();
            var fb = b[i].GetProperty("faces").EnumerateArray().ToArray();
            Assert.Equal(fa.Length, fb.Length);
            for (int f = 0; f < fa.Length; f++)
            {
                var ba = fa[f].GetProperty("box").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                var bb = fb[f].GetProperty("box").EnumerateArray().Select(v => v.GetDouble()).ToArray();
                Assert.All(ba.Zip(bb), p => Assert.Equal(p.First, p.Second, 1e-3));
                Assert.Equal(fa[f].GetProperty("score").GetDouble(), fb[f].GetProperty("score").GetDouble(), 1e-5);
            }
        }

        var cuda = CliHarness.Run(["detect", CliHarness.Sample, "--backend", "onnxruntime", "--execution-provider", "cuda"]);
        Assert.True(cuda.ExitCode == 1, cuda.ToString());
        Assert.Equal("mtcnn: error: execution provider cuda: the CUDA execution provider is not in this ONNX Runtime build (CPUExecutionProvider); it needs the Microsoft.ML.OnnxRuntime.Gpu.Linux package.", Assert.Single(cuda.ErrorLines));

        var alone = CliHarness.Run(["detect", CliHarness.Sample, "--execution-provider", "cpu"]);
        Assert.True(alone.ExitCode == 2, alone.ToString());
        Assert.Contains("--execution-provider: only with --backend onnxruntime", alone.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Jsonl_on_the_sample_reports_its_one_face()
    {
        var run = CliHarness.Run(["detect", "samples/astronaut.png", "--format", "jsonl"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("", run.StdErr);
        var record = Assert.Single(run.JsonLines);
        Assert.Equal("samples/astronaut.png", record.GetProperty("image").GetString());
        Assert.Equal(512, record.GetProperty("width").GetInt32());
        Assert.Equal(512, record.GetProperty("height").GetInt32());
        var face = Assert.Single(Schema.AssertImageRecord(record, landmarks: true));
        Assert.True(Schema.Box(face).IntersectionOverUnion(CliHarness.SampleFace) >= 0.9f, run.StdOut);
        Assert.True(face.GetProperty("score").GetSingle() >= 0.99f);

        // Landmarks in the documented order: eyes above the nose above the mouth, left (smaller x) before right.
        var p = face.GetProperty("landmarks").EnumerateArray().Select(l => (X: l[0].GetSingle(), Y: l[1].GetSingle())).ToArray();
        Assert.True(p[0].X < p[1].X && p[3].X < p[4].X);
        Assert.True(p[2].Y > p[0].Y && p[3].Y > p[2].Y);
    }

    [Fact]
    public void Jsonl_numbers_have_at_most_4_and_6_decimals()
    {
        var run = CliHarness.Run(["detect", "samples/astronaut.png", "-f", "jsonl"]);

        Assert.Equal(0, run.ExitCode);
        var face = run.JsonLines[0].GetProperty("faces")[0];
        foreach (var v in face.GetProperty("box").EnumerateArray().Concat(face.GetProperty("landmarks").EnumerateArray().SelectMany(l => l.EnumerateArray())))
        {
            Assert.True(Decimals(v.GetRawText()) <= 4, v.GetRawText());
        }

        Assert.True(Decimals(face.GetProperty("score").GetRawText()) <= 6);

        // The documented one-line shape, with a space after each colon and comma.
        Assert.StartsWith("{\"image\": \"samples/astronaut.png\", \"width\": 512, \"height\": 512, \"faces\": [{\"box\": [", run.Lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Json_is_one_indented_array_of_the_same_records()
    {
        var run = CliHarness.Run(["detect", "samples/astronaut.png", "--format", "json"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("\n  {\n    \"image\"", run.StdOut, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(run.StdOut);
        var record = Assert.Single(doc.RootElement.EnumerateArray().ToArray());
        var face = Assert.Single(Schema.AssertImageRecord(record, landmarks: true));
        Assert.True(Schema.Box(face).IntersectionOverUnion(CliHarness.SampleFace) >= 0.9f);
    }

    [Fact]
    public void Csv_has_the_header_and_one_row_per_face()
    {
        var run = CliHarness.Run(["detect", "samples/astronaut.png", "--format", "csv"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(2, run.Lines.Length);
        Assert.Equal(
            "image,width,height,face,x1,y1,x2,y2,score,left_eye_x,left_eye_y,right_eye_x,right_eye_y,nose_x,nose_y,mouth_left_x,mouth_left_y,mouth_right_x,mouth_right_y,error",
            run.Lines[0]);
        string[] row = run.Lines[1].Split(',');
        Assert.Equal(20, row.Length);
        Assert.Equal(["samples/astronaut.png", "512", "512", "0"], row[..4]);
        float[] box = row[4..8].Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(new BoundingBox(box[0], box[1], box[2], box[3]).IntersectionOverUnion(CliHarness.SampleFace) >= 0.9f);
        Assert.True(float.Parse(row[8], CultureInfo.InvariantCulture) >= 0.99f);
        Assert.All(row[9..19], v => float.Parse(v, CultureInfo.InvariantCulture));
        Assert.Equal("", row[19]);
    }

    [Fact]
    public void Text_is_human_readable_and_is_the_default()
    {
        var run = CliHarness.Run(["detect", "samples/astronaut.png"]);

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("samples/astronaut.png: 1 face (512x512)", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("score 0.99", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("box (181.", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("eyes (", run.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Stage_pnet_reports_more_boxes_than_onet_and_no_landmarks()
    {
        var onet = CliHarness.Run(["detect", "samples/astronaut.png", "-f", "jsonl"]);
        var rnet = CliHarness.Run(["detect", "samples/astronaut.png", "-f", "jsonl", "--stage", "rnet"]);
        var pnet = CliHarness.Run(["detect", "samples/astronaut.png", "-f", "jsonl", "--stage", "pnet"]);

        Assert.Equal(0, pnet.ExitCode);
        Assert.Equal(0, rnet.ExitCode);
        var onetFaces = Schema.AssertImageRecord(onet.JsonLines[0], landmarks: true);
        var rnetBoxes = Schema.AssertImageRecord(rnet.JsonLines[0], landmarks: false);
        var pnetBoxes = Schema.AssertImageRecord(pnet.JsonLines[0], landmarks: false);
        Assert.True(pnetBoxes.Length > onetFaces.Length, $"pnet {pnetBoxes.Length} vs onet {onetFaces.Length}");
        Assert.True(pnetBoxes.Length >= rnetBoxes.Length, $"pnet {pnetBoxes.Length} vs rnet {rnetBoxes.Length}");
        Assert.DoesNotContain("landmarks", pnet.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_writes_an_annotated_png_of_the_input_size()
    {
        using var temp = CliHarness.TempFolder();
        string outDir = Path.Combine(temp.Path, "out", "nested");

        var run = CliHarness.Run(["detect", "samples/astronaut.png", "--output", outDir]);

        Assert.True(run.ExitCode == 0, run.ToString());
        string png = Path.Combine(outDir, "astronaut.png");
        Assert.Contains("-> " + png, run.StdOut, StringComparison.Ordinal);
        byte[] bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        var annotated = ImageLoader.Decode(bytes);
        Assert.Equal((512, 512), (annotated.Width, annotated.Height));
        var original = ImageLoader.Load(CliHarness.Sample);
        Assert.False(annotated.Pixels.Span.SequenceEqual(original.Pixels.Span), "something was drawn");
    }

    [Fact]
    public void Options_change_the_result_as_documented()
    {
        // A minimum face larger than the face finds nothing; a threshold of 1 rejects everything.
        var big = CliHarness.Run(["detect", "samples/astronaut.png", "-f", "jsonl", "--min-face-size", "300"]);
        var strict = CliHarness.Run(["detect", "samples/astronaut.png", "-f", "jsonl", "--thresholds", "0.6,0.7,1", "--crop-border", "clip", "--threads", "1"]);

        Assert.Equal(0, big.ExitCode);
        Assert.Empty(Schema.AssertImageRecord(big.JsonLines[0], landmarks: true));
        Assert.Equal(0, strict.ExitCode);
        Assert.Empty(Schema.AssertImageRecord(strict.JsonLines[0], landmarks: true));
    }

    private static int Decimals(string number)
    {
        int dot = number.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? 0 : number.Length - dot - 1;
    }
}
