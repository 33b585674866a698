using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mtcnn.Inference;

/// <summary>
/// The three MTCNN networks (spec section 1) built from a weight set for one kernel family. Immutable after
/// construction and safe to share between threads; all scratch memory lives in the caller's buffers.
/// </summary>
internal sealed class Networks
{
    public Networks(MtcnnWeights weights, SimdLevel level)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Level = level;
        Variant = weights.Variant;
        CeilPooling = weights.Variant == ModelVariant.Original;
        P = new PNet(weights, level, CeilPooling);
        R = new CropNet(weights, "rnet", level, CeilPooling, 24, [("conv1", 3, 2), ("conv2", 3, 2), ("conv3", 0, 0)], "dense4", "prelu4", ["dense5_1", "dense5_2"]);
        O = new CropNet(weights, "onet", level, CeilPooling, 48, [("conv1", 3, 2), ("conv2", 3, 2), ("conv3", 2, 2), ("conv4", 0, 0)], "dense5", "prelu5", ["dense6_1", "dense6_2", "dense6_3"]);
    }

    public SimdLevel Level { get; }

    public ModelVariant Variant { get; }

    public bool CeilPooling { get; }

    public PNet P { get; }

    public CropNet R { get; }

    public CropNet O { get; }

    /// <summary>Builds a layer from <c>{net}.{layer}.weight/bias</c> (and <c>{net}.{prelu}.weight</c>), checking shapes.</summary>
    internal static ConvLayer Layer(MtcnnWeights weights, string net, string name, string? prelu, int inputChannelStride, SimdLevel level, int? expectedCin = null, int winogradTile = 4)
    {
        var w = weights.Get($"{net}.{name}.weight");
        var b = weights.Get($"{net}.{name}.bias");
        int cout = w.Shape[0], cin = w.Shape.Count > 1 ? w.Shape[1] : 0, k;
        if (w.Shape.Count == 4)
        {
            k = w.Shape[2];
            if (w.Shape[3] != k)
            {
                throw new MtcnnFormatException($"{w.Name}: expected a square kernel, got shape [{string.Join(", ", w.Shape)}].");
            }
        }
        else if (w.Shape.Count == 2)
        {
            k = 1;
        }
        else
        {
            throw new MtcnnFormatException($"{w.Name}: expected a 2-D or 4-D tensor, got shape [{string.Join(", ", w.Shape)}].");
        }

        if (expectedCin is { } ec && ec != cin)
        {
            throw new MtcnnFormatException($"{w.Name}: expected {ec} input channels, got shape [{string.Join(", ", w.Shape)}].");
        }

        if (b.Shape.Count != 1 || b.Shape[0] != cout)
        {
            throw new MtcnnFormatException($"{b.Name}: expected shape [{cout}], got [{string.Join(", ", b.Shape)}].");
        }

        float[] slopes = [];
        if (prelu is not null)
        {
            var a = weights.Get($"{net}.{prelu}.weight");
            if (a.Data.Length != cout && a.Data.Length != 1)
            {
                throw new MtcnnFormatException($"{a.Name}: expected {cout} or 1 slopes, got shape [{string.Join(", ", a.Shape)}].");
            }

            slopes = a.Data;
        }

        return new ConvLayer(w.Data, b.Data, slopes, prelu is not null, cout, cin, k, inputChannelStride, level, winogradTile);
    }

    /// <summary>Concatenates head layers along the output axis into one layer (one pass over the features).</summary>
    internal static (ConvLayer Layer, int[] Outputs) Heads(MtcnnWeights weights, string net, IReadOnlyList<string> names, int cin, int inputChannelStride, SimdLevel level)
    {
        var ws = new List<float>();
        var bs = new List<float>();
        var outs = new int[names.Count];
        for (int i = 0; i < names.Count; i++)
        {
            var w = weights.Get($"{net}.{names[i]}.weight");
            var b = weights.Get($"{net}.{names[i]}.bias");
            int per = w.Shape.Count > 1 ? w.Shape[1] : 0;
            if (per != cin || w.ElementCount != w.Shape[0] * cin)
            {
                throw new MtcnnFormatException($"{w.Name}: expected shape [n, {cin}] or [n, {cin}, 1, 1], got [{string.Join(", ", w.Shape)}].");
            }

            outs[i] = w.Shape[0];
            ws.AddRange(w.Data);
            bs.AddRange(b.Data);
        }

        return (new ConvLayer(ws.ToArray(), bs.ToArray(), [], false, bs.Count, cin, 1, inputChannelStride, level), outs);
    }
}

/// <summary>
/// P-Net: a fully convolutional 12x12-window classifier. It runs on horizontal bands of a pyramid level so that
/// bands can go to different threads; band results equal those of the whole level.
/// </summary>
internal sealed class PNet
{
    public PNet(MtcnnWeights weights, SimdLevel level, bool ceilPooling)
    {
        Level = level;
        CeilPooling = ceilPooling;
        Conv1 = Networks.Layer(weights, "pnet", "conv1", "prelu1", 3, level, 3);
        Conv2 = Networks.Layer(weights, "pnet", "conv2", "prelu2", Conv1.OutputChannelStride, level, Conv1.Cout);
        Conv3 = Networks.Layer(weights, "pnet", "conv3", "prelu3", Conv2.OutputChannelStride, level, Conv2.Cout);
        (Head, int[] outs) = Networks.Heads(weights, "pnet", ["conv4_1", "conv4_2"], Conv3.Cout, Conv3.OutputChannelStride, level);
        ClassOutputs = outs[0];
        if (ClassOutputs is not (1 or 2) || outs[1] != 4)
        {
            throw new MtcnnFormatException($"pnet heads: expected 1 or 2 class outputs and 4 box outputs, got {outs[0]} and {outs[1]}.");
        }

        // The class logit (z1 - z0 for a softmax pair, z0 for a single logit) as one dot product over conv3's channels.
        var cw = weights.Get("pnet.conv4_1.weight").Data;
        var cb = weights.Get("pnet.conv4_1.bias").Data;
        int cin = Conv3.Cout;
        logitWeights = new float[Conv3.OutputChannelStride];
        for (int c = 0; c < cin; c++)
        {
            logitWeights[c] = ClassOutputs == 2 ? cw[cin + c] - cw[c] : cw[c];
        }

        logitBias = ClassOutputs == 2 ? cb[1] - cb[0] : cb[0];

        if (PNetFirstLayer.Fits(Conv1))
        {
            var w1 = weights.Get("pnet.conv1.weight").Data;
            var b1 = weights.Get("pnet.conv1.bias").Data;
            var a1 = weights.Get("pnet.prelu1.weight").Data;
            firstLayer = new PNetFirstLayer(w1, b1, a1, level);
        }
    }

    // conv1 + PReLU + pooling with lanes over pooled columns (vector levels), or null for conv1 and MaxPool.
    private readonly PNetFirstLayer? firstLayer;

    // Screening of the class logit: windows whose screened logit is this far below the bound still get the heads, so
    // that rounding differences between the screen and the head (about 1e-5 here) cannot drop a passing window.
    private const float ScreenMargin = 1e-2f;

    private readonly float[] logitWeights;
    private readonly float logitBias;

    public SimdLevel Level { get; }

    public bool CeilPooling { get; }

    public ConvLayer Conv1 { get; }

    public ConvLayer Conv2 { get; }

    public ConvLayer Conv3 { get; }

    public ConvLayer Head { get; }

    /// <summary>1 (sigmoid logit) or 2 (softmax pair).</summary>
    public int ClassOutputs { get; }

    /// <summary>
    /// Bands that start at a multiple of this many output rows give bit for bit the rows of the whole level (P-Net's
    /// Winograd layer cuts the map into tiles of this many rows).
    /// </summary>
    public int BandAlignment => Math.Max(Conv2.Winograd?.Tile ?? 1, Conv3.Winograd?.Tile ?? 1);

    /// <summary>Output map size for an input of <paramref name="h"/> x <paramref name="w"/>.</summary>
    public (int H, int W) OutputSize(int h, int w) =>
        (MaxPool.OutputSize(h - 2, 2, 2, CeilPooling) - 4, MaxPool.OutputSize(w - 2, 2, 2, CeilPooling) - 4);

    /// <summary>
    /// First input row and row count of the band that produces output rows <c>[first, first + count)</c> of a level
    /// of <paramref name="levelHeight"/> rows: the 2 count + 10 rows they need, plus 4 more where the level has them, so
    /// that conv2's last 4x4 Winograd tile (conv2 makes count + 2 rows) reads the same real rows as in the whole level
    /// instead of zeros (a tile's rounding depends on all its inputs). The band then yields up to 2 extra output rows;
    /// use the first <paramref name="count"/>.
    /// </summary>
    public static (int FirstRow, int Rows) InputRows(int first, int count, int levelHeight) =>
        (2 * first, Math.Min((2 * count) + 14, levelHeight - (2 * first)));

    /// <summary>Floats of scratch each of the two ping-pong buffers needs for an input band.</summary>
    /// <remarks>The last <see cref="WinogradScratch"/> floats of each buffer serve the Winograd layers; the maps
    /// never reach them.</remarks>
    public int ScratchSize(int rows, int width) => MapSize(rows, width) + WinogradScratch;

    private int WinogradScratch => Math.Max(Conv2.WinogradScratch, Conv3.WinogradScratch);

    private int MapSize(int rows, int width)
    {
        long c1 = (long)(rows - 2) * width * Conv1.OutputChannelStride;
        int hp = MaxPool.OutputSize(rows - 2, 2, 2, CeilPooling), wp = MaxPool.OutputSize(width - 2, 2, 2, CeilPooling);
        long p1 = (long)hp * wp * Math.Max(Math.Max(Conv1.OutputChannelStride, Conv2.OutputChannelStride), Math.Max(Conv3.OutputChannelStride, Head.OutputChannelStride));
        long planes = firstLayer is null ? 0 : PNetFirstLayer.ScratchSize(width);
        return (int)Math.Max(Math.Max(c1, p1), planes);
    }

    /// <summary>
    /// Runs the net on an input band (channels-last, 3 floats a pixel, rows <paramref name="width"/> pixels apart).
    /// Returns the output map in <paramref name="a"/>: position (i, j) at <c>(i * RowPixels + j) * Head.OutputChannelStride</c>.
    /// Bands that start at a multiple of <see cref="BandAlignment"/> give bit for bit the rows of the whole level.
    /// </summary>
    public (int H, int W, int RowPixels) Forward(ReadOnlySpan<float> input, int rows, int width, Span<float> a, Span<float> b)
    {
        var (h3, w3, wp) = Trunk(input, rows, width, a, b);
        Head.Forward(b, a, 0, ((h3 - 1) * wp) + w3, wp);
        return (h3, w3, wp);
    }

    /// <summary>
    /// Runs the net like <see cref="Forward(ReadOnlySpan{float}, int, int, Span{float}, Span{float})"/>, but computes
    /// the heads only for the windows of the first <paramref name="maxRows"/> output rows whose class logit can reach
    /// <paramref name="logitBound"/>: a dot product over conv3's channels screens every window first (with a margin, so
    /// no window the heads would pass is dropped), which costs a sixth of the heads. Their positions (row * RowPixels +
    /// column, ascending) go to <paramref name="passing"/>, which needs room for <paramref name="maxRows"/> times the
    /// output width; the head values at other positions are undefined.
    /// </summary>
    public (int H, int W, int RowPixels, int Passing) Forward(ReadOnlySpan<float> input, int rows, int width, Span<float> a, Span<float> b,
        float logitBound, int maxRows, Span<int> passing)
    {
        var (h3, w3, wp) = Trunk(input, rows, width, a, b);
        int n = Screen(b, Math.Min(maxRows, h3), w3, wp, logitBound - ScreenMargin, passing);
        Head.Forward(b, a, passing[..n], wp);
        return (h3, w3, wp, n);
    }

    // Every layer but the heads; conv3's map is left in 'b'.
    private (int H, int W, int RowPixels) Trunk(ReadOnlySpan<float> input, int rows, int width, Span<float> a, Span<float> b)
    {
        int map = MapSize(rows, width), ws = WinogradScratch;
        int h1 = rows - 2, w1 = width - 2;
        int hp = MaxPool.OutputSize(h1, 2, 2, CeilPooling), wp = MaxPool.OutputSize(w1, 2, 2, CeilPooling);

        // conv1 and its pooling go two conv rows at a time through a small buffer that stays in the cache, rather
        // than through a full-size map (16 floats a pixel: tens of MB for a large level) written and read back.
        int c1 = Conv1.OutputChannelStride;
        if (firstLayer is not null)
        {
            firstLayer.Forward(input, rows, width, hp, wp, a[..PNetFirstLayer.ScratchSize(width)], b);
        }
        else
        {
            for (int py = 0; py < hp; py++)
            {
                int y0 = 2 * py, n = Math.Min(2, h1 - y0);
                Conv1.Forward(input[(y0 * width * 3)..], a, 0, ((n - 1) * width) + w1, width);
                MaxPool.Forward(a, n, w1, width, c1, 2, 2, CeilPooling, b.Slice(py * wp * c1, wp * c1), Level);
            }
        }

        int h2 = hp - 2, w2 = wp - 2;
        Conv(Conv2, b, a, hp, wp, a.Slice(map, ws));
        int h3 = h2 - 2, w3 = w2 - 2;
        Conv(Conv3, a, b, h2, w2, b.Slice(map, ws), wp);
        return (h3, w3, wp);
    }

    // Positions of the first 'rows' rows (w valid columns, rows 'row' pixels apart) of conv3's map whose screened class
    // logit reaches 'bound'; all of them for the scalar level or without a bound.
    private int Screen(ReadOnlySpan<float> map, int rows, int w, int row, float bound, Span<int> passing)
    {
        if (!float.IsNegativeInfinity(bound))
        {
            switch (Level)
            {
                case SimdLevel.Vector512 when Avx512F.IsSupported:
                    return Screen<PNet512, Vector512<float>>(map, rows, w, row, bound, passing);
                case SimdLevel.Vector256 when Vector256.IsHardwareAccelerated:
                    return Screen<PNet256, Vector256<float>>(map, rows, w, row, bound, passing);
                case SimdLevel.Vector128 when Vector128.IsHardwareAccelerated:
                    return Screen<PNet128, Vector128<float>>(map, rows, w, row, bound, passing);
            }
        }

        int n = 0;
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < w; j++)
            {
                passing[n++] = (i * row) + j;
            }
        }

        return n;
    }

    // The screen over one vector width: a vector of partial products per window, a block of as many windows as lanes,
    // then the lanes of each window's vector summed into one lane per window and compared with the bound.
    private unsafe int Screen<TOps, TV>(ReadOnlySpan<float> map, int rows, int w, int row, float bound, Span<int> passing)
        where TOps : IPNetVectors<TV>
        where TV : unmanaged
    {
        int n = 0, lanes = TOps.Width;
        int cs = Conv3.OutputChannelStride, vectors = cs / lanes;
        var vbias = TOps.Create(logitBias);
        var vbound = TOps.Create(bound);
        var dots = stackalloc TV[16];
        fixed (float* pm = map)
        fixed (float* pw = logitWeights)
        fixed (int* pp = passing)
        {
            for (int i = 0; i < rows; i++)
            {
                int rowStart = i * row;
                for (int j = 0; j < w; j += lanes)
                {
                    // One vector of partial products per window (the last block repeats the row's last window) ...
                    for (int k = 0; k < lanes; k++)
                    {
                        float* x = pm + ((long)(rowStart + Math.Min(j + k, w - 1)) * cs);
                        var acc = TOps.Multiply(TOps.Load(x), TOps.Load(pw));
                        for (int v = 1; v < vectors; v++)
                        {
                            acc = TOps.FusedMultiplyAdd(TOps.Load(x + (lanes * v)), TOps.Load(pw + (lanes * v)), acc);
                        }

                        dots[k] = acc;
                    }

                    // ... then window k's sum in lane k.
                    TOps.SumLanes(dots);
                    uint bits = TOps.AtLeast(TOps.Add(dots[0], vbias), vbound);
                    if (w - j < lanes)
                    {
                        bits &= (1u << (w - j)) - 1;
                    }

                    while (bits != 0)
                    {
                        pp[n++] = rowStart + j + BitOperations.TrailingZeroCount(bits);
                        bits &= bits - 1;
                    }
                }
            }
        }

        return n;
    }

    // A 3x3 layer over a map of h x w valid pixels whose rows are 'row' pixels apart (default: w).
    private static void Conv(ConvLayer layer, ReadOnlySpan<float> input, Span<float> output, int h, int w, Span<float> scratch, int row = 0)
    {
        row = row == 0 ? w : row;
        if (layer.Winograd is { } fast)
        {
            fast.Forward(input, output, h, w, row, scratch);
        }
        else
        {
            layer.Forward(input, output, 0, ((h - 3) * row) + w - 2, row);
        }
    }
}

/// <summary>
/// R-Net or O-Net: a stack of convolutions with pooling on a fixed-size crop, then fully connected layers and
/// merged heads (class, box, and for O-Net the landmarks). Runs a batch of crops.
/// </summary>
internal sealed class CropNet
{
    private readonly (ConvLayer Conv, int PoolKernel, int PoolStride)[] convs;
    private readonly int[][] positions; // valid output positions of each convolution (rows are 'row' pixels apart)
    private readonly int[] headOutputs;
    private readonly int flatH;
    private readonly int flatW;
    private readonly int mapSize;
    private readonly int winogradScratch;
    private readonly int batchLayer = -1; // the Winograd layer run on all crops at once, or -1
    private readonly int batchInSize;     // its input side (the map is compact: rows 'side' pixels apart)
    private readonly int batchIn;         // floats of one crop's input to it
    private readonly int batchOut;        // floats of one crop's output of it

    public CropNet(MtcnnWeights weights, string net, SimdLevel level, bool ceilPooling, int inputSize,
        (string Name, int PoolKernel, int PoolStride)[] convSpec, string dense, string densePrelu, string[] heads)
    {
        Level = level;
        CeilPooling = ceilPooling;
        InputSize = inputSize;
        convs = new (ConvLayer, int, int)[convSpec.Length];
        positions = new int[convSpec.Length][];
        int stride = 3, channels = 3, size = inputSize;
        long scratch = 0;
        for (int i = 0; i < convSpec.Length; i++)
        {
            // Winograd tiles of 3x3 or 4x4 outputs, whichever covers the map with fewer points (R-Net's conv2: 3x3).
            // A map with fewer than 16 tiles (R-Net's conv2: 9, O-Net's conv3: 4) would leave the product kernels,
            // which take tiles eight at a time, mostly idle; that layer runs on a batch of crops at once (measured per
            // crop, O-Net's conv3 alone: 36 us with 4x4 tiles, 22 with 2x2).
            int tile = WinogradConv.TileFor(size - 2);
            var c = Networks.Layer(weights, net, convSpec[i].Name, $"prelu{i + 1}", stride, level, channels, tile);
            int tilesPerCrop = ((size - 2 + tile - 1) / tile) * ((size - 2 + tile - 1) / tile);
            if (c.Winograd is not null && tilesPerCrop < 16 && batchLayer < 0)
            {
                batchLayer = i;
                batchInSize = size;
                batchIn = size * size * stride;
                batchOut = size * size * c.OutputChannelStride;
            }

            convs[i] = (c, convSpec[i].PoolKernel, convSpec[i].PoolStride);
            int outSize = size - c.K + 1;
            positions[i] = new int[outSize * outSize];
            for (int y = 0; y < outSize; y++)
            {
                for (int x = 0; x < outSize; x++)
                {
                    positions[i][(y * outSize) + x] = (y * size) + x;
                }
            }

            scratch = Math.Max(scratch, (long)outSize * size * c.OutputChannelStride);
            size = convSpec[i].PoolKernel > 0 ? MaxPool.OutputSize(outSize, convSpec[i].PoolKernel, convSpec[i].PoolStride, ceilPooling) : outSize;
            scratch = Math.Max(scratch, (long)size * size * c.OutputChannelStride);
            stride = c.OutputChannelStride;
            channels = c.Cout;
        }

        flatH = flatW = size;
        FlatLength = size * size * stride;
        mapSize = (int)scratch;
        winogradScratch = convs.Max(c => c.Conv.WinogradScratch);
        ScratchPerCrop = mapSize + winogradScratch;

        // The first fully connected layer is stored for a C-H-W flatten; the features here are H-W-C with a padded
        // channel stride, so reorder its columns once (zeros for padding lanes).
        var dw = weights.Get($"{net}.{dense}.weight");
        int chw = channels * size * size;
        if (dw.Shape.Count != 2 || dw.Shape[1] != chw)
        {
            throw new MtcnnFormatException($"{dw.Name}: expected shape [n, {chw}] ({channels}x{size}x{size} features), got [{string.Join(", ", dw.Shape)}].");
        }

        int dout = dw.Shape[0];
        var reordered = new float[dout * FlatLength];
        for (int o = 0; o < dout; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int y = 0; y < size; y++)
                {
                    for (int x = 0; x < size; x++)
                    {
                        reordered[(o * FlatLength) + ((((y * size) + x) * stride) + c)] = dw.Data[(o * chw) + (((c * size) + y) * size) + x];
                    }
                }
            }
        }

        var flatWeights = new MtcnnWeights(weights.Variant,
        [
            new WeightTensor($"{net}.{dense}.weight", [dout, FlatLength], reordered),
            weights.Get($"{net}.{dense}.bias"),
            weights.Get($"{net}.{densePrelu}.weight"),
        ]);
        Dense = Networks.Layer(flatWeights, net, dense, densePrelu, FlatLength, level, FlatLength);
        (Head, headOutputs) = Networks.Heads(weights, net, heads, dout, Dense.OutputChannelStride, level);
        ClassOutputs = headOutputs[0];
        if (ClassOutputs is not (1 or 2) || headOutputs[1] != 4 || (headOutputs.Length > 2 && headOutputs[2] != 10))
        {
            throw new MtcnnFormatException($"{net} heads: expected 1 or 2 class outputs, 4 box outputs and 10 landmark outputs, got {string.Join(", ", headOutputs)}.");
        }
    }

    public SimdLevel Level { get; }

    public bool CeilPooling { get; }

    /// <summary>Crop side in pixels (24 or 48).</summary>
    public int InputSize { get; }

    /// <summary>Floats of one crop's input (side * side * 3).</summary>
    public int InputLength => InputSize * InputSize * 3;

    /// <summary>Features per crop entering the first fully connected layer.</summary>
    public int FlatLength { get; }

    /// <summary>Floats each of the two ping-pong buffers needs for one crop (the Winograd layers use the tail).</summary>
    public int ScratchPerCrop { get; }

    public ConvLayer Dense { get; }

    public ConvLayer Head { get; }

    /// <summary>1 (sigmoid logit) or 2 (softmax pair).</summary>
    public int ClassOutputs { get; }

    /// <summary>Channel stride of one crop's output row: class outputs, then 4 box values, then 10 landmarks.</summary>
    public int OutputStride => Head.OutputChannelStride;

    /// <summary>Floats of the dense layer's output for <paramref name="n"/> crops.</summary>
    public int DenseSize(int n) => n * Dense.OutputChannelStride;

    /// <summary>
    /// Floats of the <c>batch</c> buffer <see cref="Forward(ReadOnlySpan{float}, int, Span{float}, Span{float}, Span{float}, Span{float}, Span{float}, Span{float})"/>
    /// needs to run its small-map Winograd layer on <paramref name="n"/> crops at once (0 when the net has none).
    /// </summary>
    public int BatchSize(int n) => batchLayer < 0 ? 0 : (n * (batchIn + batchOut)) + convs[batchLayer].Conv.WinogradScratch;

    /// <summary>
    /// Runs <paramref name="n"/> crops (each <see cref="InputLength"/> floats, channels-last, 3 floats a pixel) and
    /// writes their head outputs to <paramref name="output"/> (<see cref="OutputStride"/> floats per crop).
    /// With a <paramref name="batch"/> buffer of <see cref="BatchSize"/> floats the layer whose map has few Winograd
    /// tiles runs on all crops together; without one (empty), crop by crop. Both give the same numbers.
    /// </summary>
    public void Forward(ReadOnlySpan<float> crops, int n, Span<float> a, Span<float> b, Span<float> flat, Span<float> dense, Span<float> output,
        Span<float> batch = default)
    {
        bool batched = batchLayer >= 0 && batch.Length >= BatchSize(n);
        int stop = batched ? batchLayer : convs.Length;
        Span<float> ins = batched ? batch[..(n * batchIn)] : default;
        for (int i = 0; i < n; i++)
        {
            int size = InputSize, row = InputSize;
            var src = RunLayers(crops.Slice(i * InputLength, InputLength), ref size, ref row, 0, stop, a, b, false);
            if (batched)
            {
                // Park the layer input of each crop (compact, rows 'size' apart).
                for (int y = 0; y < size; y++)
                {
                    int cs = batchIn / (size * size);
                    src.Slice(y * row * cs, size * cs).CopyTo(ins.Slice((i * batchIn) + (y * size * cs), size * cs));
                }
            }
            else
            {
                Flatten(src, row, flat.Slice(i * FlatLength, FlatLength));
            }
        }

        if (batched)
        {
            var conv = convs[batchLayer].Conv;
            Span<float> outs = batch.Slice(n * batchIn, n * batchOut);
            conv.Winograd!.Forward(ins, outs, batchInSize, batchInSize, batchInSize, batch[(n * (batchIn + batchOut))..], n, batchIn, batchOut);
            for (int i = 0; i < n; i++)
            {
                int size = batchInSize, row = batchInSize;
                var src = RunLayers(outs.Slice(i * batchOut, batchOut), ref size, ref row, batchLayer, convs.Length, a, b, true);
                Flatten(src, row, flat.Slice(i * FlatLength, FlatLength));
            }
        }

        Dense.Forward(flat, dense, 0, n, 1);
        Head.Forward(dense, output, 0, n, 1);
    }

    // Layers [from, to) of one crop from 'src' (size x size valid pixels, rows 'row' apart). With 'convDone' the
    // first layer's convolution has already run ('src' is its output) and only its pooling remains.
    private ReadOnlySpan<float> RunLayers(ReadOnlySpan<float> src, ref int size, ref int row, int from, int to,
        Span<float> a, Span<float> b, bool convDone)
    {
        bool srcInA = false; // the input lives in neither scratch buffer
        for (int l = from; l < to; l++)
        {
            var (conv, pk, ps) = convs[l];
            int outSize = size - conv.K + 1;
            ReadOnlySpan<float> convOut;
            if (convDone && l == from)
            {
                convOut = src;
            }
            else
            {
                Span<float> target = srcInA ? b : a;
                if (conv.Winograd is { } fast)
                {
                    fast.Forward(src, target, size, size, row, target.Slice(mapSize, winogradScratch));
                }
                else
                {
                    conv.Forward(src, target, positions[l], row);
                }

                convOut = target;
                srcInA = !srcInA;
            }

            if (pk > 0)
            {
                Span<float> poolOut = srcInA ? b : a;
                MaxPool.Forward(convOut, outSize, outSize, row, conv.OutputChannelStride, pk, ps, CeilPooling, poolOut, Level);
                size = MaxPool.OutputSize(outSize, pk, ps, CeilPooling);
                row = size;
                src = poolOut;
                srcInA = !srcInA;
            }
            else
            {
                size = outSize;
                src = convOut;
            }
        }

        return src;
    }

    // src: the last map (flatH x flatW valid pixels, rows 'row' apart); compact it into one crop's feature row.
    private void Flatten(ReadOnlySpan<float> src, int row, Span<float> dst)
    {
        int cs = convs[^1].Conv.OutputChannelStride;
        for (int y = 0; y < flatH; y++)
        {
            src.Slice(y * row * cs, flatW * cs).CopyTo(dst.Slice(y * flatW * cs, flatW * cs));
        }
    }
}
