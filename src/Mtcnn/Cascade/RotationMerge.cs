namespace Mtcnn.Cascade;

/// <summary>
/// Combines the detections of several turns of one image (<see cref="DetectorOptions.Rotations"/>): maps each turn's
/// results back to the input, merges faces that different turns found, and applies the agreement rule.
/// </summary>
internal static class RotationMerge
{
    /// <summary>Combines the turns' results into one result for the input image.</summary>
    public static DetectionResult Combine(IReadOnlyList<Turn> turns, int width, int height, DetectorOptions options, TimeSpan total)
    {
        bool agreement = (options.Rotations & DetectionRotations.Agreement) != 0;
        var all = new List<Face>();
        var pnet = new List<Candidate>();
        var rnet = new List<Candidate>();
        TimeSpan pyramid = TimeSpan.Zero, p = TimeSpan.Zero, r = TimeSpan.Zero, o = TimeSpan.Zero;
        int pc = 0, rc = 0;
        bool limited = false;
        foreach (var turn in turns)
        {
            limited |= turn.Result.CandidateLimitReached;
            all.AddRange(turn.Faces);
            pnet.AddRange(turn.PNetCandidates);
            rnet.AddRange(turn.RNetCandidates);
            var t = turn.Result.Timings;
            pyramid += t.Pyramid;
            p += t.PNet;
            r += t.RNet;
            o += t.ONet;
            pc += t.PNetCount;
            rc += t.RNetCount;
        }

        var kept = Merge(all, options.RotationMergeIou, agreement, options.ONetThreshold);
        if (options.MaxFaces > 0 && kept.Count > options.MaxFaces)
        {
            kept.RemoveRange(options.MaxFaces, kept.Count - options.MaxFaces);
        }

        var stage = options.LastStage;
        pnet.Sort(static (a, b) => b.Score.CompareTo(a.Score));
        rnet.Sort(static (a, b) => b.Score.CompareTo(a.Score));
        if (options.MaxFaces > 0)
        {
            Truncate(pnet, stage == CascadeStage.PNet, options.MaxFaces);
            Truncate(rnet, stage == CascadeStage.RNet, options.MaxFaces);
        }

        var timings = new DetectionTimings(pyramid, p, r, o, total, pc, rc, kept.Count);
        return new DetectionResult(width, height, kept, pnet.ToArray(), rnet.ToArray(), stage, timings, limited);
    }

    /// <summary>
    /// Faces of all turns, best first; a face overlapping (IoU at or above <paramref name="mergeIou"/>) a better face of
    /// another turn is that face seen again and is dropped. With <paramref name="agreement"/> the turns vote on the
    /// image's orientation: each merged face gives its turn the weight <c>(score - t) / (1 - t)</c>, with
    /// <paramref name="threshold"/> t the O-Net threshold (its confidence above the bar), and only the faces the winning
    /// turn found itself are kept (ties go to the smaller angle).
    /// </summary>
    public static List<Face> Merge(IReadOnlyList<Face> all, float mergeIou, bool agreement, float threshold)
    {
        // Stable order: by score, then by turn (the image as given first) for equal scores.
        var order = new List<Face>(all);
        order.Sort(static (a, b) =>
        {
            int c = b.Score.CompareTo(a.Score);
            return c != 0 ? c : a.Rotation.CompareTo(b.Rotation);
        });
        var winners = new List<Face>();
        foreach (var d in order)
        {
            bool duplicate = false;
            foreach (var w in winners)
            {
                if (w.Rotation != d.Rotation && w.Box.IntersectionOverUnion(d.Box) >= mergeIou)
                {
                    duplicate = true;
                    break;
                }
            }

            if (!duplicate)
            {
                winners.Add(d);
            }
        }

        if (!agreement || winners.Count == 0)
        {
            return winners;
        }

        Span<double> weight = stackalloc double[4];
        double span = Math.Max(1e-6, 1.0 - threshold);
        foreach (var w in winners)
        {
            weight[w.Rotation / 90] += Math.Max(0.0, w.Score - threshold) / span;
        }

        int best = 0;
        for (int k = 1; k < 4; k++)
        {
            if (weight[k] > weight[best])
            {
                best = k;
            }
        }

        // The winning turn's own faces, duplicates of another turn's better-scored view included.
        return order.Where(f => f.Rotation == best * 90).ToList();
    }

    /// <summary>
    /// Maps one turn's result back to the input: faces (with their rotation set) and candidates.
    /// </summary>
    public static Turn MapBack(DetectionResult r, int degrees, int rotatedWidth, int rotatedHeight)
    {
        var faces = new Face[r.Faces.Count];
        for (int i = 0; i < faces.Length; i++)
        {
            faces[i] = ImageRotation.MapFace(r.Faces[i], degrees, rotatedWidth, rotatedHeight);
        }

        return new Turn(degrees, r, faces, Map(r.PNetCandidates, degrees, rotatedWidth, rotatedHeight), Map(r.RNetCandidates, degrees, rotatedWidth, rotatedHeight));
    }

    private static Candidate[] Map(IReadOnlyList<Candidate> list, int degrees, int rw, int rh)
    {
        var result = new Candidate[list.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new Candidate(ImageRotation.MapBox(list[i].Box, degrees, rw, rh), list[i].Score);
        }

        return result;
    }

    private static void Truncate(List<Candidate> list, bool isLast, int max)
    {
        if (isLast && list.Count > max)
        {
            list.RemoveRange(max, list.Count - max);
        }
    }

    /// <summary>One turn's detection, mapped back to the input.</summary>
    internal sealed record Turn(int Degrees, DetectionResult Result, IReadOnlyList<Face> Faces, IReadOnlyList<Candidate> PNetCandidates, IReadOnlyList<Candidate> RNetCandidates);
}
