"""What a run reports: findings with a rule, a severity, a message and exact locations."""

from __future__ import annotations

import msgspec

from xfedlint.model.location import Location

SEVERITIES = ("error", "warning", "note")
SEVERITY_RANK = {"error": 3, "warning": 2, "note": 1}


class Related(msgspec.Struct, frozen=True):
    location: Location
    message: str


class Suppression(msgspec.Struct, frozen=True):
    kind: str  # inSource (inline comment or annotation) or external (baseline, config)
    justification: str = ""


class Finding(msgspec.Struct, frozen=True):
    rule: str
    name: str
    severity: str
    message: str
    location: Location
    related: tuple = ()  # Related
    resource: str = ""  # stable identity of the resource at fault (ARN, kind/ns/name, ...)
    fingerprint: str = ""
    suppression: Suppression | None = None
    sensitive: bool = False  # the located value is a secret; excerpts mask it

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    def sort_key(self) -> tuple:
        s = self.location.span
        return (self.location.file, s.line, s.col, self.rule, self.message)


class RunResult(msgspec.Struct):
    """One run, ready for any reporter: findings, what was read, and which rules ran."""

    findings: list = msgspec.field(default_factory=list)
    rules: list = msgspec.field(default_factory=list)  # RuleSpec of every rule that ran (for SARIF metadata)
    files_seen: int = 0
    files_relevant: int = 0
    resources: int = 0
    problems: list = msgspec.field(default_factory=list)  # LoadProblem, also reported as XF001 findings
    missing_paths: list = msgspec.field(default_factory=list)
    sources: dict = msgspec.field(default_factory=dict)  # file -> text, for source excerpts
    notices: list = msgspec.field(default_factory=list)  # suppress.Notice: about the run itself; never fail it

    @property
    def active(self) -> list:
        return [f for f in self.findings if not f.suppressed]

    def counts(self) -> dict:
        out = {s: 0 for s in SEVERITIES}
        for f in self.active:
            out[f.severity] += 1
        return out
