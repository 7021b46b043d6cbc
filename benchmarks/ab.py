#!/usr/bin/env python3
"""Interleaved A/B timing: runs each command once per round, N rounds, and prints median, p25 and min wall time (ms).
Unlike hyperfine's all-A-then-all-B, drift of a noisy VM hits every command alike.
    benchmarks/ab.py 150 "./ocirun-old --root /dev/shm/a run -b B x" "./ocirun --root /dev/shm/b run -b B x"
"""
import statistics
import subprocess
import sys
import time

rounds = int(sys.argv[1])
commands = [c.split() for c in sys.argv[2:]]
times = [[] for _ in commands]
for _ in range(rounds):
    for k, command in enumerate(commands):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times[k].append((time.perf_counter() - start) * 1000)
for k, command in enumerate(commands):
    t = sorted(times[k])
    print(f"median {statistics.median(t):7.2f}  p25 {t[len(t) // 4]:7.2f}  min {t[0]:7.2f}  {' '.join(command)}")
