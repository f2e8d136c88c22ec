"""GCP checks: workload identity pool providers (attribute conditions as CEL) and IAM bindings."""

from __future__ import annotations

from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.model.resources import GcpIamPolicy, GcpProvider
from xfedlint.semantics import cel
from xfedlint.semantics.cel_weakness import is_trivially_true, weaknesses
from xfedlint.semantics.gcp_iam import (
    DEFAULT_RESOURCE_SCOPED_ROLES,
    attribute_set,
    is_federated,
    parse_principal,
    reachable_grants,
    role_matches,
)
from xfedlint.semantics.issuers import is_kubernetes_issuer, is_multi_tenant

TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
PROJECT_LEVELS = ("project", "folder", "organization")


def _condition_tree(p: GcpProvider):
    try:
        return cel.parse(p.attribute_condition)
    except cel.CelSyntaxError:
        return None


def _pool_bound_whole(p: GcpProvider, ctx: CheckContext) -> bool:
    for policy in ctx.inventory.of(GcpIamPolicy):
        for b in policy.bindings:
            for m, _ in b.members:
                pr = parse_principal(m)
                if pr and pr["type"] == "principalSet" and pr["pool"] == p.pool and pr["rest"] == "*":
                    return True
    return False


def provider_no_attribute_condition(p: GcpProvider, ctx: CheckContext) -> Iterator[Hit]:
    """GCP001: a provider that admits every token its issuer mints."""
    cond = p.attribute_condition
    if isinstance(cond, str) and cond.strip():
        tree = _condition_tree(p)
        if tree is None or not is_trivially_true(tree):
            return
        where, what = p.src.loc("attributeCondition"), f"`attributeCondition: {cond}` is always true"
    else:
        where = p.src.loc("oidc", "issuerUri") if p.issuer_uri else p.src.loc()
        what = "has no `attributeCondition`"
    issuer = str(p.issuer_uri or "")
    if issuer and is_multi_tenant(issuer):
        yield Hit(f"{p.label} for multi-tenant issuer `{issuer}` {what}: every repository or project on that "
                  f"platform can exchange tokens (GCP now rejects such providers)", where, severity="error")
    elif _pool_bound_whole(p, ctx):
        yield Hit(f"{p.label} {what}, and pool `{p.pool}` is bound as a whole (`principalSet://.../*`): every "
                  f"identity of issuer `{issuer}` gets those roles", where, severity="error")
    else:
        who = "any service account in the cluster" if is_kubernetes_issuer(issuer) else "any identity of the issuer"
        yield Hit(f"{p.label} {what}: {who} can federate into pool `{p.pool or '?'}`; restrict it, e.g. "
                  f"`assertion.sub == 'system:serviceaccount:<ns>:<sa>'`", where, severity="warning")


def cel_weak_match(p: GcpProvider, ctx: CheckContext) -> Iterator[Hit]:
    """GCP002: `startsWith` without a delimiter, `contains`, `endsWith`, unanchored `matches`."""
    cond = p.attribute_condition
    if not isinstance(cond, str) or not cond.strip():
        return
    tree = _condition_tree(p)
    if tree is None:
        return
    for w in weaknesses(cond, tree):
        yield Hit(w.message, ctx.substring(p.src, ("attributeCondition",), w.start, w.end), severity=w.severity)


def _federated_members(b):
    return [(m, j) for m, j in b.members if is_federated(m)]


def token_creator_for_federated(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """GCP012: TokenCreator to a federated principal on a service account, where workloadIdentityUser suffices."""
    if policy.level in PROJECT_LEVELS:
        return  # a project-wide grant is GCP011's finding
    for b in policy.bindings:
        if b.role != TOKEN_CREATOR:
            continue
        for m, j in _federated_members(b):
            yield Hit(f"`{TOKEN_CREATOR}` is granted to federated `{m}`: it also allows signJwt, signBlob and "
                      f"getOpenIdToken; `roles/iam.workloadIdentityUser` is all federation needs",
                      policy.loc("bindings", b.index, "members", j))


def _level_note(policy: GcpIamPolicy) -> str:
    if policy.level_source == "assumed":
        return " (level assumed: a `get-iam-policy` output that does not say whose policy it is; set " \
               "`gcp.policy-levels` in the config if it is not a project's)"
    return ""


def project_level_resource_role(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """GCP019: a resource-scoped role (storage, secrets, ...) granted on a whole project, folder or org."""
    if policy.level not in PROJECT_LEVELS:
        return
    roles = tuple(ctx.param("resource_scoped_roles", DEFAULT_RESOURCE_SCOPED_ROLES))
    for b, _m, _j, who in reachable_grants(policy, lambda role: role_matches(role, roles)):
        yield Hit(f"`{b.role}` is granted at {policy.level} level to {who}: it covers every bucket, secret or "
                  f"topic of the {policy.level}; grant it on the one resource instead (bucket-level IAM)"
                  f"{_level_note(policy)}", policy.loc("bindings", b.index, "role"))


def _unique_mapping(expr: str) -> bool | None:
    """Does an attribute mapping identify one Kubernetes workload? None when it is not about Kubernetes."""
    try:
        tree = cel.parse(expr)
    except cel.CelSyntaxError:
        return None
    paths = {cel.claim_path(n) for n in cel.walk(tree)} - {None}
    if ("assertion", "sub") in paths or ("assertion", "kubernetes.io", "serviceaccount", "uid") in paths:
        return True
    has_name = ("assertion", "kubernetes.io", "serviceaccount", "name") in paths
    has_ns = ("assertion", "kubernetes.io", "namespace") in paths
    if has_name and has_ns:
        return True
    if has_name:
        return False
    return None


def binding_attribute_not_unique(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """GCP020: a principalSet on an attribute that names a service account but not its namespace."""
    providers = ctx.inventory.of(GcpProvider)
    for b in policy.bindings:
        for m, j in b.members:
            attr = attribute_set(m)
            if attr is None:
                continue
            name, value = attr
            pr = parse_principal(m)
            for p in providers:
                if p.pool != pr["pool"] or not isinstance(p.attribute_mapping, dict):
                    continue
                if p.project and pr["project"] and p.project.isdigit() and pr["project"].isdigit() \
                        and p.project != pr["project"]:
                    continue
                expr = p.attribute_mapping.get(f"attribute.{name}")
                if isinstance(expr, str) and _unique_mapping(expr) is False:
                    yield Hit(f"`{m}` selects `attribute.{name}` = `{value}`, which {p.label} maps from "
                              f"`{expr}`, the service-account name alone: a service account named `{value}` in "
                              f"any namespace of the cluster can impersonate; bind "
                              f"`principal://.../subject/system:serviceaccount:<ns>:{value}` or map the attribute "
                              f"from `assertion.sub`", policy.loc("bindings", b.index, "members", j),
                              related=(related(p.src.loc("attributeMapping", f"attribute.{name}"),
                                               f"attribute.{name} mapping in {p.label}"),))
                    break
