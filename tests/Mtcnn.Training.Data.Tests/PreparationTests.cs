using Mtcnn.Evaluation.Annotations;
using Mtcnn.TestSupport;

namespace Mtcnn.Training.Data.Tests;

/// <summary>Data preparation end to end on the tiny fixtures: ratio, no repeats, determinism, bad inputs, mining.</summary>
public sealed class PreparationTests : IDisposable
{
    private readonly TrainingFixtures.Folder folder = new();

    public void Dispose() => folder.Dispose();

    private static byte[] Bytes(SampleSet set)
    {
        using var stream = new MemoryStream();
        set.Write(stream);
        return stream.ToArray();
    }

    private static void NoRepeats(SampleSet set)
    {
        var seen = new HashSet<string>();
        for (int i = 0; i < set.Count; i++)
        {
            string key = $"{set.SourceImage(i)}|{Convert.ToBase64String(set.Pixels(i))}|{string.Join(',', set.Box(i).ToArray())}|{string.Join(',', set.Landmarks(i).ToArray())}";
            Assert.True(seen.Add(key), $"sample {i} repeats an earlier one");
        }
    }

    [Fact]
    public void PNet_data_from_a_landmark_list_alone_has_every_kind_in_the_ratio()
    {
        string list = TrainingFixtures.LandmarkSet(folder.Path, 12);
        var sources = new DataSources { Landmarks = list };
        Assert.True(sources.UseLandmarkFaces);
        var (images, issues) = sources.Load();
        Assert.Empty(issues);
        Assert.Equal(12, images.Count);
        Assert.All(images, i => Assert.Single(i.Faces));

        var result = DataPreparation.Run(images, DataPreparationOptions.For(CascadeStage.PNet) with { Seed = 5, MaxDegreeOfParallelism = 2 });
        var set = result.Samples;
        Assert.Equal(12, set.Size);
        var g = result.Generated;
        Assert.True(g.Negative > 0 && g.Positive > 0 && g.Part > 0 && g.Landmark > 0, g.ToString());

        // 3:1:1:2 as far as the scarcest kind allows, by dropping (never repeating) samples.
        double unit = new[] { g.Negative / 3.0, g.Positive, g.Part, g.Landmark / 2.0 }.Min();
        Assert.Equal((long)Math.Floor(unit * 3 + 1e-9), result.Kept.Negative);
        Assert.Equal((long)Math.Floor(unit + 1e-9), result.Kept.Positive);
        Assert.Equal((long)Math.Floor(unit + 1e-9), result.Kept.Part);
        Assert.Equal((long)Math.Floor(unit * 2 + 1e-9), result.Kept.Landmark);
        Assert.Equal(result.Kept.Total, set.Count);
        Assert.Equal(result.Kept.Positive, set.CountOf(SampleKind.Positive));
        Assert.Equal(0, result.MinedGenerated.Total);
        NoRepeats(set);
        Assert.Equal("pnet", set.Metadata["net"]);
        Assert.Equal("3:1:1:2", set.Metadata["ratio"]);
        Assert.All(Enumerable.Range(0, set.Count), i => Assert.InRange(set.SourceImage(i), 0, 11));

        // Samples come in image order.
        Assert.True(Enumerable.Range(1, set.Count - 1).All(i => set.SourceImage(i) >= set.SourceImage(i - 1)));
    }

    [Fact]
    public void Ratio_all_keeps_everything_and_max_samples_scales_down()
    {
        var (images, _) = new DataSources { Landmarks = TrainingFixtures.LandmarkSet(folder.Path, 5) }.Load();
        var all = DataPreparation.Run(images, DataPreparationOptions.For(CascadeStage.PNet) with { Ratio = null });
        Assert.Equal(all.Generated, all.Kept);
        NoRepeats(all.Samples);

        var capped = DataPreparation.Run(images, DataPreparationOptions.For(CascadeStage.PNet) with { MaxSamples = 70 });
        Assert.InRange(capped.Samples.Count, 60, 70);
        Assert.Contains(capped.Notes, n => n.Contains("at most 70", StringComparison.Ordinal));

        var noParts = DataPreparation.Run(images, DataPreparationOptions.For(CascadeStage.PNet) with { Ratio = new SampleRatio(1, 1, 0, 1) });
        Assert.Equal(0, noParts.Kept.Part);
        Assert.Equal(noParts.Kept.Negative, noParts.Kept.Positive);
    }

    [Fact]
    public void A_kind_without_samples_is_left_out_of_the_balance()
    {
        string wider = TrainingFixtures.WiderSet(folder.Path);
        var (images, _) = new DataSources { WiderAnnotations = wider, WiderImages = Path.Combine(folder.Path, "images") }.Load();
        var result = DataPreparation.Run(images, DataPreparationOptions.For(CascadeStage.PNet));
        Assert.Equal(0, result.Kept.Landmark);
        Assert.True(result.Kept.Positive > 0);
        Assert.Contains(result.Notes, n => n.Contains("no landmark samples", StringComparison.Ordinal));
    }

    [Fact]
    public void The_same_seed_gives_the_same_file_at_any_thread_count()
    {
        string wider = TrainingFixtures.WiderSet(folder.Path);
        string list = TrainingFixtures.LandmarkSet(folder.Path, 8);
        var (images, _) = new DataSources
        {
            WiderAnnotations = wider,
            WiderImages = Path.Combine(folder.Path, "images"),
            Landmarks = list,
            FacesFromLandmarks = true,
        }.Load();
        Assert.Equal(3 + 8, images.Count);
        var options = DataPreparationOptions.For(CascadeStage.RNet) with { Seed = 42 };
        byte[] one = Bytes(DataPreparation.Run(images, options with { MaxDegreeOfParallelism = 1 }).Samples);
        byte[] three = Bytes(DataPreparation.Run(images, options with { MaxDegreeOfParallelism = 3, ImageCacheBytes = 0 }).Samples);
        Assert.Equal(one, three);
        byte[] other = Bytes(DataPreparation.Run(images, options with { Seed = 43, MaxDegreeOfParallelism = 2 }).Samples);
        Assert.NotEqual(one, other);
    }

    [Fact]
    public void WIDER_invalid_faces_are_never_background()
    {
        string wider = TrainingFixtures.WiderSet(folder.Path);
        var (images, _) = new DataSources { WiderAnnotations = wider, WiderImages = Path.Combine(folder.Path, "images") }.Load();
        var b = images.Single(i => i.Path.EndsWith("b.png", StringComparison.Ordinal));
        Assert.Equal([TrainingFixtures.InvalidFace], b.IgnoredFaces);
        Assert.Single(b.Faces);
        Assert.Empty(images.Single(i => i.Path.EndsWith("c.png", StringComparison.Ordinal)).Faces);

        var sampler = new ImageSampler(b, 160, 120, DataPreparationOptions.For(CascadeStage.PNet) with { NegativesPerImage = 2000, NearFaceNegatives = 200 });
        sampler.Generate(null);
        var negatives = sampler.Specs.Where(s => s.Kind == SampleKind.Negative).ToList();
        Assert.True(negatives.Count > 100);
        Assert.DoesNotContain(negatives, s => s.Frame.IntersectionOverUnion(TrainingFixtures.InvalidFace) > 0);
        Assert.DoesNotContain(sampler.Specs, s => s.Kind != SampleKind.Negative && s.Frame.IntersectionOverUnion(TrainingFixtures.InvalidFace) >= s.Frame.IntersectionOverUnion(b.Faces[0]));
    }

    [Fact]
    public void Bad_lines_and_missing_or_corrupt_images_are_reported_and_the_rest_is_used()
    {
        string list = TrainingFixtures.LandmarkSet(folder.Path, 6);
        var lines = File.ReadAllLines(list).ToList();
        lines[1] = "images\\img1.png 1 2 three 4";                       // line 2: malformed
        lines[3] = lines[3].Replace("img3.png", "missing.png", StringComparison.Ordinal); // line 4: no such file
        File.WriteAllText(Path.Combine(folder.Path, "images", "img4.png"), "not a png");   // line 5: corrupt
        File.WriteAllLines(list, lines);

        string wider = TrainingFixtures.WiderSet(folder.Path);
        var widerText = File.ReadAllText(wider).Replace("0--Test/b.png\n2\n", "0--Test/b.png\ntwo\n", StringComparison.Ordinal);
        File.WriteAllText(wider, widerText);

        var (images, lineIssues) = new DataSources
        {
            WiderAnnotations = wider,
            WiderImages = Path.Combine(folder.Path, "images"),
            Landmarks = list,
            FacesFromLandmarks = true,
        }.Load();
        Assert.Contains(lineIssues, i => i.FileName == list && i.LineNumber == 2 && i.Problem.Contains("expected 15 fields", StringComparison.Ordinal));
        Assert.Contains(lineIssues, i => i.FileName == wider && i.LineNumber == 6 && i.Problem.Contains("face count", StringComparison.Ordinal));

        var reported = new List<AnnotationIssue>();
        var result = DataPreparation.Run(images, DataPreparationOptions.For(CascadeStage.PNet), issue: i => { lock (reported) { reported.Add(i); } });
        Assert.Equal(2, result.SkippedImages);
        Assert.Equal(2, result.Issues.Count);
        Assert.Equal(result.Issues.OrderBy(i => i.LineNumber), reported.OrderBy(i => i.LineNumber));
        var missing = result.Issues.Single(i => i.LineNumber == 4);
        Assert.Equal(list, missing.FileName);
        Assert.Contains("missing.png", missing.Problem, StringComparison.Ordinal);
        Assert.Contains("not found", missing.Problem, StringComparison.Ordinal);
        var corrupt = result.Issues.Single(i => i.LineNumber == 5);
        Assert.Contains("img4.png", corrupt.Problem, StringComparison.Ordinal);
        Assert.StartsWith($"{list}:5: ", corrupt.ToString(), StringComparison.Ordinal);

        // The other images still give samples: the two WIDER images that parsed and three landmark images.
        var sources = Enumerable.Range(0, result.Samples.Count).Select(result.Samples.SourceImage).ToHashSet();
        var usable = images.Where(i => !i.Path.EndsWith("missing.png", StringComparison.Ordinal) && !i.Path.EndsWith("img4.png", StringComparison.Ordinal)).Select(i => i.Index);
        Assert.Subset(usable.ToHashSet(), sources);
        Assert.True(result.Kept.Landmark > 0 && result.Kept.Positive > 0);
    }

    [Fact]
    public void Lines_select_a_range_of_the_landmark_list()
    {
        string list = TrainingFixtures.LandmarkSet(folder.Path, 10);
        Assert.True(LineRange.TryParse("3:7", out var range));
        var (images, _) = new DataSources { Landmarks = list, LandmarkLines = range }.Load();
        Assert.Equal(5, images.Count);
        Assert.Equal(3, images[0].LineNumber);
        Assert.EndsWith("img2.png", images[0].Path, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(0, 5), images.Select(i => i.Index));

        Assert.True(LineRange.TryParse("9:", out range));
        Assert.Equal(2, new DataSources { Landmarks = list, LandmarkLines = range }.Load().Images.Count);
        Assert.True(LineRange.TryParse(":2", out range));
        Assert.Equal(new LineRange(1, 2), range);
        foreach (string bad in new[] { "", "5", "0:3", "4:2", "a:b", "1:2:3" })
        {
            Assert.False(LineRange.TryParse(bad, out _), bad);
        }
    }

    [Theory]
    [InlineData(CascadeStage.RNet)]
    [InlineData(CascadeStage.ONet)]
    public void RNet_and_ONet_data_mine_hard_examples_with_the_bundled_weights(CascadeStage net)
    {
        string list = TrainingFixtures.HopperSet(folder.Path);
        var (images, _) = new DataSources { Landmarks = list }.Load();
        var result = DataPreparation.Run(images, DataPreparationOptions.For(net) with { MaxDegreeOfParallelism = 2 });
        Assert.Equal(DataPreparationOptions.SizeOf(net), result.Samples.Size);
        Assert.True(result.MinedGenerated.Positive > 0, $"mined: {result.MinedGenerated}");
        Assert.True(result.MinedKept.Total > 0);
        Assert.True(result.Kept.Landmark > 0 && result.Kept.Negative > 0);
        Assert.Equal("bundled", result.Samples.Metadata["mining_weights"]);
        NoRepeats(result.Samples);

        // Mined samples are preferred: a kind keeps generated squares only when its mined ones are all in.
        foreach (var kind in new[] { SampleKind.Negative, SampleKind.Positive, SampleKind.Part })
        {
            if (result.Kept.Of(kind) > result.MinedKept.Of(kind))
            {
                Assert.Equal(result.MinedGenerated.Of(kind), result.MinedKept.Of(kind));
            }
        }
    }

    [Fact]
    public void Mined_crops_of_a_landmark_face_also_become_landmark_samples()
    {
        string list = TrainingFixtures.HopperSet(folder.Path);
        var (images, _) = new DataSources { Landmarks = list }.Load();
        var options = DataPreparationOptions.For(CascadeStage.ONet) with { Ratio = null, MaxDegreeOfParallelism = 1 };
        var with = DataPreparation.Run(images, options);
        var without = DataPreparation.Run(images, options with { MinedLandmarks = false });
        Assert.Equal(without.MinedKept.Positive, with.MinedKept.Positive);
        Assert.True(with.Kept.Landmark > without.Kept.Landmark, $"{with.Kept.Landmark} vs {without.Kept.Landmark}");

        // Each extra landmark sample shows the pixels of a mined positive or part crop, with that crop's box targets.
        var set = with.Samples;
        var crops = new Dictionary<string, float[]>();
        for (int i = 0; i < set.Count; i++)
        {
            if (set.Kind(i) is SampleKind.Positive or SampleKind.Part)
            {
                crops.TryAdd(Convert.ToBase64String(set.Pixels(i)), set.Box(i).ToArray());
            }
        }

        int twins = 0;
        for (int i = 0; i < set.Count; i++)
        {
            if (set.Kind(i) == SampleKind.Landmark && crops.TryGetValue(Convert.ToBase64String(set.Pixels(i)), out var box))
            {
                twins++;
                Assert.Equal(box, set.Box(i).ToArray());
                Assert.All(set.Landmarks(i).ToArray(), v => Assert.InRange(v, 0f, 1f));
            }
        }

        Assert.True(twins >= with.Kept.Landmark - without.Kept.Landmark, $"{twins} twins");
        NoRepeats(set);
    }

    /// <summary>The real 80x80 landmark set (../shared, skipped when absent): lines read, images found, every kind made.</summary>
    [SkippableFact]
    public void The_shared_landmark_set_gives_every_kind()
    {
        string list = SharedData.Require("data/landmarks/trainImageList_80x80.txt");
        var (images, issues) = new DataSources { Landmarks = list, LandmarkLines = new LineRange(9001, 9040) }.Load();
        Assert.Empty(issues);
        Assert.Equal(40, images.Count);
        var result = DataPreparation.Run(images, DataPreparationOptions.For(CascadeStage.PNet) with { MaxDegreeOfParallelism = 2 });
        Assert.Empty(result.Issues);
        Assert.True(result.Kept.Negative > 0 && result.Kept.Positive > 0 && result.Kept.Part > 0 && result.Kept.Landmark > 0, result.Kept.ToString());
        Assert.Equal(40, Enumerable.Range(0, result.Samples.Count).Select(result.Samples.SourceImage).Distinct().Count());
    }

    [Fact]
    public void Mining_refuses_reference_variant_weights()
    {
        var weights = new MtcnnWeights(ModelVariant.Reference, MtcnnWeights.Default.Tensors.Values);
        var e = Assert.Throws<ArgumentException>(() => DataPreparation.Run([], DataPreparationOptions.For(CascadeStage.RNet) with { Weights = weights }));
        Assert.Contains("original variant", e.Message, StringComparison.Ordinal);
    }
}
