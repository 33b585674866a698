using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Mtcnn.Inference;

/// <summary>
/// A 3x3 convolution (stride 1, no padding) with fused bias and PReLU computed by Winograd's minimal filtering
/// F(m x m, 3x3) for output tiles of m = 2, 3 or 4: a tile takes (m + 2)^2 multiplies per input/output channel pair
/// instead of 9 m^2 (16 instead of 36 for m = 2, 25 instead of 81 for m = 3, 36 instead of 144 for m = 4).
/// </summary>
/// <remarks>
/// <para>
/// Tile (ty, tx) covers outputs (m ty .. m ty + m - 1, m tx .. m tx + m - 1) and reads the (m + 2)^2 input patch at
/// (m ty, m tx). The outputs are <c>A^T [(G g G^T) ⊙ (B^T d B)] A</c>; summed over input channels, the elementwise
/// product is, for each of the (m + 2)^2 transformed points, a matrix product [tiles x Cin] x [Cin x Cout], which runs
/// on the ordinary 1x1 kernels of <see cref="ConvLayer"/>. The transforms are vectorised over channels.
/// F(2x2, 3x3): <c>B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]</c>, <c>G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]</c>,
/// <c>A^T = [1 1 1 0; 0 1 -1 -1]</c>. F(3x3, 3x3) uses the points 0, 1, -1, 2 and infinity:
/// <c>B^T</c> rows <c>[2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1]</c>,
/// <c>G</c> rows <c>[1/2 0 0; -1/2 -1/2 -1/2; -1/6 1/6 -1/6; 1/6 1/3 2/3; 0 0 1]</c>,
/// <c>A^T</c> rows <c>[1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 1]</c>; it fits maps whose side is a multiple of 3 (R-Net's
/// conv2: 9x9 outputs are 9 tiles of 25 points, against 9 tiles of 36 points that cover 12x12 with m = 4).
/// F(4x4, 3x3) uses the points 0, 1, -1, 2, -2 and infinity:
/// <c>B^T</c> rows <c>[4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]</c>,
/// <c>G</c> rows <c>[1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]</c>,
/// <c>A^T</c> rows <c>[1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]</c>.
/// </para>
/// <para>
/// Tiles go in chunks of <see cref="TileChunk"/> so that a chunk's transformed inputs and products stay in the
/// cache. Patches that reach past the valid input read zeros there; such a tile writes only its outputs inside the
/// map. Results differ from the direct convolution by rounding only (relative differences of about 1e-6 for m = 2 and
/// 1e-5 for m = 4 on this project's layers) and do not depend on how tiles are chunked, so a band of rows that starts
/// at a multiple of m gives bit for bit the rows of the whole map.
/// </para>
/// </remarks>
internal sealed class WinogradConv
{
    private const int ScratchBudget = 96 * 1024; // floats of transformed tiles and products per chunk (384 KB, within L2)
    private const int Skew = 16; // floats between the point matrices, so that their rows do not share cache sets

    private readonly ConvLayer[] products;
    private readonly float[] bias;
    private readonly float[] alpha;

    /// <summary>Prepares the transformed weights from OIHW 3x3 weights for output tiles of <paramref name="tile"/> (2, 3 or 4).</summary>
    public WinogradConv(ReadOnlySpan<float> weightOihw, ReadOnlySpan<float> biasValues, ReadOnlySpan<float> preluSlopes, bool hasPrelu,
        int cout, int cin, int inputChannelStride, SimdLevel level, int tile = 4)
    {
        if (tile is not (2 or 3 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(tile), tile, "Winograd tiles are 2x2, 3x3 or 4x4 outputs.");
        }

        Level = level;
        Tile = tile;
        Cin = cin;
        Cout = cout;
        HasPrelu = hasPrelu;
        InputChannelStride = inputChannelStride;
        int lanes = Simd.LanesOf(level);
        OutputChannelStride = (cout + lanes - 1) / lanes * lanes;
        int n = tile + 2;
        Points = n * n;

        // U = G g G^T for every (output, input) pair, in double precision, then one rounding to float.
        double[,] g = tile switch
        {
            2 => new double[,] { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } },
            3 => new double[,] { { 0.5, 0, 0 }, { -0.5, -0.5, -0.5 }, { -1.0 / 6, 1.0 / 6, -1.0 / 6 }, { 1.0 / 6, 1.0 / 3, 2.0 / 3 }, { 0, 0, 1 } },
            _ => new double[,]
            {
                { 0.25, 0, 0 }, { -1.0 / 6, -1.0 / 6, -1.0 / 6 }, { -1.0 / 6, 1.0 / 6, -1.0 / 6 },
                { 1.0 / 24, 1.0 / 12, 1.0 / 6 }, { 1.0 / 24, -1.0 / 12, 1.0 / 6 }, { 0, 0, 1 },
            },
        };
        var u = new float[Points][];
        for (int k = 0; k < Points; k++)
        {
            u[k] = new float[cout * cin];
        }

        var gk = new double[n, 3];
        for (int o = 0; o < cout; o++)
        {
            for (int i = 0; i < cin; i++)
            {
                int w0 = ((o * cin) + i) * 9;
                for (int r = 0; r < n; r++)
                {
                    for (int c = 0; c < 3; c++)
                    {
                        gk[r, c] = (g[r, 0] * weightOihw[w0 + c]) + (g[r, 1] * weightOihw[w0 + 3 + c]) + (g[r, 2] * weightOihw[w0 + 6 + c]);
                    }
                }

                for (int r = 0; r < n; r++)
                {
                    for (int c = 0; c < n; c++)
                    {
                        double v = (gk[r, 0] * g[c, 0]) + (gk[r, 1] * g[c, 1]) + (gk[r, 2] * g[c, 2]);
                        u[(r * n) + c][(o * cin) + i] = (float)v;
                    }
                }
            }
        }

        var zeros = new float[cout];
        products = new ConvLayer[Points];
        for (int k = 0; k < Points; k++)
        {
            products[k] = new ConvLayer(u[k], zeros, [], false, cout, cin, 1, inputChannelStride, level);
        }

        (bias, alpha) = ConvLayer.PaddedBiasAndSlopes(biasValues, preluSlopes, hasPrelu, cout, OutputChannelStride);

        int perTile = Points * (InputChannelStride + OutputChannelStride);
        TileChunk = Math.Clamp(ScratchBudget / perTile / 8 * 8, 8, 64);
    }

    public SimdLevel Level { get; }

    /// <summary>Outputs per tile side (2, 3 or 4).</summary>
    public int Tile { get; }

    /// <summary>Transformed points per tile, (Tile + 2)^2.</summary>
    public int Points { get; }

    public int Cin { get; }

    public int Cout { get; }

    public bool HasPrelu { get; }

    public int InputChannelStride { get; }

    public int OutputChannelStride { get; }

    /// <summary>Tiles transformed and multiplied together.</summary>
    public int TileChunk { get; }

    /// <summary>Floats of scratch <c>Forward</c> needs.</summary>
    public int ScratchSize => (Points * (InPoint + OutPoint)) + (Points * InputChannelStride);

    // Floats from one point's matrix to the next: a chunk's tiles plus a skew. Without the skew the matrices lie a
    // multiple of 4 KB apart and the transforms' streams fight over the same few cache sets.
    private int InPoint => (TileChunk * InputChannelStride) + Skew;

    private int OutPoint => (TileChunk * OutputChannelStride) + Skew;

    /// <summary>True when a 3x3 layer with this many input channels is cheaper by Winograd than directly.</summary>
    /// <remarks>The transforms cost per input channel about what the products save per output channel, so the first
    /// layers (3 input channels) stay direct. Measured here on a 200x300 map: P-Net's conv2 (10 input channels)
    /// 0.37 ms direct, 0.38 with 2x2 tiles, 0.29 with 4x4; conv3 (16) 1.18, 0.83, 0.61.</remarks>
    public static bool Pays(int k, int cin) => k == 3 && cin >= 8;

    /// <summary>
    /// The tile (3 or 4) that needs the fewest transformed points to cover an <paramref name="outSize"/>-square output
    /// map: 4 unless 3 divides the map more tightly (9x9: 9 tiles of 25 points against 9 tiles of 36).
    /// </summary>
    public static int TileFor(int outSize)
    {
        long Points(int m)
        {
            long tiles = (outSize + m - 1) / m;
            return tiles * tiles * (m + 2) * (m + 2);
        }

        return Points(3) < Points(4) ? 3 : 4;
    }

    /// <summary>
    /// Convolves an input of <paramref name="inHeight"/> x <paramref name="inWidth"/> valid pixels (rows
    /// <paramref name="rowPixels"/> apart, channel stride <see cref="InputChannelStride"/>) into its
    /// (h - 2) x (w - 2) valid outputs, written at <c>(y * rowPixels + x) * OutputChannelStride</c> (the placement of
    /// <see cref="ConvLayer"/>'s flattened run; the other positions are left untouched).
    /// </summary>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int inHeight, int inWidth, int rowPixels, Span<float> scratch) =>
        Forward(input, output, inHeight, inWidth, rowPixels, scratch, 1, 0, 0);

    /// <summary>
    /// The same for <paramref name="images"/> maps of one size at once, image i's input starting at
    /// <c>i * inImageStride</c> floats and its output at <c>i * outImageStride</c>: the tiles of all images go through
    /// the products together, so that small maps (a few tiles each) still fill the kernels' blocks of eight.
    /// </summary>
    public unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int inHeight, int inWidth, int rowPixels, Span<float> scratch,
        int images, long inImageStride, long outImageStride)
    {
        int outH = inHeight - 2, outW = inWidth - 2;
        if (outH <= 0 || outW <= 0)
        {
            return;
        }

        int m = Tile;
        int tilesW = (outW + m - 1) / m, tilesH = (outH + m - 1) / m, perImage = tilesW * tilesH, tiles = perImage * images;
        int sin = InputChannelStride, sout = OutputChannelStride;
        if (scratch.Length < ScratchSize)
        {
            throw new ArgumentException($"Winograd scratch needs {ScratchSize} floats, got {scratch.Length}.", nameof(scratch));
        }

        long lastIn = ((((long)(inHeight - 1) * rowPixels) + inWidth) * sin) + ((images - 1) * inImageStride);
        long lastOut = ((((long)(outH - 1) * rowPixels) + outW) * sout) + ((images - 1) * outImageStride);
        if (input.Length < lastIn || output.Length < lastOut)
        {
            throw new ArgumentException("Winograd input or output buffer is too small for the map.");
        }

        int t = TileChunk, ip = InPoint, op = OutPoint, points = Points;
        Span<float> v = scratch[..(points * ip)];
        Span<float> mm = scratch.Slice(points * ip, points * op);
        fixed (float* pin = input)
        fixed (float* pout = output)
        fixed (float* pv = v)
        fixed (float* pm = mm)
        fixed (float* pstage = scratch.Slice(points * (ip + op), points * sin))
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
                Tile = m,
                PerImage = perImage,
                InImage = inImageStride,
                OutImage = outImageStride,
                InStride = sin,
                OutStride = sout,
                InPoint = ip,
                OutPoint = op,
                Prelu = HasPrelu,
            };
            for (int first = 0; first < tiles; first += t)
            {
                int count = Math.Min(t, tiles - first);
                Transform(ref geo, first, count, output: false);
                for (int k = 0; k < points; k++)
                {
                    products[k].Forward(v.Slice(k * ip, count * sin), mm.Slice(k * op, count * sout), 0, count, 1);
                }

                Transform(ref geo, first, count, output: true);
            }
        }
    }

    // The input or output transform of a chunk, for the layer's vector width.
    private void Transform(ref Geometry geo, int first, int count, bool output)
    {
        switch (Level)
        {
            case SimdLevel.Vector512:
                Transforms<Ops512, Vector512<float>>.Run(ref geo, first, count, output);
                break;
            case SimdLevel.Vector256:
                Transforms<Ops256, Vector256<float>>.Run(ref geo, first, count, output);
                break;
            case SimdLevel.Vector128:
                Transforms<Ops128, Vector128<float>>.Run(ref geo, first, count, output);
                break;
            default:
                Transforms<OpsScalar, float>.Run(ref geo, first, count, output);
                break;
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
        public int PerImage;
        public long InImage;
        public long OutImage;
        public int Tile;
        public int InStride;
        public int OutStride;
        public int InPoint;
        public int OutPoint;
        public bool Prelu;
    }

    /// <summary>Steps through tiles in order (image, tile row, tile column) without a division per tile.</summary>
    private struct TileWalk
    {
        public int Image;
        public int Y0;
        public int X0;

        public TileWalk(ref Geometry g, int first)
        {
            Image = first / g.PerImage;
            int tile = first % g.PerImage;
            Y0 = tile / g.TilesW * g.Tile;
            X0 = tile % g.TilesW * g.Tile;
        }

        public void Next(ref Geometry g)
        {
            X0 += g.Tile;
            if (X0 >= g.TilesW * g.Tile)
            {
                X0 = 0;
                Y0 += g.Tile;
                if (Y0 >= g.OutHeight)
                {
                    Y0 = 0;
                    Image++;
                }
            }
        }
    }

    /// <summary>The input and output transforms for one vector width.</summary>
    private static unsafe class Transforms<TOps, TV>
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        public static void Run(ref Geometry g, int first, int count, bool output)
        {
            if (output)
            {
                Output(ref g, first, count);
            }
            else
            {
                Input(ref g, first, count);
            }
        }

        // V = B^T d B for each tile of the chunk, written as one matrix [tile][channel] per point.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Input(ref Geometry g, int first, int count)
        {
            int s = g.InStride, m = g.Tile, n = m + 2;
            long point = g.InPoint;
            TV* tmp = stackalloc TV[36];
            var walk = new TileWalk(ref g, first);
            for (int t = 0; t < count; t++, walk.Next(ref g))
            {
                int image = walk.Image, y0 = walk.Y0, x0 = walk.X0;
                float* input = g.Input + (image * g.InImage);
                float* src;
                long rowStep;
                if (y0 + n <= g.InHeight && x0 + n <= g.InWidth)
                {
                    src = input + ((((long)y0 * g.RowPixels) + x0) * s);
                    rowStep = (long)g.RowPixels * s;
                }
                else
                {
                    // A patch past the edge: copy its inside part next to zeros.
                    src = g.Staging;
                    rowStep = (long)n * s;
                    new Span<float>(src, n * n * s).Clear();
                    int cols = Math.Min(n, g.InWidth - x0);
                    for (int r = 0; r < n && y0 + r < g.InHeight; r++)
                    {
                        new ReadOnlySpan<float>(input + ((((long)(y0 + r) * g.RowPixels) + x0) * s), cols * s)
                            .CopyTo(new Span<float>(src + (r * rowStep), cols * s));
                    }
                }

                float* dst = g.Transformed + ((long)t * s);
                for (int c = 0; c < s; c += TOps.Width)
                {
                    float* p = src + c;
                    float* q = dst + c;
                    if (m == 2)
                    {
                        Column2(p, rowStep, s, out var t00, out var t10, out var t20, out var t30, 0);
                        Column2(p, rowStep, s, out var t01, out var t11, out var t21, out var t31, 1);
                        Column2(p, rowStep, s, out var t02, out var t12, out var t22, out var t32, 2);
                        Column2(p, rowStep, s, out var t03, out var t13, out var t23, out var t33, 3);
                        Row2(q, point, t00, t01, t02, t03);
                        Row2(q + (4 * point), point, t10, t11, t12, t13);
                        Row2(q + (8 * point), point, t20, t21, t22, t23);
                        Row2(q + (12 * point), point, t30, t31, t32, t33);
                    }
                    else if (m == 3)
                    {
                        // Columns through B^T into tmp (row-major 5x5), then rows through B into the point matrices.
                        for (int j = 0; j < 5; j++)
                        {
                            float* col = p + (j * s);
                            B3(TOps.Load(col), TOps.Load(col + rowStep), TOps.Load(col + (2 * rowStep)), TOps.Load(col + (3 * rowStep)),
                                TOps.Load(col + (4 * rowStep)), out tmp[j], out tmp[5 + j], out tmp[10 + j], out tmp[15 + j], out tmp[20 + j]);
                        }

                        for (int i = 0; i < 5; i++)
                        {
                            TV* row = tmp + (i * 5);
                            B3(row[0], row[1], row[2], row[3], row[4], out var v0, out var v1, out var v2, out var v3, out var v4);
                            float* o = q + (5 * i * point);
                            TOps.Store(o, v0);
                            TOps.Store(o + point, v1);
                            TOps.Store(o + (2 * point), v2);
                            TOps.Store(o + (3 * point), v3);
                            TOps.Store(o + (4 * point), v4);
                        }
                    }
                    else
                    {
                        // Columns through B^T into tmp (row-major 6x6), then rows through B into the point matrices.
                        for (int j = 0; j < 6; j++)
                        {
                            float* col = p + (j * s);
                            B4(TOps.Load(col), TOps.Load(col + rowStep), TOps.Load(col + (2 * rowStep)), TOps.Load(col + (3 * rowStep)),
                                TOps.Load(col + (4 * rowStep)), TOps.Load(col + (5 * rowStep)),
                                out tmp[j], out tmp[6 + j], out tmp[12 + j], out tmp[18 + j], out tmp[24 + j], out tmp[30 + j]);
                        }

                        for (int i = 0; i < 6; i++)
                        {
                            TV* row = tmp + (i * 6);
                            B4(row[0], row[1], row[2], row[3], row[4], row[5], out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
                            float* o = q + (6 * i * point);
                            TOps.Store(o, v0);
                            TOps.Store(o + point, v1);
                            TOps.Store(o + (2 * point), v2);
                            TOps.Store(o + (3 * point), v3);
                            TOps.Store(o + (4 * point), v4);
                            TOps.Store(o + (5 * point), v5);
                        }
                    }
                }
            }
        }

        // Y = A^T M A for each tile, plus bias and PReLU, stored where the outputs lie inside the map.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Output(ref Geometry g, int first, int count)
        {
            int s = g.OutStride, m = g.Tile;
            long point = g.OutPoint;
            long down = (long)g.RowPixels * s;
            TV* tmp = stackalloc TV[24];
            TV* y = stackalloc TV[16];
            var walk = new TileWalk(ref g, first);
            for (int t = 0; t < count; t++, walk.Next(ref g))
            {
                int image = walk.Image, y0 = walk.Y0, x0 = walk.X0;
                int rows = Math.Min(m, g.OutHeight - y0), cols = Math.Min(m, g.OutWidth - x0);
                float* o = g.Output + (image * g.OutImage) + ((((long)y0 * g.RowPixels) + x0) * s);
                float* src = g.Products + ((long)t * s);
                for (int c = 0; c < s; c += TOps.Width)
                {
                    float* p = src + c;
                    if (m == 2)
                    {
                        // Each row of the 4x4 products collapses to its two output columns, then the rows collapse.
                        A2(TOps.Load(p), TOps.Load(p + point), TOps.Load(p + (2 * point)), TOps.Load(p + (3 * point)), out var r00, out var r01);
                        float* p1 = p + (4 * point);
                        A2(TOps.Load(p1), TOps.Load(p1 + point), TOps.Load(p1 + (2 * point)), TOps.Load(p1 + (3 * point)), out var r10, out var r11);
                        float* p2 = p + (8 * point);
                        A2(TOps.Load(p2), TOps.Load(p2 + point), TOps.Load(p2 + (2 * point)), TOps.Load(p2 + (3 * point)), out var r20, out var r21);
                        float* p3 = p + (12 * point);
                        A2(TOps.Load(p3), TOps.Load(p3 + point), TOps.Load(p3 + (2 * point)), TOps.Load(p3 + (3 * point)), out var r30, out var r31);
                        A2(r00, r10, r20, r30, out y[0], out y[2]);
                        A2(r01, r11, r21, r31, out y[1], out y[3]);
                    }
                    else if (m == 3)
                    {
                        // Columns of the 5x5 products through A^T (3 x 5 values), then each row through A.
                        Column3(p, point, 0, out var u00, out var u10, out var u20);
                        Column3(p, point, 1, out var u01, out var u11, out var u21);
                        Column3(p, point, 2, out var u02, out var u12, out var u22);
                        Column3(p, point, 3, out var u03, out var u13, out var u23);
                        Column3(p, point, 4, out var u04, out var u14, out var u24);
                        if (rows == 3 && cols == 3)
                        {
                            var fb = TOps.Load(g.Bias + c);
                            var fa = TOps.Load(g.Alpha + c);
                            float* oc = o + c;
                            StoreRow3(oc, s, g.Prelu, fb, fa, u00, u01, u02, u03, u04);
                            StoreRow3(oc + down, s, g.Prelu, fb, fa, u10, u11, u12, u13, u14);
                            StoreRow3(oc + (2 * down), s, g.Prelu, fb, fa, u20, u21, u22, u23, u24);
                            continue;
                        }

                        A3(u00, u01, u02, u03, u04, out y[0], out y[1], out y[2]);
                        A3(u10, u11, u12, u13, u14, out y[3], out y[4], out y[5]);
                        A3(u20, u21, u22, u23, u24, out y[6], out y[7], out y[8]);
                    }
                    else if (rows == 4 && cols == 4)
                    {
                        // A full tile with the intermediate kept in registers: columns of the 6x6 products through
                        // A^T (4 x 6 values), then each output row through A, finished and stored at once.
                        Column4(p, point, 0, out var t00, out var t10, out var t20, out var t30);
                        Column4(p, point, 1, out var t01, out var t11, out var t21, out var t31);
                        Column4(p, point, 2, out var t02, out var t12, out var t22, out var t32);
                        Column4(p, point, 3, out var t03, out var t13, out var t23, out var t33);
                        Column4(p, point, 4, out var t04, out var t14, out var t24, out var t34);
                        Column4(p, point, 5, out var t05, out var t15, out var t25, out var t35);
                        var fb = TOps.Load(g.Bias + c);
                        var fa = TOps.Load(g.Alpha + c);
                        float* oc = o + c;
                        StoreRow4(oc, s, g.Prelu, fb, fa, t00, t01, t02, t03, t04, t05);
                        StoreRow4(oc + down, s, g.Prelu, fb, fa, t10, t11, t12, t13, t14, t15);
                        StoreRow4(oc + (2 * down), s, g.Prelu, fb, fa, t20, t21, t22, t23, t24, t25);
                        StoreRow4(oc + (3 * down), s, g.Prelu, fb, fa, t30, t31, t32, t33, t34, t35);
                        continue;
                    }
                    else
                    {
                        // A tile at the map's edge: the same arithmetic in the same order as a full tile (columns through
                        // A^T into tmp, 4 rows x 6 columns, then rows through A), stored only inside the map.
                        for (int j = 0; j < 6; j++)
                        {
                            Column4(p, point, j, out tmp[j], out tmp[6 + j], out tmp[12 + j], out tmp[18 + j]);
                        }

                        for (int r = 0; r < 4; r++)
                        {
                            TV* row = tmp + (r * 6);
                            A4(row[0], row[1], row[2], row[3], row[4], row[5], out y[r * 4], out y[(r * 4) + 1], out y[(r * 4) + 2], out y[(r * 4) + 3]);
                        }
                    }

                    var vb = TOps.Load(g.Bias + c);
                    var va = TOps.Load(g.Alpha + c);
                    if (g.Prelu)
                    {
                        for (int k = 0; k < m * m; k++)
                        {
                            y[k] = TOps.Prelu(TOps.Add(y[k], vb), va);
                        }
                    }
                    else
                    {
                        for (int k = 0; k < m * m; k++)
                        {
                            y[k] = TOps.Add(y[k], vb);
                        }
                    }

                    for (int i = 0; i < rows; i++)
                    {
                        float* orow = o + (i * down) + c;
                        TV* yrow = y + (i * m);
                        for (int j = 0; j < cols; j++)
                        {
                            TOps.Store(orow + (j * s), yrow[j]);
                        }
                    }
                }
            }
        }

        // F(4x4): A^T down column j of the 6x6 products.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Column4(float* p, long point, int j, out TV y0, out TV y1, out TV y2, out TV y3)
        {
            float* q = p + (j * point);
            A4(TOps.Load(q), TOps.Load(q + (6 * point)), TOps.Load(q + (12 * point)), TOps.Load(q + (18 * point)), TOps.Load(q + (24 * point)),
                TOps.Load(q + (30 * point)), out y0, out y1, out y2, out y3);
        }

        // F(4x4): A along one row of the intermediate, plus bias and PReLU, stored as four output pixels.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreRow4(float* o, int s, bool prelu, TV bias, TV slope, TV m0, TV m1, TV m2, TV m3, TV m4, TV m5)
        {
            A4(m0, m1, m2, m3, m4, m5, out var y0, out var y1, out var y2, out var y3);
            y0 = TOps.Add(y0, bias);
            y1 = TOps.Add(y1, bias);
            y2 = TOps.Add(y2, bias);
            y3 = TOps.Add(y3, bias);
            if (prelu)
            {
                y0 = TOps.Prelu(y0, slope);
                y1 = TOps.Prelu(y1, slope);
                y2 = TOps.Prelu(y2, slope);
                y3 = TOps.Prelu(y3, slope);
            }

            TOps.Store(o, y0);
            TOps.Store(o + s, y1);
            TOps.Store(o + (2 * s), y2);
            TOps.Store(o + (3 * s), y3);
        }

        // F(3x3): A^T down column j of the 5x5 products.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Column3(float* p, long point, int j, out TV y0, out TV y1, out TV y2)
        {
            float* q = p + (j * point);
            A3(TOps.Load(q), TOps.Load(q + (5 * point)), TOps.Load(q + (10 * point)), TOps.Load(q + (15 * point)), TOps.Load(q + (20 * point)),
                out y0, out y1, out y2);
        }

        // F(3x3): A along one row of the intermediate, plus bias and PReLU, stored as three output pixels.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreRow3(float* o, int s, bool prelu, TV bias, TV slope, TV m0, TV m1, TV m2, TV m3, TV m4)
        {
            A3(m0, m1, m2, m3, m4, out var y0, out var y1, out var y2);
            y0 = TOps.Add(y0, bias);
            y1 = TOps.Add(y1, bias);
            y2 = TOps.Add(y2, bias);
            if (prelu)
            {
                y0 = TOps.Prelu(y0, slope);
                y1 = TOps.Prelu(y1, slope);
                y2 = TOps.Prelu(y2, slope);
            }

            TOps.Store(o, y0);
            TOps.Store(o + s, y1);
            TOps.Store(o + (2 * s), y2);
        }

        // F(3x3): B^T on five values.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void B3(TV d0, TV d1, TV d2, TV d3, TV d4, out TV r0, out TV r1, out TV r2, out TV r3, out TV r4)
        {
            r3 = TOps.Subtract(d3, d1);                                       // d3 - d1
            r0 = TOps.MultiplyAdd(TOps.Subtract(d0, d2), 2f, r3);             // 2 d0 - d1 - 2 d2 + d3
            r1 = TOps.Subtract(r3, TOps.Add(d1, d2));                         // -2 d1 - d2 + d3
            r2 = TOps.MultiplyAdd(TOps.Subtract(d1, d2), 3f, r3);             // 2 d1 - 3 d2 + d3
            r4 = TOps.MultiplyAdd(r3, -2f, TOps.Subtract(d4, d2));            // 2 d1 - d2 - 2 d3 + d4
        }

        // F(3x3): A^T on five values.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void A3(TV m0, TV m1, TV m2, TV m3, TV m4, out TV y0, out TV y1, out TV y2)
        {
            var a = TOps.Add(m1, m2);
            y0 = TOps.Add(TOps.Add(m0, a), m3);
            y1 = TOps.MultiplyAdd(m3, 2f, TOps.Subtract(m1, m2));
            y2 = TOps.Add(TOps.MultiplyAdd(m3, 4f, a), m4);
        }

        // F(2x2): B^T down column j of the 4x4 patch.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Column2(float* p, long rowStep, int s, out TV a, out TV b, out TV c, out TV d, int j)
        {
            float* q = p + (j * s);
            var d0 = TOps.Load(q);
            var d1 = TOps.Load(q + rowStep);
            var d2 = TOps.Load(q + (2 * rowStep));
            var d3 = TOps.Load(q + (3 * rowStep));
            a = TOps.Subtract(d0, d2);
            b = TOps.Add(d1, d2);
            c = TOps.Subtract(d2, d1);
            d = TOps.Subtract(d1, d3);
        }

        // F(2x2): B along one row, storing the four transformed points.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Row2(float* q, long point, TV x0, TV x1, TV x2, TV x3)
        {
            TOps.Store(q, TOps.Subtract(x0, x2));
            TOps.Store(q + point, TOps.Add(x1, x2));
            TOps.Store(q + (2 * point), TOps.Subtract(x2, x1));
            TOps.Store(q + (3 * point), TOps.Subtract(x1, x3));
        }

        // F(2x2): A^T on four values.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void A2(TV m0, TV m1, TV m2, TV m3, out TV y0, out TV y1)
        {
            y0 = TOps.Add(TOps.Add(m0, m1), m2);
            y1 = TOps.Subtract(TOps.Subtract(m1, m2), m3);
        }

        // F(4x4): B^T on six values.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void B4(TV d0, TV d1, TV d2, TV d3, TV d4, TV d5, out TV r0, out TV r1, out TV r2, out TV r3, out TV r4, out TV r5)
        {
            var t0 = TOps.MultiplyAdd(d2, -4f, d4);   // d4 - 4 d2
            var t1 = TOps.MultiplyAdd(d1, -4f, d3);   // d3 - 4 d1
            var t2 = TOps.Subtract(d4, d2);
            var t3 = TOps.Subtract(d3, d1);
            r0 = TOps.MultiplyAdd(d0, 4f, TOps.MultiplyAdd(d2, -5f, d4));
            r1 = TOps.Add(t1, t0);
            r2 = TOps.Subtract(t0, t1);
            r3 = TOps.MultiplyAdd(t3, 2f, t2);
            r4 = TOps.MultiplyAdd(t3, -2f, t2);
            r5 = TOps.MultiplyAdd(d1, 4f, TOps.MultiplyAdd(d3, -5f, d5));
        }

        // F(4x4): A^T on six values.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void A4(TV m0, TV m1, TV m2, TV m3, TV m4, TV m5, out TV y0, out TV y1, out TV y2, out TV y3)
        {
            var a = TOps.Add(m1, m2);
            var b = TOps.Subtract(m1, m2);
            var c = TOps.Add(m3, m4);
            var d = TOps.Subtract(m3, m4);
            y0 = TOps.Add(TOps.Add(m0, a), c);
            y1 = TOps.MultiplyAdd(d, 2f, b);
            y2 = TOps.MultiplyAdd(c, 4f, a);
            y3 = TOps.Add(TOps.MultiplyAdd(d, 8f, b), m5);
        }
    }
}
