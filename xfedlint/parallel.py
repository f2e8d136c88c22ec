"""Several worker processes for one scan: files are loaded in parallel, then the checks share the targets.

Results are exactly those of one process. Loading: each file is loaded on its own (`loaders.load_one`) and
the parent absorbs the results in scan order. Checking: workers are forked after loading, so they inherit
the inventory without copying it; each (the parent being one) runs every rule on its share of the targets (a
whole-inventory check runs whole in one of them) and sends back its findings, positions resolved; the parent
puts them back in the order one process would have produced, then supersession, escalators and sorting run
as usual.

Forking is required (Linux, macOS); where it is unavailable the scan runs in one process.
"""

from __future__ import annotations

import multiprocessing
import os

from xfedlint.checks import CHECKS
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


def check(inventory, rules: list, params: dict, config, xf002, jobs: int) -> list[list]:
    """Per rule (in `rules` order), the finding/anchor pairs one process would have produced, in its order."""
    global _check_state
    _check_state = (inventory, rules, params, config, xf002)
    # The parent takes share 0 itself: it would wait idle otherwise, and what its share computes once per
    # run (the federation graph, indexes) is what the escalators that follow in the parent need again.
    with _pool(jobs - 1) as pool:
        others = pool.map_async(_check_share, [(k, jobs) for k in range(1, jobs)])
        shares = [_check_share((0, jobs))] + others.get()
    _check_state = ()
    merged = []
    for r, _rule in enumerate(rules):
        entries = [entry for share in shares for entry in share[r]]
        entries.sort(key=lambda e: e[0])
        merged.append([pair for _i, pairs in entries for pair in pairs])
    return merged


def _check_share(task: tuple[int, int]) -> list[list]:
    """One worker's share: every per-resource rule on targets k, k+n, ...; whole-inventory rules r with
    r modulo n == k (they cannot be split)."""
    from xfedlint import engine

    k, n = task
    inventory, rules, params, config, xf002 = _check_state
    out = []
    for r, rule in enumerate(rules):
        if CHECKS[rule.check].kind is None:
            share = engine.check_targets(inventory, rule, params, config, xf002) if r % n == k else []
        else:
            share = engine.check_targets(inventory, rule, params, config, xf002, shard=(k, n))
        out.append(share)
    # Place this share's findings here, in parallel: locations resolved, fingerprints computed.
    findings = [f for share in out for _i, pairs in share for f, _anchor in pairs]
    placed = iter(engine.place(findings, inventory.texts))
    return [[(i, [(next(placed), anchor) for _f, anchor in pairs]) for i, pairs in share] for share in out]
