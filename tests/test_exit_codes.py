"""Exit codes exactly as product.md's table (and the README's), each through the command line.

| 0 | no finding at or above --fail-on | 1 | findings at or above --fail-on | 2 | usage, config or rule-definition
error | 3 | no auditable input, or an unparseable input under --strict | 4 | live audit incomplete (reserved:
`audit` is not implemented) | 70 | internal error |
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xfedlint import exit_policy

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
BAD_TRUST = (FIXTURES / "AWS019" / "fail-star" / "trust.json").read_text()  # AWS019, an error
GOOD_TRUST = (FIXTURES / "AWS019" / "pass-exact" / "trust.json").read_text()
NOTE_ONLY = FIXTURES / "AZ007" / "fail-kubernetes-subject-note" / "uami-fics.json"  # one AZ007 note


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "bad.json").write_text(BAD_TRUST)
    (tmp_path / "good.json").write_text(GOOD_TRUST)
    return tmp_path


# --- 0 and 1 -------------------------------------------------------------------------------------------------


def test_0_when_nothing_at_or_above_fail_on(run_cli, repo):
    assert run_cli("scan", "good.json", cwd=repo)[0] == 0
    assert run_cli("scan", "bad.json", "--fail-on", "never", cwd=repo)[0] == 0


def test_1_when_a_finding_is_at_or_above_fail_on(run_cli, repo):
    assert run_cli("scan", "bad.json", cwd=repo)[0] == 1  # default: warning
    for level in ("error", "warning", "note"):
        assert run_cli("scan", "bad.json", "--fail-on", level, cwd=repo)[0] == 1


def test_fail_on_threshold_with_a_note_finding(run_cli, tmp_path):
    (tmp_path / "fic.json").write_text(NOTE_ONLY.read_text())
    code, out, _ = run_cli("scan", "fic.json", "--format", "json", "--fail-on", "never", cwd=tmp_path)
    import json

    severities = {f["severity"] for f in json.loads(out)["findings"]}
    assert severities == {"note"}, severities
    assert run_cli("scan", "fic.json", cwd=tmp_path)[0] == 0  # note < warning
    assert run_cli("scan", "fic.json", "--fail-on", "error", cwd=tmp_path)[0] == 0
    assert run_cli("scan", "fic.json", "--fail-on", "note", cwd=tmp_path)[0] == 1


def test_exit_code_does_not_depend_on_the_format(run_cli, repo):
    for fmt in ("text", "json", "sarif", "github"):
        assert run_cli("scan", "bad.json", "--format", fmt, cwd=repo)[0] == 1
        assert run_cli("scan", "good.json", "--format", fmt, cwd=repo)[0] == 0


# --- 2 -------------------------------------------------------------------------------------------------------


def test_2_on_usage_errors(run_cli, repo):
    assert run_cli("scan", "--no-such-option", cwd=repo)[0] == 2
    assert run_cli("scan", "bad.json", "--format", "xml", cwd=repo)[0] == 2
    assert run_cli("scan", "bad.json", "--fail-on", "sometimes", cwd=repo)[0] == 2
    assert run_cli("no-such-command", cwd=repo)[0] == 2
    assert run_cli("explain", "NOPE999", cwd=repo)[0] == 2


def test_2_on_config_errors_naming_file_line_and_key(run_cli, repo):
    (repo / ".xfedlint.yaml").write_text("fail-on: warning\nselct: [AWS]\n")
    code, _, err = run_cli("scan", "bad.json", cwd=repo)
    assert code == 2 and ".xfedlint.yaml:2:1" in err and "selct" in err
    (repo / ".xfedlint.yaml").write_text("select: [NOPE9]\n")
    code, _, err = run_cli("scan", "good.json", cwd=repo)
    assert code == 2 and "NOPE9" in err
    (repo / ".xfedlint.yaml").unlink()
    assert run_cli("scan", "good.json", "--config", "missing.yaml", cwd=repo)[0] == 2
    (repo / "pyproject.toml").write_text('[tool.xfedlint]\nfail-on = "sometimes"\n')
    code, _, err = run_cli("scan", "good.json", cwd=repo)
    assert code == 2 and "pyproject.toml:2" in err and "fail-on" in err


def test_2_on_a_rule_definition_error(run_cli, repo, monkeypatch):
    from xfedlint import registry

    rules = repo / "rules"
    rules.mkdir()
    (rules / "AWS019.yaml").write_text("id: AWS019\nname: [not, a, string\n")
    monkeypatch.setattr(registry, "rules_dir", lambda: rules)
    code, _, err = run_cli("scan", "bad.json", cwd=repo)
    assert code == 2 and "AWS019.yaml" in err


# --- 3 -------------------------------------------------------------------------------------------------------


def test_3_without_input(run_cli, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli("scan", str(empty), cwd=tmp_path)
    assert code == 3 and "no input files" in err
    code, _, err = run_cli("scan", "missing.yaml", cwd=tmp_path)
    assert code == 3 and "missing.yaml" in err
    assert run_cli("scan", str(empty), "--fail-on", "never", "--format", "sarif", cwd=tmp_path)[0] == 3


def test_3_on_an_unparseable_input_under_strict(run_cli, repo):
    (repo / "broken.yaml").write_text("a: [1, 2\n")
    assert run_cli("scan", "broken.yaml", "good.json", "--fail-on", "never", cwd=repo)[0] == 0  # reported, skipped
    code, out, _ = run_cli("scan", "broken.yaml", "good.json", "--strict", "--fail-on", "never", cwd=repo)
    assert code == 3 and "XF001" in out
    assert run_cli("scan", "good.json", "--strict", cwd=repo)[0] == 0  # strict alone fails nothing


# --- 4 (reserved) and 70 ---------------------------------------------------------------------------------


def _readme_table() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d+) \| (.+?) \|$", section, re.M)}


def test_readme_table_lists_every_code_and_4_as_reserved():
    table = _readme_table()
    assert set(table) == {exit_policy.OK, exit_policy.FINDINGS, exit_policy.USAGE, exit_policy.NO_INPUT,
                          exit_policy.INCOMPLETE, exit_policy.INTERNAL} == {0, 1, 2, 3, 4, 70}
    assert "reserved" in table[4] and "audit" in table[4]
    assert "--strict" in table[3] and "internal error" in table[70]


def test_70_on_an_internal_error(monkeypatch, capsys, repo):
    from xfedlint import api, cli

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.chdir(repo)
    monkeypatch.setattr(api, "scan", broken)
    monkeypatch.setattr(sys, "argv", ["xfedlint", "scan", "good.json"])
    assert cli.run() == 70
    err = capsys.readouterr().err
    assert "RuntimeError: a bug" in err and "internal error (a bug). Please report it" in err


def test_70_when_a_reporter_crashes(monkeypatch, capsys, repo):
    from xfedlint import cli
    from xfedlint.reporters import sarif

    monkeypatch.chdir(repo)
    monkeypatch.setattr(sarif, "render", lambda *a, **k: 1 / 0)
    monkeypatch.setattr(sys, "argv", ["xfedlint", "scan", "good.json", "--format", "sarif"])
    assert cli.run() == 70 and "ZeroDivisionError" in capsys.readouterr().err


@pytest.mark.parametrize("args, expected", [
    (["good.json"], 0), (["bad.json"], 1), (["bad.json", "--format", "xml"], 2), (["missing.json"], 3),
])
def test_real_process_exit_codes(repo, args, expected):
    proc = subprocess.run([sys.executable, "-m", "xfedlint", "scan", *args], capture_output=True, text=True,
                          cwd=repo, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == expected, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_real_process_writes_its_whole_report_before_ending(repo, tmp_path):
    """The console script ends with os._exit (no heap teardown): the report must still be complete, on a
    pipe as in a file (block-buffered: PYTHONUNBUFFERED removed)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | {"PYTHONPATH": str(ROOT)}
    piped = subprocess.run([sys.executable, "-m", "xfedlint", "scan", "bad.json", "--format", "sarif"],
                           capture_output=True, text=True, cwd=repo, env=env)
    out = tmp_path / "report.json"
    written = subprocess.run([sys.executable, "-m", "xfedlint", "scan", "bad.json", "--format", "json", "-o",
                              str(out)], capture_output=True, text=True, cwd=repo, env=env)
    assert piped.returncode == written.returncode == 1
    assert json.loads(piped.stdout)["runs"][0]["results"]
    assert json.loads(out.read_text())["findings"] and written.stdout == ""
