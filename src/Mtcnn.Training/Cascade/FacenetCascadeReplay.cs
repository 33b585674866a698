using Mtcnn.Training.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Mtcnn.Training.Cascade;

/// <summary>One face found by <see cref="FacenetCascadeReplay"/>: box corners, score and five landmarks (x1, y1, ..., x5, y5), in image pixels.</summary>
public sealed record ReplayFace(float X1, float Y1, float X2, float Y2, float Score, float[] Points);

/// <summary>
/// facenet-pytorch's cascade (the <c>detect_face</c> of its MTCNN class, as the project's SPEC describes it) replayed op for op
/// on libtorch through TorchSharp with this project's training networks: the same tensor operations in the same order
/// (area-interpolated pyramid levels and crops, one crop per box cut out and resized on its own, P-Net per level,
/// R-/O-Net in batches of at most 512, the box arithmetic on tensors), so that its cost can be measured beside the
/// detector on any machine without Python. It is a stand-in for facenet-pytorch, not facenet-pytorch: no Python
/// interpreter between the operations (which makes it faster than the real thing, so ratios against it are
/// conservative), libtorch 2.10 instead of PyTorch 1.13, and non-maximum suppression in C# instead of torchvision's
/// C++ kernel (a small part of the time either way).
/// </summary>
public sealed class FacenetCascadeReplay : IDisposable
{
    private const int CropBatch = 512;
    private readonly MtcnnNet pnet;
    private readonly MtcnnNet rnet;
    private readonly MtcnnNet onet;

    /// <summary>Loads the three networks from <paramref name="weights"/> (either variant).</summary>
    public FacenetCascadeReplay(MtcnnWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        pnet = Load(NetKind.PNet, weights);
        rnet = Load(NetKind.RNet, weights);
        onet = Load(NetKind.ONet, weights);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        pnet.Dispose();
        rnet.Dispose();
        onet.Dispose();
    }

    /// <summary>Detects faces in an RGB24 image (rows of exactly width * 3 bytes), in the order facenet-pytorch returns them.</summary>
    /// <param name="rgb">The pixels.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="minSize">Smallest face searched for, in pixels.</param>
    /// <param name="thresholds">P-, R- and O-Net score thresholds.</param>
    /// <param name="factor">Pyramid scale step.</param>
    /// <exception cref="ArgumentException">The buffer does not hold width x height RGB pixels, or not three thresholds.</exception>
    public IReadOnlyList<ReplayFace> Detect(byte[] rgb, int width, int height, float minSize, float[] thresholds, float factor)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        ArgumentNullException.ThrowIfNull(thresholds);
        if (width < 1 || height < 1 || rgb.Length != (long)width * height * 3)
        {
            throw new ArgumentException($"expected {width} x {height} RGB pixels ({(long)width * height * 3} bytes), got {rgb.Length} bytes", nameof(rgb));
        }

        if (thresholds.Length != 3)
        {
            throw new ArgumentException($"expected three thresholds (P-, R-, O-Net), got {thresholds.Length}", nameof(thresholds));
        }

        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var imgs = torch.tensor(rgb, [1, height, width, 3]).permute(0, 3, 1, 2).to(ScalarType.Float32);

        // Pyramid: scales from 12 / minSize down by `factor` while the short side stays at least 12 pixels.
        var scales = new List<double>();
        double m = 12.0 / minSize, minLength = Math.Min(height, width) * m, scale = m;
        while (minLength >= 12)
        {
            scales.Add(scale);
            scale *= factor;
            minLength *= factor;
        }

        // Stage 1: P-Net on every level, NMS 0.5 within the level, then 0.7 over all of them.
        var levelBoxes = new List<Tensor>();
        foreach (double s in scales)
        {
            long hs = (long)((height * s) + 1), ws = (long)((width * s) + 1);
            var level = F.interpolate(imgs, [hs, ws], mode: InterpolationMode.Area);
            level = (level - 127.5) * 0.0078125;
            var output = ((PNetModule)pnet).ForwardMaps(level);
            var probs = pnet.FaceProbability(output.FaceLogits); // [1, H, W]
            var boxes = CandidateBoxes(output.Box, probs, s, thresholds[0]);
            if (boxes.shape[0] > 0)
            {
                levelBoxes.Add(boxes.index_select(0, Nms(boxes, 0.5f, minimum: false)));
            }
        }

        if (levelBoxes.Count == 0)
        {
            return [];
        }

        var all = torch.cat(levelBoxes, 0);
        all = all.index_select(0, Nms(all, 0.7f, minimum: false));
        var regW = all[.., 2] - all[.., 0];
        var regH = all[.., 3] - all[.., 1];
        var current = torch.stack(
            [all[.., 0] + (all[.., 5] * regW), all[.., 1] + (all[.., 6] * regH), all[.., 2] + (all[.., 7] * regW), all[.., 3] + (all[.., 8] * regH), all[.., 4]], 1);
        current = Square(current);

        // Stage 2: R-Net on 24x24 crops.
        var rOut = RunCrops(rnet, Crops(imgs, current, width, height, 24));
        var rScore = rnet.FaceProbability(rOut.FaceLogits);
        var rPass = (rScore > thresholds[1]).nonzero().flatten();
        current = torch.cat([current.index_select(0, rPass)[.., ..4], rScore.index_select(0, rPass).unsqueeze(1)], 1);
        var rReg = rOut.Box.index_select(0, rPass);
        if (current.shape[0] == 0)
        {
            return [];
        }

        var rKeep = Nms(current, 0.7f, minimum: false);
        current = Square(Regress(current.index_select(0, rKeep), rReg.index_select(0, rKeep)));

        // Stage 3: O-Net on 48x48 crops, landmarks, regression, NMS 0.7 on the smaller box.
        var oOut = RunCrops(onet, Crops(imgs, current, width, height, 48));
        var oScore = onet.FaceProbability(oOut.FaceLogits);
        var oPass = (oScore > thresholds[2]).nonzero().flatten();
        current = torch.cat([current.index_select(0, oPass)[.., ..4], oScore.index_select(0, oPass).unsqueeze(1)], 1);
        var oReg = oOut.Box.index_select(0, oPass);
        var marks = oOut.Landmarks.index_select(0, oPass);
        if (current.shape[0] == 0)
        {
            return [];
        }

        var boxW = (current[.., 2] - current[.., 0] + 1).unsqueeze(1);
        var boxH = (current[.., 3] - current[.., 1] + 1).unsqueeze(1);
        var xs = (boxW * marks[.., TensorIndex.Slice(0, 10, 2)]) + current[.., 0].unsqueeze(1) - 1;
        var ys = (boxH * marks[.., TensorIndex.Slice(1, 10, 2)]) + current[.., 1].unsqueeze(1) - 1;
        current = Regress(current, oReg);
        var keep = Nms(current, 0.7f, minimum: true);
        current = current.index_select(0, keep);
        xs = xs.index_select(0, keep);
        ys = ys.index_select(0, keep);

        float[] b = current.contiguous().data<float>().ToArray(), px = xs.contiguous().data<float>().ToArray(), py = ys.contiguous().data<float>().ToArray();
        var faces = new List<ReplayFace>(b.Length / 5);
        for (int i = 0; i < b.Length / 5; i++)
        {
            var points = new float[10];
            for (int k = 0; k < 5; k++)
            {
                points[2 * k] = px[(i * 5) + k];
                points[(2 * k) + 1] = py[(i * 5) + k];
            }

            faces.Add(new ReplayFace(b[i * 5], b[(i * 5) + 1], b[(i * 5) + 2], b[(i * 5) + 3], b[(i * 5) + 4], points));
        }

        return faces;
    }

    private static MtcnnNet Load(NetKind kind, MtcnnWeights weights)
    {
        var net = MtcnnNets.Create(kind, weights.Variant);
        WeightExchange.Import(net, weights);
        net.eval();
        return net;
    }

    /// <summary>Rows x1, y1, x2, y2, score, dx1, dy1, dx2, dy2 for every P-Net cell at or above the threshold.</summary>
    private static Tensor CandidateBoxes(Tensor reg, Tensor probs, double scale, float threshold)
    {
        var mask = probs >= threshold;                     // [1, H, W]
        var cells = mask.nonzero();                        // [K, 3]: image, row, column
        var score = probs.masked_select(mask);
        var offsets = reg.permute(0, 2, 3, 1)[mask];       // [K, 4]
        var xy = cells[.., 1..].to(ScalarType.Float32).flip(1);
        var q1 = (((2 * xy) + 1) / scale).floor();
        var q2 = (((2 * xy) + 12) / scale).floor();
        return torch.cat([q1, q2, score.unsqueeze(1), offsets], 1);
    }

    /// <summary>Makes each box square around its centre (side = the longer side), keeping any further columns.</summary>
    private static Tensor Square(Tensor boxes)
    {
        var b = boxes.clone();
        var h = b[.., 3] - b[.., 1];
        var w = b[.., 2] - b[.., 0];
        var side = torch.maximum(w, h);
        var x1 = b[.., 0] + (w * 0.5) - (side * 0.5);
        var y1 = b[.., 1] + (h * 0.5) - (side * 0.5);
        b[.., 0] = x1;
        b[.., 1] = y1;
        b[.., 2] = x1 + side;
        b[.., 3] = y1 + side;
        return b;
    }

    /// <summary>Applies the regression offsets (units of the box size, sizes with +1) to the boxes' corners.</summary>
    private static Tensor Regress(Tensor boxes, Tensor reg)
    {
        var b = boxes.clone();
        var w = b[.., 2] - b[.., 0] + 1;
        var h = b[.., 3] - b[.., 1] + 1;
        var moved = torch.stack([b[.., 0] + (reg[.., 0] * w), b[.., 1] + (reg[.., 1] * h), b[.., 2] + (reg[.., 2] * w), b[.., 3] + (reg[.., 3] * h)], 1);
        b[.., ..4] = moved;
        return b;
    }

    /// <summary>One area-resized crop per box: the box truncated to integers and clipped to the image, 1-based.</summary>
    private static Tensor Crops(Tensor imgs, Tensor boxes, int width, int height, int size)
    {
        int[] corners = boxes[.., ..4].trunc().to(ScalarType.Int32).contiguous().data<int>().ToArray();
        var crops = new List<Tensor>(corners.Length / 4);
        for (int k = 0; k < corners.Length / 4; k++)
        {
            int x = Math.Max(corners[4 * k], 1), y = Math.Max(corners[(4 * k) + 1], 1);
            int ex = Math.Min(corners[(4 * k) + 2], width), ey = Math.Min(corners[(4 * k) + 3], height);
            if (ey > y - 1 && ex > x - 1)
            {
                var region = imgs[.., .., (y - 1)..ey, (x - 1)..ex];
                crops.Add(F.interpolate(region, [size, size], mode: InterpolationMode.Area));
            }
        }

        var batch = torch.cat(crops, 0);
        return (batch - 127.5) * 0.0078125;
    }

    /// <summary>The network over the crops in batches of at most 512, outputs concatenated.</summary>
    private static NetOutput RunCrops(MtcnnNet net, Tensor crops)
    {
        var logits = new List<Tensor>();
        var box = new List<Tensor>();
        var marks = new List<Tensor>();
        for (long start = 0; start < crops.shape[0]; start += CropBatch)
        {
            var o = net.forward(crops.narrow(0, start, Math.Min(CropBatch, crops.shape[0] - start)));
            logits.Add(o.FaceLogits);
            box.Add(o.Box);
            marks.Add(o.Landmarks);
        }

        return new NetOutput(torch.cat(logits, 0), torch.cat(box, 0), torch.cat(marks, 0));
    }

    /// <summary>
    /// Greedy non-maximum suppression in decreasing score order; IoU over the union with areas w * h (torchvision's
    /// rule) or, with <paramref name="minimum"/>, over the smaller box with areas (w + 1) * (h + 1).
    /// </summary>
    private static Tensor Nms(Tensor boxes, float threshold, bool minimum)
    {
        float[] b = boxes[.., ..5].contiguous().data<float>().ToArray();
        int n = b.Length / 5;
        var order = Enumerable.Range(0, n).OrderByDescending(i => b[(5 * i) + 4]).ToArray();
        var suppressed = new bool[n];
        var keep = new List<long>();
        float plus = minimum ? 1 : 0;
        for (int p = 0; p < n; p++)
        {
            int i = order[p];
            if (suppressed[i])
            {
                continue;
            }

            keep.Add(i);
            float ax1 = b[5 * i], ay1 = b[(5 * i) + 1], ax2 = b[(5 * i) + 2], ay2 = b[(5 * i) + 3];
            float areaA = (ax2 - ax1 + plus) * (ay2 - ay1 + plus);
            for (int q = p + 1; q < n; q++)
            {
                int j = order[q];
                if (suppressed[j])
                {
                    continue;
                }

                float bx1 = b[5 * j], by1 = b[(5 * j) + 1], bx2 = b[(5 * j) + 2], by2 = b[(5 * j) + 3];
                float iw = Math.Max(0, Math.Min(ax2, bx2) - Math.Max(ax1, bx1) + plus);
                float ih = Math.Max(0, Math.Min(ay2, by2) - Math.Max(ay1, by1) + plus);
                float inter = iw * ih;
                float areaB = (bx2 - bx1 + plus) * (by2 - by1 + plus);
                float overlap = minimum ? inter / Math.Min(areaA, areaB) : inter / (areaA + areaB - inter);
                if (overlap > threshold)
                {
                    suppressed[j] = true;
                }
            }
        }

        return torch.tensor(keep.ToArray());
    }
}
