using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

// Own declarations (Tmds.LibC 0.5.0 lacks them): pthread_create, pthread_join.
public static unsafe partial class Libc
{
    /// <summary>
    /// pthread_create(3): a thread running <paramref name="start"/>(<paramref name="arg"/>). Returns 0 or an error
    /// number (not errno).
    /// </summary>
    [LibraryImport(Name, EntryPoint = "pthread_create")]
    public static partial int pthread_create(nuint* thread, void* attributes, delegate* unmanaged<nint, nint> start, nint arg);

    /// <summary>pthread_join(3): waits until <paramref name="thread"/> has ended. Returns 0 or an error number.</summary>
    [LibraryImport(Name, EntryPoint = "pthread_join")]
    public static partial int pthread_join(nuint thread, void* result);
}
