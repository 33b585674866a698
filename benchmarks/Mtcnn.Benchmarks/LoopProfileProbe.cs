using System.Globalization;
using Mtcnn.Cascade;

namespace Mtcnn.Benchmarks;

/// <summary>
/// <c>-- profile [rounds]</c>: where the second core idles inside one <c>Detect</c>. For every size and min face of
/// the speed table, at 1 and 2 threads: per stage the wall time (the result's timings), and per parallel loop the wall
/// time and each thread's busy time (LoopProfile); "idle" is threads x wall - busy, the time a thread of the loop had
/// nothing to do (waiting for the other at the loop's end, or never woken because the loop had one item). The part of
/// the total outside every parallel loop runs on the calling thread alone.
/// </summary>
internal static class LoopProfileProbe
{
    public static void Run(int rounds)
    {
        var sources = BenchImages.Sources();
        Console.WriteLine($"photos: {sources.Count}, rounds: {rounds}, cores: {Environment.ProcessorCount}, SIMD: {Mtcnn.Inference.Simd.Best}; ms per image (mean)");
        foreach (var (w, h) in new[] { (640, 480), (1280, 720), (1920, 1080) })
        {
            var images = sources.Select(s => BenchImages.Load(s, w, h)).ToArray();
            foreach (int minFace in new[] { 20, 40 })
            {
                foreach (int threads in new[] { 1, 2 })
                {
                    var detector = new FaceDetector(new DetectorOptions { MinFaceSize = minFace, MaxDegreeOfParallelism = threads });
                    foreach (var image in images)
                    {
                        detector.Detect(image);
                    }

                    LoopProfile.Reset();
                    LoopProfile.Enabled = true;
                    double pyramid = 0, pnet = 0, rnet = 0, onet = 0, total = 0;
                    int n = 0;
                    for (int r = 0; r < rounds; r++)
                    {
                        foreach (var image in images)
                        {
                            var t = detector.Detect(image).Timings;
                            pyramid += t.Pyramid.TotalMilliseconds;
                            pnet += t.PNet.TotalMilliseconds;
                            rnet += t.RNet.TotalMilliseconds;
                            onet += t.ONet.TotalMilliseconds;
                            total += t.Total.TotalMilliseconds;
                            n++;
                        }
                    }

                    LoopProfile.Enabled = false;
                    var loops = LoopProfile.Snapshot();
                    string F(double v) => (v / n).ToString("F2", CultureInfo.InvariantCulture);
                    double inLoops = loops.Sum(l => l.Wall) * 1000;
                    Console.WriteLine($"{w}x{h} / {minFace} / {threads} thread(s): total {F(total)} = pyramid {F(pyramid)} + P-Net {F(pnet)} + R-Net {F(rnet)} + O-Net {F(onet)}; outside parallel loops {F(total - inLoops)}");
                    for (int l = 0; l < loops.Length; l++)
                    {
                        var (calls, wall, busy) = loops[l];
                        double busyAll = busy.Sum() * 1000;
                        double idle = (threads * wall * 1000) - busyAll;
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"    {LoopProfile.Names[l],-9} {(double)calls / n,5:F1} loops, wall {F(wall * 1000)}, busy caller {F(busy[0] * 1000)} helper {F(busy.Skip(1).Sum() * 1000)}, idle {F(Math.Max(0, idle))}"));
                    }
                }
            }
        }
    }
}
