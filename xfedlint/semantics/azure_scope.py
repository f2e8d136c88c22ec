"""Azure RBAC scopes and principals: how broad a scope is, and whether a principal is federated."""

from __future__ import annotations

import re

from xfedlint.model.inventory import Inventory
from xfedlint.model.resources import (
    AzureFederatedCredential,
    AzureManagedIdentity,
    AzureRoleAssignment,
)

_SUBSCRIPTION = re.compile(r"^/subscriptions/[^/]+/?$", re.I)
_RESOURCE_GROUP = re.compile(r"^/subscriptions/[^/]+/resourcegroups/[^/]+/?$", re.I)
_MANAGEMENT_GROUP = re.compile(r"^/providers/microsoft\.management/managementgroups/[^/]+/?$", re.I)

# Broadest first: / < management group < subscription < resource group < resource.
LEVELS = ("root", "management-group", "subscription", "resource-group", "resource")
# Principal types that can never hold a federated identity credential.
NOT_FEDERATABLE = {"user", "group", "foreigngroup"}


def scope_level(scope) -> str | None:
    if not isinstance(scope, str) or not scope.strip():
        return None
    s = scope.strip()
    if s == "/":
        return "root"
    if _MANAGEMENT_GROUP.match(s):
        return "management-group"
    if _SUBSCRIPTION.match(s):
        return "subscription"
    if _RESOURCE_GROUP.match(s):
        return "resource-group"
    return "resource"


def federation_status(a: AzureRoleAssignment, inventory: Inventory) -> str:
    """federated, not-federated or unknown (the inputs do not say)."""
    if (a.principal_type or "").lower() in NOT_FEDERATABLE:
        return "not-federated"
    if not a.principal_id:
        return "unknown"
    identities = inventory.lookup(AzureManagedIdentity, _principal_id, a.principal_id.lower())
    parents = inventory.index(AzureFederatedCredential, _parent)
    if any((i.resource_id or "").lower() in parents for i in identities):
        return "federated"
    return "unknown"


def _principal_id(i: AzureManagedIdentity) -> str | None:
    return i.principal_id.lower() if i.principal_id else None


def _parent(f: AzureFederatedCredential) -> str | None:
    return f.parent.lower() if f.parent else None


def describe_status(status: str) -> str:
    return {"federated": "a federated identity",
            "unknown": "a service principal whose federation status the inputs do not show"}.get(status, status)


# A delegation condition limits the roles a role-assignment writer may assign through this request attribute
# (Azure RBAC "Delegate role assignment management using conditions"; `ForAnyOfAnyValues:GuidEquals {...}`
# allows listed roles, `GuidNotEquals` excludes e.g. Owner and the administrator roles).
_ROLE_DEFINITION_ATTRIBUTE = re.compile(
    r"@Request\s*\[\s*Microsoft\.Authorization/roleAssignments:RoleDefinitionId\s*\]", re.I)


def restricts_assignable_roles(condition: str) -> bool:
    """Whether an ABAC `condition` on a role assignment tests which role definition a new assignment names."""
    return _ROLE_DEFINITION_ATTRIBUTE.search(condition) is not None
