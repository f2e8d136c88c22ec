"""Azure checks: federated identity credentials and role assignments."""

from __future__ import annotations

from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit
from xfedlint.model.resources import AzureFederatedCredential, AzureRoleAssignment
from xfedlint.semantics.azure_scope import (
    describe_status,
    federation_status,
    scope_level,
)
from xfedlint.semantics.issuers import AZURE_AUDIENCES


def fic_audience(fic: AzureFederatedCredential, ctx: CheckContext) -> Iterator[Hit]:
    """AZ001: exactly one audience, and it should be the cloud's token-exchange audience."""
    expected = tuple(ctx.param("expected_audiences", AZURE_AUDIENCES))
    aud = fic.audiences
    if aud is None:
        if fic.flavor == "arm":
            return  # `az identity federated-credential` fills in the default audience
        yield Hit(f"{fic.label} has no `audiences`; Entra requires exactly one (`{expected[0]}`)",
                  fic.loc(), severity="error")
        return
    if len(aud) != 1:
        yield Hit(f"{fic.label} has {len(aud)} audiences {aud}; Entra requires exactly one "
                  f"(\"Federated identity credentials must have exactly one audience\")",
                  fic.loc("audiences"), severity="error")
        return
    value = aud[0]
    if value not in expected:
        yield Hit(f"{fic.label} accepts audience `{value}`, not the token-exchange audience `{expected[0]}`: the "
                  f"workload must mint its token for this custom audience", fic.loc("audiences", 0), severity="warning")


def _privileged(a: AzureRoleAssignment, ctx: CheckContext) -> str | None:
    names = {n.lower(): n for n in ctx.param("privileged_roles", {})}
    guids = {g.lower(): n for n, g in ctx.param("privileged_roles", {}).items()}
    if a.role_name and a.role_name.lower() in names:
        return names[a.role_name.lower()]
    suffix = (a.role_definition_id or "").rsplit("/", 1)[-1].lower()
    return guids.get(suffix)


def _scope_loc(a: AzureRoleAssignment):
    return a.loc("scope")


def privileged_role_broad_scope(a: AzureRoleAssignment, ctx: CheckContext) -> Iterator[Hit]:
    """AZ010: Owner, Contributor, User Access Administrator or RBAC Administrator on a federated principal,
    at root, management-group or subscription scope (error) or resource-group scope (warning)."""
    role = _privileged(a, ctx)
    level = scope_level(a.scope)
    if role is None or level not in ("root", "management-group", "subscription", "resource-group"):
        return
    status = federation_status(a, ctx.inventory)
    if status == "not-federated" or (status == "unknown" and level == "resource-group"):
        return
    severity = "error" if status == "federated" and level != "resource-group" else "warning"
    yield Hit(f"`{role}` is assigned to {describe_status(status)} (principal {a.principal_id}) at "
              f"{level} scope `{a.scope}`: whoever can present a matching token controls everything there",
              _scope_loc(a), severity=severity, anchor=a.identity)


def role_broad_scope(a: AzureRoleAssignment, ctx: CheckContext) -> Iterator[Hit]:
    """AZ012: any role at root, management-group or whole-subscription scope for a federated principal."""
    level = scope_level(a.scope)
    if level not in ("root", "management-group", "subscription"):
        return
    status = federation_status(a, ctx.inventory)
    if status == "not-federated":
        return
    yield Hit(f"`{a.role_label}` is assigned to {describe_status(status)} (principal {a.principal_id}) at "
              f"{level} scope `{a.scope}`: scope it to the resource it needs (e.g. the storage account's ID)",
              _scope_loc(a), anchor=a.identity)
