"""Run one command and measure it: wall time, CPU time and peak memory of its whole process tree.

`python bench/measure.py [--timeout S] -- CMD ARGS...` prints one JSON object:
`{"wall": s, "cpu": s, "peak_rss": bytes, "peak_pss": bytes, "max_process_rss": bytes, "rc": n, "timed_out": b}`.

- wall: from start to exit; cpu: user + system time of the command and every descendant it waited for
  (getrusage of this process's children, which the command's own workers are counted into when it reaps them);
- peak_rss: the largest sum of resident memory over the process tree, sampled every 20 ms from
  /proc/PID/statm; peak_pss: the same with proportional set size (pages shared after fork counted once, the
  honest total for forked workers), sampled every 0.5 s only, as reading it stalls the process measured (so
  it may miss a short peak); max_process_rss: the kernel's peak RSS of the largest single process (ru_maxrss).

Linux only (/proc); elsewhere the memory fields are null. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss(pid: int) -> int:
    """Resident bytes of one process from /proc/PID/statm: cheap, takes no lock of the process."""
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss(pid: int) -> int:
    """Proportional set size from smaps_rollup. Reading it walks the page tables under the process's memory
    lock (a 250 MB process stalls while it is read), so it is sampled far less often than RSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class _Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.02, pss_every: int = 25):
        super().__init__(daemon=True)
        self.pid, self.interval, self.pss_every = pid, interval, pss_every
        self.peak_rss = self.peak_pss = 0
        self.done = threading.Event()

    def run(self) -> None:
        tick = 0
        while not self.done.is_set():
            tree = _tree(self.pid)
            self.peak_rss = max(self.peak_rss, sum(_rss(p) for p in tree))
            if tick % self.pss_every == 0:
                self.peak_pss = max(self.peak_pss, sum(_pss(p) for p in tree))
            tick += 1
            self.done.wait(self.interval)


def measure(cmd: list[str], timeout: float | None = None) -> dict:
    # As a user runs it: with the bytecode cache (some sandboxes set PYTHONDONTWRITEBYTECODE, which makes
    # every run compile every module again).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    sampler = _Sampler(proc.pid) if os.path.isdir("/proc") else None
    if sampler:
        sampler.start()
    timed_out = False
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        rc = proc.wait()
    wall = time.perf_counter() - start
    if sampler:
        sampler.done.set()
        sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rc": rc, "timed_out": timed_out,
            "peak_rss": sampler.peak_rss if sampler else None, "peak_pss": sampler.peak_pss if sampler else None,
            # ru_maxrss is a maximum over all children ever reaped, so it is exact only in a fresh process
            "max_process_rss": after.ru_maxrss * 1024 if sys.platform != "darwin" else after.ru_maxrss}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("no command given")
    print(json.dumps(measure(cmd, args.timeout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
