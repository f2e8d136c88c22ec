"""AWS trust-policy checks, judged with IAM's condition semantics (semantics.aws_policy)."""

from __future__ import annotations

from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.model.location import pointer
from xfedlint.model.resources import AwsOidcProvider, AwsRole
from xfedlint.semantics import aws_policy
from xfedlint.semantics.aws_policy import Constraint, FederatedPrincipal, Statement
from xfedlint.semantics.issuers import (
    AWS_STS_AUDIENCES,
    audience_cloud,
    is_kubernetes_issuer,
    is_multi_tenant,
)

# GitHub's STS claim keys (2026) that scope a trust as well as `sub` does (rules.md AWS001).
GITHUB_SCOPING_CLAIMS = ("repository", "repository_id", "job_workflow_ref", "workflow", "ref", "environment",
                         "actor", "actor_id", "enterprise_id")
GITHUB = "token.actions.githubusercontent.com"


def _anchor(role: AwsRole, st: Statement, fp: FederatedPrincipal, claim: str) -> str:
    return f"{role.identity}|{pointer(st.src.base)}|{fp.host}|{claim}"


def _trusts(role: AwsRole):
    if role.trust is not None:
        yield from aws_policy.oidc_trust_statements(role.trust)


def _where(st: Statement, fp: FederatedPrincipal):
    """Where to add a missing condition: the Condition block if there is one, else the principal."""
    if isinstance(st.src.get("Condition"), dict):
        return st.src.loc("Condition", key=True)
    return st.src.loc(*fp.loc_path)


def _blast_radius(host: str) -> str:
    if is_multi_tenant(host):
        return "anyone on that multi-tenant platform"
    if is_kubernetes_issuer(host):
        return "any service account in the cluster"
    return "any identity the issuer can mint a token for"


def _weak_note(cons: list[Constraint]) -> str:
    if not cons:
        return ""
    c = cons[0]
    why = ("passes when the claim is absent" if c.operator.true_when_missing
           else "is a deny-list" if c.operator.negated else "is not a string match")
    return f"; its only constraint, `{c.operator.raw}`, {why}"


def trust_no_sub(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS001: an OIDC trust with no positive, fail-closed constraint on `<issuer>:sub`."""
    for st, fp in _trusts(role):
        cons = st.on_claim(fp.host, "sub")
        if any(c.operator.fail_closed for c in cons):
            continue
        if fp.host.lower() == GITHUB and any(c.operator.fail_closed for claim in GITHUB_SCOPING_CLAIMS
                                                 for c in st.on_claim(fp.host, claim)):
            continue
        yield Hit(f"{role.label} trusts `{fp.host}` with no `StringEquals`/`StringLike` condition on "
                  f"`{fp.host}:sub`{_weak_note(cons)}: {_blast_radius(fp.host)} can assume it",
                  _where(st, fp), anchor=_anchor(role, st, fp, "sub"))


def trust_no_aud(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS002: no positive, fail-closed constraint on `<issuer>:aud`."""
    expected = tuple(ctx.param("expected_audiences", AWS_STS_AUDIENCES))
    providers = {p.host_path.lower(): p for p in ctx.inventory.of(AwsOidcProvider)}
    for st, fp in _trusts(role):
        cons = st.on_claim(fp.host, "aud")
        if any(c.operator.fail_closed for c in cons):
            continue
        provider = providers.get(fp.host.lower())
        shared = provider is not None and (len(provider.client_ids) > 1 or
                                           any(c not in expected for c in provider.client_ids))
        rel = ()
        msg = (f"{role.label} trusts `{fp.host}` with no condition on `{fp.host}:aud`{_weak_note(cons)}: "
               f"tokens minted for other relying parties of this issuer are accepted")
        if shared:
            msg += f" (the provider's ClientIDList is {list(provider.client_ids)})"
            rel = (related(provider.src.loc("ClientIDList"), "the OIDC provider's audiences"),)
        yield Hit(msg, _where(st, fp), related=rel, severity="error" if shared else "warning",
                  anchor=_anchor(role, st, fp, "aud"))


def _sub_pattern_risk(value: str) -> tuple[str, str] | None:
    """(severity, what it admits) for a `StringLike` subject pattern, None when it is exact enough."""
    if not aws_policy.has_wildcard(value):
        return None
    if value.strip("*?") == "":
        return "error", "any subject at all"
    if value[:1] in "*?":
        return "error", "subjects that merely end the same way, from any owner"
    sa = "system:serviceaccount:"
    literal = value.split("*")[0].split("?")[0]
    if sa.startswith(literal):
        if literal == sa or value.startswith(sa):
            return "error", "every service account in every namespace of the cluster"
        return "error", f"every subject starting with `{literal}`, every service account of the cluster included"
    if value.startswith(sa):
        rest = value[len(sa):]
        ns, sep, name = rest.partition(":")
        if aws_policy.has_wildcard(ns) or not sep:
            if ns.strip("*?") == "":
                return "error", "every service account in every namespace of the cluster"
            return "error", (f"namespaces that merely start with `{ns.rstrip('*?')}` (e.g. "
                             f"`{ns.rstrip('*?')}-evil`): the wildcard is not followed by `:`")
        if name.strip("*?") == "":
            return "warning", f"every service account in namespace `{ns}`, including any created later"
        return "warning", f"several service accounts in namespace `{ns}`"
    if value.startswith("repo:"):
        rest = value[len("repo:"):]
        org, sep, after = rest.partition("/")
        if org.strip("*?") == "":
            return "error", "every repository of every owner on the platform"
        if aws_policy.has_wildcard(org) or not sep:
            return "error", (f"repositories of other owners (`repo:{org.rstrip('*?')}` followed by anything, e.g. "
                             f"`{org.rstrip('*?')}-evil`)")
        repo, sep2, ref = after.partition(":")
        if repo.strip("*?") == "" or (aws_policy.has_wildcard(repo) and not sep2):
            return "warning", f"every repository of `{org}`"
        if aws_policy.has_wildcard(repo):
            return "warning", f"several repositories of `{org}`"
        if ref.strip("*?") == "":
            return "warning", f"every branch, tag, pull request and environment of `{org}/{repo}`"
        return None
    return None


def _admitted_patterns(role: AwsRole, claim: str):
    """(statement, principal, constraint, value) for every value a positive `StringLike` admits on `claim`."""
    for st, fp in _trusts(role):
        for c in st.on_claim(fp.host, claim):
            if c.operator.globbing and not c.operator.negated:
                for v in c.values:
                    yield st, fp, c, v


def sub_overbroad_pattern(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS004: `StringLike` subject patterns that admit more than one workload."""
    for st, fp, c, v in _admitted_patterns(role, "sub"):
        risk = _sub_pattern_risk(v.text)
        if risk:
            severity, what = risk
            yield Hit(f"`{c.operator.raw}` on `{c.key}` admits `{v.text}`: {what}",
                      st.loc(v.loc_path), severity=severity, anchor=_anchor(role, st, fp, "sub"))


def aud_wildcard(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS019: a wildcard audience under `StringLike`: any audience is accepted."""
    for st, fp, c, v in _admitted_patterns(role, "aud"):
        if aws_policy.has_wildcard(v.text):
            yield Hit(f"`{c.operator.raw}` on `{c.key}` admits `{v.text}`: tokens minted for any audience "
                      f"of this issuer are accepted; pin `sts.amazonaws.com` with `StringEquals`",
                      st.loc(v.loc_path), anchor=_anchor(role, st, fp, "aud"))


def aud_wrong_target(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS020: the audience pinned is not the STS audience (an error when it is another cloud's)."""
    expected = tuple(ctx.param("expected_audiences", AWS_STS_AUDIENCES))
    for st, fp in _trusts(role):
        for c in st.on_claim(fp.host, "aud"):
            if c.operator.negated or c.operator.base not in aws_policy.STRING_MATCHERS:
                continue
            for v in c.values:
                ignore_case = c.operator.base == "StringEqualsIgnoreCase"
                if v.text in expected or (ignore_case and v.text.lower() in {e.lower() for e in expected}):
                    continue
                if aws_policy.has_wildcard(v.text):
                    continue  # under StringLike: AWS019; under StringEquals*: a literal that never matches (AWS005)
                cloud = audience_cloud(v.text)
                if cloud in ("azure", "gcp"):
                    other = "GCP" if cloud == "gcp" else "Azure"
                    yield Hit(f"`{c.key}` accepts `{v.text}`, the {other} "
                              f"token-exchange audience: one token then unlocks both clouds; give AWS its own "
                              f"projected token with audience `{expected[0]}`", st.loc(v.loc_path), severity="error")
                else:
                    yield Hit(f"`{c.key}` accepts `{v.text}`, not the STS audience `{expected[0]}`: the token must "
                              f"be minted for a custom audience, and other relying parties may share it",
                              st.loc(v.loc_path), severity="warning")
