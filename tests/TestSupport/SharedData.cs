namespace Mtcnn.TestSupport;

/// <summary>
/// Locates the read-only <c>../shared</c> folder that sits beside the repository (present for developers and CI).
/// Tests that need it call <see cref="Require"/>, which skips them with a clear message when it is absent.
/// </summary>
internal static class SharedData
{
    private static readonly Lazy<string?> Root = new(FindRoot);

    /// <summary>The shared folder, or null when absent.</summary>
    public static string? RootOrNull => Root.Value;

    /// <summary>The absolute path of <paramref name="relative"/> inside ../shared; skips the test when it is missing.</summary>
    public static string Require(string relative)
    {
        string? root = Root.Value;
        Skip.If(root is null, "../shared is not present beside the repository: skipping a test that needs shared data.");
        string path = Path.Combine(root!, relative);
        Skip.IfNot(File.Exists(path) || Directory.Exists(path), $"../shared/{relative} is missing: skipping.");
        return path;
    }

    /// <summary>The repository root (the folder holding Mtcnn.slnx).</summary>
    public static string RepoRoot => FindRepoRoot() ?? throw new InvalidOperationException("Cannot find the repository root above " + AppContext.BaseDirectory);

    private static string? FindRoot()
    {
        string? env = Environment.GetEnvironmentVariable("MTCNN_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
        {
            return Path.GetFullPath(env);
        }

        string? repo = FindRepoRoot();
        if (repo is null)
        {
            return null;
        }

        string candidate = Path.GetFullPath(Path.Combine(repo, "..", "shared"));
        return Directory.Exists(Path.Combine(candidate, "data")) ? candidate : null;
    }

    private static string? FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Mtcnn.slnx")))
            {
                return dir.FullName;
            }

            dir = dir.Parent;
        }

        return null;
    }
}
