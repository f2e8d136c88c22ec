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

from xfedlint import engine
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
CHUNKS_PER_JOB = 8  # the files go in jobs * 8 chunks, taken by whichever process is free


def check(inventory, rules: list, params: dict, config, xf002, jobs: int) -> list[list]:
    """Per rule (in `rules` order), the finding/anchor pairs one process would have produced, in its order.

    What every process would otherwise compute again is computed once, before the workers are forked: the
    federation graph, with every workload's token resolution (a third of all the checking), when a
    correlation rule runs. The workers inherit it. Then each process, the parent included, takes units
    from a shared counter until none is left: a whole-inventory rule, or a chunk of the files (every m-th
    file in scan order), with every rule's targets in them. A file's resources stay together in one process:
    its positions are parsed once to place its findings, and its workloads' memos are computed once."""
    global _check_state
    if any(CHECKS[rule.check].correlates for rule in rules):
        try:
            CheckContext(inventory, {}, config).federation  # noqa: B018 - built here to be shared
        except Exception:  # noqa: S110 - not built: each rule that needs it fails alone, as XF002 (engine)
            pass
    m = jobs * CHUNKS_PER_JOB
    chunk_of = {file: i % m for i, file in enumerate(inventory.texts)}
    plan: list[list] = [[] for _ in range(m)]  # chunk -> [(rule position, target positions)]
    units: list[list] = []
    for r, rule in enumerate(rules):
        if CHECKS[rule.check].kind is None:
            units.append([(r, None)])
            continue
        by_chunk: dict[int, list] = {}
        for i, resource in enumerate(engine.targets(inventory, rule)):
            by_chunk.setdefault(chunk_of.get(resource.src.file, 0), []).append(i)
        for c, positions in by_chunk.items():
            plan[c].append((r, positions))
    units.extend(p for p in plan if p)
    counter = multiprocessing.get_context("fork").Value("i", 0)
    _check_state = (inventory, rules, params, config, xf002, units, counter)
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
    inventory, rules, params, config, xf002, units, counter = _check_state
    out: dict[int, list] = {}
    while True:
        with counter.get_lock():
            u = counter.value
            counter.value += 1
        if u >= len(units):
            return _placed(out)
        for r, positions in units[u]:
            out.setdefault(r, []).extend(engine.check_targets(inventory, rules[r], params, config, xf002,
                                                              only=positions))


def _placed(out: dict) -> dict:
    """`out` with its findings placed, here, in parallel: locations resolved, fingerprints computed (each
    file's positions parsed once for all the findings this process made in it)."""
    findings = [f for share in out.values() for _i, pairs in share for f, _anchor in pairs]
    placed = iter(engine.place(findings, _check_state[0].texts))
    return {r: [(i, [(next(placed), anchor) for _f, anchor in pairs]) for i, pairs in share]
            for r, share in out.items()}
