namespace Mtcnn.Tests;

/// <summary><see cref="FaceSelector"/>: all, largest, best and facenet-pytorch's center-weighted size.</summary>
public sealed class FaceSelectionTests
{
    private static Face F(float x1, float y1, float x2, float y2, float score) => new(new BoundingBox(x1, y1, x2, y2), score, default);

    // Best first, as the detector orders them: a small confident face, a large one at the edge, a middle-sized one in the centre.
    private static readonly Face[] Faces = [F(10, 10, 30, 30, 0.99f), F(0, 0, 60, 60, 0.95f), F(80, 80, 120, 120, 0.90f)];

    [Theory]
    [InlineData(FaceSelection.All, new[] { 0, 1, 2 })]
    [InlineData(FaceSelection.Best, new[] { 0 })]
    [InlineData(FaceSelection.Largest, new[] { 1 })]
    [InlineData(FaceSelection.Center, new[] { 2 })]
    public void Picks_the_documented_face(FaceSelection selection, int[] expected)
    {
        // Image 200x200: centre (100, 100). Center keys: face 1 = 3600 - 2 * (70² + 70²) < 0; face 2 = 1600 - 0.
        Assert.Equal(expected, FaceSelector.Select(Faces, 200, 200, selection));
    }

    [Fact]
    public void Center_trades_size_against_distance_with_weight_two()
    {
        // 40x40 at distance 10 (key 1600 - 200 = 1400) against 30x30 at the centre (900): the larger one wins.
        Face[] faces = [F(85, 85, 115, 115, 0.9f), F(90, 70, 130, 110, 0.8f)];
        Assert.Equal([1], FaceSelector.Select(faces, 200, 200, FaceSelection.Center));

        // At distance 30 the same face has 1600 - 1800 < 900: the centred one wins.
        faces = [F(85, 85, 115, 115, 0.9f), F(110, 80, 150, 120, 0.8f)];
        Assert.Equal([0], FaceSelector.Select(faces, 200, 200, FaceSelection.Center));
    }

    [Fact]
    public void Ties_go_to_the_better_score_and_an_empty_list_stays_empty()
    {
        Face[] twins = [F(0, 0, 10, 10, 0.9f), F(50, 50, 60, 60, 0.8f)];
        Assert.Equal([0], FaceSelector.Select(twins, 100, 100, FaceSelection.Largest));
        Assert.Empty(FaceSelector.Select([], 100, 100, FaceSelection.Largest));
        Assert.Throws<ArgumentOutOfRangeException>(() => FaceSelector.Select(twins, 100, 100, (FaceSelection)9));
    }

    [Fact]
    public void Apply_keeps_only_the_selected_faces()
    {
        var result = new DetectionResult(200, 200, Faces, [], [], CascadeStage.ONet, default);
        Assert.Same(result, FaceSelector.Apply(result, FaceSelection.All));
        var largest = FaceSelector.Apply(result, FaceSelection.Largest);
        Assert.Equal([Faces[1]], largest.Faces);
        Assert.Equal((200, 200), (largest.Width, largest.Height));
    }
}
