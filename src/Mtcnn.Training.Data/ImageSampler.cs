using System.Runtime.CompilerServices;
using Mtcnn.Cascade;

namespace Mtcnn.Training.Data;

/// <summary>The 14 targets of a sample: 4 box offsets, then 10 interleaved landmark targets.</summary>
[InlineArray(14)]
internal struct Targets
{
    private float element;
}

/// <summary>
/// One sample as planned by the first pass: the pixel region to crop, the optional mirror/rotation (landmark samples
/// only), the labels, and a random key that decides which samples survive balancing.
/// </summary>
internal struct CropSpec
{
    /// <summary>The pixels to crop (in the transformed image for transformed samples).</summary>
    public PixelRegion Region;

    /// <summary>
    /// The frame the targets refer to, in 0-based continuous coordinates: the region itself for generated squares, the
    /// cascade's output frame of the squared candidate for hard examples.
    /// </summary>
    public BoundingBox Frame;

    /// <summary>The sample's kind.</summary>
    public SampleKind Kind;

    /// <summary>Mirror the image about the vertical line x = <see cref="FlipAxis"/> first.</summary>
    public bool Flip;

    /// <summary>The mirror line (a multiple of 0.5, so mirroring moves whole pixels).</summary>
    public float FlipAxis;

    /// <summary>Then rotate by this many radians about (<see cref="CenterX"/>, <see cref="CenterY"/>).</summary>
    public float Angle;

    /// <summary>Rotation centre, x.</summary>
    public float CenterX;

    /// <summary>Rotation centre, y.</summary>
    public float CenterY;

    /// <summary>Random key; balancing keeps the samples of a kind with the smallest keys. The top bit marks generated
    /// samples that only fill up mined ones (R-Net/O-Net data).</summary>
    public ulong Key;

    /// <summary>Box offsets and landmark targets.</summary>
    public Targets Targets;

    /// <summary>True for hard examples (detector candidates).</summary>
    public bool Mined;

    /// <summary>True when the pixels are mirrored or rotated.</summary>
    public readonly bool Transformed => Flip || Angle != 0f;
}

/// <summary>
/// Plans the samples of one image (pass 1 of data preparation): random and near-face negatives, shifted squares kept
/// as positives or parts, landmark squares with mirroring and rotation, and hard examples from detector candidates.
/// Every random choice comes from the image's own <see cref="RandomStream"/>.
/// </summary>
internal sealed class ImageSampler
{
    /// <summary>IoU at or above which a crop is a positive.</summary>
    public const float PositiveIou = 0.65f;

    /// <summary>IoU at or above which a crop is a part.</summary>
    public const float PartIou = 0.4f;

    /// <summary>IoU below which a crop is a negative.</summary>
    public const float NegativeIou = 0.3f;

    /// <summary>IoU above which a square around a landmark face is a landmark sample.</summary>
    public const float LandmarkIou = 0.65f;

    /// <summary>Smallest crop side in pixels (P-Net's window; smaller regions would only be upsampled noise).</summary>
    public const int MinCrop = 12;

    private readonly TrainingImage image;
    private readonly int width;
    private readonly int height;
    private readonly DataPreparationOptions options;
    private readonly HashSet<(PixelRegion, SampleKind, bool, float, float)> seen = [];
    private RandomStream rng;

    // Set while generating squares for R-Net/O-Net data: they only fill up what the mined samples leave short.
    private bool fillIn;

    public ImageSampler(TrainingImage image, int width, int height, DataPreparationOptions options)
    {
        this.image = image;
        this.width = width;
        this.height = height;
        this.options = options;
        rng = new RandomStream(options.Seed, image.Index);
    }

    /// <summary>The planned samples, in generation order.</summary>
    public List<CropSpec> Specs { get; } = [];

    /// <summary>Labels a crop frame by its best IoU with the faces; null for the "don't care" bands and for would-be
    /// negatives that touch an ignored face.</summary>
    public static SampleKind? Label(BoundingBox frame, IReadOnlyList<BoundingBox> faces, IReadOnlyList<BoundingBox> ignored, out int face)
    {
        face = -1;
        float best = 0f;
        for (int i = 0; i < faces.Count; i++)
        {
            float iou = frame.IntersectionOverUnion(faces[i]);
            if (iou > best)
            {
                best = iou;
                face = i;
            }
        }

        if (best >= PositiveIou)
        {
            return SampleKind.Positive;
        }

        if (best >= PartIou)
        {
            return SampleKind.Part;
        }

        if (best >= NegativeIou)
        {
            return null;
        }

        foreach (var g in ignored)
        {
            if (Math.Min(frame.X2, g.X2) > Math.Max(frame.X1, g.X1) && Math.Min(frame.Y2, g.Y2) > Math.Max(frame.Y1, g.Y1))
            {
                return null;
            }
        }

        face = -1;
        return SampleKind.Negative;
    }

    /// <summary>Box offsets of a ground-truth box relative to a crop frame: (gt - frame) / frame side.</summary>
    public static void BoxTargets(BoundingBox gt, BoundingBox frame, Span<float> targets)
    {
        float fw = frame.Width, fh = frame.Height;
        targets[0] = (gt.X1 - frame.X1) / fw;
        targets[1] = (gt.Y1 - frame.Y1) / fh;
        targets[2] = (gt.X2 - frame.X2) / fw;
        targets[3] = (gt.Y2 - frame.Y2) / fh;
    }

    /// <summary>
    /// Plans the image's samples: with detector candidates (R-Net and O-Net data), the hard examples first and then the
    /// generated squares marked as fill-ins, whose keys sort after every mined sample's, so balancing takes mined samples
    /// of a kind before generated ones; without candidates (P-Net data) the generated squares only.
    /// </summary>
    public void Generate(IReadOnlyList<Candidate>? mined)
    {
        if (mined is not null)
        {
            HardExamples(mined);
            fillIn = true;
        }

        RandomNegatives();
        NearFaceNegatives();
        ShiftedSquares();
        LandmarkSamples();
        fillIn = false;
    }

    /// <summary>
    /// Up to <see cref="DataPreparationOptions.NegativesPerImage"/> negatives: random squares of side 12 ..
    /// min(W, H) / 2 inside the image, at most four tries per wanted negative, so small or crowded images cannot
    /// stall the run.
    /// </summary>
    public void RandomNegatives()
    {
        int wanted = options.NegativesPerImage;
        int shortSide = Math.Min(width, height);
        if (wanted == 0 || shortSide < MinCrop)
        {
            return;
        }

        int maxSize = Math.Max(MinCrop, shortSide / 2);
        int got = 0;
        for (int t = 0; t < 4 * wanted && got < wanted; t++)
        {
            int size = rng.NextInt(MinCrop, maxSize);
            var region = new PixelRegion(rng.NextInt(0, width - size), rng.NextInt(0, height - size), size, size);
            if (TryAddNegative(region))
            {
                got++;
            }
        }
    }

    /// <summary>
    /// For each face (at least <see cref="DataPreparationOptions.MinSourceFace"/>), <see cref="DataPreparationOptions.NearFaceNegatives"/>
    /// tries of squares whose top-left corner lies within the face's extent, kept when they are negatives.
    /// </summary>
    public void NearFaceNegatives()
    {
        int tries = options.NearFaceNegatives;
        int shortSide = Math.Min(width, height);
        if (tries == 0 || shortSide < MinCrop)
        {
            return;
        }

        int maxSize = Math.Max(MinCrop, shortSide / 2);
        foreach (var face in image.Faces)
        {
            if (!IsSource(face))
            {
                continue;
            }

            int fx = (int)MathF.Floor(face.X1), fy = (int)MathF.Floor(face.Y1);
            int fw = Math.Max(1, (int)face.Width), fh = Math.Max(1, (int)face.Height);
            for (int t = 0; t < tries; t++)
            {
                int size = rng.NextInt(MinCrop, maxSize);
                int x = fx + rng.NextInt(-size, fw - 1);
                int y = fy + rng.NextInt(-size, fh - 1);
                var region = new PixelRegion(x, y, size, size);
                if (Inside(region))
                {
                    TryAddNegative(region);
                }
            }
        }
    }

    /// <summary>
    /// For each face (at least <see cref="DataPreparationOptions.MinSourceFace"/>), <see cref="DataPreparationOptions.ShiftedTries"/>
    /// squares of side 0.8 min(w, h) .. 1.25 max(w, h) (at least 12) with the centre moved by up to 0.2 of the face's
    /// width and height; kept as positive or part by the best IoU with any face.
    /// </summary>
    public void ShiftedSquares()
    {
        int tries = options.ShiftedTries;
        if (tries == 0)
        {
            return;
        }

        foreach (var face in image.Faces)
        {
            if (!IsSource(face))
            {
                continue;
            }

            for (int t = 0; t < tries; t++)
            {
                var region = ShiftedSquare(face, face.Center);
                if (!Allowed(region))
                {
                    continue;
                }

                var frame = Frame(region);
                var kind = Label(frame, image.Faces, image.IgnoredFaces, out int best);
                if (kind is SampleKind.Positive or SampleKind.Part)
                {
                    var spec = new CropSpec { Region = region, Frame = frame, Kind = kind.Value };
                    BoxTargets(image.Faces[best], frame, spec.Targets[..4]);
                    TryAdd(spec);
                }
            }
        }
    }

    /// <summary>
    /// For each landmark face (at least <see cref="DataPreparationOptions.MinSourceFace"/>), <see cref="DataPreparationOptions.LandmarkTries"/>
    /// shifted squares, each on the image mirrored (probability <see cref="DataPreparationOptions.FlipProbability"/>)
    /// and/or rotated about the face centre (probability <see cref="DataPreparationOptions.RotationProbability"/>,
    /// angle uniform within ±<see cref="DataPreparationOptions.MaxRotationDegrees"/>). Kept at IoU &gt; 0.65 with the
    /// face box when all five points lie inside the square.
    /// </summary>
    public void LandmarkSamples()
    {
        int tries = options.LandmarkTries;
        if (tries == 0)
        {
            return;
        }

        Span<float> points = stackalloc float[10];
        foreach (var lf in image.LandmarkFaces)
        {
            if (!IsSource(lf.Box))
            {
                continue;
            }

            for (int t = 0; t < tries; t++)
            {
                bool flip = rng.Chance(options.FlipProbability);
                bool rotate = rng.Chance(options.RotationProbability) && options.MaxRotationDegrees > 0;
                float angle = rotate ? rng.NextFloat(-options.MaxRotationDegrees, options.MaxRotationDegrees) * (MathF.PI / 180f) : 0f;
                var c = lf.Box.Center;

                // Mirror about a line on a pixel edge or centre, so a mirror alone moves whole pixels (no blur).
                float axis = MathF.Round(2f * c.X) / 2f;
                var box = flip ? new BoundingBox((2 * axis) - lf.Box.X2, lf.Box.Y1, (2 * axis) - lf.Box.X1, lf.Box.Y2) : lf.Box;
                var centre = box.Center;
                TransformPoints(lf.Points, flip, axis, angle, centre, points);

                var region = ShiftedSquare(box, centre);
                if (!Allowed(region) || (!options.AllowBorderCrops && !CornersInside(region, flip, axis, angle, centre)))
                {
                    continue;
                }

                var frame = Frame(region);
                if (!(frame.IntersectionOverUnion(box) > LandmarkIou))
                {
                    continue;
                }

                var spec = new CropSpec
                {
                    Region = region,
                    Frame = frame,
                    Kind = SampleKind.Landmark,
                    Flip = flip,
                    FlipAxis = axis,
                    Angle = angle,
                    CenterX = centre.X,
                    CenterY = centre.Y,
                };
                BoxTargets(box, frame, spec.Targets[..4]);
                bool inside = true;
                for (int k = 0; k < 5; k++)
                {
                    float tx = (points[2 * k] - frame.X1) / frame.Width, ty = (points[(2 * k) + 1] - frame.Y1) / frame.Height;
                    inside &= tx is >= 0f and <= 1f && ty is >= 0f and <= 1f;
                    spec.Targets[4 + (2 * k)] = tx;
                    spec.Targets[5 + (2 * k)] = ty;
                }

                if (inside)
                {
                    TryAdd(spec);
                }
            }
        }
    }

    /// <summary>
    /// Hard examples: each detector candidate squared and cropped as the next stage would crop it, labelled by the IoU of
    /// its frame with the faces; at most <see cref="DataPreparationOptions.MaxMinedNegativesPerImage"/> negatives,
    /// chosen at random.
    /// </summary>
    public void HardExamples(IReadOnlyList<Candidate> candidates)
    {
        var negatives = new List<CropSpec>();
        foreach (var c in candidates)
        {
            var square = FaceCropper.Square(c.Box);
            if (!FaceCropper.CropRegion(square, width, height, CropBorder.ZeroPad, out var region)
                || region.Width < 1 || region.Height < 1 || !Intersects(region))
            {
                continue;
            }

            var frame = FaceCropper.OutputFrame(square);
            var kind = Label(frame, image.Faces, image.IgnoredFaces, out int best);
            if (kind is null)
            {
                continue;
            }

            var spec = new CropSpec { Region = region, Frame = frame, Kind = kind.Value, Mined = true };
            if (kind == SampleKind.Negative)
            {
                negatives.Add(spec);
                continue;
            }

            BoxTargets(image.Faces[best], frame, spec.Targets[..4]);
            TryAdd(spec);
            if (options.MinedLandmarks && MinedLandmarkTargets(frame, spec.Targets[4..]))
            {
                // The same crop once more as a landmark sample: the next stage's landmark head then also learns on the
                // crops it will really see, whose framing follows the earlier stages' boxes rather than the annotation's.
                spec.Kind = SampleKind.Landmark;
                TryAdd(spec);
            }
        }

        // A random subset without replacement (partial Fisher-Yates).
        int keep = Math.Min(options.MaxMinedNegativesPerImage, negatives.Count);
        for (int i = 0; i < keep; i++)
        {
            int j = rng.NextInt(i, negatives.Count - 1);
            (negatives[i], negatives[j]) = (negatives[j], negatives[i]);
            TryAdd(negatives[i]);
        }
    }

    /// <summary>
    /// Where five points go under the landmark transform: mirrored about x = <paramref name="axis"/> (left and right
    /// points swapped so that "left" stays the smaller x), then rotated by <paramref name="angle"/> about
    /// <paramref name="centre"/>. Output interleaved x1, y1, ..., x5, y5.
    /// </summary>
    public static void TransformPoints(FaceLandmarks points, bool flip, float axis, float angle, Point2F centre, Span<float> output)
    {
        float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
        for (int k = 0; k < 5; k++)
        {
            // After a mirror the left eye comes from the right eye, and the left mouth corner from the right one.
            int from = flip ? k switch { 0 => 1, 1 => 0, 3 => 4, 4 => 3, _ => k } : k;
            var p = points[from];
            float x = flip ? (2 * axis) - p.X : p.X, y = p.Y;
            float dx = x - centre.X, dy = y - centre.Y;
            output[2 * k] = centre.X + (dx * cos) - (dy * sin);
            output[(2 * k) + 1] = centre.Y + (dx * sin) + (dy * cos);
        }
    }

    /// <summary>
    /// True when the corners of <paramref name="r"/> in the transformed image come from inside the source image, so a
    /// P-Net sample (whose windows never reach past the border) shows no black corner.
    /// </summary>
    private bool CornersInside(PixelRegion r, bool flip, float axis, float angle, Point2F centre)
    {
        float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
        for (int k = 0; k < 4; k++)
        {
            float qx = (k % 2 == 0 ? r.X : r.X + r.Width) - centre.X;
            float qy = (k < 2 ? r.Y : r.Y + r.Height) - centre.Y;
            float px = centre.X + (qx * cos) + (qy * sin);
            float py = centre.Y - (qx * sin) + (qy * cos);
            if (flip)
            {
                px = (2 * axis) - px;
            }

            if (px < 0 || py < 0 || px > width || py > height)
            {
                return false;
            }
        }

        return true;
    }

    private static BoundingBox Frame(PixelRegion r) => new(r.X, r.Y, r.X + r.Width, r.Y + r.Height);

    private PixelRegion ShiftedSquare(BoundingBox face, Point2F centre)
    {
        float w = face.Width, h = face.Height;
        int lo = Math.Max(MinCrop, (int)MathF.Floor(0.8f * Math.Min(w, h)));
        int hi = Math.Max(lo, (int)MathF.Ceiling(1.25f * Math.Max(w, h)));
        int size = rng.NextInt(lo, hi);
        float dx = rng.NextFloat(-0.2f * w, 0.2f * w);
        float dy = rng.NextFloat(-0.2f * h, 0.2f * h);
        int x = (int)MathF.Floor(centre.X + dx - (size / 2f) + 0.5f);
        int y = (int)MathF.Floor(centre.Y + dy - (size / 2f) + 0.5f);
        return new PixelRegion(x, y, size, size);
    }

    private bool IsSource(BoundingBox face) => Math.Min(face.Width, face.Height) >= options.MinSourceFace;

    private bool Inside(PixelRegion r) => r.X >= 0 && r.Y >= 0 && r.X + r.Width <= width && r.Y + r.Height <= height;

    private bool Intersects(PixelRegion r) => r.X < width && r.Y < height && r.X + r.Width > 0 && r.Y + r.Height > 0;

    private bool Allowed(PixelRegion r) => options.AllowBorderCrops ? Intersects(r) : Inside(r);

    /// <summary>
    /// Landmark targets of a mined crop: the points of the landmark face that overlaps the frame most (IoU at least
    /// <see cref="PartIou"/>), relative to the frame; false when there is no such face or a point falls outside.
    /// </summary>
    private bool MinedLandmarkTargets(BoundingBox frame, Span<float> targets)
    {
        int best = -1;
        float bestIou = PartIou;
        for (int i = 0; i < image.LandmarkFaces.Count; i++)
        {
            float iou = frame.IntersectionOverUnion(image.LandmarkFaces[i].Box);
            if (iou >= bestIou)
            {
                bestIou = iou;
                best = i;
            }
        }

        if (best < 0)
        {
            return false;
        }

        var points = image.LandmarkFaces[best].Points;
        for (int k = 0; k < FaceLandmarks.Count; k++)
        {
            float tx = (points[k].X - frame.X1) / frame.Width, ty = (points[k].Y - frame.Y1) / frame.Height;
            if (tx is < 0f or > 1f || ty is < 0f or > 1f)
            {
                return false;
            }

            targets[2 * k] = tx;
            targets[(2 * k) + 1] = ty;
        }

        return true;
    }

    private bool TryAddNegative(PixelRegion region)
    {
        if (Label(Frame(region), image.Faces, image.IgnoredFaces, out _) != SampleKind.Negative)
        {
            return false;
        }

        return TryAdd(new CropSpec { Region = region, Frame = Frame(region), Kind = SampleKind.Negative });
    }

    private bool TryAdd(CropSpec spec)
    {
        // The same pixels twice with the same label would be sampling with replacement: keep the first.
        if (!seen.Add((spec.Region, spec.Kind, spec.Flip, spec.Angle, spec.Flip ? spec.FlipAxis : 0f)))
        {
            return false;
        }

        ulong key = rng.NextUInt64() >> 1;
        spec.Key = fillIn ? key | (1UL << 63) : key;
        Specs.Add(spec);
        return true;
    }
}
