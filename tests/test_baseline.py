"""Baselines end to end through the CLI: `--write-baseline FILE` records today's findings, `--baseline FILE`
reports them as suppressed so that only new findings fail the run."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from xfedlint import baseline
from xfedlint.findings import Finding
from xfedlint.model.location import Location, Span

# AWS004 (warning) on the `sub` value; nothing else fires.
TRUST = """{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {
      "StringLike": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:%s:*"},
      "StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com"}
    }
  }]
}
"""
# K8S011 (warning) and K8S012 (note).
DEFAULT_SA = """apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
  namespace: sync
  annotations:
    azure.workload.identity/client-id: 5e2a8c43-7d1b-4f3e-9a6c-2b8d0e1f4a7c
    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/sync
"""
BROKEN = '{"version": 1,\n "tool": "xfedlint", "findings": [}'


def _write(folder: Path, files: dict) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _json(run_cli, folder: Path, *args: str):
    code, out, err = run_cli("scan", "src", "--format", "json", *args, cwd=folder)
    return code, json.loads(out), err


def _active(doc: dict) -> list:
    return sorted((f["rule"], f["file"]) for f in doc["findings"] if not f["suppressed"])


def test_round_trip_write_rescan_then_a_new_problem(run_cli, tmp_path):
    _write(tmp_path, {"src/prod.json": TRUST % "prod", "src/sa.yaml": DEFAULT_SA})
    code, doc, _ = _json(run_cli, tmp_path)
    assert code == 1 and _active(doc) == [("AWS004", "src/prod.json"), ("K8S011", "src/sa.yaml"),
                                          ("K8S012", "src/sa.yaml")]
    before = {f["fingerprint"]: f for f in doc["findings"]}

    code, out, err = run_cli("scan", "src", "--write-baseline", "base.json", cwd=tmp_path)
    assert code == 0 and err == "xfedlint: note: wrote 3 findings to the baseline base.json\n"
    assert "No problems found" in out and ", 3 suppressed." in out
    written = json.loads((tmp_path / "base.json").read_text())
    assert written["version"] == 1 and written["tool"] == "xfedlint"
    assert written["findings"] == sorted(
        ({"fingerprint": fp, "rule": f["rule"], "file": f["file"], "message": f["message"]} for fp, f in before.items()),
        key=lambda e: (e["file"], e["rule"], e["fingerprint"]))

    code, doc, err = _json(run_cli, tmp_path, "--baseline", "base.json")
    assert code == 0 and _active(doc) == [] and err == ""
    assert doc["summary"]["suppressed"] == 3 and all(f["suppressed"] for f in doc["findings"])

    _write(tmp_path, {"src/dev.json": TRUST % "dev"})
    code, doc, _ = _json(run_cli, tmp_path, "--baseline", "base.json")
    assert code == 1 and _active(doc) == [("AWS004", "src/dev.json")]
    code, out, _ = run_cli("scan", "src", "--baseline", "base.json", cwd=tmp_path)
    assert "src/dev.json" in out and "src/prod.json" not in out and ", 3 suppressed." in out


def test_baseline_survives_unrelated_edits(run_cli, tmp_path):
    _write(tmp_path, {"src/sa.yaml": DEFAULT_SA})
    run_cli("scan", "src", "--write-baseline", "base.json", cwd=tmp_path)
    edited = DEFAULT_SA.replace("metadata:\n", "metadata:\n  labels: {team: sync, tier: batch}\n")
    edited = "# managed by the platform team\n\n" + edited
    _write(tmp_path, {"src/sa.yaml": edited})
    code, doc, _ = _json(run_cli, tmp_path, "--baseline", "base.json", "--fail-on", "note")
    assert code == 0 and _active(doc) == []
    assert {f["line"] for f in doc["findings"]} == {edited.splitlines().index(
        "    azure.workload.identity/client-id: 5e2a8c43-7d1b-4f3e-9a6c-2b8d0e1f4a7c") + 1}


def test_written_baseline_is_deterministic_and_refreshable(run_cli, tmp_path):
    _write(tmp_path, {"src/b.json": TRUST % "b", "src/a.json": TRUST % "a", "src/sa.yaml": DEFAULT_SA})
    run_cli("scan", "src", "--write-baseline", "one.json", cwd=tmp_path)
    run_cli("scan", "src", "--write-baseline", "two.json", cwd=tmp_path)
    one = (tmp_path / "one.json").read_bytes()
    assert one == (tmp_path / "two.json").read_bytes() and one.endswith(b"}\n")
    assert [e["file"] for e in json.loads(one)["findings"]] == ["src/a.json", "src/b.json", "src/sa.yaml",
                                                                "src/sa.yaml"]
    # Refresh in place: a fixed finding leaves the baseline, the others stay.
    (tmp_path / "src" / "a.json").unlink()
    code, _, err = run_cli("scan", "src", "--baseline", "one.json", "--write-baseline", "one.json", cwd=tmp_path)
    assert code == 0 and "wrote 3 findings" in err
    assert [e["file"] for e in json.loads((tmp_path / "one.json").read_text())["findings"]] == [
        "src/b.json", "src/sa.yaml", "src/sa.yaml"]


def test_first_refresh_may_name_a_baseline_that_does_not_exist_yet(run_cli, tmp_path):
    _write(tmp_path, {"src/a.json": TRUST % "a"})
    code, _, err = run_cli("scan", "src", "--baseline", "b.json", "--write-baseline", "b.json", cwd=tmp_path)
    assert code == 0 and (tmp_path / "b.json").exists()


def test_inline_suppressed_findings_are_not_recorded(run_cli, tmp_path):
    sa = DEFAULT_SA.replace("  annotations:\n", '  annotations:\n    xfedlint.io/ignore: "K8S011: one job"\n')
    _write(tmp_path, {"src/sa.yaml": sa})
    run_cli("scan", "src", "--write-baseline", "base.json", cwd=tmp_path)
    assert [e["rule"] for e in json.loads((tmp_path / "base.json").read_text())["findings"]] == ["K8S012"]


def test_a_baseline_file_in_the_scanned_folder_is_not_an_input(run_cli, tmp_path):
    _write(tmp_path, {"src/a.json": TRUST % "a"})
    run_cli("scan", "src", "--write-baseline", "src/base.json", cwd=tmp_path)
    code, doc, _ = _json(run_cli, tmp_path, "--baseline", "src/base.json")
    assert code == 0 and doc["summary"]["files_read"] == 1


def test_empty_baseline_changes_nothing(run_cli, tmp_path):
    _write(tmp_path, {"src/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\n"})
    code, _, err = run_cli("scan", "src", "--write-baseline", "base.json", cwd=tmp_path)
    assert code == 0 and "wrote 0 findings" in err
    assert json.loads((tmp_path / "base.json").read_text()) == {"version": 1, "tool": "xfedlint", "findings": []}


@pytest.mark.parametrize(("content", "message"), [
    (None, "xfedlint: base.json: baseline file not found (`--write-baseline base.json` creates it)"),
    (BROKEN, f"xfedlint: base.json:2:{BROKEN.splitlines()[1].index('}') + 1}: not a baseline: invalid JSON"),
    ('{"version": 2, "tool": "xfedlint", "findings": []}',
     "xfedlint: base.json: baseline version 2 is not supported (this xfedlint reads version 1; rewrite it with "
     "--write-baseline)"),
    ('{"runs": []}', "xfedlint: base.json: not an xfedlint baseline"),
    ('{"version": 1, "tool": "xfedlint", "findings": [{"rule": "AWS004"}]}',
     "xfedlint: base.json: findings[0] has no `fingerprint` string"),
])
def test_a_bad_baseline_is_a_usage_error(run_cli, tmp_path, content, message):
    _write(tmp_path, {"src/a.json": TRUST % "a"})
    if content is not None:
        _write(tmp_path, {"base.json": content})
    code, out, err = run_cli("scan", "src", "--baseline", "base.json", cwd=tmp_path)
    assert code == 2 and out == "" and err.startswith(message)


def test_an_unwritable_baseline_is_a_usage_error(run_cli, tmp_path):
    _write(tmp_path, {"src/a.json": TRUST % "a"})
    code, _, err = run_cli("scan", "src", "--write-baseline", "missing/dir/base.json", cwd=tmp_path)
    assert code == 2 and err.startswith("xfedlint: missing/dir/base.json: cannot write the baseline:")


def test_each_entry_stands_for_one_finding():
    twice = [_finding("fp1", 3), _finding("fp1", 9), _finding("fp2", 5)]
    out = baseline.apply(twice, Counter({"fp1": 1, "fp2": 1}), "b.json")
    assert [f.suppressed for f in out] == [True, False, True]
    assert out[0].suppression.kind == "external" and out[0].suppression.justification == "baseline b.json"


def test_crashes_are_never_recorded():
    crash = Finding(rule="XF002", name="rule-crashed", severity="error", message="boom",
                    location=Location("", Span(1, 1, 1, 1)), fingerprint="c")
    assert baseline.recordable([crash, _finding("fp1", 1)]) == [_finding("fp1", 1)]
    assert not baseline.apply([crash], Counter({"c": 1}), "b.json")[0].suppressed


def _finding(fp: str, line: int) -> Finding:
    return Finding(rule="AWS004", name="n", severity="warning", message="m",
                   location=Location("t.json", Span(line, 1, line, 5)), fingerprint=fp)
