namespace Mtcnn;

/// <summary>Wall-clock time spent in each part of one detection, and how many candidates each stage kept.</summary>
/// <param name="Pyramid">Building the resampled image pyramid.</param>
/// <param name="PNet">Running P-Net over the pyramid, decoding and suppressing its windows.</param>
/// <param name="RNet">Cropping, running R-Net and suppressing.</param>
/// <param name="ONet">Cropping, running O-Net and suppressing.</param>
/// <param name="Total">The whole call.</param>
/// <param name="PNetCount">Candidates after P-Net (input to R-Net).</param>
/// <param name="RNetCount">Candidates after R-Net (input to O-Net).</param>
/// <param name="ONetCount">Faces after O-Net.</param>
public readonly record struct DetectionTimings(
    TimeSpan Pyramid, TimeSpan PNet, TimeSpan RNet, TimeSpan ONet, TimeSpan Total, int PNetCount, int RNetCount, int ONetCount);

/// <summary>The outcome of detecting faces in one image. Immutable.</summary>
public sealed class DetectionResult
{
    /// <summary>Creates a result (normally done by <see cref="FaceDetector"/>).</summary>
    public DetectionResult(
        int width,
        int height,
        IReadOnlyList<Face> faces,
        IReadOnlyList<Candidate> pnetCandidates,
        IReadOnlyList<Candidate> rnetCandidates,
        CascadeStage lastStage,
        DetectionTimings timings,
        bool candidateLimitReached = false)
    {
        CandidateLimitReached = candidateLimitReached;
        Width = width;
        Height = height;
        Faces = faces;
        PNetCandidates = pnetCandidates;
        RNetCandidates = rnetCandidates;
        LastStage = lastStage;
        Timings = timings;
    }

    /// <summary>Width of the image in pixels.</summary>
    public int Width { get; }

    /// <summary>Height of the image in pixels.</summary>
    public int Height { get; }

    /// <summary>Faces in descending score order (empty when <see cref="LastStage"/> is before O-Net).</summary>
    public IReadOnlyList<Face> Faces { get; }

    /// <summary>
    /// P-Net's candidates (after suppression across the pyramid and box regression, before squaring), best first.
    /// Filled when <see cref="DetectorOptions.CollectStageCandidates"/> is set or <see cref="LastStage"/> is P-Net.
    /// </summary>
    public IReadOnlyList<Candidate> PNetCandidates { get; }

    /// <summary>
    /// R-Net's survivors (after suppression and box regression, before squaring), best first.
    /// Filled when <see cref="DetectorOptions.CollectStageCandidates"/> is set or <see cref="LastStage"/> is R-Net.
    /// </summary>
    public IReadOnlyList<Candidate> RNetCandidates { get; }

    /// <summary>The last stage that ran.</summary>
    public CascadeStage LastStage { get; }

    /// <summary>Per-stage timings and candidate counts.</summary>
    public DetectionTimings Timings { get; }

    /// <summary>
    /// True when a stage had more survivors than <see cref="DetectorOptions.MaxCandidates"/> and only the
    /// highest-scoring went on: the result may then miss faces among the dropped candidates.
    /// </summary>
    public bool CandidateLimitReached { get; }

    /// <summary>The candidates of the last stage that ran: <see cref="Faces"/> as candidates for O-Net.</summary>
    public IReadOnlyList<Candidate> FinalCandidates => LastStage switch
    {
        CascadeStage.PNet => PNetCandidates,
        CascadeStage.RNet => RNetCandidates,
        _ => Faces.Select(f => new Candidate(f.Box, f.Score)).ToArray(),
    };
}
