using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

public static unsafe partial class Libc
{
    [LibraryImport(Name, EntryPoint = "pipe2", SetLastError = true)]
    private static partial int pipe2(int* fds, int flags);

    /// <summary>pipe2(2) with O_CLOEXEC on both ends: (read end, write end).</summary>
    /// <exception cref="SyscallException">pipe2 failed.</exception>
    public static (SafeFd Read, SafeFd Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Check(pipe2(fds, OpenFlags.O_CLOEXEC), "pipe2");
        return (new SafeFd(fds[0]), new SafeFd(fds[1]));
    }

    [LibraryImport(Name, EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport(Name, EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport(Name, EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newfd);

    [LibraryImport(Name, EntryPoint = "posix_spawn_file_actions_addclosefrom_np")]
    private static partial int posix_spawn_file_actions_addclosefrom_np(void* actions, int from);

    [LibraryImport(Name, EntryPoint = "posix_spawnattr_init")]
    private static partial int posix_spawnattr_init(void* attr);

    [LibraryImport(Name, EntryPoint = "posix_spawnattr_destroy")]
    private static partial int posix_spawnattr_destroy(void* attr);

    [LibraryImport(Name, EntryPoint = "posix_spawnattr_setflags")]
    private static partial int posix_spawnattr_setflags(void* attr, short flags);

    [LibraryImport(Name, EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int posix_spawnattr_setsigdefault(void* attr, void* sigset);

    [LibraryImport(Name, EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int posix_spawnattr_setsigmask(void* attr, void* sigset);

    [LibraryImport(Name, EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int posix_spawn(int* pid, string path, void* actions, void* attr, string?[] argv, string?[] envp);

    private static void SpawnOk(int rc, string call)
    {
        if (rc != 0) throw new SyscallException(call, rc);
    }

    /// <summary>
    /// posix_spawn(3) of <paramref name="path"/> (absolute) with exactly <paramref name="argv"/> and
    /// <paramref name="envp"/>; stdin, stdout and stderr from the given fds; every other fd closed; default
    /// signal dispositions (SIGPIPE included) and an empty signal mask. Safe from a multithreaded process.
    /// </summary>
    /// <returns>The child's pid.</returns>
    /// <exception cref="SyscallException">the spawn failed (e.g. ENOENT, EACCES).</exception>
    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, int stdinFd, int stdoutFd, int stderrFd) =>
        SpawnWithFds(path, argv, envp, [stdinFd, stdoutFd, stderrFd]);
}
