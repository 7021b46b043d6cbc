using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

public static partial class Libc
{
    private const int KEYCTL_JOIN_SESSION_KEYRING = 1;

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscallKeyctl(long number, int operation, string name);

    /// <summary>keyctl(KEYCTL_JOIN_SESSION_KEYRING, <paramref name="name"/>): a new session keyring for the caller; the keyring id, or -1.</summary>
    public static long JoinSessionKeyring(string name) =>
        syscallKeyctl(SyscallNumbers.Keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
}
