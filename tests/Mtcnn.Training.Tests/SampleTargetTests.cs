using Mtcnn.Evaluation.Annotations;
using Mtcnn.Training.Data;
using Mtcnn.Training.Models;
using Mtcnn.TestSupport;
using TorchSharp;

namespace Mtcnn.Training.Tests;

/// <summary>
/// The generated landmark samples agree with a trained network: the bundled O-Net, run on the 48x48 landmark samples
/// prepared from the shared 80x80 landmark set, predicts points close to the samples' targets — with and without the
/// mirror and rotation augmentation. A wrong transform of the points (or of the pixels) shows up as a large error here.
/// </summary>
[Collection("torch")]
public sealed class SampleTargetTests
{
    [SkippableTheory]
    [InlineData(0.0, 0.0)]
    [InlineData(1.0, 0.0)]
    [InlineData(0.0, 1.0)]
    [InlineData(1.0, 1.0)]
    public void Bundled_onet_predicts_the_landmark_targets(double flip, double rotation)
    {
        var list = SharedData.Require("data/landmarks/trainImageList_80x80.txt");
        var (images, _) = new DataSources { Landmarks = list, LandmarkLines = new LineRange(1, 150) }.Load();
        var options = DataPreparationOptions.For(CascadeStage.ONet) with
        {
            FlipProbability = flip,
            RotationProbability = rotation,
            Weights = MtcnnWeights.Default,
            Ratio = null,
            MaxDegreeOfParallelism = 2,
        };
        var set = DataPreparation.Run(images, options).Samples;
        var errors = LandmarkErrors(set);
        Assert.True(errors.Length > 100, $"only {errors.Length} landmark samples");
        var mean = errors.Average();
        Assert.True(mean < 0.05, $"mean landmark distance between the bundled O-Net and the targets: {mean:F4} of the crop size");
    }

    [SkippableFact]
    public void Bundled_onet_regresses_the_box_targets_of_positives()
    {
        var list = SharedData.Require("data/landmarks/trainImageList_80x80.txt");
        var (images, _) = new DataSources { Landmarks = list, LandmarkLines = new LineRange(1, 150) }.Load();
        var set = DataPreparation.Run(images, DataPreparationOptions.For(CascadeStage.ONet) with { Weights = MtcnnWeights.Default, Ratio = null }).Samples;
        using var net = MtcnnNets.Create(NetKind.ONet, ModelVariant.Original);
        WeightExchange.Import(net, MtcnnWeights.Default);
        var (output, idx) = Forward(net, set, SampleKind.Positive);
        var box = output.Box.data<float>().ToArray();
        // The bundled O-Net was trained on other box conventions, so only the direction is checked: its offsets
        // correlate with the targets.
        var predicted = new List<double>();
        var target = new List<double>();
        for (var k = 0; k < idx.Length; k++)
        {
            for (var c = 0; c < 4; c++)
            {
                predicted.Add(box[k * 4 + c]);
                target.Add(set.Box(idx[k])[c]);
            }
        }

        var r = Correlation(predicted, target);
        Assert.True(r > 0.3, $"correlation of predicted and target box offsets: {r:F3}");
    }

    private static double[] LandmarkErrors(SampleSet set)
    {
        using var net = MtcnnNets.Create(NetKind.ONet, ModelVariant.Original);
        WeightExchange.Import(net, MtcnnWeights.Default);
        var (output, idx) = Forward(net, set, SampleKind.Landmark);
        var lm = output.Landmarks.data<float>().ToArray();
        var errors = new double[idx.Length];
        for (var k = 0; k < idx.Length; k++)
        {
            var t = set.Landmarks(idx[k]);
            double sum = 0;
            for (var p = 0; p < 5; p++)
            {
                sum += Math.Sqrt(Math.Pow(lm[k * 10 + 2 * p] - t[2 * p], 2) + Math.Pow(lm[k * 10 + 2 * p + 1] - t[2 * p + 1], 2));
            }

            errors[k] = sum / 5;
        }

        return errors;
    }

    private static (NetOutput Output, int[] Indices) Forward(MtcnnNet net, SampleSet set, SampleKind kind)
    {
        net.eval();
        var idx = Enumerable.Range(0, set.Count).Where(i => set.Kind(i) == kind).Take(1000).ToArray();
        var plane = 3 * set.Size * set.Size;
        var input = new float[idx.Length * plane];
        for (var k = 0; k < idx.Length; k++)
        {
            InputEncoding.Encode(set.Pixels(idx[k]), set.Size, ModelVariant.Original, input.AsSpan(k * plane, plane));
        }

        using var noGrad = torch.no_grad();
        return (net.forward(torch.tensor(input, [idx.Length, 3, set.Size, set.Size])), idx);
    }

    private static double Correlation(List<double> a, List<double> b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (var i = 0; i < a.Count; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }

        return sab / Math.Sqrt(saa * sbb);
    }
}
