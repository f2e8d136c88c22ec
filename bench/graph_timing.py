"""Time the federation graph build on a generated corpus: `python bench/graph_timing.py DIR [--runs 5]`.

Loads the corpus once (`discover` + `load_files`, not timed into the result), then times
`xfedlint.graph.build.build()` `--runs` times and prints the number of files, nodes and edges and the median
build time in seconds (and the first run's). Every run starts cold: the per-run memo the inventory keeps
(token resolution, indexes) is cleared before each build, as a fresh scan would have it. `--profile N`
prints the N most expensive functions of one more build (cProfile, cumulative time).

Make a corpus first: `python bench/generate.py --files 10000 --out /tmp/corpus-10k`.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from xfedlint.graph.build import build  # noqa: E402
from xfedlint.loaders import load_files  # noqa: E402
from xfedlint.loaders.files import discover  # noqa: E402


def _cold(inventory) -> None:
    inventory._indexes.clear()  # the memo of a previous build (token uses, indexes): each run is a first run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time xfedlint.graph.build.build() on a corpus.")
    parser.add_argument("corpus", help="folder written by bench/generate.py")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also profile one build: top N")
    args = parser.parse_args(argv)
    gc.disable()  # as `xfedlint scan` does (xfedlint.api.scan): long-lived objects, almost no cycles
    files, missing = discover((args.corpus,))
    if not files:
        print(f"no input files in {args.corpus}", file=sys.stderr)
        return 3
    t0 = time.perf_counter()
    inventory = load_files(files)
    load_s = time.perf_counter() - t0
    times = []
    fed = None
    for _ in range(args.runs):
        _cold(inventory)
        t = time.perf_counter()
        fed = build(inventory)
        times.append(time.perf_counter() - t)
    g = fed.graph
    print(f"files {len(files)}  problems {len(inventory.problems)}  resources {len(inventory)}  "
          f"nodes {len(g.nodes)}  edges {len(g.edges)}")
    print(f"load {load_s:.3f} s  build median {statistics.median(times):.4f} s  first {times[0]:.4f} s  "
          f"min {min(times):.4f} s  max {max(times):.4f} s  ({args.runs} runs)")
    if args.profile:
        import cProfile
        import pstats

        _cold(inventory)
        prof = cProfile.Profile()
        prof.enable()
        build(inventory)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
