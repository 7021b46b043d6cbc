using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Interop;
using OciRuntime.Runtime.Cli;
using OciRuntime.Runtime.Lifecycle;
using OciRuntime.Runtime.ProcessModel;
using OciRuntime.Runtime.State;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// <c>ocirun init</c>: the container's first process, exec'd by the runtime into its new namespaces
/// (docs/process-model.md). It reads its orders from the sync socket, builds the container, reports Ready
/// (or the one-line error), waits on the exec fifo for <c>start</c>, and execs process.args.
/// </summary>
public static class ContainerInit
{
    /// <summary>Runs the init; returns an exit status only on failure (success ends in execve).</summary>
    public static int Main()
    {
        // CVE-2016-9962: until execve, no process of the container may ptrace the init or open its /proc files
        // (exe, fd/, mem); a non-dumpable process needs CAP_SYS_PTRACE for that. execve makes the new program dumpable
        // again. First thing: the raw child that exec'd this process was non-dumpable since its birth (NonDumpableClone).
        _ = Libc.prctl(Prctl.PR_SET_DUMPABLE, 0, 0, 0, 0);
        // Before anything can move this process into the container's root: libm is bound on first use
        // (src/Cli/native/lazy-libm.c), and a first use in there would load the container's libm.
        OcirunNative.LibmPreload();
        var fdText = Environment.GetEnvironmentVariable(InitProcess.SyncFdVariable);
        if (fdText is null || !int.TryParse(fdText, NumberStyles.None, CultureInfo.InvariantCulture, out var syncFd))
        {
            StdIo.ErrorLine("ocirun init: must be started by ocirun (no sync socket)");
            return 1;
        }
        // If the runtime dies before the container is ready, so does the init.
        _ = Libc.prctl(Prctl.PR_SET_PDEATHSIG, Signals.SIGKILL, 0, 0, 0);

        var channel = new SyncChannel(new SafeFd(syncFd));
        var timer = new PhaseTimer();
        InitOptions options;
        Spec.Spec spec;
        ExecPlan plan;
        try
        {
            (options, spec) = ReceiveOrders(channel, timer);
            timer.Mark("parse");
            plan = Prepare(spec, options, timer, channel);
        }
        catch (Exception e)
        {
            var message = e is InitException or SyscallException or SpecException ? e.Message : $"container init: {e.Message}";
            try { channel.Send(SyncMessage.Error, Encoding.UTF8.GetBytes(message)); } catch (SyscallException) { }
            return 1;
        }

        // Before Ready: once create returns, `kill` may come at any time.
        var terminators = ExitOnTerminatingSignals();
        timer.Mark("signals");
        // The runtime may exit as soon as it reads Ready: the death signal must be gone before that.
        _ = Libc.prctl(Prctl.PR_SET_PDEATHSIG, 0, 0, 0, 0);
        var report = new InitReport { Phases = timer.Phases, Warnings = UserNamespaceFixups.Warnings is { Count: > 0 } w ? w : null };
        channel.Send(SyncMessage.Ready, RuntimeJson.Write(report));
        // exec: the runtime returns when the socket reaches EOF, i.e. at execve (close-on-exec) or when this process
        // dies, so `exec -d` and its --pid-file name the user's process, as runc's do. create: start waits on the fifo.
        if (options.IsExec) Libc.Check(Libc.fcntl(channel.Fd, OpenFlags.F_SETFD, OpenFlags.FD_CLOEXEC), "fcntl F_SETFD");
        else channel.Dispose();

        if (options.FifoFd >= 0 && !WaitForStart(options.FifoFd, plan.ProcFs!)) return 1;
        plan.ProcFs?.Dispose();
        plan.ProcFs = null;
        // startContainer hooks run in the container as runc runs them: after the seccomp filter is loaded (they inherit
        // it) and the final capabilities are set, right before execve, with the init's environment (process.env and HOME).
        Action? startHooks = options.IsExec || HookRunner.Of(spec.Hooks, "startContainer").Count == 0 ? null : () =>
        {
            try
            {
                HookRunner.Run(spec.Hooks, "startContainer", HookRunner.StateFor(options.Id, ContainerStatus.Created, options.HostPid, options.Bundle, spec.Annotations), spec.Process!.Env ?? []);
            }
            catch (HookException e)
            {
                throw new InitException(e.Message, e);
            }
        };
        var status = plan.RunFinalSteps(spec.Process!, startHooks);
        GC.KeepAlive(terminators);
        GC.KeepAlive(channel); // exec: open until execve (see above)
        return status;
    }

    /// <summary>
    /// Until it execs, the init ends on SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM and SIGTERM (status 128 + signal),
    /// as runc's init does, so that <c>kill</c> of a created container stops it. PID 1 of a pid namespace only
    /// receives the signals it handles, and the .NET runtime's default re-raises them with the default action,
    /// which the kernel then drops. execve resets the handlers.
    /// </summary>
    private static List<PosixSignalRegistration> ExitOnTerminatingSignals()
    {
        var registrations = new List<PosixSignalRegistration>();
        foreach (var sig in new[] { 1, 2, 3, 10, 12, 14, 15 })
        {
            registrations.Add(PosixSignalRegistration.Create((PosixSignal)sig, _ => Environment.Exit(128 + sig)));
        }
        return registrations;
    }

    private static (InitOptions, Spec.Spec) ReceiveOrders(SyncChannel channel, PhaseTimer timer)
    {
        var fds = new List<SafeFd>();
        if (!channel.TryReceive(out var type, out var payload, fds) || type != SyncMessage.Bootstrap)
            throw new InitException("container init: no bootstrap message from the runtime");
        timer.Mark("receive");
        var options = RuntimeJson.ReadInitOptions(payload);
        if (options.JoinNetNamespace)
        {
            // The network namespace the runtime made while this process started: joined first, before anything that
            // depends on it (sysfs, net.* sysctls, createContainer hooks). Per thread: this one, which execs.
            if (fds.Count == 0) throw new InitException("container init: no network namespace from the runtime");
            using var netns = fds[0];
            fds.RemoveAt(0);
            Libc.Check(Libc.setns(netns.Fd, (int)CloneFlags.NewNet), "join the container's network namespace");
        }
        // The cgroup join fds came with the frame, in order (SendOrders); CgroupJoin writes to and closes them.
        if (options.Cgroups is { } cgroups) cgroups.ProcsFds = fds.ConvertAll(fd => fd.Release());
        else foreach (var fd in fds) fd.Dispose();
        if (!channel.TryReceive(out type, out payload) || type != SyncMessage.Config)
            throw new InitException("container init: no config message from the runtime");
        return (options, SpecSerializer.Parse(payload));
    }

    private static ExecPlan Prepare(Spec.Spec spec, InitOptions options, PhaseTimer timer, SyncChannel channel)
    {
        var process = spec.Process ?? throw new InitException("config.json: process: required to start a container");
        var lastCap = Capabilities.LastCap();
        // execCPUAffinity is for processes started by exec, not for the container's init (config.md#linux-process).
        if (options.IsExec) ProcessAttributes.SetCpuAffinity(process.ExecCpuAffinity?.Initial, "process.execCPUAffinity.initial");
        Lsm.CheckSupported(spec);
        var plan = new ExecPlan { PreserveFds = options.PreserveFds, FinalCpuAffinity = options.IsExec ? process.ExecCpuAffinity?.Final : null };
        try
        {
            // Normally compiled by the runtime; compiled here otherwise, while the host's libraries are still reachable
            // (libseccomp is loaded before the chroot below).
            if (spec.Linux?.Seccomp is { } seccomp)
            {
                plan.Seccomp = options.SeccompProgram is { } program
                    ? SeccompFilter.FromProgram(Convert.FromBase64String(program), options.SeccompFlags)
                    : SeccompFilter.Build(seccomp);
                if (plan.Seccomp.HasNotify)
                {
                    if (options.SeccompListenerFd < 0 || options.SeccompListenerState is null)
                        throw new InitException("config.json: linux.seccomp.listenerPath: the runtime did not connect to the seccomp listener");
                    plan.ListenerFd = options.SeccompListenerFd;
                    plan.ListenerState = Encoding.UTF8.GetBytes(options.SeccompListenerState);
                }
                timer.Mark("seccomp-compile");
            }
            if (options.NamespaceRootFd >= 0)
            {
                // The launcher exec'd us chrooted to the host root (for the ELF interpreter): enter the joined mount
                // namespace's root now. Anything ocirun needs from the host (libraries) must be loaded before this.
                Libc.Check(Libc.fchdir(options.NamespaceRootFd), "enter the container's root");
                Libc.Check(Libc.chroot("."), "chroot into the container's root");
                Libc.Check(Libc.chdir("/"), "chdir /");
                Libc.close(options.NamespaceRootFd);
            }
            var oldMask = Libc.umask(0); // device nodes and mount points get exactly the modes asked for
            RootfsSetup? rootfs = null;
            // A mount namespace joined by path gets the rootfs built inside it too (runc: mounts, pivot_root there).
            if (!options.IsExec && (options.NewMountNamespace || NamespaceType.Find(spec.Linux?.Namespaces, NamespaceType.Mount) is { Path.Length: > 0 }))
            {
                rootfs = new RootfsSetup(spec, options, timer, () => RunCreateHooks(spec, options, channel));
                rootfs.PrepareAndPivot();
            }
            else if (!options.IsExec)
            {
                RunCreateHooks(spec, options, channel); // no mount namespace of its own: no pivot to run them before
                if (!NamespaceType.Has(spec.Linux?.Namespaces ?? [], NamespaceType.Mount))
                {
                    // No mount namespace at all, the runtime's: no pivot_root there, but the process still runs inside
                    // the rootfs (runc chroots). A mount namespace joined by path keeps its own root.
                    Libc.Check(Libc.chdir(options.Rootfs), $"chdir {options.Rootfs}");
                    Libc.Check(Libc.chroot("."), $"chroot {options.Rootfs}");
                    Libc.Check(Libc.chdir("/"), "chdir /");
                }
            }
            if (process.Terminal && options.ConsoleSocketFd >= 0)
            {
                ContainerConsole.Setup(process, options.ConsoleSocketFd, mountDevConsole: rootfs is not null);
                if (options.InUserNamespace) UserNamespaceFixups.ChownConsole(0); // fd 0 is the pty slave now
            }
            else
            {
                // A session of its own, as runc's nsexec gives every init and exec'd process (the terminal's setsid
                // is in ContainerConsole): CRIU refuses to dump a session leader outside the pid namespace.
                Libc.Check(Libc.setsid(), "setsid");
            }
            _ = Libc.umask(oldMask);
            // In the container's pid namespace and mount tree, with all capabilities still (fsopen needs CAP_SYS_ADMIN).
            // An exec'd process needs procfs only for LSM labels.
            if (!options.IsExec || Lsm.WantsExecLabel(spec)) plan.ProcFs = ProcFs.Open();
            if (!options.IsExec)
            {
                ProcessSetup.SetHostnames(spec);
                ProcessSetup.SetSysctls(spec, plan.ProcFs!);
                rootfs?.FinishAfterPivot();
                ProcessSetup.SetOomScoreAdj(process, plan.ProcFs!);
            }
            if (!options.NoNewKeyring) ProcessSetup.JoinSessionKeyring(options.Id);
            timer.Mark("keyring");
            ProcessSetup.SetRlimits(process);
            ProcessAttributes.SetPersonality(spec.Linux?.Personality);
            ProcessAttributes.SetScheduler(process.Scheduler);
            ProcessAttributes.SetIoPriority(process.IoPriority);
            if (plan.ProcFs is not null) Lsm.SetExecLabels(spec, plan.ProcFs);
            UserNamespaceFixups.FixStdioOwnership(process.User.Uid);
            if (UserHome.IsMissing(process.Env))
            {
                // In the container's root, still as its root user: HOME from its /etc/passwd (runc's setupUser).
                using var root = SafeFd.Check(Libc.open("/", OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC), "open /");
                UserHome.Apply(process, root.Fd);
            }
            timer.Mark("rlimits+stdio");
            CgroupJoin.Join(options.Cgroups);
            timer.Mark("cgroup-join");
            var cwdEntered = ProcessSetup.EnterCwdEarly(process);
            plan.DeferredCapabilities = ProcessSetup.SetUserAndCapabilities(process, lastCap, keepSysAdmin: plan.Seccomp is not null && !process.NoNewPrivileges);
            timer.Mark("user+caps");
            ProcessSetup.ChangeDirectory(process, cwdEntered);
            plan.Executable = ProcessSetup.LookPath(process);
            timer.Mark("process");
            return plan;
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Before pivot_root: asks the runtime to run prestart and createRuntime hooks (runtime namespace) and waits
    /// for it, then runs createContainer hooks here, in the container's namespaces.
    /// </summary>
    private static void RunCreateHooks(Spec.Spec spec, InitOptions options, SyncChannel channel)
    {
        var runtimeHooks = HookRunner.Of(spec.Hooks, "prestart").Count + HookRunner.Of(spec.Hooks, "createRuntime").Count > 0;
        if (runtimeHooks || HookRunner.Of(spec.Hooks, "createContainer").Count > 0)
        {
            // Hooks see the init in all the container's namespaces (the network namespace was joined first thing) and in
            // its cgroups, as runc's do: the late join (docs/process-model.md, "cgroups") comes early when there are hooks.
            CgroupJoin.Join(options.Cgroups);
            options.Cgroups = null;
        }
        if (runtimeHooks)
        {
            channel.Send(SyncMessage.RunHooks, []);
            if (!channel.TryReceive(out var type, out _) || type != SyncMessage.HooksDone)
                throw new InitException("container init: the runtime did not finish the prestart/createRuntime hooks");
        }
        if (HookRunner.Of(spec.Hooks, "createContainer").Count == 0) return;
        // runc runs them from the rootfs (after the mounts, before pivot_root), with the init's environment: process.env.
        using var cwd = SafeFd.Check(Libc.open(".", OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC), "open the init's working directory");
        Libc.Check(Libc.chdir(options.Rootfs), $"chdir {options.Rootfs}");
        try
        {
            HookRunner.Run(spec.Hooks, "createContainer", HookRunner.StateFor(options.Id, ContainerStatus.Creating, options.HostPid, options.Bundle, spec.Annotations), spec.Process!.Env ?? []);
        }
        catch (HookException e)
        {
            throw new InitException(e.Message, e);
        }
        finally
        {
            _ = Libc.fchdir(cwd.Fd);
        }
    }

    /// <summary>
    /// Blocks until <c>start</c> opens the exec fifo for reading, then tells it so by writing one byte. The O_PATH fd of
    /// the fifo is reopened through the trusted procfs handle, never through the container's /proc; the write end stays open until exec.
    /// </summary>
    private static bool WaitForStart(int fifoFd, ProcFs procfs)
    {
        SafeFd fifo;
        try
        {
            fifo = procfs.Reopen(fifoFd, OpenFlags.O_WRONLY);
        }
        catch (SyscallException e)
        {
            StdIo.ErrorLine($"ocirun init: open exec fifo: {e.Message}");
            return false;
        }
        Libc.WriteAll(fifo.Fd, "0"u8, "exec fifo");
        // The write end stays open, close-on-exec: start reads EOF once process.args is exec'd (or the init died),
        // and runs the poststart hooks only then (runtime.md#lifecycle: after the user-specified program runs).
        // Released from its SafeFd so that no finaliser closes it early.
        _ = fifo.Release();
        // The O_PATH fd is closed before execve (runc: older kernels reset dumpable after the fd table is shared, CVE-2016-9962).
        Libc.close(fifoFd);
        return true;
    }
}
