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
/// The state root (default /run/ocirun): one directory per container holding state.json and, until <c>start</c>,
/// exec.fifo. Every command that reads or changes a container holds an flock on its directory
/// (<see cref="ContainerDirectory"/>), so two commands on one id never interleave; state.json is replaced
/// atomically (write + fsync + rename).
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
            if (errno == Errno.EEXIST) throw new InvalidOperationException($"container with id exists: {id}");
            throw new SyscallException($"create state directory {path}", errno);
        }
        try
        {
            return ContainerDirectory.OpenLocked(id, path);
        }
        catch
        {
            Directory.Delete(path, recursive: true);
            throw;
        }
    }

    /// <summary>Opens and locks the directory of an existing container.</summary>
    /// <exception cref="ContainerNotFoundException">no such container (or it vanished while we waited for the lock).</exception>
    public ContainerDirectory Open(string id)
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
        if (!File.Exists(dir.StateFile))
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
    /// <exception cref="InvalidDataException">state.json is damaged.</exception>
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
        return ContainerDirectory.ParseRecord(file, bytes);
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

    /// <summary>
    /// Writes state.json atomically (temp file, rename; fsync first unless the state root is on tmpfs or ramfs,
    /// like the default /run/ocirun, where it would only cost time: such a root does not survive a crash anyway).
    /// </summary>
    public void Save(ContainerRecord record)
    {
        var tmp = StateFile + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            stream.Write(RuntimeJson.Write(record));
            stream.Flush(flushToDisk: !OnMemoryFilesystem);
        }
        File.Move(tmp, StateFile, overwrite: true);
    }

    /// <summary>Keeps a copy of the container's config.json.</summary>
    public void SaveConfig(byte[] config) => File.WriteAllBytes(ConfigFile, config);

    /// <summary>The container's config.json as created.</summary>
    /// <exception cref="OciRuntime.Spec.SpecException">the copy is damaged.</exception>
    public OciRuntime.Spec.Spec LoadConfig() => OciRuntime.Spec.SpecSerializer.Load(ConfigFile);

    /// <summary>Reads state.json.</summary>
    /// <exception cref="InvalidDataException">state.json is damaged.</exception>
    public ContainerRecord Load() => ParseRecord(StateFile, Libc.ReadFileBytes(StateFile));

    internal static ContainerRecord ParseRecord(string file, byte[] bytes)
    {
        try
        {
            return RuntimeJson.ReadRecord(bytes);
        }
        catch (OciRuntime.Spec.SpecException e)
        {
            throw new InvalidDataException($"{file}: damaged state: {e.Message}", e);
        }
    }

    /// <summary>Removes the directory and everything in it (the lock is held until <see cref="Dispose"/>).</summary>
    public void Remove()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }

    /// <inheritdoc />
    public void Dispose() => _lock.Dispose();
}
