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
    public static unsafe void Forward(ReadOnlySpan<float> input, int height, int width, int rowPixels, int channelStride,
        int kernel, int stride, bool ceilMode, Span<float> output, SimdLevel level)
    {
        int ho = OutputSize(height, kernel, stride, ceilMode);
        int wo = OutputSize(width, kernel, stride, ceilMode);
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
                    int c = 0;
                    if (level == SimdLevel.Vector512)
                    {
                        for (; c < channelStride; c += 16)
                        {
                            var m = Vector512.Load(first + c);
                            for (int y = y0; y < y1; y++)
                            {
                                float* row = pin + ((((long)y * rowPixels) + x0) * channelStride) + c;
                                for (int x = x0; x < x1; x++, row += channelStride)
                                {
                                    m = Vector512.MaxNative(m, Vector512.Load(row));
                                }
                            }

                            m.Store(o + c);
                        }
                    }
                    else if (level == SimdLevel.Vector256)
                    {
                        for (; c < channelStride; c += 8)
                        {
                            var m = Vector256.Load(first + c);
                            for (int y = y0; y < y1; y++)
                            {
                                float* row = pin + ((((long)y * rowPixels) + x0) * channelStride) + c;
                                for (int x = x0; x < x1; x++, row += channelStride)
                                {
                                    m = Vector256.MaxNative(m, Vector256.Load(row));
                                }
                            }

                            m.Store(o + c);
                        }
                    }
                    else
                    {
                        for (; c < channelStride; c++)
                        {
                            float m = first[c];
                            for (int y = y0; y < y1; y++)
                            {
                                float* row = pin + ((((long)y * rowPixels) + x0) * channelStride) + c;
                                for (int x = x0; x < x1; x++, row += channelStride)
                                {
                                    m = Math.Max(m, *row);
                                }
                            }

                            o[c] = m;
                        }
                    }
                }
            }
        }
    }
}
