"""Suppressions end to end through the CLI: inline `# xfedlint: ignore[...]` comments, the Kubernetes
annotation `xfedlint.io/ignore`, the config's per-path ignores, the notices for suppressions that
suppress nothing, and how every output shows a suppressed finding.

Expected lines and columns are computed from the input texts (`_line`, `_col`), never copied from the tool.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from msgspec.structs import replace

from xfedlint import suppress
from xfedlint.exit_policy import ExitPolicy
from xfedlint.findings import Finding, RunResult, Suppression
from xfedlint.model.location import Location, Span

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = ROOT / "tests" / "fixtures" / "sarif-schema-2.1.0.json"

# AWS004 (warning) on the `sub` value; nothing else fires.
TRUST = """Version: "2012-10-17"
Statement:
  - Effect: Allow
    Principal:
      Federated: arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC
    Action: sts:AssumeRoleWithWebIdentity
    Condition:
      StringLike:
        oidc.eks.us-east-1.amazonaws.com/id/ABC:sub: "system:serviceaccount:prod:*"{comment}
      StringEquals:
        oidc.eks.us-east-1.amazonaws.com/id/ABC:aud: sts.amazonaws.com
"""
SUB = '"system:serviceaccount:prod:*"'

# Each default service account: K8S011 (warning) and K8S012 (note), both at the Azure client-id key.
TWO_SAS = """apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
  namespace: sync
  annotations:{ann1}
    azure.workload.identity/client-id: 5e2a8c43-7d1b-4f3e-9a6c-2b8d0e1f4a7c
    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/sync
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
  namespace: other
  annotations:{ann2}
    azure.workload.identity/client-id: 5e2a8c43-7d1b-4f3e-9a6c-2b8d0e1f4a7c
    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/other
"""


def _write(folder: Path, files: dict) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _line(text: str, needle: str, nth: int = 0) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return lines[nth]


def _col(text: str, needle: str, nth: int = 0) -> int:
    return text.splitlines()[_line(text, needle, nth) - 1].index(needle) + 1


def _scan_json(run_cli, folder: Path, *args: str):
    code, out, err = run_cli("scan", ".", "--format", "json", *args, cwd=folder)
    doc = json.loads(out)
    return code, doc, err


def _rows(doc: dict) -> list:
    return sorted((f["rule"], f["file"], f["line"], f["suppressed"]) for f in doc["findings"])


def _sarif(run_cli, folder: Path, *args: str) -> dict:
    jsonschema = pytest.importorskip("jsonschema")
    _, out, _ = run_cli("scan", ".", "--format", "sarif", *args, cwd=folder)
    doc = json.loads(out)
    jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(doc)
    return doc


def _suppressions(sarif: dict) -> dict:
    """(rule, line) -> the result's `suppressions` (None when the result is not suppressed)."""
    return {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]): r.get("suppressions")
            for r in sarif["runs"][0]["results"]}


# --- inline comments ----------------------------------------------------------------------------------


def test_trailing_comment_suppresses_the_finding_on_its_line(run_cli, tmp_path):
    text = TRUST.format(comment="  # xfedlint: ignore[AWS004] prod-wide role, reviewed in OPS-12")
    _write(tmp_path, {"trust.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path)
    assert _rows(doc) == [("AWS004", "trust.yaml", _line(text, SUB), True)]
    assert code == 0 and doc["summary"]["suppressed"] == 1 and doc["summary"]["warnings"] == 0
    assert err == ""  # used, known: nothing to say
    sarif = _sarif(run_cli, tmp_path)
    assert _suppressions(sarif) == {("AWS004", _line(text, SUB)): [
        {"kind": "inSource", "justification": "prod-wide role, reviewed in OPS-12"}]}


def test_without_the_comment_the_finding_is_active(run_cli, tmp_path):
    text = TRUST.format(comment="")
    _write(tmp_path, {"trust.yaml": text})
    code, doc, _ = _scan_json(run_cli, tmp_path)
    assert code == 1 and _rows(doc) == [("AWS004", "trust.yaml", _line(text, SUB), False)]


def test_comment_alone_above_covers_the_next_line_with_content(run_cli, tmp_path):
    text = TWO_SAS.format(
        ann1="\n    # xfedlint: IGNORE[k8s011, K8S012]: one default SA for the sync job\n\n    # owner: platform",
        ann2="")
    _write(tmp_path, {"sa.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path)
    first, second = _line(text, "client-id", 0), _line(text, "client-id", 1)
    assert _rows(doc) == [("K8S011", "sa.yaml", first, True), ("K8S011", "sa.yaml", second, False),
                          ("K8S012", "sa.yaml", first, True), ("K8S012", "sa.yaml", second, False)]
    assert code == 1 and err == ""
    just = _suppressions(_sarif(run_cli, tmp_path))[("K8S011", first)]
    assert just == [{"kind": "inSource", "justification": "one default SA for the sync job"}]


def test_comment_above_does_not_reach_past_the_next_line(run_cli, tmp_path):
    text = TRUST.format(comment="").replace(
        "    Condition:\n", "    # xfedlint: ignore[AWS004] on the wrong line\n    Condition:\n")
    _write(tmp_path, {"trust.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path)
    assert code == 1 and _rows(doc) == [("AWS004", "trust.yaml", _line(text, SUB), False)]
    line, col = _line(text, "# xfedlint"), _col(text, "# xfedlint")
    assert err == (f"trust.yaml:{line}:{col}: note: unused suppression: no AWS004 finding on line {line + 1}; "
                   "remove AWS004 from it\n")


@pytest.mark.parametrize("comment", ["  # xfedlint: ignore", "  # xfedlint: ignore[]", "  #xfedlint: ignore   "])
def test_a_comment_without_rule_ids_suppresses_nothing_and_says_so(run_cli, tmp_path, comment):
    text = TRUST.format(comment=comment)
    _write(tmp_path, {"trust.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path)
    assert code == 1 and _rows(doc) == [("AWS004", "trust.yaml", _line(text, SUB), False)]
    line, col = _line(text, SUB), _col(text, "#xfedlint" if "#x" in comment else "# xfedlint")
    assert err.startswith(f"trust.yaml:{line}:{col}: warning: `{comment.strip()}` suppresses nothing: "
                          "name the rules, as in `# xfedlint: ignore[AWS004] reason`")


def test_unknown_ids_and_prefixes_are_reported(run_cli, tmp_path):
    text = TRUST.format(comment="  # xfedlint: ignore[AWS0004, AWS, AWS004]")
    _write(tmp_path, {"trust.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path)
    assert code == 0 and _rows(doc) == [("AWS004", "trust.yaml", _line(text, SUB), True)]  # AWS004 still works
    where = f"trust.yaml:{_line(text, SUB)}:{_col(text, '# xfedlint')}"
    assert err.splitlines() == [
        f"{where}: warning: `AWS0004` is not a rule ID (did you mean `AWS004`?), so it suppresses nothing "
        "(`xfedlint rules` lists them)",
        f"{where}: warning: `AWS` is not a rule ID (suppressions take exact rule IDs, not prefixes), so it "
        "suppresses nothing (`xfedlint rules` lists them)"]


def test_unused_suppression_is_a_note_but_not_for_rules_that_did_not_run(run_cli, tmp_path):
    text = TRUST.format(comment="  # xfedlint: ignore[AWS004,AWS019] reviewed")
    _write(tmp_path, {"trust.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path)
    line = _line(text, SUB)
    assert code == 0 and err == (f"trust.yaml:{line}:{_col(text, '# xfedlint')}: note: unused suppression: no "
                                 f"AWS019 finding on line {line}; remove AWS019 from it\n")
    _, _, err = _scan_json(run_cli, tmp_path, "--select", "AWS004")  # AWS019 did not run: nothing to say
    assert err == ""


def test_unused_suppression_in_a_file_without_findings(run_cli, tmp_path):
    text = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app  # xfedlint: ignore[K8S011] old\n"
    _write(tmp_path, {"sa.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path)
    assert code == 0 and doc["findings"] == []
    assert err == (f"sa.yaml:4:{_col(text, '# xfedlint')}: note: unused suppression: no K8S011 finding on line 4; "
                   "remove K8S011 from it\n")


def test_a_hash_inside_a_word_is_not_a_comment(tmp_path):
    text = 'key: "a#xfedlint: ignore[AWS004]"\nother: 1  # xfedlint: ignore[AWS004]\n'
    f = _finding("AWS004", "f.yaml", 1)
    out, notices = suppress.apply([f], {"f.yaml": text}, [], {"AWS004"}, {"AWS004"})
    assert not out[0].suppressed
    assert [(n.level, n.location.span.line) for n in notices] == [("note", 2)]


def test_any_text_with_hash_comments_hcl_and_shell(tmp_path):
    hcl = 'resource "aws_iam_role" "app" {\n  # xfedlint: ignore[AWS004] sandbox\n  assume_role_policy = x\n}\n'
    sh = "#!/bin/sh\naws sts assume-role-with-web-identity  # xfedlint: ignore[CRED001]\n"
    findings = [_finding("AWS004", "main.tf", 3), _finding("CRED001", "run.sh", 2), _finding("CRED001", "run.sh", 1)]
    out, notices = suppress.apply(findings, {"main.tf": hcl, "run.sh": sh}, [], {"AWS004", "CRED001"}, set())
    assert [f.suppression for f in out] == [Suppression("inSource", "sandbox"), Suppression("inSource", ""), None]
    assert notices == []


def test_windows_line_endings(tmp_path):
    text = "a: 1\r\n  # xfedlint: ignore[AWS004] why\r\n\r\n  # note\r\nb: 2  # xfedlint: ignore[K8S011]\r\n"
    out, notices = suppress.apply([_finding("AWS004", "f.yaml", 5), _finding("K8S011", "f.yaml", 5)],
                                  {"f.yaml": text}, [], {"AWS004", "K8S011"}, {"AWS004", "K8S011"})
    assert [f.suppression for f in out] == [Suppression("inSource", "why"), Suppression("inSource", "")]
    assert notices == []


def test_json_inputs_are_untouched(run_cli, tmp_path):
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},
        "Condition": {"StringLike": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:prod:*"},
                      "StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "sts.amazonaws.com"}}}]},
        indent=2)
    _write(tmp_path, {"trust.json": trust})
    code, doc, err = _scan_json(run_cli, tmp_path)
    assert code == 1 and [f["suppressed"] for f in doc["findings"]] == [False] and err == ""


# --- the Kubernetes annotation ----------------------------------------------------------------------------


def test_annotation_suppresses_only_inside_its_object(run_cli, tmp_path):
    text = TWO_SAS.format(ann1='\n    xfedlint.io/ignore: "K8S011: the sync namespace runs one job"', ann2="")
    _write(tmp_path, {"sa.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path)
    first, second = _line(text, "client-id", 0), _line(text, "client-id", 1)
    assert _rows(doc) == [("K8S011", "sa.yaml", first, True), ("K8S011", "sa.yaml", second, False),
                          ("K8S012", "sa.yaml", first, False), ("K8S012", "sa.yaml", second, False)]
    assert code == 1 and err == ""
    assert _suppressions(_sarif(run_cli, tmp_path))[("K8S011", first)] == [
        {"kind": "inSource", "justification": "the sync namespace runs one job"}]


def test_annotation_with_several_ids_and_no_reason(run_cli, tmp_path):
    text = TWO_SAS.format(ann1="", ann2="\n    xfedlint.io/ignore: K8S011,K8S012")
    _write(tmp_path, {"sa.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path, "--fail-on", "note")
    first, second = _line(text, "client-id", 0), _line(text, "client-id", 1)
    assert _rows(doc) == [("K8S011", "sa.yaml", first, False), ("K8S011", "sa.yaml", second, True),
                          ("K8S012", "sa.yaml", first, False), ("K8S012", "sa.yaml", second, True)]
    assert _suppressions(_sarif(run_cli, tmp_path))[("K8S012", second)] == [{"kind": "inSource"}]


def test_annotation_in_a_list_covers_its_item_only(run_cli, tmp_path):
    items = TWO_SAS.format(ann1="", ann2='\n    xfedlint.io/ignore: "K8S011"').split("---\n")
    text = "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        "- " + "\n  ".join(item.rstrip("\n").splitlines()) + "\n" for item in items)
    _write(tmp_path, {"list.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path, "--select", "K8S011")
    assert _rows(doc) == [("K8S011", "list.yaml", _line(text, "client-id", 0), False),
                          ("K8S011", "list.yaml", _line(text, "client-id", 1), True)]
    assert err == ""


def test_annotation_notices(run_cli, tmp_path):
    text = TWO_SAS.format(ann1='\n    xfedlint.io/ignore: "K8S011, K8S001, NOPE1"', ann2='\n    xfedlint.io/ignore: ""')
    _write(tmp_path, {"sa.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path)
    col1, col2 = _col(text, '"K8S011'), _col(text, '""')
    one = f"sa.yaml:{_line(text, 'xfedlint.io/ignore', 0)}:{col1}"
    two = f"sa.yaml:{_line(text, 'xfedlint.io/ignore', 1)}:{col2}"
    assert err.splitlines() == [
        f"{one}: warning: `NOPE1` is not a rule ID, so it suppresses nothing (`xfedlint rules` lists them)",
        f"{one}: note: unused suppression: no K8S001 finding in serviceaccount sync/default; remove K8S001 from it",
        f"{two}: warning: annotation `xfedlint.io/ignore` on serviceaccount other/default suppresses nothing: name "
        'the rules, as in `xfedlint.io/ignore: "K8S011,K8S012: reason"`']
    assert [f["suppressed"] for f in doc["findings"] if f["rule"] == "K8S011"] == [True, False]


# --- per-path ignores from the configuration ---------------------------------------------------------------


def test_per_path_ignores_suppress_instead_of_dropping(run_cli, tmp_path):
    text = TRUST.format(comment="")
    _write(tmp_path, {"legacy/trust.yaml": text, "current/trust.yaml": text,
                      ".xfedlint.yaml": "per-path-ignores:\n  legacy: [AWS004]\n"})
    code, doc, _ = _scan_json(run_cli, tmp_path)
    line = _line(text, SUB)
    assert _rows(doc) == [("AWS004", "current/trust.yaml", line, False), ("AWS004", "legacy/trust.yaml", line, True)]
    assert code == 1
    results = _sarif(run_cli, tmp_path)["runs"][0]["results"]
    legacy = [r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("leg")]
    assert legacy[0]["suppressions"] == [{"kind": "external", "justification": "per-path-ignores in .xfedlint.yaml"}]
    code, out, _ = run_cli("scan", "legacy", cwd=tmp_path)
    assert code == 0 and ", 1 suppressed." in out  # the suppressed finding does not count


def test_inline_wins_over_per_path_ignores(run_cli, tmp_path):
    text = TRUST.format(comment="  # xfedlint: ignore[AWS004] why")
    _write(tmp_path, {"legacy/trust.yaml": text, ".xfedlint.yaml": "per-path-ignores:\n  legacy: [AWS]\n"})
    sup = _suppressions(_sarif(run_cli, tmp_path))
    assert sup == {("AWS004", _line(text, SUB)): [{"kind": "inSource", "justification": "why"}]}


def test_suppressed_xf001_is_no_load_problem_under_strict(run_cli, tmp_path):
    _write(tmp_path, {"broken/a.yaml": "a: [1, 2\n", "ok.yaml": "a: 1\n",
                      ".xfedlint.yaml": "per-path-ignores:\n  broken: [XF001]\n"})
    code, doc, _ = _scan_json(run_cli, tmp_path, "--strict")
    assert code == 0 and doc["problems"] == []
    assert [(f["rule"], f["file"], f["suppressed"]) for f in doc["findings"]] == [("XF001", "broken/a.yaml", True)]
    (tmp_path / ".xfedlint.yaml").unlink()
    code, doc, _ = _scan_json(run_cli, tmp_path, "--strict")
    assert code == 3 and len(doc["problems"]) == 1


def test_inline_suppression_of_an_unparseable_template(run_cli, tmp_path):
    text = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  # xfedlint: ignore[XF001] rendered by helm in CI\n" \
           "  name: {{ .Values.name }}\n"
    _write(tmp_path, {"sa.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path, "--strict")
    assert [(f["rule"], f["line"], f["suppressed"]) for f in doc["findings"]] == [("XF001", _line(text, "{{"), True)]
    assert code == 0 and doc["problems"] == [] and err == ""


# --- how the outputs show a suppressed finding ---------------------------------------------------------------


def test_text_output_hides_suppressed_findings_and_counts_them(run_cli, tmp_path):
    text = TWO_SAS.format(ann1='\n    xfedlint.io/ignore: "K8S011,K8S012"', ann2="")
    _write(tmp_path, {"sa.yaml": text})
    code, out, err = run_cli("scan", ".", cwd=tmp_path)
    assert "sync/default" not in out and "other/default" in out
    assert out.rstrip().splitlines()[-1].startswith("Found 2 problems (0 errors, 1 warning, 1 note) in 1 file")
    assert ", 2 suppressed." in out and code == 1 and err == ""


def test_sarif_with_every_kind_of_suppression_is_schema_valid(run_cli, tmp_path):
    trust = TRUST.format(comment="  # xfedlint: ignore[AWS004] inline")
    sas = TWO_SAS.format(ann1='\n    xfedlint.io/ignore: "K8S011: annotated"', ann2="")
    _write(tmp_path, {"a/trust.yaml": trust, "b/sa.yaml": sas, "c/trust.yaml": TRUST.format(comment=""),
                      ".xfedlint.yaml": "per-path-ignores:\n  c: [AWS004]\n"})
    run_cli("scan", ".", "--write-baseline", "base.json", cwd=tmp_path)
    doc = _sarif(run_cli, tmp_path, "--baseline", "base.json")
    kinds = sorted((r["ruleId"], r["suppressions"][0]["kind"], r["suppressions"][0].get("justification"))
                   for r in doc["runs"][0]["results"] if "suppressions" in r)
    assert kinds == [("AWS004", "external", "per-path-ignores in .xfedlint.yaml"),
                     ("AWS004", "inSource", "inline"), ("K8S011", "external", "baseline base.json"),
                     ("K8S011", "inSource", "annotated"), ("K8S012", "external", "baseline base.json"),
                     ("K8S012", "external", "baseline base.json")]


def test_suppressed_findings_never_count_for_the_exit_code():
    f = _finding("AWS001", "t.json", 1, severity="error")
    result = RunResult(findings=[f], files_seen=1)
    assert ExitPolicy("note").code(result) == 1
    result.findings = [replace(f, suppression=Suppression("external", "baseline b.json"))]
    assert result.active == [] and ExitPolicy("note").code(result) == 0 and result.counts()["error"] == 0


def _finding(rule: str, file: str, line: int, severity: str = "warning") -> Finding:
    return Finding(rule=rule, name=rule.lower(), severity=severity, message="m",
                   location=Location(file, Span(line, 3, line, 9)), fingerprint=f"{rule}{file}{line}")


# --- notices in the JSON and SARIF documents -------------------------------------------------------------


def test_notices_in_json_and_sarif(run_cli, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    text = TRUST.format(comment="  # xfedlint: ignore[AWS004,AWS019]")
    _write(tmp_path, {"trust.yaml": text})
    code, doc, err = _scan_json(run_cli, tmp_path)
    jsonschema.validate(doc, json.loads((ROOT / "xfedlint" / "schemas" / "output.schema.json").read_text()))
    line, col = _line(text, SUB), _col(text, "# xfedlint")
    message = f"unused suppression: no AWS019 finding on line {line}; remove AWS019 from it"
    assert doc["notices"] == [{"level": "note", "message": message, "file": "trust.yaml", "line": line,
                               "column": col}]
    notes = _sarif(run_cli, tmp_path)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes == [{"level": "note", "message": {"text": message}, "locations": [{"physicalLocation": {
        "artifactLocation": {"uri": "trust.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": line, "startColumn": col, "endLine": line,
                   "endColumn": col + len("# xfedlint: ignore[AWS004,AWS019]")}}}]}]
    _, doc, _ = _scan_json(run_cli, tmp_path, "--write-baseline", "b.json")
    assert doc["notices"][-1] == {"level": "note", "message": "wrote 0 findings to the baseline b.json",
                                 "file": None, "line": None, "column": None}
