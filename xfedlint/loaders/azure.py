"""Azure: federated identity credentials (Graph, ARM, CLI flattened, `--parameters` files), role
assignments (`az role assignment list`, flattened and REST) and user-assigned managed identities.

Each item may come alone, in a list, or in a `{"value": [...]}` page.
"""

from __future__ import annotations

from xfedlint.loaders.base import LoadContext, ShapeError, type_name
from xfedlint.model.document import SourceDoc, Src
from xfedlint.model.resources import (
    AzureFederatedCredential,
    AzureManagedIdentity,
    AzureRoleAssignment,
    Resource,
)

UAMI_TYPE = "microsoft.managedidentity/userassignedidentities"


def _fields(item: dict) -> tuple[dict, tuple]:
    """The object holding the fields, and its path: ARM and REST nest them under `properties`."""
    props = item.get("properties")
    if isinstance(props, dict) and ("issuer" in props or "scope" in props or "roleDefinitionId" in props
                                    or "clientId" in props):
        return props, ("properties",)
    return item, ()


def _kind(item) -> str | None:
    if not isinstance(item, dict):
        return None
    f, _ = _fields(item)
    if "issuer" in f and ("subject" in f or "claimsMatchingExpression" in f or "audiences" in f):
        return "fic"
    if "principalId" in f and "scope" in f and ("roleDefinitionId" in f or "roleDefinitionName" in f):
        return "assignment"
    if str(item.get("type", "")).lower() == UAMI_TYPE and ("clientId" in f or "principalId" in f):
        return "identity"
    return None


def from_document(doc: SourceDoc, ctx: LoadContext) -> list[Resource] | None:
    data = doc.data
    base: tuple = ()
    if isinstance(data, dict) and isinstance(data.get("value"), list) and not _kind(data):
        data, base = data["value"], ("value",)
    if isinstance(data, list):
        kinds = [_kind(item) for item in data]
        if not any(kinds):
            return None
        return [_build(doc, base + (i,), k) for i, k in enumerate(kinds) if k]
    kind = _kind(data)
    return [_build(doc, base, kind)] if kind else None


def _build(doc: SourceDoc, path: tuple, kind: str) -> Resource:
    item = doc.get(path)
    f, rel = _fields(item)
    src = Src(doc, path)
    if kind == "fic":
        aud = f.get("audiences")
        if aud is not None and not isinstance(aud, list):
            raise ShapeError(f"`audiences` must be a list, found {type_name(aud)}", doc, path + rel + ("audiences",))
        rid = str(item.get("id") or "")
        flavor = "arm" if "userassignedidentities" in rid.lower() or "managedidentity" in str(item.get("type", "")).lower() \
            else ("graph" if rid or "@odata.type" in item else "params")
        parent = None
        if "/federatedIdentityCredentials/" in rid or "/federatedidentitycredentials/" in rid.lower():
            parent = rid[: rid.lower().index("/federatedidentitycredentials/")]
        return AzureFederatedCredential(src=src, name=_s(item.get("name")), issuer=f.get("issuer"),
                                        subject=f.get("subject"), audiences=aud,
                                        expression=f.get("claimsMatchingExpression"), parent=parent,
                                        flavor=flavor, rel=rel)
    if kind == "assignment":
        return AzureRoleAssignment(src=src, principal_id=_s(f.get("principalId")),
                                   principal_type=_s(f.get("principalType")),
                                   principal_name=_s(item.get("principalName")),
                                   role_name=_s(item.get("roleDefinitionName") or f.get("roleDefinitionName")),
                                   role_definition_id=_s(f.get("roleDefinitionId")), scope=f.get("scope"),
                                   condition=f.get("condition"), assignment_id=_s(item.get("id")), rel=rel)
    return AzureManagedIdentity(src=src, resource_id=_s(item.get("id")), name=_s(item.get("name")),
                                client_id=_s(f.get("clientId")), principal_id=_s(f.get("principalId")))


def _s(v) -> str | None:
    return str(v) if v is not None else None
