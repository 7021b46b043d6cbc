using OciRuntime.Cgroups;
using OciRuntime.Interop;

namespace OciRuntime.Cgroups.Tests;

/// <summary>A device-program loader that records instead of calling bpf(2).</summary>
public sealed class RecordingAttacher : IDeviceFilterAttacher
{
    public List<(string Dir, BpfInsn[] Program)> Attached { get; } = [];

    public void Attach(string dir, BpfInsn[] program) => Attached.Add((dir, program));
}

/// <summary>
/// A fake cgroupfs: plain directories and files in a temporary directory, shaped like /sys/fs/cgroup of a v1, hybrid
/// or v2 host. Writes are journaled (<see cref="Writes"/>), so a test sees every value in order even when several
/// writes go to one file.
/// </summary>
public sealed class FakeCgroupTree : IDisposable
{
    private FakeCgroupTree(string root, CgroupHost host, RecordingAttacher attacher, CgroupFs fs)
    {
        Root = root;
        Host = host;
        Attacher = attacher;
        Fs = fs;
    }

    public string Root { get; }
    public CgroupHost Host { get; }
    public RecordingAttacher Attacher { get; }
    public CgroupFs Fs { get; }

    /// <summary>Every write: (path relative to the root, value).</summary>
    public List<(string Path, string Value)> Writes => [.. Fs.Journal!.Select(w => (w.Path[(Root.Length + 1)..], w.Value))];

    /// <summary>The values written to <paramref name="relativePath"/>, in order.</summary>
    public List<string> WritesTo(string relativePath) => [.. Writes.Where(w => w.Path == relativePath).Select(w => w.Value)];

    public string Read(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath)).Trim();

    public void Put(string relativePath, string content)
    {
        var full = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
    }

    public bool DirExists(string relativePath) => Directory.Exists(Path.Combine(Root, relativePath));

    private static string NewRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), "ocirun-fakecg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        return root;
    }

    /// <summary>A pure v2 host: the caller is in /user.slice/session.scope; the root offers <paramref name="controllers"/>.</summary>
    public static FakeCgroupTree V2(string controllers = "cpuset cpu io memory hugetlb pids rdma misc", string own = "/user.slice/session.scope")
    {
        var root = NewRoot();
        File.WriteAllText(Path.Combine(root, "cgroup.controllers"), controllers + "\n");
        var fs = new CgroupFs { Fake = true, Journal = [] };
        var attacher = new RecordingAttacher();
        var host = new CgroupHost(CgroupMode.V2, root, [], root, new Dictionary<string, string> { [""] = own }, fs, attacher);
        return new FakeCgroupTree(root, host, attacher, fs);
    }

    /// <summary>
    /// A v1 host with this VM's hierarchies (cpu, cpuacct, cpuset, memory, devices, freezer, blkio, pids, net_cls,
    /// net_prio, name=systemd; hugetlb too unless <paramref name="hugetlbOnUnified"/>), the caller in /ocirun-test
    /// of memory and / elsewhere. <paramref name="hybrid"/> adds a cgroup2 hierarchy at unified/ (offering hugetlb
    /// when <paramref name="hugetlbOnUnified"/>), the caller in <paramref name="unifiedOwn"/> there.
    /// </summary>
    public static FakeCgroupTree V1(bool hybrid = false, bool hugetlbOnUnified = false, string unifiedOwn = "/")
    {
        var root = NewRoot();
        var names = new List<string> { "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "net_cls", "net_prio" };
        if (!hugetlbOnUnified) names.Add("hugetlb");
        var hierarchies = names.Select(n => new V1Hierarchy(n, Path.Combine(root, n), [n])).ToList();
        hierarchies.Add(new V1Hierarchy("systemd", Path.Combine(root, "systemd"), ["name=systemd"]));
        foreach (var h in hierarchies) Directory.CreateDirectory(h.MountPoint);
        File.WriteAllText(Path.Combine(root, "cpuset", "cpuset.cpus"), "0-3\n");
        File.WriteAllText(Path.Combine(root, "cpuset", "cpuset.mems"), "0\n");
        var own = hierarchies.ToDictionary(h => h.Name, h => h.Name == "memory" ? "/ocirun-test" : "/");
        string? unified = null;
        if (hybrid)
        {
            unified = Path.Combine(root, "unified");
            Directory.CreateDirectory(unified);
            File.WriteAllText(Path.Combine(unified, "cgroup.controllers"), hugetlbOnUnified ? "hugetlb\n" : "\n");
            own[""] = unifiedOwn;
        }
        var fs = new CgroupFs { Fake = true, Journal = [] };
        var attacher = new RecordingAttacher();
        var host = new CgroupHost(hybrid ? CgroupMode.Hybrid : CgroupMode.V1, root, hierarchies, unified, own, fs, attacher);
        return new FakeCgroupTree(root, host, attacher, fs);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
