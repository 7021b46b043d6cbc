using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>One eBPF instruction (struct bpf_insn, 8 bytes): opcode, dst/src registers, offset, immediate.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BpfInsn
{
    /// <summary>Opcode (class | size/op | mode/source).</summary>
    public byte Code;

    /// <summary>dst_reg in the low nibble, src_reg in the high nibble.</summary>
    public byte Regs;

    /// <summary>Signed offset (jump distance in instructions, or memory offset).</summary>
    public short Off;

    /// <summary>Signed 32-bit immediate.</summary>
    public int Imm;

    /// <summary>Builds an instruction.</summary>
    public static BpfInsn Make(byte code, int dst, int src, short off, int imm) =>
        new() { Code = code, Regs = (byte)((dst & 0xf) | ((src & 0xf) << 4)), Off = off, Imm = imm };
}

/// <summary>bpf(2) constants (include/uapi/linux/bpf.h).</summary>
public static class Bpf
{
    /// <summary>BPF_PROG_LOAD.</summary>
    public const int PROG_LOAD = 5;
    /// <summary>BPF_PROG_ATTACH.</summary>
    public const int PROG_ATTACH = 8;
    /// <summary>BPF_PROG_DETACH.</summary>
    public const int PROG_DETACH = 9;
    /// <summary>BPF_PROG_GET_FD_BY_ID.</summary>
    public const int PROG_GET_FD_BY_ID = 13;
    /// <summary>BPF_PROG_QUERY.</summary>
    public const int PROG_QUERY = 16;

    /// <summary>BPF_PROG_TYPE_CGROUP_DEVICE.</summary>
    public const uint PROG_TYPE_CGROUP_DEVICE = 15;
    /// <summary>BPF_CGROUP_DEVICE attach type.</summary>
    public const uint CGROUP_DEVICE = 6;
    /// <summary>BPF_F_ALLOW_MULTI: several programs may be attached to the cgroup; all must allow.</summary>
    public const uint F_ALLOW_MULTI = 2;

    /// <summary>BPF_DEVCG_ACC_MKNOD (bpf_cgroup_dev_ctx.access_type, upper 16 bits).</summary>
    public const int DEVCG_ACC_MKNOD = 1;
    /// <summary>BPF_DEVCG_ACC_READ.</summary>
    public const int DEVCG_ACC_READ = 2;
    /// <summary>BPF_DEVCG_ACC_WRITE.</summary>
    public const int DEVCG_ACC_WRITE = 4;
    /// <summary>BPF_DEVCG_DEV_BLOCK (bpf_cgroup_dev_ctx.access_type, lower 16 bits).</summary>
    public const int DEVCG_DEV_BLOCK = 1;
    /// <summary>BPF_DEVCG_DEV_CHAR.</summary>
    public const int DEVCG_DEV_CHAR = 2;

    private static long SyscallNumber => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 280 : 321;

    // bpf(2) is not in Tmds.LibC 0.5.0: it goes through LibC.syscall.
    private static unsafe int Call(int cmd, Span<byte> attr)
    {
        fixed (byte* p = attr) return (int)Libc.Result(LibC.syscall(Libc.Arg(SyscallNumber), cmd, p, attr.Length));
    }

    /// <summary>
    /// BPF_PROG_LOAD of a BPF_PROG_TYPE_CGROUP_DEVICE program; returns the program fd. On a verifier refusal the
    /// exception message carries the verifier log.
    /// </summary>
    /// <exception cref="SyscallException">the kernel refused the program.</exception>
    public static unsafe SafeFd LoadCgroupDeviceProgram(ReadOnlySpan<BpfInsn> program, string license)
    {
        var licenseBytes = new byte[System.Text.Encoding.ASCII.GetByteCount(license) + 1];
        System.Text.Encoding.ASCII.GetBytes(license, licenseBytes);
        var log = new byte[64 * 1024];
        Span<byte> attr = stackalloc byte[128];
        for (var attempt = 0; attempt < 2; attempt++)
        {
            attr.Clear();
            fixed (BpfInsn* insns = program)
            fixed (byte* lic = licenseBytes)
            fixed (byte* logBuf = log)
            {
                MemoryMarshal.Write(attr[0..], PROG_TYPE_CGROUP_DEVICE);
                MemoryMarshal.Write(attr[4..], (uint)program.Length);
                MemoryMarshal.Write(attr[8..], (ulong)insns);
                MemoryMarshal.Write(attr[16..], (ulong)lic);
                if (attempt == 1)
                {
                    MemoryMarshal.Write(attr[24..], 1u); // log_level
                    MemoryMarshal.Write(attr[28..], (uint)log.Length);
                    MemoryMarshal.Write(attr[32..], (ulong)logBuf);
                }
                "ocirun_dev"u8.CopyTo(attr[48..]); // prog_name
                var fd = Call(PROG_LOAD, attr);
                if (fd >= 0) return new SafeFd(fd);
            }
            var errno = Marshal.GetLastPInvokeError();
            if (attempt == 1 || errno is Errno.EPERM or Errno.ENOSYS)
            {
                var text = System.Text.Encoding.ASCII.GetString(log).TrimEnd('\0').Trim();
                throw new SyscallException(text.Length > 0 ? $"bpf BPF_PROG_LOAD (verifier: {text.ReplaceLineEndings("; ")})" : "bpf BPF_PROG_LOAD", errno);
            }
        }
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>BPF_PROG_ATTACH of <paramref name="programFd"/> to the cgroup v2 directory <paramref name="cgroupFd"/>.</summary>
    /// <exception cref="SyscallException">the attach failed.</exception>
    public static void Attach(int cgroupFd, int programFd, uint attachType, uint flags)
    {
        Span<byte> attr = stackalloc byte[32];
        attr.Clear();
        MemoryMarshal.Write(attr[0..], (uint)cgroupFd);
        MemoryMarshal.Write(attr[4..], (uint)programFd);
        MemoryMarshal.Write(attr[8..], attachType);
        MemoryMarshal.Write(attr[12..], flags);
        if (Call(PROG_ATTACH, attr) < 0) throw SyscallException.FromLastError("bpf BPF_PROG_ATTACH");
    }

    /// <summary>BPF_PROG_DETACH of <paramref name="programFd"/> from the cgroup directory <paramref name="cgroupFd"/>.</summary>
    /// <exception cref="SyscallException">the detach failed.</exception>
    public static void Detach(int cgroupFd, int programFd, uint attachType)
    {
        Span<byte> attr = stackalloc byte[32];
        attr.Clear();
        MemoryMarshal.Write(attr[0..], (uint)cgroupFd);
        MemoryMarshal.Write(attr[4..], (uint)programFd);
        MemoryMarshal.Write(attr[8..], attachType);
        if (Call(PROG_DETACH, attr) < 0) throw SyscallException.FromLastError("bpf BPF_PROG_DETACH");
    }

    /// <summary>BPF_PROG_QUERY: ids of the programs attached directly to <paramref name="cgroupFd"/> for <paramref name="attachType"/>.</summary>
    /// <exception cref="SyscallException">the query failed.</exception>
    public static unsafe uint[] QueryAttached(int cgroupFd, uint attachType)
    {
        var ids = new uint[64];
        Span<byte> attr = stackalloc byte[40];
        attr.Clear();
        fixed (uint* p = ids)
        {
            MemoryMarshal.Write(attr[0..], (uint)cgroupFd);
            MemoryMarshal.Write(attr[4..], attachType);
            MemoryMarshal.Write(attr[16..], (ulong)p);
            MemoryMarshal.Write(attr[24..], (uint)ids.Length);
            if (Call(PROG_QUERY, attr) < 0) throw SyscallException.FromLastError("bpf BPF_PROG_QUERY");
        }
        var count = MemoryMarshal.Read<uint>(attr[24..]);
        return ids[..(int)Math.Min(count, (uint)ids.Length)];
    }

    /// <summary>BPF_PROG_GET_FD_BY_ID: an fd of the loaded program <paramref name="id"/>.</summary>
    /// <exception cref="SyscallException">no such program, or not permitted.</exception>
    public static SafeFd ProgramFdById(uint id)
    {
        Span<byte> attr = stackalloc byte[16];
        attr.Clear();
        MemoryMarshal.Write(attr[0..], id);
        var fd = Call(PROG_GET_FD_BY_ID, attr);
        return fd < 0 ? throw SyscallException.FromLastError($"bpf BPF_PROG_GET_FD_BY_ID {id}") : new SafeFd(fd);
    }
}
