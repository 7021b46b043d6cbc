global using LibC = Tmds.Linux.LibC;

using System.Text;

namespace OciRuntime.Interop;

/// <summary>
/// The one interop layer of ocirun. The classic libc calls come from Tmds.LibC (<c>Tmds.Linux.LibC</c>, raw
/// <c>DllImport</c>s with <c>SetLastError</c>); the wrappers here keep the runtime's names and signatures (string paths,
/// SafeFd, SyscallException) on top of it. Own <c>[LibraryImport]</c> declarations remain only for what Tmds.LibC 0.5.0
/// lacks (each such file says so) and for <see cref="RawSys"/>, the <c>[SuppressGCTransition]</c> calls of a cloned
/// child before execve (docs/process-model.md, "Which layer a call comes from").
/// Calls return the raw libc result (-1 on failure with errno in <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/>,
/// which both Tmds.LibC's <c>SetLastError</c> imports and ours fill) unless a wrapper says otherwise.
/// </summary>
public static partial class Libc
{
    /// <summary>The C library name resolved by the dynamic loader (glibc's libc.so.6).</summary>
    internal const string Name = "libc";

    /// <summary>
    /// <paramref name="s"/> as NUL-terminated UTF-8 for a <c>byte*</c> parameter of Tmds.LibC (<c>fixed (byte* p = Utf8Z(s))</c>),
    /// or null (a NULL pointer) for null.
    /// </summary>
    internal static byte[]? Utf8Z(string? s)
    {
        if (s is null) return null;
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    /// <summary>A 64-bit value as a Tmds.LibC syscall argument.</summary>
    internal static Tmds.Linux.syscall_arg Arg(long value) => (Tmds.Linux.ssize_t)value;

    /// <summary>The result of <c>LibC.syscall</c> as a long (-1 with errno on failure).</summary>
    internal static long Result(Tmds.Linux.syscall_arg value) => (Tmds.Linux.ssize_t)value;
}
