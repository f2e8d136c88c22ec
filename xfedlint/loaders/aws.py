"""AWS IAM: bare policy documents, `get-role`, `list-roles`, `get-account-authorization-details`,
`get-open-id-connect-provider`.

The raw API returns policy documents URL-encoded (RFC 3986); the CLI decodes them. Both are accepted.
"""

from __future__ import annotations

from xfedlint.loaders.base import LoadContext, ShapeError, type_name
from xfedlint.loaders.embedded import parse_embedded
from xfedlint.model.document import SourceDoc, Src
from xfedlint.model.resources import (
    AwsOidcProvider,
    AwsPolicyDocument,
    AwsRole,
    Resource,
)


def is_policy_document(data) -> bool:
    return isinstance(data, dict) and "Statement" in data and (
        "Version" in data or isinstance(data.get("Statement"), (list, dict)))


def from_document(doc: SourceDoc, ctx: LoadContext) -> list[Resource] | None:
    data = doc.data
    if not isinstance(data, dict):
        return None
    if is_policy_document(data):
        policy = _policy(doc, (), ctx)
        if _is_trust(policy):
            return [AwsRole(src=Src(doc), trust=policy)]
        return [policy]
    if isinstance(data.get("Role"), dict) and "AssumeRolePolicyDocument" in data["Role"]:
        return [_role(doc, ("Role",), ctx)]
    if isinstance(data.get("Roles"), list):
        return [_role(doc, ("Roles", i), ctx) for i, r in enumerate(data["Roles"])
                if isinstance(r, dict) and "AssumeRolePolicyDocument" in r]
    if isinstance(data.get("RoleDetailList"), list):
        return [_role(doc, ("RoleDetailList", i), ctx) for i, r in enumerate(data["RoleDetailList"])
                if isinstance(r, dict)]
    if "Url" in data and ("ClientIDList" in data or "ThumbprintList" in data):
        return [_provider(doc, ())]
    return None


def _policy(doc: SourceDoc, path: tuple, ctx: LoadContext) -> AwsPolicyDocument:
    """The policy document at `path`: an object, or a (URL-encoded) JSON string parsed in place."""
    value = doc.get(path)
    if isinstance(value, str):
        if value.lstrip().startswith("%7B"):  # the raw API's RFC 3986 encoding
            from urllib.parse import unquote

            text = unquote(value)
        else:
            text = value
        inner = parse_embedded(doc, path, text, ctx.text, exact=text is value)
        if inner is None or not isinstance(inner.data, dict):
            raise ShapeError("policy document is a string that is not valid JSON", doc, path)
        doc, path = inner, ()
        value = inner.data
    if not isinstance(value, dict):
        raise ShapeError(f"policy document must be an object, found {type_name(value)}", doc, path)
    statements = value.get("Statement")
    if not isinstance(statements, (list, dict)):
        raise ShapeError(f"`Statement` must be an object or a list, found {type_name(statements)}",
                         doc, path + ("Statement",))
    items = statements if isinstance(statements, list) else [statements]
    for i, st in enumerate(items):
        if not isinstance(st, dict):
            spath = path + ("Statement", i) if isinstance(statements, list) else path + ("Statement",)
            raise ShapeError(f"each statement must be an object, found {type_name(st)}", doc, spath)
    return AwsPolicyDocument(src=Src(doc, path))


def _is_trust(policy: AwsPolicyDocument) -> bool:
    st = policy.src.get("Statement")
    items = st if isinstance(st, list) else [st]
    return any("Principal" in s or "NotPrincipal" in s for s in items if isinstance(s, dict))


def _role(doc: SourceDoc, path: tuple, ctx: LoadContext) -> AwsRole:
    role = doc.get(path)
    trust = None
    if role.get("AssumeRolePolicyDocument") is not None:
        trust = _policy(doc, path + ("AssumeRolePolicyDocument",), ctx)
    inline = tuple(_policy(doc, path + ("RolePolicyList", i, "PolicyDocument"), ctx)
                   for i, p in enumerate(role.get("RolePolicyList") or [])
                   if isinstance(p, dict) and p.get("PolicyDocument") is not None)
    attached = tuple(str(p.get("PolicyArn")) for p in role.get("AttachedManagedPolicies") or []
                     if isinstance(p, dict) and p.get("PolicyArn"))
    return AwsRole(src=Src(doc, path), name=_str(role.get("RoleName")), arn=_str(role.get("Arn")), trust=trust,
                   attached_policy_arns=attached, inline_policies=inline)


def _provider(doc: SourceDoc, path: tuple) -> AwsOidcProvider:
    data = doc.get(path)
    for key in ("ClientIDList", "ThumbprintList"):
        if data.get(key) is not None and not isinstance(data.get(key), list):
            raise ShapeError(f"`{key}` must be a list, found {type_name(data.get(key))}", doc, path + (key,))
    return AwsOidcProvider(src=Src(doc, path), url=str(data.get("Url") or ""),
                           client_ids=tuple(str(c) for c in data.get("ClientIDList") or []),
                           thumbprints=tuple(str(t) for t in data.get("ThumbprintList") or []),
                           arn=_str(data.get("Arn")))


def _str(v) -> str | None:
    return str(v) if v is not None else None
