using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>
/// The libm functions ocirun binds on first use (src/Cli/native/lazy-libm.c, linked into the ocirun binary only).
/// </summary>
public static partial class LazyLibm
{
    /// <summary>The library name of functions linked into ocirun itself (a DirectPInvoke entry of src/Cli/ocirun.csproj).</summary>
    public const string Name = "ocirun-native";

    /// <summary>
    /// Loads libm.so.6 and binds the five functions now. The init calls it before it moves into the container's root:
    /// a first use after that would dlopen the container's libm into a process that still holds the runtime's
    /// privileges. Only in the ocirun binary (elsewhere the entry point does not exist).
    /// </summary>
    [LibraryImport(Name, EntryPoint = "ocirun_libm_preload")]
    public static partial void Preload();
}
