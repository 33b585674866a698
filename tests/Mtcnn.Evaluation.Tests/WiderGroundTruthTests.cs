using System.Globalization;
using Mtcnn.Evaluation.Matlab;
using Mtcnn.Evaluation.Wider;
using Mtcnn.TestSupport;

namespace Mtcnn.Evaluation.Tests;

/// <summary>The official WIDER FACE ground-truth files from ../shared/data/wider read with the MAT reader.</summary>
public sealed class WiderGroundTruthTests(Xunit.Abstractions.ITestOutputHelper output)
{
    internal static WiderGroundTruth LoadOfficial() => Cache.Value;

    private static readonly Lazy<WiderGroundTruth> Cache = new(() => WiderGroundTruth.Load(SharedData.Require("data/wider")));

    [SkippableFact]
    public void Official_files_hold_the_documented_counts()
    {
        SharedData.Require("data/wider/wider_face_val.mat");
        var gt = LoadOfficial();
        Assert.Equal(61, gt.Events.Count);
        Assert.Equal(3226, gt.Images.Count);
        Assert.Equal(39708, gt.BoxCount);
        Assert.Equal(7211, gt.FaceCount(WiderSetting.Easy));
        Assert.Equal(13319, gt.FaceCount(WiderSetting.Medium));
        Assert.Equal(31958, gt.FaceCount(WiderSetting.Hard));
    }

    [SkippableFact]
    public void Mat_variables_have_the_official_shapes()
    {
        var vars = MatFile.Read(SharedData.Require("data/wider/wider_hard_val.mat"));
        foreach (string name in new[] { "event_list", "file_list", "face_bbx_list", "gt_list" })
        {
            var cell = Assert.IsType<MatCellArray>(vars[name]);
            Assert.Equal([61, 1], cell.Dimensions);
        }

        var firstEvent = Assert.IsType<MatCellArray>(vars["event_list"]);
        Assert.Equal("0--Parade", Assert.IsType<MatCharArray>(firstEvent[0]).Text);
    }

    /// <summary>The boxes in the .mat file equal those in the text annotation file (same images, same order within an image).</summary>
    [SkippableFact]
    public void Boxes_agree_with_the_text_annotations()
    {
        string txt = SharedData.Require("data/wider/wider_face_val_bbx_gt.txt");
        var gt = LoadOfficial();
        var fromText = new Dictionary<string, List<WiderBox>>(StringComparer.Ordinal);
        var lines = File.ReadAllLines(txt);
        for (int i = 0; i < lines.Length;)
        {
            string path = lines[i++].Trim();
            int n = int.Parse(lines[i++], CultureInfo.InvariantCulture);
            var boxes = new List<WiderBox>();
            for (int k = 0; k < Math.Max(n, 1); k++, i++)
            {
                if (n == 0)
                {
                    continue;
                }

                var v = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                boxes.Add(new WiderBox(v[0], v[1], v[2], v[3]));
            }

            fromText[path[..^4]] = boxes;
        }

        Assert.Equal(gt.Images.Count, fromText.Count);
        int differing = 0;
        foreach (var image in gt.Images)
        {
            var expected = fromText[image.Key];
            if (expected.Count == 0)
            {
                // The text file writes an image without faces as one all-zero line; the .mat file may hold one zero box.
                Assert.True(image.Boxes.Count <= 1);
                continue;
            }

            Assert.Equal(expected.Count, image.Boxes.Count);
            for (int k = 0; k < expected.Count; k++)
            {
                var (e, a) = (expected[k], image.Boxes[k]);
                if (e != a)
                {
                    // The text release clamps the few negative widths/heights of the .mat release to 0.
                    Assert.Equal((e.X, e.Y), (a.X, a.Y));
                    Assert.True((e.Width == a.Width || (e.Width == 0 && a.Width < 0)) && (e.Height == a.Height || (e.Height == 0 && a.Height < 0)), $"{image.Key} box {k}: {e} vs {a}");
                    differing++;
                }
            }
        }

        output.WriteLine($"{differing} boxes differ between the .mat and the text release; {gt.Images.Count(i => fromText[i.Key].Count == 0)} images have no faces in the text file, {gt.Images.Count(i => i.Boxes.Count == 0)} have no boxes in the .mat file");
        Assert.True(differing < 20, $"{differing} boxes differ");
    }
}
