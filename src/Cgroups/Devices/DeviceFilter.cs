using OciRuntime.Interop;

namespace OciRuntime.Cgroups;

/// <summary>
/// Compiles a <see cref="DeviceState"/> into a BPF_PROG_TYPE_CGROUP_DEVICE program, assembled by hand (the idea of
/// crun's ebpf.c and runc's devicefilter: one block per exception, first match decides). The context is struct
/// bpf_cgroup_dev_ctx { u32 access_type (type | access &lt;&lt; 16); u32 major; u32 minor; }; the program returns 1 to allow.
/// </summary>
public static class DeviceFilter
{
    /// <summary>The license string given to BPF_PROG_LOAD (the program uses no GPL-only helper).</summary>
    public const string License = "Apache";

    // Opcodes (include/uapi/linux/bpf_common.h, bpf.h).
    private const byte LdxMemW = 0x61;      // BPF_LDX | BPF_MEM | BPF_W
    private const byte Alu32AndK = 0x54;    // BPF_ALU | BPF_AND | BPF_K
    private const byte Alu32RshK = 0x74;    // BPF_ALU | BPF_RSH | BPF_K
    private const byte Alu32MovK = 0xb4;    // BPF_ALU | BPF_MOV | BPF_K
    private const byte Alu32MovX = 0xbc;    // BPF_ALU | BPF_MOV | BPF_X
    private const byte Jmp32JneK = 0x56;    // BPF_JMP32 | BPF_JNE | BPF_K
    private const byte Jmp32JeqK = 0x16;    // BPF_JMP32 | BPF_JEQ | BPF_K
    private const byte Jmp32JsetK = 0x46;   // BPF_JMP32 | BPF_JSET | BPF_K
    private const byte Exit = 0x95;         // BPF_JMP | BPF_EXIT

    private const int R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;

    /// <summary>
    /// The program for <paramref name="state"/>. Registers: R2 = device type, R3 = access bits, R4 = major, R5 = minor.
    /// Per exception: skip unless type, major (unless any) and minor (unless any) match; then, on a deny-by-default
    /// cgroup, allow when the requested bits are all in the exception; on an allow-by-default one, deny when they share
    /// a bit. Falling off the end returns the default.
    /// </summary>
    public static BpfInsn[] Compile(DeviceState state)
    {
        var code = new List<BpfInsn>
        {
            BpfInsn.Make(LdxMemW, R2, R1, 0, 0),
            BpfInsn.Make(Alu32AndK, R2, 0, 0, 0xffff),
            BpfInsn.Make(LdxMemW, R3, R1, 0, 0),
            BpfInsn.Make(Alu32RshK, R3, 0, 0, 16),
            BpfInsn.Make(LdxMemW, R4, R1, 4, 0),
            BpfInsn.Make(LdxMemW, R5, R1, 8, 0),
        };
        foreach (var e in state.Exceptions)
        {
            var block = new List<(byte Code, int Dst, int Src, int Imm, bool JumpToNext)>
            {
                (Jmp32JneK, R2, 0, e.Type == 'b' ? Bpf.DEVCG_DEV_BLOCK : Bpf.DEVCG_DEV_CHAR, true),
            };
            if (e.Major >= 0) block.Add((Jmp32JneK, R4, 0, unchecked((int)(uint)e.Major), true));
            if (e.Minor >= 0) block.Add((Jmp32JneK, R5, 0, unchecked((int)(uint)e.Minor), true));
            if (state.DefaultAllow)
            {
                // Deny when (access & e.Access) != 0.
                block.Add((Alu32MovX, R1, R3, 0, false));
                block.Add((Alu32AndK, R1, 0, e.Access, false));
                block.Add((Jmp32JeqK, R1, 0, 0, true));
            }
            else if ((~e.Access & DeviceRule.All) != 0)
            {
                // Allow only when no requested bit is outside e.Access.
                block.Add((Jmp32JsetK, R3, 0, ~e.Access & DeviceRule.All, true));
            }
            block.Add((Alu32MovK, R0, 0, state.DefaultAllow ? 0 : 1, false));
            block.Add((Exit, 0, 0, 0, false));
            for (var i = 0; i < block.Count; i++)
            {
                var (op, dst, src, imm, jump) = block[i];
                code.Add(BpfInsn.Make(op, dst, src, jump ? (short)(block.Count - i - 1) : (short)0, imm));
            }
        }
        code.Add(BpfInsn.Make(Alu32MovK, R0, 0, 0, state.DefaultAllow ? 1 : 0));
        code.Add(BpfInsn.Make(Exit, 0, 0, 0, 0));
        return [.. code];
    }

    /// <summary>
    /// Runs <paramref name="program"/> on one access as the kernel would (an interpreter of the few opcodes
    /// <see cref="Compile"/> emits): lets tests check the program against <see cref="DeviceState.IsAllowed"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">an opcode the compiler never emits.</exception>
    public static bool Run(ReadOnlySpan<BpfInsn> program, int type, uint major, uint minor, int access)
    {
        Span<ulong> r = stackalloc ulong[11];
        Span<uint> ctx = [(uint)(type | (access << 16)), major, minor];
        for (var pc = 0; pc < program.Length; pc++)
        {
            var insn = program[pc];
            int dst = insn.Regs & 0xf, src = insn.Regs >> 4;
            var imm = (uint)insn.Imm;
            switch (insn.Code)
            {
                case LdxMemW: r[dst] = ctx[insn.Off / 4]; break;
                case Alu32AndK: r[dst] = (uint)r[dst] & imm; break;
                case Alu32RshK: r[dst] = (uint)r[dst] >> (int)imm; break;
                case Alu32MovK: r[dst] = imm; break;
                case Alu32MovX: r[dst] = (uint)r[src]; break;
                case Jmp32JneK: if ((uint)r[dst] != imm) pc += insn.Off; break;
                case Jmp32JeqK: if ((uint)r[dst] == imm) pc += insn.Off; break;
                case Jmp32JsetK: if (((uint)r[dst] & imm) != 0) pc += insn.Off; break;
                case Exit: return r[R0] == 1;
                default: throw new InvalidOperationException($"opcode 0x{insn.Code:x2} at {pc}");
            }
        }
        throw new InvalidOperationException("program fell off its end");
    }
}

/// <summary>Loads a device program and attaches it to a cgroup v2 directory, replacing the one attached before.</summary>
public interface IDeviceFilterAttacher
{
    /// <summary>Loads <paramref name="program"/> and attaches it to cgroup directory <paramref name="dir"/>.</summary>
    /// <exception cref="CgroupException">the kernel refused the program or the attach.</exception>
    void Attach(string dir, BpfInsn[] program);
}

/// <summary>
/// The real loader: bpf(BPF_PROG_LOAD) of a BPF_PROG_TYPE_CGROUP_DEVICE program, BPF_PROG_ATTACH to the cgroup
/// directory fd with BPF_F_ALLOW_MULTI, then BPF_PROG_DETACH of the programs attached before (runc's
/// LoadAttachCgroupDeviceFilter order: the cgroup is never left without a filter).
/// </summary>
public sealed class BpfDeviceFilterAttacher : IDeviceFilterAttacher
{
    /// <summary>The instance.</summary>
    public static BpfDeviceFilterAttacher Instance { get; } = new();

    /// <inheritdoc />
    public void Attach(string dir, BpfInsn[] program)
    {
        try
        {
            using var cgroup = SafeFd.Check(Libc.open(dir, OpenFlags.O_DIRECTORY | OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), $"open {dir}");
            var old = Bpf.QueryAttached(cgroup.Fd, Bpf.CGROUP_DEVICE);
            using var prog = Bpf.LoadCgroupDeviceProgram(program, DeviceFilter.License);
            Bpf.Attach(cgroup.Fd, prog.Fd, Bpf.CGROUP_DEVICE, Bpf.F_ALLOW_MULTI);
            foreach (var id in old)
            {
                using var oldFd = Bpf.ProgramFdById(id);
                Bpf.Detach(cgroup.Fd, oldFd.Fd, Bpf.CGROUP_DEVICE);
            }
        }
        catch (SyscallException e)
        {
            throw new CgroupException($"device filter for {dir}: {e.Message}", "linux.resources.devices", e);
        }
    }
}
