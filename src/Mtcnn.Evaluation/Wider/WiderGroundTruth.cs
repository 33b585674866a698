using System.Globalization;
using Mtcnn.Evaluation.Matlab;

namespace Mtcnn.Evaluation.Wider;

/// <summary>The three WIDER FACE difficulty settings; each keeps a different subset of the ground-truth faces.</summary>
public enum WiderSetting
{
    /// <summary>The easy subset (7,211 faces in the validation set).</summary>
    Easy,

    /// <summary>The medium subset (13,319 faces; includes the easy ones).</summary>
    Medium,

    /// <summary>The hard subset (31,958 faces; includes the medium ones).</summary>
    Hard,
}

/// <summary>A WIDER FACE box as annotated: left, top, width and height in pixels.</summary>
/// <param name="X">Left edge.</param>
/// <param name="Y">Top edge.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
public readonly record struct WiderBox(double X, double Y, double Width, double Height);

/// <summary>The ground truth of one validation image: its faces and, per setting, which of them count.</summary>
public sealed class WiderImage
{
    private readonly WiderBox[] boxes;
    private readonly int[][] kept;

    /// <summary>Creates an image record (the loader does this; tests and custom benchmarks may too).</summary>
    /// <param name="eventName">The event folder, e.g. <c>0--Parade</c>.</param>
    /// <param name="name">The image name without extension, e.g. <c>0_Parade_marchingband_1_465</c>.</param>
    /// <param name="boxes">All annotated faces.</param>
    /// <param name="easy">Zero-based indices into <paramref name="boxes"/> of the faces kept in the easy setting.</param>
    /// <param name="medium">Indices kept in the medium setting.</param>
    /// <param name="hard">Indices kept in the hard setting.</param>
    /// <exception cref="ArgumentException">A name is empty or an index is out of range.</exception>
    public WiderImage(string eventName, string name, IReadOnlyList<WiderBox> boxes, IReadOnlyList<int> easy, IReadOnlyList<int> medium, IReadOnlyList<int> hard)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(boxes);
        Event = eventName;
        Name = name;
        this.boxes = [.. boxes];
        kept = [Check(easy), Check(medium), Check(hard)];
    }

    /// <summary>The event folder name.</summary>
    public string Event { get; }

    /// <summary>The image name without extension.</summary>
    public string Name { get; }

    /// <summary><c>Event/Name</c>: the key predictions are looked up by.</summary>
    public string Key => Event + "/" + Name;

    /// <summary>All annotated faces, in file order.</summary>
    public IReadOnlyList<WiderBox> Boxes => boxes;

    /// <summary>Zero-based indices of the faces that count in <paramref name="setting"/>.</summary>
    /// <param name="setting">The setting.</param>
    /// <returns>The kept indices.</returns>
    public IReadOnlyList<int> Kept(WiderSetting setting) => kept[(int)setting];

    private int[] Check(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        foreach (int i in indices)
        {
            if (i < 0 || i >= boxes.Length)
            {
                throw new ArgumentException($"Image {Event}/{Name}: kept index {i} is outside 0..{boxes.Length - 1}.", nameof(indices));
            }
        }

        return [.. indices];
    }
}

/// <summary>
/// The WIDER FACE validation ground truth as the official evaluation uses it: events, images and face boxes from
/// <c>wider_face_val.mat</c>, and the kept faces of each setting from the <c>gt_list</c> of
/// <c>wider_easy_val.mat</c>, <c>wider_medium_val.mat</c> and <c>wider_hard_val.mat</c> (1-based in the files,
/// 0-based here). Immutable.
/// </summary>
public sealed class WiderGroundTruth
{
    /// <summary>The file holding events, file names and boxes.</summary>
    public const string FaceValFile = "wider_face_val.mat";

    /// <summary>The files holding the keep-lists, in <see cref="WiderSetting"/> order.</summary>
    public static IReadOnlyList<string> SettingFiles { get; } = ["wider_easy_val.mat", "wider_medium_val.mat", "wider_hard_val.mat"];

    private readonly WiderImage[] images;

    /// <summary>Creates ground truth from image records.</summary>
    /// <param name="images">The images, in evaluation order.</param>
    /// <exception cref="ArgumentException">Two images share a key.</exception>
    public WiderGroundTruth(IEnumerable<WiderImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        this.images = [.. images];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var image in this.images)
        {
            if (!seen.Add(image.Key))
            {
                throw new ArgumentException($"The image {image.Key} appears twice.", nameof(images));
            }
        }

        Events = [.. this.images.Select(i => i.Event).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The images in evaluation order.</summary>
    public IReadOnlyList<WiderImage> Images => images;

    /// <summary>The event names in order of first appearance.</summary>
    public IReadOnlyList<string> Events { get; }

    /// <summary>Total number of annotated boxes.</summary>
    public int BoxCount => images.Sum(i => i.Boxes.Count);

    /// <summary>Number of faces that count in a setting.</summary>
    /// <param name="setting">The setting.</param>
    /// <returns>The sum over images of the kept faces.</returns>
    public int FaceCount(WiderSetting setting) => images.Sum(i => i.Kept(setting).Count);

    /// <summary>Loads the four official files from one folder (e.g. <c>eval_tools/ground_truth</c>).</summary>
    /// <param name="directory">The folder holding <see cref="FaceValFile"/> and the <see cref="SettingFiles"/>.</param>
    /// <returns>The ground truth.</returns>
    /// <exception cref="EvaluationDataException">A file is missing, unreadable or does not hold what the official files hold.</exception>
    public static WiderGroundTruth Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
        {
            throw new EvaluationDataException(directory, "the ground-truth folder does not exist.");
        }

        string[] paths = [Path.Combine(directory, FaceValFile), .. SettingFiles.Select(f => Path.Combine(directory, f))];
        foreach (string p in paths)
        {
            if (!File.Exists(p))
            {
                throw new EvaluationDataException(p, $"missing: the ground-truth folder must hold {FaceValFile} and {string.Join(", ", SettingFiles)} (the official eval_tools/ground_truth files).");
            }
        }

        return Load(paths[0], paths[1], paths[2], paths[3]);
    }

    /// <summary>Loads the official files from explicit paths.</summary>
    /// <param name="faceValPath">Path of <c>wider_face_val.mat</c>.</param>
    /// <param name="easyPath">Path of <c>wider_easy_val.mat</c>.</param>
    /// <param name="mediumPath">Path of <c>wider_medium_val.mat</c>.</param>
    /// <param name="hardPath">Path of <c>wider_hard_val.mat</c>.</param>
    /// <returns>The ground truth.</returns>
    /// <exception cref="EvaluationDataException">A file is unreadable or does not hold what the official files hold.</exception>
    public static WiderGroundTruth Load(string faceValPath, string easyPath, string mediumPath, string hardPath)
    {
        var faceVal = MatFile.Read(faceValPath);
        var events = CellOf(faceVal, "event_list", faceValPath);
        var files = CellOf(faceVal, "file_list", faceValPath);
        var boxes = CellOf(faceVal, "face_bbx_list", faceValPath);
        if (files.Count != events.Count || boxes.Count != events.Count)
        {
            throw new EvaluationDataException(faceValPath, $"event_list has {events.Count} entries but file_list has {files.Count} and face_bbx_list {boxes.Count}.");
        }

        var keep = new MatCellArray[3];
        string[] keepPaths = [easyPath, mediumPath, hardPath];
        for (int s = 0; s < 3; s++)
        {
            var vars = MatFile.Read(keepPaths[s]);
            keep[s] = CellOf(vars, "gt_list", keepPaths[s]);
            if (keep[s].Count != events.Count)
            {
                throw new EvaluationDataException(keepPaths[s], $"gt_list has {keep[s].Count} events but {FaceValFile} has {events.Count}.");
            }
        }

        var list = new List<WiderImage>();
        for (int e = 0; e < events.Count; e++)
        {
            string eventName = Text(events[e], faceValPath, $"event_list{{{e + 1}}}");
            var eventFiles = Cell(files[e], faceValPath, $"file_list{{{e + 1}}}");
            var eventBoxes = Cell(boxes[e], faceValPath, $"face_bbx_list{{{e + 1}}}");
            if (eventBoxes.Count != eventFiles.Count)
            {
                throw new EvaluationDataException(faceValPath, $"event {eventName}: {eventFiles.Count} files but {eventBoxes.Count} box lists.");
            }

            var eventKeep = new MatCellArray[3];
            for (int s = 0; s < 3; s++)
            {
                eventKeep[s] = Cell(keep[s][e], keepPaths[s], $"gt_list{{{e + 1}}}");
                if (eventKeep[s].Count != eventFiles.Count)
                {
                    throw new EvaluationDataException(keepPaths[s], $"event {eventName}: gt_list has {eventKeep[s].Count} images but {FaceValFile} lists {eventFiles.Count}.");
                }
            }

            for (int i = 0; i < eventFiles.Count; i++)
            {
                string name = Text(eventFiles[i], faceValPath, $"file_list{{{e + 1}}}{{{i + 1}}}");
                WiderBox[] imageBoxes = Boxes(eventBoxes[i], faceValPath, $"{eventName}/{name}");
                var kept = new int[3][];
                for (int s = 0; s < 3; s++)
                {
                    kept[s] = KeptIndices(eventKeep[s][i], imageBoxes.Length, keepPaths[s], $"{eventName}/{name}");
                }

                list.Add(new WiderImage(eventName, name, imageBoxes, kept[0], kept[1], kept[2]));
            }
        }

        try
        {
            return new WiderGroundTruth(list);
        }
        catch (ArgumentException ex)
        {
            throw new EvaluationDataException(faceValPath, ex.Message, ex);
        }
    }

    private static MatCellArray CellOf(IReadOnlyDictionary<string, MatArray> vars, string name, string path)
    {
        if (!vars.TryGetValue(name, out var array))
        {
            throw new EvaluationDataException(path, $"has no variable '{name}' (it holds {string.Join(", ", vars.Keys)}); is this an official WIDER FACE ground-truth file?");
        }

        return Cell(array, path, name);
    }

    private static MatCellArray Cell(MatArray array, string path, string what) =>
        array as MatCellArray ?? throw new EvaluationDataException(path, $"{what} should be a cell array but is {array.Class}.");

    private static string Text(MatArray array, string path, string what)
    {
        // Official entries are cells wrapping a char row ({ 'name' }); accept the bare char row too.
        if (array is MatCellArray { Count: 1 } wrapped)
        {
            array = wrapped[0];
        }

        return array is MatCharArray chars
            ? chars.GetRow(0)
            : throw new EvaluationDataException(path, $"{what} should be text but is {array.Class}.");
    }

    private static WiderBox[] Boxes(MatArray array, string path, string image)
    {
        if (array is not MatNumericArray numbers || (numbers.Count > 0 && numbers.Columns != 4))
        {
            throw new EvaluationDataException(path, $"the boxes of {image} should be an N x 4 numeric array (x, y, w, h) but are {array}.");
        }

        var result = new WiderBox[numbers.Count == 0 ? 0 : numbers.Rows];
        for (int r = 0; r < result.Length; r++)
        {
            result[r] = new WiderBox(numbers[r, 0], numbers[r, 1], numbers[r, 2], numbers[r, 3]);
        }

        return result;
    }

    private static int[] KeptIndices(MatArray array, int boxCount, string path, string image)
    {
        if (array is not MatNumericArray numbers)
        {
            throw new EvaluationDataException(path, $"the keep-list of {image} should be numeric but is {array.Class}.");
        }

        var result = new int[numbers.Count];
        for (int k = 0; k < result.Length; k++)
        {
            double v = numbers.Real[k];
            if (v != Math.Floor(v) || v < 1 || v > boxCount)
            {
                throw new EvaluationDataException(path, string.Create(CultureInfo.InvariantCulture, $"the keep-list of {image} holds {v}, not a 1-based index into its {boxCount} boxes."));
            }

            result[k] = (int)v - 1;
        }

        return result;
    }
}
