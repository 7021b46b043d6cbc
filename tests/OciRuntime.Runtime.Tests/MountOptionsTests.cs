using OciRuntime.Interop;
using OciRuntime.Runtime.Init;

namespace OciRuntime.Runtime.Tests;

/// <summary>The mount(2) reading of config.json mount options, for the options real clients send.</summary>
public sealed class MountOptionsTests
{
    [Fact]
    public void Podman_tmpfs_options_keep_tmpcopyup_out_of_the_data_string()
    {
        // podman --read-only / --tmpfs: ["size=1m", "rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]
        var parsed = MountOptions.Parse(["size=1m", "rw", "rprivate", "nosuid", "nodev", "tmpcopyup"]);

        parsed.CopyUp.Should().BeTrue();
        parsed.Data.Should().Be("size=1m", "the kernel refuses unknown tmpfs options with EINVAL");
        parsed.Flags.Should().Be(MountFlags.NoSuid | MountFlags.NoDev);
        parsed.Propagation.Should().Equal(MountFlags.Private | MountFlags.Rec);
    }

    [Fact]
    public void Without_tmpcopyup_nothing_is_copied()
    {
        MountOptions.Parse(["mode=755", "size=65536k"]).CopyUp.Should().BeFalse();
    }

    [Fact]
    public void Features_list_tmpcopyup_among_the_mount_options()
    {
        MountOptions.KnownOptions.Should().Contain("tmpcopyup").And.BeInAscendingOrder(StringComparer.Ordinal);
    }

    [Fact]
    public void Recursive_attributes_are_mount_setattr_bits_not_data()
    {
        // runc 1.1: "rro" and friends go to mount_setattr(AT_RECURSIVE); as data a bind mount would silently ignore them.
        var parsed = MountOptions.Parse(["rbind", "rro", "rnosuid", "rnoatime"]);
        parsed.Data.Should().BeNull();
        parsed.HasRecursiveAttributes.Should().BeTrue();
        parsed.RecursiveAttrSet.Should().Be(0x1UL | 0x2 | 0x10, "MOUNT_ATTR_RDONLY | NOSUID | NOATIME");
        parsed.RecursiveAttrClear.Should().Be(0x70UL, "the access-time field is cleared whole when one is set");
        MountOptions.Parse(["rro", "rrw"]).RecursiveAttrSet.Should().Be(0UL);
        MountOptions.Parse(["rro", "rrw"]).RecursiveAttrClear.Should().Be(0x1UL);
        MountOptions.KnownOptions.Should().Contain(["rro", "rnosymfollow"]);
        MountOptions.Parse(["bind", "ro"]).HasRecursiveAttributes.Should().BeFalse();
    }
}
