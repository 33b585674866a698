using System.Diagnostics;
using System.Globalization;
using Mtcnn.Inference;

namespace Mtcnn.Cascade;

/// <summary>
/// The three-stage MTCNN cascade (spec section 3) with facenet-pytorch's arithmetic, except that crops reaching
/// past the image border are zero-padded as in the original MATLAB code:
/// pyramid (scales 12/minFace * factor^k while the short side stays >= 12, level size int(side * scale + 1)) →
/// P-Net windows (prob >= t0) → NMS 0.5 per level → NMS 0.7 across levels → regression (box width x2 - x1) → square →
/// R-Net on 24x24 crops (prob > t1) → NMS 0.7 → regression (width x2 - x1 + 1) → square → O-Net on 48x48 crops
/// (prob > t2) → landmarks from the pre-regression box → regression → NMS 0.7 by intersection over the smaller box.
/// </summary>
/// <remarks>
/// Weights of the <see cref="ModelVariant.Reference"/> variant run the same stages (with the project's corrections of
/// the reference project's defects: every NMS orders by the current stage's score, O-Net's NMS follows its
/// regression, border crops are zero-padded without touching the box), but with the geometry the reference project's
/// nets were trained and run with (spec section 4): BGR <c>v / 255</c> input resampled by OpenCV's 8-bit
/// INTER_LINEAR (<see cref="BilinearResampler"/>); level size <c>int(side * scale)</c>, levels while both sides
/// exceed 12; boxes are 0-based inclusive pixel ranges (<c>w = x2 - x1 + 1</c>, also in NMS overlaps and in P-Net's
/// regression); the P-Net cell (i, j) maps to <c>round(2j / s) .. round((2j + 12) / s)</c>; squares are rounded to
/// whole pixels; a crop covers columns <c>x1 .. x2</c>; landmarks are <c>x1 + w * p</c> on the squared box before
/// O-Net's regression, read from interleaved outputs <c>x1, y1, ..., x5, y5</c>.
/// </remarks>
internal sealed class CascadeRunner
{
    private const int CropChunk = 32;
    private const int MinBandRows = 16;
    private const long MaxBandFloats = 2L << 20; // 8 MB per scratch buffer (the 1080p level 0 goes in 6 bands; as fast as whole levels, within noise)
    private readonly Networks nets;
    private readonly INetworkBackend? backend; // null: the built-in kernels
    private readonly long maxPyramidFloats;
    private readonly Action<int, Workspace, ImageContext> resampleBand;
    private readonly Action<int, Workspace, ImageContext> pnetBand;
    private readonly Action<int, Workspace, ImageContext> levelNms;
    private readonly Action<int, Workspace, ImageContext> cropChunk;
    private readonly Stack<Workspace> workspaces = new();
    private readonly Func<Workspace> rentWorkspace;
    private readonly Action<Workspace> returnWorkspace;
    private readonly float inputOffset;
    private readonly float inputScale;
    private readonly bool bgr;
    private readonly bool reference;

    /// <param name="networks">The nets.</param>
    /// <param name="maxPyramidInputFloats">Largest pyramid (all P-Net band inputs, in floats) resampled in one go
    /// before the nets run; larger pyramids are resampled band by band, so that memory stays bounded for huge images
    /// and small minimum face sizes. Results are the same either way.</param>
    /// <param name="backend">Runs the networks instead of the built-in kernels (null: the kernels).</param>
    public CascadeRunner(Networks networks, long maxPyramidInputFloats = 8L << 20, INetworkBackend? backend = null)
    {
        nets = networks;
        this.backend = backend;
        maxPyramidFloats = maxPyramidInputFloats;
        resampleBand = ResampleBand;
        pnetBand = PNetBand;
        levelNms = LevelNms;
        cropChunk = CropChunkBody;
        rentWorkspace = Rent;
        returnWorkspace = Return;
        reference = networks.Variant == ModelVariant.Reference;
        inputOffset = reference ? 0f : 127.5f;
        inputScale = reference ? 1f / 255f : 0.0078125f;
        bgr = reference;
    }

    /// <summary>
    /// A fresh per-image context with the variant's resampler: area averaging for the original weights, OpenCV's
    /// 8-bit INTER_LINEAR for the reference project's (whose nets were trained on such input).
    /// </summary>
    public ImageContext NewContext() =>
        new(nets.Variant == ModelVariant.Reference ? new BilinearResampler() : new IntegralImage());

    /// <summary>
    /// The scales of the pyramid for an image, in double precision: scales <c>12 / minFace * factor^k</c>. With the
    /// original conventions (facenet-pytorch) a level is <c>int(side * scale + 1)</c> pixels and levels continue while
    /// <c>min(h, w) * scale &gt;= 12</c>; with the reference project's (<paramref name="referenceSizes"/>) a level is
    /// <c>int(side * scale)</c> pixels and levels continue while that size is above 12 on both sides.
    /// </summary>
    public static void PlanPyramid(int height, int width, DetectorOptions options, List<PyramidLevel> levels, PNet? pnet, bool referenceSizes = false)
    {
        levels.Clear();

        // The options hold floats; go through their shortest decimal form so that 0.709f becomes exactly 0.709.
        double factor = ShortestDecimal(options.ScaleFactor);
        double minFace = ShortestDecimal(options.MinFaceSize);
        double scale = 12.0 / minFace;
        double minl = Math.Min(height, width) * scale;
        while (referenceSizes ? Math.Min((int)(height * scale), (int)(width * scale)) > 12 : minl >= 12)
        {
            int extra = referenceSizes ? 0 : 1;
            int hs = (int)((height * scale) + extra);
            int ws = (int)((width * scale) + extra);
            var (oh, ow) = pnet?.OutputSize(hs, ws) ?? (0, 0);
            levels.Add(new PyramidLevel(scale, hs, ws, oh, ow));
            scale *= factor;
            minl *= factor;
        }
    }

    // The double nearest to a float's shortest decimal form (0.709f -> 0.709), without allocating a string.
    private static double ShortestDecimal(float value)
    {
        Span<char> text = stackalloc char[32];
        return value.TryFormat(text, out int written, "R", CultureInfo.InvariantCulture)
            ? double.Parse(text[..written], CultureInfo.InvariantCulture)
            : value;
    }

    /// <summary>
    /// Images above this many pixels are area-averaged straight from the caller's pixels
    /// (<see cref="DirectAreaResampler"/>) rather than through a summed-area table of 12 bytes a pixel: 16,777,216
    /// (4096 x 4096; a 12-megapixel phone photo still uses the faster table). Results are the same either way.
    /// </summary>
    public const long DirectResamplingPixels = 1L << 24;

    /// <summary>The limit in use (tests lower it to run ordinary images through the direct path).</summary>
    internal long DirectAbove { get; set; } = DirectResamplingPixels;

    public unsafe DetectionResult Run(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format,
        DetectorOptions options, int degree, ImageContext ctx, CancellationToken cancellationToken)
    {
        if (ctx.Choose((long)width * height, DirectAbove) is not DirectAreaResampler)
        {
            return RunOn(pixels, width, height, stride, format, options, degree, ctx, cancellationToken);
        }

        // Pinned for the whole call: the direct resampler reads the caller's pixels in place.
        fixed (byte* pinned = pixels)
        {
            try
            {
                return RunOn(pixels, width, height, stride, format, options, degree, ctx, cancellationToken);
            }
            finally
            {
                ctx.ReleasePixels();
            }
        }
    }

    private DetectionResult RunOn(ReadOnlySpan<byte> pixels, int width, int height, int stride, PixelFormat format,
        DetectorOptions options, int degree, ImageContext ctx, CancellationToken cancellationToken)
    {
        long t0 = Stopwatch.GetTimestamp();
        ctx.Resampler.Build(pixels, width, height, stride, format, bgr);
        long tPyramid = Stopwatch.GetTimestamp();
        cancellationToken.ThrowIfCancellationRequested();

        var stage = options.LastStage;
        var union = reference ? OverlapKind.UnionPlusOne : OverlapKind.Union;
        bool collect = options.CollectStageCandidates;
        IReadOnlyList<Candidate> pnetOut = [], rnetOut = [];
        IReadOnlyList<Face> faces = [];

        // Stage 1: P-Net over the pyramid.
        ctx.CandidateLimit = 0;
        RunPNet(options, degree, ctx, cancellationToken);
        var cands = ctx.Candidates;
        Nms(ctx, cands, options.PyramidNmsThreshold, union);
        for (int i = 0; i < cands.Count; i++)
        {
            var w = cands[i];
            BoxMath.Regress(ref w, plusOne: reference);
            cands[i] = w;
        }

        // Suppression leaves the windows best first: the cap keeps the highest-scoring.
        bool limited = Cap(cands, options.MaxCandidates) | Volatile.Read(ref ctx.CandidateLimit) != 0;

        if (collect || stage == CascadeStage.PNet)
        {
            pnetOut = ToCandidates(cands);
        }

        int pnetCount = cands.Count;
        long tPNet = Stopwatch.GetTimestamp();
        long tRNet = tPNet, tONet = tPNet;
        int rnetCount = 0, onetCount = 0;

        if (stage >= CascadeStage.RNet)
        {
            SquareAll(cands);
            RunCropNet(nets.R, options.RNetThreshold, options.CropBorder, degree, ctx, cancellationToken);
            Nms(ctx, cands, options.RNetNmsThreshold, union);
            for (int i = 0; i < cands.Count; i++)
            {
                var w = cands[i];
                BoxMath.Regress(ref w, plusOne: true);
                cands[i] = w;
            }

            limited |= Cap(cands, options.MaxCandidates);
            if (collect || stage == CascadeStage.RNet)
            {
                rnetOut = ToCandidates(cands);
            }

            rnetCount = cands.Count;
            tRNet = tONet = Stopwatch.GetTimestamp();
        }

        if (stage >= CascadeStage.ONet)
        {
            SquareAll(cands);
            RunCropNet(nets.O, options.ONetThreshold, options.CropBorder, degree, ctx, cancellationToken);

            // Landmarks are decoded against the box O-Net was given, before its regression: as fractions of the crop,
            // which starts at pixel x1 - 1 with the original (1-based) conventions and at x1 with the reference's.
            int ostride = nets.O.OutputStride, lm = nets.O.ClassOutputs + 4;
            bool interleaved = reference;
            float origin = reference ? 0f : -1f;
            if (ctx.Landmarks.Length < cands.Count * 5)
            {
                ctx.Landmarks = new Point2F[Math.Max(cands.Count * 5, ctx.Landmarks.Length * 2)];
            }

            var landmarks = ctx.Landmarks;
            for (int i = 0; i < cands.Count; i++)
            {
                var w = cands[i];
                ReadOnlySpan<float> row = ctx.StageOutputs.AsSpan((w.Tag * ostride) + lm, 10);
                float bw = w.X2 - w.X1 + 1, bh = w.Y2 - w.Y1 + 1;
                for (int k = 0; k < 5; k++)
                {
                    float px = interleaved ? row[2 * k] : row[k];
                    float py = interleaved ? row[(2 * k) + 1] : row[5 + k];
                    landmarks[(i * 5) + k] = new Point2F((bw * px) + w.X1 + origin, (bh * py) + w.Y1 + origin);
                }

                w.Tag = i;
                BoxMath.Regress(ref w, plusOne: true);
                cands[i] = w;
            }

            Nms(ctx, cands, options.ONetNmsThreshold, OverlapKind.MinimumPlusOne);
            int keep = options.MaxFaces > 0 ? Math.Min(options.MaxFaces, cands.Count) : cands.Count;
            var list = keep == 0 ? [] : new Face[keep];
            for (int i = 0; i < keep; i++)
            {
                var w = cands[i];
                int b = w.Tag * 5;
                list[i] = new Face(w.Box, w.Score, new FaceLandmarks(landmarks[b], landmarks[b + 1], landmarks[b + 2], landmarks[b + 3], landmarks[b + 4]));
            }

            faces = list;
            onetCount = keep;
            tONet = Stopwatch.GetTimestamp();
        }

        if (options.MaxFaces > 0)
        {
            pnetOut = Truncate(pnetOut, options.MaxFaces, stage == CascadeStage.PNet);
            rnetOut = Truncate(rnetOut, options.MaxFaces, stage == CascadeStage.RNet);
        }

        long tEnd = Stopwatch.GetTimestamp();
        var timings = new DetectionTimings(
            Stopwatch.GetElapsedTime(t0, tPyramid),
            Stopwatch.GetElapsedTime(tPyramid, tPNet),
            Stopwatch.GetElapsedTime(tPNet, tRNet),
            Stopwatch.GetElapsedTime(tRNet, tONet),
            Stopwatch.GetElapsedTime(t0, tEnd),
            pnetCount,
            rnetCount,
            onetCount);
        return new DetectionResult(width, height, faces, pnetOut, rnetOut, stage, timings, limited);
    }

    /// <summary>Keeps the <paramref name="max"/> highest-scoring windows in their order (ties: the earlier ones).</summary>
    private static void KeepBest(List<Window> windows, int max, Workspace ws)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(windows);
        int n = span.Length;
        var scores = ws.CapScores(n)[..n];
        for (int i = 0; i < n; i++)
        {
            scores[i] = span[i].Score;
        }

        scores.Sort();
        float cut = scores[n - max];
        int above = n - scores.LastIndexOf(cut) - 1; // windows scoring more than the cut
        int ties = max - above, kept = 0;
        for (int i = 0; i < n; i++)
        {
            float s = span[i].Score;
            if (s > cut || (s == cut && ties-- > 0))
            {
                span[kept++] = span[i];
            }
        }

        windows.RemoveRange(kept, n - kept);
    }

    private static bool Cap(List<Window> windows, int max)
    {
        if (windows.Count <= max)
        {
            return false;
        }

        windows.RemoveRange(max, windows.Count - max);
        return true;
    }

    private static IReadOnlyList<Candidate> Truncate(IReadOnlyList<Candidate> list, int max, bool isLast) =>
        isLast && list.Count > max ? list.Take(max).ToArray() : list;

    private static Candidate[] ToCandidates(List<Window> windows)
    {
        var result = new Candidate[windows.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new Candidate(windows[i].Box, windows[i].Score);
        }

        return result;
    }

    private void SquareAll(List<Window> windows)
    {
        for (int i = 0; i < windows.Count; i++)
        {
            var w = windows[i];
            if (reference)
            {
                BoxMath.SquarePixels(ref w);
            }
            else
            {
                BoxMath.Square(ref w);
            }

            windows[i] = w;
        }
    }

    private static void Nms(ImageContext ctx, List<Window> windows, float threshold, OverlapKind kind) =>
        BoxMath.Nms(windows, threshold, kind, ctx.Nms);

    private void RunPNet(DetectorOptions options, int degree, ImageContext ctx, CancellationToken ct)
    {
        var levels = ctx.Levels;
        PlanPyramid(ctx.Resampler.Height, ctx.Resampler.Width, options, levels, nets.P, reference);
        var items = ctx.Items;
        items.Clear();

        // Bands only pay off as parallel work: each costs 10 extra input rows (the receptive field), which is a
        // large share of a small level. One thread runs whole levels; several threads get about three bands each,
        // made by splitting only the levels that are larger than that share, into bands of equal height.
        long total = 0;
        foreach (var lv in levels)
        {
            total += (long)Math.Max(lv.OutHeight, 0) * lv.Width;
        }

        // A backend takes whole levels (one call each) and parallelises inside.
        long target = degree <= 1 || backend is not null ? long.MaxValue : Math.Max(1, total / (degree * 3L));
        for (int l = 0; l < levels.Count; l++)
        {
            var lv = levels[l];
            if (lv.OutHeight <= 0 || lv.OutWidth <= 0)
            {
                continue;
            }

            // Also bound the scratch memory: a band's first feature map holds about 2 * rows * width * 16 floats.
            long cost = (long)lv.OutHeight * lv.Width;
            long byMemory = backend is not null ? 1 : ((long)lv.OutHeight * lv.Width * 32 / MaxBandFloats) + 1;
            long wanted = Math.Max((cost + target - 1) / target, byMemory);
            int bands = (int)Math.Clamp(wanted, 1, Math.Max(1, lv.OutHeight / MinBandRows));
            int bandRows = (lv.OutHeight + bands - 1) / bands;
            bandRows = (bandRows + nets.P.BandAlignment - 1) / nets.P.BandAlignment * nets.P.BandAlignment; // Winograd tiles line up with the whole level's
            for (int r = 0; r < lv.OutHeight; r += bandRows)
            {
                int rows = Math.Min(bandRows, lv.OutHeight - r);
                items.Add(new PNetWorkItem(l, r, rows, (long)rows * lv.Width));
            }
        }

        // Largest first, so that the small tail items fill the gaps at the end.
        items.Sort((x, y) => y.Cost.CompareTo(x.Cost));
        ctx.PrepareLists(items.Count, levels.Count);
        float threshold = options.PNetThreshold;

        // Resample every band's input first, while the summed-area table is still in the cache; the nets' maps that
        // follow evict it (1280x720, one thread: about 3 ms of resampling by profile when interleaved with the nets,
        // 1.6 ms in one go; the 720p median photo went from 68.5 to 65.4 ms).
        var offsets = ctx.ItemInputOffsets(items.Count);
        long inputFloats = 0;
        for (int i = 0; i < items.Count; i++)
        {
            var lv = levels[items[i].Level];
            offsets[i] = inputFloats;
            inputFloats += (long)PNet.InputRows(items[i].FirstRow, items[i].Rows, lv.Height).Rows * lv.Width * 3;
        }

        // The loop bodies are delegates made once per runner; what they need of this call lives in the context.
        ctx.Options = options;
        ctx.StageThreshold = threshold;
        ctx.PyramidBuffer = inputFloats > maxPyramidFloats ? null : ctx.PyramidInputs(inputFloats);
        if (ctx.PyramidBuffer is not null)
        {
            ForEach(0, items.Count, degree, ctx, resampleBand, ct);
        }

        ForEach(1, items.Count, degree, ctx, pnetBand, ct);
        GatherLevels(degree, ctx, ct);
    }

    private void ResampleBand(int i, Workspace ws, ImageContext ctx)
    {
        var item = ctx.Items[i];
        var lv = ctx.Levels[item.Level];
        var (firstRow, rows) = PNet.InputRows(item.FirstRow, item.Rows, lv.Height);
        long offset = ctx.ItemInputOffsets(0)[i];
        ctx.Resampler.Resample(0, 0, ctx.Resampler.Width, ctx.Resampler.Height, lv.Width, lv.Height, firstRow, rows,
            inputOffset, inputScale, ctx.PyramidBuffer.AsSpan((int)offset, rows * lv.Width * 3), ws.Ints(ctx.Resampler.ScratchInts(lv.Width)));
    }

    private void PNetBand(int i, Workspace ws, ImageContext ctx)
    {
        ReadOnlySpan<float> input = ctx.PyramidBuffer is { } buffer ? buffer.AsSpan((int)ctx.ItemInputOffsets(0)[i]) : default;
        PNetItem(ctx, ctx.Items[i], input, ctx.StageThreshold, ws, ctx.ItemWindows[i]);
    }

    private void LevelNms(int l, Workspace ws, ImageContext ctx)
    {
        var list = ctx.LevelWindows[l];
        list.Sort(static (a, b) => a.Tag.CompareTo(b.Tag));
        if (list.Count > ctx.Options!.MaxCandidates)
        {
            // More windows than may go on at all: the level's suppression only needs its best ones (it is the costly
            // part when thresholds near 0 let every window through).
            KeepBest(list, ctx.Options.MaxCandidates, ws);
            Volatile.Write(ref ctx.CandidateLimit, 1);
        }

        BoxMath.Nms(list, ctx.Options!.PNetNmsThreshold, reference ? OverlapKind.UnionPlusOne : OverlapKind.Union, ws.Nms);
    }

    // Each level's windows (items of a level in row order), suppressed within the level, then all levels in order.
    private void GatherLevels(int degree, ImageContext ctx, CancellationToken ct)
    {
        var items = ctx.Items;
        var levels = ctx.Levels;
        for (int i = 0; i < items.Count; i++)
        {
            ctx.LevelWindows[items[i].Level].AddRange(ctx.ItemWindows[i]);
        }

        ForEach(2, levels.Count, degree, ctx, levelNms, ct);

        ctx.Candidates.Clear();
        for (int l = 0; l < levels.Count; l++)
        {
            ctx.Candidates.AddRange(ctx.LevelWindows[l]);
        }
    }

    // One band: its input (resampled here when 'input' is empty), P-Net, and the windows that pass.
    private void PNetItem(ImageContext ctx, PNetWorkItem item, ReadOnlySpan<float> input, float threshold, Workspace ws, List<Window> output)
    {
        var lv = ctx.Levels[item.Level];
        var (firstRow, rows) = PNet.InputRows(item.FirstRow, item.Rows, lv.Height);
        if (input.IsEmpty)
        {
            Span<float> own = ws.Input(rows * lv.Width * 3);
            ctx.Resampler.Resample(0, 0, ctx.Resampler.Width, ctx.Resampler.Height, lv.Width, lv.Height, firstRow, rows,
                inputOffset, inputScale, own, ws.Ints(ctx.Resampler.ScratchInts(lv.Width)));
            input = own;
        }

        if (backend is not null)
        {
            PNetOnBackend(item, lv, input, rows, threshold, ws, output);
            return;
        }

        int scratch = nets.P.ScratchSize(rows, lv.Width);
        Span<float> a = ws.A(scratch), b = ws.B(scratch);

        // Compare logits first and compute the probability only for windows that can pass; the net computes the
        // heads only where the screened logit can reach the bound.
        float logitBound = threshold <= 0 ? float.NegativeInfinity : threshold >= 1 ? float.PositiveInfinity : MathF.Log(threshold / (1 - threshold)) - 1e-3f;
        var (outH, outW) = nets.P.OutputSize(rows, lv.Width);
        Span<int> passing = ws.Ints(Math.Max(0, Math.Min(outH, item.Rows) * outW));
        var (oh, ow, rowPixels, count) = nets.P.Forward(input, rows, lv.Width, a, b, logitBound, item.Rows, passing);
        int cs = nets.P.Head.OutputChannelStride;
        bool softmax = nets.P.ClassOutputs == 2;
        int reg = nets.P.ClassOutputs;
        for (int k = 0; k < count; k++)
        {
            int i = passing[k] / rowPixels, j = passing[k] - (i * rowPixels);
            AddWindow(lv, item.FirstRow + i, j, ow, a.Slice(passing[k] * cs), softmax, reg, logitBound, threshold, output);
        }
    }

    /// <summary>The window at output position (<paramref name="gy"/>, <paramref name="j"/>) of a level when its score passes.</summary>
    private void AddWindow(PyramidLevel lv, int gy, int j, int ow, ReadOnlySpan<float> a, bool softmax, int reg, float logitBound, float threshold, List<Window> output)
    {
        float logit = softmax ? a[1] - a[0] : a[0];
        if (logit < logitBound)
        {
            return;
        }

        float p = 1f / (1f + MathF.Exp(-logit));
        if (p < threshold)
        {
            return;
        }

        float scale = (float)lv.Scale;
        var w = reference
            ? new Window(
                (float)Math.Round(2 * j / lv.Scale),
                (float)Math.Round(2 * gy / lv.Scale),
                (float)Math.Round(((2 * j) + 12) / lv.Scale),
                (float)Math.Round(((2 * gy) + 12) / lv.Scale),
                p)
            : new Window(
                MathF.Floor(((2 * j) + 1) / scale),
                MathF.Floor(((2 * gy) + 1) / scale),
                MathF.Floor(((2 * j) + 12) / scale),
                MathF.Floor(((2 * gy) + 12) / scale),
                p);
        w.Dx1 = a[reg];
        w.Dy1 = a[reg + 1];
        w.Dx2 = a[reg + 2];
        w.Dy2 = a[reg + 3];
        w.Tag = (gy * ow) + j;
        output.Add(w);
    }

    /// <summary>P-Net on the backend: the whole level in one call, then the same windows as the built-in path.</summary>
    private void PNetOnBackend(PNetWorkItem item, PyramidLevel lv, ReadOnlySpan<float> input, int rows, float threshold, Workspace ws, List<Window> output)
    {
        var (oh, ow) = nets.P.OutputSize(rows, lv.Width);
        int classes = nets.P.ClassOutputs, cs = classes + 4;
        Span<float> map = ws.A(oh * ow * cs);
        backend!.RunPNet(input[..(rows * lv.Width * 3)], rows, lv.Width, map);
        float logitBound = threshold <= 0 ? float.NegativeInfinity : threshold >= 1 ? float.PositiveInfinity : MathF.Log(threshold / (1 - threshold)) - 1e-3f;
        int last = Math.Min(oh, item.Rows);
        for (int i = 0; i < last; i++)
        {
            for (int j = 0; j < ow; j++)
            {
                AddWindow(lv, item.FirstRow + i, j, ow, map.Slice(((i * ow) + j) * cs), classes == 2, classes, logitBound, threshold, output);
            }
        }
    }

    /// <summary>
    /// Crops every candidate, runs the net, keeps candidates whose score exceeds <paramref name="threshold"/> with the
    /// net's score and box regression. Each kept window's <see cref="Window.Tag"/> is its row in ctx.StageOutputs.
    /// </summary>
    private void RunCropNet(CropNet net, float threshold, CropBorder border, int degree, ImageContext ctx, CancellationToken ct)
    {
        var cands = ctx.Candidates;
        int n = cands.Count;
        int stride = net.OutputStride;
        if (ctx.StageOutputs.Length < n * stride)
        {
            ctx.StageOutputs = new float[Math.Max(n * stride, ctx.StageOutputs.Length * 2)];
        }

        if (ctx.CropBoxes.Length < n * 4)
        {
            ctx.CropBoxes = new int[Math.Max(n * 4, ctx.CropBoxes.Length * 2)];
        }

        var boxes = ctx.CropBoxes;
        int clipW = border == CropBorder.Clip ? ctx.Resampler.Width : 0, clipH = border == CropBorder.Clip ? ctx.Resampler.Height : 0;
        for (int i = 0; i < n; i++)
        {
            // Candidates with an empty crop region cannot be a face: give them no box so they are dropped below.
            bool some = reference
                ? BoxMath.PixelRegion(cands[i], clipW, clipH, out boxes[i * 4], out boxes[(i * 4) + 1], out boxes[(i * 4) + 2], out boxes[(i * 4) + 3])
                : BoxMath.CropRegion(cands[i], clipW, clipH, out boxes[i * 4], out boxes[(i * 4) + 1], out boxes[(i * 4) + 2], out boxes[(i * 4) + 3]);
            if (!some)
            {
                boxes[(i * 4) + 2] = 0;
            }
        }

        // Crops go through the nets in order of position (top, then left) so that neighbouring crops read the same
        // summed-area table rows while they are cached; slot s holds candidate order[s], candidate i sits in slot rank[i].
        var (order, rank, keys) = ctx.CropOrder(n);
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
            keys[i] = ((long)boxes[(i * 4) + 1] << 32) | (uint)boxes[i * 4];
        }

        Array.Sort(keys, order, 0, n);
        for (int s = 0; s < n; s++)
        {
            rank[order[s]] = s;
        }

        // Several chunks per thread so that threads finish together even when few candidates remain.
        ctx.StageNet = net;
        // A backend gets every crop of the image in one call (one batch) and parallelises inside.
        ctx.CropChunkSize = backend is not null ? Math.Max(1, n) : degree <= 1 ? CropChunk : Math.Clamp((n + (4 * degree) - 1) / (4 * degree), 4, CropChunk);
        if (n == 0 && ctx.BatchMember is { } member)
        {
            // Nothing to crop: still take part in the batch's round for this stage.
            member.Run(net == nets.R ? CascadeStage.RNet : CascadeStage.ONet, default, 0, default, stride);
        }

        ForEach(net == nets.R ? 3 : 4, (n + ctx.CropChunkSize - 1) / ctx.CropChunkSize, backend is not null ? 1 : degree, ctx, cropChunk, ct);
        float[] outputs = ctx.StageOutputs;

        bool softmax = net.ClassOutputs == 2;
        int reg = net.ClassOutputs;
        var kept = ctx.Scratch;
        kept.Clear();
        for (int i = 0; i < n; i++)
        {
            if (boxes[(i * 4) + 2] <= 0)
            {
                continue;
            }

            ReadOnlySpan<float> row = outputs.AsSpan(rank[i] * stride, stride);
            float logit = softmax ? row[1] - row[0] : row[0];
            float p = 1f / (1f + MathF.Exp(-logit));
            if (!(p > threshold))
            {
                continue;
            }

            var w = cands[i];
            w.Score = p;
            w.Dx1 = row[reg];
            w.Dy1 = row[reg + 1];
            w.Dx2 = row[reg + 2];
            w.Dy2 = row[reg + 3];
            w.Tag = rank[i];
            kept.Add(w);
        }

        cands.Clear();
        cands.AddRange(kept);
    }

    // One chunk of crops: resampled in order of position, then through the net.
    private void CropChunkBody(int c, Workspace ws, ImageContext ctx)
    {
        var net = ctx.StageNet!;
        int n = ctx.Candidates.Count, chunk = ctx.CropChunkSize, size = net.InputSize, stride = net.OutputStride;
        int first = c * chunk, count = Math.Min(chunk, n - first);
        var boxes = ctx.CropBoxes;
        var (order, _, _) = ctx.CropOrder(n);
        Span<float> crops = ws.Input(count * net.InputLength);
        Span<int> ints = ws.Ints(ctx.Resampler.ScratchInts(size));
        for (int k = 0; k < count; k++)
        {
            int bi = order[first + k] * 4;
            Span<float> dst = crops.Slice(k * net.InputLength, net.InputLength);
            if (boxes[bi + 2] <= 0)
            {
                dst.Clear();
                continue;
            }

            ctx.Resampler.Resample(boxes[bi], boxes[bi + 1], boxes[bi + 2], boxes[bi + 3], size, size, 0, size, inputOffset, inputScale, dst, ints);
        }

        if (backend is not null)
        {
            var stage = net == nets.R ? CascadeStage.RNet : CascadeStage.ONet;
            var outputs = ctx.StageOutputs.AsSpan(first * stride, count * stride);
            if (ctx.BatchMember is { } member)
            {
                member.Run(stage, crops, count, outputs, stride);
            }
            else
            {
                backend.RunCrops(stage, crops, count, outputs, stride);
            }

            return;
        }

        net.Forward(crops, count, ws.A(net.ScratchPerCrop), ws.B(net.ScratchPerCrop), ws.Flat(count * net.FlatLength),
            ws.Dense(net.DenseSize(count)), ctx.StageOutputs.AsSpan(first * stride, count * stride), ws.Batch(net.BatchSize(count)));
    }

    private void ForEach(int loop, int count, int degree, ImageContext ctx, Action<int, Workspace, ImageContext> body, CancellationToken ct)
    {
        if (count == 0)
        {
            return;
        }

        if (LoopProfile.Enabled)
        {
            long start = Stopwatch.GetTimestamp();
            RunLoop(loop, count, degree, ctx, body, ct);
            LoopProfile.AddWall(loop, Stopwatch.GetTimestamp() - start);
            return;
        }

        RunLoop(-1, count, degree, ctx, body, ct);
    }

    private void RunLoop(int loop, int count, int degree, ImageContext ctx, Action<int, Workspace, ImageContext> body, CancellationToken ct)
    {

        if (degree <= 1 || count == 1)
        {
            long start = loop >= 0 ? Stopwatch.GetTimestamp() : 0;
            var ws = Rent();
            try
            {
                for (int i = 0; i < count; i++)
                {
                    ct.ThrowIfCancellationRequested();
                    body(i, ws, ctx);
                }
            }
            finally
            {
                Return(ws);
            }

            if (loop >= 0)
            {
                LoopProfile.AddBusy(loop, 0, Stopwatch.GetTimestamp() - start);
            }

            return;
        }

        // Dynamic scheduling: each worker takes the next item as it becomes free. Items come largest first, so
        // this balances far better than handing out contiguous index ranges.
        int workers = Math.Min(degree, count);
        if (WorkerTeam.TryRent() is { } team)
        {
            try
            {
                team.Run(count, workers, body, ctx, rentWorkspace, returnWorkspace, ct, loop);
            }
            finally
            {
                WorkerTeam.Return(team);
            }

            return;
        }

        // Every team is busy (many concurrent callers): the thread pool, with its per-loop allocations.
        OnThreadPool(count, workers, ctx, body, ct);
    }

    // Apart from ForEach so that its closure is allocated only when this path runs (a lambda capturing parameters
    // makes the compiler allocate the closure at the start of the method that declares them).
    private void OnThreadPool(int count, int workers, ImageContext ctx, Action<int, Workspace, ImageContext> body, CancellationToken ct)
    {
        int next = -1;
        var po = new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = ct };
        Parallel.For(0, workers, po, _ =>
        {
            var ws = Rent();
            try
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    ct.ThrowIfCancellationRequested();
                    body(i, ws, ctx);
                }
            }
            finally
            {
                Return(ws);
            }
        });
    }

    private Workspace Rent()
    {
        lock (workspaces)
        {
            return workspaces.TryPop(out var ws) ? ws : new Workspace();
        }
    }

    private void Return(Workspace ws)
    {
        lock (workspaces)
        {
            workspaces.Push(ws);
        }
    }
}
