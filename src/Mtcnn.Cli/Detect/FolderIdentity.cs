using System.Runtime.InteropServices;

namespace Mtcnn.Cli.Detect;

/// <summary>
/// A folder's identity for a scan that must visit each folder once: its canonical path, with every link resolved
/// (<c>realpath</c> on Unix). On Windows, or when the path cannot be resolved, the full path with a final link resolved.
/// </summary>
internal static class FolderIdentity
{
    /// <summary>The canonical path of <paramref name="folder"/>.</summary>
    public static string Of(string folder)
    {
        if (!OperatingSystem.IsWindows() && NativeMethods.RealPath(folder) is { } real)
        {
            return real;
        }

        try
        {
            var target = new DirectoryInfo(folder).ResolveLinkTarget(returnFinalTarget: true);
            return Path.GetFullPath(target?.FullName ?? folder);
        }
        catch (IOException)
        {
            return Path.GetFullPath(folder);
        }
    }

    private static class NativeMethods
    {
        public static string? RealPath(string path)
        {
            IntPtr resolved;
            try
            {
                // The path as the NUL-terminated UTF-8 bytes the C library expects.
                byte[] bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(path) + 1];
                System.Text.Encoding.UTF8.GetBytes(path, bytes);
                resolved = realpath(bytes, IntPtr.Zero);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return null;
            }

            if (resolved == IntPtr.Zero)
            {
                return null;
            }

            try
            {
                return Marshal.PtrToStringUTF8(resolved);
            }
            finally
            {
                free(resolved);
            }
        }

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern IntPtr realpath(byte[] path, IntPtr resolved);

        [DllImport("libc")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern void free(IntPtr pointer);
    }
}
