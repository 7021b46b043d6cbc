using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// runc's "-ENOSYS stub" (libcontainer/seccomp/patchbpf): BPF prepended to the compiled filter so that a syscall newer
/// than every syscall the profile names gets ENOSYS instead of the default action. A program that probes a new syscall
/// (glibc's clone3, then clone; statx, faccessat2, close_range…) falls back only on ENOSYS: with EPERM (Docker's default
/// action) it fails outright.
/// </summary>
/// <remarks>
/// As runc: only when the default action is not permissive (not SCMP_ACT_ALLOW, SCMP_ACT_LOG or SCMP_ACT_TRACE) and
/// defaultErrnoRet is not ENOSYS already; only for the architectures linux.seccomp.architectures lists; "newer" means a
/// number above the largest one any syscalls[].names entry has on that architecture (unknown names ignored). On x86_64
/// the x32 ABI (bit 30 of the number) is told apart: each ABI is compared with its own largest number, an ABI not
/// listed falls through to the filter. Layout: <c>ld arch; jeq ARCH → its section; …; ja filter;</c> per section
/// <c>ld nr; [jset x32 bit]; jgt MAX → enosys; ja filter;</c> then <c>enosys: ret ERRNO(ENOSYS)</c>, then the filter.
/// </remarks>
internal static class SeccompEnosysStub
{
    private const ushort LdAbsW = 0x20, Ja = 0x05, Jeq = 0x15, Jgt = 0x25, Jset = 0x45, Ret = 0x06;
    private const uint RetErrno = 0x00050000, Enosys = 38, X32Bit = 0x40000000;
    private const uint AuditArchX86_64 = 0xc000003e;

    /// <summary>The stub for <paramref name="config"/>; empty when runc would add none.</summary>
    /// <param name="config">linux.seccomp.</param>
    /// <param name="defaultAction">Its default action as libseccomp encodes it.</param>
    public static SockFilter[] For(LinuxSeccomp config, uint defaultAction)
    {
        if (config.DefaultErrnoRet == Enosys) return [];
        if (defaultAction is Libseccomp.SCMP_ACT_ALLOW or Libseccomp.SCMP_ACT_LOG || (defaultAction & 0xffff0000) == 0x7ff00000 /* TRACE */) return [];

        // AUDIT_ARCH → (largest native number, largest x32 number); libseccomp's tokens are the AUDIT_ARCH values,
        // except x32's, whose filters run under AUDIT_ARCH_X86_64.
        var x32Token = Libseccomp.seccomp_arch_resolve_name("x32");
        var sections = new List<(uint Arch, uint Max, uint X32Max)>();
        foreach (var name in config.Architectures ?? [])
        {
            var token = Libseccomp.seccomp_arch_resolve_name(SeccompFilter.ArchName(name));
            if (token == 0) continue;
            var max = Largest(config, token);
            if (max == 0) continue;
            var arch = token == x32Token ? AuditArchX86_64 : token;
            var at = sections.FindIndex(s => s.Arch == arch);
            var entry = at >= 0 ? sections[at] : (arch, 0u, 0u);
            if (token == x32Token) entry.Item3 = Math.Max(entry.Item3, max);
            else entry.Item2 = Math.Max(entry.Item2, max);
            if (at >= 0) sections[at] = entry;
            else sections.Add(entry);
        }
        if (sections.Count == 0) return [];

        // Built with absolute targets, then turned into relative jumps (all forward, all short: the stub is small).
        var code = new List<(ushort Code, int Jt, int Jf, uint K)>();
        const int Filter = -1, EnosysTarget = -2;
        code.Add((LdAbsW, 0, 0, 4)); // seccomp_data.arch
        var archJumps = new List<int>();
        foreach (var s in sections)
        {
            archJumps.Add(code.Count);
            code.Add((Jeq, 0 /* patched */, code.Count + 1, s.Arch));
        }
        code.Add((Ja, Filter, 0, 0));
        for (var i = 0; i < sections.Count; i++)
        {
            var s = sections[i];
            var start = code.Count;
            var j = archJumps[i];
            code[j] = (Jeq, start, code[j].Jf, s.Arch);
            code.Add((LdAbsW, 0, 0, 0)); // seccomp_data.nr
            var x86_64 = s.Arch == AuditArchX86_64;
            if (!x86_64 || s.X32Max == 0)
            {
                // x86_64 without x32: an x32 number falls through to the filter.
                if (x86_64) code.Add((Jset, Filter, code.Count + 1, X32Bit));
                code.Add((Jgt, EnosysTarget, code.Count + 1, s.Max));
                code.Add((Ja, Filter, 0, 0));
            }
            else if (s.Max == 0)
            {
                code.Add((Jset, code.Count + 1, Filter, X32Bit));
                code.Add((Jgt, EnosysTarget, code.Count + 1, s.X32Max));
                code.Add((Ja, Filter, 0, 0));
            }
            else
            {
                var at = code.Count;
                code.Add((Jset, at + 3, at + 1, X32Bit));
                code.Add((Jgt, EnosysTarget, at + 2, s.Max));
                code.Add((Ja, Filter, 0, 0));
                code.Add((Jgt, EnosysTarget, at + 4, s.X32Max));
                code.Add((Ja, Filter, 0, 0));
            }
        }
        var enosys = code.Count;
        code.Add((Ret, 0, 0, RetErrno | Enosys));
        var filter = code.Count;

        int Resolve(int target) => target == Filter ? filter : target == EnosysTarget ? enosys : target;
        var program = new SockFilter[code.Count];
        for (var pc = 0; pc < code.Count; pc++)
        {
            var (op, jt, jf, k) = code[pc];
            if (op == Ja)
            {
                program[pc] = new SockFilter { Code = op, K = (uint)(Resolve(jt) - pc - 1) };
                continue;
            }
            if (op is Jeq or Jgt or Jset)
            {
                var t = Resolve(jt) - pc - 1;
                var f = Resolve(jf) - pc - 1;
                if (t is < 0 or > 255 || f is < 0 or > 255) throw new InvalidOperationException("seccomp ENOSYS stub: jump out of range");
                program[pc] = new SockFilter { Code = op, Jt = (byte)t, Jf = (byte)f, K = k };
                continue;
            }
            program[pc] = new SockFilter { Code = op, K = k };
        }
        return program;
    }

    // The largest number any syscalls[].names entry has on the architecture; 0 when none is known there.
    private static uint Largest(LinuxSeccomp config, uint token)
    {
        uint max = 0;
        foreach (var rule in config.Syscalls ?? [])
        {
            foreach (var name in rule.Names)
            {
                var nr = Libseccomp.seccomp_syscall_resolve_name_arch(token, name);
                if (nr >= 0 && (uint)nr > max) max = (uint)nr;
            }
        }
        return max;
    }
}
