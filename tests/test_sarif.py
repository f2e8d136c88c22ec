"""SARIF output: valid against the OASIS 2.1.0 schema (vendored), and shaped for GitHub code scanning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xfedlint import api
from xfedlint.reporters import sarif

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture(scope="module")
def seed_sarif():
    return sarif.document(api.scan(("examples/seed-guide",)) if Path("examples").exists() else
                          api.scan((str(ROOT / "examples" / "seed-guide"),)))


def _validate(doc):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft7Validator(SCHEMA).validate(doc)


def test_seed_guide_sarif_is_schema_valid(seed_sarif):
    _validate(seed_sarif)


def test_results_reference_rules_and_regions(seed_sarif):
    run = seed_sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["results"], "the seed guide has findings"
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not loc["artifactLocation"]["uri"].startswith("/")
        region = loc["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert (region["endLine"], region["endColumn"]) > (region["startLine"], region["startColumn"])
        assert r["partialFingerprints"]["xfedlint/v1"]
    for rule in rules:
        assert rule["help"]["markdown"].startswith(f"# {rule['id']}")
        assert float(rule["properties"]["security-severity"]) > 0


def test_clean_run_has_empty_results_array(tmp_path):
    (tmp_path / "sa.yaml").write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\n")
    doc = sarif.document(api.scan((str(tmp_path),)))
    _validate(doc)
    assert doc["runs"][0]["results"] == []
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_unparseable_input_is_a_result_and_a_notification(tmp_path):
    (tmp_path / "bad.yaml").write_text("key: [unclosed\n")
    doc = sarif.document(api.scan((str(tmp_path),)))
    _validate(doc)
    run = doc["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["XF001"]
    note = run["invocations"][0]["toolExecutionNotifications"][0]
    assert note["descriptor"]["id"] == "XF001" and note["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
