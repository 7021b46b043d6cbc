using System.Runtime.InteropServices;
using System.Text.Json;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.State;

/// <summary>A container id that is not in the state root ("container does not exist", as runc says).</summary>
public sealed class ContainerNotFoundException(string id) : Exception($"container does not exist: {id}")
{
    /// <summary>The id asked for.</summary>
    public string Id { get; } = id;
}

/// <summary>
/// A container directory whose state.json cannot be read (truncated, empty, null, not an object, a wrong type): the
/// one-line message names the container and the file. <c>delete --force</c> still removes such a container.
/// </summary>
public sealed class DamagedStateException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// The state root (default /run/ocirun): one directory per container holding state.json and, until <c>start</c>,
/// exec.fifo. Every command that reads or changes a container holds an flock on its directory
/// (<see cref="ContainerDirectory"/>), so two commands on one id never interleave; state.json is replaced
/// atomically (write + fsync + rename). Crash consistency: create writes a first state.json (no init yet, the cgroup
/// directories it is about to make) before its first side effect, so a container whose create was killed at any point
/// is still found, shown as stopped, and removed completely by <c>delete --force</c>; a directory without state.json is
/// what a create killed before that first write leaves (nothing else exists yet): <c>delete --force</c> removes it.
/// Files are written with fixed modes whatever the caller's umask: state.json and the config.json copy 0600 (as runc's
/// state.json), the directory 0700, the exec fifo 0622.
/// A damaged state.json (truncated, emptied or overwritten by something else than ocirun's atomic replace): next to it,
/// the <c>init</c> mark (<see cref="ContainerDirectory.SaveInitMark"/>) names the init by pid and start time, written
/// once when the init exists and read only by <c>delete --force</c> when state.json cannot be, so that it finds and
/// kills the init of a container without cgroups (rootless) or whose cgroups cannot be found.
/// </summary>
public sealed class StateStore(string root)
{
    /// <summary>The state root directory.</summary>
    public string Root { get; } = root.TrimEnd('/') is { Length: > 0 } r ? r : "/";

    /// <summary>Creates and locks the directory of a new container.</summary>
    /// <exception cref="InvalidOperationException">"container with id exists: ID".</exception>
    /// <exception cref="SyscallException">the root or the directory cannot be made.</exception>
    public ContainerDirectory Create(string id)
    {
        Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = Path.Combine(Root, id);
        if (Libc.mkdirat(OpenFlags.AT_FDCWD, path, 0x1c0 /* 0700 */) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            // A directory without state.json (a create killed before its first record) is an id in use too, until
            // delete --force removes it: removing it here could race with a create that has not locked it yet.
            if (errno == Errno.EEXIST) throw new InvalidOperationException($"container with id exists: {id}");
            throw new SyscallException($"create state directory {path}", errno);
        }
        ContainerDirectory dir;
        try
        {
            dir = ContainerDirectory.OpenLocked(id, path);
        }
        catch
        {
            Directory.Delete(path, recursive: true);
            throw;
        }
        // mkdir's mode went through the umask: 0700 whatever it is (after the lock, to keep mkdir-to-lock short).
        dir.FixMode(0x1c0);
        return dir;
    }

    /// <summary>Opens and locks the directory of an existing container.</summary>
    /// <param name="id">The container id.</param>
    /// <param name="incomplete">
    /// Also return a directory without state.json (what a create killed before its first record leaves; see
    /// <see cref="ContainerDirectory.HasState"/>): <c>delete --force</c> removes it.
    /// </param>
    /// <exception cref="ContainerNotFoundException">no such container (or it vanished while we waited for the lock).</exception>
    public ContainerDirectory Open(string id, bool incomplete = false)
    {
        var path = Path.Combine(Root, id);
        ContainerDirectory dir;
        try
        {
            dir = ContainerDirectory.OpenLocked(id, path);
        }
        catch (SyscallException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            throw new ContainerNotFoundException(id);
        }
        if (!incomplete && !dir.HasState)
        {
            // Removed by a concurrent delete while we waited, or a create that has not finished.
            dir.Dispose();
            throw new ContainerNotFoundException(id);
        }
        return dir;
    }

    /// <summary>
    /// Reads a container's state.json without taking its lock (for <c>list</c>, which, like runc's, must not wait for a
    /// create or delete in progress): state.json is only ever replaced whole (rename), so a reader sees the old or the
    /// new record. Null when the container is gone or its create has not written state.json yet.
    /// </summary>
    /// <exception cref="DamagedStateException">state.json is damaged.</exception>
    public ContainerRecord? TryReadRecord(string id)
    {
        var file = Path.Combine(Root, id, "state.json");
        byte[] bytes;
        try
        {
            bytes = Libc.ReadFileBytes(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        return ContainerDirectory.ParseRecord(id, file, bytes);
    }

    /// <summary>Ids of all containers in the root, sorted.</summary>
    public IReadOnlyList<string> List()
    {
        if (!Directory.Exists(Root)) return [];
        var ids = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(Root)) ids.Add(Path.GetFileName(dir));
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }
}

/// <summary>A locked container directory under the state root.</summary>
public sealed class ContainerDirectory : IDisposable
{
    private readonly SafeFd _lock;

    private ContainerDirectory(string id, string path, SafeFd lockFd)
    {
        Id = id;
        Path = path;
        _lock = lockFd;
    }

    /// <summary>The container id.</summary>
    public string Id { get; }

    /// <summary>The directory path.</summary>
    public string Path { get; }

    /// <summary>state.json.</summary>
    public string StateFile => Path + "/state.json";

    /// <summary>The validated config.json the container was created from (exec defaults, hooks after create).</summary>
    public string ConfigFile => Path + "/config.json";

    /// <summary>The exec fifo: present from create until start.</summary>
    public string ExecFifo => Path + "/exec.fifo";

    /// <summary>The init mark's name in the directory (<see cref="SaveInitMark"/>).</summary>
    public const string InitMarkName = "init";

    /// <summary>The init mark: a symlink whose target is "PID:STARTTIME" (<see cref="SaveInitMark"/>).</summary>
    public string InitMarkFile => Path + "/" + InitMarkName;

    private bool OnMemoryFilesystem => Libc.FsType(_lock.Fd) is FsMagic.Tmpfs or FsMagic.Ramfs;

    internal static ContainerDirectory OpenLocked(string id, string path)
    {
        var fd = SafeFd.Check(Libc.open(path, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC), $"open {path}");
        while (Libc.flock(fd.Fd, OpenFlags.LOCK_EX) != 0)
        {
            if (Marshal.GetLastPInvokeError() == Errno.EINTR) continue;
            var e = SyscallException.FromLastError($"lock {path}");
            fd.Dispose();
            throw e;
        }
        return new ContainerDirectory(id, path, fd);
    }

    internal void FixMode(uint mode) => Libc.Check(Libc.fchmod(_lock.Fd, mode), $"chmod {Path}");

    /// <summary>Whether state.json exists (false only for what a create killed before its first record leaves).</summary>
    public bool HasState => File.Exists(StateFile);

    /// <summary>
    /// Writes state.json atomically (temp file, rename; fsync first unless the state root is on tmpfs or ramfs,
    /// like the default /run/ocirun, where it would only cost time: such a root does not survive a crash anyway).
    /// Mode 0600 whatever the umask, as runc's.
    /// </summary>
    public void Save(ContainerRecord record) => WriteAtomically(StateFile, RuntimeJson.Write(record));

    /// <summary>Keeps a copy of the container's config.json (mode 0600, written atomically).</summary>
    public void SaveConfig(byte[] config) => WriteAtomically(ConfigFile, config);

    // Temp file (mode fixed by fchmod: the open's mode goes through the umask, and a leftover temp file keeps its own), rename.
    private void WriteAtomically(string file, ReadOnlySpan<byte> bytes)
    {
        var tmp = file + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            File.SetUnixFileMode(stream.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            stream.Write(bytes);
            stream.Flush(flushToDisk: !OnMemoryFilesystem);
        }
        File.Move(tmp, file, overwrite: true);
    }

    /// <summary>
    /// Writes the init mark, a second record of the init's pid and start time (/proc/&lt;pid&gt;/stat field 22) beside
    /// state.json, for <c>delete --force</c> to find the init when state.json is damaged (<see cref="LoadInitMark"/>).
    /// A symlink whose target is "PID:STARTTIME": made whole by one symlinkat(2), never torn, truncated or half-renamed
    /// as a written file could be, and no more than one syscall on create's path (no temp file, rename or fsync: the
    /// processes it names do not outlive a crash of the machine). Written once: a container's init never changes.
    /// </summary>
    /// <exception cref="SyscallException">the symlink cannot be made.</exception>
    public void SaveInitMark(int pid, ulong startTime)
    {
        var target = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{pid}:{startTime}");
        if (Libc.symlinkat(target, _lock.Fd, InitMarkName) == 0) return;
        var errno = Marshal.GetLastPInvokeError();
        // Only a directory reused by restore could hold one already: replace it.
        if (errno != Errno.EEXIST || Libc.unlinkat(_lock.Fd, InitMarkName, 0) != 0 || Libc.symlinkat(target, _lock.Fd, InitMarkName) != 0)
            throw new SyscallException($"symlink {InitMarkFile}", errno == Errno.EEXIST ? Marshal.GetLastPInvokeError() : errno);
    }

    /// <summary>
    /// The init's pid and start time from the init mark (<see cref="SaveInitMark"/>), or null when there is none (a
    /// container made by an ocirun before the mark, or by a create that stopped before its init existed) or it is not one
    /// ocirun wrote. A pid only: whether that process is still the init is the caller's to check (the start time).
    /// </summary>
    public unsafe (int Pid, ulong StartTime)? LoadInitMark()
    {
        const int size = 64;
        byte* buf = stackalloc byte[size];
        var n = Libc.readlinkat(_lock.Fd, InitMarkName, buf, size);
        if (n <= 0 || n >= size) return null;
        var text = new ReadOnlySpan<byte>(buf, (int)n);
        var colon = text.IndexOf((byte)':');
        if (colon <= 0) return null;
        if (!System.Buffers.Text.Utf8Parser.TryParse(text[..colon], out int pid, out var used) || used != colon || pid <= 0) return null;
        var rest = text[(colon + 1)..];
        if (!System.Buffers.Text.Utf8Parser.TryParse(rest, out ulong start, out used) || used != rest.Length || rest.Length == 0) return null;
        return (pid, start);
    }

    /// <summary>The container's config.json as created.</summary>
    /// <exception cref="OciRuntime.Spec.SpecException">the copy is damaged.</exception>
    public OciRuntime.Spec.Spec LoadConfig() => OciRuntime.Spec.SpecSerializer.Load(ConfigFile);

    /// <summary>Reads state.json.</summary>
    /// <exception cref="DamagedStateException">state.json is damaged.</exception>
    /// <exception cref="ContainerNotFoundException">state.json is gone (see <see cref="StateStore.Open"/>'s incomplete).</exception>
    public ContainerRecord Load()
    {
        byte[] bytes;
        try
        {
            bytes = Libc.ReadFileBytes(StateFile);
        }
        catch (FileNotFoundException)
        {
            throw new ContainerNotFoundException(Id);
        }
        return ParseRecord(Id, StateFile, bytes);
    }

    internal static ContainerRecord ParseRecord(string id, string file, byte[] bytes)
    {
        try
        {
            var record = RuntimeJson.ReadRecord(bytes);
            if (record.Id != id) throw new OciRuntime.Spec.SpecException("state.json", "id", $"\"{record.Id}\" is not the container's id");
            // Every record has these from its first write on: without them it is not one ocirun wrote.
            if (record.Bundle.Length == 0) throw new OciRuntime.Spec.SpecException("state.json", "bundle", "is required");
            if (record.Created == default) throw new OciRuntime.Spec.SpecException("state.json", "created", "is required");
            return record;
        }
        catch (OciRuntime.Spec.SpecException e)
        {
            throw new DamagedStateException($"container {id}: damaged state {file}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Removes the directory and everything in it, state.json last (the lock is held until <see cref="Dispose"/>): a
    /// delete killed half-way leaves a directory that is still found, or none.
    /// </summary>
    public void Remove()
    {
        if (!Directory.Exists(Path)) return;
        // The init mark by name: one unlinkat, not the stat + lstat + unlink of an entry found by the loop.
        _ = Libc.unlinkat(_lock.Fd, InitMarkName, 0);
        foreach (var entry in Directory.EnumerateFileSystemEntries(Path))
        {
            if (entry == StateFile) continue;
            if (Directory.Exists(entry) && !File.GetAttributes(entry).HasFlag(FileAttributes.ReparsePoint)) Directory.Delete(entry, recursive: true);
            else File.Delete(entry);
        }
        File.Delete(StateFile);
        Directory.Delete(Path);
    }

    /// <inheritdoc />
    public void Dispose() => _lock.Dispose();
}
