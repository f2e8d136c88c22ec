"""Permission checks: what a federated identity may do once it is in."""

from __future__ import annotations

import re
from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit
from xfedlint.model.resources import GcpIamPolicy
from xfedlint.semantics.gcp_iam import reachable_grants

_ADMIN_ROLE = re.compile(r"^roles/.*[Aa]dmin")
BASIC_ROLES = ("roles/owner", "roles/editor")


def gcp_basic_or_admin(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """PERM002: owner/editor (error) or an *Admin role (warning) for a federated or impersonable identity."""
    for b, _m, _j, who in reachable_grants(policy, lambda role: role in BASIC_ROLES or _ADMIN_ROLE.match(role)):
        if b.role in BASIC_ROLES:
            yield Hit(f"basic role `{b.role}` is granted on the {policy.level} to {who}: near-total control; grant "
                      f"a predefined role on the resources it needs", policy.loc("bindings", b.index, "role"),
                      severity="error")
        else:
            yield Hit(f"administrative role `{b.role}` is granted on the {policy.level} to {who}; a federated "
                      f"workload rarely needs to administer: grant a narrower role (e.g. "
                      f"`roles/storage.objectViewer`)", policy.loc("bindings", b.index, "role"), severity="warning")
