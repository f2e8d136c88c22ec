"""The one entry point the CLI calls (and tests call): paths in, `RunResult` out."""

from __future__ import annotations

from pathlib import Path

from xfedlint import engine, registry
from xfedlint.findings import RunResult
from xfedlint.loaders import load_files
from xfedlint.loaders.files import DEFAULT_SIZE_CAP, discover


def scan(paths: tuple[str, ...] = (".",), *, select: tuple = (), ignore: tuple = (), exclude: tuple = (),
         size_cap: int = DEFAULT_SIZE_CAP, params: dict | None = None, policy_levels: dict | None = None,
         rules_dir: Path | None = None) -> RunResult:
    rules = registry.select(registry.load_rules(rules_dir), select, ignore)
    files, missing = discover(tuple(paths), tuple(exclude))
    inventory = load_files(files, size_cap=size_cap, policy_levels=policy_levels)
    result = engine.run(inventory, rules, params)
    result.missing_paths = missing
    return result
