namespace Mtcnn.Video;

/// <summary>
/// Follows faces across the detection frames of a video and gives each a stable integer id.
/// </summary>
/// <remarks>
/// <para><b>Algorithm</b> (a minimal SORT-like tracker without a motion model; Bewley et al. 2016 use a Kalman filter
/// and the Hungarian method instead):</para>
/// <list type="number">
/// <item><b>Association.</b> Every pair of a live track and a new detection is scored by the intersection over union
/// of the track's <i>last detected</i> box (not its smoothed one, so smoothing lag never costs a match) and the
/// detection's box. Pairs with IoU ≥ <see cref="TrackerOptions.IouThreshold"/> (and IoU &gt; 0) are taken greedily,
/// highest IoU first, each track and detection at most once. MTCNN's non-maximum suppression leaves detections that
/// barely overlap, so the IoU matrix is close to a permutation and the greedy choice equals the optimal (Hungarian)
/// one in practice, at O(n² log n) for n faces instead of O(n³). Ties are broken by track age, then detection order,
/// so results are deterministic.</item>
/// <item><b>Update.</b> A matched track takes the detection's score and smooths box and landmarks exponentially:
/// <c>s ← α·s + (1 − α)·d</c> per coordinate, α = <see cref="TrackerOptions.Smoothing"/>. Its miss count resets.</item>
/// <item><b>Birth.</b> Each unmatched detection starts a track, unsmoothed. It stays tentative (unreported, no id)
/// until it has been matched on <see cref="TrackerOptions.MinHits"/> consecutive detection frames, counting the one it
/// was born on (so with <see cref="TrackerOptions.MinHits"/> 1 it is confirmed at once); a tentative track that misses
/// once is dropped. This hides the detector's one-frame false positives. A track gets the next id when it is confirmed
/// (ids count up from 1 in the order tracks are confirmed, new detections in the order given, which is best score
/// first), so reported ids have no gaps.</item>
/// <item><b>Start of a clip or a scene.</b> There is no history to confirm a face against on the first frames of a
/// clip, nor right after a scene cut, so (as in SORT) every face seen on one of the first
/// <see cref="TrackerOptions.MinHits"/> − 1 detection frames (<see cref="Update"/> calls) after the tracker was
/// created, <see cref="Reset"/> or <see cref="StartScene"/> is confirmed at once, whether it starts a track or continues
/// a tentative one. A face visible from the first frame of a clip or a scene is therefore reported on that frame; a
/// face entering later is reported on its <see cref="TrackerOptions.MinHits"/>th consecutive detection. The tracker
/// does not see pixels: the caller reports cuts with <see cref="StartScene"/> (<see cref="VideoPipeline"/> does so from
/// a frame difference, see <see cref="VideoPipelineOptions.SceneCutThreshold"/>).</item>
/// <item><b>Expiry.</b> An unmatched track counts a miss; after <see cref="TrackerOptions.ExpireAfterMisses"/>
/// consecutive misses it is removed. Until then it is <i>coasting</i>: not reported, but able to match again and keep
/// its id.</item>
/// </list>
/// <para>Between detection frames (<c>--every N</c>) nothing is updated: the faces of the last detection frame are
/// reported with their last smoothed boxes (<see cref="Visible"/>).</para>
/// <para><b>Thread safety.</b> Not thread-safe: one tracker follows one video, updated from one thread in frame order.</para>
/// </remarks>
public sealed class FaceTracker
{
    private readonly List<Track> tracks = [];
    private readonly List<(float Iou, int Track, int Detection)> pairs = [];
    private IReadOnlyList<TrackedFace> visible = [];
    private int nextId = 1;
    private int warmUpLeft;

    /// <summary>Creates a tracker.</summary>
    /// <param name="options">Settings; null uses <see cref="TrackerOptions.Default"/>. Validated here.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public FaceTracker(TrackerOptions? options = null)
    {
        Options = (options ?? TrackerOptions.Default).Validate();
        warmUpLeft = Options.MinHits - 1;
    }

    /// <summary>The validated settings.</summary>
    public TrackerOptions Options { get; }

    /// <summary>The faces seen on the latest detection frame (matched or new), in ascending id order.</summary>
    public IReadOnlyList<TrackedFace> Visible => visible;

    /// <summary>Every live confirmed track, coasting ones included, in ascending id order.</summary>
    public IReadOnlyList<TrackedFace> Tracks => [.. tracks.Where(t => t.Confirmed).Select(t => t.ToFace()).OrderBy(f => f.Id)];

    /// <summary>Ids handed out so far (the number of distinct confirmed faces seen).</summary>
    public int TracksCreated => nextId - 1;

    /// <summary>Feeds the detections of one detection frame and returns the faces visible in it.</summary>
    /// <param name="detections">The detector's faces for this frame (any order; best first gives the lowest new ids to the best faces).</param>
    /// <returns>The visible faces in ascending id order (also available as <see cref="Visible"/> until the next update).</returns>
    public IReadOnlyList<TrackedFace> Update(IReadOnlyList<Face> detections)
    {
        ArgumentNullException.ThrowIfNull(detections);
        bool confirmAtBirth = warmUpLeft > 0;
        if (confirmAtBirth)
        {
            warmUpLeft--;
        }

        var trackTaken = new bool[tracks.Count];
        var detectionTaken = new bool[detections.Count];

        pairs.Clear();
        for (int t = 0; t < tracks.Count; t++)
        {
            for (int d = 0; d < detections.Count; d++)
            {
                float iou = tracks[t].LastDetected.IntersectionOverUnion(detections[d].Box);
                if (iou > 0f && iou >= Options.IouThreshold)
                {
                    pairs.Add((iou, t, d));
                }
            }
        }

        // Highest overlap first; tracks are kept in creation order, so ties favour the older track, then the better detection.
        pairs.Sort(static (a, b) =>
        {
            int c = b.Iou.CompareTo(a.Iou);
            return c != 0 ? c : a.Track != b.Track ? a.Track.CompareTo(b.Track) : a.Detection.CompareTo(b.Detection);
        });
        foreach (var (_, t, d) in pairs)
        {
            if (!trackTaken[t] && !detectionTaken[d])
            {
                trackTaken[t] = true;
                detectionTaken[d] = true;
                tracks[t].Match(detections[d], Options.Smoothing);
            }
        }

        for (int t = tracks.Count - 1; t >= 0; t--)
        {
            if (!trackTaken[t] && (++tracks[t].Missed >= Options.ExpireAfterMisses || !tracks[t].Confirmed))
            {
                tracks.RemoveAt(t);
            }
        }

        for (int d = 0; d < detections.Count; d++)
        {
            if (!detectionTaken[d])
            {
                tracks.Add(new Track(detections[d]));
            }
        }

        foreach (var track in tracks)
        {
            if (!track.Confirmed && (track.Hits >= Options.MinHits || confirmAtBirth))
            {
                track.Confirm(nextId++);
            }
        }

        visible = [.. tracks.Where(t => t.Confirmed && t.Missed == 0).Select(t => t.ToFace()).OrderBy(f => f.Id)];
        return visible;
    }

    /// <summary>
    /// Marks a scene cut before the next <see cref="Update"/>: faces seen on that and the following
    /// <see cref="TrackerOptions.MinHits"/> − 2 detection frames are confirmed at once, as at the start of a clip.
    /// </summary>
    /// <remarks>
    /// Existing tracks are kept: a face that is still where it was (a cut detected by mistake, a flash) keeps its id,
    /// and the faces of the previous scene, which no longer match, expire as usual. With
    /// <see cref="TrackerOptions.MinHits"/> 1 this changes nothing.
    /// </remarks>
    public void StartScene()
    {
        warmUpLeft = Options.MinHits - 1;
        ScenesStarted++;
    }

    /// <summary>Scene cuts reported with <see cref="StartScene"/> since the tracker was created or <see cref="Reset"/>.</summary>
    public int ScenesStarted { get; private set; }

    /// <summary>Forgets every track; ids start again at 1, and the next detection frames are the start of a clip.</summary>
    public void Reset()
    {
        tracks.Clear();
        visible = [];
        nextId = 1;
        warmUpLeft = Options.MinHits - 1;
        ScenesStarted = 0;
    }

    /// <summary>Exponential smoothing of one coordinate: <c>α·previous + (1 − α)·observed</c>.</summary>
    internal static float Smooth(float previous, float observed, float alpha) => (alpha * previous) + ((1f - alpha) * observed);

    private sealed class Track
    {
        private BoundingBox box;
        private FaceLandmarks landmarks;
        private float score;

        public Track(Face detection)
        {
            box = detection.Box;
            landmarks = detection.Landmarks;
            score = detection.Score;
            LastDetected = detection.Box;
            Hits = 1;
        }

        /// <summary>The id; 0 while the track is tentative.</summary>
        public int Id { get; private set; }

        public bool Confirmed => Id > 0;

        public int Hits { get; private set; }

        public BoundingBox LastDetected { get; private set; }

        public int Missed { get; set; }

        public void Match(Face detection, float alpha)
        {
            var b = detection.Box;
            box = new BoundingBox(Smooth(box.X1, b.X1, alpha), Smooth(box.Y1, b.Y1, alpha), Smooth(box.X2, b.X2, alpha), Smooth(box.Y2, b.Y2, alpha));
            var l = detection.Landmarks;
            landmarks = new FaceLandmarks(
                SmoothPoint(landmarks.LeftEye, l.LeftEye, alpha),
                SmoothPoint(landmarks.RightEye, l.RightEye, alpha),
                SmoothPoint(landmarks.Nose, l.Nose, alpha),
                SmoothPoint(landmarks.MouthLeft, l.MouthLeft, alpha),
                SmoothPoint(landmarks.MouthRight, l.MouthRight, alpha));
            score = detection.Score;
            LastDetected = b;
            Missed = 0;
            Hits++;
        }

        public void Confirm(int id) => Id = id;

        public TrackedFace ToFace() => new(Id, box, score, landmarks, Hits, Missed);

        private static Point2F SmoothPoint(Point2F previous, Point2F observed, float alpha) =>
            new(Smooth(previous.X, observed.X, alpha), Smooth(previous.Y, observed.Y, alpha));
    }
}
