using System.Runtime.InteropServices;
using OciRuntime.Interop;
using OciRuntime.Runtime.Init;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// Idmapped bind mounts (runtime-spec 1.2: a mount's <c>uidMappings</c>/<c>gidMappings</c> and the <c>idmap</c>/<c>ridmap</c>
/// options), prepared by the runtime on the host side before the init is cloned: open_tree(OPEN_TREE_CLONE) of the
/// source makes a detached copy of the mount, mount_setattr(MOUNT_ATTR_IDMAP) idmaps it with a user namespace holding
/// the mount's maps (<see cref="MappedUserNamespace"/>), and the init inherits the detached mount's fd and attaches it
/// with move_mount at the destination (<see cref="InitOptions.MountFds"/>). The kernel lets only a caller privileged over
/// the source filesystem's user namespace idmap a mount: a container init in its own user namespace never is, which is
/// why this half runs in the runtime. See docs/process-model.md, "Idmapped mounts".
/// </summary>
public sealed class IdmappedMounts : IDisposable
{
    private const int EOPNOTSUPP = 95;
    private readonly List<SafeFd> _fds = [];
    private readonly int[]? _byMount;

    private IdmappedMounts(int mountCount) => _byMount = mountCount > 0 ? Filled(mountCount) : null;

    private static int[] Filled(int count)
    {
        var a = new int[count];
        Array.Fill(a, -1);
        return a;
    }

    /// <summary>No idmapped mounts.</summary>
    public static IdmappedMounts None { get; } = new(0);

    /// <summary>The detached, idmapped mounts (to be inherited by the init at the same numbers).</summary>
    public IReadOnlyList<SafeFd> Fds => _fds;

    /// <summary>For each entry of config.json's mounts, the fd of its idmapped copy or -1; null when there is none.</summary>
    public int[]? FdByMount => _fds.Count > 0 ? _byMount : null;

    /// <summary>True when the mount asks to be idmapped: the idmap or ridmap option, or mappings of its own.</summary>
    public static bool IsIdmapped(Mount mount) =>
        mount.UidMappings is not null || mount.GidMappings is not null || MountOptions.Parse(mount.Options).IdMap;

    /// <summary>
    /// Prepares every idmapped mount of <paramref name="spec"/> (bind sources relative to <paramref name="bundle"/>).
    /// Nothing to do (and <see cref="None"/>) when the container joins an existing mount namespace.
    /// </summary>
    /// <exception cref="IOException">a mount cannot be idmapped; the message names mounts[i].</exception>
    public static IdmappedMounts Prepare(Spec.Spec spec, string bundle)
    {
        var mounts = spec.Mounts ?? [];
        var namespaces = spec.Linux?.Namespaces ?? [];
        // With a user namespace, every bind source is opened here too, as the runtime sees it on the host (runc 1.1 and
        // crun open them before joining the user namespace): a source under a directory the container's root may not
        // search still mounts, and "does not exist" means it does not.
        var hostSources = NamespaceType.IsNew(namespaces, NamespaceType.User) && Libc.geteuid() == 0;
        if (!mounts.Exists(IsIdmapped) && !(hostSources && mounts.Exists(IsBind))) return None;
        if (!NamespaceType.IsNew(namespaces, NamespaceType.Mount)) return None;

        var result = new IdmappedMounts(mounts.Count);
        var userNamespaces = new Dictionary<string, SafeFd>(StringComparer.Ordinal);
        try
        {
            for (var i = 0; i < mounts.Count; i++)
            {
                var fd = IsIdmapped(mounts[i]) ? PrepareOne(mounts[i], $"mounts[{i}]", spec, bundle, userNamespaces)
                    : hostSources && IsBind(mounts[i]) ? CloneSource(mounts[i], bundle) : null;
                if (fd is null) continue;
                result._fds.Add(fd);
                result._byMount![i] = fd.Fd;
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            // The idmapped mounts keep their user namespaces alive; the runtime needs no fd of them.
            foreach (var ns in userNamespaces.Values) ns.Dispose();
        }
    }

    private static bool IsBind(Mount mount) => mount.Type == "bind" || MountOptions.Parse(mount.Options).IsBind;

    // A detached copy of a bind source (recursive for rbind), or null when it cannot be made here (the init then binds
    // the path itself and reports what is wrong with it, e.g. that it does not exist).
    private static SafeFd? CloneSource(Mount mount, string bundle)
    {
        if (mount.Source is not { Length: > 0 } source) return null;
        if (!source.StartsWith('/')) source = Path.Combine(bundle, source);
        var recursive = (MountOptions.Parse(mount.Options).Flags & MountFlags.Rec) != 0;
        var tree = Libc.open_tree(OpenFlags.AT_FDCWD, source, Libc.OPEN_TREE_CLONE | Libc.OPEN_TREE_CLOEXEC | (recursive ? Libc.AT_RECURSIVE : 0));
        return tree < 0 ? null : new SafeFd(tree);
    }

    private static SafeFd PrepareOne(Mount mount, string field, Spec.Spec spec, string bundle, Dictionary<string, SafeFd> userNamespaces)
    {
        var options = MountOptions.Parse(mount.Options);
        if (!options.IsBind && mount.Type != "bind")
            throw new IOException($"config.json: {field}: idmapped mounts are supported for bind mounts only (type \"{mount.Type}\"; add \"bind\" or \"rbind\" to the options)");
        if ((mount.UidMappings is null) != (mount.GidMappings is null))
            throw new IOException($"config.json: {field}: an idmapped mount needs both uidMappings and gidMappings");
        var uidMappings = mount.UidMappings is { Count: > 0 } u ? u : spec.Linux?.UidMappings;
        var gidMappings = mount.GidMappings is { Count: > 0 } g ? g : spec.Linux?.GidMappings;
        if (uidMappings is not { Count: > 0 } || gidMappings is not { Count: > 0 })
            throw new IOException($"config.json: {field}: an idmapped mount without uidMappings/gidMappings of its own uses linux.uidMappings and linux.gidMappings, which are empty");

        var source = mount.Source ?? throw new IOException($"config.json: {field}: bind mount without a source");
        if (!source.StartsWith('/')) source = Path.Combine(bundle, source);
        var recursiveTree = (options.Flags & MountFlags.Rec) != 0;
        var tree = Libc.open_tree(OpenFlags.AT_FDCWD, source, Libc.OPEN_TREE_CLONE | Libc.OPEN_TREE_CLOEXEC | (recursiveTree ? Libc.AT_RECURSIVE : 0));
        if (tree < 0) throw Failure(field, $"open_tree {source}", Marshal.GetLastPInvokeError());
        var treeFd = new SafeFd(tree);
        try
        {
            var key = MappedUserNamespace.Key(uidMappings, gidMappings);
            if (!userNamespaces.TryGetValue(key, out var userNs))
            {
                userNs = MappedUserNamespace.Create(uidMappings, gidMappings, mount.UidMappings is not null ? field : "linux");
                userNamespaces[key] = userNs;
            }
            var attr = new MountAttrArgs { AttrSet = (ulong)MountAttr.Idmap, UsernsFd = (ulong)userNs.Fd };
            var flags = (uint)OpenFlags.AT_EMPTY_PATH | (options.RecursiveIdMap ? Libc.AT_RECURSIVE : 0);
            if (Libc.mount_setattr(treeFd.Fd, "", flags, attr) != 0) throw Failure(field, $"mount_setattr {source}", Marshal.GetLastPInvokeError());
            return treeFd;
        }
        catch
        {
            treeFd.Dispose();
            throw;
        }
    }

    private static IOException Failure(string field, string call, int errno)
    {
        var detail = new SyscallException(call, errno).Message;
        return errno is Errno.EINVAL or Errno.ENOSYS or Errno.EPERM or EOPNOTSUPP
            ? new IOException($"config.json: {field}: idmapped mounts are not supported by this kernel or filesystem ({detail})")
            : new IOException($"config.json: {field}: {detail}");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var fd in _fds) fd.Dispose();
        _fds.Clear();
    }
}
