using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>
/// The C parts linked into the ocirun binary (src/Cli/native/*.c; the "ocirun-native" DirectPInvoke library of
/// src/Cli/ocirun.csproj). They exist only in ocirun: a process without them (a test host) gets an
/// <see cref="EntryPointNotFoundException"/> or a <see cref="DllNotFoundException"/>.
/// </summary>
public static unsafe partial class OcirunNative
{
    /// <summary>The library name of the functions linked into ocirun itself.</summary>
    public const string Name = "ocirun-native";

    /// <summary>
    /// Loads libm.so.6 and binds the five functions ocirun binds on first use (lazy-libm.c) now. The init calls it before
    /// it moves into the container's root: a first use after that would dlopen the container's libm into a process that
    /// still holds the runtime's privileges.
    /// </summary>
    [LibraryImport(Name, EntryPoint = "ocirun_libm_preload")]
    public static partial void LibmPreload();

    /// <summary>
    /// Forwards <paramref name="signals"/> to the process of <paramref name="pidFd"/> from now on, with an
    /// async-signal-safe handler (signal-forward.c: pidfd_send_signal, nothing else). One forwarding at a time.
    /// </summary>
    /// <param name="pidFd">The target's pidfd; must stay open until <see cref="SignalForwardStop"/>.</param>
    /// <param name="signals">Signal numbers (at most 32).</param>
    /// <param name="count">How many.</param>
    /// <returns>0, or -errno (nothing installed).</returns>
    [LibraryImport(Name, EntryPoint = "ocirun_signal_forward_start")]
    public static partial int SignalForwardStart(int pidFd, int* signals, int count);

    /// <summary>Ends the forwarding: the previous dispositions of the signals are restored.</summary>
    [LibraryImport(Name, EntryPoint = "ocirun_signal_forward_stop")]
    public static partial void SignalForwardStop();
}
