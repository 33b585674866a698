using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Mtcnn.Inference;

/// <summary>
/// A 3x3 convolution (stride 1, no padding) with fused bias and PReLU computed by Winograd's minimal filtering
/// F(2x2, 3x3): each 2x2 block of outputs takes 16 multiplies per input/output channel pair instead of 36.
/// </summary>
/// <remarks>
/// <para>
/// The map is cut into tiles of 2x2 outputs; tile (ty, tx) reads the 4x4 input patch at (2ty, 2tx). With
/// <c>B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]</c>, <c>G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]</c> and
/// <c>A^T = [1 1 1 0; 0 1 -1 -1]</c>, the outputs are <c>A^T [(G g G^T) ⊙ (B^T d B)] A</c>, where the elementwise
/// product summed over input channels is, for each of the 16 positions of the 4x4 transformed tile, a matrix product
/// [tiles x Cin] x [Cin x Cout]. Those 16 products run on the ordinary 1x1 kernels of <see cref="ConvLayer"/>; the
/// transforms are additions only. Input and output transforms are vectorised over channels.
/// </para>
/// <para>
/// Tiles go in chunks of <see cref="TileChunk"/> so that a chunk's transformed inputs and products stay in the
/// cache. Patches that reach past the valid input (odd output sizes) read zeros there; such a tile writes only
/// its outputs inside the map. Results differ from the direct convolution by rounding only (the transforms use
/// exact coefficients 1 and 1/2), and do not depend on how tiles are chunked, so a band of rows that starts at an
/// even output row gives bit for bit the rows of the whole map.
/// </para>
/// </remarks>
internal sealed class WinogradConv
{
    private const int Points = 16;
    private const int ScratchBudget = 48 * 1024; // floats of transformed tiles and products per chunk
    private const int Skew = 16; // floats between the 16 point matrices, so their rows do not share cache sets

    private readonly ConvLayer[] products = new ConvLayer[Points];
    private readonly float[] bias;
    private readonly float[] alpha;

    /// <summary>Prepares the transformed weights from OIHW 3x3 weights.</summary>
    public WinogradConv(ReadOnlySpan<float> weightOihw, ReadOnlySpan<float> biasValues, ReadOnlySpan<float> preluSlopes, bool hasPrelu,
        int cout, int cin, int inputChannelStride, SimdLevel level)
    {
        Level = level;
        Cin = cin;
        Cout = cout;
        HasPrelu = hasPrelu;
        InputChannelStride = inputChannelStride;
        int lanes = Simd.LanesOf(level);
        OutputChannelStride = (cout + lanes - 1) / lanes * lanes;

        // U = G g G^T for every (output, input) pair, in double precision, then one rounding to float.
        var u = new float[Points][];
        for (int k = 0; k < Points; k++)
        {
            u[k] = new float[cout * cin];
        }

        Span<double> g = stackalloc double[9];
        Span<double> gg = stackalloc double[12]; // G g: 4 x 3
        for (int o = 0; o < cout; o++)
        {
            for (int i = 0; i < cin; i++)
            {
                for (int k = 0; k < 9; k++)
                {
                    g[k] = weightOihw[(((o * cin) + i) * 9) + k];
                }

                for (int c = 0; c < 3; c++)
                {
                    double g0 = g[c], g1 = g[3 + c], g2 = g[6 + c];
                    gg[c] = g0;
                    gg[3 + c] = 0.5 * (g0 + g1 + g2);
                    gg[6 + c] = 0.5 * (g0 - g1 + g2);
                    gg[9 + c] = g2;
                }

                for (int r = 0; r < 4; r++)
                {
                    double h0 = gg[(r * 3) + 0], h1 = gg[(r * 3) + 1], h2 = gg[(r * 3) + 2];
                    u[(r * 4) + 0][(o * cin) + i] = (float)h0;
                    u[(r * 4) + 1][(o * cin) + i] = (float)(0.5 * (h0 + h1 + h2));
                    u[(r * 4) + 2][(o * cin) + i] = (float)(0.5 * (h0 - h1 + h2));
                    u[(r * 4) + 3][(o * cin) + i] = (float)h2;
                }
            }
        }

        var zeros = new float[cout];
        for (int k = 0; k < Points; k++)
        {
            products[k] = new ConvLayer(u[k], zeros, [], false, cout, cin, 1, inputChannelStride, level);
        }

        bias = new float[OutputChannelStride];
        alpha = new float[OutputChannelStride];
        biasValues[..cout].CopyTo(bias);
        if (hasPrelu)
        {
            for (int o = 0; o < cout; o++)
            {
                alpha[o] = preluSlopes.Length == 1 ? preluSlopes[0] : preluSlopes[o];
            }
        }

        int perTile = Points * (InputChannelStride + OutputChannelStride);
        TileChunk = Math.Clamp(ScratchBudget / perTile / 8 * 8, 8, 64);
    }

    public SimdLevel Level { get; }

    public int Cin { get; }

    public int Cout { get; }

    public bool HasPrelu { get; }

    public int InputChannelStride { get; }

    public int OutputChannelStride { get; }

    /// <summary>Tiles transformed and multiplied together.</summary>
    public int TileChunk { get; }

    /// <summary>Floats of scratch <see cref="Forward"/> needs.</summary>
    public int ScratchSize => (Points * (InPoint + OutPoint)) + (16 * InputChannelStride);

    // Floats from one point's matrix to the next: a chunk's tiles plus a skew. Without the skew the 16 matrices lie
    // a multiple of 4 KB apart and the transforms' 16 streams fight over the same few cache sets.
    private int InPoint => (TileChunk * InputChannelStride) + Skew;

    private int OutPoint => (TileChunk * OutputChannelStride) + Skew;

    /// <summary>True when a 3x3 layer with this many input channels is cheaper by Winograd than directly.</summary>
    /// <remarks>With few input channels the transforms cost about what the products save: measured here, P-Net's
    /// conv2 (10 input channels) ran at the same speed both ways, so layers under 16 input channels stay direct.</remarks>
    public static bool Pays(int k, int cin) => k == 3 && cin >= 16;

    /// <summary>
    /// Convolves an input of <paramref name="inHeight"/> x <paramref name="inWidth"/> valid pixels (rows
    /// <paramref name="rowPixels"/> apart, channel stride <see cref="InputChannelStride"/>) into its
    /// (h - 2) x (w - 2) valid outputs, written at <c>(y * rowPixels + x) * OutputChannelStride</c> (the placement of
    /// <see cref="ConvLayer"/>'s flattened run; the other positions are left untouched).
    /// </summary>
    public unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int inHeight, int inWidth, int rowPixels, Span<float> scratch)
    {
        int outH = inHeight - 2, outW = inWidth - 2;
        if (outH <= 0 || outW <= 0)
        {
            return;
        }

        int tilesW = (outW + 1) / 2, tilesH = (outH + 1) / 2, tiles = tilesW * tilesH;
        int sin = InputChannelStride, sout = OutputChannelStride;
        if (scratch.Length < ScratchSize)
        {
            throw new ArgumentException($"Winograd scratch needs {ScratchSize} floats, got {scratch.Length}.", nameof(scratch));
        }

        long lastIn = ((((long)(inHeight - 1) * rowPixels) + inWidth) * sin);
        long lastOut = ((((long)(outH - 1) * rowPixels) + outW) * sout);
        if (input.Length < lastIn || output.Length < lastOut)
        {
            throw new ArgumentException("Winograd input or output buffer is too small for the map.");
        }

        int t = TileChunk, ip = InPoint, op = OutPoint;
        Span<float> v = scratch[..(Points * ip)];
        Span<float> m = scratch.Slice(Points * ip, Points * op);
        fixed (float* pin = input)
        fixed (float* pout = output)
        fixed (float* pv = v)
        fixed (float* pm = m)
        fixed (float* pstage = scratch.Slice(Points * (ip + op), 16 * sin))
        fixed (float* pb = bias)
        fixed (float* pa = alpha)
        {
            var geo = new Geometry
            {
                Input = pin,
                Output = pout,
                Transformed = pv,
                Products = pm,
                Staging = pstage,
                Bias = pb,
                Alpha = pa,
                InHeight = inHeight,
                InWidth = inWidth,
                OutHeight = outH,
                OutWidth = outW,
                RowPixels = rowPixels,
                TilesW = tilesW,
                InStride = sin,
                OutStride = sout,
                InPoint = ip,
                OutPoint = op,
                Prelu = HasPrelu,
            };
            for (int first = 0; first < tiles; first += t)
            {
                int count = Math.Min(t, tiles - first);
                switch (Level)
                {
                    case SimdLevel.Vector512:
                        InputTransform<Ops512, Vector512<float>>(ref geo, first, count);
                        break;
                    case SimdLevel.Vector256:
                        InputTransform<Ops256, Vector256<float>>(ref geo, first, count);
                        break;
                    default:
                        InputTransform<OpsScalar, float>(ref geo, first, count);
                        break;
                }

                for (int k = 0; k < Points; k++)
                {
                    products[k].Forward(v.Slice(k * ip, count * sin), m.Slice(k * op, count * sout), 0, count, 1);
                }

                switch (Level)
                {
                    case SimdLevel.Vector512:
                        OutputTransform<Ops512, Vector512<float>>(ref geo, first, count);
                        break;
                    case SimdLevel.Vector256:
                        OutputTransform<Ops256, Vector256<float>>(ref geo, first, count);
                        break;
                    default:
                        OutputTransform<OpsScalar, float>(ref geo, first, count);
                        break;
                }
            }
        }
    }

    private unsafe struct Geometry
    {
        public float* Input;
        public float* Output;
        public float* Transformed;
        public float* Products;
        public float* Staging;
        public float* Bias;
        public float* Alpha;
        public int InHeight;
        public int InWidth;
        public int OutHeight;
        public int OutWidth;
        public int RowPixels;
        public int TilesW;
        public int InStride;
        public int OutStride;
        public int InPoint;
        public int OutPoint;
        public bool Prelu;
    }

    // V = B^T d B for each tile of the chunk, written as 16 matrices [tile][channel].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void InputTransform<TOps, TV>(ref Geometry g, int first, int count)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        int s = g.InStride;
        long point = g.InPoint;
        for (int t = 0; t < count; t++)
        {
            int tile = first + t;
            int y0 = tile / g.TilesW * 2, x0 = tile % g.TilesW * 2;
            float* src;
            long rowStep;
            if (y0 + 4 <= g.InHeight && x0 + 4 <= g.InWidth)
            {
                src = g.Input + ((((long)y0 * g.RowPixels) + x0) * s);
                rowStep = (long)g.RowPixels * s;
            }
            else
            {
                // A patch past the edge: copy its inside part next to zeros.
                src = g.Staging;
                rowStep = 4L * s;
                new Span<float>(src, 16 * s).Clear();
                for (int r = 0; r < 4 && y0 + r < g.InHeight; r++)
                {
                    int cols = Math.Min(4, g.InWidth - x0);
                    new ReadOnlySpan<float>(g.Input + ((((long)(y0 + r) * g.RowPixels) + x0) * s), cols * s)
                        .CopyTo(new Span<float>(src + (r * 4L * s), cols * s));
                }
            }

            float* dst = g.Transformed + ((long)t * s);
            for (int c = 0; c < s; c += TOps.Width)
            {
                float* p = src + c;
                Column<TOps, TV>(p, rowStep, out var t00, out var t10, out var t20, out var t30);
                Column<TOps, TV>(p + s, rowStep, out var t01, out var t11, out var t21, out var t31);
                Column<TOps, TV>(p + (2 * s), rowStep, out var t02, out var t12, out var t22, out var t32);
                Column<TOps, TV>(p + (3 * s), rowStep, out var t03, out var t13, out var t23, out var t33);
                float* q = dst + c;
                Row<TOps, TV>(q, point, t00, t01, t02, t03);
                Row<TOps, TV>(q + (4 * point), point, t10, t11, t12, t13);
                Row<TOps, TV>(q + (8 * point), point, t20, t21, t22, t23);
                Row<TOps, TV>(q + (12 * point), point, t30, t31, t32, t33);
            }
        }
    }

    // B^T applied down one column of the patch.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Column<TOps, TV>(float* p, long rowStep, out TV a, out TV b, out TV c, out TV d)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        var d0 = TOps.Load(p);
        var d1 = TOps.Load(p + rowStep);
        var d2 = TOps.Load(p + (2 * rowStep));
        var d3 = TOps.Load(p + (3 * rowStep));
        a = TOps.Subtract(d0, d2);
        b = TOps.Add(d1, d2);
        c = TOps.Subtract(d2, d1);
        d = TOps.Subtract(d1, d3);
    }

    // B applied along one row, storing the four transformed points.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Row<TOps, TV>(float* q, long point, TV x0, TV x1, TV x2, TV x3)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        TOps.Store(q, TOps.Subtract(x0, x2));
        TOps.Store(q + point, TOps.Add(x1, x2));
        TOps.Store(q + (2 * point), TOps.Subtract(x2, x1));
        TOps.Store(q + (3 * point), TOps.Subtract(x1, x3));
    }

    // Y = A^T M A for each tile, plus bias and PReLU, stored where the outputs lie inside the map.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputTransform<TOps, TV>(ref Geometry g, int first, int count)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        int s = g.OutStride;
        long point = g.OutPoint;
        for (int t = 0; t < count; t++)
        {
            int tile = first + t;
            int y0 = tile / g.TilesW * 2, x0 = tile % g.TilesW * 2;
            bool right = x0 + 1 < g.OutWidth, below = y0 + 1 < g.OutHeight;
            float* o = g.Output + ((((long)y0 * g.RowPixels) + x0) * s);
            long down = (long)g.RowPixels * s;
            float* src = g.Products + ((long)t * s);
            for (int c = 0; c < s; c += TOps.Width)
            {
                float* p = src + c;
                // Each row of the 4x4 products collapses to its two output columns, then the rows collapse.
                Collapse<TOps, TV>(p, point, out var r00, out var r01);
                Collapse<TOps, TV>(p + (4 * point), point, out var r10, out var r11);
                Collapse<TOps, TV>(p + (8 * point), point, out var r20, out var r21);
                Collapse<TOps, TV>(p + (12 * point), point, out var r30, out var r31);
                var top0 = TOps.Add(TOps.Add(r00, r10), r20);
                var top1 = TOps.Add(TOps.Add(r01, r11), r21);
                var bot0 = TOps.Subtract(TOps.Subtract(r10, r20), r30);
                var bot1 = TOps.Subtract(TOps.Subtract(r11, r21), r31);
                var vb = TOps.Load(g.Bias + c);
                var y00 = TOps.Add(top0, vb);
                var y01 = TOps.Add(top1, vb);
                var y10 = TOps.Add(bot0, vb);
                var y11 = TOps.Add(bot1, vb);
                if (g.Prelu)
                {
                    var va = TOps.Load(g.Alpha + c);
                    y00 = TOps.Prelu(y00, va);
                    y01 = TOps.Prelu(y01, va);
                    y10 = TOps.Prelu(y10, va);
                    y11 = TOps.Prelu(y11, va);
                }

                TOps.Store(o + c, y00);
                if (right)
                {
                    TOps.Store(o + s + c, y01);
                }

                if (below)
                {
                    TOps.Store(o + down + c, y10);
                    if (right)
                    {
                        TOps.Store(o + down + s + c, y11);
                    }
                }
            }
        }
    }

    // A^T applied along one row of the 4x4 products: the row's two output columns.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Collapse<TOps, TV>(float* p, long point, out TV left, out TV right)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        var m0 = TOps.Load(p);
        var m1 = TOps.Load(p + point);
        var m2 = TOps.Load(p + (2 * point));
        var m3 = TOps.Load(p + (3 * point));
        left = TOps.Add(TOps.Add(m0, m1), m2);
        right = TOps.Subtract(TOps.Subtract(m1, m2), m3);
    }
}
