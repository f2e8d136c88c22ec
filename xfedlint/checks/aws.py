"""AWS trust-policy checks, judged with IAM's condition semantics (semantics.aws_policy)."""

from __future__ import annotations

import difflib
import re
from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.model.location import Location, pointer
from xfedlint.model.resources import AwsOidcProvider, AwsRole
from xfedlint.semantics import aws_policy
from xfedlint.semantics.aws_policy import Constraint, FederatedPrincipal, Statement, Value, is_placeholder
from xfedlint.semantics.issuers import (
    AWS_STS_AUDIENCES,
    MULTI_TENANT_OWNER_CLAIMS,
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


def _claim_anchor(role: AwsRole, st: Statement, fp: FederatedPrincipal, claim: str) -> str:
    """The anchor of the trust gap a constraint on `claim` fails to close: `sub` for the subject and for the
    GitHub claims AWS001 accepts in its place (so AWS003/6/7/8 supersede AWS001), `aud` for the audience."""
    c = claim.lower()
    if c == "sub" or (fp.host.lower() == GITHUB and c in GITHUB_SCOPING_CLAIMS):
        return _anchor(role, st, fp, "sub")
    return _anchor(role, st, fp, c)


def _value_anchor(role: AwsRole, st: Statement, v: Value) -> str:
    """One condition value (AWS004/AWS014 and AWS005/AWS018 judge the same value)."""
    return f"{role.identity}|{pointer(st.src.base)}|value|{pointer(v.loc_path)}"


def _trusts(role: AwsRole):
    if role.trust is not None:
        yield from aws_policy.oidc_trust_statements(role.trust)


def _oidc_statements(role: AwsRole):
    """Allow statements that let at least one OIDC provider's tokens in."""
    if role.trust is None:
        return
    for st in aws_policy.statements(role.trust):
        if st.allows and st.federated and st.grants_web_identity():
            yield st


def _key_loc(st: Statement, c: Constraint) -> Location:
    return st.src.loc(*c.key_path, key=True)


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
        if any(c.operator.fail_closed or c.operator.unknown for c in cons):
            continue  # constrained, or by an operator a template decides (cannot be judged statically)
        if fp.host.lower() == GITHUB and any(c.operator.fail_closed for claim in GITHUB_SCOPING_CLAIMS
                                                 for c in st.on_claim(fp.host, claim)):
            continue
        yield Hit(f"{role.label} trusts `{fp.host}` with no `StringEquals`/`StringLike` condition on "
                  f"`{fp.host}:sub`{_weak_note(cons)}: {_blast_radius(fp.host)} can assume it",
                  _where(st, fp), anchor=_anchor(role, st, fp, "sub"))


def _provider_key(p: AwsOidcProvider) -> str:
    return p.host_path.lower()


def trust_no_aud(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS002: no positive, fail-closed constraint on `<issuer>:aud`."""
    expected = tuple(ctx.param("expected_audiences", AWS_STS_AUDIENCES))
    for st, fp in _trusts(role):
        cons = st.on_claim(fp.host, "aud")
        if any(c.operator.fail_closed or c.operator.unknown for c in cons):
            continue
        found = ctx.inventory.lookup(AwsOidcProvider, _provider_key, fp.host.lower())
        provider = found[0] if found else None
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
    for st, _fp, c, v in _admitted_patterns(role, "sub"):
        risk = _sub_pattern_risk(v.text)
        if risk:
            severity, what = risk
            yield Hit(f"`{c.operator.raw}` on `{c.key}` admits `{v.text}`: {what}",
                      st.loc(v.loc_path), severity=severity, anchor=_value_anchor(role, st, v))


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
                if aws_policy.is_placeholder(v.text):
                    continue  # a value a template supplies (Terraform `var.audience`): never judged as a mismatch
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


# --- AWS003: condition keys that name no provider of the statement ---------------------------------------

_EKS_HOST = re.compile(r"^oidc\.eks\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/id/(?P<id>[^/]+)/?$", re.I)


def _bare(prefix: str) -> str:
    return prefix.split("://", 1)[1] if "://" in prefix else prefix


def _closest_provider(prefix: str, fps: list[FederatedPrincipal]) -> FederatedPrincipal:
    key = _bare(prefix).rstrip("/").lower()
    return max(fps, key=lambda fp: difflib.SequenceMatcher(None, key, fp.host.rstrip("/").lower()).ratio())


def _mismatch_cause(prefix: str, host: str) -> str:
    """Why `<prefix>:...` is not the key of provider `host`, in the user's terms (empty when unclear)."""
    causes = []
    bare = _bare(prefix)
    if bare != prefix:
        causes.append(f"`{prefix[: len(prefix) - len(bare)]}` does not belong in a condition key")
    if bare.lower() == host.lower():
        return "; ".join(causes)
    if bare.rstrip("/").lower() == host.rstrip("/").lower():
        causes.append("the provider is registered with a trailing slash, which the key must repeat"
                      if host.endswith("/") else "the provider is registered without the key's trailing slash")
        return "; ".join(causes)
    mk, mh = _EKS_HOST.match(bare), _EKS_HOST.match(host)
    if mk and mh:
        if mk.group("region").lower() != mh.group("region").lower():
            causes.append(f"region `{mk.group('region')}` where the provider is in `{mh.group('region')}`")
        elif mk.group("id").lower() != mh.group("id").lower():
            causes.append(f"another cluster's issuer ID (`{mk.group('id')}`, the provider's is `{mh.group('id')}`)")
    return "; ".join(causes)


def _missing_effect(c: Constraint) -> str:
    if c.evaluate(None):
        return (f"so `{c.operator.raw}` passes for every token and the statement behaves as if this condition "
                f"were not there (fails open)")
    return f"so `{c.operator.raw}` is never satisfied and the role cannot be assumed through this statement (unusable)"


def _concrete(st: Statement) -> list:
    """The statement's providers as written (not inferred from its condition keys)."""
    return [fp for fp in st.federated if not fp.inferred]


def _names_no_provider(st: Statement, prefix: str, concrete: list) -> bool:
    """A condition key's prefix is none of the statement's providers. An unrendered prefix or provider host
    is unknown, never a mismatch."""
    return (st.provider_for(prefix) is None and not is_placeholder(prefix) and bool(concrete)
            and not any(is_placeholder(fp.host) for fp in concrete))


def _anchor_provider(st: Statement, prefix: str, concrete: list):
    """The provider a finding on a key is anchored to: the key's own, else the closest written one."""
    return st.provider_for(prefix) or (_closest_provider(prefix, concrete) if concrete else st.federated[0])


def _mismatched(st: Statement):
    """(constraint, prefix, claim, closest provider) for every claim key whose prefix is no provider's."""
    concrete = _concrete(st)
    for c in st.constraints:
        split = c.claim_key
        if split is None or not _names_no_provider(st, split[0], concrete):
            continue
        prefix, claim = split
        yield c, prefix, claim, _closest_provider(prefix, concrete)


def condition_key_provider_mismatch(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS003: a claim key whose `<host/path>` prefix names no `Principal.Federated` of the statement."""
    for st in _oidc_statements(role):
        for c, prefix, claim, fp in _mismatched(st):
            cause = _mismatch_cause(prefix, fp.host)
            yield Hit(f"`{c.key}` under `{c.operator.raw}` names no OIDC provider of this statement (it trusts "
                      f"`{fp.host}`{'; ' + cause if cause else ''}): tokens never carry that key, "
                      f"{_missing_effect(c)}",
                      _key_loc(st, c), related=(related(st.loc(fp.loc_path), "the provider this statement trusts"),),
                      anchor=_claim_anchor(role, st, fp, claim))


# --- AWS005: wildcards compared literally ---------------------------------------------------------------

def stringequals_with_wildcard(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS005: `*` or `?` in a `StringEquals`-family value, where they are literal characters."""
    if role.trust is None:
        return
    for st in aws_policy.statements(role.trust):
        for c in st.constraints:
            if not c.operator.literal_string:
                continue
            for v in c.values:
                if not aws_policy.has_wildcard(v.text):
                    continue
                chars = " and ".join(f"`{ch}`" for ch in "*?" if ch in v.text)
                effect = ("so the exclusion never applies" if c.operator.negated
                          else "so it matches only a claim that literally contains them: in practice never")
                yield Hit(f"`{c.operator.raw}` on `{c.key}` compares `{v.text}` literally: {chars} "
                          f"{'is a wildcard' if ' and ' not in chars else 'are wildcards'} only under `StringLike`, "
                          f"{effect}; name the exact value instead", st.loc(v.loc_path),
                          anchor=_value_anchor(role, st, v))


# --- AWS006: set operators on single-valued claims ------------------------------------------------------

def set_operator_on_single_valued_key(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS006: `ForAllValues:`/`ForAnyValue:` on `:sub`, `:aud` or a provider claim (single-valued keys)."""
    for st in _oidc_statements(role):
        concrete = _concrete(st)
        for c in st.constraints:
            op = c.operator
            split = c.claim_key
            if op.set_op is None or split is None:
                continue
            prefix, claim = split
            if claim.lower() in aws_policy.MULTI_VALUED_CLAIMS:
                continue
            fp = st.provider_for(prefix)
            never = _names_no_provider(st, prefix, concrete)
            anchor_fp = _anchor_provider(st, prefix, concrete)
            host = fp.host if fp else prefix
            absent_ok = c.evaluate(None)
            plain = op.base
            if never:
                why = f"and the key names no provider of this statement: it is never present, {_missing_effect(c)}"
                severity = "error"
            elif op.if_exists:
                why = f"and with `IfExists` a token without `{claim}` passes"
                severity = "error"
            elif absent_ok and aws_policy.claim_may_be_absent(host, claim):
                why = (f"and `{claim}` is absent from some tokens of this issuer, which `{op.set_op}:` lets through "
                       f"(it is true when the key is missing)")
                severity = "error"
            else:
                present = "is in every token of this issuer" if not aws_policy.claim_may_be_absent(host, claim) \
                    else "may be absent, and then the condition denies"
                why = f"although `{claim}` {present}, so it behaves as `{plain}` today"
                severity = "warning"
            code = " (IAM Access Analyzer: FORALLVALUES_WITH_SINGLE_VALUED_KEY)" if op.set_op == "ForAllValues" else ""
            yield Hit(f"`{op.raw}` on `{c.key}`: `{claim}` is a single-valued claim, so the set operator "
                      f"`{op.set_op}:` does not belong here{code}, {why}; use `{plain}`",
                      _key_loc(st, c), severity=severity, anchor=_claim_anchor(role, st, anchor_fp, claim))


# --- AWS007: IfExists on the subject or audience --------------------------------------------------------

def ifexists_on_identity_key(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS007: `...IfExists` on `<issuer>:sub` or `<issuer>:aud` in an Allow trust statement."""
    for st in _oidc_statements(role):
        concrete = _concrete(st)
        for c in st.constraints:
            op = c.operator
            split = c.claim_key
            if not op.if_exists or split is None or split[1].lower() not in ("sub", "aud"):
                continue
            prefix, claim = split
            anchor_fp = _anchor_provider(st, prefix, concrete)
            if op.base == "Null":
                msg = (f"`{op.raw}` on `{c.key}`: IAM Access Analyzer rejects `Null` combined with `IfExists`; "
                       f"use `StringEquals` on the {claim} instead")
            elif _names_no_provider(st, prefix, concrete):
                msg = (f"`{op.raw}` on `{c.key}` passes whenever the token has no such key, and this key names no "
                       f"provider of this statement: it is never present, so the condition always passes; use "
                       f"`{op.base}` with the provider's own key")
            else:
                msg = (f"`{op.raw}` on `{c.key}` passes whenever the token has no `{claim}` claim: it is only "
                       f"safe while every token carries it, and fails open with a mistyped key; use `{op.base}`")
            yield Hit(msg, _key_loc(st, c), anchor=_claim_anchor(role, st, anchor_fp, claim))


# --- AWS008: a deny-list as the only subject constraint -------------------------------------------------

def negated_identity_condition(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS008: every constraint on `<issuer>:sub` is negated (`StringNotEquals`, `StringNotLike`, ...)."""
    for st, fp in _trusts(role):
        cons = st.on_claim(fp.host, "sub")
        if not cons or not all(c.operator.negated for c in cons):
            continue
        if fp.host.lower() == GITHUB and any(c.operator.fail_closed for claim in GITHUB_SCOPING_CLAIMS
                                                 for c in st.on_claim(fp.host, claim)):
            continue  # another claim scopes the trust; the deny-list only narrows it
        c = cons[0]
        excluded = ", ".join(f"`{v.text}`" for v in c.values) or "nothing"
        yield Hit(f"the only condition on `{c.key}` is `{c.operator.raw}` (excluding {excluded}): a deny-list; "
                  f"every other subject, and any token without the claim, can assume {role.label}; name the "
                  f"allowed subjects with `StringEquals` instead", _key_loc(st, c),
                  anchor=_anchor(role, st, fp, "sub"))


# --- AWS014: multi-tenant issuers without an owner ------------------------------------------------------

def _multi_tenant_table(param) -> dict[str, tuple]:
    """`multi_tenant_issuers`: a mapping issuer -> owner claims, or a list of issuers (owner claims from the
    built-in table)."""
    if param is None:
        param = MULTI_TENANT_OWNER_CLAIMS
    if isinstance(param, dict):
        return {str(k).lower().rstrip("/"): tuple(str(c) for c in (v or ())) for k, v in param.items()}
    return {str(k).lower().rstrip("/"): tuple(MULTI_TENANT_OWNER_CLAIMS.get(str(k).lower().rstrip("/"), ()))
            for k in param}


def _owner_claim_pins(st: Statement, fp: FederatedPrincipal, owner_claims: tuple) -> bool:
    for claim in owner_claims:
        for c in st.on_claim(fp.host, claim):
            op = c.operator
            if not op.string or op.negated or not c.values:
                continue
            if not op.fail_closed and aws_policy.claim_may_be_absent(fp.host, claim):
                continue
            if all(aws_policy.claim_value_pins_owner(v.text, op.globbing) for v in c.values):
                return True
    return False


def multitenant_issuer_unscoped(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS014: a multi-tenant issuer (GitHub, GitLab.com, Terraform Cloud, ...) whose owner nothing pins."""
    table = _multi_tenant_table(ctx.param("multi_tenant_issuers"))
    for st, fp in _trusts(role):
        issuer = fp.host.lower().rstrip("/")
        if issuer not in table:
            continue  # includes GitHub's per-enterprise issuers (`.../<enterprise>`), which pin the owner
        subs = [c for c in st.on_claim(fp.host, "sub") if c.operator.string and not c.operator.negated and c.values]

        def scope(c: Constraint, v: Value, issuer: str = issuer) -> str:
            return aws_policy.subject_owner_scope(issuer, v.text, c.operator.globbing)

        # `sub` is in every token, so any positive constraint on it applies (AWS007 reports `IfExists`).
        if any(all(scope(c, v) != "unpinned" for v in c.values) for c in subs):
            continue
        if _owner_claim_pins(st, fp, table[issuer]):
            continue
        unpinned = [(c, v) for c in subs for v in c.values if scope(c, v) == "unpinned"]
        for c, v in unpinned:
            yield Hit(f"`{c.operator.raw}` on `{c.key}` admits `{v.text}`, which names no owner: tokens of "
                      f"every repository, project or organization on the multi-tenant issuer `{fp.host}` match, "
                      f"so anyone on that platform can assume {role.label}", st.loc(v.loc_path),
                      anchor=_value_anchor(role, st, v))
        if not unpinned:
            claims = ", ".join(f"`{c}`" for c in table[issuer]) or "none configured"
            yield Hit(f"{role.label} trusts the multi-tenant issuer `{fp.host}`, and neither `{fp.host}:sub` nor "
                      f"an owner claim ({claims}) pins the owner: anyone on that platform can assume it",
                      _where(st, fp), anchor=_anchor(role, st, fp, "sub"))


# --- AWS017: repeated condition keys --------------------------------------------------------------------

def _statement_rel(rel: tuple) -> tuple[tuple, tuple] | None:
    """Split a path inside a policy document into (statement path, rest) when it is in a statement."""
    if not rel or rel[0] != "Statement":
        return None
    if len(rel) > 1 and isinstance(rel[1], int):
        return rel[:2], rel[2:]
    return rel[:1], rel[1:]


def duplicate_condition_key(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS017: the same key twice under `Condition` or an operator, or keys that differ only by case."""
    if role.trust is None:
        return
    src = role.trust.src
    doc, base = src.doc, src.base
    for path, span in doc.duplicate_keys:
        path = tuple(path)
        if path[:len(base)] != base:
            continue
        split = _statement_rel(path[len(base):])
        if split is None:
            continue
        _stmt, rest = split
        if not rest or rest[0] != "Condition" or len(rest) > 3:
            continue
        loc = Location(doc.file, span, pointer(doc.prefix + path))
        if len(rest) == 1:
            msg = ("`Condition` appears twice in this statement: JSON parsers keep only the last one, so every "
                   "constraint of the earlier block is silently dropped; merge them into one `Condition`")
        elif len(rest) == 2:
            msg = (f"`{rest[1]}` appears twice under `Condition`: JSON parsers keep only the last block, so the "
                   f"constraints of the earlier `{rest[1]}` block are silently dropped; merge them into one block")
        else:
            kept = doc.get(path)
            shown = f" (`{kept}`)" if isinstance(kept, str) else ""
            msg = (f"`{rest[2]}` appears twice under `{rest[1]}`: JSON parsers keep only the last value{shown}, so "
                   f"the earlier value is silently dropped; list every allowed value in one array instead")
        yield Hit(msg, loc)
    for st in aws_policy.statements(role.trust):
        cond = st.src.get("Condition")
        if not isinstance(cond, dict):
            continue
        for op, block in cond.items():
            if not isinstance(block, dict):
                continue
            first: dict[str, str] = {}
            for key in block:
                k = str(key)
                seen = first.setdefault(k.lower(), k)
                if seen != k:
                    yield Hit(f"`{k}` and `{seen}` under `{op}` differ only by case: IAM compares condition keys "
                              f"case-insensitively, so both name one key (IAM Access Analyzer reports duplicate "
                              f"keys with different case as an error); merge them into one key",
                              st.src.loc("Condition", op, key, key=True))


# --- AWS018: malformed Kubernetes subjects --------------------------------------------------------------

def k8s_sub_malformed(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """AWS018: a Kubernetes issuer's `:sub` value that no service-account token can carry."""
    for st, fp in _trusts(role):
        cons = [c for c in st.on_claim(fp.host, "sub") if c.operator.string]
        looks_k8s = any(v.text.strip().lower().startswith("system:") for c in cons for v in c.values)
        if not cons or not (is_kubernetes_issuer(fp.host) or looks_k8s):
            continue
        templated = st.templated or fp.inferred
        for c in cons:
            ignore_case = c.operator.positive_base == "StringEqualsIgnoreCase"
            for v in c.values:
                problem = aws_policy.k8s_subject_problem(v.text, glob=c.operator.globbing, ignore_case=ignore_case,
                                                         templated=templated)
                if problem is None:
                    continue
                verb = "excludes" if c.operator.negated else "admits"
                yield Hit(f"`{c.operator.raw}` on `{c.key}` {verb} `{v.text}`, which no Kubernetes service-account "
                          f"token carries: {problem}; a subject reads `system:serviceaccount:<namespace>:<name>`",
                          st.loc(v.loc_path), anchor=_value_anchor(role, st, v))
