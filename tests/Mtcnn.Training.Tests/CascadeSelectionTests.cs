using Mtcnn.Training.Cascade;
using Mtcnn.Training.Models;
using Mtcnn.Training.Training;

namespace Mtcnn.Training.Tests;

/// <summary>Which epoch a validated run keeps, when it stops early, and which layers a freeze list fixes.</summary>
public sealed class CascadeSelectionTests
{
    private static CascadeScore S(int detected, double nme) => new(100, detected, nme, double.NaN);

    [Fact]
    public void An_epoch_must_match_the_start_on_both_numbers_to_replace_it()
    {
        var start = S(90, 0.10);

        // More faces but a worse landmark error, or a better error with fewer faces: the start is kept.
        Assert.Equal(0, CascadeSelection.Select(start, [(1, S(95, 0.11)), (2, S(89, 0.05))]));
        Assert.False(CascadeSelection.IsBetter(S(95, 0.11), start, start));
        Assert.False(CascadeSelection.IsBetter(S(89, 0.05), start, start));

        // Equal on both is no improvement either (the earlier, here the start, stays).
        Assert.Equal(0, CascadeSelection.Select(start, [(1, S(90, 0.10))]));

        // At least as good on both and better on one: kept.
        Assert.Equal(1, CascadeSelection.Select(start, [(1, S(90, 0.09))]));
        Assert.Equal(2, CascadeSelection.Select(start, [(1, S(90, 0.09)), (2, S(91, 0.10)), (3, S(95, 0.12))]));
    }

    [Fact]
    public void Among_eligible_epochs_more_faces_win_then_the_lower_error_then_the_earlier()
    {
        Assert.Equal(2, CascadeSelection.Select(null, [(1, S(80, 0.05)), (2, S(81, 0.20)), (3, S(81, 0.20))]));
        Assert.Equal(3, CascadeSelection.Select(null, [(1, S(80, 0.05)), (2, S(81, 0.20)), (3, S(81, 0.19))]));
        Assert.Equal(1, CascadeSelection.Select(null, [(1, S(0, double.NaN))]));
        Assert.Equal(-1, CascadeSelection.Select(null, []));
        Assert.Equal(0, CascadeSelection.Select(S(1, 0.1), []));
    }

    [Fact]
    public void Early_stopping_counts_epochs_since_the_kept_one()
    {
        var start = S(90, 0.10);
        (int, CascadeScore)[] epochs = [(1, S(90, 0.08)), (2, S(90, 0.09)), (3, S(90, 0.085))];
        Assert.False(CascadeSelection.ShouldStop(start, epochs[..1], 2));
        Assert.False(CascadeSelection.ShouldStop(start, epochs[..2], 2));
        Assert.True(CascadeSelection.ShouldStop(start, epochs, 2));
        Assert.False(CascadeSelection.ShouldStop(start, epochs, 0));

        // Nothing beats the start: the count runs from epoch 0.
        Assert.True(CascadeSelection.ShouldStop(start, [(1, S(80, 0.2))], 1));
        Assert.False(CascadeSelection.ShouldStop(start, [(1, S(80, 0.2))], 2));
    }

    [Fact]
    public void Freeze_groups_pick_the_right_layers_of_each_net()
    {
        string[] trunk = ["trunk"];
        Assert.True(LayerFreeze.IsFrozen(trunk, NetKind.ONet, "dense5.weight"));
        Assert.True(LayerFreeze.IsFrozen(trunk, NetKind.ONet, "prelu5.weight"));
        Assert.False(LayerFreeze.IsFrozen(trunk, NetKind.ONet, "dense6_3.bias"));
        Assert.False(LayerFreeze.IsFrozen(trunk, NetKind.PNet, "conv4_1.weight"));
        Assert.True(LayerFreeze.IsFrozen(trunk, NetKind.PNet, "conv3.weight"));

        // prelu4 follows a convolution in O-Net but the fully connected layer in R-Net.
        string[] conv = ["conv"];
        Assert.True(LayerFreeze.IsFrozen(conv, NetKind.ONet, "prelu4.weight"));
        Assert.False(LayerFreeze.IsFrozen(conv, NetKind.RNet, "prelu4.weight"));
        Assert.False(LayerFreeze.IsFrozen(conv, NetKind.RNet, "dense4.weight"));
        Assert.True(LayerFreeze.IsFrozen(conv, NetKind.RNet, "conv3.bias"));
        Assert.False(LayerFreeze.IsFrozen(conv, NetKind.PNet, "conv4_2.bias"));

        Assert.True(LayerFreeze.IsFrozen(["face"], NetKind.RNet, "dense5_1.weight"));
        Assert.True(LayerFreeze.IsFrozen(["box"], NetKind.ONet, "dense6_2.weight"));
        Assert.False(LayerFreeze.IsFrozen(["box"], NetKind.ONet, "dense6_3.weight"));
        Assert.True(LayerFreeze.IsFrozen(["landmarks"], NetKind.PNet, "conv4_3.weight"));
        Assert.True(LayerFreeze.IsFrozen(["conv2"], NetKind.ONet, "conv2.bias"));
        Assert.False(LayerFreeze.IsFrozen(["conv2"], NetKind.ONet, "conv1.bias"));
    }

    [Fact]
    public void Bad_freeze_lists_are_refused_with_the_reason()
    {
        Assert.Contains("'heads'", Assert.Throws<ArgumentException>(() => LayerFreeze.Validate(["heads"])).Message, StringComparison.Ordinal);
        string[] onet = ["conv1.weight", "dense6_1.weight", "dense6_2.weight", "dense6_3.weight"];
        Assert.Contains("no layer 'dense9'", Assert.Throws<ArgumentException>(() => LayerFreeze.CheckAgainst(["dense9"], NetKind.ONet, onet)).Message, StringComparison.Ordinal);
        Assert.Contains("nothing", Assert.Throws<ArgumentException>(() => LayerFreeze.CheckAgainst(["trunk", "face", "box", "landmarks"], NetKind.ONet, onet)).Message, StringComparison.Ordinal);
        LayerFreeze.CheckAgainst(["trunk", "face"], NetKind.ONet, onet);
        Assert.Throws<ArgumentException>(() => (new TrainOptions { Samples = "x", Freeze = ["x y"] }).Validate());
    }

    [Fact]
    public void Metrics_rows_keep_the_cascade_score_and_older_rows_still_read()
    {
        var m = new EpochMetrics { Epoch = 3, TrainLoss = 0.5, CascadeEvaluated = 554, CascadeDetected = 542, CascadeNme = 0.0798123456789 };
        var back = EpochMetrics.FromCsv(m.ToCsv());
        Assert.Equal(554, back.CascadeEvaluated);
        Assert.Equal(542, back.CascadeDetected);
        Assert.Equal(0.0798123456789, back.CascadeNme);
        Assert.Equal(m.ToCsv(), back.ToCsv());
        Assert.Equal(EpochMetrics.CsvHeader.Split(',').Length, m.ToCsv().Split(',').Length);

        var plain = new EpochMetrics { Epoch = 1, TrainLoss = 0.5 };
        Assert.Null(EpochMetrics.FromCsv(plain.ToCsv()).CascadeScore);
        var old = string.Join(',', plain.ToCsv().Split(',')[..16]);
        Assert.Equal(1, EpochMetrics.FromCsv(old).Epoch);
        Assert.Null(EpochMetrics.FromCsv(old).CascadeScore);
    }
}
