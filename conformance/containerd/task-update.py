#!/usr/bin/python3
"""Tasks.Update through containerd's gRPC API, as the CRI plugin's UpdateContainerResources calls it.

    task-update.py SOCKET NAMESPACE CONTAINER-ID RESOURCES.json

ctr 1.6 has no `task update`: this sends containerd.services.tasks.v1.UpdateTaskRequest with the whole
linux.resources block as a google.protobuf.Any of type types.containerd.io/opencontainers/runtime-spec/1/LinuxResources
(containerd's typeurl carries such non-protobuf types as JSON), hand-encoded: no generated stubs are needed. The shim
then runs `<runtime> update --resources - ID` with that JSON on stdin (go-runc). Exits 0 on success; prints the gRPC
status and message and exits 1 otherwise.
"""
import sys

import grpc


def field(number, data):
    """A length-delimited protobuf field (wire type 2)."""
    key = (number << 3) | 2
    out = bytearray()
    for value in (key, len(data)):
        while True:
            byte = value & 0x7F
            value >>= 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                break
    return bytes(out) + data


def main():
    socket, namespace, container, path = sys.argv[1:5]
    with open(path, "rb") as f:
        resources = f.read()
    any_ = field(1, b"types.containerd.io/opencontainers/runtime-spec/1/LinuxResources") + field(2, resources)
    request = field(1, container.encode()) + field(2, any_)
    channel = grpc.insecure_channel("unix://" + socket)
    update = channel.unary_unary("/containerd.services.tasks.v1.Tasks/Update",
                                 request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        update(request, metadata=[("containerd-namespace", namespace)], timeout=60)
    except grpc.RpcError as e:
        print(f"{e.code().name}: {e.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
