#!/usr/bin/env python3
"""Times whole commands round by round, in a shuffled order each round, so that a noisy neighbour
or the writeback left behind by the previous command hits every command alike. The first command
is the baseline: prints each command's median and minimum and its median per-round ratio to it.

Usage: bench/Fuse/interleaved.py ROUNDS NAME=COMMAND [NAME=COMMAND ...]
  e.g. bench/Fuse/interleaved.py 15 "cp=cp w.weights copy.weights" \\
         "fuse=dotnet-neural fuse yolov3.cfg --weights w.weights -o out --verify none"
"""
import os
import random
import statistics
import subprocess
import sys
import time

rounds = int(sys.argv[1])
commands = [arg.split("=", 1) for arg in sys.argv[2:]]
times = {name: [] for name, _ in commands}
quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "shell": True}
for _, command in commands:  # one warm-up each
    subprocess.run(command, **quiet)
random.seed(1)
for _ in range(rounds):
    order = list(commands)
    random.shuffle(order)
    for name, command in order:
        start = time.perf_counter()
        subprocess.run(command, **quiet)
        times[name].append((time.perf_counter() - start) * 1000)
baseline = times[commands[0][0]]
for name, _ in commands:
    ratios = [t / b for t, b in zip(times[name], baseline)]
    print(f"{name:20s} median {statistics.median(times[name]):7.1f} ms  min {min(times[name]):7.1f} ms"
          f"  median ratio to {commands[0][0]} {statistics.median(ratios):.2f}")
print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
