namespace Mtcnn;

/// <summary>Which of an image's faces to keep when only some are wanted (one face per photo for recognition, say).</summary>
public enum FaceSelection
{
    /// <summary>Every face (the default).</summary>
    All,

    /// <summary>The face with the largest box area (<see cref="BoundingBox.Area"/>).</summary>
    Largest,

    /// <summary>The face with the highest score.</summary>
    Best,

    /// <summary>
    /// The largest face near the middle: the highest <c>area − 2 · d²</c>, where <c>d</c> is the distance in pixels from
    /// the box centre to the image centre (facenet-pytorch's <c>center_weighted_size</c> with its weight 2).
    /// </summary>
    Center,
}

/// <summary>Applies a <see cref="FaceSelection"/>.</summary>
public static class FaceSelector
{
    /// <summary>
    /// The indices of the faces <paramref name="selection"/> keeps, ascending: all of them, or the one it picks (ties go
    /// to the lower index, i.e. the better score), or none for an empty list.
    /// </summary>
    /// <param name="faces">The faces, as the detector orders them (best first).</param>
    /// <param name="imageWidth">Image width in pixels (for <see cref="FaceSelection.Center"/>).</param>
    /// <param name="imageHeight">Image height in pixels.</param>
    /// <param name="selection">What to keep.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="selection"/> is not a defined value.</exception>
    public static IReadOnlyList<int> Select(IReadOnlyList<Face> faces, int imageWidth, int imageHeight, FaceSelection selection)
    {
        ArgumentNullException.ThrowIfNull(faces);
        if (!Enum.IsDefined(selection))
        {
            throw new ArgumentOutOfRangeException(nameof(selection), selection, "Selection must be All, Largest, Best or Center.");
        }

        if (selection == FaceSelection.All)
        {
            return [.. Enumerable.Range(0, faces.Count)];
        }

        if (faces.Count == 0)
        {
            return [];
        }

        double cx = imageWidth / 2.0, cy = imageHeight / 2.0;
        int pick = 0;
        double bestKey = double.NegativeInfinity;
        for (int i = 0; i < faces.Count; i++)
        {
            var b = faces[i].Box;
            double key = selection switch
            {
                FaceSelection.Largest => b.Area,
                FaceSelection.Best => faces[i].Score,
                _ => b.Area - (2.0 * (Square(((b.X1 + (double)b.X2) / 2) - cx) + Square(((b.Y1 + (double)b.Y2) / 2) - cy))),
            };
            if (key > bestKey)
            {
                bestKey = key;
                pick = i;
            }
        }

        return [pick];
    }

    /// <summary>The result with only the faces <paramref name="selection"/> keeps (candidate lists unchanged).</summary>
    /// <param name="result">A detection result.</param>
    /// <param name="selection">What to keep.</param>
    /// <returns><paramref name="result"/> itself for <see cref="FaceSelection.All"/>, otherwise a copy.</returns>
    public static DetectionResult Apply(DetectionResult result, FaceSelection selection)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (selection == FaceSelection.All)
        {
            return result;
        }

        var keep = Select(result.Faces, result.Width, result.Height, selection);
        return new DetectionResult(result.Width, result.Height, [.. keep.Select(i => result.Faces[i])], result.PNetCandidates, result.RNetCandidates, result.LastStage, result.Timings, result.CandidateLimitReached);
    }

    private static double Square(double v) => v * v;
}
