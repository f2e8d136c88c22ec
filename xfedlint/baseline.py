"""Baselines: record today's findings, then report only new ones.

`xfedlint scan --write-baseline FILE` writes every finding not already suppressed (inline, annotation or
per-path ignore) to FILE; `xfedlint scan --baseline FILE` reports the findings recorded there as suppressed
(kind `external`, justification `baseline FILE`), so only new findings count for the exit code.

The file is JSON, versioned and deterministic (sorted; no timestamps), meant to be committed and reviewed:

    {"version": 1, "tool": "xfedlint",
     "findings": [{"fingerprint": "...", "rule": "AWS004", "file": "iam/trust.json", "message": "..."}]}

Findings match by fingerprint alone (rule, file, resource, JSON pointer and the offending text; never the
line), so unrelated edits keep them matched. Each entry matches one finding: a second, identical finding is
new. `rule`, `file` and `message` are for the reader. XF002 (a crashed rule) is never recorded: a crash is a
bug to report, not a finding to accept.
"""

from __future__ import annotations

import json
import os
from collections import Counter

from msgspec.structs import replace

from xfedlint.errors import UsageError
from xfedlint.findings import Finding, Suppression
from xfedlint.suppress import EXTERNAL

VERSION = 1
TOOL = "xfedlint"
_PREFIX = "baseline "
_NEVER = frozenset({"XF002"})


def justification(path: str) -> str:
    return _PREFIX + path


def is_baselined(f: Finding) -> bool:
    s = f.suppression
    return s is not None and s.kind == EXTERNAL and s.justification.startswith(_PREFIX)


def recordable(findings: list) -> list:
    """The findings a baseline written now records: unsuppressed (or only baselined), crashes excepted."""
    return [f for f in findings if (not f.suppressed or is_baselined(f)) and f.rule not in _NEVER]


def document(findings: list) -> dict:
    entries = sorted(({"fingerprint": f.fingerprint, "rule": f.rule, "file": f.location.file, "message": f.message}
                      for f in findings),
                     key=lambda e: (e["file"], e["rule"], e["fingerprint"], e["message"]))
    return {"version": VERSION, "tool": TOOL, "findings": entries}


def write(path: str, findings: list) -> int:
    """Write the baseline of `findings` (see `recordable`) to `path`; returns how many were recorded."""
    doc = document(findings)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None
    return len(doc["findings"])


def read(path: str, missing_ok: bool = False) -> Counter:
    """The fingerprints recorded in a baseline file, with how many findings each stands for."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        if missing_ok:
            return Counter()
        raise UsageError(f"{path}: baseline file not found (`--write-baseline {path}` creates it)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the baseline: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}:{exc.colno}: not a baseline: invalid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or doc.get("tool") != TOOL or "findings" not in doc:
        raise UsageError(f"{path}: not an xfedlint baseline (expected {{\"version\": {VERSION}, \"tool\": "
                         f"\"{TOOL}\", \"findings\": [...]}}, as written by --write-baseline)")
    if doc.get("version") != VERSION:
        raise UsageError(f"{path}: baseline version {doc.get('version')!r} is not supported (this xfedlint reads "
                         f"version {VERSION}; rewrite it with --write-baseline)")
    entries = doc["findings"]
    if not isinstance(entries, list):
        raise UsageError(f"{path}: `findings` must be a list")
    counts: Counter = Counter()
    for i, e in enumerate(entries):
        fp = e.get("fingerprint") if isinstance(e, dict) else None
        if not isinstance(fp, str) or not fp:
            raise UsageError(f"{path}: findings[{i}] has no `fingerprint` string")
        counts[fp] += 1
    return counts


def apply(findings: list, recorded: Counter, path: str) -> list:
    """Suppress each unsuppressed finding recorded in the baseline (one finding per recorded entry)."""
    left = Counter(recorded)
    s = Suppression(EXTERNAL, justification(path))
    out = []
    for f in findings:
        if not f.suppressed and f.rule not in _NEVER and left[f.fingerprint] > 0:
            left[f.fingerprint] -= 1
            f = replace(f, suppression=s)
        out.append(f)
    return out
