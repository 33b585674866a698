using System.Globalization;

namespace Mtcnn;

/// <summary>
/// The text form of <see cref="DetectionRotations"/> used by the command line and the web API: <c>auto</c>,
/// <c>all</c>, or clockwise angles separated by commas (<c>0</c>, <c>90,270</c>, <c>0,90,180,270</c>).
/// </summary>
public static class RotationText
{
    /// <summary>What <see cref="TryParse"/> accepts, for error messages.</summary>
    public const string Expected = "0, 90, 180 or 270 separated by commas (like 0,90,180,270), all, or auto";

    /// <summary>Reads a rotation setting; case-insensitive, spaces around items allowed, repeated angles ignored.</summary>
    /// <param name="text">The text.</param>
    /// <param name="rotations">The setting when the text is valid.</param>
    /// <returns>True when the text is valid.</returns>
    public static bool TryParse(string? text, out DetectionRotations rotations)
    {
        rotations = DetectionRotations.None;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string t = text.Trim();
        if (t.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            rotations = DetectionRotations.Auto;
            return true;
        }

        if (t.Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            rotations = DetectionRotations.All;
            return true;
        }

        var result = DetectionRotations.None;
        foreach (string part in t.Split(','))
        {
            if (!int.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int degrees) || degrees is not (0 or 90 or 180 or 270))
            {
                return false;
            }

            result |= (DetectionRotations)(1 << (degrees / 90));
        }

        rotations = result;
        return true;
    }

    /// <summary>The text form: <c>auto</c> for <see cref="DetectionRotations.Auto"/>, otherwise the angles (plus <c>+agreement</c> when set with fewer than all turns).</summary>
    public static string Format(DetectionRotations rotations)
    {
        if (rotations == DetectionRotations.Auto)
        {
            return "auto";
        }

        string angles = string.Join(',', new DetectorOptions { Rotations = rotations }.RotationAngles.Select(a => a.ToString(CultureInfo.InvariantCulture)));
        return (rotations & DetectionRotations.Agreement) != 0 ? angles + "+agreement" : angles;
    }
}
