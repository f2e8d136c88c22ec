"""Shared test helpers. Tests never read ../shared: a user's clone has none."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def run_cli(monkeypatch):
    """Run the real CLI in-process; returns (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from xfedlint.cli import cli

    def _run(*args: str, cwd: Path | None = None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return _run


def pytest_report_header(config):
    import yaml

    return f"xfedlint tests: libyaml={'yes' if getattr(yaml, '__with_libyaml__', False) else 'no'}, python={sys.version.split()[0]}"


def found_in(result, name: str) -> set:
    """(rule, line, column) of every finding in the scanned file whose name ends with `name`."""
    return {(f.rule, f.location.span.line, f.location.span.col) for f in result.findings
            if f.location.file.endswith(name)}
