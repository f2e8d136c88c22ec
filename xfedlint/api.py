"""The one entry point the CLI calls (and tests call): paths in, `RunResult` out.

`config` (xfedlint.config.Config, found and validated by the CLI) gives the defaults; the keyword arguments
are the command line's and win: `select`/`ignore` replace the config's lists when given, `exclude` adds
to them. The config's rule IDs and params are checked against the loaded rules (a typo is a UsageError).
Its severity overrides and per-path ignores are applied to the run's findings here, after the engine.
"""

from __future__ import annotations

import glob as globlib
import os
from dataclasses import replace
from pathlib import Path

from xfedlint import engine, registry
from xfedlint.config import Config
from xfedlint.findings import RunResult
from xfedlint.loaders import load_files
from xfedlint.loaders.files import STDIN, discover


def scan(paths: tuple[str, ...] = (".",), *, config: Config | None = None, select: tuple = (), ignore: tuple = (),
         exclude: tuple = (), size_cap: int | None = None, params: dict | None = None,
         policy_levels: dict | None = None, rules_dir: Path | None = None) -> RunResult:
    config = config or Config()
    all_rules = registry.load_rules(rules_dir)
    config.check_rules(all_rules)
    rules = registry.select(all_rules, tuple(select) or config.select, tuple(ignore) or config.ignore)
    files, missing, levels = discover_inputs(tuple(paths), tuple(exclude), config)
    levels = {**levels, **(policy_levels or {})}
    inventory = load_files(files, size_cap=size_cap or config.size_cap, policy_levels=levels)
    merged = {rid: dict(p) for rid, p in config.params.items()}
    for rid, p in (params or {}).items():
        merged[rid] = {**merged.get(rid, {}), **p}
    result = engine.run(inventory, rules, merged, config=config)
    result.missing_paths = missing
    _apply_config(result, config)
    return result


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
            if not (f.path != STDIN and (config.excluded(f.display) or os.path.abspath(f.path) == source))]
    levels = {}
    for f in kept if config.policy_levels else ():
        level = config.policy_level(f.display)
        if level is not None:
            levels[globlib.escape(f.display)] = level
    return kept, missing, levels


def _apply_config(result: RunResult, config: Config) -> None:
    """Severity overrides, and per-path ignores (those findings, and their load problems, are dropped)."""
    if not config.severity and not config.per_path_ignores:
        return
    findings = []
    for f in result.findings:
        if config.ignored(f.rule, f.location.file):
            continue
        severity = config.severity.get(f.rule)
        findings.append(replace(f, severity=severity) if severity and severity != f.severity else f)
    result.findings = findings
    result.problems = [p for p in result.problems if not config.ignored("XF001", p.location.file)]
