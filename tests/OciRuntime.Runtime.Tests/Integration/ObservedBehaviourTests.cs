using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>
/// What a container's process (or a hook) observes, as runc 1.1 gives it (issue #21, "Behaviours to match"), on every
/// start path: each test is a theory over the path, the direct one and the one through <c>ocirun init</c>
/// (<c>OCIRUN_INIT=1</c>, which forces it for create and exec alike); the runtime's --debug log is checked to name the
/// path taken, so a test cannot pass on the wrong one. The same cases are compared with runc in
/// <see cref="DifferentialTests"/>.
/// </summary>
public sealed class ObservedBehaviourTests
{
    public static TheoryData<bool> Paths => [false, true];

    /// <summary>`run` on the path asked for (<paramref name="init"/>: OCIRUN_INIT=1), asserting the path from the --debug log.</summary>
    internal static CommandResult RunOn(TestContainer c, bool init, params string[] options)
    {
        c.Bundle.Write();
        var log = Path.Combine(c.Bundle.Dir, $"run-{Guid.NewGuid():N}.log");
        var r = Ocirun.Exec("/usr/bin/env", [$"OCIRUN_INIT={(init ? "1" : "0")}", c.Runtime.Binary, "--debug", "--log", log, "--root", c.Runtime.StateRoot, "run", "-b", c.Bundle.Dir, .. options, c.Id]);
        AssertPath(log, $"create {c.Id}: ", init);
        return r with { Stderr = r.Stderr + ReadErrors(log) };
    }

    /// <summary>`exec [options] ID ARGS…` on the path asked for, asserting the path from the --debug log.</summary>
    internal static CommandResult ExecOn(TestContainer c, bool init, string[] options, params string[] args)
    {
        var log = Path.Combine(c.Bundle.Dir, $"exec-{Guid.NewGuid():N}.log");
        var r = Ocirun.Exec("/usr/bin/env", [$"OCIRUN_INIT={(init ? "1" : "0")}", c.Runtime.Binary, "--debug", "--log", log, "--root", c.Runtime.StateRoot, "exec", .. options, c.Id, .. args]);
        AssertPath(log, $"exec {c.Id}: ", init);
        return r with { Stderr = r.Stderr + ReadErrors(log) };
    }

    private static void AssertPath(string log, string prefix, bool init)
    {
        var text = File.Exists(log) ? File.ReadAllText(log) : "";
        if (init) text.Should().Contain(prefix + "through ocirun init (OCIRUN_INIT=1)", "the test must exercise the init path");
        else text.Should().MatchRegex("(" + System.Text.RegularExpressions.Regex.Escape(prefix) + "direct)", "the test must exercise the direct path");
    }

    // The error lines of a --log file (with --log, ocirun writes errors there only, as runc).
    private static string ReadErrors(string log) =>
        File.Exists(log) ? string.Join('\n', File.ReadAllLines(log).Where(l => l.Contains("level=error", StringComparison.Ordinal) || l.Contains("level=warning", StringComparison.Ordinal))) : "";

    private static TestContainer Started(bool init)
    {
        var c = new TestContainer("obs");
        c.Bundle.Args("sleep", "1000");
        c.Bundle.Write();
        var r = Ocirun.ExecWithFileStdio("/usr/bin/env", [$"OCIRUN_INIT={(init ? "1" : "0")}", c.Runtime.Binary, "--root", c.Runtime.StateRoot, "run", "-d", "-b", c.Bundle.Dir, c.Id], c.OutputFile);
        r.ExitCode.Should().Be(0, r.ToString());
        return c;
    }

    // ---- stdio ------------------------------------------------------------------------------------------------

    /// <summary>
    /// runc's reOpenDevNull: a stdio fd that is the caller's /dev/null (a mount of the host's, outside the container's
    /// mount tree) becomes the container's own /dev/null after pivot_root, when the runtime sets up /dev. CRIU cannot
    /// dump a file on a mount outside the container ("Can't lookup mount=N for fd=0 path=/dev/null": podman's
    /// checkpoint, conmon's stdin). Seen from inside: fd 0's mnt_id (/proc/self/fdinfo/0) is one of the container's
    /// mounts. Without the reopen it is the host's devtmpfs, absent from the container's mountinfo; fds that are not
    /// /dev/null (stdout, stderr on files) are kept.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void A_stdin_that_is_the_hosts_dev_null_is_reopened_on_the_containers_own(bool init)
    {
        using var c = new TestContainer("devnull");
        c.Bundle.Sh("sed -n 's/^mnt_id:[[:space:]]*//p' /proc/self/fdinfo/0; echo ---; cut -d' ' -f1 /proc/self/mountinfo; echo ---; readlink /proc/self/fd/0; echo out-kept");
        c.Bundle.Write();
        var log = Path.Combine(c.Bundle.Dir, "run.log");
        var r = Ocirun.ExecWithFileStdio("/usr/bin/env", [$"OCIRUN_INIT={(init ? "1" : "0")}", c.Runtime.Binary, "--debug", "--log", log, "--root", c.Runtime.StateRoot, "run", "-b", c.Bundle.Dir, c.Id], c.OutputFile);
        AssertPath(log, $"create {c.Id}: ", init);
        r.ExitCode.Should().Be(0, r.ToString());
        var parts = c.Output.Split("---\n");
        parts.Should().HaveCount(3, c.Output);
        var stdinMount = parts[0].Trim();
        var mounts = parts[1].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        mounts.Should().Contain(stdinMount, $"fd 0 must be the container's /dev/null, on one of its mounts ({c.Output})");
        parts[2].Should().Be("/dev/null\nout-kept\n", "stdout on a file is not a /dev/null: kept");
    }

    /// <summary>
    /// A program that exists and is executable but that the kernel cannot exec (ENOEXEC: no #!, not ELF) fails at its
    /// execve, after create: runc 1.1.5 prints "exec /bin/bad: exec format error" and the process's status is 1, for
    /// run and exec alike. ocirun printed "ocirun: exec …" with status 127.
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void A_program_the_kernel_cannot_exec_fails_with_runcs_line_and_status_1(bool init)
    {
        using var c = new TestContainer("enoexec");
        File.WriteAllText(Path.Combine(c.Bundle.Rootfs, "bin", "bad"), "not a program\n");
        File.SetUnixFileMode(Path.Combine(c.Bundle.Rootfs, "bin", "bad"), (UnixFileMode)0b111_101_101);
        c.Bundle.Args("/bin/bad");
        var r = RunOn(c, init);
        r.ExitCode.Should().Be(1, r.ToString());
        r.Stderr.Should().Be("exec /bin/bad: exec format error\n", r.ToString());

        using var running = Started(init);
        File.WriteAllText(Path.Combine(running.Bundle.Rootfs, "bin", "bad"), "not a program\n");
        File.SetUnixFileMode(Path.Combine(running.Bundle.Rootfs, "bin", "bad"), (UnixFileMode)0b111_101_101);
        var e = ExecOn(running, init, [], "/bin/bad");
        e.ExitCode.Should().Be(1, e.ToString());
        e.Stderr.Should().Be("exec /bin/bad: exec format error\n", e.ToString());
    }

    // ---- HOME -------------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Paths))]
    public void Without_HOME_in_process_env_the_init_gets_the_home_of_its_uid_from_the_containers_passwd(bool init)
    {
        foreach (var (uid, home) in new[] { (0u, "/root"), (65534u, "/nonexistent"), (4321u, "/") })
        {
            using var c = new TestContainer("home");
            c.Bundle.Process.Env = ["PATH=/bin:/usr/bin", "A=1"];
            c.Bundle.Process.User = new User { Uid = uid, Gid = uid };
            c.Bundle.Args("env");
            var r = RunOn(c, init);
            r.ExitCode.Should().Be(0, r.ToString());
            r.Stdout.Should().Be($"PATH=/bin:/usr/bin\nA=1\nHOME={home}\n", $"uid {uid}: runc appends HOME from /etc/passwd ({r})");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void HOME_in_process_env_is_kept_and_an_empty_one_is_replaced(bool init)
    {
        using var c = new TestContainer("home");
        c.Bundle.Process.Env = ["HOME=", "PATH=/bin:/usr/bin"];
        c.Bundle.Args("env");
        var r = RunOn(c, init);
        r.Stdout.Should().Be("HOME=/root\nPATH=/bin:/usr/bin\n", r.ToString());

        using var kept = new TestContainer("home");
        kept.Bundle.Process.Env = ["PATH=/bin:/usr/bin", "HOME=/mine"];
        kept.Bundle.Args("env");
        r = RunOn(kept, init);
        r.Stdout.Should().Be("PATH=/bin:/usr/bin\nHOME=/mine\n", r.ToString());
    }

    [Fact]
    public void HOME_comes_from_the_passwd_the_container_sees_and_a_symlink_to_a_host_file_is_resolved_inside_the_rootfs()
    {
        using var c = new TestContainer("home");
        // /etc/passwd -> /etc/real-passwd: absolute, so on the host it would name the host's own file.
        File.Delete(Path.Combine(c.Bundle.Rootfs, "etc", "passwd"));
        File.WriteAllText(Path.Combine(c.Bundle.Rootfs, "etc", "real-passwd"), "root:x:0:0:root:/inside:/bin/sh\n");
        File.CreateSymbolicLink(Path.Combine(c.Bundle.Rootfs, "etc", "passwd"), "/etc/real-passwd");
        c.Bundle.Process.Env = ["PATH=/bin"];
        c.Bundle.Sh("echo $HOME");
        RunOn(c, init: false).Stdout.Should().Be("/inside\n");
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Exec_without_HOME_gets_the_home_of_its_user_including_with_dash_dash_user(bool init)
    {
        using var c = Started(false);
        // The container's config.json has HOME in process.env? runc's default spec does not: exec inherits its env.
        c.Bundle.Process.Env!.Should().NotContain(e => e.StartsWith("HOME=", StringComparison.Ordinal));
        var r = ExecOn(c, init, [], "sh", "-c", "echo $HOME");
        r.Stdout.Should().Be("/root\n", r.ToString());
        r = ExecOn(c, init, ["--user", "65534:65534"], "sh", "-c", "echo $HOME");
        r.Stdout.Should().Be("/nonexistent\n", r.ToString());
        r = ExecOn(c, init, ["--user", "777"], "sh", "-c", "echo $HOME");
        r.Stdout.Should().Be("/\n", r.ToString());
        r = ExecOn(c, init, ["--env", "HOME=/given"], "sh", "-c", "echo $HOME");
        r.Stdout.Should().Be("/given\n", r.ToString());
    }

    // ---- cwd --------------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_cwd_only_root_can_enter_works_for_a_process_running_as_another_user(bool init)
    {
        using var c = new TestContainer("cwd");
        var secret = Path.Combine(c.Bundle.Rootfs, "secret");
        Directory.CreateDirectory(secret);
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // 0700 root
        c.Bundle.Process.User = new User { Uid = 1000, Gid = 1000 };
        c.Bundle.Process.Cwd = "/secret";
        c.Bundle.Sh("pwd; ls . 2>&1 >/dev/null | wc -l");
        var r = RunOn(c, init);
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Be("/secret\n1\n", "the process is in /secret although it may not read it, as under runc: " + r);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Exec_into_a_cwd_only_root_can_enter_works_as_another_user(bool init)
    {
        using var c = Started(false);
        var secret = Path.Combine(c.Bundle.Rootfs, "secret");
        Directory.CreateDirectory(secret);
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var r = ExecOn(c, init, ["--user", "1000:1000", "--cwd", "/secret"], "pwd");
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Be("/secret\n", r.ToString());
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_cwd_the_user_can_enter_but_root_cannot_is_entered_after_the_user_change(bool init)
    {
        // Root is refused only by a root-squashing filesystem; a mode-0 directory is no refusal for root here, so a
        // directory the user may enter is the case root cannot break: it must still work (the retry after setuid).
        using var c = new TestContainer("cwd");
        var dir = Path.Combine(c.Bundle.Rootfs, "mine");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        Ocirun.Exec("/bin/chown", ["1000:1000", dir]).ExitCode.Should().Be(0);
        c.Bundle.Process.User = new User { Uid = 1000, Gid = 1000 };
        c.Bundle.Process.Cwd = "/mine";
        c.Bundle.Args("pwd");
        var r = RunOn(c, init);
        r.Stdout.Should().Be("/mine\n", r.ToString());
    }

    // ---- hooks ------------------------------------------------------------------------------------------------

    /// <summary>
    /// A bundle whose six hooks each append "KIND|cwd|env (the variables named in <paramref name="keep"/>)|state" to a
    /// log: host hooks to BUNDLE/hooks.log, startContainer (run inside the container) to /hooks.log of the rootfs. No
    /// hook has "env" except createRuntime, which has ["GIVEN=1"].
    /// </summary>
    private static void AddRecordingHooks(BundleBuilder b, string keep)
    {
        var log = Path.Combine(b.Dir, "hooks.log");
        var script = $"#!/bin/sh\nprintf '%s|%s|%s|%s\\n' \"$1\" \"$(pwd)\" \"$(env | grep -E '^({keep})=' | sort | tr '\\n' ' ')\" \"$(cat)\" >> LOG\n";
        File.WriteAllText(Path.Combine(b.Dir, "hook.sh"), script.Replace("LOG", log, StringComparison.Ordinal));
        File.SetUnixFileMode(Path.Combine(b.Dir, "hook.sh"), (UnixFileMode)0x1ed);
        File.WriteAllText(Path.Combine(b.Rootfs, "hook.sh"), script.Replace("LOG", "/hooks.log", StringComparison.Ordinal));
        File.SetUnixFileMode(Path.Combine(b.Rootfs, "hook.sh"), (UnixFileMode)0x1ed);
        var host = Path.Combine(b.Dir, "hook.sh");
        Hook H(string kind, string path) => new() { Path = path, Args = ["hook.sh", kind] };
        b.Spec.Root!.Readonly = false;
        b.Spec.Hooks = new Hooks
        {
            Prestart = [H("prestart", host)],
            CreateRuntime = [new Hook { Path = host, Args = ["hook.sh", "createRuntime"], Env = ["GIVEN=1"] }],
            CreateContainer = [H("createContainer", host)],
            StartContainer = [H("startContainer", "/hook.sh")],
            Poststart = [H("poststart", host)],
            Poststop = [H("poststop", host)],
        };
    }

    private static List<string[]> HookLines(BundleBuilder b) =>
        [.. File.ReadAllLines(Path.Combine(b.Dir, "hooks.log")).Concat(File.ReadAllLines(Path.Combine(b.Rootfs, "hooks.log"))).Select(l => l.Split('|', 4))];

    [Fact]
    public void Hooks_without_env_get_their_runners_environment_and_createContainer_runs_from_the_rootfs()
    {
        using var c = new TestContainer("hookenv");
        c.Bundle.Process.Env = ["PATH=/bin:/usr/bin", "INSIDE=1"];
        c.Bundle.Args("true");
        AddRecordingHooks(c.Bundle, "OBS_MARK|INSIDE|GIVEN|HOME|PATH");
        c.Bundle.Write();
        // The runtime's own environment: a variable only the runtime has.
        var r = Ocirun.Exec("/usr/bin/env", ["-i", "OBS_MARK=runtime", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", c.Runtime.Binary, "--root", c.Runtime.StateRoot, "run", "-b", c.Bundle.Dir, c.Id]);
        r.ExitCode.Should().Be(0, r.ToString());
        var byKind = HookLines(c.Bundle).ToDictionary(f => f[0]);
        byKind.Keys.Should().BeEquivalentTo("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop");
        foreach (var kind in new[] { "prestart", "poststart", "poststop" })
        {
            byKind[kind][2].Should().Be("OBS_MARK=runtime PATH=/usr/sbin:/usr/bin:/sbin:/bin ", $"{kind} runs with the runtime's environment (runc)");
            byKind[kind][1].Should().Be(c.Bundle.Dir, $"{kind} runs from the bundle (runc)");
        }
        byKind["createRuntime"][2].Should().Be("GIVEN=1 ", "a hook's own env is all it gets");
        // In the container's namespaces, runc's init runs them with its own environment: process.env (and HOME, set by
        // then, for startContainer).
        byKind["createContainer"][2].Should().Be("INSIDE=1 PATH=/bin:/usr/bin ");
        byKind["createContainer"][1].Should().Be(c.Bundle.Rootfs, "runc runs createContainer hooks from the rootfs");
        byKind["startContainer"][2].Should().Be("HOME=/root INSIDE=1 PATH=/bin:/usr/bin ");
        byKind["startContainer"][1].Should().Be("/");
    }

    [Fact]
    public void Hooks_see_what_runcs_hooks_see_field_by_field()
    {
        // Known divergences, each the runtime-spec's side (runtime.md#state): "ociVersion" is the runtime's spec version;
        // "pid" of createContainer and startContainer is the host pid (runc 1.1 gives the pid inside the container: 1);
        // poststart's "status" is "running" (runc 1.1: "created", although the process runs).
        string Normalize(string[] f, string bundle, string runtime)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(f[3]);
            var state = doc.RootElement;
            var keys = string.Join(',', state.EnumerateObject().Select(p => p.Name).Where(n => n != "ociVersion"));
            var status = state.GetProperty("status").GetString();
            if (f[0] == "poststart" && runtime == "runc" && status == "created") status = "running";
            var hasPid = state.TryGetProperty("pid", out var pid) && pid.GetInt32() > 0;
            var annotations = state.TryGetProperty("annotations", out var a) ? a.GetRawText() : "-";
            return $"{f[0]} cwd={f[1].Replace(bundle, "BUNDLE", StringComparison.Ordinal)} env={f[2]} keys={keys} id-ok={state.GetProperty("id").GetString()!.Length > 0} status={status} pid={hasPid} bundle={state.GetProperty("bundle").GetString() == bundle} annotations={annotations}";
        }
        List<string> RunUnder(string binary)
        {
            using var c = new TestContainer("hookdiff", binary);
            c.Bundle.Process.Env = ["PATH=/bin:/usr/bin", "INSIDE=1"];
            c.Bundle.Spec.Annotations = new() { ["org.example.key"] = "value" };
            c.Bundle.Args("true");
            AddRecordingHooks(c.Bundle, "OBS_MARK|INSIDE|GIVEN|HOME");
            c.Bundle.Write();
            var r = Ocirun.Exec("/usr/bin/env", ["OBS_MARK=x", c.Runtime.Binary, "--root", c.Runtime.StateRoot, "run", "-b", c.Bundle.Dir, c.Id]);
            r.ExitCode.Should().Be(0, r.ToString());
            return [.. HookLines(c.Bundle).Select(f => Normalize(f, c.Bundle.Dir, binary))];
        }
        var runc = RunUnder("runc");
        var ocirun = RunUnder(Ocirun.DefaultBinary);
        ocirun.Should().Equal(runc);
    }

    // ---- seccomp ----------------------------------------------------------------------------------------------

    [Fact]
    public void StartContainer_hooks_run_under_the_containers_seccomp_filter_as_in_runc()
    {
        string RunUnder(string binary)
        {
            using var c = new TestContainer("seccomphook", binary);
            c.Bundle.Spec.Root!.Readonly = false;
            c.Bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
            {
                DefaultAction = SeccompActions.Allow,
                Syscalls = [new LinuxSyscall { Names = ["acct"], Action = SeccompActions.Errno }],
            };
            c.Bundle.Spec.Hooks = new Hooks { StartContainer = [new Hook { Path = "/bin/sh", Args = ["sh", "-c", "grep -E '^Seccomp(_filters)?:' /proc/self/status > /hook.out"] }] };
            c.Bundle.Args("true");
            var r = c.Run();
            r.ExitCode.Should().Be(0, r.ToString());
            return File.ReadAllText(Path.Combine(c.Bundle.Rootfs, "hook.out"));
        }
        var runc = RunUnder("runc");
        runc.Should().StartWith("Seccomp:\t2\n", "runc loads the filter before startContainer hooks");
        RunUnder(Ocirun.DefaultBinary).Should().Be(runc);
    }

    [System.Runtime.InteropServices.DllImport("libseccomp.so.2")]
    private static extern IntPtr seccomp_syscall_resolve_num_arch(uint arch, int num);

    private const uint AuditArchX86_64 = 0xc000003e;

    /// <summary>A static probe: for each number argument, syscall(N, 0, …) and "N=errno" (or "N=ok").</summary>
    private static string BuildProbe(string rootfs)
    {
        var dir = TestEnv.NewDir("probe");
        File.WriteAllText(Path.Combine(dir, "probe.c"), """
            #include <stdio.h>
            #include <stdlib.h>
            #include <errno.h>
            #include <unistd.h>
            #include <sys/syscall.h>
            int main(int argc, char **argv) {
                for (int i = 1; i < argc; i++) {
                    long n = atol(argv[i]);
                    errno = 0;
                    long r = syscall(n, -1L, 0L, 0L, 0L, 0L, 0L);
                    if (r == -1) printf("%ld=%d\n", n, errno); else printf("%ld=ok\n", n);
                }
                return 0;
            }
            """);
        var r = Ocirun.Exec("/usr/bin/gcc", ["-static", "-O1", "-o", Path.Combine(rootfs, "bin", "probe"), Path.Combine(dir, "probe.c")]);
        r.ExitCode.Should().Be(0, $"gcc -static (the probe): {r}");
        TestEnv.RemoveTree(dir);
        return "/bin/probe";
    }

    /// <summary>
    /// Default action EPERM, everything numbered up to 334 (rseq) allowed except acct (163): a syscall the profile does
    /// not know (clone3 435, faccessat2 439) must get ENOSYS (38), so that glibc falls back (runc's -ENOSYS stub); acct,
    /// which it knows, EPERM (1).
    /// </summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void Syscalls_newer_than_the_profile_get_ENOSYS_and_known_ones_the_default_action(bool init)
    {
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64) return; // numbers below are x86_64's
        using var c = new TestContainer("enosys");
        var probe = BuildProbe(c.Bundle.Rootfs);
        var names = new List<string>();
        for (var nr = 0; nr <= 334; nr++)
        {
            var p = seccomp_syscall_resolve_num_arch(AuditArchX86_64, nr);
            if (p == IntPtr.Zero) continue;
            var name = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(p)!;
            if (name != "acct") names.Add(name);
        }
        c.Bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = SeccompActions.Errno,
            Architectures = ["SCMP_ARCH_X86_64"],
            Syscalls = [new LinuxSyscall { Names = names, Action = SeccompActions.Allow }],
        };
        c.Bundle.Args(probe, "163", "435", "439");
        var r = RunOn(c, init);
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Be("163=1\n435=38\n439=38\n", r.ToString());
    }

    // ---- capabilities, devices, sysctl --------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Paths))]
    public void An_unknown_capability_is_a_warning_and_skipped_in_config_and_in_exec_dash_dash_cap(bool init)
    {
        using var c = new TestContainer("caps");
        c.Bundle.Process.Capabilities!.Bounding!.Add("CAP_FOO");
        c.Bundle.Process.Capabilities!.Effective!.AddRange(["CAP_FOO", "CAP_BAR"]);
        c.Bundle.Sh("grep CapBnd /proc/self/status");
        var r = RunOn(c, init);
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Be("CapBnd:\t0000000020000420\n", "runc's default bounding set, CAP_FOO skipped: " + r);
        r.Stderr.Should().Contain("ignoring unknown or unavailable capabilities: [CAP_BAR CAP_FOO]");

        using var running = Started(false);
        var x = ExecOn(running, init, ["--cap", "CAP_NOPE", "--cap", "CAP_SYS_ADMIN"], "sh", "-c", "grep CapEff /proc/self/status");
        x.ExitCode.Should().Be(0, x.ToString());
        x.Stdout.Should().Be("CapEff:\t0000000020200420\n", "CAP_SYS_ADMIN added, CAP_NOPE skipped: " + x);
        x.Stderr.Should().Contain("--cap CAP_NOPE: ignoring unknown or unavailable capability");
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_device_may_be_anywhere_in_the_container(bool init)
    {
        using var c = new TestContainer("devpath");
        c.Bundle.Spec.Linux!.Devices = [new LinuxDevice { Path = "/opt/devs/mynull", Type = "c", Major = 1, Minor = 3, FileMode = 0x1b6, Uid = 0, Gid = 0 }];
        c.Bundle.Sh("stat -c '%n %F %t %T' /opt/devs/mynull; echo hi > /opt/devs/mynull && echo written");
        var r = RunOn(c, init);
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Be("/opt/devs/mynull character special file 1 3\nwritten\n", r.ToString());
    }

    [Fact]
    public void Sysctl_kernel_hostname_conflicting_with_hostname_is_refused_naming_the_path()
    {
        using var c = new TestContainer("sysctl");
        c.Bundle.Spec.Hostname = "box";
        c.Bundle.Spec.Linux!.Sysctl = new() { ["kernel.hostname"] = "other" };
        c.Bundle.Args("true");
        var r = c.Run();
        r.ExitCode.Should().NotBe(0);
        r.Stderr.Should().Contain("linux.sysctl['kernel.hostname']").And.Contain("conflicts with hostname \"box\"");
        Directory.Exists(c.StateDir).Should().BeFalse("nothing is left behind");
    }

    // ---- mounts -------------------------------------------------------------------------------------------------

    [Fact]
    public void Without_a_mount_namespace_the_process_still_runs_inside_the_rootfs()
    {
        using var c = new TestContainer("nomntns");
        c.Bundle.WithoutNamespace("mount");
        c.Bundle.Spec.Mounts = [];
        c.Bundle.Spec.Linux!.MaskedPaths = [];
        c.Bundle.Spec.Linux.ReadonlyPaths = [];
        c.Bundle.Spec.Root!.Readonly = false;
        File.WriteAllText(Path.Combine(c.Bundle.Rootfs, "in-rootfs"), "");
        c.Bundle.Sh("ls /in-rootfs; pwd");
        var r = c.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Be("/in-rootfs\n/\n", "runc chroots into the rootfs: " + r);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Rro_makes_a_bind_mount_and_every_mount_below_it_read_only(bool init)
    {
        var host = TestEnv.NewDir("rro");
        var sub = Path.Combine(host, "sub");
        Directory.CreateDirectory(sub);
        Ocirun.Exec("/bin/mount", ["-t", "tmpfs", "tmpfs", sub]).ExitCode.Should().Be(0);
        try
        {
            using var c = new TestContainer("rro");
            c.Bundle.Spec.Mounts!.Add(new Mount { Destination = "/data", Type = "bind", Source = host, Options = ["rbind", "rro"] });
            c.Bundle.Sh("touch /data/x 2>/dev/null && echo top-writable; touch /data/sub/x 2>/dev/null && echo sub-writable; grep -c ' /data' /proc/self/mounts");
            var r = RunOn(c, init);
            r.ExitCode.Should().Be(0, r.ToString());
            r.Stdout.Should().Be("2\n", "both mounts are there and read-only: " + r);
        }
        finally
        {
            Ocirun.Exec("/bin/umount", [sub]);
            TestEnv.RemoveTree(host);
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_dangling_symlink_destination_is_resolved_and_created_inside_the_rootfs(bool init)
    {
        var host = TestEnv.NewDir("dangling");
        File.WriteAllText(Path.Combine(host, "file"), "bound\n");
        try
        {
            using var c = new TestContainer("dangling");
            // /etc/link-dir -> /made/dir and /etc/link-file -> ../made-file: neither target exists; an absolute target
            // must be taken inside the rootfs (on the host, /made would be the host's).
            File.CreateSymbolicLink(Path.Combine(c.Bundle.Rootfs, "etc", "link-dir"), "/made/dir");
            File.CreateSymbolicLink(Path.Combine(c.Bundle.Rootfs, "etc", "link-file"), "../made-file");
            c.Bundle.Spec.Mounts!.Add(new Mount { Destination = "/etc/link-dir", Type = "bind", Source = host, Options = ["bind"] });
            c.Bundle.Spec.Mounts!.Add(new Mount { Destination = "/etc/link-file", Type = "bind", Source = Path.Combine(host, "file"), Options = ["bind"] });
            c.Bundle.Sh("cat /made/dir/file /made-file");
            var r = RunOn(c, init);
            r.ExitCode.Should().Be(0, r.ToString());
            r.Stdout.Should().Be("bound\nbound\n", r.ToString());
            Directory.Exists("/made").Should().BeFalse("nothing is made on the host");
            File.Exists("/made-file").Should().BeFalse();
        }
        finally
        {
            TestEnv.RemoveTree(host);
        }
    }

    [Fact]
    public void With_a_user_namespace_a_bind_source_the_containers_root_cannot_reach_still_mounts()
    {
        var host = TestEnv.NewDir("usernssrc");
        var hidden = Path.Combine(host, "private");
        Directory.CreateDirectory(Path.Combine(hidden, "sub"));
        File.WriteAllText(Path.Combine(hidden, "sub", "file"), "content\n");
        File.SetUnixFileMode(hidden, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // 0700 host root
        try
        {
            TestContainer Make(string source)
            {
                var c = new TestContainer("usernsbind");
                Directory.CreateDirectory(Path.Combine(c.Bundle.Rootfs, "mnt")); // the container's root may not mkdir in the rootfs
                c.Bundle.WithNamespace("user");
                c.Bundle.Spec.Linux!.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 200000, Size = 65536 }];
                c.Bundle.Spec.Linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 200000, Size = 65536 }];
                c.Bundle.Spec.Mounts!.Add(new Mount { Destination = "/mnt", Type = "bind", Source = source, Options = ["rbind", "ro"] });
                c.Bundle.Sh("cat /mnt/file");
                return c;
            }
            using (var c = Make(Path.Combine(hidden, "sub")))
            {
                var r = c.Run();
                r.ExitCode.Should().Be(0, r.ToString());
                r.Stdout.Should().Be("content\n", "the runtime looks the source up as it sees it on the host (runc, crun): " + r);
            }
            using (var missing = Make(Path.Combine(hidden, "nope")))
            {
                var r = missing.Run();
                r.ExitCode.Should().NotBe(0);
                r.Stderr.Should().Contain("does not exist", r.ToString());
            }
        }
        finally
        {
            TestEnv.RemoveTree(host);
        }
    }

    /// <summary>
    /// --no-pivot: chroot leaves the host's own proc and sysfs (full mounts, nothing masked) in the container's mount
    /// namespace, below its root, and the kernel lets a nested user namespace mount a fresh proc while such a mount is
    /// there (mount_too_revealing). runc hides every full proc and sysfs mount outside the rootfs before the chroot. Seen
    /// from the namespace's own root (a process nsenter'd into it), only the container's proc and sysfs may remain.
    /// (The attack itself cannot be shown on this host: even on the host a nested user namespace may not mount proc.)
    /// </summary>
    [Fact]
    public void No_pivot_leaves_no_host_proc_or_sysfs_in_the_containers_mount_namespace()
    {
        using var c = new TestContainer("nopivot");
        c.Bundle.Args("sleep", "1000");
        var r = c.RunDetached("--no-pivot");
        r.ExitCode.Should().Be(0, r.ToString());
        var pid = c.Pid();
        using var inside = BackgroundCommand.Start("/usr/bin/nsenter", [$"--mount=/proc/{pid}/ns/mnt", "sleep", "1000"]);
        string mountinfo = "";
        TestEnv.Eventually(() =>
        {
            try { mountinfo = File.ReadAllText($"/proc/{inside.Pid}/mountinfo"); }
            catch (IOException) { return false; }
            return mountinfo.Contains(" - proc ", StringComparison.Ordinal) && TestEnv.CommandLine(inside.Pid).StartsWith("sleep", StringComparison.Ordinal);
        }).Should().BeTrue("nsenter must have exec'd sleep in the container's mount namespace");
        var full = mountinfo.Split('\n').Where(l => l.Split(' ') is { Length: > 4 } f && f[3] == "/" && (l.Contains(" - proc ", StringComparison.Ordinal) || l.Contains(" - sysfs ", StringComparison.Ordinal))).ToList();
        full.Should().HaveCount(2, "the container's own proc and sysfs only, not the host's:\n" + string.Join('\n', full));
        TestEnv.Kill(inside.Pid, TestEnv.SIGKILL);
    }
}
