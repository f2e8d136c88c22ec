"""GCP IAM principals and roles: which members are federated, which roles are resource-scoped."""

from __future__ import annotations

import fnmatch
import re

_PRINCIPAL = re.compile(r"^(principal|principalSet)://iam\.googleapis\.com/projects/(?P<project>[^/]+)/locations/"
                        r"(?P<location>[^/]+)/workloadIdentityPools/(?P<pool>[^/]+)/(?P<rest>.*)$")
_GKE_MEMBER = re.compile(r"^serviceAccount:(?P<pool>[^\[\]]+\.svc\.id\.goog)\[(?P<ns>[^/\]]*)/(?P<ksa>[^\]]*)\]$")

DEFAULT_RESOURCE_SCOPED_ROLES = ("roles/storage.*", "roles/secretmanager.*", "roles/pubsub.*", "roles/bigquery.*",
                                 "roles/cloudkms.*", "roles/artifactregistry.*", "roles/spanner.*")


def member_kind(member: str) -> str:
    """federated (principal/principalSet), gke (PROJECT.svc.id.goog[ns/ksa]), service-account, or other."""
    if member.startswith(("principal://", "principalSet://")):
        return "federated"
    if _GKE_MEMBER.match(member):
        return "gke"
    if member.startswith("serviceAccount:"):
        return "service-account"
    return "other"


def grantee(member: str) -> str | None:
    """How a message names a member that is, or may be acted as by, a federated workload; None otherwise.

    Any `serviceAccount:` member counts: whether federated principals can impersonate it is often not in
    the inputs, so it is treated as possible (and said so).
    """
    kind = member_kind(member)
    if kind in ("federated", "gke"):
        return f"federated `{member}`"
    if kind == "service-account":
        return f"`{member}`, a service account that federated workloads may impersonate"
    return None


def reachable_grants(policy, roles_wanted):
    """(binding, member, member index, how to name it) for each binding whose role `roles_wanted(role)`
    accepts and whose member is federated or a service account."""
    for b in policy.bindings:
        if not roles_wanted(b.role):
            continue
        for m, j in b.members:
            who = grantee(m)
            if who is not None:
                yield b, m, j, who


def is_federated(member: str) -> bool:
    return member_kind(member) in ("federated", "gke")


def parse_principal(member: str) -> dict | None:
    """{'type', 'project', 'pool', 'rest'} of a principal:// or principalSet:// member."""
    m = _PRINCIPAL.match(member)
    if not m:
        return None
    return {"type": member.split(":", 1)[0], **m.groupdict()}


def attribute_set(member: str) -> tuple[str, str] | None:
    """(attribute name, value) of `principalSet://.../attribute.NAME/VALUE`."""
    p = parse_principal(member)
    if not p or p["type"] != "principalSet" or not p["rest"].startswith("attribute."):
        return None
    name, _, value = p["rest"][len("attribute."):].partition("/")
    return name, value


def role_matches(role: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(role, p) for p in patterns)
