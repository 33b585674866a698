using System.Runtime.InteropServices;
using OpenCvSharp;

namespace Mtcnn.Video;

/// <summary>
/// Keeps OpenCV and its built-in FFmpeg from printing to the process's stderr: this library reports every problem as a
/// <see cref="VideoException"/>, and a command-line tool must be able to promise one-line errors. A user who wants the
/// native messages sets <c>OPENCV_LOG_LEVEL</c> or <c>OPENCV_FFMPEG_LOGLEVEL</c> in the environment; an existing
/// setting is respected.
/// </summary>
internal static partial class NativeLogging
{
    private const string FfmpegLevelVariable = "OPENCV_FFMPEG_LOGLEVEL";
    private const string OpenCvLevelVariable = "OPENCV_LOG_LEVEL";
    private static readonly Lazy<bool> Configured = new(Configure);

    /// <summary>Applies the settings once, before the first capture or writer is created.</summary>
    public static void EnsureConfigured() => _ = Configured.Value;

    private static bool Configure()
    {
        if (Environment.GetEnvironmentVariable(FfmpegLevelVariable) is null && !OperatingSystem.IsWindows())
        {
            // OpenCV's FFmpeg backend reads this variable with getenv() when it first initialises; .NET's
            // Environment.SetEnvironmentVariable does not reach the C environment on Unix, hence setenv. -8 is AV_LOG_QUIET.
            _ = SetEnv(FfmpegLevelVariable, "-8", 0);
        }

        if (Environment.GetEnvironmentVariable(OpenCvLevelVariable) is null)
        {
            Cv2.SetLogLevel(LogLevel.SILENT);
        }

        return true;
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
