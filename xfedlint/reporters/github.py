"""GitHub Actions workflow commands: one annotation per active (unsuppressed) finding.

    ::error file=k8s/sa.yaml,line=7,col=5,endLine=7,endColumn=38,title=K8S011 k8s-...::message

error, warning and note map to `::error`, `::warning` and `::notice`. Paths are repository-relative (see
`reporters.paths`), as the runner resolves them against the checkout. Columns are 1-based; GitHub's
`endColumn` is inclusive (it defaults to `col`), so it is the last character of the span, and both columns
are left out for a span over several lines (GitHub accepts them only on one line). Escaping follows the
Actions toolkit: in the message `%`, CR and LF; in property values also `:` and `,`. Notices about the run
(an unused or malformed suppression, a baseline written) follow as `::warning`/`::notice` titled `xfedlint`,
and a summary line (plain text, not a command) closes the output.
"""

from __future__ import annotations

from typing import IO

from xfedlint.findings import Finding, RunResult
from xfedlint.reporters.paths import Rebase

COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(level: str, location, title: str, message: str, rebase: Rebase) -> str:
    props = []
    if location is not None:
        s = location.span
        path = rebase.rel(location.file)
        if path is None and location.file and location.file != "<stdin>":
            path = rebase.absolute(location.file)
        if path is not None:
            props += [("file", path), ("line", s.line)]
            if s.end_line == s.line:
                props += [("col", s.col), ("endLine", s.end_line), ("endColumn", max(s.col, s.end_col - 1))]
            else:
                props += [("endLine", s.end_line)]
    props.append(("title", title))
    head = ",".join(f"{k}={escape_property(str(v))}" for k, v in props)
    return f"::{COMMAND[level]} {head}::{escape_data(message)}"


def annotation(f: Finding, rebase: Rebase) -> str:
    return _command(f.severity, f.location, f"{f.rule} {f.name}", f.message, rebase)


def render(result: RunResult, out: IO[str], rebase: Rebase | None = None) -> None:
    rebase = rebase or Rebase()
    for f in result.active:
        out.write(annotation(f, rebase) + "\n")
    for n in result.notices:  # an unused or malformed suppression, a baseline written
        out.write(_command(n.level if n.level in COMMAND else "note", n.location, "xfedlint", n.message, rebase)
                  + "\n")
    counts = result.counts()
    total = sum(counts.values())
    suppressed = len(result.findings) - len(result.active)
    out.write(f"xfedlint: {total} finding{'s' if total != 1 else ''} ({counts['error']} error, "
              f"{counts['warning']} warning, {counts['note']} note"
              + (f"; {suppressed} suppressed" if suppressed else "")
              + f") in {result.files_seen} file{'s' if result.files_seen != 1 else ''} read\n")
