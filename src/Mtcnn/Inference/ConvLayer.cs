using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Mtcnn.Inference;

/// <summary>
/// A convolution (stride 1, no padding) or fully connected layer with an optional fused PReLU, prepared for the
/// vector kernels. Fully connected layers are 1x1 convolutions over a row of N samples.
/// </summary>
/// <remarks>
/// Activations are channels-last: pixel p of a tensor starts at <c>p * ChannelStride</c> floats, where the channel
/// stride is the channel count rounded up to the vector width (padding lanes hold zeros). A tensor's rows are
/// <c>rowPixels</c> pixels apart, which may exceed the valid width: a convolution computes every position of the
/// flattened run <c>[0, (Ho - 1) * rowPixels + Wo)</c> and leaves the <c>k - 1</c> positions at each row's end as
/// don't-care values. That keeps the inner loop a single long run (good for 8-pixel register blocking on 22-pixel
/// rows) at the cost of a few wasted columns.
/// Weights are packed per output-channel block as [block][tap][input channel][lane], so the kernel streams them
/// linearly while it broadcasts one input value to all lanes of a block.
/// </remarks>
internal sealed class ConvLayer
{
    /// <summary>Pixels the vector kernels compute at once (register blocking).</summary>
    private const int PixelBlock = 8;

    private readonly float[] packed;
    private readonly float[] bias;
    private readonly float[] alpha;
    private readonly int segmentLength; // input values per tap segment
    private readonly bool mergeRows;    // one segment per kernel row (tightly packed input)

    /// <summary>Prepares a layer from OIHW weights.</summary>
    /// <param name="weightOihw">Weights [cout, cin, k, k].</param>
    /// <param name="biasValues">Bias [cout].</param>
    /// <param name="preluSlopes">PReLU slopes [cout] or [1] (shared), or null for a linear layer.</param>
    /// <param name="cout">Output channels.</param>
    /// <param name="hasPrelu">Whether a PReLU follows.</param>
    /// <param name="cin">Input channels.</param>
    /// <param name="k">Kernel size.</param>
    /// <param name="inputChannelStride">Channel stride of the input tensor (at least <paramref name="cin"/>).</param>
    /// <param name="level">Kernel family; fixes the lane count of the packing.</param>
    /// <param name="winogradTile">Output tile of the Winograd twin (2 or 4), where there is one: 4 needs fewer multiplies,
    /// 2 suits small maps, whose few 4x4 tiles would leave the product kernels mostly idle.</param>
    public ConvLayer(ReadOnlySpan<float> weightOihw, ReadOnlySpan<float> biasValues, ReadOnlySpan<float> preluSlopes, bool hasPrelu,
        int cout, int cin, int k, int inputChannelStride, SimdLevel level, int winogradTile = 4)
    {
        Level = level;
        Lanes = Simd.LanesOf(level);
        K = k;
        Cin = cin;
        Cout = cout;
        InputChannelStride = inputChannelStride;
        Blocks = (cout + Lanes - 1) / Lanes;
        OutputChannelStride = Blocks * Lanes;
        HasPrelu = hasPrelu;

        // When the input is tightly packed (stride == cin) a kernel row's k pixels are contiguous: one segment per ky.
        mergeRows = inputChannelStride == cin;
        segmentLength = mergeRows ? k * cin : cin;

        int taps = k * k * cin;
        packed = new float[Blocks * taps * Lanes];
        for (int o = 0; o < cout; o++)
        {
            int b = o / Lanes, lane = o % Lanes;
            for (int ky = 0; ky < k; ky++)
            {
                for (int kx = 0; kx < k; kx++)
                {
                    for (int i = 0; i < cin; i++)
                    {
                        int tap = (((ky * k) + kx) * cin) + i;
                        packed[(((b * taps) + tap) * Lanes) + lane] = weightOihw[(((((o * cin) + i) * k) + ky) * k) + kx];
                    }
                }
            }
        }

        (bias, alpha) = PaddedBiasAndSlopes(biasValues, preluSlopes, hasPrelu, cout, OutputChannelStride);

        if (WinogradConv.Pays(k, cin))
        {
            Winograd = new WinogradConv(weightOihw, biasValues, preluSlopes, hasPrelu, cout, cin, inputChannelStride, level, winogradTile);
        }
    }

    /// <summary>
    /// The same layer prepared for Winograd's F(2x2, 3x3) where that is cheaper (3x3 kernels with enough input
    /// channels), else null. Networks use it for whole maps; <see cref="Forward(ReadOnlySpan{float}, Span{float}, int, int, int)"/>
    /// always computes directly.
    /// </summary>
    public WinogradConv? Winograd { get; }

    /// <summary>Floats of scratch <see cref="Winograd"/> needs (0 without it).</summary>
    public int WinogradScratch => Winograd?.ScratchSize ?? 0;

    /// <summary>
    /// Bias and PReLU slopes padded to <paramref name="stride"/> lanes (zeros in the padding; a shared slope repeated
    /// for every channel; all zeros without PReLU).
    /// </summary>
    internal static (float[] Bias, float[] Slopes) PaddedBiasAndSlopes(ReadOnlySpan<float> biasValues, ReadOnlySpan<float> preluSlopes,
        bool hasPrelu, int cout, int stride)
    {
        var b = new float[stride];
        var a = new float[stride];
        biasValues[..cout].CopyTo(b);
        if (hasPrelu)
        {
            for (int o = 0; o < cout; o++)
            {
                a[o] = preluSlopes.Length == 1 ? preluSlopes[0] : preluSlopes[o];
            }
        }

        return (b, a);
    }

    /// <summary>The kernel family the weights are packed for.</summary>
    public SimdLevel Level { get; }

    /// <summary>Vector lanes (output channels per block).</summary>
    public int Lanes { get; }

    /// <summary>Kernel size.</summary>
    public int K { get; }

    /// <summary>Input channels used.</summary>
    public int Cin { get; }

    /// <summary>Output channels.</summary>
    public int Cout { get; }

    /// <summary>Output channel blocks of <see cref="Lanes"/>.</summary>
    public int Blocks { get; }

    /// <summary>Expected channel stride of the input.</summary>
    public int InputChannelStride { get; }

    /// <summary>Channel stride of the output (<see cref="Cout"/> rounded up to the lanes).</summary>
    public int OutputChannelStride { get; }

    /// <summary>True when a PReLU follows the convolution.</summary>
    public bool HasPrelu { get; }

    /// <summary>Multiply-adds per output position.</summary>
    public long MacsPerPosition => (long)K * K * Cin * Cout;

    /// <summary>
    /// Computes output positions <c>[first, first + count)</c> of the flattened run. Input position p's window starts
    /// at input pixel p; output position p is written at <c>p * OutputChannelStride</c>.
    /// </summary>
    /// <param name="input">Input tensor.</param>
    /// <param name="output">Output tensor.</param>
    /// <param name="first">First output position.</param>
    /// <param name="count">Number of output positions.</param>
    /// <param name="inputRowPixels">Row length of the input in pixels (irrelevant for 1x1 layers).</param>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int first, int count, int inputRowPixels) =>
        Forward(input, output, Iota.Get(first + count).Slice(first, count), inputRowPixels);

    /// <summary>
    /// Computes the given output positions (in the flattened run; see the class remarks). Used to skip the
    /// don't-care columns of small maps, where they would be a sizeable share of the work.
    /// </summary>
    public unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<int> positions, int inputRowPixels)
    {
        int count = positions.Length;
        if (count <= 0)
        {
            return;
        }

        int segments = mergeRows ? K : K * K;
        int* seg = stackalloc int[segments];
        for (int g = 0; g < segments; g++)
        {
            int ky = mergeRows ? g : g / K;
            int kx = mergeRows ? 0 : g % K;
            seg[g] = ((ky * inputRowPixels) + kx) * InputChannelStride;
        }

        fixed (float* pin = input)
        fixed (float* pout = output)
        fixed (float* pw = packed)
        fixed (float* pb = bias)
        fixed (float* pa = alpha)
        fixed (int* ppos = positions)
        {
            var args = new KernelArgs
            {
                Positions = ppos,
                Input = pin,
                Output = pout,
                Weights = pw,
                Bias = pb,
                Alpha = pa,
                Segments = seg,
                SegmentCount = segments,
                SegmentLength = segmentLength,
                Taps = K * K * Cin,
                InStride = InputChannelStride,
                OutStride = OutputChannelStride,
                Prelu = HasPrelu,
            };
            int full = Level == SimdLevel.Scalar ? count : count - (count % PixelBlock);
            switch (Level)
            {
                case SimdLevel.Vector512:
                    Direct<Ops512, Vector512<float>>(ref args, Blocks, full, count, pairs: true);
                    break;
                case SimdLevel.Vector256:
                    Direct<Ops256, Vector256<float>>(ref args, Blocks, full, count, pairs: true);
                    break;
                case SimdLevel.Vector128:
                    Direct<Ops128, Vector128<float>>(ref args, Blocks, full, count, PairsFit);
                    break;
                default:
                    for (int b = 0; b < Blocks; b++)
                    {
                        RunScalar(ref args, b, 0, count, Lanes);
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// Whether the 8 x 2 kernel's 19 live vectors fit the register file: 32 vector registers with AVX-512 (EVEX
    /// encodings, which the JIT uses for 128-bit vectors too) and on ARM64; 16 on other x64, where the 128-bit path
    /// runs 8 x 1 blocks instead.
    /// </summary>
    private static readonly bool PairsFit = Avx512F.IsSupported || AdvSimd.Arm64.IsSupported;

    // Whole blocks of eight positions block by block (two blocks at a time with 'pairs'), then the few positions left
    // over position by position with all output blocks at once: a lone position is one chain of dependent FMAs per
    // block, and running up to four blocks' chains side by side keeps the FMA units busy where one chain would wait on
    // its latency. Both paths add the taps in the same order, so a position's result does not depend on which one it
    // took, nor on the vector width.
    private static void Direct<TOps, TV>(ref KernelArgs args, int blocks, int full, int count, bool pairs)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        for (int b = 0; b < blocks; b++)
        {
            if (pairs && b + 1 < blocks)
            {
                if (typeof(TOps) == typeof(Ops512))
                {
                    Run512Pair(ref args, b, 0, full);
                }
                else
                {
                    RunPair<TOps, TV>(ref args, b, 0, full);
                }

                b++;
            }
            else
            {
                Run<TOps, TV>(ref args, b, 0, full);
            }
        }

        Tail<TOps, TV>(ref args, full, count, blocks);
    }

    // Positions [start, end) one at a time, every output block, four blocks' accumulators at once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tail<TOps, TV>(ref KernelArgs a, int start, int end, int blocks)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        int l = TOps.Width;
        long next = (long)a.Taps * l;
        for (int p = start; p < end; p++)
        {
            float* pix = a.Input + ((long)a.Positions[p] * a.InStride);
            float* o = a.Output + ((long)a.Positions[p] * a.OutStride);
            for (int b = 0; b < blocks; b += 4)
            {
                // Up to four blocks; with fewer left, the spare chains repeat the last block and are not stored.
                int n = Math.Min(4, blocks - b);
                int k1 = Math.Min(1, n - 1), k2 = Math.Min(2, n - 1), k3 = Math.Min(3, n - 1);
                long d1 = k1 * next, d2 = k2 * next, d3 = k3 * next;
                float* w = a.Weights + (b * next);
                TV c0 = TOps.Load(a.Bias + (b * l)), c1 = TOps.Load(a.Bias + ((b + k1) * l));
                TV c2 = TOps.Load(a.Bias + ((b + k2) * l)), c3 = TOps.Load(a.Bias + ((b + k3) * l));
                for (int g = 0; g < a.SegmentCount; g++)
                {
                    float* q = pix + a.Segments[g];
                    for (int e = 0; e < a.SegmentLength; e++, w += l)
                    {
                        float x = q[e];
                        c0 = TOps.MultiplyAdd(TOps.Load(w), x, c0);
                        c1 = TOps.MultiplyAdd(TOps.Load(w + d1), x, c1);
                        c2 = TOps.MultiplyAdd(TOps.Load(w + d2), x, c2);
                        c3 = TOps.MultiplyAdd(TOps.Load(w + d3), x, c3);
                    }
                }

                TailStore<TOps, TV>(ref a, o, b, c0);
                if (n > 1)
                {
                    TailStore<TOps, TV>(ref a, o, b + 1, c1);
                }

                if (n > 2)
                {
                    TailStore<TOps, TV>(ref a, o, b + 2, c2);
                }

                if (n > 3)
                {
                    TailStore<TOps, TV>(ref a, o, b + 3, c3);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TailStore<TOps, TV>(ref KernelArgs a, float* o, int block, TV c)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        int l = TOps.Width;
        TOps.Store(o + (block * l), a.Prelu ? TOps.Prelu(c, TOps.Load(a.Alpha + (block * l))) : c);
    }

    private unsafe struct KernelArgs
    {
        public float* Input;
        public float* Output;
        public int* Positions;
        public float* Weights;
        public float* Bias;
        public float* Alpha;
        public int* Segments;
        public int SegmentCount;
        public int SegmentLength;
        public int Taps;
        public int InStride;
        public int OutStride;
        public bool Prelu;
    }

    // Eight output positions x one block of output channels in 8 accumulators. Per input value: one weight vector
    // load, 8 broadcasts, 8 FMAs. [start, end) must be whole blocks of eight positions.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Run<TOps, TV>(ref KernelArgs a, int block, int start, int end)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        int l = TOps.Width;
        float* wBlock = a.Weights + ((long)block * a.Taps * l);
        TV vb = TOps.Load(a.Bias + (block * l));
        int s = a.InStride;
        for (int p = start; p + PixelBlock <= end; p += PixelBlock)
        {
            TV c0 = vb, c1 = vb, c2 = vb, c3 = vb, c4 = vb, c5 = vb, c6 = vb, c7 = vb;
            float* w = wBlock;
            int* pp = a.Positions + p;
            for (int g = 0; g < a.SegmentCount; g++)
            {
                float* q0 = a.Input + ((long)pp[0] * s) + a.Segments[g];
                float* q1 = a.Input + ((long)pp[1] * s) + a.Segments[g];
                float* q2 = a.Input + ((long)pp[2] * s) + a.Segments[g];
                float* q3 = a.Input + ((long)pp[3] * s) + a.Segments[g];
                float* q4 = a.Input + ((long)pp[4] * s) + a.Segments[g];
                float* q5 = a.Input + ((long)pp[5] * s) + a.Segments[g];
                float* q6 = a.Input + ((long)pp[6] * s) + a.Segments[g];
                float* q7 = a.Input + ((long)pp[7] * s) + a.Segments[g];
                for (int e = 0; e < a.SegmentLength; e++)
                {
                    TV wv = TOps.Load(w);
                    w += l;
                    c0 = TOps.MultiplyAdd(wv, q0[e], c0);
                    c1 = TOps.MultiplyAdd(wv, q1[e], c1);
                    c2 = TOps.MultiplyAdd(wv, q2[e], c2);
                    c3 = TOps.MultiplyAdd(wv, q3[e], c3);
                    c4 = TOps.MultiplyAdd(wv, q4[e], c4);
                    c5 = TOps.MultiplyAdd(wv, q5[e], c5);
                    c6 = TOps.MultiplyAdd(wv, q6[e], c6);
                    c7 = TOps.MultiplyAdd(wv, q7[e], c7);
                }
            }

            float* o = a.Output + (block * l);
            long os = a.OutStride;
            if (a.Prelu)
            {
                TV va = TOps.Load(a.Alpha + (block * l));
                c0 = TOps.Prelu(c0, va); c1 = TOps.Prelu(c1, va); c2 = TOps.Prelu(c2, va); c3 = TOps.Prelu(c3, va);
                c4 = TOps.Prelu(c4, va); c5 = TOps.Prelu(c5, va); c6 = TOps.Prelu(c6, va); c7 = TOps.Prelu(c7, va);
            }

            TOps.Store(o + (pp[0] * os), c0); TOps.Store(o + (pp[1] * os), c1); TOps.Store(o + (pp[2] * os), c2); TOps.Store(o + (pp[3] * os), c3);
            TOps.Store(o + (pp[4] * os), c4); TOps.Store(o + (pp[5] * os), c5); TOps.Store(o + (pp[6] * os), c6); TOps.Store(o + (pp[7] * os), c7);
        }
    }

    // Two output-channel blocks at once: 8 positions x 2 blocks in 16 accumulators. Each broadcast input value feeds
    // two FMAs, which halves the broadcast loads per FMA and gives enough independent accumulators to cover the FMA
    // latency on cores with two FMA pipes. Needs 19 vector registers: only where there are 32 (see PairsFit).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunPair<TOps, TV>(ref KernelArgs a, int block, int start, int end)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        int l = TOps.Width;
        float* wBlock = a.Weights + ((long)block * a.Taps * l);
        long next = (long)a.Taps * l;
        TV vb0 = TOps.Load(a.Bias + (block * l));
        TV vb1 = TOps.Load(a.Bias + ((block + 1) * l));
        int s = a.InStride;
        for (int p = start; p + PixelBlock <= end; p += PixelBlock)
        {
            TV c0 = vb0, c1 = vb0, c2 = vb0, c3 = vb0, c4 = vb0, c5 = vb0, c6 = vb0, c7 = vb0;
            TV d0 = vb1, d1 = vb1, d2 = vb1, d3 = vb1, d4 = vb1, d5 = vb1, d6 = vb1, d7 = vb1;
            float* w = wBlock;
            int* pp = a.Positions + p;
            for (int g = 0; g < a.SegmentCount; g++)
            {
                float* q0 = a.Input + ((long)pp[0] * s) + a.Segments[g];
                float* q1 = a.Input + ((long)pp[1] * s) + a.Segments[g];
                float* q2 = a.Input + ((long)pp[2] * s) + a.Segments[g];
                float* q3 = a.Input + ((long)pp[3] * s) + a.Segments[g];
                float* q4 = a.Input + ((long)pp[4] * s) + a.Segments[g];
                float* q5 = a.Input + ((long)pp[5] * s) + a.Segments[g];
                float* q6 = a.Input + ((long)pp[6] * s) + a.Segments[g];
                float* q7 = a.Input + ((long)pp[7] * s) + a.Segments[g];
                for (int e = 0; e < a.SegmentLength; e++)
                {
                    TV w0 = TOps.Load(w);
                    TV w1 = TOps.Load(w + next);
                    w += l;
                    TV x = TOps.LoadBroadcast(q0 + e);
                    c0 = TOps.FusedMultiplyAdd(x, w0, c0);
                    d0 = TOps.FusedMultiplyAdd(x, w1, d0);
                    x = TOps.LoadBroadcast(q1 + e);
                    c1 = TOps.FusedMultiplyAdd(x, w0, c1);
                    d1 = TOps.FusedMultiplyAdd(x, w1, d1);
                    x = TOps.LoadBroadcast(q2 + e);
                    c2 = TOps.FusedMultiplyAdd(x, w0, c2);
                    d2 = TOps.FusedMultiplyAdd(x, w1, d2);
                    x = TOps.LoadBroadcast(q3 + e);
                    c3 = TOps.FusedMultiplyAdd(x, w0, c3);
                    d3 = TOps.FusedMultiplyAdd(x, w1, d3);
                    x = TOps.LoadBroadcast(q4 + e);
                    c4 = TOps.FusedMultiplyAdd(x, w0, c4);
                    d4 = TOps.FusedMultiplyAdd(x, w1, d4);
                    x = TOps.LoadBroadcast(q5 + e);
                    c5 = TOps.FusedMultiplyAdd(x, w0, c5);
                    d5 = TOps.FusedMultiplyAdd(x, w1, d5);
                    x = TOps.LoadBroadcast(q6 + e);
                    c6 = TOps.FusedMultiplyAdd(x, w0, c6);
                    d6 = TOps.FusedMultiplyAdd(x, w1, d6);
                    x = TOps.LoadBroadcast(q7 + e);
                    c7 = TOps.FusedMultiplyAdd(x, w0, c7);
                    d7 = TOps.FusedMultiplyAdd(x, w1, d7);
                }
            }

            long os = a.OutStride;
            float* o = a.Output + (block * l);
            if (a.Prelu)
            {
                TV va0 = TOps.Load(a.Alpha + (block * l));
                TV va1 = TOps.Load(a.Alpha + ((block + 1) * l));
                c0 = TOps.Prelu(c0, va0); c1 = TOps.Prelu(c1, va0); c2 = TOps.Prelu(c2, va0); c3 = TOps.Prelu(c3, va0);
                c4 = TOps.Prelu(c4, va0); c5 = TOps.Prelu(c5, va0); c6 = TOps.Prelu(c6, va0); c7 = TOps.Prelu(c7, va0);
                d0 = TOps.Prelu(d0, va1); d1 = TOps.Prelu(d1, va1); d2 = TOps.Prelu(d2, va1); d3 = TOps.Prelu(d3, va1);
                d4 = TOps.Prelu(d4, va1); d5 = TOps.Prelu(d5, va1); d6 = TOps.Prelu(d6, va1); d7 = TOps.Prelu(d7, va1);
            }

            TOps.Store(o + (pp[0] * os), c0); TOps.Store(o + (pp[1] * os), c1); TOps.Store(o + (pp[2] * os), c2); TOps.Store(o + (pp[3] * os), c3);
            TOps.Store(o + (pp[4] * os), c4); TOps.Store(o + (pp[5] * os), c5); TOps.Store(o + (pp[6] * os), c6); TOps.Store(o + (pp[7] * os), c7);
            o += l;
            TOps.Store(o + (pp[0] * os), d0); TOps.Store(o + (pp[1] * os), d1); TOps.Store(o + (pp[2] * os), d2); TOps.Store(o + (pp[3] * os), d3);
            TOps.Store(o + (pp[4] * os), d4); TOps.Store(o + (pp[5] * os), d5); TOps.Store(o + (pp[6] * os), d6); TOps.Store(o + (pp[7] * os), d7);
        }
    }

    // RunPair for 512 bits, written out: the JIT (.NET 10) compiles the generic RunPair's broadcasts for 512-bit
    // vectors as a scalar load plus a register broadcast (two instructions, one of them on the shuffle port) where
    // this spelling gets one broadcast load, as it does for 256 and 128 bits in the generic kernel.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Run512Pair(ref KernelArgs a, int block, int start, int end)
    {
        const int L = 16;
        float* wBlock = a.Weights + ((long)block * a.Taps * L);
        long next = (long)a.Taps * L;
        var vb0 = Vector512.Load(a.Bias + (block * L));
        var vb1 = Vector512.Load(a.Bias + ((block + 1) * L));
        int s = a.InStride;
        for (int p = start; p + PixelBlock <= end; p += PixelBlock)
        {
            Vector512<float> c0 = vb0, c1 = vb0, c2 = vb0, c3 = vb0, c4 = vb0, c5 = vb0, c6 = vb0, c7 = vb0;
            Vector512<float> d0 = vb1, d1 = vb1, d2 = vb1, d3 = vb1, d4 = vb1, d5 = vb1, d6 = vb1, d7 = vb1;
            float* w = wBlock;
            int* pp = a.Positions + p;
            for (int g = 0; g < a.SegmentCount; g++)
            {
                float* q0 = a.Input + ((long)pp[0] * s) + a.Segments[g];
                float* q1 = a.Input + ((long)pp[1] * s) + a.Segments[g];
                float* q2 = a.Input + ((long)pp[2] * s) + a.Segments[g];
                float* q3 = a.Input + ((long)pp[3] * s) + a.Segments[g];
                float* q4 = a.Input + ((long)pp[4] * s) + a.Segments[g];
                float* q5 = a.Input + ((long)pp[5] * s) + a.Segments[g];
                float* q6 = a.Input + ((long)pp[6] * s) + a.Segments[g];
                float* q7 = a.Input + ((long)pp[7] * s) + a.Segments[g];
                for (int e = 0; e < a.SegmentLength; e++)
                {
                    var w0 = Vector512.Load(w);
                    var w1 = Vector512.Load(w + next);
                    w += L;
                    var x = Vector512.Create(q0[e]);
                    c0 = Vector512.FusedMultiplyAdd(x, w0, c0);
                    d0 = Vector512.FusedMultiplyAdd(x, w1, d0);
                    x = Vector512.Create(q1[e]);
                    c1 = Vector512.FusedMultiplyAdd(x, w0, c1);
                    d1 = Vector512.FusedMultiplyAdd(x, w1, d1);
                    x = Vector512.Create(q2[e]);
                    c2 = Vector512.FusedMultiplyAdd(x, w0, c2);
                    d2 = Vector512.FusedMultiplyAdd(x, w1, d2);
                    x = Vector512.Create(q3[e]);
                    c3 = Vector512.FusedMultiplyAdd(x, w0, c3);
                    d3 = Vector512.FusedMultiplyAdd(x, w1, d3);
                    x = Vector512.Create(q4[e]);
                    c4 = Vector512.FusedMultiplyAdd(x, w0, c4);
                    d4 = Vector512.FusedMultiplyAdd(x, w1, d4);
                    x = Vector512.Create(q5[e]);
                    c5 = Vector512.FusedMultiplyAdd(x, w0, c5);
                    d5 = Vector512.FusedMultiplyAdd(x, w1, d5);
                    x = Vector512.Create(q6[e]);
                    c6 = Vector512.FusedMultiplyAdd(x, w0, c6);
                    d6 = Vector512.FusedMultiplyAdd(x, w1, d6);
                    x = Vector512.Create(q7[e]);
                    c7 = Vector512.FusedMultiplyAdd(x, w0, c7);
                    d7 = Vector512.FusedMultiplyAdd(x, w1, d7);
                }
            }

            long os = a.OutStride;
            float* o = a.Output + (block * L);
            if (a.Prelu)
            {
                var va0 = Vector512.Load(a.Alpha + (block * L));
                var va1 = Vector512.Load(a.Alpha + ((block + 1) * L));
                c0 = Prelu(c0, va0); c1 = Prelu(c1, va0); c2 = Prelu(c2, va0); c3 = Prelu(c3, va0);
                c4 = Prelu(c4, va0); c5 = Prelu(c5, va0); c6 = Prelu(c6, va0); c7 = Prelu(c7, va0);
                d0 = Prelu(d0, va1); d1 = Prelu(d1, va1); d2 = Prelu(d2, va1); d3 = Prelu(d3, va1);
                d4 = Prelu(d4, va1); d5 = Prelu(d5, va1); d6 = Prelu(d6, va1); d7 = Prelu(d7, va1);
            }

            c0.Store(o + (pp[0] * os)); c1.Store(o + (pp[1] * os)); c2.Store(o + (pp[2] * os)); c3.Store(o + (pp[3] * os));
            c4.Store(o + (pp[4] * os)); c5.Store(o + (pp[5] * os)); c6.Store(o + (pp[6] * os)); c7.Store(o + (pp[7] * os));
            o += L;
            d0.Store(o + (pp[0] * os)); d1.Store(o + (pp[1] * os)); d2.Store(o + (pp[2] * os)); d3.Store(o + (pp[3] * os));
            d4.Store(o + (pp[4] * os)); d5.Store(o + (pp[5] * os)); d6.Store(o + (pp[6] * os)); d7.Store(o + (pp[7] * os));
        }

    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Prelu(Vector512<float> x, Vector512<float> slope) =>
        Vector512.FusedMultiplyAdd(Vector512.MinNative(x, Vector512<float>.Zero), slope, Vector512.MaxNative(x, Vector512<float>.Zero));

    // Scalar path: plain loops over the same packed layout; the reference the vector kernels are tested against.
    private static unsafe void RunScalar(ref KernelArgs a, int block, int start, int end, int lanes)
    {
        float* wBlock = a.Weights + ((long)block * a.Taps * lanes);
        float* acc = stackalloc float[lanes];
        for (int p = start; p < end; p++)
        {
            for (int l = 0; l < lanes; l++)
            {
                acc[l] = a.Bias[(block * lanes) + l];
            }

            float* w = wBlock;
            float* basePix = a.Input + ((long)a.Positions[p] * a.InStride);
            for (int g = 0; g < a.SegmentCount; g++)
            {
                float* q = basePix + a.Segments[g];
                for (int e = 0; e < a.SegmentLength; e++)
                {
                    float v = q[e];
                    for (int l = 0; l < lanes; l++)
                    {
                        acc[l] += v * w[l];
                    }

                    w += lanes;
                }
            }

            float* o = a.Output + ((long)a.Positions[p] * a.OutStride) + (block * lanes);
            for (int l = 0; l < lanes; l++)
            {
                float x = acc[l];
                o[l] = a.Prelu && x < 0 ? x * a.Alpha[(block * lanes) + l] : x;
            }
        }
    }
}

/// <summary>A shared, growing table 0, 1, 2, ... used as the position list of contiguous runs.</summary>
internal static class Iota
{
    private static int[] table = Build(1 << 16);

    public static ReadOnlySpan<int> Get(int n)
    {
        var t = table;
        if (t.Length < n)
        {
            t = Build(Math.Max(n, t.Length * 2));
            table = t;
        }

        return t;
    }

    private static int[] Build(int n)
    {
        var t = new int[n];
        for (int i = 0; i < n; i++)
        {
            t[i] = i;
        }

        return t;
    }
}
