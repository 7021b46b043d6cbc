#!/usr/bin/env python3
"""Receives a pty master over an OCI --console-socket and copies the container's terminal output to a file.

    console-socket.py SOCKET OUTFILE [INPUT]

Listens on the AF_UNIX socket SOCKET, accepts one connection, takes the fd sent with SCM_RIGHTS (the
master end of the container's pseudoterminal), optionally writes INPUT to it, then copies everything
read from it to OUTFILE until the slave side is closed by every process (EIO) or 60 s pass.
Writes OUTFILE.ready once listening, so callers can wait for it before running `create`.
"""
import array
import os
import select
import socket
import sys
import time


def main() -> int:
    path, out = sys.argv[1], sys.argv[2]
    data = sys.argv[3].encode() if len(sys.argv) > 3 else b""
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    open(out + ".ready", "w").close()
    server.settimeout(60)
    conn, _ = server.accept()
    fds = array.array("i")
    msg, ancdata, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    conn.close()
    server.close()
    if not fds:
        print("console-socket: no fd received", file=sys.stderr)
        return 1
    master = fds[0]
    if data:
        os.write(master, data)
    deadline = time.time() + 60
    with open(out, "wb") as f:
        while time.time() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave fd is closed
                break
            if not chunk:
                break
            f.write(chunk)
            f.flush()
    os.close(master)
    return 0


if __name__ == "__main__":
    sys.exit(main())
