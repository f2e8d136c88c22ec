"""The command line as a user meets it: exit codes, formats, rules, explain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from samples import BAD_TRUST

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed-guide"



GOOD_TRUST = BAD_TRUST.replace(
    '{"StringLike": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "*"}}',
    '{"StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com", '
    '"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:prod:app"}}')


def test_exit_0_when_clean(run_cli, tmp_path):
    assert GOOD_TRUST != BAD_TRUST
    (tmp_path / "trust.json").write_text(GOOD_TRUST)
    code, out, _ = run_cli("scan", str(tmp_path))
    assert code == 0, out
    assert "No problems found" in out


def test_exit_1_on_findings_and_fail_on_thresholds(run_cli, tmp_path):
    (tmp_path / "trust.json").write_text(BAD_TRUST)
    code, out, _ = run_cli("scan", str(tmp_path))
    assert code == 1
    assert "AWS019" in out and "AWS001" in out
    assert run_cli("scan", str(tmp_path), "--fail-on", "never")[0] == 0
    assert run_cli("scan", str(tmp_path), "--fail-on", "error")[0] == 1
    assert run_cli("scan", str(tmp_path), "--select", "AWS002", "--fail-on", "error")[0] == 0  # AWS002: warning


def test_exit_2_on_usage_error(run_cli, tmp_path):
    assert run_cli("scan", str(tmp_path), "--format", "xml")[0] == 2
    assert run_cli("explain", "NOPE999")[0] == 2


def test_exit_3_without_input_and_under_strict(run_cli, tmp_path):
    code, _, err = run_cli("scan", str(tmp_path))
    assert code == 3 and "no input files" in err
    (tmp_path / "broken.yaml").write_text("a: [1, 2\n")
    assert run_cli("scan", str(tmp_path))[0] == 1  # XF001 is an error finding
    assert run_cli("scan", str(tmp_path), "--strict", "--fail-on", "never")[0] == 3


def test_select_and_ignore_prefixes(run_cli, tmp_path):
    (tmp_path / "trust.json").write_text(BAD_TRUST)
    _, out, _ = run_cli("scan", str(tmp_path), "--format", "json", "--select", "AWS0", "--ignore", "AWS019")
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert rules and "AWS019" not in rules and all(r.startswith("AWS0") for r in rules)


def test_text_output_shows_source_line_and_caret(run_cli, tmp_path):
    (tmp_path / "trust.json").write_text(BAD_TRUST)
    _, out, _ = run_cli("scan", str(tmp_path / "trust.json"), "--select", "AWS019")
    lines = out.splitlines()
    i = next(n for n, line in enumerate(lines) if "AWS019" in line)
    assert lines[i].strip().startswith("7:")
    source, caret = lines[i + 1], lines[i + 2]
    assert '"*"' in source
    assert caret.index("^") == source.index('"*"') and caret.count("^") == 3
    assert "\x1b[" not in out  # no colour when not a terminal


def test_json_output_validates_against_its_schema(run_cli, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    (tmp_path / "trust.json").write_text(BAD_TRUST)
    _, out, _ = run_cli("scan", str(tmp_path), "--format", "json")
    schema = json.loads((ROOT / "xfedlint" / "schemas" / "output.schema.json").read_text())
    doc = json.loads(out)
    jsonschema.validate(doc, schema)
    assert doc["version"] == 1 and doc["summary"]["files_read"] == 1


def test_output_file_and_determinism(run_cli, tmp_path):
    out1, out2 = tmp_path / "a.sarif", tmp_path / "b.sarif"
    run_cli("scan", str(SEED), "--format", "sarif", "--output", str(out1))
    run_cli("scan", str(SEED), "--format", "sarif", "--output", str(out2))
    assert out1.read_bytes() == out2.read_bytes()


def test_rules_listing_and_explain(run_cli):
    code, out, _ = run_cli("rules")
    assert code == 0 and "AWS001" in out and "aws-oidc-trust-no-sub" in out
    code, out, _ = run_cli("rules", "--format", "json")
    assert {r["id"] for r in json.loads(out)} >= {"XF001", "AWS001", "GCP002"}
    code, out, _ = run_cli("explain", "aws001")
    assert code == 0 and "## Why is this bad?" in out and "## Use instead" in out


def test_python_dash_m_entry_point():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "xfedlint", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "xfedlint" in proc.stdout


def test_exit_70_on_internal_error(monkeypatch, capsys):
    import sys as _sys

    from xfedlint import api, cli

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api, "scan", broken)
    monkeypatch.setattr(_sys, "argv", ["xfedlint", "scan", "."])
    assert cli.run() == 70
    assert "internal error (a bug)" in capsys.readouterr().err


def test_unknown_rule_in_select_is_a_usage_error(run_cli, tmp_path):
    (tmp_path / "trust.json").write_text(BAD_TRUST)
    code, _, err = run_cli("scan", str(tmp_path), "--select", "NOPE9")
    assert code == 2 and "unknown rule ID or prefix: NOPE9" in err


@pytest.mark.parametrize("command", ["scan", "graph"])
def test_an_output_file_in_a_missing_folder_is_a_usage_error_before_any_scan(run_cli, tmp_path, monkeypatch, command):
    from xfedlint import api

    def never(*args, **kwargs):
        raise AssertionError("scanned before the command line was checked")

    monkeypatch.setattr(api, "scan", never)
    monkeypatch.setattr(api, "discover_inputs", never)
    (tmp_path / "trust.json").write_text(BAD_TRUST)
    code, out, err = run_cli(command, str(tmp_path), "-o", str(tmp_path / "missing" / "report.json"))
    assert code == 2 and "its folder does not exist" in err and "Traceback" not in err


def test_an_output_file_that_cannot_be_opened_is_one_line_and_exit_2(tmp_path, capsys):
    """The folder checked when the command line was read can still fail at write time (here: the path has
    become a folder)."""
    from xfedlint import cli

    (tmp_path / "report.json").mkdir()
    with pytest.raises(SystemExit) as exc:
        cli._open_output(str(tmp_path / "report.json"))
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("xfedlint: cannot write ") and err.count("\n") == 1
