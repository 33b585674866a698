using System.Reflection;

namespace Mtcnn.TestSupport;

/// <summary>Finds the built <c>mtcnn</c> program (Mtcnn.Cli.dll) and the dotnet host that runs it, for tests that start it as a child process.</summary>
internal static class CliLocator
{
    /// <summary>The dotnet host: DOTNET_HOST_PATH, else this process when it is dotnet, else "dotnet" on PATH.</summary>
    public static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        string? current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    /// <summary>
    /// Mtcnn.Cli.dll: the path recorded by the test project's build (assembly metadata <c>MtcnnCliDll</c>) when it
    /// exists, else the copy beside the tests.
    /// </summary>
    public static string CliDll(Assembly testAssembly)
    {
        string? built = testAssembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "MtcnnCliDll")?.Value;
        if (built is not null && File.Exists(built))
        {
            return Path.GetFullPath(built);
        }

        string copy = Path.Combine(AppContext.BaseDirectory, "Mtcnn.Cli.dll");
        return File.Exists(copy) ? copy : throw new FileNotFoundException("The CLI build output was not found.", built);
    }
}
