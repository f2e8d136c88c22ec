"""SARIF 2.1.0 for GitHub code scanning.

Built as plain dicts rather than through sarif-om: sarif-om's attrs classes carry no serializer (their
camelCase names live in field metadata that every user must translate by hand), while dicts keep the
output byte-for-byte deterministic and the test suite validates them against the OASIS schema.

What GitHub reads, and how this module fills it (product.md, "SARIF, fit for GitHub code scanning"):
- `tool.driver.rules`: every rule that ran, in catalog order; `fullDescription` is capped at GitHub's 1,000
  characters (whole paragraphs of the rule's "What it does"; the full page is `help.markdown`).
- each result's location is relative to the repository root (`uriBaseId` `%SRCROOT%`, see
  `reporters.paths`); a file outside the repository gets an absolute `file:` URI and no base.
- `originalUriBaseIds` describes `%SRCROOT%` without a `uri`: an absolute path would differ from machine to
  machine (and tell where the scan ran); GitHub resolves the relative URIs against the checkout anyway.
- `partialFingerprints["xfedlint/v1"]`: the engine's fingerprint (rule, file, resource identity, JSON
  pointer, offending text; never a line number). GitHub's upload action adds its own
  `primaryLocationLineHash` from the file contents.
- `suppressions` on every result (empty when active; SARIF wants all or none): `inSource` for an inline
  comment or annotation, `external` for the config's per-path ignores and the baseline. GitHub code scanning
  does not act on them (a suppressed result is an open alert there): docs/github-actions.md shows how to
  upload the active results only.
- load problems (XF001) are results and `invocations[0].toolExecutionNotifications`; a crashed check (XF002)
  is a notification too and sets `executionSuccessful` to false (a crash with no file is a notification only,
  since GitHub refuses a result without a location); notices about the run (an unused or malformed
  suppression, a baseline written) are notifications at their own level.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import IO

from xfedlint import __version__, docsgen
from xfedlint.findings import Finding, RunResult
from xfedlint.reporters.paths import Rebase

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "note": "note"}
SECURITY_SEVERITY = {"error": "8.0", "warning": "5.0", "note": "2.0"}
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "xfedlint/v1"
MAX_DESCRIPTION = 1000  # GitHub's limit for fullDescription.text
SRCROOT_DESCRIPTION = ("The root of the repository that was scanned: the nearest folder holding .git, from the "
                       "folder xfedlint ran in upwards (that folder itself when there is none).")


def _uri(path: str) -> str:
    return urllib.parse.quote(path, safe="/")


def _artifact(path: str, rebase: Rebase) -> dict | None:
    rel = rebase.rel(path)
    if rel is not None:
        return {"uri": _uri(rel), "uriBaseId": SRCROOT}
    if path == "<stdin>":
        return {"description": {"text": "standard input"}}
    if path:
        return {"uri": Path(rebase.absolute(path)).as_uri()}
    return None


def _region(span) -> dict:
    return {"startLine": span.line, "startColumn": span.col, "endLine": span.end_line, "endColumn": span.end_col}


def _physical(location, rebase: Rebase) -> dict | None:
    artifact = _artifact(location.file, rebase)
    if artifact is None:
        return None
    return {"artifactLocation": artifact, "region": _region(location.span)}


def description(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """Whole leading paragraphs within `limit` characters; a first paragraph alone too long is cut after its
    last full sentence that fits (or, failing one past half the limit, after a word, with an ellipsis)."""
    paragraphs = [p.strip() for p in text.strip().split("\n\n") if p.strip()]
    out = ""
    for p in paragraphs:
        candidate = f"{out}\n\n{p}" if out else p
        if len(candidate) > limit:
            break
        out = candidate
    if out:
        return out
    head = paragraphs[0][: limit - 1] if paragraphs else ""
    sentence = head.rfind(". ")
    if sentence > limit // 2:
        return head[: sentence + 1]
    return head[: head.rfind(" ")].rstrip() + "…"


def _rule(rule) -> dict:
    tags = list(rule.tags) if "security" in rule.tags else ["security", *rule.tags]
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": description(rule.docs["what_it_does"])},
        "help": {"text": docsgen.plain_help(rule), "markdown": docsgen.markdown(rule)},
        "helpUri": docsgen.help_uri(rule),
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"tags": tags, "security-severity": SECURITY_SEVERITY[rule.severity],
                       "precision": rule.precision},
    }


def _result(f: Finding, index: dict, rebase: Rebase) -> dict | None:
    primary = _physical(f.location, rebase)
    if primary is None:
        return None
    out = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [_location(primary, f.resource)],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
    }
    related = []
    for r in f.related:
        physical = _physical(r.location, rebase)
        if physical is not None:
            related.append({"id": len(related) + 1, "physicalLocation": physical, "message": {"text": r.message}})
    if related:
        out["relatedLocations"] = related
    # SARIF 3.27.23: all results of a run carry `suppressions` or none does; xfedlint evaluates suppressions
    # for every finding, so an active finding has an empty list
    out["suppressions"] = []
    if f.suppression is not None:
        s = {"kind": f.suppression.kind}
        if f.suppression.justification:
            s["justification"] = f.suppression.justification
        out["suppressions"].append(s)
    return out


# Resource names that identify a cloud resource across files and runs (an ARN, an Azure resource ID, a GCP
# resource name): what a live audit reports on, given to SARIF viewers as the result's logical location.
_CLOUD_RESOURCE = ("arn:", "/subscriptions/", "projects/", "//iam.googleapis.com/")


def _location(physical: dict, resource: str) -> dict:
    out: dict = {"physicalLocation": physical}
    if resource.startswith(_CLOUD_RESOURCE) and "${" not in resource:
        out["logicalLocations"] = [{"fullyQualifiedName": resource, "kind": "resource"}]
    return out


def _notification(rule_id: str | None, message: str, location, rebase: Rebase, level: str = "error") -> dict:
    out = {"level": level, "message": {"text": message}}
    physical = _physical(location, rebase) if location is not None else None
    if physical is not None:
        out["locations"] = [{"physicalLocation": physical}]
    if rule_id:
        out["descriptor"] = {"id": rule_id}
    return out


def document(result: RunResult, rebase: Rebase | None = None) -> dict:
    """The SARIF log as a dict. `rebase` maps report paths to repository-relative ones (default: found from
    the working folder)."""
    rebase = rebase or Rebase()
    rules = list(result.rules)
    index = {r.id: i for i, r in enumerate(rules)}
    findings = [f for f in result.findings if f.rule in index]
    problems = sorted(result.problems, key=lambda p: (p.location.file, p.location.span.line, p.location.span.col,
                                                      p.message))
    notifications = [_notification("XF001", p.message, p.location, rebase) for p in problems]
    crashes = [f for f in result.findings if f.rule == "XF002"]
    notifications += [_notification("XF002", f.message, f.location, rebase) for f in crashes]
    # notices about the run itself (a suppression that suppresses nothing, a baseline written): warning or note
    notifications += [_notification(None, n.message, n.location, rebase, LEVEL.get(n.level, "note"))
                      for n in result.notices]
    results = [r for f in findings if (r := _result(f, index, rebase)) is not None]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "xfedlint", "semanticVersion": __version__, "version": __version__,
                                "informationUri": docsgen.PROJECT_URL, "rules": [_rule(r) for r in rules]}},
            "invocations": [{"executionSuccessful": not crashes, "toolExecutionNotifications": notifications}],
            "originalUriBaseIds": {SRCROOT: {"description": {"text": SRCROOT_DESCRIPTION}}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render(result: RunResult, out: IO[str], rebase: Rebase | None = None) -> None:
    json.dump(document(result, rebase), out, indent=2, ensure_ascii=False)
    out.write("\n")
