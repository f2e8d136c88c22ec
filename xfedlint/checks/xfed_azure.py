"""Correlation of Kubernetes service accounts with Azure user-assigned managed identities and their federated
identity credentials (FICs): X002 (no credential admits the service account's tokens) and AZ009 (a
credential for a known cluster whose service account is gone).

Joins go through the federation graph's indexes (client ID -> identity, identity -> credentials) and one
inventory index of workloads by service account: each service account and each credential is judged in
time proportional to its own neighbours, never by scanning every resource.
"""

from __future__ import annotations

from typing import Iterator

import msgspec

from xfedlint.checks.azure import issuer_anchor
from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.checks.xfed_k8s import audience_anchor as token_audience_anchor
from xfedlint.model.resources import (
    AzureFederatedCredential,
    AzureManagedIdentity,
    K8sObject,
    ServiceAccount,
    Workload,
)
from xfedlint.semantics import k8s_tokens
from xfedlint.semantics.aws_policy import is_placeholder
from xfedlint.semantics.azure_fic import has_wildcard
from xfedlint.semantics.issuers import K8S_SUBJECT, audience_cloud, compare_issuers, normalise_issuer

K8S_PREFIX = "system:serviceaccount:"
# What `az identity federated-credential create` stores when no audience is given.
ARM_DEFAULT_AUDIENCE = k8s_tokens.AZWI_AUDIENCE
_NEAR_MISS = {"whitespace": "surrounding whitespace", "scheme": "the scheme", "trailing-slash": "the trailing slash",
              "case": "letter case"}


# --- index keys (module level: each names one inventory index) -------------------------------------------


def workload_service_account(w: Workload) -> tuple:
    """(namespace, service account) a workload's pods run as."""
    return (w.namespace, w.service_account_name)


def object_namespace(o: K8sObject) -> str:
    return o.namespace


# --- supersession anchors -----------------------------------------------------------------------------------


def audience_anchor(fic: AzureFederatedCredential) -> str:
    """X002's anchor when the only difference is the audience and no scanned pod presents it (the webhook's
    default was assumed): no other rule sees that token."""
    return f"{fic.identity}#audience"


def subject_anchor(fic: AzureFederatedCredential) -> str:
    """The anchor AZ004 and AZ005 put on a malformed subject; X002 uses it when that subject is the only
    difference, so either rule can be reported instead of X002 (rules.md 0.1)."""
    return f"{fic.identity}#subject"


# --- X002 ------------------------------------------------------------------------------------------------


class _Presented(msgspec.Struct):
    """One audience the pods of a service account present, and where each pod gets it."""

    audience: str
    evidence: list  # (workload label, description, Location, K8S003's anchor for that container's token)

    @property
    def who(self) -> str:
        labels = sorted({w for w, _, _, _ in self.evidence})
        return ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")


class _Diff(msgspec.Struct):
    """How one credential differs from what the service account's tokens carry."""

    fic: AzureFederatedCredential
    subject: str | None = None  # why, when the subject differs
    issuer: str | None = None  # compare_issuers() result, when the issuer differs
    audience: bool = False
    other_sa: bool = False  # the subject names another service account of the manifests

    @property
    def count(self) -> int:
        return (self.subject is not None) + (self.issuer is not None) + self.audience


def _fic_audiences(fic: AzureFederatedCredential) -> list | None:
    aud = fic.audiences
    if aud is None and fic.flavor == "arm":
        return [ARM_DEFAULT_AUDIENCE]  # `az identity federated-credential create` fills in the default
    return aud if isinstance(aud, list) else None


def _subject_parts(subject: str) -> tuple[str, str] | None:
    if not subject.startswith(K8S_PREFIX):
        return None
    parts = subject[len(K8S_PREFIX):].split(":")
    return (parts[0], parts[1]) if len(parts) == 2 else None


def _subject_reason(actual: str, want: str) -> str:
    got, wanted = _subject_parts(actual), _subject_parts(want)
    if actual.strip() == want:
        return "differs only by surrounding whitespace"
    if actual.lower() == want.lower():
        return "differs only in letter case, and matching is case-sensitive"
    if got is None:
        return "is not a Kubernetes service-account subject"
    if wanted is None:
        return "names another subject"
    if got[0] != wanted[0] and got[1] == wanted[1]:
        return f"names namespace `{got[0]}` instead of `{wanted[0]}`"
    if got[0] == wanted[0]:
        return f"names service account `{got[1]}` instead of `{wanted[1]}`"
    return f"names namespace `{got[0]}` and service account `{got[1]}` instead of `{wanted[0]}` and `{wanted[1]}`"


def _known_sa(fed, subject: str) -> bool:
    parts = _subject_parts(subject)
    if parts is None:
        return False
    ns, name = parts
    return (ns, name) in fed.service_accounts or name in fed.namespaces.get(ns, ())


def _presented_audiences(sa: ServiceAccount, ctx: CheckContext) -> list[_Presented] | None:
    """The audiences the pods running as `sa` present to Entra (sorted). Without a scanned pod that uses
    Azure, the webhook's; None when pods use Azure but no token's audience can be resolved."""
    found: dict[str, _Presented] = {}
    uses_azure = False
    for w in ctx.inventory.lookup(Workload, workload_service_account, (sa.namespace, sa.name)):
        for use in k8s_tokens.token_uses(w, ctx.inventory):
            if use.cloud != "azure":
                continue
            uses_azure = True
            aud, token = use.audience, use.token
            if use.target.kind != "projected-token" or token is None or not isinstance(aud, str) or not aud:
                continue  # K8S002, K8S004 and K8S016 judge unresolved and audience-less tokens
            if k8s_tokens.placeholder(aud):
                continue  # an unrendered template value is unknown, not wrong
            if use.injected_by == "azure" or not token.rel:
                where, how = use.where, "the Azure Workload Identity webhook's token"
            else:
                where, how = w.src.loc(*token.rel, "audience"), f"projected token `{token.path}` of volume `{token.volume}`"
            text = f"{w.label} (container `{use.container}`) presents audience `{aud}` ({how})"
            anchor = token_audience_anchor(w, use.container, use.cloud)
            found.setdefault(aud, _Presented(aud, [])).evidence.append((w.label, text, where, anchor))
    if found:
        return [found[a] for a in sorted(found)]
    if uses_azure:
        return None
    return [_Presented(k8s_tokens.AZWI_AUDIENCE, [])]


def _diff(fed, fic: AzureFederatedCredential, subject: str, issuer: str | None, audience: str | None) -> _Diff:
    d = _Diff(fic)
    fs = fic.subject
    if not isinstance(fs, str):
        d.subject = "is not set: a flexible `claimsMatchingExpression`, which Kubernetes issuers do not support"
    elif fs != subject and not is_placeholder(fs):
        d.subject = _subject_reason(fs, subject)
        d.other_sa = fs.strip() != subject and _known_sa(fed, fs.strip())
    fi = fic.issuer
    if issuer is not None and isinstance(fi, str) and not is_placeholder(fi):
        how = compare_issuers(fi, issuer)
        if how != "equal":
            d.issuer = how
    if audience is not None:
        auds = _fic_audiences(fic)
        # A list of several audiences is AZ001's error; the one that matches still counts here.
        d.audience = not (isinstance(auds, list) and audience in auds)
    return d


def _rank(d: _Diff, subject: str) -> tuple:
    """Closest first: fewer differing fields, a subject not owned by another service account, a subject
    that shares the namespace or the name, then the order of the inputs."""
    far = 0
    if d.subject is not None and isinstance(d.fic.subject, str):
        got, want = _subject_parts(d.fic.subject.strip()), _subject_parts(subject)
        far = 0 if (got and want and (got[0] == want[0] or got[1] == want[1])) else 1
    return (d.count, d.other_sa, far, d.fic.src.order)


def _fic_aud_loc(fic: AzureFederatedCredential):
    aud = fic.audiences
    if isinstance(aud, list) and len(aud) == 1:
        return fic.loc("audiences", 0)
    return fic.loc("audiences") if aud is not None else fic.loc()


def _quote(value) -> str:
    return f"`{value}`" if isinstance(value, str) and value == value.strip() else repr(value)


def _describe(d: _Diff, subject: str, issuer: str | None, how: str | None, aud: _Presented | None) -> str:
    fic = d.fic
    parts = []
    if d.subject is not None:
        if isinstance(fic.subject, str):
            parts.append(f"has `subject` {_quote(fic.subject)}, not `{subject}` (it {d.subject})")
        else:
            parts.append(f"has no `subject` (it {d.subject})")
    if d.issuer is not None:
        source = ("the issuer configured for this manifest's cluster" if how == "config"
                  else "the cluster issuer inferred from the identity's Kubernetes credentials")
        what = _NEAR_MISS.get(d.issuer)
        diff = f"they differ in {what}, and Entra compares issuers byte for byte" if what else "another issuer"
        parts.append(f"has `issuer` {_quote(fic.issuer)}, but {source} is `{issuer}` ({diff})")
    if d.audience and aud is not None:
        auds = _fic_audiences(fic)
        shown = (f"only `{auds[0]}`" if isinstance(auds, list) and len(auds) == 1 else
                 f"{auds}" if auds is not None else "no audience")
        if aud.evidence:
            parts.append(f"accepts {shown}, but {aud.who} present{'s' if len({e[0] for e in aud.evidence}) == 1 else ''} "
                         f"`{aud.audience}`")
        else:
            parts.append(f"accepts {shown}, but the token the Azure Workload Identity webhook injects has audience "
                         f"`{aud.audience}` (assumed: no scanned pod runs as this service account)")
    return f"{fic.label} " + "; and ".join(parts)


def azure_fic_missing(sa: ServiceAccount, ctx: CheckContext) -> Iterator[Hit]:
    """X002: the service account's `azure.workload.identity/client-id` names a scanned user-assigned managed
    identity, but none of its scanned federated credentials has the cluster's issuer, the service
    account's subject and the audience its pods present."""
    client_id = k8s_tokens.annotation(sa, k8s_tokens.AZWI_CLIENT_ID)
    if client_id is None or is_placeholder(client_id):
        return
    fed = ctx.federation
    ident: AzureManagedIdentity | None = fed.identities_by_client_id.get(client_id.strip().lower())
    if ident is None or not ident.resource_id:
        return  # the mapping input is missing: not evidence
    fics = fed.fics_by_parent.get(ident.resource_id.lower(), [])
    if not fics:
        return  # no credential of this identity was scanned: cannot tell
    if any(isinstance(f.subject, str) and is_placeholder(f.subject) for f in fics):
        return  # an unrendered template subject may be this one
    subject = f"{K8S_PREFIX}{sa.namespace}:{sa.name}"
    issuer, how = fed.issuer_for(sa.namespace, sa.name)
    for aud in _presented_audiences(sa, ctx) or [None]:
        diffs = [_diff(fed, f, subject, issuer, aud.audience if aud is not None else None) for f in fics]
        if all(d.count for d in diffs):
            yield _hit(sa, ident, client_id, subject, issuer, how, aud, diffs)


def _hit(sa: ServiceAccount, ident: AzureManagedIdentity, client_id: str, subject: str, issuer: str | None,
         how: str | None, aud: _Presented | None, diffs: list[_Diff]) -> Hit:
    best = min(diffs, key=lambda d: _rank(d, subject))
    fic, total = best.fic, len(diffs)
    name = ident.name or ident.resource_id
    wanted = ([f"issuer `{issuer}`"] if issuer is not None else []) + [f"subject `{subject}`"] + (
        [f"audience `{aud.audience}`"] if aud is not None else [])
    which = ("its one scanned federated credential does not admit" if total == 1
             else f"none of its {total} scanned federated credentials admits")
    head = (f"{sa.label} uses managed identity `{name}` (client ID {client_id}), but {which} the service "
            f"account's tokens ({', '.join(wanted)})")
    tail = "; Entra finds no matching federated identity record, so the token exchange fails"
    if issuer is None:
        tail += ("; the cluster issuer is unknown (no `clusters` entry covers this manifest, and the identity's "
                 "credentials do not name exactly one Kubernetes issuer), so only the subject and the audience "
                 "were compared")
    details = _describe(best, subject, issuer, how, aud)
    annotation_loc = k8s_tokens.annotation_loc(sa, k8s_tokens.AZWI_CLIENT_ID)
    sa_related = related(annotation_loc, f"{sa.label} names the identity's client ID here")
    tokens = tuple(related(where, text) for _, text, where, _ in (aud.evidence if aud is not None else ()))
    if best.count == 1 and not best.other_sa:  # one field of one credential is off: point at it
        anchor = None
        if best.subject is not None:
            loc = fic.loc("subject") if fic.subject is not None else fic.loc()
            if isinstance(fic.subject, str) and (has_wildcard(fic.subject) or not K8S_SUBJECT.match(fic.subject)):
                anchor = subject_anchor(fic)  # AZ004/AZ005 explain a malformed subject
            rel = (sa_related,) + tokens
        elif best.issuer is not None:
            loc = fic.loc("issuer")
            anchor = issuer_anchor(fic) if best.issuer in _NEAR_MISS else None  # AZ003's near misses
            rel = (sa_related,) + tokens
        else:
            # K8S003 reports each pod whose token this credential's audience rejects, and is reported instead
            anchor = aud.evidence[0][3] if aud is not None and aud.evidence else audience_anchor(fic)
            if tokens and audience_cloud(aud.audience) not in (None, "azure"):
                # another cloud's audience: the pod's token is what is wrong, not the credential
                loc, rel = tokens[0].location, (related(_fic_aud_loc(fic), f"{fic.label} accepts this audience"),
                                                sa_related) + tokens[1:]
            else:
                loc, rel = _fic_aud_loc(fic), (sa_related,) + tokens
        return Hit(f"{head}: {details}{tail}", loc, related=rel, anchor=anchor)
    if best.other_sa:
        others = sorted({d.fic.subject.strip() for d in diffs if d.other_sa})
        shown = ", ".join(f"`{o}`" for o in others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        message = (f"{head}: its credentials trust other service accounts of the manifests ({shown}); add a "
                   f"federated credential for `{subject}` rather than changing theirs{tail}")
        where = related(fic.loc("subject"), f"{fic.label} trusts another service account")
    else:
        message = f"{head}: the closest, {details}{tail}"
        where = related(fic.loc(), f"the closest credential of `{name}`")
    return Hit(message, annotation_loc, related=(where,) + tokens)


# --- AZ009 -------------------------------------------------------------------------------------------------


def _known_cluster_issuers(ctx: CheckContext) -> frozenset:
    """The issuers (normalised) of the clusters the manifests belong to: configured or inferred."""
    fed = ctx.federation

    def compute() -> frozenset:
        out = {normalise_issuer(i) for i, _ in fed.cluster_issuer.values() if isinstance(i, str)}
        for c in getattr(ctx.config, "clusters", None) or ():
            i = c.get("issuer") if isinstance(c, dict) else getattr(c, "issuer", None)
            if isinstance(i, str) and i.strip():
                out.add(normalise_issuer(i))
        return frozenset(out)

    return ctx.inventory.memo("xfed_azure.known_cluster_issuers", fed, compute)


def fic_dangling(fic: AzureFederatedCredential, ctx: CheckContext) -> Iterator[Hit]:
    """AZ009: with the Kubernetes inventory declared complete, a credential for a known cluster issuer whose
    subject names a namespace or service account that no scanned manifest has."""
    if not getattr(ctx.config, "kubernetes_inventory_complete", False):
        return
    subject, issuer = fic.subject, fic.issuer
    if not isinstance(subject, str) or not isinstance(issuer, str) or not K8S_SUBJECT.match(subject):
        return
    if normalise_issuer(issuer) not in _known_cluster_issuers(ctx):
        return
    ns, name = subject[len(K8S_PREFIX):].split(":")
    fed = ctx.federation
    if (ns, name) in fed.service_accounts or name in fed.namespaces.get(ns, ()):
        return
    in_namespace = ctx.inventory.lookup(K8sObject, object_namespace, ns)
    if name == "default" and in_namespace:
        return  # every namespace has its `default` service account
    if in_namespace or ns in fed.namespaces:
        what = f"namespace `{ns}` has no service account `{name}`"
        who = f"whoever can create service account `{name}` in namespace `{ns}`"
    else:
        what = f"no manifest is in namespace `{ns}`"
        who = f"whoever creates namespace `{ns}` and service account `{name}` in it"
    yield Hit(f"{fic.label} trusts `{subject}` from cluster issuer `{issuer.strip()}`, but the Kubernetes inventory "
              f"is declared complete and {what}: the credential is dangling, and {who} gets tokens that Entra "
              f"exchanges for this identity; delete the credential", fic.loc("subject"))
