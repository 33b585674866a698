using System.Runtime.InteropServices;
using TorchSharp;

namespace Mtcnn.Training.Diagnostics;

/// <summary>
/// The few libtorch facts and switches that TorchSharp does not expose: the build configuration, the oneDNN version,
/// ATen's CPU capability, and <c>at::globalContext().setUserEnabledMkldnn</c> (PyTorch's
/// <c>torch.backends.mkldnn.enabled</c>), found by their exported C++ names in <c>libtorch_cpu</c>. Each is optional:
/// where a symbol is missing (another libtorch build, another platform) the property is null and nothing breaks.
/// </summary>
public static class LibTorchNative
{
    private static readonly Lazy<Symbols> Loaded = new(Load);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr ContextFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetFlagFn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    private delegate bool GetFlagFn(IntPtr context);

    // A function returning std::string by value: the caller passes the result's storage as a hidden first argument
    // (Itanium C++ ABI on x86-64; ARM64 passes it in x8 instead, so these are only bound on x64).
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr StringFn(IntPtr result);

    /// <summary>
    /// Whether libtorch may use oneDNN (MKL-DNN) kernels; null where the switch is not reachable. Setting it takes
    /// effect for the next operation, in this process, at any time (unlike the ISA limit, which oneDNN reads once).
    /// </summary>
    public static bool? OneDnnEnabled
    {
        get
        {
            var s = Loaded.Value;
            return s.Context is null || s.GetMkldnn is null ? null : s.GetMkldnn(s.Context());
        }
    }

    /// <summary>True where <see cref="SetOneDnnEnabled"/> can switch oneDNN.</summary>
    public static bool CanSwitchOneDnn => Loaded.Value is { Context: not null, SetMkldnn: not null };

    /// <summary>The oneDNN version libtorch was built with (e.g. <c>3.7.1</c>), or null.</summary>
    public static string? OneDnnVersion => CallString(Loaded.Value.MkldnnVersion);

    /// <summary>ATen's own vectorised-kernel level (<c>AVX512</c>, <c>AVX2</c>, <c>DEFAULT</c>), or null.</summary>
    public static string? AtenCpuCapability => CallString(Loaded.Value.CpuCapability);

    /// <summary>libtorch's <c>at::show_config()</c> (compiler, BLAS, oneDNN and build flags), or null.</summary>
    public static string? BuildConfiguration => CallString(Loaded.Value.ShowConfig);

    /// <summary>Switches libtorch's use of oneDNN on or off.</summary>
    /// <param name="enabled">False to use ATen's own kernels instead of oneDNN's.</param>
    /// <exception cref="PlatformNotSupportedException">The switch is not reachable in this libtorch.</exception>
    public static void SetOneDnnEnabled(bool enabled)
    {
        var s = Loaded.Value;
        if (s.Context is null || s.SetMkldnn is null)
        {
            throw new PlatformNotSupportedException("libtorch's oneDNN switch (at::Context::setUserEnabledMkldnn) is not exported by this libtorch build.");
        }

        s.SetMkldnn(s.Context(), enabled);
    }

    /// <summary>
    /// An environment variable as native code sees it (libc <c>getenv</c>), which on Linux and macOS is not what
    /// <see cref="Environment.GetEnvironmentVariable(string)"/> returns after <see cref="Environment.SetEnvironmentVariable(string, string)"/>:
    /// .NET keeps its own copy of the environment and never writes to the C library's.
    /// </summary>
    /// <param name="name">The variable.</param>
    /// <returns>Its value, or null when unset.</returns>
    public static string? NativeEnvironmentVariable(string name)
    {
        if (OperatingSystem.IsWindows())
        {
            return Environment.GetEnvironmentVariable(name);
        }

        return Marshal.PtrToStringUTF8(LibC.getenv(name));
    }

    private static string? CallString(StringFn? fn)
    {
        if (fn is null)
        {
            return null;
        }

        // std::string (libstdc++, C++11 ABI): data pointer, length, then 16 bytes of inline buffer or capacity. The
        // heap buffer of a long string is not freed (its destructor is inline, not exported): a few KB, once.
        IntPtr storage = Marshal.AllocHGlobal(64);
        try
        {
            fn(storage);
            IntPtr data = Marshal.ReadIntPtr(storage);
            long length = Marshal.ReadInt64(storage, IntPtr.Size);
            return length is < 0 or > 1 << 20 ? null : Marshal.PtrToStringUTF8(data, (int)length);
        }
        finally
        {
            Marshal.FreeHGlobal(storage);
        }
    }

    private static Symbols Load()
    {
        // TorchSharp loads libtorch on first use; after that the library is found by its name among the loaded ones.
        _ = torch.get_num_threads();
        if (OperatingSystem.IsWindows() || !NativeLibrary.TryLoad(OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so", typeof(torch).Assembly, null, out IntPtr lib))
        {
            return new Symbols(null, null, null, null, null, null);
        }

        T? Bind<T>(string name)
            where T : Delegate =>
            NativeLibrary.TryGetExport(lib, name, out IntPtr f) ? Marshal.GetDelegateForFunctionPointer<T>(f) : null;

        bool x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64 && OperatingSystem.IsLinux();
        return new Symbols(
            Bind<ContextFn>("_ZN2at13globalContextEv"),
            Bind<GetFlagFn>("_ZNK2at7Context17userEnabledMkldnnEv"),
            Bind<SetFlagFn>("_ZN2at7Context20setUserEnabledMkldnnEb"),
            x64 ? Bind<StringFn>("_ZN2at18get_mkldnn_versionB5cxx11Ev") : null,
            x64 ? Bind<StringFn>("_ZN2at18get_cpu_capabilityB5cxx11Ev") : null,
            x64 ? Bind<StringFn>("_ZN2at11show_configB5cxx11Ev") : null);
    }

    private sealed record Symbols(ContextFn? Context, GetFlagFn? GetMkldnn, SetFlagFn? SetMkldnn, StringFn? MkldnnVersion, StringFn? CpuCapability, StringFn? ShowConfig);

    private static class LibC
    {
        [DllImport("libc", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern IntPtr getenv(string name);
    }
}
