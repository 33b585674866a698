using System.Diagnostics;
using System.Globalization;
using Mtcnn.Cascade;
using Mtcnn.Evaluation.Annotations;
using Mtcnn.Imaging;

namespace Mtcnn.Training.Data;

/// <summary>Progress of a preparation run: <paramref name="Done"/> of <paramref name="Total"/> images of a phase.</summary>
/// <param name="Phase">"scan" (pass 1: decode, detect, plan samples) or "crop" (pass 2: cut the kept samples).</param>
/// <param name="Done">Images finished in this phase.</param>
/// <param name="Total">Images in this phase.</param>
public readonly record struct PreparationProgress(string Phase, int Done, int Total);

/// <summary>What a preparation run produced.</summary>
/// <param name="Samples">The samples, in image order.</param>
/// <param name="Generated">Samples generated per kind, before balancing.</param>
/// <param name="Kept">Samples kept per kind (those in <paramref name="Samples"/>).</param>
/// <param name="MinedGenerated">Of <paramref name="Generated"/>, the hard examples (detector candidates; zero for P-Net).</param>
/// <param name="MinedKept">Of <paramref name="Kept"/>, the hard examples.</param>
/// <param name="Images">Images given.</param>
/// <param name="SkippedImages">Images that could not be read (each has an issue).</param>
/// <param name="Issues">Images that could not be used, naming the annotation file and line and the image.</param>
/// <param name="Notes">Remarks on the balancing (e.g. a kind of which nothing was generated).</param>
/// <param name="Elapsed">Wall time of the run.</param>
public sealed record PreparationResult(
    SampleSet Samples,
    SampleCounts Generated,
    SampleCounts Kept,
    SampleCounts MinedGenerated,
    SampleCounts MinedKept,
    int Images,
    int SkippedImages,
    IReadOnlyList<AnnotationIssue> Issues,
    IReadOnlyList<string> Notes,
    TimeSpan Elapsed);

/// <summary>
/// Generates the training samples of one network from annotated images (SPEC section 5, with its fixes): float offsets,
/// no sampling with replacement, a controllable type ratio, zero-padded border crops for R-Net and O-Net, WIDER's
/// invalid faces as "don't care", mirrored and rotated landmark samples, bounded negative sampling, hard examples from
/// the detector for R-Net and O-Net, deterministic for a seed whatever the thread count.
/// </summary>
/// <remarks>
/// Two passes over the images, both parallel over images. Pass 1 decodes each image, runs the mining detector (R-Net
/// and O-Net data) and plans its samples with a random stream derived from the seed and the image index; each planned
/// sample draws a random key. Balancing then keeps, per kind, the samples with the smallest keys: a uniform choice
/// without replacement that does not depend on scheduling. Pass 2 cuts the kept samples with <see cref="FaceCropper"/>
/// (the cascade's own crop arithmetic) straight into their places in the output.
/// </remarks>
public static class DataPreparation
{
    /// <summary>Generates the samples.</summary>
    /// <param name="images">The images with their faces (see <see cref="DataSources.Load"/>).</param>
    /// <param name="options">Settings; validated here.</param>
    /// <param name="progress">Called after each image of each phase, from worker threads; null for none.</param>
    /// <param name="issue">Called when an image cannot be used, from worker threads; null for none. The run goes on.</param>
    /// <param name="metadata">Extra facts to store in the sample file (e.g. the input files); null for none.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The samples and the counts.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ArgumentException">Mining weights of the reference variant were given.</exception>
    /// <exception cref="IOException">An image that was read in pass 1 could not be read again in pass 2.</exception>
    public static PreparationResult Run(
        IReadOnlyList<TrainingImage> images,
        DataPreparationOptions options,
        Action<PreparationProgress>? progress = null,
        Action<AnnotationIssue>? issue = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        var detector = CreateMiner(options);
        int n = images.Count;
        var plans = new CropSpec[n][];
        var cache = new ImageData[n];
        var failed = new bool[n];
        var issues = new List<AnnotationIssue>();
        long cached = 0;
        int done = 0;
        var po = new ParallelOptions { MaxDegreeOfParallelism = options.EffectiveParallelism, CancellationToken = cancellationToken };

        // Pass 1: plan.
        ForEach(n, po, i =>
        {
            var img = images[i];
            ImageData data;
            try
            {
                data = ImageLoader.Load(img.Path).Image;
            }
            catch (ImageLoadException e)
            {
                var problem = new AnnotationIssue(img.AnnotationFile, img.LineNumber, e.Message);
                lock (issues)
                {
                    issues.Add(problem);
                }

                failed[i] = true;
                plans[i] = [];
                issue?.Invoke(problem);
                progress?.Invoke(new PreparationProgress("scan", Interlocked.Increment(ref done), n));
                return;
            }

            IReadOnlyList<Candidate>? mined = detector?.Detect(data, cancellationToken).FinalCandidates;
            var sampler = new ImageSampler(img, data.Width, data.Height, options);
            sampler.Generate(mined);
            plans[i] = [.. sampler.Specs];
            long bytes = data.Pixels.Length;
            if (plans[i].Length > 0 && Interlocked.Add(ref cached, bytes) <= options.ImageCacheBytes)
            {
                cache[i] = data;
            }
            else if (plans[i].Length > 0)
            {
                Interlocked.Add(ref cached, -bytes);
            }

            progress?.Invoke(new PreparationProgress("scan", Interlocked.Increment(ref done), n));
        });

        // Balance.
        Span<long> generated = stackalloc long[4];
        Span<long> minedGenerated = stackalloc long[4];
        foreach (var plan in plans)
        {
            foreach (ref readonly var s in plan.AsSpan())
            {
                generated[SampleCounts.KindIndex(s.Kind)]++;
                minedGenerated[SampleCounts.KindIndex(s.Kind)] += s.Mined ? 1 : 0;
            }
        }

        var notes = new List<string>();
        var targets = Targets(generated, options, notes);
        var keep = Select(plans, generated, targets);

        // Pass 2: cut the kept samples into their places.
        var offsets = new int[n + 1];
        Span<long> minedKept = stackalloc long[4];
        for (int i = 0; i < n; i++)
        {
            int count = 0;
            for (int j = 0; j < keep[i].Length; j++)
            {
                if (keep[i][j])
                {
                    count++;
                    minedKept[SampleCounts.KindIndex(plans[i][j].Kind)] += plans[i][j].Mined ? 1 : 0;
                }
            }

            if (offsets[i] + (long)count > int.MaxValue / 16)
            {
                throw new InvalidOperationException("Too many samples for one sample set; lower --max-samples or the number of tries.");
            }

            offsets[i + 1] = offsets[i] + count;
        }

        var meta = Metadata(options, metadata);
        var set = SampleSet.Allocate(options.CropSize, offsets[n], meta);
        var work = Enumerable.Range(0, n).Where(i => offsets[i + 1] > offsets[i]).ToArray();
        done = 0;
        ForEach(work.Length, po, w =>
        {
            int i = work[w];
            var data = cache[i];
            if (data.IsEmpty)
            {
                try
                {
                    data = ImageLoader.Load(images[i].Path).Image;
                }
                catch (ImageLoadException e)
                {
                    throw new IOException($"{images[i].AnnotationFile}:{images[i].LineNumber}: the image could be read in the first pass but not in the second: {e.Message}", e);
                }
            }

            cache[i] = default;
            Cut(data, images[i].Index, plans[i], keep[i], set, offsets[i], options.CropSize);
            progress?.Invoke(new PreparationProgress("crop", Interlocked.Increment(ref done), work.Length));
        });

        Span<long> kept = stackalloc long[4];
        for (int k = 0; k < 4; k++)
        {
            kept[k] = set.CountOf(SampleCounts.Kinds[k]);
        }

        return new PreparationResult(set, SampleCounts.From(generated), SampleCounts.From(kept), SampleCounts.From(minedGenerated), SampleCounts.From(minedKept), n, failed.Count(f => f),
            issues.OrderBy(i => i.FileName, StringComparer.Ordinal).ThenBy(i => i.LineNumber).ToArray(), notes, clock.Elapsed);
    }

    /// <summary>
    /// How many samples of each kind to keep: the largest counts in the ratio that the generated samples allow (kinds
    /// with a zero share are dropped; kinds with a share but no samples are left out), then scaled down to the total
    /// limit.
    /// </summary>
    internal static long[] Targets(ReadOnlySpan<long> generated, DataPreparationOptions options, List<string> notes)
    {
        var targets = generated.ToArray();
        if (options.Ratio is { } ratio)
        {
            double unit = double.PositiveInfinity;
            for (int k = 0; k < 4; k++)
            {
                int share = ratio.Of(SampleCounts.Kinds[k]);
                if (share > 0 && generated[k] > 0)
                {
                    unit = Math.Min(unit, generated[k] / (double)share);
                }
                else if (share > 0)
                {
                    notes.Add($"no {Name(k)} samples were generated; the ratio {ratio} is applied to the other kinds.");
                }
            }

            for (int k = 0; k < 4; k++)
            {
                int share = ratio.Of(SampleCounts.Kinds[k]);
                targets[k] = share == 0 || double.IsInfinity(unit) ? 0 : Math.Min(generated[k], (long)Math.Floor((unit * share) + 1e-9));
            }
        }

        long total = targets.Sum();
        if (options.MaxSamples > 0 && total > options.MaxSamples)
        {
            double scale = options.MaxSamples / (double)total;
            for (int k = 0; k < 4; k++)
            {
                targets[k] = (long)Math.Floor(targets[k] * scale);
            }

            notes.Add(string.Create(CultureInfo.InvariantCulture, $"scaled down to at most {options.MaxSamples} samples."));
        }

        return targets;
    }

    private static string Name(int kindIndex) => SampleCounts.Kinds[kindIndex].ToString().ToLowerInvariant();

    /// <summary>Per kind, keeps the <c>targets[k]</c> samples with the smallest keys.</summary>
    private static bool[][] Select(CropSpec[][] plans, ReadOnlySpan<long> generated, long[] targets)
    {
        var keep = new bool[plans.Length][];
        for (int i = 0; i < plans.Length; i++)
        {
            keep[i] = new bool[plans[i].Length];
        }

        for (int k = 0; k < 4; k++)
        {
            var kind = SampleCounts.Kinds[k];
            if (targets[k] == 0)
            {
                continue;
            }

            var keys = new ulong[generated[k]];
            var where = new long[generated[k]];
            int m = 0;
            for (int i = 0; i < plans.Length; i++)
            {
                for (int j = 0; j < plans[i].Length; j++)
                {
                    if (plans[i][j].Kind == kind)
                    {
                        keys[m] = plans[i][j].Key;
                        where[m++] = ((long)i << 32) | (uint)j;
                    }
                }
            }

            if (targets[k] < m)
            {
                Array.Sort(keys, where);
            }

            for (long r = 0; r < targets[k]; r++)
            {
                keep[(int)(where[r] >> 32)][(int)(where[r] & 0xFFFFFFFF)] = true;
            }
        }

        return keep;
    }

    private static void Cut(ImageData data, int source, CropSpec[] plan, bool[] keep, SampleSet set, int first, int size)
    {
        var cropper = new FaceCropper(data);
        byte[]? patch = null;
        int o = first;
        for (int j = 0; j < plan.Length; j++)
        {
            if (!keep[j])
            {
                continue;
            }

            ref readonly var spec = ref plan[j];
            var dst = set.WritablePixels(o);
            if (spec.Transformed)
            {
                int bytes = spec.Region.Width * spec.Region.Height * 3;
                if (patch is null || patch.Length < bytes)
                {
                    patch = new byte[bytes];
                }

                LandmarkWarp.Render(data, spec.Region, spec, patch);
                var warped = new FaceCropper(new ImageData(patch, spec.Region.Width, spec.Region.Height, PixelFormat.Rgb24));
                warped.ExtractRegion(new PixelRegion(0, 0, spec.Region.Width, spec.Region.Height), size, dst);
            }
            else
            {
                cropper.ExtractRegion(spec.Region, size, dst);
            }

            ReadOnlySpan<float> t = spec.Targets;
            set.SetLabels(o, spec.Kind, t[..4], t[4..], source);
            o++;
        }
    }

    /// <summary>Parallel.For that rethrows a worker's exception as it is rather than wrapped.</summary>
    private static void ForEach(int count, ParallelOptions po, Action<int> body)
    {
        try
        {
            Parallel.For(0, count, po, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    private static FaceDetector? CreateMiner(DataPreparationOptions o)
    {
        if (o.Net == CascadeStage.PNet)
        {
            return null;
        }

        var weights = o.Weights ?? MtcnnWeights.Default;
        if (weights.Variant != ModelVariant.Original)
        {
            throw new ArgumentException(
                "Hard-example mining needs weights of the original variant: the reference variant's cascade crops with bilinear "
                + "resampling, while the samples are cut with the original cascade's area averaging.");
        }

        return new FaceDetector(
            new DetectorOptions
            {
                LastStage = o.Net == CascadeStage.RNet ? CascadeStage.PNet : CascadeStage.RNet,
                MinFaceSize = o.MinFaceSize,
                PNetThreshold = o.PNetThreshold,
                RNetThreshold = o.RNetThreshold,
                MaxDegreeOfParallelism = 1,
            },
            weights);
    }

    private static Dictionary<string, string> Metadata(DataPreparationOptions o, IReadOnlyDictionary<string, string>? extra)
    {
        var inv = CultureInfo.InvariantCulture;
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["generator"] = "Mtcnn.Training.Data",
            ["net"] = o.Net.ToString().ToLowerInvariant(),
            ["seed"] = o.Seed.ToString(inv),
            ["ratio"] = o.Ratio?.ToString() ?? "all",
            ["max_samples"] = o.MaxSamples.ToString(inv),
            ["negatives_per_image"] = o.NegativesPerImage.ToString(inv),
            ["near_face_negatives"] = o.NearFaceNegatives.ToString(inv),
            ["shifted_tries"] = o.ShiftedTries.ToString(inv),
            ["landmark_tries"] = o.LandmarkTries.ToString(inv),
            ["min_source_face"] = o.MinSourceFace.ToString(inv),
            ["flip_probability"] = o.FlipProbability.ToString(inv),
            ["rotation_probability"] = o.RotationProbability.ToString(inv),
            ["max_rotation_degrees"] = o.MaxRotationDegrees.ToString(inv),
            ["border_crops"] = o.AllowBorderCrops ? "true" : "false",
        };
        if (o.Net != CascadeStage.PNet)
        {
            meta["mining_min_face_size"] = o.MinFaceSize.ToString(inv);
            meta["mining_thresholds"] = string.Create(inv, $"{o.PNetThreshold},{o.RNetThreshold}");
            meta["mining_max_negatives_per_image"] = o.MaxMinedNegativesPerImage.ToString(inv);
            meta["mining_weights"] = o.Weights is null ? "bundled" : (o.Weights.Metadata.TryGetValue("name", out var name) ? name : "custom");
        }

        if (extra is not null)
        {
            foreach (var (k, v) in extra)
            {
                meta[k] = v;
            }
        }

        return meta;
    }
}
