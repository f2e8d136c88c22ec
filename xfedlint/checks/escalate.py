"""The entry point of the X005 escalator: a cheap gate in front of the join in xfed_aws.

Most runs (a pre-commit hook on one file, say) have no weak-trust finding or no permission finding at
all; then nothing can be escalated, and the correlation module, with what it imports, is not loaded.
"""

from __future__ import annotations

from xfedlint.checks.base import CheckContext


def weak_trust_privileged_target(findings: list, ctx: CheckContext) -> list:
    weak = ctx.param("weak_trust_rules")
    privilege = ctx.param("privilege_rules")
    if weak is not None and privilege is not None:
        rules = {f.rule for f in findings}
        if not (rules & set(weak) and rules & set(privilege)):
            return findings
    from xfedlint.checks.xfed_aws import weak_trust_privileged_target as escalate

    return escalate(findings, ctx)
