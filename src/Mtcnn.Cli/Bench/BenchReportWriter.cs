using System.Globalization;
using System.Text;
using Mtcnn.Cli.Output;

namespace Mtcnn.Cli.Bench;

/// <summary>Formats a <see cref="BenchReport"/> as an aligned text table, one JSON document, or Markdown tables for docs.</summary>
internal static class BenchReportWriter
{
    /// <summary>The format names <c>--format</c> accepts.</summary>
    public static readonly string[] Formats = ["text", "json", "markdown"];

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Renders the report in <paramref name="format"/>.</summary>
    public static string Render(BenchReport report, string format) => format switch
    {
        "json" => Json(report),
        "markdown" => Markdown(report),
        _ => Text(report),
    };

    private static string Header(BenchReport r) => string.Create(
        Inv,
        $"{r.Image} ({r.ImageWidth}x{r.ImageHeight}) scaled to each size; {r.Iterations} iteration{(r.Iterations == 1 ? "" : "s")} after {r.Warmup} warm-up{(r.Warmup == 1 ? "" : "s")}; milliseconds per image, median / p90");

    private static string MachineLine(MachineInfo m) => string.Create(
        Inv,
        $"{m.Cpu}, {m.Cores} logical cores, {m.Os}, {m.Runtime}, SIMD {m.Simd} (Vector512 {(m.Vector512Accelerated ? "accelerated" : "not accelerated")}, Vector256 {(m.Vector256Accelerated ? "accelerated" : "not accelerated")})");

    private static string[] SingleHeader => ["size", "min face", "threads", "total", "pyramid", "P-Net", "R-Net", "O-Net", "P-Net cand.", "R-Net cand.", "faces", "alloc/img"];

    private static string[] BatchHeader => ["size", "min face", "threads", "batch", "runs", "ms/img", "img/s", "alloc/img"];

    private static string[] SingleCells(SingleImageRow r) =>
    [
        r.Size.ToString(), F(r.MinFaceSize), I(r.Threads), P(r.Total), P(r.Pyramid), P(r.PNet), P(r.RNet), P(r.ONet),
        I(r.PNetCandidates), I(r.RNetCandidates), I(r.Faces), Bytes(r.AllocatedBytesPerImage),
    ];

    private static string[] BatchCells(BatchRow r) =>
    [
        r.Size.ToString(), F(r.MinFaceSize), I(r.Threads), I(r.BatchSize), I(r.Runs), r.MsPerImage.ToString("0.00", Inv), r.ImagesPerSecond.ToString("0.0", Inv), Bytes(r.AllocatedBytesPerImage),
    ];

    private static string Text(BenchReport report)
    {
        var sb = new StringBuilder();
        sb.Append("mtcnn bench: ").Append(Header(report)).Append('\n');
        sb.Append("machine: ").Append(MachineLine(report.Machine)).Append("\n\n");
        AlignedTable(sb, SingleHeader, report.Rows.Select(SingleCells).ToList());
        if (report.Batch.Count > 0)
        {
            sb.Append("\nDetectBatch throughput (images of one size, each on one thread, 'threads' at a time):\n");
            AlignedTable(sb, BatchHeader, report.Batch.Select(BatchCells).ToList());
        }

        return sb.ToString();
    }

    private static string Markdown(BenchReport report)
    {
        var sb = new StringBuilder();
        sb.Append("Machine: ").Append(MachineLine(report.Machine)).Append(".\n\n");
        sb.Append(Header(report)).Append(".\n\n");
        MarkdownTable(sb, SingleHeader, report.Rows.Select(SingleCells).ToList());
        if (report.Batch.Count > 0)
        {
            sb.Append("\nDetectBatch throughput:\n\n");
            MarkdownTable(sb, BatchHeader, report.Batch.Select(BatchCells).ToList());
        }

        return sb.ToString();
    }

    private static string Json(BenchReport report)
    {
        var sb = new StringBuilder();
        var m = report.Machine;
        sb.Append("{\n  \"machine\": {")
          .Append("\"cpu\": ").Append(JsonResultWriter.Quote(m.Cpu))
          .Append(Inv, $", \"cores\": {m.Cores}")
          .Append(", \"os\": ").Append(JsonResultWriter.Quote(m.Os))
          .Append(", \"runtime\": ").Append(JsonResultWriter.Quote(m.Runtime))
          .Append(", \"simd\": ").Append(JsonResultWriter.Quote(m.Simd))
          .Append(", \"vector512Accelerated\": ").Append(m.Vector512Accelerated ? "true" : "false")
          .Append(", \"vector256Accelerated\": ").Append(m.Vector256Accelerated ? "true" : "false")
          .Append("},\n");
        sb.Append("  \"image\": ").Append(JsonResultWriter.Quote(report.Image))
          .Append(Inv, $", \"imageWidth\": {report.ImageWidth}, \"imageHeight\": {report.ImageHeight}, \"iterations\": {report.Iterations}, \"warmup\": {report.Warmup},\n");
        sb.Append("  \"single\": [");
        for (int i = 0; i < report.Rows.Count; i++)
        {
            var r = report.Rows[i];
            sb.Append(i == 0 ? "\n" : ",\n").Append(Inv, $"    {{\"width\": {r.Size.Width}, \"height\": {r.Size.Height}, \"minFaceSize\": {F(r.MinFaceSize)}, \"threads\": {r.Threads}, ")
              .Append("\"totalMs\": ").Append(JP(r.Total)).Append(", \"pyramidMs\": ").Append(JP(r.Pyramid))
              .Append(", \"pnetMs\": ").Append(JP(r.PNet)).Append(", \"rnetMs\": ").Append(JP(r.RNet)).Append(", \"onetMs\": ").Append(JP(r.ONet))
              .Append(Inv, $", \"pnetCandidates\": {r.PNetCandidates}, \"rnetCandidates\": {r.RNetCandidates}, \"faces\": {r.Faces}, \"allocatedBytesPerImage\": {r.AllocatedBytesPerImage}}}");
        }

        sb.Append(report.Rows.Count == 0 ? "],\n" : "\n  ],\n");
        sb.Append("  \"batch\": [");
        for (int i = 0; i < report.Batch.Count; i++)
        {
            var r = report.Batch[i];
            sb.Append(i == 0 ? "\n" : ",\n").Append(Inv, $"    {{\"width\": {r.Size.Width}, \"height\": {r.Size.Height}, \"minFaceSize\": {F(r.MinFaceSize)}, \"threads\": {r.Threads}, \"batchSize\": {r.BatchSize}, \"runs\": {r.Runs}, ")
              .Append(Inv, $"\"msPerImage\": {Round(r.MsPerImage)}, \"imagesPerSecond\": {Round(r.ImagesPerSecond)}, \"allocatedBytesPerImage\": {r.AllocatedBytesPerImage}}}");
        }

        sb.Append(report.Batch.Count == 0 ? "]\n" : "\n  ]\n");
        sb.Append("}\n");
        return sb.ToString();
    }

    private static void AlignedTable(StringBuilder sb, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, c) => Math.Max(h.Length, rows.Select(r => r[c].Length).DefaultIfEmpty(0).Max())).ToArray();
        void Line(string[] cells)
        {
            for (int c = 0; c < cells.Length; c++)
            {
                // Sizes left-aligned, numbers right-aligned.
                sb.Append(c == 0 ? cells[c].PadRight(widths[c]) : cells[c].PadLeft(widths[c]));
                sb.Append(c == cells.Length - 1 ? "\n" : "  ");
            }
        }

        Line(header);
        foreach (var r in rows)
        {
            Line(r);
        }
    }

    private static void MarkdownTable(StringBuilder sb, string[] header, List<string[]> rows)
    {
        sb.Append("| ").Append(string.Join(" | ", header)).Append(" |\n");
        sb.Append('|').Append(string.Join('|', header.Select((_, c) => c == 0 ? "---" : "---:"))).Append("|\n");
        foreach (var r in rows)
        {
            sb.Append("| ").Append(string.Join(" | ", r)).Append(" |\n");
        }
    }

    private static string P(Percentiles p) => string.Create(Inv, $"{p.Median:0.00} / {p.P90:0.00}");

    private static string JP(Percentiles p) => string.Create(Inv, $"{{\"median\": {Round(p.Median)}, \"p90\": {Round(p.P90)}}}");

    private static string Round(double v) => Math.Round(v, 4).ToString("0.####", Inv);

    private static string F(float v) => v.ToString(Inv);

    private static string I(int v) => v.ToString(Inv);

    private static string Bytes(long b) => b switch
    {
        >= 1 << 20 => string.Create(Inv, $"{b / 1048576.0:0.00} MiB"),
        >= 1 << 10 => string.Create(Inv, $"{b / 1024.0:0.0} KiB"),
        _ => string.Create(Inv, $"{b} B"),
    };
}
