namespace Mtcnn.Cli.Bench;

/// <summary>Median and 90th percentile of a series, in milliseconds.</summary>
/// <param name="Median">The median (mean of the middle two for an even count).</param>
/// <param name="P90">The 90th percentile (nearest rank).</param>
internal readonly record struct Percentiles(double Median, double P90)
{
    /// <summary>Computes the statistics of <paramref name="values"/> (empty gives zeros).</summary>
    public static Percentiles Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return default;
        }

        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
        double p90 = sorted[Math.Clamp((int)Math.Ceiling(0.9 * n) - 1, 0, n - 1)];
        return new Percentiles(median, p90);
    }
}

/// <summary>Single-image timings for one size, minimum face size and thread count.</summary>
/// <param name="Size">Image size.</param>
/// <param name="MinFaceSize">Minimum face size in pixels.</param>
/// <param name="Threads">Threads one detection call used.</param>
/// <param name="Total">End-to-end milliseconds per image (wall clock around <c>Detect</c>).</param>
/// <param name="Pyramid">Milliseconds building the pyramid.</param>
/// <param name="PNet">Milliseconds in P-Net.</param>
/// <param name="RNet">Milliseconds in R-Net.</param>
/// <param name="ONet">Milliseconds in O-Net.</param>
/// <param name="PNetCandidates">Candidates after P-Net.</param>
/// <param name="RNetCandidates">Candidates after R-Net.</param>
/// <param name="Faces">Faces after O-Net.</param>
/// <param name="AllocatedBytesPerImage">Managed bytes allocated per call, all threads (<c>GC.GetTotalAllocatedBytes(true)</c> delta / iterations).</param>
internal sealed record SingleImageRow(
    ImageSize Size, float MinFaceSize, int Threads, Percentiles Total, Percentiles Pyramid, Percentiles PNet, Percentiles RNet, Percentiles ONet,
    int PNetCandidates, int RNetCandidates, int Faces, long AllocatedBytesPerImage);

/// <summary><c>DetectBatch</c> throughput for one size, minimum face size and thread count.</summary>
/// <param name="Size">Image size.</param>
/// <param name="MinFaceSize">Minimum face size in pixels.</param>
/// <param name="Threads">Images processed at once.</param>
/// <param name="BatchSize">Images per batch call.</param>
/// <param name="Runs">Measured batch calls.</param>
/// <param name="MsPerImage">Median batch wall time divided by the batch size.</param>
/// <param name="ImagesPerSecond">Batch size divided by the median batch wall time.</param>
/// <param name="AllocatedBytesPerImage">Managed bytes allocated per image, all threads.</param>
internal sealed record BatchRow(ImageSize Size, float MinFaceSize, int Threads, int BatchSize, int Runs, double MsPerImage, double ImagesPerSecond, long AllocatedBytesPerImage);

/// <summary>Everything <c>mtcnn bench</c> measured.</summary>
/// <param name="Machine">The machine.</param>
/// <param name="Image">The source image's name.</param>
/// <param name="ImageWidth">The source image's width.</param>
/// <param name="ImageHeight">The source image's height.</param>
/// <param name="Iterations">Measured calls per row.</param>
/// <param name="Warmup">Unmeasured calls before them.</param>
/// <param name="Rows">Single-image rows.</param>
/// <param name="Batch">Batch rows (empty without <c>--batch</c>).</param>
internal sealed record BenchReport(
    MachineInfo Machine, string Image, int ImageWidth, int ImageHeight, int Iterations, int Warmup, IReadOnlyList<SingleImageRow> Rows, IReadOnlyList<BatchRow> Batch);
