"""The one entry point the CLI calls (and tests call): paths in, `RunResult` out.

`config` (xfedlint.config.Config, found and validated by the CLI) gives the defaults; the keyword arguments
are the command line's and win: `select`/`ignore` replace the config's lists when given, `exclude` adds
to them. The config's rule IDs and params are checked against the loaded rules (a typo is a UsageError).
Its severity overrides are applied to the run's findings here, after the engine; then suppressions, in this
order (the first that covers a finding names it): inline comments and the Kubernetes annotation
(`suppress`, kind inSource), the config's per-path ignores, `baseline`, `write_baseline` (kind external).
Suppressed findings stay in the result (`Finding.suppression`); what a suppression could not do is a notice
(`result.notices`, `suppress.Notice`), never a failure.
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from pathlib import Path

from msgspec.structs import replace

from xfedlint import baseline as baselines
from xfedlint import engine, registry, suppress
from xfedlint.config import Config
from xfedlint.findings import RunResult
from xfedlint.loaders import load_files
from xfedlint.loaders.files import STDIN, discover, display_path
from xfedlint.model.inventory import Inventory
from xfedlint.model.resources import K8sObject


def scan(paths: tuple[str, ...] = (".",), **options) -> RunResult:
    """Scan `paths` (see `_scan` for the options) with the cyclic garbage collector paused.

    A scan allocates millions of small objects that live until it ends (documents, resources, indexes) and
    makes almost no reference cycles; left on, the collector re-walks that growing heap again and again
    (a third of the time of a 10,000-file scan). Reference counting still frees what is dropped.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _scan(paths, **options)
    finally:
        if enabled:
            gc.enable()


def _scan(paths: tuple[str, ...] = (".",), *, config: Config | None = None, select: tuple = (), ignore: tuple = (),
         exclude: tuple = (), size_cap: int | None = None, params: dict | None = None,
         policy_levels: dict | None = None, rules_dir: Path | None = None, baseline: str | None = None,
         write_baseline: str | None = None, jobs: int | None = None) -> RunResult:
    """`baseline`: a file written by `write_baseline`, whose findings are reported as suppressed.
    `write_baseline`: record the findings not otherwise suppressed in that file; they are then suppressed
    in this run as well (as in a later run with `baseline=` that file). It may name the `baseline` file
    itself, which then need not exist yet."""
    config = config or Config()
    recorded = None
    if baseline:
        same = write_baseline is not None and os.path.abspath(baseline) == os.path.abspath(write_baseline)
        recorded = baselines.read(baseline, missing_ok=same)
    all_rules = registry.load_rules(rules_dir)
    config.check_rules(all_rules)
    rules = registry.select(all_rules, tuple(select) or config.select, tuple(ignore) or config.ignore)
    files, missing, levels = discover_inputs(tuple(paths), tuple(exclude), config)
    own = {os.path.abspath(b) for b in (baseline, write_baseline) if b}  # a baseline is not an input
    files = [f for f in files if f.path == STDIN or os.path.abspath(f.path) not in own]
    levels = {**levels, **(policy_levels or {})}
    jobs = auto_jobs(len(files)) if jobs is None else max(1, jobs)
    inventory = load_files(files, size_cap=size_cap or config.size_cap, policy_levels=levels, jobs=jobs)
    merged = {rid: dict(p) for rid, p in config.params.items()}
    for rid, p in (params or {}).items():
        merged[rid] = {**merged.get(rid, {}), **p}
    result = engine.run(inventory, rules, merged, config=config, jobs=jobs)
    result.missing_paths = missing
    _apply_config(result, config)
    _suppress(result, inventory, config, known=set(all_rules), ran={r.id for r in rules})
    if recorded is not None:
        result.findings = baselines.apply(result.findings, recorded, baseline)
    if write_baseline:
        kept = baselines.recordable(result.findings)
        count = baselines.write(write_baseline, kept)
        result.findings = baselines.apply(result.findings, Counter(f.fingerprint for f in kept), write_baseline)
        result.notices.append(suppress.Notice("note", f"wrote {count} finding{'s' if count != 1 else ''} to the "
                                                      f"baseline {write_baseline}"))
    _drop_suppressed_problems(result, config)
    return result


PARALLEL_FROM_FILES = 2000  # below this a scan runs in one process (measured: workers gain nothing at 1,000 files)


def auto_jobs(n_files: int) -> int:
    """The worker count when none is given: one for small scans (the pre-commit case never even imports
    multiprocessing), else the usable CPUs (xfedlint.parallel.default_jobs)."""
    if n_files < PARALLEL_FROM_FILES:
        return 1
    from xfedlint import parallel

    return parallel.default_jobs(n_files)


def discover_inputs(paths: tuple, exclude: tuple, config: Config) -> tuple[list, list, dict]:
    """Input files, missing paths, and `load_files`' policy_levels: the command line's excludes, then the
    config's (relative to its folder); never the configuration file itself. The config's `gcp.policy-levels`
    globs are relative to its folder too, so they are resolved here, per file, into exact (escaped) names."""
    here = os.getcwd()
    same_root = not config.root or os.path.abspath(config.root) == here
    # Where the config's folder is the working folder, its globs also prune folders while walking.
    files, missing = discover(paths, exclude + (config.exclude if same_root else ()))
    source = os.path.abspath(config.source) if config.source else None
    kept = [f for f in files
            if not (f.path != STDIN and (config.excluded(f.display)
                                         or (source is not None and os.path.abspath(f.path) == source)))]
    levels = {}
    if config.policy_levels:
        import glob as globlib  # only to escape names for this config's policy-level globs
    for f in kept if config.policy_levels else ():
        level = config.policy_level(f.display)
        if level is not None:
            levels[globlib.escape(f.display)] = level
    return kept, missing, levels


def _apply_config(result: RunResult, config: Config) -> None:
    """Severity overrides."""
    if not config.severity:
        return
    findings = []
    for f in result.findings:
        severity = config.severity.get(f.rule)
        findings.append(replace(f, severity=severity) if severity and severity != f.severity else f)
    result.findings = findings


def _suppress(result: RunResult, inventory: Inventory, config: Config, known: set, ran: set) -> None:
    """Inline comments and annotations, then the config's per-path ignores (kind external)."""
    findings, notices = suppress.apply(result.findings, inventory.texts, inventory.of(K8sObject), known, ran)
    if config.per_path_ignores:
        where = display_path(config.source) if config.source else "the configuration"
        findings = suppress.mark(findings, lambda f: config.ignored(f.rule, f.location.file),
                                 f"per-path-ignores in {where}")
    result.findings = findings
    not_inspected = [suppress.Notice("note", n.message, n.location) for n in inventory.notes]
    result.notices = sorted(not_inspected + notices, key=suppress.Notice.sort_key)  # see suppress.Notice


def _drop_suppressed_problems(result: RunResult, config: Config) -> None:
    """A load problem whose XF001 finding is suppressed (or that a per-path ignore of XF001 covers, even when
    XF001 did not run) is no longer a problem: not in `problems`, not fatal under --strict."""
    hidden = {(f.location, f.message) for f in result.findings if f.rule == "XF001" and f.suppressed}
    result.problems = [p for p in result.problems
                       if (p.location, p.message) not in hidden and not config.ignored("XF001", p.location.file)]
