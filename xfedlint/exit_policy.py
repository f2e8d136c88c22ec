"""The exit code of a run, decided in one place (product.md, "Exit codes")."""

from __future__ import annotations

import msgspec

from xfedlint.findings import SEVERITY_RANK, RunResult

OK, FINDINGS, USAGE, NO_INPUT, INCOMPLETE, INTERNAL = 0, 1, 2, 3, 4, 70
FAIL_ON = ("error", "warning", "note", "never")


class ExitPolicy(msgspec.Struct, frozen=True):
    fail_on: str = "warning"
    strict: bool = False

    def code(self, result: RunResult) -> int:
        if result.files_seen == 0:
            return NO_INPUT
        if self.strict and result.problems:
            return NO_INPUT
        if self.fail_on == "never":
            return OK
        threshold = SEVERITY_RANK[self.fail_on]
        if any(SEVERITY_RANK[f.severity] >= threshold for f in result.active):
            return FINDINGS
        return OK
