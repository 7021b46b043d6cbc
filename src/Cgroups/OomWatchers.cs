using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Interop;

namespace OciRuntime.Cgroups;

/// <summary>
/// cgroup v1 OOM notification (cgroup-v1/memory.rst "OOM Control"): an eventfd registered with
/// cgroup.event_control as "EVENTFD OOM_CONTROL_FD"; the kernel adds 1 per OOM and also signals it when the cgroup is removed.
/// </summary>
public sealed class V1OomWatcher : IOomWatcher
{
    private readonly SafeFd _eventFd;
    private readonly SafeFd _oomControl;
    private readonly string _dir;

    private V1OomWatcher(SafeFd eventFd, SafeFd oomControl, string dir)
    {
        _eventFd = eventFd;
        _oomControl = oomControl;
        _dir = dir;
    }

    /// <summary>Registers for the OOM events of memory cgroup <paramref name="dir"/>.</summary>
    /// <exception cref="CgroupException">the registration failed.</exception>
    public static V1OomWatcher Open(string dir)
    {
        var efd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        if (efd < 0) throw new CgroupException(SyscallException.FromLastError("eventfd").Message);
        var eventFd = new SafeFd(efd);
        try
        {
            var oomControl = SafeFd.Check(Libc.open(dir + "/memory.oom_control", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), $"open {dir}/memory.oom_control");
            try
            {
                CgroupFs.Real.Write(dir, "cgroup.event_control", $"{eventFd.Fd} {oomControl.Fd}");
                return new V1OomWatcher(eventFd, oomControl, dir);
            }
            catch
            {
                oomControl.Dispose();
                throw;
            }
        }
        catch (SyscallException e)
        {
            eventFd.Dispose();
            throw new CgroupException($"watch OOM events: {e.Message}", null, e);
        }
    }

    /// <inheritdoc />
    public int Fd => _eventFd.Fd;

    /// <inheritdoc />
    public int ReadEvents()
    {
        Span<byte> counter = stackalloc byte[8];
        if (Libc.ReadSome(_eventFd.Fd, counter, "eventfd") != 8) return 0;
        // The eventfd also fires when the cgroup goes away: that is not an OOM.
        if (!Directory.Exists(_dir)) return 0;
        return (int)Math.Min(MemoryMarshal.Read<ulong>(counter), int.MaxValue);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _oomControl.Dispose();
        _eventFd.Dispose();
    }
}

/// <summary>
/// cgroup v2 OOM notification: memory.events changes raise a file-modified event (kernel cgroup-v2.rst); the watcher
/// uses inotify and reports increases of its "oom_kill" counter (falling back to "oom").
/// </summary>
public sealed class V2OomWatcher : IOomWatcher
{
    private readonly SafeFd _inotify;
    private readonly CgroupFs _fs;
    private readonly string _dir;
    private ulong _last;

    /// <summary>Watches <paramref name="dir"/>/memory.events.</summary>
    /// <exception cref="CgroupException">inotify failed.</exception>
    public V2OomWatcher(CgroupFs fs, string dir)
    {
        _fs = fs;
        _dir = dir;
        var fd = Libc.inotify_init1(Libc.IN_CLOEXEC | Libc.IN_NONBLOCK);
        if (fd < 0) throw new CgroupException(SyscallException.FromLastError("inotify_init1").Message);
        _inotify = new SafeFd(fd);
        if (Libc.inotify_add_watch(fd, dir + "/memory.events", Libc.IN_MODIFY) < 0)
        {
            var e = SyscallException.FromLastError($"inotify_add_watch {dir}/memory.events");
            _inotify.Dispose();
            throw new CgroupException(e.Message, null, e);
        }
        _last = Count();
    }

    private ulong Count()
    {
        var values = CgroupStatsReader.KeyValues(_fs.ReadOrNull(_dir, "memory.events"));
        return values.TryGetValue("oom_kill", out var kills) ? kills : values.GetValueOrDefault("oom");
    }

    /// <inheritdoc />
    public int Fd => _inotify.Fd;

    /// <inheritdoc />
    public unsafe int ReadEvents()
    {
        var buffer = stackalloc byte[4096];
        while (Libc.read(_inotify.Fd, buffer, 4096) > 0)
        {
        }
        var now = Count();
        var delta = now > _last ? now - _last : 0;
        _last = now;
        return (int)Math.Min(delta, int.MaxValue);
    }

    /// <inheritdoc />
    public void Dispose() => _inotify.Dispose();
}
