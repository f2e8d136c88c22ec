"""SARIF 2.1.0 for GitHub code scanning.

Built as plain dicts rather than through sarif-om: sarif-om's attrs classes carry no serializer (their
camelCase names live in field metadata that every user must translate by hand), while dicts keep the
output byte-for-byte deterministic and the test suite validates them against the OASIS schema.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import IO

from xfedlint import __version__, docsgen
from xfedlint.findings import Finding, RunResult

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "note": "note"}
SECURITY_SEVERITY = {"error": "8.0", "warning": "5.0", "note": "2.0"}
SRCROOT = "%SRCROOT%"


def _uri(path: str) -> str:
    return urllib.parse.quote(path, safe="/")


def _region(span) -> dict:
    return {"startLine": span.line, "startColumn": span.col, "endLine": span.end_line, "endColumn": span.end_col}


def _physical(location) -> dict:
    return {"artifactLocation": {"uri": _uri(location.file), "uriBaseId": SRCROOT}, "region": _region(location.span)}


def _rule(rule) -> dict:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.docs["what_it_does"].strip()},
        "help": {"text": docsgen.plain_help(rule), "markdown": docsgen.markdown(rule)},
        "helpUri": docsgen.help_uri(rule),
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"tags": ["security", *rule.tags] if "security" not in rule.tags else list(rule.tags),
                       "security-severity": SECURITY_SEVERITY[rule.severity], "precision": rule.precision},
    }


def _result(f: Finding, index: dict) -> dict:
    out = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [{"physicalLocation": _physical(f.location)}],
        "partialFingerprints": {"xfedlint/v1": f.fingerprint},
    }
    if f.related:
        out["relatedLocations"] = [{"id": i + 1, "physicalLocation": _physical(r.location),
                                    "message": {"text": r.message}} for i, r in enumerate(f.related)]
    if f.suppression is not None:
        s = {"kind": f.suppression.kind}
        if f.suppression.justification:
            s["justification"] = f.suppression.justification
        out["suppressions"] = [s]
    return out


def document(result: RunResult) -> dict:
    rules = list(result.rules)
    known = {r.id for r in rules}
    index = {r.id: i for i, r in enumerate(rules)}
    findings = [f for f in result.findings if f.rule in known]
    notifications = [{
        "level": "error",
        "message": {"text": p.message},
        "locations": [{"physicalLocation": _physical(p.location)}],
        "descriptor": {"id": "XF001"},
    } for p in result.problems]
    crashed = any(f.rule == "XF002" for f in result.findings)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "xfedlint", "semanticVersion": __version__, "version": __version__,
                                "informationUri": docsgen.PROJECT_URL, "rules": [_rule(r) for r in rules]}},
            "invocations": [{"executionSuccessful": not crashed, "toolExecutionNotifications": notifications}],
            "columnKind": "unicodeCodePoints",
            "results": [_result(f, index) for f in findings],
        }],
    }


def render(result: RunResult, out: IO[str]) -> None:
    json.dump(document(result), out, indent=2, ensure_ascii=False)
    out.write("\n")
