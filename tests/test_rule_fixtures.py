"""Every rule's fail and pass cases, from tests/fixtures/<ID>/{fail-*,pass-*}/, in one parametrised test.

A case folder holds the input files and `expected.json`: the exact findings of the rules under test
(default: the folder's rule ID; `"rules": [...]` widens it), each with file, line, column, severity and a
fragment of the message. A pass case expects none. The list of cases is read from disk, never kept by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xfedlint import api, registry
from xfedlint.checks import CHECKS
from xfedlint.checks.base import Check
from xfedlint.config import Config, read_config

FIXTURES = Path(__file__).parent / "fixtures"


def _cases():
    for rule_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and (p / "..").exists()):
        if rule_dir.name not in registry.load_rules():
            continue
        for case in sorted(p for p in rule_dir.iterdir() if p.is_dir()):
            yield pytest.param(rule_dir.name, case, id=f"{rule_dir.name}/{case.name}")


def _load_expected(case: Path) -> dict:
    data = json.loads((case / "expected.json").read_text())
    return data if isinstance(data, dict) else {"findings": data}


@pytest.mark.parametrize("rule_id,case", list(_cases()))
def test_rule_case(rule_id: str, case: Path, monkeypatch):
    expected = _load_expected(case)
    rules = set(expected.get("rules", [rule_id]))
    crash = expected.get("crash_check")  # XF002 cases: make this check raise, as a bug would
    if crash:
        def boom(*args, **kwargs):
            raise RuntimeError("simulated bug")
        monkeypatch.setitem(CHECKS, crash, Check(boom, CHECKS[crash].kind))
    monkeypatch.chdir(case)
    # a case's own .xfedlint.yaml (clusters, inventory completeness); never a parent's
    cfg_file = case / ".xfedlint.yaml"
    config = read_config(cfg_file) if cfg_file.exists() else Config(root=str(case))
    result = api.scan((".",), config=config)
    got = [f for f in result.findings if f.rule in rules]
    want = expected["findings"]
    if case.name.startswith("pass"):
        assert want == [], "a pass case expects no findings"
    else:
        assert want, "a fail case must expect at least one finding"
    assert len(got) == len(want), [(f.rule, f.location.file, f.location.span.line, f.location.span.col, f.message)
                                   for f in got]
    for f, w in zip(got, sorted(want, key=lambda w: (w["file"], w["line"], w["column"], w["rule"])), strict=True):
        s = f.location.span
        actual = {"rule": f.rule, "file": f.location.file, "line": s.line, "column": s.col,
                  "severity": f.severity}
        wanted = {k: w[k] for k in ("rule", "file", "line", "column", "severity")}
        if "end_line" in w:
            actual["end_line"], wanted["end_line"] = s.end_line, w["end_line"]
        if "end_column" in w:
            actual["end_column"], wanted["end_column"] = s.end_col, w["end_column"]
        assert actual == wanted, f.message
        assert w["message"] in f.message, f"{w['message']!r} not in {f.message!r}"


def test_every_rule_has_a_fail_and_a_pass_case():
    missing = []
    for rule_id in registry.load_rules():
        folder = FIXTURES / rule_id
        kinds = {p.name.split("-", 1)[0] for p in folder.iterdir() if p.is_dir()} if folder.is_dir() else set()
        if not {"fail", "pass"} <= kinds:
            missing.append(rule_id)
    assert not missing, f"rules without both a fail and a pass fixture: {missing}"
