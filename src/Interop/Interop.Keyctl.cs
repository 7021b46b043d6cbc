using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

// keyctl is not in Tmds.LibC 0.5.0: it goes through LibC.syscall.
public static partial class Libc
{
    private const int KEYCTL_JOIN_SESSION_KEYRING = 1;

    /// <summary>
    /// keyctl(KEYCTL_JOIN_SESSION_KEYRING, <paramref name="name"/>) (not in Tmds.LibC: LibC.syscall): a new session keyring
    /// for the caller; the keyring id, or -1.
    /// </summary>
    public static unsafe long JoinSessionKeyring(string name)
    {
        fixed (byte* p = Utf8Z(name)) return Result(LibC.syscall(Arg(SyscallNumbers.Keyctl), KEYCTL_JOIN_SESSION_KEYRING, p));
    }
}
