using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Interop;
using OciRuntime.Spec;
using OciRuntime.Spec.Json;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// Compiled seccomp programs kept in ocirun's own cache directory (<see cref="DefaultDirectory"/>: /run/ocirun-cache,
/// rootless $XDG_RUNTIME_DIR/ocirun-cache; never a client's --root), so that the profile every container of an engine shares
/// (Docker's default, 434 syscall names) is compiled by libseccomp once, not once per container (~20-40 ms each).
/// </summary>
/// <remarks>
/// One file per profile: <c>DIR/.seccomp-HASH.bpf</c>, at most <see cref="MaxEntries"/> files of at most
/// <see cref="MaxFileBytes"/> each (the oldest go first), so the directory never holds more than 16 MiB.
/// The file holds the identity it was compiled for — the profile's JSON, the kernel release, the machine and ocirun's
/// version — and is used only when that identity matches byte for byte, so the 64-bit FNV-1a name is only an index
/// (a collision costs a compile, never a wrong filter; and no crypto library is loaded on this path). The state root is
/// normally a tmpfs (/run/ocirun), so a reboot starts empty anyway. A file is only used if this user owns it and nobody
/// else can write it, and if it is well formed. Files are written to a temporary name and renamed.
/// </remarks>
public static class SeccompCache
{
    private const uint Magic = 0x42534f43; // "COSB"
    private const uint FormatVersion = 3; // 3: the -ENOSYS stub (SeccompEnosysStub) in front of the program
    private const int HeaderSize = 20; // magic, version, flags, instruction count, identity length

    /// <summary>At most this many programs are kept; writing one more removes the oldest (by modification time).</summary>
    public const int MaxEntries = 16;

    /// <summary>A program whose cache file (header, identity, instructions) would be larger is not cached.</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>Environment variable naming another cache directory; set and empty: no cache.</summary>
    public const string DirectoryVariable = "OCIRUN_SECCOMP_CACHE";

    /// <summary>
    /// Where ocirun keeps its compiled programs: $OCIRUN_SECCOMP_CACHE when set (empty = no cache), else /run/ocirun-cache
    /// for root, else $XDG_RUNTIME_DIR/ocirun-cache (rootless), else none. Not the state root: that directory belongs
    /// to the client (containerd's runtime root of a namespace), and must hold containers only.
    /// </summary>
    public static string? DefaultDirectory(bool rootless)
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { } configured) return configured.Length > 0 ? configured : null;
        if (!rootless && Libc.geteuid() == 0) return "/run/ocirun-cache";
        return Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg ? Path.Combine(xdg, "ocirun-cache") : null;
    }

    /// <summary>The filter of <paramref name="config"/>, from the cache under <paramref name="root"/> or compiled (and then cached).</summary>
    /// <param name="config">linux.seccomp.</param>
    /// <param name="root">The cache directory (<see cref="DefaultDirectory"/>); null = no cache.</param>
    /// <param name="hit">Whether the cache answered.</param>
    /// <exception cref="InitException">compiling failed (the message names the field).</exception>
    public static SeccompFilter GetOrBuild(LinuxSeccomp config, string? root, out bool hit)
    {
        hit = false;
        var identity = Identity(config);
        var path = root is null ? null : Path.Combine(root, $".seccomp-{Fnv1a64(identity):x16}.bpf");
        if (path is not null && TryRead(path, identity) is { } cached)
        {
            hit = true;
            return cached;
        }
        var filter = SeccompFilter.Build(config);
        if (path is not null) TryWrite(path, identity, filter);
        return filter;
    }

    /// <summary>
    /// What a compiled program depends on: the profile's JSON and the host (kernel release, machine, and the ocirun build:
    /// version and commit, so that a rebuilt ocirun never loads a program an older compiler made).
    /// </summary>
    public static byte[] Identity(LinuxSeccomp config)
    {
        // The generated writer, byte for byte what SpecJsonContext.Default writes (tabs, default encoder), without its metadata cost.
        var json = FastJson.Write(config, FastJson.WriterOptions(indented: true, '\t', 1, relaxed: false), SpecFastJson.WriteLinuxSeccomp);
        var host = Encoding.UTF8.GetBytes($"\n{FormatVersion}\n{KernelRelease()}\n{RuntimeInformation.ProcessArchitecture}\n{BuildInfo.Version}\n{BuildInfo.Commit}");
        return [.. json, .. host];
    }

    /// <summary>64-bit FNV-1a.</summary>
    public static ulong Fnv1a64(ReadOnlySpan<byte> data)
    {
        var h = 0xcbf29ce484222325UL;
        foreach (var b in data) h = (h ^ b) * 0x100000001b3UL;
        return h;
    }

    private static string KernelRelease()
    {
        try
        {
            return Libc.ReadFileText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static unsafe SeccompFilter? TryRead(string path, byte[] identity)
    {
        var fd = Libc.open(path, OpenFlags.O_RDONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC);
        if (fd < 0) return null;
        using var file = new SafeFd(fd);
        try
        {
            var owner = Libc.StatFd(file.Fd);
            if (owner.Uid != Libc.geteuid() || (owner.Mode & 0x12) != 0 /* group/other writable */) return null;
            var size = Libc.Check(Libc.lseek(file.Fd, 0, Libc.SEEK_END), path);
            var programBytes = size - HeaderSize - identity.Length;
            if (programBytes <= 0 || programBytes % 8 != 0 || programBytes > 8 * SeccompKernel.BPF_MAXINSNS) return null;
            var bytes = new byte[size];
            fixed (byte* p = bytes)
            {
                long got = 0;
                while (got < bytes.Length)
                {
                    var n = Libc.pread(file.Fd, p + got, (nuint)(bytes.Length - got), got);
                    if (n <= 0) return null;
                    got += n;
                }
            }
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)) != FormatVersion) return null;
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
            var identityLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16));
            if (identityLength != identity.Length || !bytes.AsSpan(HeaderSize, identityLength).SequenceEqual(identity)) return null;
            if ((long)length * 8 != bytes.Length - HeaderSize - identityLength) return null;
            return SeccompFilter.FromProgram(bytes.AsSpan(HeaderSize + identityLength), flags);
        }
        catch (Exception e) when (e is SyscallException or InitException)
        {
            return null;
        }
    }

    private static void TryWrite(string path, byte[] identity, SeccompFilter filter)
    {
        var program = filter.ToBytes();
        if ((long)HeaderSize + identity.Length + program.Length > MaxFileBytes) return;
        var bytes = new byte[HeaderSize + identity.Length + program.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), filter.Flags);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), filter.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), identity.Length);
        identity.CopyTo(bytes.AsSpan(HeaderSize));
        program.CopyTo(bytes.AsSpan(HeaderSize + identity.Length));
        var tmp = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using (var fd = SafeFd.Check(Libc.open(tmp, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC, 0x180), $"create {tmp}"))
            {
                Libc.WriteAll(fd.Fd, bytes, tmp);
            }
            File.Move(tmp, path, overwrite: true);
            Prune(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A cache is an optimisation: a read-only or full directory only costs the next container a compile.
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    // Keeps the MaxEntries newest programs (and removes temporary files a killed writer left, once they are a minute old).
    private static void Prune(string dir)
    {
        var entries = new List<FileInfo>();
        foreach (var f in new DirectoryInfo(dir).EnumerateFiles(".seccomp-*"))
        {
            if (f.Name.EndsWith(".bpf", StringComparison.Ordinal)) entries.Add(f);
            else if (f.LastWriteTimeUtc < DateTime.UtcNow.AddMinutes(-1)) f.Delete();
        }
        if (entries.Count <= MaxEntries) return;
        entries.Sort(static (a, b) => b.LastWriteTimeUtc.CompareTo(a.LastWriteTimeUtc));
        for (var i = MaxEntries; i < entries.Count; i++) entries[i].Delete();
    }
}
