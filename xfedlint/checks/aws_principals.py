"""AWS trust-policy principals and actions: who may assume the role, and with which STS action.

Statements are normalised by `semantics.aws_policy`; the few raw reads here (the position of a `*`
principal, `Principal.Service`, well-known web-identity providers named by host) are private helpers
until that module exposes them.
"""

from __future__ import annotations

import re
from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit
from xfedlint.model.resources import AwsRole
from xfedlint.semantics import aws_policy
from xfedlint.semantics.aws_policy import Constraint, Statement
from xfedlint.semantics.issuers import is_multi_tenant

WEB_IDENTITY = "sts:assumerolewithwebidentity"
ASSUME_ACTIONS = ("sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml")
# The STS actions a trust policy can grant; a wildcard that covers any but AssumeRoleWithWebIdentity is
# broader than a federated principal needs.
_STS_TRUST_ACTIONS = ("sts:assumerole", "sts:assumerolewithsaml", "sts:tagsession", "sts:setsourceidentity",
                      "sts:setcontext")
# `Principal.Federated` may name the classic web-identity providers by host instead of by provider ARN.
_WEB_IDENTITY_HOSTS = ("accounts.google.com", "cognito-identity.amazonaws.com", "graph.facebook.com",
                       "www.amazon.com")
_ACCOUNT = re.compile(r"^\d{12}$")
# Operators that, without IfExists/ForAllValues, deny when the key is absent and allow only listed values.
_SCOPING_OPERATORS = ("StringEquals", "StringLike", "StringEqualsIgnoreCase", "ArnEquals", "ArnLike")

DEFAULT_PRINCIPAL_SCOPING_KEYS = ("aws:PrincipalOrgID", "aws:PrincipalArn", "aws:SourceAccount",
                                  "aws:PrincipalAccount")
DEFAULT_POD_IDENTITY_SCOPING_KEYS = ("aws:SourceAccount", "aws:SourceArn", "aws:RequestTag/kubernetes-namespace",
                                     "aws:RequestTag/kubernetes-service-account", "aws:RequestTag/eks-cluster-name",
                                     "aws:RequestTag/eks-cluster-arn")
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"


def _statements(role: AwsRole) -> list[Statement]:
    return aws_policy.statements(role.trust) if role.trust is not None else []


def _values(st: Statement, *rel) -> list[tuple[str, tuple]]:
    """(text, path relative to the statement) of each string at `rel` (a string or a list of strings)."""
    v = st.src.get(*rel)
    if isinstance(v, str):
        return [(v, rel)]
    if isinstance(v, list):
        return [(x, rel + (i,)) for i, x in enumerate(v) if isinstance(x, str)]
    return []


def _action_values(st: Statement) -> list[tuple[str, tuple]]:
    return _values(st, "NotAction" if st.not_action else "Action")


def _covers(st: Statement, action: str) -> bool:
    """Does the statement's Action (or NotAction) grant `action` (lower-case)?"""
    if st.not_action:
        return not any(aws_policy.glob_match(a, action) for a in st.actions)
    return any(aws_policy.glob_match(a, action) for a in st.actions)


def _scoping(c: Constraint, keys: tuple) -> bool:
    """A positive, fail-closed constraint on one of `keys` that does not admit everything."""
    op = c.operator
    return (c.key.lower() in {k.lower() for k in keys} and op.base in _SCOPING_OPERATORS and not op.negated
            and not op.true_when_missing and bool(c.values)
            and not any(v.text.strip("*?") == "" for v in c.values))


def _weak(st: Statement, keys: tuple) -> list[Constraint]:
    """Constraints on `keys` that are present but scope nothing (absent-key pass, negated, or `*`)."""
    low = {k.lower() for k in keys}
    return [c for c in st.constraints if c.key.lower() in low and not _scoping(c, keys)]


def _either(keys: tuple) -> str:
    names = [f"`{k}`" for k in keys]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _weak_note(weak: list[Constraint]) -> str:
    if not weak:
        return ""
    c = weak[0]
    why = ("passes when the key is absent" if c.operator.true_when_missing
           else "is negated: a deny-list" if c.operator.negated
           else "admits any value" if any(v.text.strip("*?") == "" for v in c.values)
           else "is not an equality or ARN match")
    return f" (`{c.operator.raw}` on `{c.key}` {why})"


# --- AWS009 ---------------------------------------------------------------------------------------------


def _star_principal(st: Statement) -> tuple | None:
    """Where the `*` principal is: `"Principal": "*"` or `{"AWS": "*"}` (or `"*"` in an AWS list)."""
    if st.src.get("Principal") == "*":
        return ("Principal",)
    for text, rel in _values(st, "Principal", "AWS"):
        if text == "*":
            return rel
    return None


def trust_principal_wildcard(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS009: an Allow trust statement for every AWS principal (`*`), or with `NotPrincipal`."""
    keys = tuple(ctx.param("scoping_keys", DEFAULT_PRINCIPAL_SCOPING_KEYS))
    for st in _statements(role):
        if not st.allows or not any(_covers(st, a) for a in ASSUME_ACTIONS):
            continue  # a Deny, or not a trust statement (e.g. a resource policy loaded as a bare document)
        if st.not_principal:
            yield Hit(f"{role.label} allows role assumption with `NotPrincipal`: every principal except the ones "
                      f"listed, in any AWS account and anonymous, may assume it; name the trusted principals "
                      f"under `Principal`", st.src.loc("NotPrincipal", key=True))
            continue
        rel = _star_principal(st) if st.principal_star else None
        if rel is None:
            continue
        if any(_scoping(c, keys) for c in st.constraints):
            continue
        shown = "`\"Principal\": \"*\"`" if rel == ("Principal",) else "`\"Principal\": {\"AWS\": \"*\"}`"
        yield Hit(f"{role.label} trusts {shown} with no condition on "
                  f"{_either(keys)}{_weak_note(_weak(st, keys))}: any principal in any AWS "
                  f"account can assume it", st.src.loc(*rel))


# --- AWS010 ---------------------------------------------------------------------------------------------


def _web_identity_hosts(st: Statement) -> list[tuple[str, str, tuple]]:
    """(issuer host, shown value, path) of each web-identity principal: OIDC provider ARNs (as the
    semantics module reads them) and the classic providers written by host (`accounts.google.com`)."""
    out = [(fp.host, fp.arn, fp.loc_path) for fp in st.federated]
    for text, rel in _values(st, "Principal", "Federated"):
        if text.lower() in _WEB_IDENTITY_HOSTS:
            out.append((text.lower(), text, rel))
    return out


def _overbroad(action: str) -> bool:
    """A wildcard action that grants more than AssumeRoleWithWebIdentity."""
    if not aws_policy.has_wildcard(action):
        return False
    return any(aws_policy.glob_match(action.lower(), x) for x in _STS_TRUST_ACTIONS)


def _tags_pinned(st: Statement) -> bool:
    """A positive, fail-closed condition on the session tags the caller may pass (`aws:RequestTag/...`,
    `aws:TagKeys`)."""
    return any((c.key.lower().startswith("aws:requesttag/") or c.key.lower() == "aws:tagkeys")
               and not c.operator.negated and not c.operator.true_when_missing and c.operator.base != "Null"
               for c in st.constraints)


def trust_action_mismatch(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS010: a web-identity principal with an Action that cannot work (error), is too broad (warning),
    or lets a multi-tenant issuer set session tags (note)."""
    extra = tuple(ctx.param("extra_multi_tenant_issuers", ()))
    for st in _statements(role):
        principals = _web_identity_hosts(st) if st.allows else []
        if not principals:
            continue
        _host, shown, _rel = principals[0]
        key = "NotAction" if st.not_action else "Action"
        if not _covers(st, WEB_IDENTITY):
            granted = ", ".join(f"`{t}`" for t, _ in _action_values(st)) or "nothing"
            what = ("`NotAction` excludes `sts:AssumeRoleWithWebIdentity`" if st.not_action
                    else f"`Action` grants {granted}, not `sts:AssumeRoleWithWebIdentity`")
            yield Hit(f"{role.label} trusts the web-identity provider `{shown}` but {what}: STS never lets its "
                      f"tokens assume the role (Access Analyzer reports a principal/action mismatch)",
                      st.src.loc(key), severity="error")
            continue
        multi = [h for h, _s, _r in principals if is_multi_tenant(h, extra)]
        tags = (f"; it includes `sts:TagSession`, so `{multi[0]}`, a multi-tenant issuer, may set session tags "
                f"that ABAC policies trust") if multi and _covers(st, "sts:tagsession") else ""
        if st.not_action:
            yield Hit(f"{role.label} trusts `{shown}` with `NotAction`: every action not listed is granted to "
                      f"the provider's tokens; write `\"Action\": \"sts:AssumeRoleWithWebIdentity\"`{tags}",
                      st.src.loc("NotAction", key=True), severity="warning")
            continue
        broad = [(t, r) for t, r in _action_values(st) if _overbroad(t)]
        for text, rel in broad:
            yield Hit(f"`Action` `{text}` for the web-identity provider `{shown}` grants more than "
                      f"`sts:AssumeRoleWithWebIdentity`; name the action exactly{tags}",
                      st.src.loc(*rel), severity="warning")
        if broad or not multi or _tags_pinned(st):
            continue
        for text, rel in _action_values(st):
            if text.lower() == "sts:tagsession":
                yield Hit(f"`Action` `{text}` lets tokens of `{multi[0]}`, a multi-tenant issuer, set session "
                          f"tags; any ABAC policy keyed on `aws:PrincipalTag` then trusts claims chosen by whoever "
                          f"controls the token, so grant `sts:TagSession` only if the tags are pinned by "
                          f"`aws:RequestTag` conditions", st.src.loc(*rel), severity="note")


# --- AWS015 ---------------------------------------------------------------------------------------------


def trust_provider_other_account(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS015: the trust names an OIDC provider of another account than the role's own."""
    account = role.account
    if not account or not _ACCOUNT.match(account):
        return  # a bare trust policy: the role's account is unknown
    for st in _statements(role):
        if not st.allows:
            continue
        for fp in st.federated:
            if fp.account and _ACCOUNT.match(fp.account) and fp.account != account:
                yield Hit(f"{role.label} (account {account}) trusts the OIDC provider `{fp.arn}` of account "
                          f"{fp.account}: a role trusts providers registered in its own account, so create the "
                          f"provider for `{fp.host}` in account {account} and trust that one",
                          st.src.loc(*fp.loc_path))


# --- AWS016 ---------------------------------------------------------------------------------------------


def pod_identity_trust_unscoped(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS016: an EKS Pod Identity trust with no condition on source account/ARN or the session tags."""
    keys = tuple(ctx.param("scoping_keys", DEFAULT_POD_IDENTITY_SCOPING_KEYS))
    for st in _statements(role):
        if not st.allows:
            continue
        services = [(t, r) for t, r in _values(st, "Principal", "Service") if t.lower() == POD_IDENTITY_SERVICE]
        if not services or not (_covers(st, "sts:assumerole") or _covers(st, "sts:tagsession")):
            continue
        if any(_scoping(c, keys) for c in st.constraints):
            continue
        text, rel = services[0]
        yield Hit(f"{role.label} trusts `{text}` with no condition on {_either(keys)}"
                  f"{_weak_note(_weak(st, keys))}: a pod identity association in any cluster of the account can "
                  f"give this role to any service account", st.src.loc(*rel))
