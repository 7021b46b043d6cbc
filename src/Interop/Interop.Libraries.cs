namespace OciRuntime.Interop;

/// <summary>
/// The one interop layer of ocirun: <c>[LibraryImport]</c> declarations of the libc calls the runtime makes,
/// in the style of dotnet/runtime's <c>Interop.Sys</c>, one file per call family.
/// Calls return the raw libc result (-1 on failure with errno in <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/>)
/// unless a wrapper says otherwise.
/// </summary>
public static partial class Libc
{
    /// <summary>The C library name resolved by the dynamic loader (glibc's libc.so.6).</summary>
    internal const string Name = "libc";
}
