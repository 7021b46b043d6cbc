using System.Text;

namespace OciRuntime.Spec.Tests;

public class StateAndFeaturesTests
{
    [Fact]
    public void State_serializes_compactly_for_hooks()
    {
        var state = new State
        {
            OciVersion = SpecVersion.Current,
            Id = "oci-container1",
            Status = ContainerStatus.Running,
            Pid = 4422,
            Bundle = "/containers/redis",
            Annotations = new() { ["myKey"] = "myValue" },
        };

        SpecSerializer.SerializeState(state).Should().Be(
            """{"ociVersion":"1.2.1","id":"oci-container1","status":"running","pid":4422,"bundle":"/containers/redis","annotations":{"myKey":"myValue"}}""");
        Encoding.UTF8.GetString(SpecSerializer.SerializeStateToUtf8(state)).Should().Be(SpecSerializer.SerializeState(state));
    }

    [Fact]
    public void State_pid_zero_and_null_annotations_are_omitted()
    {
        var state = new State { OciVersion = "1.0.2", Id = "c", Status = ContainerStatus.Stopped, Bundle = "/b" };
        SpecSerializer.SerializeState(state).Should().Be("""{"ociVersion":"1.0.2","id":"c","status":"stopped","bundle":"/b"}""");
    }

    [Fact]
    public void State_indented_uses_two_spaces()
    {
        var state = new State { OciVersion = "1.0.2", Id = "c", Status = ContainerStatus.Created, Pid = 1, Bundle = "/b" };
        SpecSerializer.SerializeState(state, indented: true).Should().Be(
            "{\n  \"ociVersion\": \"1.0.2\",\n  \"id\": \"c\",\n  \"status\": \"created\",\n  \"pid\": 1,\n  \"bundle\": \"/b\"\n}");
    }

    [Fact]
    public void State_round_trips_and_reports_errors()
    {
        var state = new State { OciVersion = "1.0.2", Id = "c", Status = ContainerStatus.Paused, Pid = 7, Bundle = "/b" };
        State parsed = SpecSerializer.ParseState(SpecSerializer.SerializeStateToUtf8(state));
        parsed.Should().BeEquivalentTo(state);

        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.ParseState("""{"id":"c","pid":"x"}"""u8));
        ex.Message.Should().Be("state.json: pid: expected an integer, got \"x\"");
    }

    [Fact]
    public void Container_statuses()
    {
        new[] { ContainerStatus.Creating, ContainerStatus.Created, ContainerStatus.Running, ContainerStatus.Stopped, ContainerStatus.Paused }
            .Should().Equal("creating", "created", "running", "stopped", "paused");
    }

    [Fact]
    public void Container_process_state_matches_the_spec_example()
    {
        var processState = new ContainerProcessState
        {
            OciVersion = "1.0.2",
            Fds = ["seccompFd"],
            Pid = 4422,
            Metadata = "MKNOD=/dev/null,/dev/net/tun;BPF_MAP_TYPES=hash,array",
            State = new State { OciVersion = "1.0.2", Id = "oci-container1", Status = ContainerStatus.Creating, Pid = 4422, Bundle = "/containers/redis" },
        };

        string json = Encoding.UTF8.GetString(SpecSerializer.SerializeContainerProcessStateToUtf8(processState));

        json.Should().Be("""{"ociVersion":"1.0.2","fds":["seccompFd"],"pid":4422,"metadata":"MKNOD=/dev/null,/dev/net/tun;BPF_MAP_TYPES=hash,array","state":{"ociVersion":"1.0.2","id":"oci-container1","status":"creating","pid":4422,"bundle":"/containers/redis"}}""");
        SpecSerializer.ParseContainerProcessState(Encoding.UTF8.GetBytes(json)).Should().BeEquivalentTo(processState);
    }

    [Fact]
    public void Features_round_trip()
    {
        const string json = """
            {
            	"ociVersionMin": "1.0.0",
            	"ociVersionMax": "1.2.1",
            	"hooks": [
            		"prestart",
            		"createRuntime"
            	],
            	"mountOptions": [
            		"ro",
            		"rbind"
            	],
            	"linux": {
            		"namespaces": [
            			"pid",
            			"user"
            		],
            		"capabilities": [
            			"CAP_CHOWN"
            		],
            		"cgroup": {
            			"v1": false,
            			"v2": true,
            			"systemd": true,
            			"systemdUser": true,
            			"rdma": true
            		},
            		"seccomp": {
            			"enabled": true,
            			"actions": [
            				"SCMP_ACT_ALLOW"
            			],
            			"operators": [
            				"SCMP_CMP_EQ"
            			],
            			"archs": [
            				"SCMP_ARCH_X86_64"
            			],
            			"knownFlags": [
            				"SECCOMP_FILTER_FLAG_LOG"
            			],
            			"supportedFlags": [
            				"SECCOMP_FILTER_FLAG_LOG"
            			]
            		},
            		"apparmor": {
            			"enabled": true
            		},
            		"selinux": {
            			"enabled": false
            		},
            		"intelRdt": {
            			"enabled": true,
            			"schemata": true
            		},
            		"memoryPolicy": {
            			"modes": [
            				"MPOL_BIND"
            			],
            			"flags": [
            				"MPOL_F_STATIC_NODES"
            			]
            		},
            		"mountExtensions": {
            			"idmap": {
            				"enabled": true
            			}
            		},
            		"netDevices": {
            			"enabled": true
            		}
            	},
            	"annotations": {
            		"org.opencontainers.runc.version": "1.1.5"
            	},
            	"potentiallyUnsafeConfigAnnotations": [
            		"bundle",
            		"org.systemd.property."
            	]
            }
            """;

        Features features = SpecSerializer.ParseFeatures(Encoding.UTF8.GetBytes(json));

        features.Linux!.Cgroup!.V1.Should().BeFalse();
        features.Linux.MountExtensions!.IdMap!.Enabled.Should().BeTrue();
        SpecSerializer.SerializeFeatures(features).Should().Be(json.ReplaceLineEndings("\n"));
    }
}
