"""Permission checks: what a federated identity may do once it is in."""

from __future__ import annotations

import re
from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit
from xfedlint.model.resources import GcpIamPolicy
from xfedlint.semantics.gcp_iam import member_kind

_ADMIN_ROLE = re.compile(r"^roles/.*[Aa]dmin")
BASIC_ROLES = ("roles/owner", "roles/editor")


def gcp_basic_or_admin(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """PERM002: owner/editor (error) or an *Admin role (warning) for a federated or impersonable identity."""
    for b in policy.bindings:
        basic = b.role in BASIC_ROLES
        if not basic and not _ADMIN_ROLE.match(b.role):
            continue
        for m, j in b.members:
            kind = member_kind(m)
            if kind == "other":
                continue
            who = (f"federated `{m}`" if kind in ("federated", "gke")
                   else f"`{m}` (a service account that federated workloads may impersonate)")
            if basic:
                msg = (f"basic role `{b.role}` is granted on the {policy.level} to {who}: near-total control; "
                       f"grant a predefined role on the resources it needs")
            else:
                msg = (f"administrative role `{b.role}` is granted on the {policy.level} to {who}; a federated "
                       f"workload rarely needs to administer: grant a narrower role (e.g. "
                       f"`roles/storage.objectViewer`)")
            yield Hit(msg, policy.loc("bindings", b.index, "role"), severity="error" if basic else "warning")
