#!/usr/bin/python3
"""A minimal CRI client (runtime.v1, as the kubelet speaks it) for containerd's CRI plugin, over python3-grpcio.

The requests are hand-encoded protobuf and the few response fields read are hand-decoded: no generated stubs, no
crictl (Debian 12 has none). Field numbers are those of k8s.io/cri-api pkg/apis/runtime/v1/api.proto.

    cri.py SOCKET version
    cri.py SOCKET image-status IMAGE                         -> {"id": ..., "size": N} or {} when unknown
    cri.py SOCKET runp [POD OPTIONS]                         -> pod sandbox id
    cri.py SOCKET pod-status POD_ID                          -> {"state": "SANDBOX_READY", ...}
    cri.py SOCKET create POD_ID NAME IMAGE [POD OPTIONS] [--memory BYTES] [--pid pod|container] -- CMD...
                                                             -> container id
    cri.py SOCKET start|rm|stopp|rmp ID
    cri.py SOCKET status ID                                  -> {"state": "CONTAINER_RUNNING", "exit_code": 0, ...}
    cri.py SOCKET exec ID TIMEOUT -- CMD...                  -> {"stdout": ..., "stderr": ..., "exit_code": N}
    cri.py SOCKET update ID MEMORY_BYTES
    cri.py SOCKET stop ID TIMEOUT
    cri.py SOCKET list POD_ID                                -> {"ID": "STATE", ...}

POD OPTIONS (the same for runp and for create's sandbox_config, as the kubelet sends it again):
    --name N --uid U --handler H --cgroup-parent P --log-dir D
Every pod and container uses the node's network namespace (NamespaceOption network = NODE): no CNI is needed.
Each call has a deadline (--deadline seconds, default 30). Prints the gRPC status and exits 1 on an error.
"""
import argparse
import json
import sys

import grpc

SERVICE = "/runtime.v1.RuntimeService/"
IMAGE_SERVICE = "/runtime.v1.ImageService/"

# NamespaceMode
POD, CONTAINER, NODE = 0, 1, 2
CONTAINER_STATES = ["CONTAINER_CREATED", "CONTAINER_RUNNING", "CONTAINER_EXITED", "CONTAINER_UNKNOWN"]
SANDBOX_STATES = ["SANDBOX_READY", "SANDBOX_NOTREADY"]


# ---- encoding ----------------------------------------------------------------------------------------------------
def varint(value):
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def vfield(number, value):
    """A varint field (wire type 0): int32/int64/uint32/bool/enum. Zero is left out, as proto3 does."""
    return varint(number << 3) + varint(int(value)) if value else b""


def lfield(number, data):
    """A length-delimited field (wire type 2): string, bytes, embedded message."""
    if isinstance(data, str):
        data = data.encode()
    return varint((number << 3) | 2) + varint(len(data)) + data


def sfields(number, values):
    """A repeated string field."""
    return b"".join(lfield(number, v) for v in values)


def mfield(number, mapping):
    """A map<string, string> field: one entry message {key = 1, value = 2} per pair."""
    return b"".join(lfield(number, lfield(1, k) + lfield(2, v)) for k, v in mapping.items())


# ---- decoding ----------------------------------------------------------------------------------------------------
def decode(data):
    """{field number: [values]}: ints for varints, bytes for length-delimited fields."""
    fields, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = read_varint(data, i)
        elif wire == 2:
            length, i = read_varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire == 1:
            value, i = int.from_bytes(data[i:i + 8], "little"), i + 8
        elif wire == 5:
            value, i = int.from_bytes(data[i:i + 4], "little"), i + 4
        else:
            raise ValueError(f"wire type {wire} of field {number}")
        fields.setdefault(number, []).append(value)
    return fields


def read_varint(data, i):
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def one(fields, number, default=0):
    return fields.get(number, [default])[-1]


def signed32(value):
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def text(fields, number):
    return one(fields, number, b"").decode(errors="replace")


# ---- messages ------------------------------------------------------------------------------------------------------
def namespace_option(network, pid, ipc):
    # NamespaceOption: network = 1, pid = 2, ipc = 3
    return vfield(1, network) + vfield(2, pid) + vfield(3, ipc)


def pod_sandbox_config(a):
    # PodSandboxMetadata: name = 1, uid = 2, namespace = 3, attempt = 4
    metadata = lfield(1, a.name) + lfield(2, a.uid) + lfield(3, "conformance")
    # LinuxSandboxSecurityContext: namespace_options = 1; LinuxPodSandboxConfig: cgroup_parent = 1, security_context = 2
    security = lfield(1, namespace_option(NODE, CONTAINER, POD))
    linux = (lfield(1, a.cgroup_parent) if a.cgroup_parent else b"") + lfield(2, security)
    # PodSandboxConfig: metadata = 1, hostname = 2, log_directory = 3, labels = 6, linux = 8
    return (lfield(1, metadata) + (lfield(3, a.log_dir) if a.log_dir else b"")
            + mfield(6, {"conformance": "cri"}) + lfield(8, linux))


def container_config(a):
    # ContainerMetadata: name = 1, attempt = 2; ImageSpec: image = 1
    metadata = lfield(1, a.container_name)
    image = lfield(1, a.image)
    # LinuxContainerResources: memory_limit_in_bytes = 4
    resources = vfield(4, a.memory)
    # LinuxContainerSecurityContext: namespace_options = 3
    pid = {"pod": POD, "container": CONTAINER}[a.pid]
    security = lfield(3, namespace_option(NODE, pid, POD))
    # LinuxContainerConfig: resources = 1, security_context = 2
    linux = (lfield(1, resources) if resources else b"") + lfield(2, security)
    # ContainerConfig: metadata = 1, image = 2, command = 3, args = 4, envs = 6, labels = 9, log_path = 11, linux = 15
    return (lfield(1, metadata) + lfield(2, image) + sfields(3, a.cmd[:1]) + sfields(4, a.cmd[1:])
            + lfield(6, lfield(1, "CONFORMANCE") + lfield(2, "cri"))
            + mfield(9, {"conformance": "cri"})
            + (lfield(11, a.container_name + ".log") if a.log_dir else b"") + lfield(15, linux))


def container_status(data):
    status = decode(one(decode(data), 1, b""))
    # ContainerStatus: id = 1, state = 3, created_at = 4, started_at = 5, finished_at = 6, exit_code = 7,
    # reason = 10, message = 11, log_path = 15
    state = one(status, 3)
    return {
        "id": text(status, 1),
        "state": CONTAINER_STATES[state] if state < len(CONTAINER_STATES) else str(state),
        "created_at": one(status, 4), "started_at": one(status, 5), "finished_at": one(status, 6),
        "exit_code": signed32(one(status, 7)), "reason": text(status, 10), "message": text(status, 11),
        "log_path": text(status, 15),
    }


# ---- calls ----------------------------------------------------------------------------------------------------------
def call(channel, method, request, deadline, service=SERVICE):
    stub = channel.unary_unary(service + method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    return stub(request, timeout=deadline)


def main():
    p = argparse.ArgumentParser(description="minimal CRI runtime.v1 client")
    p.add_argument("socket")
    p.add_argument("verb")
    p.add_argument("args", nargs="*")
    p.add_argument("--deadline", type=float, default=30)
    p.add_argument("--name", default="pod")
    p.add_argument("--uid", default="")
    p.add_argument("--handler", default="")
    p.add_argument("--cgroup-parent", default="")
    p.add_argument("--log-dir", default="")
    p.add_argument("--memory", type=int, default=0)
    p.add_argument("--pid", choices=["pod", "container"], default="container")
    argv = sys.argv[1:]
    cmd = []
    if "--" in argv:
        cut = argv.index("--")
        argv, cmd = argv[:cut], argv[cut + 1:]
    a = p.parse_args(argv)
    a.cmd = cmd
    a.uid = a.uid or "uid-" + a.name
    ch = grpc.insecure_channel("unix://" + a.socket)
    v, args, d = a.verb, a.args, a.deadline
    try:
        if v == "version":
            r = decode(call(ch, "Version", lfield(1, "v1"), d))
            # VersionResponse: version = 1, runtime_name = 2, runtime_version = 3, runtime_api_version = 4
            print(json.dumps({"runtime_name": text(r, 2), "runtime_version": text(r, 3),
                              "runtime_api_version": text(r, 4)}))
        elif v == "image-status":
            # ImageStatusRequest: image = 1 (ImageSpec); ImageStatusResponse: image = 1 (Image: id = 1, size = 4)
            r = decode(call(ch, "ImageStatus", lfield(1, lfield(1, args[0])), d, IMAGE_SERVICE))
            image = decode(one(r, 1, b""))
            print(json.dumps({"id": text(image, 1), "size": one(image, 4)} if image else {}))
        elif v == "runp":
            # RunPodSandboxRequest: config = 1, runtime_handler = 2; response: pod_sandbox_id = 1
            r = decode(call(ch, "RunPodSandbox", lfield(1, pod_sandbox_config(a)) + lfield(2, a.handler), d))
            print(text(r, 1))
        elif v == "pod-status":
            # PodSandboxStatusRequest: pod_sandbox_id = 1; response: status = 1 (PodSandboxStatus: id = 1, state = 3)
            status = decode(one(decode(call(ch, "PodSandboxStatus", lfield(1, args[0]), d)), 1, b""))
            print(json.dumps({"id": text(status, 1), "state": SANDBOX_STATES[one(status, 3)]}))
        elif v == "create":
            a.container_name, a.image = args[1], args[2]
            # CreateContainerRequest: pod_sandbox_id = 1, config = 2, sandbox_config = 3; response: container_id = 1
            request = lfield(1, args[0]) + lfield(2, container_config(a)) + lfield(3, pod_sandbox_config(a))
            print(text(decode(call(ch, "CreateContainer", request, d)), 1))
        elif v in ("start", "rm", "stopp", "rmp"):
            # Start/RemoveContainerRequest: container_id = 1; Stop/RemovePodSandboxRequest: pod_sandbox_id = 1
            method = {"start": "StartContainer", "rm": "RemoveContainer",
                      "stopp": "StopPodSandbox", "rmp": "RemovePodSandbox"}[v]
            call(ch, method, lfield(1, args[0]), d)
        elif v == "status":
            # ContainerStatusRequest: container_id = 1, verbose = 2
            print(json.dumps(container_status(call(ch, "ContainerStatus", lfield(1, args[0]), d))))
        elif v == "exec":
            # ExecSyncRequest: container_id = 1, cmd = 2, timeout = 3; response: stdout = 1, stderr = 2, exit_code = 3
            request = lfield(1, args[0]) + sfields(2, a.cmd) + vfield(3, int(args[1]))
            r = decode(call(ch, "ExecSync", request, d))
            print(json.dumps({"stdout": text(r, 1), "stderr": text(r, 2), "exit_code": signed32(one(r, 3))}))
        elif v == "update":
            # UpdateContainerResourcesRequest: container_id = 1, linux = 2 (LinuxContainerResources:
            # memory_limit_in_bytes = 4)
            call(ch, "UpdateContainerResources", lfield(1, args[0]) + lfield(2, vfield(4, int(args[1]))), d)
        elif v == "stop":
            # StopContainerRequest: container_id = 1, timeout = 2
            call(ch, "StopContainer", lfield(1, args[0]) + vfield(2, int(args[1])), d)
        elif v == "list":
            # ListContainersRequest: filter = 1 (ContainerFilter: pod_sandbox_id = 3); response: containers = 1
            # (Container: id = 1, state = 6)
            r = decode(call(ch, "ListContainers", lfield(1, lfield(3, args[0])), d))
            out = {}
            for c in r.get(1, []):
                c = decode(c)
                out[text(c, 1)] = CONTAINER_STATES[one(c, 6)]
            print(json.dumps(out))
        else:
            p.error(f"unknown verb {v}")
    except grpc.RpcError as e:
        print(f"{v}: {e.code().name}: {e.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
