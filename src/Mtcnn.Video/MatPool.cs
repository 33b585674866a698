using System.Collections.Concurrent;
using OpenCvSharp;

namespace Mtcnn.Video;

/// <summary>
/// Reuses frame buffers between the decoding and output threads, so that steady-state decoding allocates no native
/// memory (OpenCV reads into a Mat of the right size without reallocating). Owns every Mat it handed out.
/// </summary>
internal sealed class MatPool : IDisposable
{
    private readonly ConcurrentBag<Mat> free = [];
    private readonly List<Mat> all = [];

    /// <summary>A free Mat, or a new one.</summary>
    public Mat Rent()
    {
        if (free.TryTake(out var mat))
        {
            return mat;
        }

        mat = new Mat();
        lock (all)
        {
            all.Add(mat);
        }

        return mat;
    }

    /// <summary>Gives a Mat back for reuse.</summary>
    public void Return(Mat mat) => free.Add(mat);

    /// <summary>Releases every Mat ever rented (call when no thread uses them any more).</summary>
    public void Dispose()
    {
        lock (all)
        {
            foreach (var mat in all)
            {
                mat.Dispose();
            }

            all.Clear();
        }

        free.Clear();
    }
}
