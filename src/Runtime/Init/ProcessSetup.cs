using System.Globalization;
using System.Text;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// The process half of the init (config.md#process): hostname, domainname, sysctl, rlimits, oom_score_adj,
/// user and groups, capabilities, no_new_privs, umask, cwd, and the PATH lookup of args[0].
/// All on the init's main thread, the one that later calls execve (capabilities are per thread).
/// </summary>
internal static class ProcessSetup
{
    /// <summary>The PATH used when process.env has none (runc's default).</summary>
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static void SetHostnames(Spec.Spec spec)
    {
        if (spec.Hostname is { } host)
        {
            var bytes = Encoding.UTF8.GetBytes(host);
            Libc.Check(Libc.sethostname(bytes, (nuint)bytes.Length), $"config.json: hostname: sethostname \"{host}\"");
        }
        if (spec.Domainname is { } domain)
        {
            var bytes = Encoding.UTF8.GetBytes(domain);
            Libc.Check(Libc.setdomainname(bytes, (nuint)bytes.Length), $"config.json: domainname: setdomainname \"{domain}\"");
        }
    }

    /// <summary>
    /// Writes linux.sysctl through the trusted procfs handle (never a /proc path of the container, which the rootfs or a
    /// mount could redirect). A key becomes a path under /proc/sys with '.' as the separator; a key with '/' or a
    /// component that is empty, "." or ".." is refused.
    /// </summary>
    /// <exception cref="InitException">a refused key or a failed write, naming linux.sysctl.KEY.</exception>
    public static void SetSysctls(Spec.Spec spec, ProcFs procfs)
    {
        foreach (var (key, value) in spec.Linux?.Sysctl ?? [])
        {
            var parts = key.Split('.');
            if (key.Contains('/', StringComparison.Ordinal) || Array.Exists(parts, p => p is "" or "." or ".."))
                throw new InitException($"config.json: linux.sysctl.{key}: invalid sysctl name (a '/' or an empty, \".\" or \"..\" component)");
            var relative = "sys/" + string.Join('/', parts);
            try
            {
                procfs.Write(relative, value);
            }
            catch (SyscallException e)
            {
                throw new InitException($"config.json: linux.sysctl.{key}: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// Joins a new session keyring named after the container (runc's default; --no-new-keyring skips it), so
    /// containers do not share the host's session keyring. Kernels without keyrings (ENOSYS) are tolerated.
    /// </summary>
    public static void JoinSessionKeyring(string id)
    {
        if (Libc.JoinSessionKeyring("_ses." + id) < 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno is Errno.ENOSYS or Errno.EPERM or Errno.EACCES) return;
            throw new InitException($"join session keyring: {Libc.StrError(errno)}");
        }
    }

    public static unsafe void SetRlimits(Process process)
    {
        var rlimits = process.Rlimits ?? [];
        for (var i = 0; i < rlimits.Count; i++)
        {
            var r = rlimits[i];
            var number = Libc.RlimitNumber(r.Type);
            if (number < 0) throw new InitException($"config.json: process.rlimits[{i}].type: unknown rlimit \"{r.Type}\"");
            var limit = new RLimit { Cur = r.Soft, Max = r.Hard };
            if (Libc.prlimit(0, number, &limit, null) != 0)
                throw new InitException($"config.json: process.rlimits[{i}] ({r.Type}): {SyscallException.FromLastError("setrlimit").Message}");
        }
    }

    /// <summary>Writes process.oomScoreAdj to the init's oom_score_adj through the trusted procfs handle.</summary>
    /// <exception cref="InitException">the write failed (e.g. lowering it without CAP_SYS_RESOURCE).</exception>
    /// <param name="process">The process of config.json.</param>
    /// <param name="procfs">The trusted procfs handle.</param>
    /// <param name="pid">The process to set it for, as <paramref name="procfs"/> names it (default: the caller).</param>
    public static void SetOomScoreAdj(Process process, ProcFs procfs, string? pid = null)
    {
        if (process.OomScoreAdj is not { } adj) return;
        try
        {
            procfs.Write($"{pid ?? ProcFs.Self}/oom_score_adj", adj.ToString(CultureInfo.InvariantCulture));
        }
        catch (SyscallException e)
        {
            throw new InitException($"config.json: process.oomScoreAdj: {e.Message}", e);
        }
    }

    /// <summary>
    /// Bounding set, then groups, gid and uid (keeping the permitted set across the change with PR_SET_KEEPCAPS), then
    /// the effective, permitted, inheritable and ambient sets, umask and no_new_privs: runc's order.
    /// </summary>
    /// <param name="process">The process of config.json.</param>
    /// <param name="lastCap">/proc/sys/kernel/cap_last_cap.</param>
    /// <param name="keepSysAdmin">
    /// A seccomp filter will be loaded right before execve without no_new_privs: seccomp(2) then needs CAP_SYS_ADMIN,
    /// so the init keeps it in its effective and permitted sets, and the caller applies the returned final sets after
    /// loading the filter (runc loads such a filter before dropping capabilities, for the same reason).
    /// </param>
    /// <returns>The sets still to apply after the filter is loaded, or null when they are applied already.</returns>
    /// <exception cref="InitException">a refused user, group or capability, naming the field.</exception>
    public static unsafe CapabilitySets? SetUserAndCapabilities(Process process, int lastCap, bool keepSysAdmin)
    {
        var user = process.User;
        var sets = Capabilities.Resolve(process.Capabilities, lastCap);
        try
        {
            Capabilities.DropBounding(sets.Bounding, lastCap);
        }
        catch (SyscallException e)
        {
            throw new InitException($"config.json: process.capabilities.bounding: {e.Message}", e);
        }
        Libc.Check(Libc.prctl(Prctl.PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl PR_SET_KEEPCAPS");

        var groups = user.DistinctAdditionalGids();
        if (UserNamespaceFixups.SetgroupsDenied())
        {
            // A user namespace that maps only the runtime's own gid denies setgroups: without additionalGids there is
            // nothing to set (runc skips it too).
            if (groups.Length > 0)
                throw new InitException("config.json: process.user.additionalGids: cannot set supplementary groups: setgroups is denied in this user namespace (linux.gidMappings maps a single gid; map a range with newgidmap to use them)");
        }
        else
        {
            fixed (uint* g = groups)
            {
                if (Libc.setgroups((nuint)groups.Length, g) != 0)
                    throw new InitException($"config.json: process.user.additionalGids: {SyscallException.FromLastError("setgroups").Message}");
            }
        }
        if (Libc.setresgid(user.Gid, user.Gid, user.Gid) != 0)
            throw new InitException($"config.json: process.user.gid: {SyscallException.FromLastError($"setgid {user.Gid}").Message}");
        if (Libc.setresuid(user.Uid, user.Uid, user.Uid) != 0)
            throw new InitException($"config.json: process.user.uid: {SyscallException.FromLastError($"setuid {user.Uid}").Message}");

        const ulong sysAdmin = 1UL << Capabilities.SysAdmin;
        var defer = keepSysAdmin && (sets.Effective & sysAdmin) == 0;
        var now = defer ? sets with { Effective = sets.Effective | sysAdmin, Permitted = sets.Permitted | sysAdmin } : sets;
        try
        {
            Capabilities.ApplySets(now, lastCap);
        }
        catch (SyscallException e)
        {
            throw new InitException($"config.json: process.capabilities: {e.Message}", e);
        }
        Libc.Check(Libc.prctl(Prctl.PR_SET_KEEPCAPS, 0, 0, 0, 0), "prctl PR_SET_KEEPCAPS");
        _ = Libc.umask(user.Umask ?? 0x12); // 0022
        if (process.NoNewPrivileges) Libc.Check(Libc.prctl(Prctl.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl PR_SET_NO_NEW_PRIVS");
        return defer ? sets : null;
    }

    /// <summary>
    /// chdir to process.cwd before the user change, as runc: a directory only the runtime's user may enter works for
    /// any process.user. Refused with EACCES or EPERM (e.g. a root-squashed network filesystem the container user may
    /// read), <see cref="ChangeDirectory"/> tries again after the user change.
    /// </summary>
    /// <returns>True when the process is in process.cwd now.</returns>
    /// <exception cref="InitException">chdir failed otherwise (ENOENT, ENOTDIR, …).</exception>
    public static bool EnterCwdEarly(Process process)
    {
        var cwd = string.IsNullOrEmpty(process.Cwd) ? "/" : process.Cwd;
        if (Libc.chdir(cwd) == 0) return true;
        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        if (errno is Errno.EACCES or Errno.EPERM) return false;
        throw new InitException($"config.json: process.cwd: {new SyscallException($"chdir {cwd}", errno).Message}");
    }

    /// <summary>
    /// chdir to process.cwd (unless <paramref name="entered"/> by <see cref="EnterCwdEarly"/>), then checks that the working directory is inside the container's root (CVE-2024-21626:
    /// a cwd such as /proc/self/fd/N naming a leaked host directory fd would put the process outside it; getcwd then
    /// fails with ENOENT or returns a path not starting with '/', "(unreachable)/...").
    /// </summary>
    /// <exception cref="InitException">chdir failed, or the directory is outside the root.</exception>
    public static unsafe void ChangeDirectory(Process process, bool entered = false)
    {
        var cwd = string.IsNullOrEmpty(process.Cwd) ? "/" : process.Cwd;
        if (!entered && Libc.chdir(cwd) != 0)
            throw new InitException($"config.json: process.cwd: {SyscallException.FromLastError($"chdir {cwd}").Message}");
        const int size = 4096;
        byte* buf = stackalloc byte[size];
        if (Libc.getcwd(buf, size) is null)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            throw errno == Errno.ENOENT
                ? new InitException($"config.json: process.cwd: {cwd} is outside the container's root (refused: possible container breakout, CVE-2024-21626)")
                : new InitException($"config.json: process.cwd: {new SyscallException($"getcwd after chdir {cwd}", errno).Message}");
        }
        if (buf[0] != (byte)'/')
            throw new InitException($"config.json: process.cwd: {cwd} is outside the container's root (refused: possible container breakout, CVE-2024-21626)");
    }

    /// <summary>The value of <paramref name="name"/> in a KEY=VALUE list, or null.</summary>
    public static string? GetEnv(List<string>? env, string name)
    {
        if (env is null) return null;
        for (var i = env.Count - 1; i >= 0; i--)
        {
            var e = env[i];
            if (e.Length > name.Length && e[name.Length] == '=' && e.StartsWith(name, StringComparison.Ordinal)) return e[(name.Length + 1)..];
        }
        return null;
    }

    /// <summary>Finds args[0] as execvp would, inside the container (after pivot_root, as the container user).</summary>
    /// <exception cref="InitException">not found or not executable, with runc's wording.</exception>
    public static string LookPath(Process process)
    {
        var name = process.Args![0];
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return IsExecutable(name) ? name : throw new InitException($"exec: \"{name}\": {ExecError(name)}");
        }
        return FindInPath(name, GetEnv(process.Env, "PATH") ?? DefaultPath)
            ?? throw new InitException($"exec: \"{name}\": executable file not found in $PATH");
    }

    /// <summary>The first executable <paramref name="name"/> among <see cref="PathCandidates"/>; null when none is.</summary>
    public static string? FindInPath(string name, string path) => Array.Find(PathCandidates(name, path), IsExecutable);

    /// <summary>Where execvp looks for <paramref name="name"/>, in order: each directory of <paramref name="path"/> (an empty entry is ".").</summary>
    public static string[] PathCandidates(string name, string path) =>
        Array.ConvertAll(path.Split(':'), dir => (dir.Length == 0 ? "." : dir) + "/" + name);

    private static bool IsExecutable(string path) => File.Exists(path) && Libc.access(path, Libc.X_OK) == 0;

    private static string ExecError(string path) =>
        Directory.Exists(path) ? "is a directory" : File.Exists(path) ? "permission denied" : "no such file or directory";
}
