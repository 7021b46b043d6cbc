using OciRuntime.Runtime.Init;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// Where the compiled seccomp programs live and how many (issue #18): never in a client's --root, at most
/// <see cref="SeccompCache.MaxEntries"/> files.
/// </summary>
public sealed class SeccompCacheBoundTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ocirun-seccomp-bound-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static LinuxSeccomp Profile(int errno) => new()
    {
        DefaultAction = SeccompActions.Allow,
        Syscalls = [new LinuxSyscall { Names = ["mkdir"], Action = SeccompActions.Errno, ErrnoRet = (uint)errno }],
    };

    [Fact]
    public void The_cache_keeps_at_most_MaxEntries_programs_the_newest()
    {
        for (var i = 1; i <= SeccompCache.MaxEntries + 4; i++)
        {
            using (SeccompCache.GetOrBuild(Profile(i), _dir, out _)) { }
            // Distinct modification times, so "newest" is well defined on a coarse clock.
            foreach (var f in Directory.GetFiles(_dir)) File.SetLastWriteTimeUtc(f, File.GetLastWriteTimeUtc(f).AddSeconds(-1));
        }

        Directory.GetFiles(_dir, ".seccomp-*").Should().HaveCount(SeccompCache.MaxEntries);
        using (SeccompCache.GetOrBuild(Profile(SeccompCache.MaxEntries + 4), _dir, out var newest)) newest.Should().BeTrue("the newest program is kept");
        using (SeccompCache.GetOrBuild(Profile(1), _dir, out var oldest)) oldest.Should().BeFalse("the oldest program was removed");
    }

    [Fact]
    public void The_default_directory_is_ocirun_s_own_not_a_state_root()
    {
        var saved = Environment.GetEnvironmentVariable(SeccompCache.DirectoryVariable);
        try
        {
            Environment.SetEnvironmentVariable(SeccompCache.DirectoryVariable, null);
            if (TestEnvIsRoot()) SeccompCache.DefaultDirectory(rootless: false).Should().Be("/run/ocirun-cache");
            var xdg = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            SeccompCache.DefaultDirectory(rootless: true).Should().Be(string.IsNullOrEmpty(xdg) ? null : Path.Combine(xdg, "ocirun-cache"));
            Environment.SetEnvironmentVariable(SeccompCache.DirectoryVariable, "");
            SeccompCache.DefaultDirectory(rootless: false).Should().BeNull("an empty OCIRUN_SECCOMP_CACHE turns the cache off");
        }
        finally
        {
            Environment.SetEnvironmentVariable(SeccompCache.DirectoryVariable, saved);
        }
    }

    private static bool TestEnvIsRoot() => Harness.TestEnv.IsRoot;
}
