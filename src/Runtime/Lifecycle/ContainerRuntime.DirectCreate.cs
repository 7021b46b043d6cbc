using System.Globalization;
using OciRuntime.Cgroups;
using OciRuntime.Interop;
using OciRuntime.Runtime.Init;
using OciRuntime.Runtime.ProcessModel;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Lifecycle;

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// create's direct path (docs/process-model.md, "create: the direct path"; <see cref="DirectCreate"/>): the child is
    /// cloned with a plan and waits; <paramref name="builder"/>, parked since the parse with the network namespace made,
    /// builds the rootfs inside the child's namespaces while this thread makes the cgroups and compiles the seccomp
    /// profile; then the hooks, the Go frame, and Ready from the child.
    /// </summary>
    private InitReport CreateDirect(CreateOptions options, Spec.Spec spec, string bundle, string rootfs, SafeFd fifo, SafeFd trampoline,
        DirectCreate.NamespaceThread builder, ICgroupManager? cgroup, int preserveFds, PhaseTimer timer, CreateJournal journal, ref InitProcess? init)
    {
        var namespaces = spec.Linux?.Namespaces ?? [];
        using var birthCgroup = CreateBirthCgroup(cgroup);
        SetHomeFromContainer(spec.Process!, rootfs); // WhyNot: no mount over /etc/passwd
        using var plan = DirectExec.Build(spec.Process!, [], null, 0, preserveFds, trampoline, seccompLater: spec.Linux?.Seccomp is not null);
        plan.Rootfs = rootfs;
        DirectCreate.AddStage(plan, spec, options.Id, rootfs, fifo.Fd, preserveFds, options.NoNewKeyring);
        var joins = NamespaceJoins(namespaces);
        timer.Mark("plan");
        // No other managed thread may run at the clone: the builder is parked (blocked in read) from here on.
        builder.WaitParked();
        var netns = builder.NetNamespace; // made by the builder (which owns it); otherwise clone3 makes it
        DirectCreate.UseNetNamespace(plan, netns);
        timer.Mark("builder-parked");
        var request = new LaunchRequest
        {
            IntoCgroup = birthCgroup,
            NewNamespaces = NewNamespaceFlags(namespaces) & ~(netns is not null ? CloneFlags.NewNet : CloneFlags.None),
            Joins = joins,
            Direct = plan,
        };
        var launched = init = LaunchInit(request);
        journal.InitStarted(launched);
        timer.Mark("clone");

        var initOptions = new InitOptions
        {
            Id = options.Id,
            Bundle = bundle,
            Rootfs = rootfs,
            FifoFd = fifo.Fd,
            HostPid = launched.Pid,
            PreserveFds = preserveFds,
            NoNewKeyring = options.NoNewKeyring,
        };
        var mountTimer = new PhaseTimer();
        using var cgroupsReady = new ManualResetEventSlim();
        var cgroupsFailed = false;
        var hooks = HookRunner.Of(spec.Hooks, "prestart").Count + HookRunner.Of(spec.Hooks, "createRuntime").Count > 0;
        var procContexts = new Queue<SafeFd>();
        // A cgroup mount waits for the cgroups this thread makes meanwhile.
        var rootfsSetup = new RootfsSetup(spec, initOptions, mountTimer, () => { }, procContexts, type =>
        {
            if (type != "cgroup") return;
            cgroupsReady.Wait();
            if (cgroupsFailed) throw new InitException("container init: the container's cgroups were not made");
        });
        var pid = launched.Pid.ToString(CultureInfo.InvariantCulture);
        builder.Go(launched.Pid, joins, () =>
        {
            ReceiveProcContexts(launched, request, procContexts);
            mountTimer.Mark("proc-contexts");
        }, _ =>
        {
            rootfsSetup.PrepareMounts();
            if (!hooks) FinishInNamespaces(rootfsSetup, spec, pid, mountTimer);
        });

        CgroupSetup? cgroupJoin = null;
        var joined = false;
        try
        {
            try
            {
                cgroupJoin = PrepareCgroups(cgroup, spec, request.BornInCgroup, launched.Pid);
                initOptions.Cgroups = cgroupJoin.Options;
            }
            catch
            {
                cgroupsFailed = true;
                throw;
            }
            finally
            {
                cgroupsReady.Set();
            }
            // The child joins them now, while the builder still works. If it is gone, its ChildFailed frame (read by the
            // builder) tells why.
            try
            {
                DirectCreate.SendCgroups(launched.Channel, cgroupJoin.Fds);
            }
            catch (SyscallException)
            {
            }
            timer.Mark("cgroups");
            var seccompProgram = CompileSeccomp(spec);
            plan.SeccompFlags = seccompProgram.Flags;
            timer.Mark("seccomp");
            joined = true;
            builder.Join();
            timer.Mark("mounts-wait");
            // The hooks see the child in all the container's namespaces and cgroups, as runc's do.
            DirectCreate.AwaitCgroupsJoined(launched, request);
            if (hooks)
            {
                RunRuntimeHooks(options.Id, launched.Pid, bundle, spec);
                // A child that died meanwhile (killed by a hook, say) has no namespaces left to enter: its fate is the error.
                if (HasExited(launched)) return AwaitReady(launched, request);
                // Back into the namespaces for the rest, the network namespace the builder made included.
                using var finisher = DirectCreate.NamespaceThread.Start(makeNet: false);
                finisher.WaitParked();
                try
                {
                    finisher.Go(launched.Pid, joins, null, _ => FinishInNamespaces(rootfsSetup, spec, pid, mountTimer), enterNet: netns);
                    finisher.Join();
                }
                catch (Exception) when (HasExited(launched, timeoutMs: 2000))
                {
                    // Killed after the check above but still dying then: its namespaces were gone (ENOENT) before it
                    // became a zombie. How it ended is the error, not the open that failed.
                    return AwaitReady(launched, request);
                }
            }
            try
            {
                DirectCreate.SendGo(launched.Channel, null, seccompProgram.Program, seccompProgram.Flags); // the child is in netns already
            }
            catch (SyscallException)
            {
                // The child is gone (EPIPE): AwaitReady reports its ChildFailed frame or how it ended, not "sendmsg".
            }
            // As in CreateThroughInit: only a join through cgroup.procs (pure v2) takes the global lock.
            if (cgroupJoin.MovesWholeProcess) CgroupHost.Real.WarmMigrationLock();
            timer.Mark("go");
            var report = AwaitReady(launched, request);
            timer.Mark("child-setup");
            report.Phases.AddRange(mountTimer.Phases);
            return report;
        }
        finally
        {
            if (!joined)
            {
                try { builder.Join(); } catch (Exception) { /* the first failure is the one reported */ }
            }
            foreach (var context in procContexts) context.Dispose();
            cgroupJoin?.Dispose();
        }
    }

    /// <summary>The child's first frame: its procfs fs contexts (one per proc mount), or why it failed.</summary>
    private static void ReceiveProcContexts(InitProcess init, LaunchRequest request, Queue<SafeFd> contexts)
    {
        var fds = new List<SafeFd>();
        if (!init.Channel.TryReceive(out var type, out var payload, fds))
            throw new RuntimeException("container init exited before the container was ready");
        if (type == SyncMessage.ChildFailed) throw new RuntimeException(InitLauncher.DescribeChildFailure(request, payload));
        if (type != SyncMessage.ProcContexts) throw new RuntimeException($"container init sent an unexpected message {type}");
        foreach (var fd in fds) contexts.Enqueue(fd);
    }

    /// <summary>After the mounts and hooks, inside the namespaces: hostname, sysctl, the path and read-only steps, oom_score_adj.</summary>
    private static void FinishInNamespaces(RootfsSetup rootfs, Spec.Spec spec, string pid, PhaseTimer timer)
    {
        ProcessSetup.SetHostnames(spec);
        var process = spec.Process!;
        var procfs = spec.Linux?.Sysctl is { Count: > 0 } || process.OomScoreAdj is not null ? ProcFs.Open() : null;
        try
        {
            if (procfs is not null) ProcessSetup.SetSysctls(spec, procfs);
            rootfs.FinishBeforePivot();
            if (procfs is not null) ProcessSetup.SetOomScoreAdj(process, procfs, pid);
        }
        finally
        {
            procfs?.Dispose();
        }
        timer.Mark("hostname+sysctl");
    }

    /// <summary>Whether the child has exited (its pidfd is readable), waiting up to <paramref name="timeoutMs"/> ms (0: not at all).</summary>
    private static bool HasExited(InitProcess child, int timeoutMs = 0)
    {
        Span<PollFd> fds = stackalloc PollFd[1];
        fds[0] = new PollFd { Fd = child.PidFd.Fd, Events = PollFd.POLLIN };
        return Libc.Poll(fds, timeoutMs) > 0;
    }
}
