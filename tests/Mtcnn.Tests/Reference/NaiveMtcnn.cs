namespace Mtcnn.Tests.Reference;

/// <summary>Outputs of the P-Net over a whole input: <c>Prob</c> [2, H, W] (softmax, channel 1 = face) and
/// <c>Reg</c> [4, H, W] (dx1, dy1, dx2, dy2), both CHW.</summary>
internal sealed record NaivePNetOutput(double[] Prob, double[] Reg, int Height, int Width)
{
    public double FaceProb(int y, int x) => Prob[(1 * Height * Width) + (y * Width) + x];

    public double RegAt(int channel, int y, int x) => Reg[(channel * Height * Width) + (y * Width) + x];
}

/// <summary>Outputs of R-Net or O-Net for one window: <c>Prob</c> [2], <c>Reg</c> [4], <c>Landmarks</c> [10] (O-Net only,
/// <c>x1..x5, y1..y5</c>; empty for R-Net).</summary>
internal sealed record NaiveStageOutput(double[] Prob, double[] Reg, double[] Landmarks);

/// <summary>
/// A deliberately naive float64 forward pass of the original MTCNN nets (spec section 1): NCHW, plain loops,
/// convolutions stride 1 without padding (cross-correlation), per-channel PReLU, ceil-mode max-pooling without padding,
/// fully connected layers on the C-H-W flatten, 2-way softmax. It is the yardstick for the weight conversion and for the
/// optimised inference engine, so it favours obviousness over speed. Thread-safe (no mutable state).
/// </summary>
internal sealed class NaiveMtcnn
{
    private readonly MtcnnWeights _weights;

    public NaiveMtcnn(MtcnnWeights weights)
    {
        _weights = weights;
    }

    /// <summary>The nets with <see cref="MtcnnWeights.Default"/>.</summary>
    public static NaiveMtcnn Default { get; } = new(MtcnnWeights.Default);

    /// <summary>P-Net over a CHW input of 3 x <paramref name="h"/> x <paramref name="w"/> (h, w >= 12).</summary>
    public NaivePNetOutput RunPNet(double[] chw, int h, int w)
    {
        var x = new Map(chw, 3, h, w);
        x = Prelu(Conv(x, "pnet.conv1"), "pnet.prelu1");
        x = MaxPool(x, 2, 2);
        x = Prelu(Conv(x, "pnet.conv2"), "pnet.prelu2");
        x = Prelu(Conv(x, "pnet.conv3"), "pnet.prelu3");
        var logits = Conv(x, "pnet.conv4_1");
        var reg = Conv(x, "pnet.conv4_2");
        int plane = logits.H * logits.W;
        var prob = new double[2 * plane];
        for (int p = 0; p < plane; p++)
        {
            var s = Softmax2(logits.Data[p], logits.Data[plane + p]);
            prob[p] = s[0];
            prob[plane + p] = s[1];
        }

        return new NaivePNetOutput(prob, reg.Data, logits.H, logits.W);
    }

    /// <summary>R-Net on one 3 x 24 x 24 CHW window.</summary>
    public NaiveStageOutput RunRNet(double[] chw)
    {
        var x = new Map(chw, 3, 24, 24);
        x = Prelu(Conv(x, "rnet.conv1"), "rnet.prelu1");
        x = MaxPool(x, 3, 2);
        x = Prelu(Conv(x, "rnet.conv2"), "rnet.prelu2");
        x = MaxPool(x, 3, 2);
        x = Prelu(Conv(x, "rnet.conv3"), "rnet.prelu3");
        var f = PreluVector(Dense(x.Data, "rnet.dense4"), "rnet.prelu4");
        return new NaiveStageOutput(Softmax2Vector(Dense(f, "rnet.dense5_1")), Dense(f, "rnet.dense5_2"), []);
    }

    /// <summary>O-Net on one 3 x 48 x 48 CHW window.</summary>
    public NaiveStageOutput RunONet(double[] chw)
    {
        var x = new Map(chw, 3, 48, 48);
        x = Prelu(Conv(x, "onet.conv1"), "onet.prelu1");
        x = MaxPool(x, 3, 2);
        x = Prelu(Conv(x, "onet.conv2"), "onet.prelu2");
        x = MaxPool(x, 3, 2);
        x = Prelu(Conv(x, "onet.conv3"), "onet.prelu3");
        x = MaxPool(x, 2, 2);
        x = Prelu(Conv(x, "onet.conv4"), "onet.prelu4");
        var f = PreluVector(Dense(x.Data, "onet.dense5"), "onet.prelu5");
        return new NaiveStageOutput(
            Softmax2Vector(Dense(f, "onet.dense6_1")), Dense(f, "onet.dense6_2"), Dense(f, "onet.dense6_3"));
    }

    private Map Conv(Map x, string layer)
    {
        var wt = _weights.Get(layer + ".weight");
        var bias = _weights.Get(layer + ".bias").Data;
        int outC = wt.Shape[0], inC = wt.Shape[1], kh = wt.Shape[2], kw = wt.Shape[3];
        if (inC != x.C)
        {
            throw new InvalidOperationException($"{layer} expects {inC} input channels, got {x.C}.");
        }

        int oh = x.H - kh + 1, ow = x.W - kw + 1;
        var y = new double[outC * oh * ow];
        for (int o = 0; o < outC; o++)
        {
            for (int oy = 0; oy < oh; oy++)
            {
                for (int ox = 0; ox < ow; ox++)
                {
                    double sum = bias[o];
                    for (int i = 0; i < inC; i++)
                    {
                        for (int ky = 0; ky < kh; ky++)
                        {
                            for (int kx = 0; kx < kw; kx++)
                            {
                                sum += wt.Data[(((((o * inC) + i) * kh) + ky) * kw) + kx] * x.At(i, oy + ky, ox + kx);
                            }
                        }
                    }

                    y[(((o * oh) + oy) * ow) + ox] = sum;
                }
            }
        }

        return new Map(y, outC, oh, ow);
    }

    private Map Prelu(Map x, string layer)
    {
        var slope = _weights.Get(layer + ".weight").Data;
        var y = new double[x.Data.Length];
        int plane = x.H * x.W;
        for (int c = 0; c < x.C; c++)
        {
            for (int p = 0; p < plane; p++)
            {
                double v = x.Data[(c * plane) + p];
                y[(c * plane) + p] = v > 0 ? v : slope[c] * v;
            }
        }

        return new Map(y, x.C, x.H, x.W);
    }

    private double[] PreluVector(double[] x, string layer)
    {
        var slope = _weights.Get(layer + ".weight").Data;
        return x.Select((v, i) => v > 0 ? v : slope[i] * v).ToArray();
    }

    /// <summary>Caffe's ceil-mode pooling: out = ceil((in - k) / s) + 1; the last window may hang over the edge and
    /// then only covers the pixels inside.</summary>
    private static Map MaxPool(Map x, int k, int s)
    {
        int oh = CeilDiv(x.H - k, s) + 1, ow = CeilDiv(x.W - k, s) + 1;
        var y = new double[x.C * oh * ow];
        for (int c = 0; c < x.C; c++)
        {
            for (int oy = 0; oy < oh; oy++)
            {
                for (int ox = 0; ox < ow; ox++)
                {
                    double m = double.NegativeInfinity;
                    for (int yy = oy * s; yy < Math.Min((oy * s) + k, x.H); yy++)
                    {
                        for (int xx = ox * s; xx < Math.Min((ox * s) + k, x.W); xx++)
                        {
                            m = Math.Max(m, x.At(c, yy, xx));
                        }
                    }

                    y[(((c * oh) + oy) * ow) + ox] = m;
                }
            }
        }

        return new Map(y, x.C, oh, ow);
    }

    private double[] Dense(double[] x, string layer)
    {
        var wt = _weights.Get(layer + ".weight");
        var bias = _weights.Get(layer + ".bias").Data;
        int outF = wt.Shape[0], inF = wt.Shape[1];
        if (inF != x.Length)
        {
            throw new InvalidOperationException($"{layer} expects {inF} inputs, got {x.Length}.");
        }

        var y = new double[outF];
        for (int o = 0; o < outF; o++)
        {
            double sum = bias[o];
            for (int i = 0; i < inF; i++)
            {
                sum += wt.Data[(o * inF) + i] * x[i];
            }

            y[o] = sum;
        }

        return y;
    }

    private static double[] Softmax2Vector(double[] logits) => Softmax2(logits[0], logits[1]);

    private static double[] Softmax2(double a, double b)
    {
        double m = Math.Max(a, b);
        double ea = Math.Exp(a - m), eb = Math.Exp(b - m);
        return [ea / (ea + eb), eb / (ea + eb)];
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    /// <summary>A CHW feature map.</summary>
    private sealed record Map(double[] Data, int C, int H, int W)
    {
        public double At(int c, int y, int x) => Data[(((c * H) + y) * W) + x];
    }
}
