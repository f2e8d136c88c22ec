"""Machine output: a versioned JSON document (schema: xfedlint/schemas/output.schema.json)."""

from __future__ import annotations

import json
from typing import IO

from xfedlint import __version__
from xfedlint.findings import Finding, RunResult

FORMAT_VERSION = 1


def _finding(f: Finding) -> dict:
    s = f.location.span
    return {
        "rule": f.rule, "name": f.name, "severity": f.severity, "message": f.message,
        "file": f.location.file, "line": s.line, "column": s.col, "end_line": s.end_line, "end_column": s.end_col,
        "pointer": f.location.pointer, "resource": f.resource, "fingerprint": f.fingerprint,
        "suppressed": f.suppressed,
        "related": [{"file": r.location.file, "line": r.location.span.line, "column": r.location.span.col,
                     "message": r.message} for r in f.related],
    }


def _notice(n) -> dict:
    """A suppression that suppresses nothing, a baseline written: about the run, never failing it."""
    loc = n.location
    return {"level": n.level, "message": n.message, "file": loc.file if loc else None,
            "line": loc.span.line if loc else None, "column": loc.span.col if loc else None}


def document(result: RunResult) -> dict:
    counts = result.counts()
    return {
        "version": FORMAT_VERSION,
        "tool": {"name": "xfedlint", "version": __version__},
        "findings": [_finding(f) for f in result.findings],
        "problems": [{"file": p.location.file, "line": p.location.span.line, "column": p.location.span.col,
                      "reason": p.reason, "message": p.message} for p in result.problems],
        "notices": [_notice(n) for n in result.notices],
        "summary": {"files_read": result.files_seen, "files_with_federation": result.files_relevant,
                    "resources": result.resources, "errors": counts["error"], "warnings": counts["warning"],
                    "notes": counts["note"], "suppressed": len(result.findings) - len(result.active)},
    }


def render(result: RunResult, out: IO[str]) -> None:
    json.dump(document(result), out, indent=2, sort_keys=False, ensure_ascii=False)
    out.write("\n")
