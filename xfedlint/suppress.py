"""In-source suppressions: `# xfedlint: ignore[ID,...] reason` comments and the Kubernetes annotation
`xfedlint.io/ignore`, applied to a run's findings, and the notices that keep them from rotting.

Inline comments (YAML, HCL, shell: any text where `#` starts a comment):

    trust: ...   # xfedlint: ignore[AWS004,K8S011] the sandbox role, reviewed 2024-05
    # xfedlint: ignore[AWS004] a comment alone on its line covers the next line that is not blank or a comment

Rule IDs are required and exact (case-insensitive; no prefixes). A comment covers the findings whose
location starts on the line it covers. The annotation, on a Kubernetes object's `metadata.annotations`:

    xfedlint.io/ignore: "K8S011,K8S012"            # or "K8S011, K8S012: reason"

covers the findings located inside that object (its span in its document), and nothing else.

A suppressed finding stays in the results, with `Suppression("inSource", justification=reason)`. What
cannot suppress anything is reported as a `Notice` rather than failing the run: a comment without rule IDs
(warning), an ID that is not a rule (warning), and an ID that matched no finding of a rule that ran (note),
so that suppressions do not outlive the problem they hid. JSON has no comments: use the configuration's
`per-path-ignores` or a baseline.
"""

from __future__ import annotations

import re

import msgspec
from msgspec.structs import replace

from xfedlint.findings import Suppression
from xfedlint.model.location import Location, Span

ANNOTATION = "xfedlint.io/ignore"
IN_SOURCE = "inSource"
EXTERNAL = "external"
EXAMPLE = "`# xfedlint: ignore[AWS004] reason`"

# A comment `#` starts a line or follows whitespace (YAML's rule; a `#` inside a word is not a comment).
_DIRECTIVE = re.compile(r"(?:^|(?<=\s))#[ \t]*xfedlint:[ \t]*ignore\b(?P<rest>[^\r\n]*)", re.I | re.M)
_IDS = re.compile(r"[ \t]*\[(?P<ids>[^\]\r\n]*)\](?P<reason>[^\r\n]*)")
_SKIPPED_LINE = re.compile(r"[ \t\r]*(?:#.*)?$")  # blank or comment-only: a comment above looks past it


class Notice(msgspec.Struct, frozen=True):
    """Something about the run itself, not about the configuration audited: reported, never failing it.

    `level` is SARIF's notification level (warning or note); `location` is None when there is no place."""

    level: str
    message: str
    location: Location | None = None

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.file, loc.span.line, loc.span.col, self.message) if loc else ("", 0, 0, self.message)


class _Suppressor(msgspec.Struct, eq=False):
    """One comment or annotation: the rules it names, where it applies, which of them were used."""

    ids: tuple  # upper-case rule IDs that exist
    reason: str
    where: Location  # the comment or the annotation value, for notices
    scope: str  # how a notice names what it covers ("on line 12", "in serviceaccount prod/app")
    used: set = msgspec.field(default_factory=set)


def apply(findings: list, texts: dict, objects: list, known: set, ran: set) -> tuple[list, list]:
    """Mark the findings covered by inline comments (in `texts`, file -> source) or by the annotation on
    `objects` (Kubernetes objects); returns the findings, in order, and the notices.

    `known` holds every rule ID of the catalog; `ran` those that ran (an ID naming a rule that did not run,
    say under --select, is not reported as unused: nothing could have matched it)."""
    notices: list[Notice] = []
    by_line: dict[tuple, list[_Suppressor]] = {}  # (file, line) -> comments covering that line
    for file in sorted(texts):
        text = texts[file]
        if "xfedlint:" not in text.lower():  # most files never mention it; a case-insensitive regex is 7x slower
            continue
        for line, sup in _comments(file, text, known, notices):
            by_line.setdefault((file, line), []).append(sup)
    scoped = [s for s in (_annotation(obj, known, notices) for obj in objects) if s is not None]
    out = []
    for f in findings:
        if f.suppressed:
            out.append(f)
            continue
        span = f.location.span
        pos = (span.line, span.col)
        hits = [s for s in by_line.get((f.location.file, span.line), ()) if f.rule in s.ids]
        hits += [s for s, (file, start, end) in scoped if f.rule in s.ids and file == f.location.file
                 and start <= pos <= end]
        for s in hits:
            s.used.add(f.rule)
        out.append(replace(f, suppression=Suppression(IN_SOURCE, hits[0].reason)) if hits else f)
    every = [s for group in by_line.values() for s in group] + [s for s, _ in scoped]
    for s in every:
        for rid in s.ids:
            if rid in ran and rid not in s.used:
                notices.append(Notice("note", f"unused suppression: no {rid} finding {s.scope}; "
                                              f"remove {rid} from it", s.where))
    notices.sort(key=Notice.sort_key)
    return out, notices


def _comments(file: str, text: str, known: set, notices: list):
    """(covered line, _Suppressor) for every `# xfedlint: ignore` comment of one file."""
    lines = text.split("\n")
    for m in _DIRECTIVE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
        comment = m.group(0).rstrip()
        where = Location(file, Span(line, col, line, col + len(comment)))
        parsed = _IDS.match(m.group("rest"))
        names = _split(parsed.group("ids")) if parsed else []
        if not names:
            shown = comment if len(comment) <= 60 else comment[:59] + "…"
            notices.append(Notice("warning", f"`{shown}` suppresses nothing: name the rules, as in {EXAMPLE}",
                                  where))
            continue
        ids = _known_ids(names, known, where, notices)
        if not ids:
            continue
        own_line = not lines[line - 1][:col - 1].strip()
        target = line
        if own_line:  # covers the next line that holds something other than comments
            target = line + 1
            while target <= len(lines) and _SKIPPED_LINE.match(lines[target - 1]):
                target += 1
        reason = parsed.group("reason").strip().lstrip(":-—").strip()
        yield target, _Suppressor(ids, reason, where, f"on line {target}")


def _annotation(obj, known: set, notices: list):
    """(_Suppressor, (file, start, end)) for an object carrying `xfedlint.io/ignore`, else None."""
    if ANNOTATION not in obj.annotations:
        return None
    value = obj.annotations[ANNOTATION]
    where = obj.src.loc("metadata", "annotations", ANNOTATION)
    text = "" if value is None else str(value)
    head, sep, reason = text.partition(":")
    names = _split(head)
    if not names:
        notices.append(Notice("warning", f"annotation `{ANNOTATION}` on {obj.label} suppresses nothing: name the "
                                         f'rules, as in `{ANNOTATION}: "K8S011,K8S012: reason"`', where))
        return None
    ids = _known_ids(names, known, where, notices)
    if not ids:
        return None
    span = obj.src.doc.span(obj.src.base)
    scope = (obj.src.file, (span.line, span.col), (span.end_line, span.end_col))
    return _Suppressor(ids, reason.strip() if sep else "", where, f"in {obj.label}"), scope


def _split(ids: str) -> list:
    return [i for i in re.split(r"[\s,]+", ids) if i]


def _known_ids(names: list, known: set, where: Location, notices: list) -> tuple:
    ids = []
    for name in names:
        up = name.upper()
        if up in known:
            if up not in ids:
                ids.append(up)
            continue
        if any(k.startswith(up) for k in known):
            why = " (suppressions take exact rule IDs, not prefixes)"
        else:
            import difflib  # only to suggest a correction

            close = difflib.get_close_matches(up, sorted(known), n=1, cutoff=0.6)
            why = f" (did you mean `{close[0]}`?)" if close else ""
        notices.append(Notice("warning", f"`{name}` is not a rule ID{why}, so it suppresses nothing "
                                         "(`xfedlint rules` lists them)", where))
    return tuple(ids)


def external(justification: str) -> Suppression:
    return Suppression(EXTERNAL, justification)


def mark(findings: list, covered, justification: str) -> list:
    """Suppress (kind external) every unsuppressed finding for which `covered(finding)` holds."""
    s = external(justification)
    return [replace(f, suppression=s) if not f.suppressed and covered(f) else f for f in findings]

