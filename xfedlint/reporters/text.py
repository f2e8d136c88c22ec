"""Human output: findings grouped by file, each with the source line and a caret under the column.

The layout is built once as styled segments; a terminal gets them through rich (colour, NO_COLOR honoured),
anything else gets plain text without importing rich at all.
"""

from __future__ import annotations

import re
from typing import IO

from xfedlint.findings import Finding, RunResult
from xfedlint.model.location import source_lines

Segment = tuple  # (text, style)

_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}
_SECRET_PATTERNS = (
    re.compile(r"((?:AKIA|ASIA)[A-Z0-9]{16})"),
    re.compile(r"(-----BEGIN [A-Z ]*PRIVATE KEY-----.*)"),
    re.compile(r"""([\w.-]*(?:secret|passw(?:or)?d|private_?key|access_?key)[\w.-]*["']?\s*[:=]\s*["']?)"""
               r"""([^"'\s,{}\[\]]{6,})""", re.I),
)


def redact(line: str) -> str:
    """Source excerpts never show secret values: key material and secret-named fields are masked."""
    line = _SECRET_PATTERNS[0].sub("AKIA****************", line)
    line = _SECRET_PATTERNS[1].sub("-----BEGIN PRIVATE KEY----- ****", line)
    return _SECRET_PATTERNS[2].sub(_mask_value, line)


def _mask_value(m: re.Match) -> str:
    key = m.group(1).split(":")[0].split("=")[0].strip().strip("\"'").lower()
    if key.endswith(("ref", "name", "path", "file")):  # secretKeyRef, secretName, ..._PATH: names, not secrets
        return m.group(0)
    return m.group(1) + "****"


def _excerpt(f: Finding, sources: dict) -> list[list[Segment]]:
    text = sources.get(f.location.file)
    span = f.location.span
    if text is None:
        return []
    lines = source_lines(text)
    if not (0 < span.line <= len(lines)):
        return []
    raw = lines[span.line - 1].replace("\t", " ")
    if f.sensitive:  # the value at fault is itself a secret: mask it whatever it looks like
        end = span.end_col if span.end_line == span.line else len(raw) + 1
        raw = raw[:span.col - 1] + "*" * max(4, min(8, end - span.col)) + raw[end - 1:]
    shown = redact(raw)
    if len(shown) > 160:
        start = max(0, span.col - 60)
        shown = ("…" if start else "") + shown[start:start + 150] + "…"
        col = span.col - start + (1 if start else 0)
    else:
        col = span.col
    end = span.end_col if span.end_line == span.line else len(raw) + 1
    width = max(1, min(end - span.col, len(shown) - col + 1))
    num = str(span.line)
    pad = " " * len(num)
    return [
        [(f"    {num} | ", "dim"), (shown, "")],
        [(f"    {pad} | ", "dim"), (" " * (col - 1) + "^" * width, _STYLE[f.severity])],
    ]


def layout(result: RunResult, fixes: dict, verbose: bool = False) -> list[list[Segment]]:
    out: list[list[Segment]] = []
    current = None
    for f in result.findings:
        if f.suppressed and not verbose:
            continue
        if f.location.file != current:
            if current is not None:
                out.append([])
            current = f.location.file
            out.append([(current or "<no file>", "bold underline")])
        s = f.location.span
        out.append([(f"  {s.line}:{s.col}", "dim"), ("  ", ""), (f"{f.severity:<7}", _STYLE[f.severity]), (" ", ""),
                    (f"{f.rule:<7}", "bold"), ("  ", ""), (f.message, "")])
        out.extend(_excerpt(f, result.sources))
        for r in f.related:
            rs = r.location.span
            out.append([("      = ", "dim"), ("related: ", "dim"), (f"{r.location.file}:{rs.line}:{rs.col}", "bold"),
                        (f" {r.message}", "dim")])
        hint = fixes.get(f.rule)
        if hint:
            out.append([("      = ", "dim"), ("fix: ", "green"), (hint, "")])
    if out:
        out.append([])
    out.append(summary(result))
    for p in result.missing_paths:
        out.append([("warning: ", "yellow"), (f"path not found: {p}", "")])
    return out


def summary(result: RunResult) -> list[Segment]:
    c = result.counts()
    total = sum(c.values())
    files_with = len({f.location.file for f in result.active})
    unreadable = sum(1 for f in result.active if f.rule == "XF001")
    suppressed = len(result.findings) - len(result.active)
    if result.files_seen == 0:
        return [("No input files found.", "bold yellow")]
    head = (f"Found {total} problem{'s' if total != 1 else ''} ({c['error']} error{'s' if c['error'] != 1 else ''}, "
            f"{c['warning']} warning{'s' if c['warning'] != 1 else ''}, {c['note']} note{'s' if c['note'] != 1 else ''}) "
            f"in {files_with} file{'s' if files_with != 1 else ''}") if total else "No problems found"
    tail = (f"; {result.files_seen} file{'s' if result.files_seen != 1 else ''} read, {result.files_relevant} with "
            f"federation configuration ({result.resources} resources)")
    if unreadable:
        tail += f", {unreadable} not understood (XF001)"
    if suppressed:
        tail += f", {suppressed} suppressed"
    style = "bold red" if c["error"] else "bold yellow" if c["warning"] else "bold green"
    return [(head, style), (tail + ".", "")]


def render(result: RunResult, out: IO[str], fixes: dict, color: bool) -> None:
    lines = layout(result, fixes)
    if not color:
        out.write("".join("".join(t for t, _ in line) + "\n" for line in lines))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, highlight=False, soft_wrap=True, force_terminal=True)
    for line in lines:
        t = Text()
        for text, style in line:
            t.append(text, style=style or None)
        console.print(t)
