using System.Diagnostics;
using System.Runtime.InteropServices;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// The seccomp filter of <c>linux.seccomp</c> (runtime-spec config-linux.md#seccomp), compiled by libseccomp with
/// runc's rule semantics and loaded with seccomp(2) (runc's patchbpf way: seccomp_export_bpf, then
/// SECCOMP_SET_MODE_FILTER with the flags computed here).
/// </summary>
/// <remarks>
/// Rule semantics follow runc's libcontainer/seccomp/seccomp_linux.go:
/// SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD; errnoRet (default EPERM) goes with SCMP_ACT_ERRNO and SCMP_ACT_TRACE;
/// a rule whose action equals the default action is skipped; a syscall name libseccomp does not know is skipped;
/// the args of a rule are ANDed into one libseccomp rule, unless two of them compare the same argument index, in
/// which case every arg becomes a rule of its own (ORed); SCMP_CMP_MASKED_EQ compares (arg &amp; value) == valueTwo;
/// more than 32 rules turn on libseccomp's binary-tree optimisation (counted in rules added to libseccomp, not in entries
/// of syscalls[] as runc does, so Docker's profile of 19 entries and 434 names gets it).
/// <para>
/// Compiling happens at create time (<see cref="Build"/>: every error names its config.json field); loading
/// (<see cref="Load"/>) is one syscall on the thread that then calls execve. Without TSYNC only that thread gets the
/// filter, which is all that survives execve; the runtime's other threads are never filtered. With
/// SECCOMP_FILTER_FLAG_TSYNC in <c>flags</c> every thread gets it, as asked. Flags: TSYNC (+ TSYNC_ESRCH), LOG,
/// SPEC_ALLOW, NEW_LISTENER (when a rule is SCMP_ACT_NOTIFY) and WAIT_KILLABLE_RECV (only meaningful, and only
/// accepted by the kernel, with NEW_LISTENER; libseccomp 2.5 has no attribute for it, seccomp(2) takes it directly).
/// </para>
/// </remarks>
public sealed unsafe class SeccompFilter : IDisposable
{
    private SockFilter* _program;

    private SeccompFilter(SockFilter* program, int length, uint flags, bool hasNotify, long buildMicros)
    {
        _program = program;
        Length = length;
        Flags = flags;
        HasNotify = hasNotify;
        BuildMicros = buildMicros;
    }

    /// <summary>Number of BPF instructions.</summary>
    public int Length { get; }

    /// <summary>The seccomp(2) SECCOMP_FILTER_FLAG_* bits the filter is loaded with.</summary>
    public uint Flags { get; }

    /// <summary>Some rule is SCMP_ACT_NOTIFY: loading returns a listener fd.</summary>
    public bool HasNotify { get; }

    /// <summary>Time to compile the filter (libseccomp rules + export), µs.</summary>
    public long BuildMicros { get; }

    /// <summary>The BPF program (struct sock_filter[]), e.g. for inspection in tests.</summary>
    public ReadOnlySpan<SockFilter> Program => new(_program, Length);

    /// <summary>A filter from a compiled program (<see cref="ToBytes"/>) and its seccomp(2) flags, e.g. compiled by the runtime.</summary>
    /// <exception cref="InitException">not a program of whole instructions, or longer than the kernel accepts.</exception>
    public static SeccompFilter FromProgram(ReadOnlySpan<byte> program, uint flags)
    {
        if (program.Length == 0 || program.Length % sizeof(SockFilter) != 0 || program.Length / sizeof(SockFilter) > SeccompKernel.BPF_MAXINSNS)
            throw new InitException($"container init: a {program.Length}-byte seccomp program is not valid");
        var memory = (byte*)NativeMemory.Alloc((nuint)program.Length);
        program.CopyTo(new Span<byte>(memory, program.Length));
        return new SeccompFilter((SockFilter*)memory, program.Length / sizeof(SockFilter), flags,
            (flags & SeccompKernel.SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0, 0);
    }

    /// <summary>The program as bytes (struct sock_filter[]).</summary>
    public byte[] ToBytes() => MemoryMarshal.AsBytes(Program).ToArray();

    /// <summary>
    /// Compiles <paramref name="config"/> with libseccomp.
    /// </summary>
    /// <exception cref="InitException">libseccomp is missing, or a field is refused; the message names the field, e.g.
    /// <c>config.json: linux.seccomp.architectures[1]: ...</c>.</exception>
    public static SeccompFilter Build(LinuxSeccomp config)
    {
        var clock = Stopwatch.StartNew();
        if (!Libseccomp.TryLoad(out var loadError))
            throw new InitException($"config.json: linux.seccomp: libseccomp is required for seccomp but cannot be loaded ({loadError}); install libseccomp2");

        var defaultAction = Action(config.DefaultAction, config.DefaultErrnoRet, "linux.seccomp.defaultAction");
        var syscalls = config.Syscalls ?? [];
        var hasNotify = false;
        for (var i = 0; i < syscalls.Count; i++)
        {
            if (syscalls[i].Action != SeccompActions.Notify) continue;
            hasNotify = true;
            foreach (var name in syscalls[i].Names)
            {
                // The init's last calls before execve, after the filter is loaded: a notification there would wait for a
                // listener that does not have the fd yet.
                if (name is "write" or "sendmsg")
                    throw new InitException($"config.json: linux.seccomp.syscalls[{i}].action: SCMP_ACT_NOTIFY cannot be used for the {name} syscall (the runtime needs it to hand the notify fd to the listener)");
            }
        }
        if (hasNotify && string.IsNullOrEmpty(config.ListenerPath))
            throw new InitException("config.json: linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY rules");
        if (hasNotify && Libseccomp.seccomp_api_get() < 5)
            throw new InitException($"config.json: linux.seccomp: SCMP_ACT_NOTIFY needs libseccomp >= 2.5 and Linux >= 5.0 (libseccomp {Libseccomp.LibraryVersion}, API level {Libseccomp.seccomp_api_get()})");

        var ctx = Libseccomp.seccomp_init(defaultAction);
        if (ctx == 0) throw new InitException($"config.json: linux.seccomp.defaultAction: libseccomp refused {config.DefaultAction}");
        try
        {
            AddArchitectures(ctx, config.Architectures);
            var flags = ApplyFlags(ctx, config.Flags, hasNotify);
            _ = Libseccomp.seccomp_attr_set(ctx, Libseccomp.SCMP_FLTATR_CTL_NNP, 0);
            var added = 0;
            for (var i = 0; i < syscalls.Count; i++) added += AddRule(ctx, syscalls[i], i, defaultAction);
            // libseccomp's binary tree for long filters (runc: more than 32 entries of syscalls[]). Counted here in rules
            // really added, so that a profile listing many names in few entries (Docker's: 19 entries, 434 names) gets
            // it too, and a profile whose names are all unknown does not (libseccomp <= 2.5.4 mishandles an empty tree).
            if (added > 32) _ = Libseccomp.seccomp_attr_set(ctx, Libseccomp.SCMP_FLTATR_CTL_OPTIMIZE, 2);
            var (program, length) = Export(ctx);
            (program, length) = Prepend(SeccompEnosysStub.For(config, defaultAction), program, length);
            return new SeccompFilter((SockFilter*)program, length, flags, hasNotify, clock.ElapsedTicks * 1_000_000 / Stopwatch.Frequency);
        }
        finally
        {
            Libseccomp.seccomp_release(ctx);
        }
    }

    /// <summary>The libseccomp action value of a runtime-spec action name (SCMP_ACT_KILL = SCMP_ACT_KILL_THREAD).</summary>
    /// <exception cref="InitException">an unknown action, naming <paramref name="field"/>.</exception>
    public static uint Action(string action, uint? errnoRet, string field) => action switch
    {
        SeccompActions.Kill or SeccompActions.KillThread => Libseccomp.SCMP_ACT_KILL_THREAD,
        SeccompActions.KillProcess => Libseccomp.SCMP_ACT_KILL_PROCESS,
        SeccompActions.Trap => Libseccomp.SCMP_ACT_TRAP,
        SeccompActions.Errno => Libseccomp.SCMP_ACT_ERRNO(errnoRet ?? Errno.EPERM),
        SeccompActions.Trace => Libseccomp.SCMP_ACT_TRACE(errnoRet ?? Errno.EPERM),
        SeccompActions.Allow => Libseccomp.SCMP_ACT_ALLOW,
        SeccompActions.Log => Libseccomp.SCMP_ACT_LOG,
        SeccompActions.Notify => Libseccomp.SCMP_ACT_NOTIFY,
        _ => throw new InitException($"config.json: {field}: unknown seccomp action \"{action}\""),
    };

    /// <summary>The libseccomp comparison of a runtime-spec operator name.</summary>
    /// <exception cref="InitException">an unknown operator, naming <paramref name="field"/>.</exception>
    public static int Operator(string op, string field) => op switch
    {
        SeccompOperators.NotEqual => Libseccomp.SCMP_CMP_NE,
        SeccompOperators.LessThan => Libseccomp.SCMP_CMP_LT,
        SeccompOperators.LessOrEqual => Libseccomp.SCMP_CMP_LE,
        SeccompOperators.EqualTo => Libseccomp.SCMP_CMP_EQ,
        SeccompOperators.GreaterOrEqual => Libseccomp.SCMP_CMP_GE,
        SeccompOperators.GreaterThan => Libseccomp.SCMP_CMP_GT,
        SeccompOperators.MaskedEqual => Libseccomp.SCMP_CMP_MASKED_EQ,
        _ => throw new InitException($"config.json: {field}: unknown seccomp operator \"{op}\""),
    };

    /// <summary>libseccomp's name of a runtime-spec architecture: "SCMP_ARCH_X86_64" → "x86_64".</summary>
    public static string ArchName(string specName) =>
        (specName.StartsWith("SCMP_ARCH_", StringComparison.Ordinal) ? specName["SCMP_ARCH_".Length..] : specName).ToLowerInvariant();

    private static void AddArchitectures(nint ctx, List<string>? architectures)
    {
        for (var i = 0; i < (architectures?.Count ?? 0); i++)
        {
            var name = architectures![i];
            var token = Libseccomp.seccomp_arch_resolve_name(ArchName(name));
            if (token == 0)
                throw new InitException($"config.json: linux.seccomp.architectures[{i}]: {name} is not supported by libseccomp {Libseccomp.LibraryVersion}");
            var r = Libseccomp.seccomp_arch_add(ctx, token);
            if (r != 0 && r != -Errno.EEXIST)
                throw new InitException($"config.json: linux.seccomp.architectures[{i}]: add {name}: {Libc.StrError(-r)}");
        }
    }

    private static uint ApplyFlags(nint ctx, List<string>? names, bool hasNotify)
    {
        uint flags = 0;
        var tsync = false;
        for (var i = 0; i < (names?.Count ?? 0); i++)
        {
            var name = names![i];
            var field = $"linux.seccomp.flags[{i}]";
            // The libseccomp attribute is set too: libseccomp then checks that the running kernel supports the flag,
            // so an unsupported one fails create instead of start.
            switch (name)
            {
                case SeccompFlags.Tsync:
                    CheckAttr(Libseccomp.seccomp_attr_set(ctx, Libseccomp.SCMP_FLTATR_CTL_TSYNC, 1), field, name);
                    tsync = true;
                    break;
                case SeccompFlags.Log:
                    CheckAttr(Libseccomp.seccomp_attr_set(ctx, Libseccomp.SCMP_FLTATR_CTL_LOG, 1), field, name);
                    flags |= SeccompKernel.SECCOMP_FILTER_FLAG_LOG;
                    break;
                case SeccompFlags.SpecAllow:
                    CheckAttr(Libseccomp.seccomp_attr_set(ctx, Libseccomp.SCMP_FLTATR_CTL_SSB, 1), field, name);
                    flags |= SeccompKernel.SECCOMP_FILTER_FLAG_SPEC_ALLOW;
                    break;
                case SeccompFlags.WaitKillableRecv:
                    // Set with libseccomp >= 2.6 (CTL_WAITKILL); 2.5 does not know the attribute, seccomp(2) gets the flag anyway.
                    if (hasNotify)
                    {
                        if (!KernelAccepts(SeccompKernel.SECCOMP_FILTER_FLAG_NEW_LISTENER | SeccompKernel.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV))
                            throw new InitException($"config.json: {field}: {name}: not supported by this kernel (Linux 5.19+)");
                        _ = Libseccomp.seccomp_attr_set(ctx, Libseccomp.SCMP_FLTATR_CTL_WAITKILL, 1);
                        flags |= SeccompKernel.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
                    }
                    break;
                default:
                    throw new InitException($"config.json: {field}: unknown seccomp flag \"{name}\"");
            }
        }
        if (tsync) flags |= SeccompKernel.SECCOMP_FILTER_FLAG_TSYNC | SeccompKernel.SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        if (hasNotify) flags |= SeccompKernel.SECCOMP_FILTER_FLAG_NEW_LISTENER;
        return flags;
    }

    private static void CheckAttr(int result, string field, string name)
    {
        if (result == 0) return;
        var reason = result == -95 /* EOPNOTSUPP */ ? "not supported by this kernel" : Libc.StrError(-result);
        throw new InitException($"config.json: {field}: {name}: {reason}");
    }

    private static int AddRule(nint ctx, LinuxSyscall rule, int index, uint defaultAction)
    {
        var field = $"linux.seccomp.syscalls[{index}]";
        var action = Action(rule.Action, rule.ErrnoRet, field + ".action");
        if (action == defaultAction) return 0; // redundant, as runc skips it
        var args = rule.Args ?? [];
        var conditions = new ScmpArgCmp[args.Count];
        Span<int> perIndex = stackalloc int[6];
        for (var j = 0; j < args.Count; j++)
        {
            var a = args[j];
            if (a.Index > 5) throw new InitException($"config.json: {field}.args[{j}].index: must be between 0 and 5, got {a.Index}");
            perIndex[(int)a.Index]++;
            conditions[j] = new ScmpArgCmp
            {
                Arg = a.Index,
                Op = Operator(a.Op, $"{field}.args[{j}].op"),
                DatumA = a.Value,
                DatumB = a.ValueTwo ?? 0,
            };
        }
        var separate = false;
        foreach (var count in perIndex) separate |= count > 1;
        var added = 0;

        for (var n = 0; n < rule.Names.Count; n++)
        {
            var name = rule.Names[n];
            var nr = Libseccomp.seccomp_syscall_resolve_name(name);
            if (nr == Libseccomp.NR_SCMP_ERROR) continue; // unknown to libseccomp (or to this architecture): skipped, as runc does
            fixed (ScmpArgCmp* c = conditions)
            {
                if (conditions.Length == 0 || !separate)
                {
                    Check(Libseccomp.seccomp_rule_add_array(ctx, action, nr, (uint)conditions.Length, c), field, name);
                    added++;
                }
                else
                {
                    // Two conditions on one argument cannot be ANDed by libseccomp: one rule per condition (runc).
                    for (var j = 0; j < conditions.Length; j++) Check(Libseccomp.seccomp_rule_add_array(ctx, action, nr, 1, c + j), field, name);
                    added += conditions.Length;
                }
            }
        }
        return added;
    }

    private static void Check(int result, string field, string name)
    {
        if (result < 0) throw new InitException($"config.json: {field}: add the rule for {name}: {Libc.StrError(-result)}");
    }

    // The program with `stub` in front (a new native block; the old one is freed).
    private static (nint Program, int Length) Prepend(SockFilter[] stub, nint program, int length)
    {
        if (stub.Length == 0) return (program, length);
        var total = stub.Length + length;
        if (total > SeccompKernel.BPF_MAXINSNS)
        {
            NativeMemory.Free((void*)program);
            throw new InitException($"config.json: linux.seccomp: the filter compiles to {total} BPF instructions, more than the kernel's limit of {SeccompKernel.BPF_MAXINSNS}");
        }
        var joined = (SockFilter*)NativeMemory.Alloc((nuint)(total * sizeof(SockFilter)));
        stub.CopyTo(new Span<SockFilter>(joined, stub.Length));
        new ReadOnlySpan<SockFilter>((void*)program, length).CopyTo(new Span<SockFilter>(joined + stub.Length, length));
        NativeMemory.Free((void*)program);
        return ((nint)joined, total);
    }

    private static (nint Program, int Length) Export(nint ctx)
    {
        using var memfd = SafeFd.Check(Libc.memfd_create("seccomp-bpf", MemfdFlags.MFD_CLOEXEC), "memfd_create seccomp-bpf");
        var r = Libseccomp.seccomp_export_bpf(ctx, memfd.Fd);
        if (r < 0) throw new InitException($"config.json: linux.seccomp: compile the filter: {Libc.StrError(-r)}");
        var size = Libc.Check(Libc.lseek(memfd.Fd, 0, Libc.SEEK_END), "lseek seccomp-bpf");
        if (size == 0 || size % sizeof(SockFilter) != 0) throw new InitException($"config.json: linux.seccomp: libseccomp produced a {size}-byte program");
        var length = (int)(size / sizeof(SockFilter));
        if (length > SeccompKernel.BPF_MAXINSNS)
            throw new InitException($"config.json: linux.seccomp: the filter compiles to {length} BPF instructions, more than the kernel's limit of {SeccompKernel.BPF_MAXINSNS}");
        var program = (byte*)NativeMemory.Alloc((nuint)size);
        try
        {
            long done = 0;
            while (done < size)
            {
                var n = Libc.pread(memfd.Fd, program + done, (nuint)(size - done), done);
                if (n <= 0) throw SyscallException.FromLastError("read the seccomp program");
                done += n;
            }
        }
        catch
        {
            NativeMemory.Free(program);
            throw;
        }
        return ((nint)program, length);
    }

    /// <summary>
    /// Whether this kernel accepts the SECCOMP_FILTER_FLAG_* bits <paramref name="flags"/>: seccomp(2) is asked to install
    /// a NULL program with them, which fails with EFAULT when the flags are valid and EINVAL when they are not (libseccomp's
    /// own probe). Nothing is installed either way.
    /// </summary>
    public static bool KernelAccepts(uint flags)
    {
        var r = RawSys.SeccompSetModeFilter(flags, null);
        return r < 0 && RawSys.ErrnoValue == 14; // EFAULT
    }

    /// <summary>
    /// Loads the filter into the calling thread (every thread with TSYNC). Needs no_new_privs or CAP_SYS_ADMIN.
    /// Returns the notification fd when <see cref="HasNotify"/>, else -1.
    /// </summary>
    /// <exception cref="SyscallException">seccomp(2) refused the filter.</exception>
    public int Load()
    {
        ObjectDisposedException.ThrowIf(_program is null, this);
        var prog = new SockFprog { Len = (ushort)Length, Filter = _program };
        var r = RawSys.SeccompSetModeFilter(Flags, &prog);
        if (r < 0) throw new SyscallException($"load the seccomp filter (linux.seccomp, flags 0x{Flags:x})", RawSys.ErrnoValue);
        return HasNotify ? (int)r : -1;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        NativeMemory.Free(_program);
        _program = null;
    }
}
