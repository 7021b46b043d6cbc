using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

// Own declarations (Tmds.LibC 0.5.0 lacks them): the posix_spawn family.
public static unsafe partial class Libc
{
    private static int pipe2(int* fds, int flags) => LibC.pipe2(fds, flags);

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

    [LibraryImport(Name, EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int posix_spawn_file_actions_addchdir_np(void* actions, string path);

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
    /// <param name="path">The program (absolute).</param>
    /// <param name="argv">Its argv.</param>
    /// <param name="envp">Its environment.</param>
    /// <param name="stdinFd">Its stdin.</param>
    /// <param name="stdoutFd">Its stdout.</param>
    /// <param name="stderrFd">Its stderr.</param>
    /// <param name="cwd">Its working directory (posix_spawn_file_actions_addchdir_np), or null for the caller's.</param>
    /// <returns>The child's pid.</returns>
    /// <exception cref="SyscallException">the spawn failed (e.g. ENOENT, EACCES).</exception>
    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, int stdinFd, int stdoutFd, int stderrFd, string? cwd = null) =>
        SpawnWithFds(path, argv, envp, [stdinFd, stdoutFd, stderrFd], cwd);

    /// <summary>
    /// posix_spawn(3) of <paramref name="path"/> (absolute) with exactly <paramref name="argv"/> and
    /// <paramref name="envp"/>; the child's fd i is <paramref name="fds"/>[i] (0, 1, 2 and any more), every other fd
    /// closed; default signal dispositions and an empty signal mask; started in <paramref name="cwd"/> when given. The fds go through numbers above all of them
    /// first, so any order of sources works and every target loses close-on-exec.
    /// </summary>
    /// <returns>The child's pid.</returns>
    /// <exception cref="SyscallException">the spawn failed (e.g. ENOENT, EACCES).</exception>
    public static int SpawnWithFds(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, ReadOnlySpan<int> fds, string? cwd = null)
    {
        byte* actions = stackalloc byte[256];
        byte* attr = stackalloc byte[512];
        byte* sigs = stackalloc byte[128];
        SpawnOk(posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
        SpawnOk(posix_spawnattr_init(attr), "posix_spawnattr_init");
        try
        {
            var high = fds.Length;
            foreach (var f in fds) high = Math.Max(high, f + 1);
            for (var i = 0; i < fds.Length; i++) SpawnOk(posix_spawn_file_actions_adddup2(actions, fds[i], high + i), "posix_spawn_file_actions_adddup2");
            for (var i = 0; i < fds.Length; i++) SpawnOk(posix_spawn_file_actions_adddup2(actions, high + i, i), "posix_spawn_file_actions_adddup2");
            SpawnOk(posix_spawn_file_actions_addclosefrom_np(actions, fds.Length), "posix_spawn_file_actions_addclosefrom_np");
            if (cwd is not null) SpawnOk(posix_spawn_file_actions_addchdir_np(actions, cwd), "posix_spawn_file_actions_addchdir_np");
            new Span<byte>(sigs, 128).Fill(0xff);
            SpawnOk(posix_spawnattr_setsigdefault(attr, sigs), "posix_spawnattr_setsigdefault");
            new Span<byte>(sigs, 128).Clear();
            SpawnOk(posix_spawnattr_setsigmask(attr, sigs), "posix_spawnattr_setsigmask");
            SpawnOk(posix_spawnattr_setflags(attr, 0x04 /* POSIX_SPAWN_SETSIGDEF */ | 0x08 /* POSIX_SPAWN_SETSIGMASK */), "posix_spawnattr_setflags");
            var a = new string?[argv.Count + 1];
            for (var i = 0; i < argv.Count; i++) a[i] = argv[i];
            var e = new string?[envp.Count + 1];
            for (var i = 0; i < envp.Count; i++) e[i] = envp[i];
            int pid;
            var rc = posix_spawn(&pid, path, actions, attr, a, e);
            if (rc != 0) throw new SyscallException($"spawn {path}", rc);
            return pid;
        }
        finally
        {
            SpawnOk(posix_spawn_file_actions_destroy(actions), "posix_spawn_file_actions_destroy");
            SpawnOk(posix_spawnattr_destroy(attr), "posix_spawnattr_destroy");
        }
    }
}
