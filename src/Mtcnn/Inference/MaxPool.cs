using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Mtcnn.Inference;

/// <summary>
/// Max-pooling over channels-last tensors without padding. Ceil mode (Caffe, the original MTCNN) lets the last
/// window hang over the edge and takes the maximum of the part inside; floor mode drops incomplete windows.
/// </summary>
internal static class MaxPool
{
    /// <summary>Output length of one axis.</summary>
    public static int OutputSize(int input, int kernel, int stride, bool ceilMode)
    {
        if (input < kernel)
        {
            return ceilMode && input > 0 ? 1 : 0;
        }

        int span = input - kernel;
        return (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
    }

    /// <summary>
    /// Pools a tensor of <paramref name="height"/> x <paramref name="width"/> valid pixels with rows
    /// <paramref name="rowPixels"/> apart into a tightly packed output of rows <c>outWidth</c> pixels apart.
    /// <paramref name="channelStride"/> must be a multiple of the level's lanes.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> input, int height, int width, int rowPixels, int channelStride,
        int kernel, int stride, bool ceilMode, Span<float> output, SimdLevel level)
    {
        switch (level)
        {
            case SimdLevel.Vector512:
                Pool<Ops512, Vector512<float>>(input, height, width, rowPixels, channelStride, kernel, stride, ceilMode, output);
                break;
            case SimdLevel.Vector256:
                Pool<Ops256, Vector256<float>>(input, height, width, rowPixels, channelStride, kernel, stride, ceilMode, output);
                break;
            case SimdLevel.Vector128:
                Pool<Ops128, Vector128<float>>(input, height, width, rowPixels, channelStride, kernel, stride, ceilMode, output);
                break;
            default:
                Pool<OpsScalar, float>(input, height, width, rowPixels, channelStride, kernel, stride, ceilMode, output);
                break;
        }
    }

    // Windows wholly inside the map take their 3x3 or 2x2 maximum as a tree (rows first, then across them), so the
    // maxima do not wait on one another; windows cut by the edge, and other kernel sizes, go value by value.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Pool<TOps, TV>(ReadOnlySpan<float> input, int height, int width, int rowPixels, int channelStride,
        int kernel, int stride, bool ceilMode, Span<float> output)
        where TOps : IVectorOps<TV>
        where TV : unmanaged
    {
        int ho = OutputSize(height, kernel, stride, ceilMode);
        int wo = OutputSize(width, kernel, stride, ceilMode);
        long down = (long)rowPixels * channelStride;
        fixed (float* pin = input)
        fixed (float* pout = output)
        {
            for (int oy = 0; oy < ho; oy++)
            {
                int y0 = oy * stride;
                int y1 = Math.Min(y0 + kernel, height);
                for (int ox = 0; ox < wo; ox++)
                {
                    int x0 = ox * stride;
                    int x1 = Math.Min(x0 + kernel, width);
                    float* o = pout + ((((long)oy * wo) + ox) * channelStride);
                    float* first = pin + ((((long)y0 * rowPixels) + x0) * channelStride);
                    bool full = y1 - y0 == kernel && x1 - x0 == kernel;
                    for (int c = 0; c < channelStride; c += TOps.Width)
                    {
                        float* p = first + c;
                        TV m;
                        if (full && kernel == 3)
                        {
                            var r0 = TOps.Max(TOps.Max(TOps.Load(p), TOps.Load(p + channelStride)), TOps.Load(p + (2 * channelStride)));
                            float* q = p + down;
                            var r1 = TOps.Max(TOps.Max(TOps.Load(q), TOps.Load(q + channelStride)), TOps.Load(q + (2 * channelStride)));
                            q += down;
                            var r2 = TOps.Max(TOps.Max(TOps.Load(q), TOps.Load(q + channelStride)), TOps.Load(q + (2 * channelStride)));
                            m = TOps.Max(TOps.Max(r0, r1), r2);
                        }
                        else if (full && kernel == 2)
                        {
                            m = TOps.Max(TOps.Max(TOps.Load(p), TOps.Load(p + channelStride)), TOps.Max(TOps.Load(p + down), TOps.Load(p + down + channelStride)));
                        }
                        else
                        {
                            m = TOps.Load(p);
                            for (int y = y0; y < y1; y++)
                            {
                                float* row = pin + ((((long)y * rowPixels) + x0) * channelStride) + c;
                                for (int x = x0; x < x1; x++, row += channelStride)
                                {
                                    m = TOps.Max(m, TOps.Load(row));
                                }
                            }
                        }

                        TOps.Store(o + c, m);
                    }
                }
            }
        }
    }
}
