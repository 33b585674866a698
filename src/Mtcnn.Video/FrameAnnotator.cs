using System.Globalization;
using OpenCvSharp;

namespace Mtcnn.Video;

/// <summary>
/// Draws tracked faces onto a frame in place with OpenCV: the box, the five landmarks and a label <c>#id score</c>.
/// Each id gets its own colour from a fixed palette, so a person keeps one colour through the video. Line widths and
/// text size follow the frame size.
/// </summary>
/// <remarks>Stateless and thread-safe (it only draws into the frame it is given).</remarks>
public sealed class FrameAnnotator
{
    // BGR colours, distinct at a glance and readable on dark and light backgrounds.
    private static readonly Scalar[] Palette =
    [
        new(80, 220, 60), new(255, 160, 30), new(40, 80, 255), new(0, 215, 255), new(220, 60, 220),
        new(255, 255, 60), new(60, 150, 255), new(160, 80, 255),
    ];

    /// <summary>Draws the landmarks as dots when true (default).</summary>
    public bool DrawLandmarks { get; init; } = true;

    /// <summary>Draws the <c>#id score</c> label above each box when true (default).</summary>
    public bool DrawLabels { get; init; } = true;

    /// <summary>The colour (BGR) used for a track id.</summary>
    public static Scalar ColorFor(int id) => Palette[(int)((uint)(id - 1) % (uint)Palette.Length)];

    /// <summary>Draws <paramref name="faces"/> onto <paramref name="frame"/>.</summary>
    /// <param name="frame">An 8-bit BGR (or grey/BGRA) frame, modified in place.</param>
    /// <param name="faces">The faces to draw.</param>
    public void Draw(Mat frame, IReadOnlyList<TrackedFace> faces)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(faces);
        int size = Math.Max(frame.Width, frame.Height);
        int thickness = Math.Max(1, (int)Math.Round(size / 400.0));
        int radius = Math.Max(1, thickness + 1);
        double fontScale = Math.Max(0.35, size / 1600.0);
        foreach (var face in faces)
        {
            var color = ColorFor(face.Id);
            var b = face.Box;
            var topLeft = new Point((int)Math.Round(b.X1), (int)Math.Round(b.Y1));
            Cv2.Rectangle(frame, topLeft, new Point((int)Math.Round(b.X2), (int)Math.Round(b.Y2)), color, thickness, LineTypes.AntiAlias);
            if (DrawLandmarks)
            {
                for (int k = 0; k < FaceLandmarks.Count; k++)
                {
                    var p = face.Landmarks[k];
                    Cv2.Circle(frame, new Point((int)Math.Round(p.X), (int)Math.Round(p.Y)), radius, color, -1, LineTypes.AntiAlias);
                }
            }

            if (DrawLabels)
            {
                string label = string.Create(CultureInfo.InvariantCulture, $"#{face.Id} {face.Score:0.00}");
                var textSize = Cv2.GetTextSize(label, HersheyFonts.HersheySimplex, fontScale, thickness, out int baseline);
                int y = topLeft.Y - baseline - 2 >= textSize.Height ? topLeft.Y - baseline - 2 : topLeft.Y + textSize.Height + 2;
                Cv2.PutText(frame, label, new Point(topLeft.X, y), HersheyFonts.HersheySimplex, fontScale, color, thickness, LineTypes.AntiAlias);
            }
        }
    }
}
