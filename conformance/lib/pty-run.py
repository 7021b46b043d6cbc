#!/usr/bin/env python3
"""Runs a command on a fresh pseudoterminal, as a user at a terminal would, and prints what it wrote.

    pty-run.py TIMEOUT COMMAND [ARG...]

The command gets a new session whose controlling terminal is the slave of a new pty (24 rows, 80 columns,
TERM=xterm whatever the caller's environment says), with nothing typed on it. Everything the command writes
to the terminal is copied to stdout (CR LF turned into LF) until the slave side is closed by every process.
Exits with the command's exit status; after TIMEOUT seconds the command's process group is killed, a line
"pty-run: timed out after N s" goes to stderr, and the exit status is 124 (as timeout(1)).

Clients such as `ctr run -t` and `podman run -t` need TERM and a window size to attach; `script` gives neither
when the caller has none (a CI job), so the conformance suites use this instead.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    limit = float(sys.argv[1])
    argv = sys.argv[2:]
    env = dict(os.environ, TERM="xterm", LINES="24", COLUMNS="80")
    pid, master = pty.fork()
    if pid == 0:
        try:
            os.execvpe(argv[0], argv, env)
        except OSError as e:
            os.write(2, f"pty-run: {argv[0]}: {e.strerror}\n".encode())
        os._exit(127)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    deadline = time.monotonic() + limit
    out = bytearray()
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([master], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every slave fd is closed
            break
        if not chunk:
            break
        out += chunk
    if timed_out:
        try:
            os.killpg(pid, signal.SIGKILL)  # pty.fork made the child a session (and group) leader
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    os.close(master)
    sys.stdout.write(out.replace(b"\r\n", b"\n").replace(b"\r", b"").replace(b"\0", b"").decode(errors="replace"))
    sys.stdout.flush()
    if timed_out:
        print(f"pty-run: timed out after {limit:g} s: {' '.join(argv)}", file=sys.stderr)
        return 124
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    sys.exit(main())
