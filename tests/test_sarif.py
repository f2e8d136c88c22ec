"""SARIF output: valid against the OASIS 2.1.0 schema (vendored), shaped for GitHub code scanning, equal to a
golden file, with fingerprints that survive unrelated edits.

The golden file is the SARIF of `xfedlint scan examples/seed-guide`, run from the repository root, with the
tool's version redacted and each rule's long help (its docs page, tested separately here and kept fresh by
tests/test_docs.py) replaced by a marker. Regenerate it after an intended change with

    XFEDLINT_UPDATE_GOLDEN=1 python -m pytest -q tests/test_sarif.py
"""

from __future__ import annotations

import copy
import difflib
import io
import json
import os
from pathlib import Path

import pytest

from xfedlint import __version__, api, docsgen, registry
from xfedlint.findings import Finding, RunResult, Suppression
from xfedlint.model.location import Location, Span
from xfedlint.reporters import sarif
from xfedlint.reporters.paths import Rebase

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "sarif-schema-2.1.0.json").read_text())
GOLDEN = ROOT / "tests" / "golden" / "seed-guide.sarif"
UPDATE = os.environ.get("XFEDLINT_UPDATE_GOLDEN") == "1"
FP = sarif.FINGERPRINT_KEY


def _validate(doc):
    jsonschema = pytest.importorskip("jsonschema")
    cls = jsonschema.validators.validator_for(SCHEMA)  # the OASIS schema is draft-04
    cls.check_schema(SCHEMA)
    cls(SCHEMA).validate(doc)


def _doc(result: RunResult, root: Path, cwd: Path | None = None) -> dict:
    return sarif.document(result, Rebase(root=str(root), cwd=str(cwd or root)))


@pytest.fixture(scope="module")
def seed_sarif_text():
    """The bytes `xfedlint scan examples/seed-guide --format sarif` writes from the repository root."""
    from click.testing import CliRunner

    from xfedlint.cli import cli

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        run = CliRunner().invoke(cli, ["scan", "examples/seed-guide", "--format", "sarif", "--fail-on", "never"],
                                 catch_exceptions=False)
    finally:
        os.chdir(here)
    assert run.exit_code == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def seed_sarif(seed_sarif_text):
    return json.loads(seed_sarif_text)


# --- schema, golden file, determinism ------------------------------------------------------------------------


def test_seed_guide_sarif_is_schema_valid(seed_sarif):
    _validate(seed_sarif)


def redact(doc: dict) -> dict:
    """Volatile fields out: the tool's version; each rule's help and fullDescription (the docs page, checked
    against docsgen below) become a marker naming the page."""
    doc = copy.deepcopy(doc)
    driver = doc["runs"][0]["tool"]["driver"]
    for key in ("semanticVersion", "version"):
        assert driver[key] == __version__
        driver[key] = "<version>"
    for rule in driver["rules"]:
        rule["fullDescription"]["text"] = f"<rules/{rule['id']}.yaml: docs.what_it_does>"
        rule["help"] = {"text": f"<docs/rules/{rule['id']}.md as text>", "markdown": f"<docs/rules/{rule['id']}.md>"}
    return doc


def _dump(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def test_seed_guide_sarif_matches_golden_file(seed_sarif_text, seed_sarif):
    assert _dump(seed_sarif) == seed_sarif_text  # the redaction below re-dumps exactly as the reporter writes
    text = _dump(redact(seed_sarif))
    if UPDATE:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), f"{GOLDEN} missing: XFEDLINT_UPDATE_GOLDEN=1 creates it"
    expected = GOLDEN.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "golden", "now", n=2))
        pytest.fail(f"SARIF differs from {GOLDEN.relative_to(ROOT)} (XFEDLINT_UPDATE_GOLDEN=1 regenerates it):\n"
                    + diff[:6000])


def test_golden_file_is_schema_valid():
    _validate(json.loads(GOLDEN.read_text(encoding="utf-8")))


def test_output_is_deterministic_and_holds_no_absolute_path(seed_sarif_text):
    result = api.scan((str(ROOT / "examples" / "seed-guide"),))
    first, second = io.StringIO(), io.StringIO()
    sarif.render(result, first, Rebase(root=str(ROOT), cwd=str(ROOT)))
    sarif.render(api.scan((str(ROOT / "examples" / "seed-guide"),)), second, Rebase(root=str(ROOT), cwd=str(ROOT)))
    assert first.getvalue() == second.getvalue()
    assert str(ROOT) not in seed_sarif_text and "file://" not in seed_sarif_text
    assert "timeUtc" not in seed_sarif_text and "startTimeUtc" not in seed_sarif_text


# --- what GitHub reads -----------------------------------------------------------------------------------


def test_driver_and_rule_metadata(seed_sarif):
    run = seed_sarif["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "xfedlint" and driver["semanticVersion"] == __version__
    assert driver["informationUri"].startswith("https://")
    catalog = registry.load_rules()
    assert [r["id"] for r in driver["rules"]] == list(catalog)  # every rule that ran, in catalog order
    for entry in driver["rules"]:
        rule = catalog[entry["id"]]
        assert entry["name"] == rule.name and entry["shortDescription"]["text"] == rule.title
        full = entry["fullDescription"]["text"]
        assert 0 < len(full) <= 1000 and full == sarif.description(rule.docs["what_it_does"])
        assert entry["help"]["markdown"] == docsgen.markdown(rule)
        assert entry["help"]["text"] == docsgen.plain_help(rule)
        assert entry["helpUri"] == f"{docsgen.PROJECT_URL}/blob/main/docs/rules/{rule.id}.md"
        assert (ROOT / "docs" / "rules" / f"{rule.id}.md").exists()
        assert entry["defaultConfiguration"]["level"] == rule.severity
        props = entry["properties"]
        assert "security" in props["tags"] and set(rule.tags) <= set(props["tags"])
        assert props["security-severity"] == {"error": "8.0", "warning": "5.0", "note": "2.0"}[rule.severity]
        assert props["precision"] in ("very-high", "high", "medium", "low")
    assert run["columnKind"] == "unicodeCodePoints"
    base = run["originalUriBaseIds"]["%SRCROOT%"]
    assert "uri" not in base and base["description"]["text"]


def test_results_reference_rules_and_exact_regions(seed_sarif):
    run = seed_sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) >= 20, "the seed guide has findings"
    fingerprints = set()
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] in ("error", "warning", "note") and r["message"]["text"]
        assert len(r["locations"]) == 1
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert loc["artifactLocation"]["uri"].startswith("examples/seed-guide/")
        region = loc["region"]
        assert set(region) == {"startLine", "startColumn", "endLine", "endColumn"}
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert (region["endLine"], region["endColumn"]) > (region["startLine"], region["startColumn"])
        assert len(r["partialFingerprints"][FP]) == 32
        assert r["suppressions"] == []  # nothing is suppressed in the seed guide
        fingerprints.add(r["partialFingerprints"][FP])
        for rel in r.get("relatedLocations", []):
            assert rel["message"]["text"] and rel["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert len(fingerprints) == len(run["results"])  # distinct findings, distinct fingerprints
    assert any(r.get("relatedLocations") for r in run["results"])  # correlated findings name the other end


def test_clean_run_has_empty_results_array(tmp_path):
    (tmp_path / "sa.yaml").write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\n")
    doc = _doc(api.scan((str(tmp_path),)), tmp_path, Path.cwd())
    _validate(doc)
    run = doc["runs"][0]
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]


def test_unparseable_input_is_a_result_and_a_notification(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text("key: [unclosed\n")
    doc = _doc(api.scan(("bad.yaml",)), tmp_path)
    _validate(doc)
    run = doc["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["XF001"]
    assert run["invocations"][0]["executionSuccessful"] is True  # the run went on
    note = run["invocations"][0]["toolExecutionNotifications"][0]
    assert note["level"] == "error" and note["descriptor"]["id"] == "XF001"
    loc = note["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "bad.yaml", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == 2


# --- suppressions, crashes, paths (hand-made results) -------------------------------------------------------


def _finding(rule="AWS019", file="k8s/trust.json", **kw) -> Finding:
    base = dict(rule=rule, name="aws-oidc-aud-wildcard", severity="error", message="`StringLike` admits `*`",
                location=Location(file, Span(10, 71, 10, 74), "/Statement/0"), fingerprint="0" * 32)
    base.update(kw)
    return Finding(**base)


def _result(*findings: Finding) -> RunResult:
    rules = registry.load_rules()
    return RunResult(findings=list(findings), rules=[rules[i] for i in ("XF001", "XF002", "AWS019")], files_seen=1)


def test_suppressed_and_baselined_findings_carry_suppressions(tmp_path):
    inline = _finding(suppression=Suppression("inSource", "audience checked by the broker"))
    external = _finding(file="k8s/other.json", fingerprint="1" * 32, suppression=Suppression("external"))
    active = _finding(file="k8s/third.json", fingerprint="2" * 32)
    doc = _doc(_result(inline, external, active), tmp_path)
    _validate(doc)
    results = doc["runs"][0]["results"]
    assert results[0]["suppressions"] == [{"kind": "inSource", "justification": "audience checked by the broker"}]
    assert results[1]["suppressions"] == [{"kind": "external"}]
    assert results[2]["suppressions"] == []  # all results carry the property, or none (SARIF 3.27.23)


def test_inline_suppression_and_unused_suppression_end_to_end(run_cli, tmp_path):
    pod = POD.replace("          expirationSeconds:", "          # xfedlint: ignore[K8S001] legacy batch job, OPS-12\n"
                                                       "          expirationSeconds:")
    (tmp_path / "pod.yaml").write_text(pod)
    (tmp_path / "sa.yaml").write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n"
                                      "  name: app  # xfedlint: ignore[K8S011] not needed\n")
    code, out, _ = run_cli("scan", ".", "--format", "sarif", cwd=tmp_path)
    assert code == 0  # the only finding is suppressed
    doc = json.loads(out)
    _validate(doc)
    run = doc["runs"][0]
    (result,) = [r for r in run["results"] if r["ruleId"] == "K8S001"]
    assert result["suppressions"] == [{"kind": "inSource", "justification": "legacy batch job, OPS-12"}]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    unused = [n for n in notes if "K8S011" in n["message"]["text"]]
    assert unused and unused[0]["level"] == "note"
    assert unused[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "sa.yaml"


def test_crash_without_a_file_is_a_notification_and_fails_the_execution(tmp_path):
    crash = _finding(rule="XF002", name="check-crashed", message="rule X001 crashed on the inventory: KeyError",
                     location=Location("", Span(1, 1, 1, 1)))
    doc = _doc(_result(crash, _finding()), tmp_path)
    _validate(doc)
    run = doc["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["AWS019"]  # GitHub refuses a result without a location
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert inv["toolExecutionNotifications"] == [{"level": "error", "message": {"text": crash.message},
                                                  "descriptor": {"id": "XF002"}}]


def test_notices_become_notifications(tmp_path):
    from types import SimpleNamespace

    result = _result(_finding())
    result.notices = [SimpleNamespace(level="note", message="unused suppression: no AWS004 finding on line 3",
                                      location=Location("k8s/trust.json", Span(3, 5, 3, 30)))]
    doc = _doc(result, tmp_path)
    _validate(doc)
    note = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
    assert note["level"] == "note" and "descriptor" not in note
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "k8s/trust.json"


def test_uris_are_repository_relative_from_a_subfolder(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "infra").mkdir()
    f = _finding(file="k8s/trust.json", related=())
    doc = sarif.document(_result(f), Rebase(cwd=str(tmp_path / "infra")))  # root found from .git
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "infra/k8s/trust.json", "uriBaseId": "%SRCROOT%"}


def test_file_outside_the_repository_gets_an_absolute_uri_and_stdin_a_description(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    outside = _finding(file="../elsewhere/trust.json")
    stdin = _finding(file="<stdin>", fingerprint="3" * 32)
    spaced = _finding(file="a dir/trust #1.json", fingerprint="4" * 32)
    doc = _doc(_result(outside, stdin, spaced), repo)
    _validate(doc)
    locs = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in doc["runs"][0]["results"]]
    assert locs[0] == {"uri": (tmp_path / "elsewhere" / "trust.json").as_uri()}
    assert locs[1] == {"description": {"text": "standard input"}}
    assert locs[2] == {"uri": "a%20dir/trust%20%231.json", "uriBaseId": "%SRCROOT%"}


def test_full_description_keeps_whole_paragraphs_within_githubs_limit():
    para = "A sentence here. " * 20  # 340 characters: two paragraphs fit in 1,000, three do not
    assert sarif.description(f"{para}\n\n{para}\n\n{para}") == f"{para.strip()}\n\n{para.strip()}"
    long = "Word after word. " * 100
    cut = sarif.description(long)
    assert len(cut) <= 1000 and cut.endswith("word.") and long.startswith(cut)
    words = "word " * 300
    cut = sarif.description(words)
    assert len(cut) <= 1000 and cut.endswith("word…")


# --- fingerprints ---------------------------------------------------------------------------------------

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: batch-export
  namespace: prod
spec:
  serviceAccountName: app
  containers:
  - name: export
    image: registry.example.com/prod/export:2.0.1
  volumes:
  - name: azure-identity-token
    projected:
      sources:
      - serviceAccountToken:
          path: azure-identity-token
          audience: api://AzureADTokenExchange
          expirationSeconds: 4294967297
"""


def _fingerprints(root: Path, name: str, text: str) -> dict:
    """{(ruleId, startLine): fingerprint} for `text` written to root/name and scanned from root."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    here = os.getcwd()
    os.chdir(root)
    try:
        doc = _doc(api.scan((name,)), root)
    finally:
        os.chdir(here)
        path.unlink()
    return {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]): r["partialFingerprints"][FP]
            for r in doc["runs"][0]["results"]}


def test_fingerprint_survives_lines_and_comments_inserted_above(tmp_path):
    before = _fingerprints(tmp_path, "k8s/pod.yaml", POD)
    assert ("K8S001", 18) in before
    shifted = "# owned by the data team\n\n# see runbook 42\n" + POD.replace(
        "  serviceAccountName: app\n", "  # the app's own identity\n  serviceAccountName: app\n  restartPolicy: Never\n")
    after = _fingerprints(tmp_path, "k8s/pod.yaml", shifted)
    assert ("K8S001", 23) in after  # five lines further down
    assert sorted(after.values()) == sorted(before.values())
    # a whole unrelated document above, in the same stream
    stream = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n---\n" + POD
    assert sorted(_fingerprints(tmp_path, "k8s/pod.yaml", stream).values()) == sorted(before.values())


def test_fingerprint_changes_with_the_offending_value(tmp_path):
    before = _fingerprints(tmp_path, "k8s/pod.yaml", POD)
    after = _fingerprints(tmp_path, "k8s/pod.yaml", POD.replace("4294967297", "4294967999"))
    assert ("K8S001", 18) in after
    assert after[("K8S001", 18)] != before[("K8S001", 18)]


def test_fingerprint_includes_the_file_path(tmp_path):
    """Moving or renaming a file gives its findings new fingerprints (docs/github-actions.md says so)."""
    before = _fingerprints(tmp_path, "k8s/pod.yaml", POD)
    moved = _fingerprints(tmp_path, "k8s/prod/pod.yaml", POD)
    assert set(before) == set(moved) and not set(before.values()) & set(moved.values())


def test_fingerprint_of_a_json_policy_survives_reformatting_above(tmp_path):
    policy = (ROOT / "tests" / "fixtures" / "AWS019" / "fail-star" / "trust.json").read_text()
    before = _fingerprints(tmp_path, "trust.json", policy)
    assert ("AWS019", 10) in before
    after = _fingerprints(tmp_path, "trust.json", "\n\n" + policy.replace('"Version": "2012-10-17",',
                                                                          '"Version": "2012-10-17",\n\n'))
    assert ("AWS019", 14) in after and after[("AWS019", 14)] == before[("AWS019", 10)]

