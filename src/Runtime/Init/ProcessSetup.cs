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

    public static void SetSysctls(Spec.Spec spec)
    {
        foreach (var (key, value) in spec.Linux?.Sysctl ?? [])
        {
            var path = "/proc/sys/" + key.Replace('.', '/');
            try
            {
                File.WriteAllText(path, value);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InitException($"config.json: linux.sysctl.{key}: write {path}: {e.Message}", e);
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

    public static void SetOomScoreAdj(Process process)
    {
        if (process.OomScoreAdj is not { } adj) return;
        try
        {
            File.WriteAllText("/proc/self/oom_score_adj", adj.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InitException($"config.json: process.oomScoreAdj: {e.Message}", e);
        }
    }

    /// <summary>Groups, gid, uid (keeping capabilities across the change), then the capability sets and umask.</summary>
    public static unsafe void SetUserAndCapabilities(Process process, int lastCap)
    {
        var user = process.User;
        var caps = process.Capabilities;
        if (caps is not null) Capabilities.DropBounding(caps, lastCap);
        Libc.Check(Libc.prctl(Prctl.PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl PR_SET_KEEPCAPS");

        var groups = (user.AdditionalGids ?? []).ToArray();
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

        if (caps is not null) Capabilities.ApplySets(caps, lastCap);
        Libc.Check(Libc.prctl(Prctl.PR_SET_KEEPCAPS, 0, 0, 0, 0), "prctl PR_SET_KEEPCAPS");
        _ = Libc.umask(user.Umask ?? 0x12); // 0022
        if (process.NoNewPrivileges) Libc.Check(Libc.prctl(Prctl.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl PR_SET_NO_NEW_PRIVS");
    }

    public static void ChangeDirectory(Process process)
    {
        var cwd = string.IsNullOrEmpty(process.Cwd) ? "/" : process.Cwd;
        if (Libc.chdir(cwd) != 0)
            throw new InitException($"config.json: process.cwd: {SyscallException.FromLastError($"chdir {cwd}").Message}");
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
        foreach (var dir in (GetEnv(process.Env, "PATH") ?? DefaultPath).Split(':'))
        {
            var candidate = (dir.Length == 0 ? "." : dir) + "/" + name;
            if (IsExecutable(candidate)) return candidate;
        }
        throw new InitException($"exec: \"{name}\": executable file not found in $PATH");
    }

    private static bool IsExecutable(string path) => File.Exists(path) && Libc.access(path, Libc.X_OK) == 0;

    private static string ExecError(string path) =>
        Directory.Exists(path) ? "is a directory" : File.Exists(path) ? "permission denied" : "no such file or directory";
}
