"""GCP IAM principals and roles: which members are federated, which roles are resource-scoped."""

from __future__ import annotations

import fnmatch
import re

_PRINCIPAL = re.compile(r"^(principal|principalSet)://iam\.googleapis\.com/projects/(?P<project>[^/]+)/locations/"
                        r"(?P<location>[^/]+)/workloadIdentityPools/(?P<pool>[^/]+)/(?P<rest>.*)$")
GKE_MEMBER = re.compile(r"^serviceAccount:(?P<pool>[^\[\]]+\.svc\.id\.goog)\[(?P<ns>[^/\]]*)/(?P<ksa>[^\]]*)\]$")

DEFAULT_RESOURCE_SCOPED_ROLES = ("roles/storage.*", "roles/secretmanager.*", "roles/pubsub.*", "roles/bigquery.*",
                                 "roles/cloudkms.*", "roles/artifactregistry.*", "roles/spanner.*")


def member_kind(member: str) -> str:
    """federated (principal/principalSet), gke (PROJECT.svc.id.goog[ns/ksa]), service-account, or other."""
    if member.startswith(("principal://", "principalSet://")):
        return "federated"
    if GKE_MEMBER.match(member):
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


# ---- principals in more detail -------------------------------------------------------------------------

IMPERSONATION_ROLES = ("roles/iam.workloadIdentityUser", "roles/iam.serviceAccountTokenCreator",
                       "roles/iam.serviceAccountUser")
# Google-managed service agents hold impersonation roles on projects by design (rules.md GCP011 excludes
# nothing, but reporting Google's own defaults is noise; the list is a rule param).
DEFAULT_SERVICE_AGENTS = ("serviceAccount:service-[0-9]*@*.iam.gserviceaccount.com",
                          "serviceAccount:[0-9]*@cloudservices.gserviceaccount.com",
                          "serviceAccount:[0-9]*@cloudbuild.gserviceaccount.com")
# `principalSet://.../attribute.NAME/VALUE` on these names selects a group of workloads (rules.md GCP005)
DEFAULT_GROUP_LIKE_ATTRIBUTES = ("repository_owner", "repository_owner_id", "namespace", "namespace_path",
                                 "namespace_id", "aud")
# claims that are names (recyclable, renamable) -> the immutable claims that pin the same thing (GCP010)
MUTABLE_CLAIMS = {
    ("assertion", "repository"): (("assertion", "repository_id"),),
    ("assertion", "repository_owner"): (("assertion", "repository_owner_id"), ("assertion", "repository_id")),
    ("assertion", "namespace_path"): (("assertion", "namespace_id"), ("assertion", "project_id")),
    ("assertion", "project_path"): (("assertion", "project_id"),),
    ("assertion", "kubernetes.io", "namespace"): (("assertion", "kubernetes.io", "serviceaccount", "uid"),),
}
# attribute names that are conventionally mapped from those claims (used when no provider mapping is known)
MUTABLE_ATTRIBUTE_NAMES = {"repository": "repository_id", "repository_owner": "repository_owner_id",
                           "namespace_path": "namespace_id", "project_path": "project_id",
                           "namespace": "['kubernetes.io']['serviceaccount']['uid']"}

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\{\{[^}]*\}\}|%[A-Z_][A-Z0-9_]*%|<[A-Za-z_][A-Za-z0-9_ -]*>")
_GKE_PRINCIPAL = re.compile(r"^principal://iam\.googleapis\.com/projects/[^/]+/locations/global/workloadIdentityPools/"
                            r"(?P<pool>[^/]+\.svc\.id\.goog)/subject/ns/(?P<ns>[^/]+)/sa/(?P<ksa>[^/]+)$")
_GKE_NAMESPACE_SET = re.compile(r"^principalSet://iam\.googleapis\.com/projects/[^/]+/locations/global/"
                                r"workloadIdentityPools/(?P<pool>[^/]+\.svc\.id\.goog)/namespace/(?P<ns>[^/]+)$")


def is_placeholder(text: str) -> bool:
    """A value left unrendered by a template (`${var}`, `{{ x }}`, `%VAR%`, `<PROJECT_NUMBER>`)."""
    return bool(_PLACEHOLDER.search(text))


def is_whole_pool(member: str) -> bool:
    p = parse_principal(member)
    return bool(p) and p["type"] == "principalSet" and p["rest"] == "*"


def gke_identity(member: str) -> dict | None:
    """{'pool', 'ns', 'ksa'} of a GKE workload identity member (`ksa` None for a whole namespace):
    `serviceAccount:P.svc.id.goog[ns/ksa]`, `principal://.../P.svc.id.goog/subject/ns/NS/sa/KSA` or
    `principalSet://.../P.svc.id.goog/namespace/NS`."""
    m = GKE_MEMBER.match(member) or _GKE_PRINCIPAL.match(member)
    if m:
        return m.groupdict()
    m = _GKE_NAMESPACE_SET.match(member)
    if m:
        return {**m.groupdict(), "ksa": None}
    return None


def group_set(member: str) -> str | None:
    """The group ID of `principalSet://.../workloadIdentityPools/POOL/group/GROUP` (`google.groups`)."""
    p = parse_principal(member)
    if not p or p["type"] != "principalSet" or not p["rest"].startswith("group/"):
        return None
    return p["rest"][len("group/"):]


def providers_of_pool(providers, pr: dict) -> list:
    """The scanned providers of the pool a parsed principal names (project numbers compared when both known)."""
    out = []
    for p in providers:
        if p.pool != pr["pool"]:
            continue
        if p.project and pr["project"] and p.project.isdigit() and pr["project"].isdigit() \
                and p.project != pr["project"]:
            continue
        out.append(p)
    return out
