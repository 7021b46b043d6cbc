using System.Text.Json.Nodes;
using static OciRuntime.Spec.Tests.TestSupport;

namespace OciRuntime.Spec.Tests;

/// <summary>
/// A table of malformed configurations, each derived from runc's default config.json by one edit; every case asserts the exact
/// JSON path named by the error and a fragment of its message.
/// </summary>
public class MalformedConfigTests
{
    private sealed record Case(string Path, string Fragment, Action<JsonObject> Edit, ValidationOptions? Options = null);

    private static Action<JsonObject> SetTo(string path, JsonNode? value) => root => Set(root, path, value?.DeepClone());

    private static Action<JsonObject> Without(string path) => root => Remove(root, path);

    private static Action<JsonObject> All(params Action<JsonObject>[] edits) => root =>
    {
        foreach (Action<JsonObject> edit in edits)
        {
            edit(root);
        }
    };

    private static JsonNode N(string json) => JsonNode.Parse(json)!;

    private static readonly Action<JsonObject> NoNetworkNs = root =>
        root["linux"]!["namespaces"]!.AsArray().Remove(root["linux"]!["namespaces"]!.AsArray().First(n => (string)n!["type"]! == "network"));

    private static readonly Action<JsonObject> NoIpcNs = root =>
        root["linux"]!["namespaces"]!.AsArray().Remove(root["linux"]!["namespaces"]!.AsArray().First(n => (string)n!["type"]! == "ipc"));

    private static readonly Action<JsonObject> NoUtsNs = root =>
        root["linux"]!["namespaces"]!.AsArray().Remove(root["linux"]!["namespaces"]!.AsArray().First(n => (string)n!["type"]! == "uts"));

    private static Action<JsonObject> AddNs(string type) => root => root["linux"]!["namespaces"]!.AsArray().Add(new JsonObject { ["type"] = type });

    private static readonly Action<JsonObject> Seccomp = SetTo("linux.seccomp", N("""
        {"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
         "syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}
        """));

    private static readonly Dictionary<string, Case> s_cases = new()
    {
        // ---- JSON type errors (reported by the parser) --------------------------------------------------------------
        ["ociVersion number"] = new("ociVersion", "expected a string, got 1", SetTo("ociVersion", 1)),
        ["process array"] = new("process", "expected an object, got an array", SetTo("process", new JsonArray())),
        ["terminal string"] = new("process.terminal", "expected a boolean, got \"yes\"", SetTo("process.terminal", "yes")),
        ["consoleSize negative"] = new("process.consoleSize.height", "expected an integer in the range 0..4294967295, got -1", SetTo("process.consoleSize", N("""{"height":-1,"width":80}"""))),
        ["user null"] = new("process.user", "expected an object, got null", SetTo("process.user", null)),
        ["uid negative"] = new("process.user.uid", "expected an integer in the range 0..4294967295, got -1", SetTo("process.user.uid", -1)),
        ["gid string"] = new("process.user.gid", "expected an integer, got \"0\"", SetTo("process.user.gid", "0")),
        ["umask fraction"] = new("process.user.umask", "expected an integer, got 1.5", SetTo("process.user.umask", 1.5)),
        ["additionalGids element"] = new("process.user.additionalGids[1]", "expected an integer, got \"x\"", SetTo("process.user.additionalGids", N("""[1,"x"]"""))),
        ["args string"] = new("process.args", "expected an array, got \"sh\"", SetTo("process.args", "sh")),
        ["args element number"] = new("process.args[0]", "expected a string, got 5", SetTo("process.args", N("[5]"))),
        ["args element null"] = new("process.args[1]", "expected a string, got null", SetTo("process.args", N("""["sh",null]"""))),
        ["env element object"] = new("process.env[1]", "expected a string, got an object", SetTo("process.env[1]", new JsonObject())),
        ["cwd null"] = new("process.cwd", "expected a string, got null", SetTo("process.cwd", null)),
        ["capabilities string"] = new("process.capabilities.bounding", "expected an array, got \"CAP_KILL\"", SetTo("process.capabilities.bounding", "CAP_KILL")),
        ["rlimit hard negative"] = new("process.rlimits[0].hard", "expected an integer in the range 0..18446744073709551615, got -1", SetTo("process.rlimits[0].hard", -1)),
        ["rlimit soft string"] = new("process.rlimits[0].soft", "expected an integer, got \"1024\"", SetTo("process.rlimits[0].soft", "1024")),
        ["rlimit element null"] = new("process.rlimits[0]", "expected an object, got null", SetTo("process.rlimits[0]", null)),
        ["noNewPrivileges number"] = new("process.noNewPrivileges", "expected a boolean, got 1", SetTo("process.noNewPrivileges", 1)),
        ["oomScoreAdj exponent"] = new("process.oomScoreAdj", "expected an integer, got 1e3", SetTo("process.oomScoreAdj", N("1e3"))),
        ["oomScoreAdj overflow"] = new("process.oomScoreAdj", "expected an integer in the range -2147483648..2147483647, got 3000000000", SetTo("process.oomScoreAdj", 3000000000L)),
        ["root path null"] = new("root.path", "expected a string, got null", SetTo("root.path", null)),
        ["root readonly string"] = new("root.readonly", "expected a boolean, got \"true\"", SetTo("root.readonly", "true")),
        ["hostname array"] = new("hostname", "expected a string, got an array", SetTo("hostname", N("""["a"]"""))),
        ["mounts object"] = new("mounts", "expected an array, got an object", SetTo("mounts", new JsonObject())),
        ["mount destination number"] = new("mounts[2].destination", "expected a string, got 5", SetTo("mounts[2].destination", 5)),
        ["mount options string"] = new("mounts[1].options", "expected an array, got \"ro\"", SetTo("mounts[1].options", "ro")),
        ["mount null"] = new("mounts[3]", "expected an object, got null", SetTo("mounts[3]", null)),
        ["mount idmap size negative"] = new("mounts[0].uidMappings[0].size", "expected an integer in the range 0..4294967295, got -1", SetTo("mounts[0].uidMappings", N("""[{"containerID":0,"hostID":0,"size":-1}]"""))),
        ["hook timeout string"] = new("hooks.prestart[0].timeout", "expected an integer, got \"5\"", SetTo("hooks", N("""{"prestart":[{"path":"/bin/true","timeout":"5"}]}"""))),
        ["hooks poststop object"] = new("hooks.poststop", "expected an array, got an object", SetTo("hooks", N("""{"poststop":{}}"""))),
        ["annotation number"] = new("annotations.key", "expected a string, got 1", SetTo("annotations", N("""{"key":1}"""))),
        ["annotation dotted bool"] = new("annotations['org.example.a']", "expected a string, got true", SetTo("annotations", N("""{"org.example.a":true}"""))),
        ["annotation null"] = new("annotations.key", "expected a string, got null", SetTo("annotations", N("""{"key":null}"""))),
        ["linux string"] = new("linux", "expected an object, got \"x\"", SetTo("linux", "x")),
        ["namespace string"] = new("linux.namespaces[0]", "expected an object, got \"pid\"", SetTo("linux.namespaces[0]", "pid")),
        ["uidMapping hostID negative"] = new("linux.uidMappings[0].hostID", "got -1", SetTo("linux.uidMappings", N("""[{"containerID":0,"hostID":-1,"size":1}]"""))),
        ["sysctl number"] = new("linux.sysctl['net.ipv4.ip_forward']", "expected a string, got 1", SetTo("linux.sysctl", N("""{"net.ipv4.ip_forward":1}"""))),
        ["memory limit 1G"] = new("linux.resources.memory.limit", "expected an integer, got \"1G\"", SetTo("linux.resources.memory", N("""{"limit":"1G"}"""))),
        ["memory swappiness negative"] = new("linux.resources.memory.swappiness", "got -1", SetTo("linux.resources.memory", N("""{"swappiness":-1}"""))),
        ["memory disableOOMKiller string"] = new("linux.resources.memory.disableOOMKiller", "expected a boolean", SetTo("linux.resources.memory", N("""{"disableOOMKiller":"yes"}"""))),
        ["cpu shares negative"] = new("linux.resources.cpu.shares", "got -1", SetTo("linux.resources.cpu", N("""{"shares":-1}"""))),
        ["cpu quota max"] = new("linux.resources.cpu.quota", "expected an integer, got \"max\"", SetTo("linux.resources.cpu", N("""{"quota":"max"}"""))),
        ["cpu cpus number"] = new("linux.resources.cpu.cpus", "expected a string, got 3", SetTo("linux.resources.cpu", N("""{"cpus":3}"""))),
        ["pids limit string"] = new("linux.resources.pids.limit", "expected an integer, got \"max\"", SetTo("linux.resources.pids", N("""{"limit":"max"}"""))),
        ["blkio weight overflow"] = new("linux.resources.blockIO.weight", "expected an integer in the range 0..65535, got 70000", SetTo("linux.resources.blockIO", N("""{"weight":70000}"""))),
        ["throttle rate string"] = new("linux.resources.blockIO.throttleReadBpsDevice[0].rate", "expected an integer", SetTo("linux.resources.blockIO", N("""{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":"1M"}]}"""))),
        ["device rule allow string"] = new("linux.resources.devices[0].allow", "expected a boolean, got \"false\"", SetTo("linux.resources.devices[0].allow", "false")),
        ["device rule major star"] = new("linux.resources.devices[0].major", "expected an integer, got \"*\"", SetTo("linux.resources.devices[0].major", "*")),
        ["hugepage limit negative"] = new("linux.resources.hugepageLimits[0].limit", "got -1", SetTo("linux.resources.hugepageLimits", N("""[{"pageSize":"2MB","limit":-1}]"""))),
        ["rdma negative"] = new("linux.resources.rdma.mlx5_1.hcaHandles", "got -3", SetTo("linux.resources.rdma", N("""{"mlx5_1":{"hcaHandles":-3}}"""))),
        ["unified number"] = new("linux.resources.unified['memory.max']", "expected a string, got 5", SetTo("linux.resources.unified", N("""{"memory.max":5}"""))),
        ["device major string"] = new("linux.devices[0].major", "expected an integer, got \"10\"", SetTo("linux.devices", N("""[{"path":"/dev/fuse","type":"c","major":"10","minor":229}]"""))),
        ["device fileMode negative"] = new("linux.devices[0].fileMode", "got -1", SetTo("linux.devices", N("""[{"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":-1}]"""))),
        ["seccomp names null"] = new("linux.seccomp.syscalls[0].names", "expected an array, got null", All(Seccomp, SetTo("linux.seccomp.syscalls[0].names", null))),
        ["seccomp arg value negative"] = new("linux.seccomp.syscalls[0].args[0].value", "got -1", All(Seccomp, SetTo("linux.seccomp.syscalls[0].args[0].value", -1))),
        ["seccomp defaultErrnoRet negative"] = new("linux.seccomp.defaultErrnoRet", "got -1", All(Seccomp, SetTo("linux.seccomp.defaultErrnoRet", -1))),
        ["timeOffsets secs string"] = new("linux.timeOffsets.monotonic.secs", "expected an integer, got \"1\"", SetTo("linux.timeOffsets", N("""{"monotonic":{"secs":"1"}}"""))),
        ["personality string"] = new("linux.personality", "expected an object, got \"LINUX\"", SetTo("linux.personality", "LINUX")),
        ["netDevices array"] = new("linux.netDevices", "expected an object, got an array", SetTo("linux.netDevices", new JsonArray())),

        // ---- validation errors (the spec's MUSTs and runc's rules) --------------------------------------------------
        ["ociVersion missing"] = new("ociVersion", "is required", Without("ociVersion")),
        ["ociVersion not semver"] = new("ociVersion", "\"1.0\" is not a valid SemVer 2.0.0 version", SetTo("ociVersion", "1.0")),
        ["ociVersion leading zero"] = new("ociVersion", "is not a valid SemVer", SetTo("ociVersion", "1.01.0")),
        ["ociVersion major 2"] = new("ociVersion", "unsupported version \"2.0.0\"", SetTo("ociVersion", "2.0.0")),
        ["ociVersion 1.3"] = new("ociVersion", "unsupported version \"1.3.0\"", SetTo("ociVersion", "1.3.0")),
        ["process missing"] = new("process", "is required", Without("process")),
        ["args empty"] = new("process.args", "must contain at least one entry", SetTo("process.args", new JsonArray())),
        ["args missing"] = new("process.args", "must contain at least one entry", Without("process.args")),
        ["args[0] empty"] = new("process.args[0]", "must not be empty", SetTo("process.args[0]", "")),
        ["cwd empty"] = new("process.cwd", "is required", SetTo("process.cwd", "")),
        ["cwd relative"] = new("process.cwd", "must be an absolute path, got \"home/user\"", SetTo("process.cwd", "home/user")),
        ["env without equals"] = new("process.env[1]", "\"NOEQUALS\" is not of the form KEY=value", SetTo("process.env[1]", "NOEQUALS")),
        ["env empty name"] = new("process.env[0]", "has an empty variable name", SetTo("process.env[0]", "=x")),
        ["rlimit unknown type"] = new("process.rlimits[0].type", "unknown rlimit type \"RLIMIT_FOO\"", SetTo("process.rlimits[0].type", "RLIMIT_FOO")),
        ["rlimit duplicate"] = new("process.rlimits[1].type", "duplicate rlimit \"RLIMIT_NOFILE\"", SetTo("process.rlimits[1]", N("""{"type":"RLIMIT_NOFILE","hard":1,"soft":1}"""))),
        ["rlimit soft above hard"] = new("process.rlimits[0].soft", "soft limit 2048 is greater than the hard limit 1024", SetTo("process.rlimits[0].soft", 2048)),
        ["oomScoreAdj too big"] = new("process.oomScoreAdj", "must be between -1000 and 1000, got 1001", SetTo("process.oomScoreAdj", 1001)),
        ["oomScoreAdj too small"] = new("process.oomScoreAdj", "got -1001", SetTo("process.oomScoreAdj", -1001)),
        ["umask too big"] = new("process.user.umask", "must be at most 0777", SetTo("process.user.umask", 512)),
        ["scheduler policy"] = new("process.scheduler.policy", "unknown scheduling policy \"SCHED_FOO\"", SetTo("process.scheduler", N("""{"policy":"SCHED_FOO"}"""))),
        ["scheduler nice"] = new("process.scheduler.nice", "must be between -20 and 19, got 20", SetTo("process.scheduler", N("""{"policy":"SCHED_OTHER","nice":20}"""))),
        ["scheduler fifo priority 0"] = new("process.scheduler.priority", "must be between 1 and 99 for SCHED_FIFO", SetTo("process.scheduler", N("""{"policy":"SCHED_FIFO","priority":0}"""))),
        ["scheduler flag"] = new("process.scheduler.flags[0]", "unknown scheduler flag", SetTo("process.scheduler", N("""{"policy":"SCHED_OTHER","flags":["SCHED_FLAG_X"]}"""))),
        ["ioPriority class"] = new("process.ioPriority.class", "unknown I/O priority class \"IOPRIO_CLASS_X\"", SetTo("process.ioPriority", N("""{"class":"IOPRIO_CLASS_X","priority":0}"""))),
        ["ioPriority priority"] = new("process.ioPriority.priority", "must be between 0 and 7, got 8", SetTo("process.ioPriority", N("""{"class":"IOPRIO_CLASS_BE","priority":8}"""))),
        ["execCPUAffinity initial"] = new("process.execCPUAffinity.initial", "invalid CPU list \"0-\"", SetTo("process.execCPUAffinity", N("""{"initial":"0-"}"""))),
        ["root missing"] = new("root", "is required", Without("root")),
        ["root path empty"] = new("root.path", "is required", SetTo("root.path", "")),
        ["hostname without uts"] = new("hostname", "requires a UTS namespace", NoUtsNs),
        ["domainname without uts"] = new("domainname", "requires a UTS namespace", All(Without("hostname"), SetTo("domainname", "example.com"), NoUtsNs)),
        ["hostname too long"] = new("hostname", "at most 64 bytes", SetTo("hostname", new string('h', 65))),
        ["mount destination relative"] = new("mounts[2].destination", "must be an absolute path, got \"dev/pts\"", SetTo("mounts[2].destination", "dev/pts")),
        ["mount destination empty"] = new("mounts[0].destination", "is required", SetTo("mounts[0].destination", "")),
        ["mount idmap size 0"] = new("mounts[4].gidMappings[0].size", "must be greater than zero", SetTo("mounts[4].gidMappings", N("""[{"containerID":0,"hostID":1000,"size":0}]"""))),
        ["hook path relative"] = new("hooks.prestart[0].path", "must be an absolute path, got \"bin/hook\"", SetTo("hooks", N("""{"prestart":[{"path":"bin/hook"}]}"""))),
        ["hook path missing"] = new("hooks.poststop[1].path", "is required", SetTo("hooks", N("""{"poststop":[{"path":"/bin/a"},{"args":["x"]}]}"""))),
        ["hook timeout zero"] = new("hooks.createRuntime[0].timeout", "must be greater than zero, got 0", SetTo("hooks", N("""{"createRuntime":[{"path":"/bin/hook","timeout":0}]}"""))),
        ["annotation empty key"] = new("annotations['']", "keys must not be empty", SetTo("annotations", N("""{"":"x"}"""))),
        ["namespace unknown"] = new("linux.namespaces[5].type", "unknown namespace type \"foo\"", AddNs("foo")),
        ["namespace net alias"] = new("linux.namespaces[5].type", "unknown namespace type \"net\"", AddNs("net")),
        ["namespace duplicate"] = new("linux.namespaces[5].type", "duplicate namespace \"pid\" (also at linux.namespaces[0])", AddNs("pid")),
        ["namespace type missing"] = new("linux.namespaces[5].type", "is required", root => root["linux"]!["namespaces"]!.AsArray().Add(new JsonObject())),
        ["namespace path relative"] = new("linux.namespaces[1].path", "must be an absolute path", SetTo("linux.namespaces[1].path", "proc/1/ns/net")),
        ["uidMappings without userns"] = new("linux.uidMappings", "require a user namespace", SetTo("linux.uidMappings", N("""[{"containerID":0,"hostID":1000,"size":1}]"""))),
        ["gidMappings without userns"] = new("linux.gidMappings", "require a user namespace", SetTo("linux.gidMappings", N("""[{"containerID":0,"hostID":1000,"size":1}]"""))),
        ["uidMapping size 0"] = new("linux.uidMappings[0].size", "must be greater than zero", All(AddNs("user"), SetTo("linux.uidMappings", N("""[{"containerID":0,"hostID":1000,"size":0}]""")))),
        ["uidMapping overflow"] = new("linux.uidMappings[0].size", "exceeds the 32-bit ID space", All(AddNs("user"), SetTo("linux.uidMappings", N("""[{"containerID":4294967295,"hostID":1000,"size":2}]""")))),
        ["timeOffsets without time ns"] = new("linux.timeOffsets", "require a time namespace", SetTo("linux.timeOffsets", N("""{"monotonic":{"secs":1}}"""))),
        ["timeOffsets unknown clock"] = new("linux.timeOffsets.realtime", "unknown clock \"realtime\"", All(AddNs("time"), SetTo("linux.timeOffsets", N("""{"realtime":{"secs":1}}""")))),
        ["timeOffsets nanosecs"] = new("linux.timeOffsets.boottime.nanosecs", "must be less than 1000000000", All(AddNs("time"), SetTo("linux.timeOffsets", N("""{"boottime":{"nanosecs":1000000000}}""")))),
        ["device type"] = new("linux.devices[0].type", "must be one of c, b, u or p, got \"x\"", SetTo("linux.devices", N("""[{"path":"/dev/x","type":"x","major":1,"minor":3}]"""))),
        ["device type missing"] = new("linux.devices[0].type", "is required", SetTo("linux.devices", N("""[{"path":"/dev/x","major":1,"minor":3}]"""))),
        ["device relative"] = new("linux.devices[0].path", "must be an absolute path, got \"dev/null\"", SetTo("linux.devices", N("""[{"path":"dev/null","type":"c","major":1,"minor":3}]"""))),
        ["device duplicate"] = new("linux.devices[1].path", "duplicate device \"/dev/null\"", SetTo("linux.devices", N("""[{"path":"/dev/null","type":"c","major":1,"minor":3},{"path":"/dev/null","type":"c","major":1,"minor":3}]"""))),
        ["device negative major"] = new("linux.devices[0].major", "must not be negative", SetTo("linux.devices", N("""[{"path":"/dev/x","type":"c","major":-1,"minor":3}]"""))),
        ["netDevices without netns"] = new("linux.netDevices", "requires a network namespace", All(NoNetworkNs, SetTo("linux.netDevices", N("""{"eth1":{}}""")))),
        ["netDevices bad host name"] = new("linux.netDevices['eth/0']", "invalid network interface name", SetTo("linux.netDevices", N("""{"eth/0":{}}"""))),
        ["netDevices bad name"] = new("linux.netDevices.eth1.name", "invalid network interface name \"a-very-long-interface-name\"", SetTo("linux.netDevices", N("""{"eth1":{"name":"a-very-long-interface-name"}}"""))),
        ["device rule access"] = new("linux.resources.devices[1].access", "must contain only the characters r, w and m, got \"rwx\"", SetTo("linux.resources.devices[1]", N("""{"allow":true,"type":"c","major":1,"minor":3,"access":"rwx"}"""))),
        ["device rule type"] = new("linux.resources.devices[1].type", "must be one of a, c or b, got \"z\"", SetTo("linux.resources.devices[1]", N("""{"allow":true,"type":"z","access":"r"}"""))),
        ["memory swap below limit"] = new("linux.resources.memory.swap", "must be greater than or equal to memory.limit (200000000), got 100000000", SetTo("linux.resources.memory", N("""{"limit":200000000,"swap":100000000}"""))),
        ["memory limit below -1"] = new("linux.resources.memory.limit", "must be -1 (unlimited) or a number of bytes, got -2", SetTo("linux.resources.memory", N("""{"limit":-2}"""))),
        ["memory reservation below -1"] = new("linux.resources.memory.reservation", "got -5", SetTo("linux.resources.memory", N("""{"reservation":-5}"""))),
        ["memory swappiness 101"] = new("linux.resources.memory.swappiness", "must be between 0 and 100, got 101", SetTo("linux.resources.memory", N("""{"swappiness":101}"""))),
        ["cpus syntax"] = new("linux.resources.cpu.cpus", "invalid CPU list \"0-3,a\"", SetTo("linux.resources.cpu", N("""{"cpus":"0-3,a"}"""))),
        ["cpus reversed range"] = new("linux.resources.cpu.cpus", "invalid CPU list \"3-1\"", SetTo("linux.resources.cpu", N("""{"cpus":"3-1"}"""))),
        ["mems syntax"] = new("linux.resources.cpu.mems", "invalid memory node list \"0,,1\"", SetTo("linux.resources.cpu", N("""{"mems":"0,,1"}"""))),
        ["cpu burst above quota"] = new("linux.resources.cpu.burst", "must not exceed cpu.quota (1000), got 2000", SetTo("linux.resources.cpu", N("""{"quota":1000,"burst":2000}"""))),
        ["cpu idle"] = new("linux.resources.cpu.idle", "must be 0 or 1, got 2", SetTo("linux.resources.cpu", N("""{"idle":2}"""))),
        ["weightDevice empty"] = new("linux.resources.blockIO.weightDevice[0]", "at least one of weight or leafWeight is required", SetTo("linux.resources.blockIO", N("""{"weightDevice":[{"major":8,"minor":0}]}"""))),
        ["hugepage size"] = new("linux.resources.hugepageLimits[0].pageSize", "invalid page size \"2M\"", SetTo("linux.resources.hugepageLimits", N("""[{"pageSize":"2M","limit":1}]"""))),
        ["network priority name"] = new("linux.resources.network.priorities[0].name", "is required", SetTo("linux.resources.network", N("""{"priorities":[{"priority":1}]}"""))),
        ["rdma empty"] = new("linux.resources.rdma.mlx5_1", "at least one of hcaHandles or hcaObjects is required", SetTo("linux.resources.rdma", N("""{"mlx5_1":{}}"""))),
        ["unified slash"] = new("linux.resources.unified['../memory.max']", "invalid cgroup v2 file name", SetTo("linux.resources.unified", N("""{"../memory.max":"1"}"""))),
        ["unified no controller"] = new("linux.resources.unified.max", "invalid cgroup v2 file name \"max\"", SetTo("linux.resources.unified", N("""{"max":"1"}"""))),
        ["sysctl net without netns"] = new("linux.sysctl['net.ipv4.ip_forward']", "requires a network namespace", All(NoNetworkNs, SetTo("linux.sysctl", N("""{"net.ipv4.ip_forward":"1"}""")))),
        ["sysctl shm without ipc"] = new("linux.sysctl['kernel.shmmax']", "requires an IPC namespace", All(NoIpcNs, SetTo("linux.sysctl", N("""{"kernel.shmmax":"1"}""")))),
        ["sysctl mqueue without ipc"] = new("linux.sysctl['fs.mqueue.msg_max']", "requires an IPC namespace", All(NoIpcNs, SetTo("linux.sysctl", N("""{"fs.mqueue.msg_max":"10"}""")))),
        ["sysctl hostname without uts"] = new("linux.sysctl['kernel.hostname']", "requires a UTS namespace", All(NoUtsNs, Without("hostname"), SetTo("linux.sysctl", N("""{"kernel.hostname":"x"}""")))),
        ["sysctl not namespaced"] = new("linux.sysctl['vm.swappiness']", "is not namespaced", SetTo("linux.sysctl", N("""{"vm.swappiness":"10"}"""))),
        ["sysctl kernel not namespaced"] = new("linux.sysctl['kernel.pid_max']", "is not namespaced", SetTo("linux.sysctl", N("""{"kernel.pid_max":"10"}"""))),
        ["seccomp default action unknown"] = new("linux.seccomp.defaultAction", "unknown seccomp action \"SCMP_ACT_FOO\"", All(Seccomp, SetTo("linux.seccomp.defaultAction", "SCMP_ACT_FOO"))),
        ["seccomp default action missing"] = new("linux.seccomp.defaultAction", "is required", All(Seccomp, Without("linux.seccomp.defaultAction"))),
        ["seccomp default notify"] = new("linux.seccomp.defaultAction", "SCMP_ACT_NOTIFY cannot be used as the default action", All(Seccomp, SetTo("linux.seccomp.defaultAction", "SCMP_ACT_NOTIFY"))),
        ["seccomp arch"] = new("linux.seccomp.architectures[1]", "unknown seccomp architecture \"SCMP_ARCH_FOO\"", All(Seccomp, SetTo("linux.seccomp.architectures[1]", "SCMP_ARCH_FOO"))),
        ["seccomp flag"] = new("linux.seccomp.flags[0]", "unknown seccomp flag", All(Seccomp, SetTo("linux.seccomp.flags", N("""["SECCOMP_FILTER_FLAG_FOO"]""")))),
        ["seccomp names empty"] = new("linux.seccomp.syscalls[0].names", "must contain at least one syscall name", All(Seccomp, SetTo("linux.seccomp.syscalls[0].names", new JsonArray()))),
        ["seccomp name empty"] = new("linux.seccomp.syscalls[0].names[1]", "must not be empty", All(Seccomp, SetTo("linux.seccomp.syscalls[0].names[1]", ""))),
        ["seccomp action unknown"] = new("linux.seccomp.syscalls[0].action", "unknown seccomp action \"SCMP_ACT_X\"", All(Seccomp, SetTo("linux.seccomp.syscalls[0].action", "SCMP_ACT_X"))),
        ["seccomp op unknown"] = new("linux.seccomp.syscalls[0].args[0].op", "unknown seccomp operator \"SCMP_CMP_X\"", All(Seccomp, SetTo("linux.seccomp.syscalls[0].args[0].op", "SCMP_CMP_X"))),
        ["seccomp arg index"] = new("linux.seccomp.syscalls[0].args[0].index", "must be between 0 and 5, got 6", All(Seccomp, SetTo("linux.seccomp.syscalls[0].args[0].index", 6))),
        ["seccomp errnoRet with allow"] = new("linux.seccomp.syscalls[0].errnoRet", "is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE", All(Seccomp, SetTo("linux.seccomp.syscalls[0].errnoRet", 1))),
        ["seccomp defaultErrnoRet with allow"] = new("linux.seccomp.defaultErrnoRet", "is only valid with SCMP_ACT_ERRNO", All(Seccomp, SetTo("linux.seccomp.defaultAction", "SCMP_ACT_ALLOW"), SetTo("linux.seccomp.defaultErrnoRet", 1))),
        ["seccomp metadata without listener"] = new("linux.seccomp.listenerMetadata", "must not be set without linux.seccomp.listenerPath", All(Seccomp, SetTo("linux.seccomp.listenerMetadata", "x"))),
        ["seccomp notify without listener"] = new("linux.seccomp.syscalls[0].action", "SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath", All(Seccomp, SetTo("linux.seccomp.syscalls[0].action", "SCMP_ACT_NOTIFY"))),
        ["seccomp notify write"] = new("linux.seccomp.syscalls[0].action", "cannot be used for the write syscall", All(Seccomp, SetTo("linux.seccomp.listenerPath", "/run/agent.sock"), SetTo("linux.seccomp.syscalls[0].action", "SCMP_ACT_NOTIFY"))),
        ["rootfsPropagation"] = new("linux.rootfsPropagation", "unknown propagation mode \"sharedx\"", SetTo("linux.rootfsPropagation", "sharedx")),
        ["maskedPaths relative"] = new("linux.maskedPaths[1]", "must be an absolute path, got \"proc/asound\"", SetTo("linux.maskedPaths[1]", "proc/asound")),
        ["readonlyPaths relative"] = new("linux.readonlyPaths[0]", "must be an absolute path", SetTo("linux.readonlyPaths[0]", "")),
        ["personality domain"] = new("linux.personality.domain", "unknown personality domain \"LINUX64\"", SetTo("linux.personality", N("""{"domain":"LINUX64"}"""))),
        ["personality flags"] = new("linux.personality.flags[0]", "unknown personality flag", SetTo("linux.personality", N("""{"domain":"LINUX","flags":["X"]}"""))),
        ["intelRdt closID"] = new("linux.intelRdt.closID", "must be a valid directory name, got \"a/b\"", SetTo("linux.intelRdt", N("""{"closID":"a/b"}"""))),
        ["intelRdt memBwSchema"] = new("linux.intelRdt.memBwSchema", "must start with \"MB:\"", SetTo("linux.intelRdt", N("""{"memBwSchema":"L3:0=1"}"""))),
        ["memoryPolicy mode"] = new("linux.memoryPolicy.mode", "unknown memory policy mode \"MPOL_FOO\"", SetTo("linux.memoryPolicy", N("""{"mode":"MPOL_FOO"}"""))),
        ["memoryPolicy nodes missing"] = new("linux.memoryPolicy.nodes", "is required for MPOL_BIND", SetTo("linux.memoryPolicy", N("""{"mode":"MPOL_BIND"}"""))),
        ["memoryPolicy nodes syntax"] = new("linux.memoryPolicy.nodes", "invalid NUMA node list \"0-x\"", SetTo("linux.memoryPolicy", N("""{"mode":"MPOL_BIND","nodes":"0-x"}"""))),
        ["memoryPolicy flag"] = new("linux.memoryPolicy.flags[0]", "unknown memory policy flag", SetTo("linux.memoryPolicy", N("""{"mode":"MPOL_LOCAL","flags":["MPOL_F_X"]}"""))),
        ["terminal detached without console socket"] = new("process.terminal", "no console socket was given", _ => { }, new ValidationOptions { Detached = true }),
        ["console socket without terminal"] = new("process.terminal", "a console socket was given but process.terminal is false", SetTo("process.terminal", false), new ValidationOptions { Detached = true, HasConsoleSocket = true }),
    };

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in s_cases.Keys)
        {
            data.Add(name);
        }
        return data;
    }

    [Fact]
    public void The_corpus_has_at_least_80_cases()
    {
        s_cases.Count.Should().BeGreaterThanOrEqualTo(80);
    }

    [Fact]
    public void The_base_config_is_valid()
    {
        ParseAndValidate(FixtureBytes("runc-spec.json")).Should().BeNull();
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Malformed_config_is_refused_naming_the_json_path(string name)
    {
        Case c = s_cases[name];
        JsonObject root = FixtureNode("runc-spec.json");
        c.Edit(root);
        byte[] json = Utf8(root.ToJsonString());

        SpecException? ex = ParseAndValidate(json, c.Options);

        ex.Should().NotBeNull($"case '{name}' must be refused");
        ex!.JsonPath.Should().Be(c.Path, ex.Message);
        ex.File.Should().Be("config.json");
        ex.Message.Should().StartWith($"config.json: {c.Path}: ");
        ex.Message.Should().Contain(c.Fragment);
        ex.Message.Should().NotContainAny("\n", "\r");
        ex.Message.Should().NotContain("System.", "messages must not leak .NET type names");
        ex.Message.Should().NotContain("$.", "paths are shown without the $. prefix");
    }

    [Fact]
    public void The_exact_message_for_a_string_memory_limit()
    {
        JsonObject root = FixtureNode("runc-spec.json");
        Set(root, "linux.resources.memory", N("""{"limit":"1G"}"""));

        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.Parse(Utf8(root.ToJsonString())));

        ex.Message.Should().Be("config.json: linux.resources.memory.limit: expected an integer, got \"1G\"");
        ex.Line.Should().Be(1);
        ex.Column.Should().BePositive();
    }
}
