"""Several worker processes for one scan: files are loaded in parallel, then the checks share the work.

Results are exactly those of one process. Loading: each file is loaded on its own (`loaders.load_one`) and
the parent absorbs the results in scan order. Checking: what every process would compute again (the
federation graph) is built first; workers are then forked, so they inherit the inventory and the graph
without copying them; each process (the parent being one) takes units of work from a shared counter and
sends back its findings, positions resolved; the parent puts them back in the order one process would have
produced, then supersession, escalators and sorting run as usual.

Forking is required (Linux, macOS); where it is unavailable the scan runs in one process."""

from __future__ import annotations

import multiprocessing
import os

from xfedlint.checks import CHECKS
from xfedlint.checks.base import CheckContext
from xfedlint.loaders import FileLoad, load_one
from xfedlint.loaders.files import STDIN, InputFile

MIN_FILES_PER_WORKER = 1000  # each worker should have at least this many files to load
MAX_WORKERS = 8


def available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def default_jobs(n_files: int) -> int:
    """Workers for a scan of `n_files` when --jobs is not given: the usable CPUs, fewer for a small scan."""
    if not available():
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS, n_files // MIN_FILES_PER_WORKER))


def _pool(jobs: int):
    return multiprocessing.get_context("fork").Pool(jobs)


# --- loading ---------------------------------------------------------------------------------------------

_load_args: tuple = ()


def load(files: list[InputFile], size_cap: int, policy_levels: dict, jobs: int):
    """FileLoads of `files`, in order; standard input is read here, in the parent.

    The files go in consecutive batches, dealt round-robin: every `jobs`-th batch is loaded by the parent
    itself (nothing to pickle), the others by `jobs` - 1 workers, which run ahead while the parent loads its
    own. Dealing small batches keeps the shares even whatever the mix of file kinds (a folder of JSON
    policies loads several times faster than one of YAML manifests)."""
    global _load_args
    _load_args = (size_cap, policy_levels)
    size = max(1, min(64, len(files) // (jobs * 8) or 1))
    batches = [files[i:i + size] for i in range(0, len(files), size)]
    with _pool(jobs - 1) as pool:
        theirs = pool.imap(_load_batch, [b for i, b in enumerate(batches) if i % jobs])
        for i, batch in enumerate(batches):
            yield from _load_batch(batch) if i % jobs == 0 else next(theirs)


def _load_batch(batch: list[InputFile]) -> list[FileLoad]:
    size_cap, policy_levels = _load_args
    return [load_one(f, size_cap, policy_levels) for f in batch]


def can_load(files: list[InputFile]) -> bool:
    return available() and not any(f.path == STDIN for f in files)


# --- checking ----------------------------------------------------------------------------------------------

_check_state: tuple = ()
CHUNKS_PER_JOB = 8  # the targets go in jobs * 8 chunks, taken by whichever process is free


def check(inventory, rules: list, params: dict, config, xf002, jobs: int) -> list[list]:
    """Per rule (in `rules` order), the finding/anchor pairs one process would have produced, in its order.

    What every process would otherwise compute again is computed once, before the workers are forked: the
    federation graph, with every workload's token resolution (a third of all the checking), when a
    correlation rule runs. The workers inherit it. Then each process, the parent included, takes units
    from a shared counter until none is left: a whole-inventory rule, or a chunk of the targets of every
    other rule (targets i, i + m, i + 2m, ...: a workload's memos stay in one process)."""
    global _check_state
    if any(CHECKS[rule.check].correlates for rule in rules):
        CheckContext(inventory, {}, config).federation  # noqa: B018 - built here to be shared
    whole = [r for r, rule in enumerate(rules) if CHECKS[rule.check].kind is None]
    m = jobs * CHUNKS_PER_JOB
    units = [("whole", r) for r in whole] + [("chunk", c) for c in range(m)]
    counter = multiprocessing.get_context("fork").Value("i", 0)
    _check_state = (inventory, rules, params, config, xf002, units, m, counter)
    try:
        with _pool(jobs - 1) as pool:
            others = pool.map_async(_take_units, range(jobs - 1))
            done = [_take_units(None)]
            done.extend(others.get())
    finally:
        _check_state = ()
    merged = []
    for r, _rule in enumerate(rules):
        entries = [entry for part in done for entry in part.get(r, ())]
        entries.sort(key=lambda e: e[0])
        merged.append([pair for _i, pairs in entries for pair in pairs])
    return merged


def _take_units(_worker) -> dict:
    """Take units from the shared counter until none is left; their findings by rule position, placed."""
    _inventory, rules, _params, _config, _xf002, units, m, counter = _check_state
    chunked = [r for r, rule in enumerate(rules) if CHECKS[rule.check].kind is not None]
    out: dict[int, list] = {}
    while True:
        with counter.get_lock():
            u = counter.value
            counter.value += 1
        if u >= len(units):
            return _placed(out)
        what, x = units[u]
        _run_rules([(x, (0, 1))] if what == "whole" else [(r, (x, m)) for r in chunked], out)


def _run_rules(todo: list, out: dict) -> dict:
    """Adds to `out` {rule position: [(target position, finding/anchor pairs)]} for (rule position, shard)s."""
    from xfedlint import engine

    inventory, rules, params, config, xf002, *_ = _check_state
    for r, shard in todo:
        out.setdefault(r, []).extend(engine.check_targets(inventory, rules[r], params, config, xf002, shard=shard))
    return out


def _placed(out: dict) -> dict:
    """`out` with its findings placed, here, in parallel: locations resolved, fingerprints computed (each
    file's positions parsed once for all the findings this process made in it)."""
    from xfedlint import engine

    findings = [f for share in out.values() for _i, pairs in share for f, _anchor in pairs]
    placed = iter(engine.place(findings, _check_state[0].texts))
    return {r: [(i, [(next(placed), anchor) for _f, anchor in pairs]) for i, pairs in share]
            for r, share in out.items()}
