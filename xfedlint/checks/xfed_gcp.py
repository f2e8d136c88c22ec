"""Correlation of Kubernetes workloads with GCP: a pod's `external_account` credential configuration followed
to the workload identity pool provider it names, the issuer of the pod's cluster, the provider's attribute
condition and mapping, and the IAM policy of the service account it impersonates (X003, GCP008); providers
of one pool whose subjects collide (GCP009); GKE Workload Identity bindings (GCP014); references to
disabled or deleted providers (GCP018).

Joins go through the federation graph (`claims` edges workload -> provider, `fed.sa_policies`,
`fed.issuer_for`) and inventory indexes keyed by module-level functions: each workload, provider and
service account is judged in time proportional to its own neighbours, never by scanning every resource.

What a token admits is decided by evaluating the provider's CEL mapping and condition over the claims a
Kubernetes token is known to carry (`sub`, `kubernetes.io.namespace`, `kubernetes.io.serviceaccount.name`,
`iss` when the cluster issuer is known) with the three-valued evaluator of `semantics.cel_eval`: a claim the
inputs do not show is unknown, and only a definite "no" is reported.
"""

from __future__ import annotations

import re
from typing import Iterator

import msgspec

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.graph.build import gsa_of_impersonation_url, sa_id
from xfedlint.model.location import Location
from xfedlint.model.resources import GcpExternalAccount, GcpIamPolicy, GcpProvider, ServiceAccount, Workload
from xfedlint.semantics import cel, cel_eval, k8s_tokens
from xfedlint.semantics.cel_eval import MISSING, UNKNOWN, Attributes, Partial, evaluate_text, kubernetes_claims
from xfedlint.semantics.gcp_iam import gke_identity, is_placeholder, parse_principal
from xfedlint.semantics.issuers import (
    compare_issuers,
    is_kubernetes_issuer,
    is_kubernetes_subject,
    multi_tenant_issuer,
    normalise_issuer,
)

WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
DEFAULT_IMPERSONATION_ROLES = (WORKLOAD_IDENTITY_USER, TOKEN_CREATOR)
PROJECT_LEVELS = ("project", "folder", "organization")
GOOGLE_SUBJECT_MAX_BYTES = 127  # REST WorkloadIdentityPoolProvider.attributeMapping: google.subject limit
_AUDIENCE = re.compile(r"^(?:https:)?//iam\.googleapis\.com/(?P<name>projects/(?P<project>[^/]+)/locations/"
                       r"(?P<location>[^/]+)/workloadIdentityPools/(?P<pool>[^/]+)/providers/(?P<provider>[^/]+))$")
_GKE_ISSUER = re.compile(r"^https://container\.googleapis\.com/v1/projects/(?P<project>[^/]+)/")
_DIFFERENCE = {"scheme": "they differ in the scheme", "trailing-slash": "they differ only by a trailing slash",
               "case": "they differ only in letter case", "different": "they are different issuers",
               "whitespace": "they differ by surrounding whitespace"}


# =========================================================================================================
# Index keys (module level: each names one inventory index) and shared joins
# =========================================================================================================


def provider_pool(p: GcpProvider) -> str | None:
    return p.pool


def provider_project(p: GcpProvider) -> str | None:
    return p.project


def config_provider(cfg: GcpExternalAccount) -> str | None:
    """The provider (`projects/N/locations/global/workloadIdentityPools/P/providers/X`) a credential
    configuration names in its `audience`."""
    m = _AUDIENCE.match(str(cfg.data.get("audience") or ""))
    return m.group("name") if m else None


def _projects_compatible(a: str | None, b: str | None) -> bool:
    """Project numbers must agree; a project ID on either side cannot be compared (GCP013's business)."""
    return not (a and b and a.isdigit() and b.isdigit() and a != b)


def _pool_providers(ctx: CheckContext, project: str | None, pool: str) -> list:
    return [p for p in ctx.inventory.lookup(GcpProvider, provider_pool, pool) if _projects_compatible(p.project, project)]


def _dead(p: GcpProvider) -> str | None:
    """'disabled' or 'deleted' when the provider can exchange no tokens, else None."""
    if isinstance(p.state, str) and p.state.upper() == "DELETED":
        return "deleted"
    return "disabled" if p.disabled else None


def _sensitive(cfg: GcpExternalAccount) -> bool:
    return (cfg.holder or "").startswith("secret")


def _config_label(cfg: GcpExternalAccount) -> str:
    return f"the credential configuration in {cfg.holder}" if cfg.holder else f"credential configuration {cfg.src.file}"


def _gke_members(ctx: CheckContext) -> dict:
    """namespace -> [(policy, binding, member, member index)] for every GKE Workload Identity member
    (`serviceAccount:P.svc.id.goog[ns/ksa]`, `principal://.../P.svc.id.goog/subject/ns/NS/sa/KSA`,
    `principalSet://.../P.svc.id.goog/namespace/NS`) of a project, folder or organization policy, and under
    "*" the other principals of a `.svc.id.goog` pool: such a grant reaches every service account below it
    (GCP011 reports it)."""
    def compute():
        out: dict = {}
        for pol in ctx.inventory.of(GcpIamPolicy):
            if pol.level not in PROJECT_LEVELS:
                continue
            for b in pol.bindings:
                for m, j in b.members:
                    g = gke_identity(m)
                    pr = parse_principal(m) if g is None else None
                    if g is not None:
                        out.setdefault(g["ns"], []).append((pol, b, m, j))
                    elif pr is not None and pr["pool"].endswith(".svc.id.goog"):
                        out.setdefault("*", []).append((pol, b, m, j))  # whole pool, fleet forms
        return out
    return ctx.inventory.memo("xfed_gcp.gke_members", ctx.inventory, compute)


def _project_pool_members(ctx: CheckContext, pool: str) -> list:
    """(policy, binding, member, member index) of the project-, folder- or organization-level members of
    `pool`: they reach every service account below them."""
    return [(pol, b, m, j) for pol, b, m, j, _ in _pool_members(ctx).get(pool, ()) if pol.level in PROJECT_LEVELS]


def _own_members(policies: list) -> list:
    """(policy, binding, member, member index) of every member of the given service-account policies."""
    return [(pol, b, m, j) for pol, _ in policies for b in pol.bindings for m, j in b.members]


def _pool_members(ctx: CheckContext) -> dict:
    """pool -> [(policy, binding, member, member index, parsed principal)] for every principal:// and
    principalSet:// member of every scanned IAM policy."""
    def compute():
        out: dict = {}
        for pol in ctx.inventory.of(GcpIamPolicy):
            for b in pol.bindings:
                for m, j in b.members:
                    pr = parse_principal(m)
                    if pr is not None:
                        out.setdefault(pr["pool"], []).append((pol, b, m, j, pr))
        return out
    return ctx.inventory.memo("xfed_gcp.pool_members", ctx.inventory, compute)


def sa_policies(ctx: CheckContext, gsa: str) -> list:
    """(policy, how matched) of the scanned IAM policies of service account `gsa`. A policy matched by its
    file name counts only when the account's local part stands there as a whole word (`app-sa-iam-policy.json`
    for `app-sa@...`, not `myapp-sa-iam-policy.json`)."""
    found = ctx.federation.sa_policies.get(gsa.lower(), ())
    if all(how != "filename" for _pol, how in found):
        return list(found)  # no pattern to compile (once per account, thousands in a large scan)
    local = gsa.split("@", 1)[0].lower()
    word = re.compile(rf"(?:^|[^a-z0-9]){re.escape(local)}(?:[^a-z0-9]|$)")
    return [(pol, how) for pol, how in found
            if how != "filename" or word.search(pol.src.file.rsplit("/", 1)[-1].lower())]


def _role_kind(role: str, roles: tuple) -> str | None:
    """'yes' for a role that lets a member impersonate, 'maybe' for one that might (a custom role, owner),
    None for one that does not."""
    if role in roles:
        return "yes"
    if role == "roles/owner" or role.startswith(("projects/", "organizations/")):
        return "maybe"
    return None


# =========================================================================================================
# The chain of one workload: pod -> credential configuration -> provider -> service account
# =========================================================================================================


class Chain(msgspec.Struct):
    workload: Workload
    config: GcpExternalAccount
    provider_name: str  # projects/N/locations/global/workloadIdentityPools/P/providers/X
    project: str
    pool: str
    provider_id: str
    namespace: str
    service_account: str
    container: str

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"

    @property
    def key(self) -> tuple:
        return (self.config.identity, self.namespace, self.service_account)


def workload_chains(w: Workload, ctx: CheckContext) -> list[Chain]:
    """One chain per credential configuration the workload's containers use (first container wins)."""
    out: dict = {}
    for use in k8s_tokens.token_uses(w, ctx.inventory):
        cfg = use.via
        if cfg is None or cfg.identity in out:
            continue
        m = _AUDIENCE.match(str(cfg.data.get("audience") or ""))
        if m is None:
            continue
        out[cfg.identity] = Chain(w, cfg, m.group("name"), m.group("project"), m.group("pool"), m.group("provider"),
                                  w.namespace, w.service_account_name, use.container)
    return list(out.values())


def _chain_groups(ctx: CheckContext) -> dict:
    """(config, namespace, service account) -> the workloads with that chain, in a stable order: a broken
    chain is reported once, on the first of them."""
    def compute():
        out: dict = {}
        for w in ctx.inventory.of(Workload):
            for ch in workload_chains(w, ctx):
                out.setdefault(ch.key, []).append(w)
        for ws in out.values():
            ws.sort(key=lambda w: (w.src.order, w.identity))
        return out
    return ctx.inventory.memo("xfed_gcp.chain_groups", ctx.inventory, compute)


def provider_name(p: GcpProvider) -> str | None:
    return p.name


def _find_providers(ctx: CheckContext, ch: Chain) -> list:
    """The scanned providers the chain's `audience` names: usually one; several files may describe the same
    provider (an old export next to a new one), and then a break is reported only if it holds for each."""
    found = ctx.inventory.lookup(GcpProvider, provider_name, ch.provider_name)
    if found:
        return _nearest_first(found, ch.config.src.file)
    found = [q for q in _pool_providers(ctx, ch.project, ch.pool)
             if q.name and q.name.rsplit("/", 1)[-1] == ch.provider_id]
    return _nearest_first(found, ch.config.src.file)


def _nearest_first(providers: list, file: str) -> list:
    """Providers sorted by how many leading path segments their file shares with `file` (most first)."""
    def shared(p: GcpProvider) -> int:
        a, b = p.src.file.split("/")[:-1], file.split("/")[:-1]
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        return n
    return sorted(providers, key=lambda p: (-shared(p), p.src.order))


def issuer_anchor(p: GcpProvider, issuer: str) -> str:
    """Shared by GCP008 and X003: a provider whose issuer differs from the cluster issuer of the pods using
    it is GCP008's finding, reported instead of X003's (rules.md 0.1)."""
    return f"gcp-provider-issuer:{p.identity}|{issuer}"


def _issuer_source(ctx: CheckContext, w: Workload, issuer: str, how: str) -> tuple[str, tuple]:
    """How the cluster issuer of `w`'s service account is known, and the related location that shows it."""
    ns, name = w.namespace, w.service_account_name
    if how == "config":
        cluster = None
        cluster_for = getattr(ctx.config, "cluster_for", None)
        if callable(cluster_for):
            cluster = cluster_for(w.src.file)
        named = f" `{cluster.name}`" if cluster is not None and getattr(cluster, "name", None) else ""
        return f"the configuration's cluster{named}", ()
    g = ctx.federation.graph
    for claim in g.out(sa_id(ns, name), "claims"):
        for trust in g.into(claim.target, "trusts"):
            if trust.issuer == issuer and trust.evidence:
                node = g.nodes.get(claim.target)
                what = node.label if node is not None else claim.target
                return (f"inferred from the trust of `{what}`, which service account {ns}/{name} is annotated for",
                        (related(trust.evidence[0], f"`{what}` trusts issuer `{issuer}`: the cluster issuer of "
                                                    f"service account {ns}/{name} is inferred from it"),))
    return "inferred", ()


# =========================================================================================================
# X003: the chain from a pod to a GCP service account is broken
# =========================================================================================================


def gcp_chain_broken(w: Workload, ctx: CheckContext) -> Iterator[Hit]:
    """X003: the provider named by the pod's credential configuration is missing from the scanned providers
    of its pool/project; its issuer is another cluster's (GCP008 is reported instead); its attribute
    condition rejects the pod's token; or the impersonated service account's IAM policy admits no principal
    the token maps to."""
    groups = _chain_groups(ctx)
    for ch in workload_chains(w, ctx):
        peers = groups.get(ch.key) or [w]
        if peers[0] is not w:
            continue  # reported on the first workload of the same chain
        hit = _first_break(ch, peers, ctx)
        if hit is not None:
            yield hit


def _who(ch: Chain, peers: list) -> str:
    w = ch.workload
    text = f"{w.label} (service account {ch.namespace}/{ch.service_account})"
    others = [p.label for p in peers if p is not w]
    if others:
        text += f" and {len(others)} other workload(s) running as it ({', '.join(others[:3])}" + \
                (", ..." if len(others) > 3 else "") + ")"
    return text


def _first_break(ch: Chain, peers: list, ctx: CheckContext) -> Hit | None:
    if not ch.project.isdigit() or is_placeholder(ch.provider_name) or k8s_tokens.placeholder(ch.provider_name):
        return None  # a project ID (GCP013) or an unrendered template
    issuer, how = ctx.federation.issuer_for(ch.namespace, ch.service_account)
    claims = kubernetes_claims(ch.namespace, ch.service_account, issuer)
    providers = _find_providers(ctx, ch)
    if not providers:  # reported when the pool (or project) is scanned; else the subject comparison still runs
        return _provider_missing(ch, peers, ctx) or _impersonation_break(ch, peers, ctx, None,
                                                                          Attributes(None, claims))
    hits = [_break_through(ch, peers, ctx, p, issuer, how, claims) for p in providers]
    return hits[0] if all(h is not None for h in hits) else None


def _break_through(ch: Chain, peers: list, ctx: CheckContext, p: GcpProvider, issuer: str | None, how: str | None,
                   claims: Partial) -> Hit | None:
    """The first break of the chain through scanned provider `p`, or None."""
    cfg = ch.config
    aud_loc = cfg.src.loc("audience")
    if issuer and isinstance(p.issuer_uri, str) and p.issuer_uri and not is_placeholder(p.issuer_uri):
        diff = compare_issuers(p.issuer_uri, issuer)
        if diff not in ("equal", "whitespace", "trailing-slash"):
            source, rel = _issuer_source(ctx, ch.workload, issuer, how or "")
            return Hit(f"{_who(ch, peers)} names {p.label} in `audience` of {_config_label(cfg)}, but that provider "
                       f"trusts issuer `{p.issuer_uri}` and the pod's cluster issuer is `{issuer}` ({source}): "
                       f"{_DIFFERENCE[diff]}, so GCP STS rejects its tokens; name this cluster's provider",
                       aud_loc, related=(related(p.src.loc("oidc", "issuerUri"), f"`oidc.issuerUri` of {p.label}"),
                                         *rel),
                       anchor=issuer_anchor(p, issuer), sensitive=_sensitive(cfg))
    attrs = Attributes(p if p.kind in ("oidc", "aws") else None, claims)
    cond = p.attribute_condition
    if isinstance(cond, str) and cond.strip() and p.kind == "oidc":
        if evaluate_text(cond, attrs.env()) is False:
            return Hit(f"`attributeCondition` of {p.label} is false for the token of {_who(ch, peers)}, "
                       f"`sub` `{ch.subject}`: GCP STS rejects the exchange its credential configuration "
                       f"makes; admit this service account in the condition (e.g. `assertion.sub == "
                       f"'{ch.subject}'`) or point the configuration at the provider meant for it",
                       p.src.loc("attributeCondition"),
                       related=(related(aud_loc, f"{_config_label(cfg)} names {p.label} in `audience`"),))
    return _impersonation_break(ch, peers, ctx, p, attrs)


def _provider_missing(ch: Chain, peers: list, ctx: CheckContext) -> Hit | None:
    in_pool = _pool_providers(ctx, ch.project, ch.pool)
    in_project = [] if in_pool else ctx.inventory.lookup(GcpProvider, provider_project, ch.project)
    scanned = in_pool or in_project
    if not scanned:
        return None  # the provider's side is simply not among the inputs
    names = sorted({(q.name or q.identity).rsplit("/", 1)[-1] for q in scanned})
    if in_pool:
        what = f"pool `{ch.pool}` has no provider `{ch.provider_id}` among the scanned ones ({', '.join(names)})"
    else:
        pools = sorted({q.pool or "?" for q in scanned})
        what = (f"no provider of pool `{ch.pool}` is among the scanned providers of project `{ch.project}` "
                f"(pools {', '.join(pools)})")
    return Hit(f"{_who(ch, peers)} exchanges its token at `{ch.provider_name}` (`audience` of "
               f"{_config_label(ch.config)}), but {what}: GCP STS rejects an audience naming a provider that does "
               f"not exist; name one of the pool's providers, or create this one",
               ch.config.src.loc("audience"), related=tuple(related(q.src.loc("name") if q.name else q.src.loc(),
                                              f"scanned {q.label}") for q in scanned[:5]),
               sensitive=_sensitive(ch.config))


def _member_verdict(m: str, ch: Chain, p: GcpProvider | None, attrs: Attributes) -> tuple:
    """(True | False | None, why, same pool) for whether `m` admits the chain's token; None: cannot tell."""
    pr = parse_principal(m)
    if pr is None or gke_identity(m) is not None:
        return False, None, False  # a GKE member, a service account, a user: no principal of the pool
    if is_placeholder(m) or k8s_tokens.placeholder(m) or not pr["project"].isdigit():
        return None, None, False  # GCP013's finding, or a template
    if pr["pool"] != ch.pool or pr["project"] != ch.project:
        return False, (f"`{m}` names pool `{pr['pool']}` of project `{pr['project']}`, but the credential "
                       f"configuration's provider is in pool `{ch.pool}` of project `{ch.project}`"), False
    rest = pr["rest"]
    if rest == "*":
        return True, None, True
    provider = p.label if p is not None else f"provider `{ch.provider_id}`"
    if rest.startswith("subject/"):
        want = rest[len("subject/"):]
        got = attrs.get("google.subject")
        assumed = ""
        if (got is UNKNOWN or got is MISSING) and p is None and is_kubernetes_subject(want):
            got, assumed = ch.subject, " (assuming `google.subject: assertion.sub`: the provider is not among the inputs)"
        if not isinstance(got, str):
            return None, None, True
        return got == want, (f"`{m}` admits google.subject `{want}`, but the token's google.subject is `{got}`"
                             f"{assumed}"), True
    if rest.startswith("attribute."):
        name, _, value = rest[len("attribute."):].partition("/")
        got = attrs.get(f"attribute.{name}")
        if got is MISSING:
            return False, f"`{m}` selects `attribute.{name}`, which {provider} does not map", True
        if isinstance(got, list) and all(isinstance(x, str) for x in got):
            ok = value in got
        elif isinstance(got, str):
            ok = got == value
        else:
            return None, None, True
        expr = attrs.expression(f"attribute.{name}")
        return ok, (f"`{m}` admits attribute.{name} = `{value}`, but {provider} maps `attribute.{name}` from "
                    f"`{expr}`, which is `{got}` for this token"), True
    if rest.startswith("group/"):
        got = attrs.get("google.groups")
        if got is MISSING:
            return False, f"`{m}` selects a group, and {provider} maps no `google.groups`", True
        if isinstance(got, list) and all(isinstance(x, str) for x in got):
            return rest[len("group/"):] in got, f"`{m}` selects a group the token's google.groups lacks", True
        return None, None, True
    return None, None, True


def _impersonation_break(ch: Chain, peers: list, ctx: CheckContext, p: GcpProvider | None,
                         attrs: Attributes) -> Hit | None:
    cfg = ch.config
    url = cfg.data.get("service_account_impersonation_url")
    gsa = gsa_of_impersonation_url(url)
    if gsa is None:
        return None  # no impersonation: the principal is granted access directly
    policies = sa_policies(ctx, gsa)
    if not policies:
        return None  # the service account's policy is not among the inputs
    roles = tuple(ctx.param("impersonation_roles", DEFAULT_IMPERSONATION_ROLES))
    near: list = []
    gke = 0
    for pol, b, m, j in _own_members(policies) + _project_pool_members(ctx, ch.pool):
        if _role_kind(b.role, roles) is None:
            continue
        verdict, why, same_pool = _member_verdict(m, ch, p, attrs)
        if verdict is None or verdict is True:
            return None  # admitted, or cannot tell (also a conditional, owner or custom-role grant)
        if why is not None and pol.level == "service-account":
            near.append((not same_pool, b.role != WORKLOAD_IDENTITY_USER, pol, b, m, j, why))
        gke += gke_identity(m) is not None
    url_loc = cfg.src.loc("service_account_impersonation_url")
    via = p.label if p is not None else f"provider `{ch.provider_id}`"
    head = (f"{_who(ch, peers)} impersonates `{gsa}` (`service_account_impersonation_url` of "
            f"{_config_label(cfg)}), but no `{'`/`'.join(roles)}` binding in that service account's IAM policy "
            f"admits its token (`sub` `{ch.subject}` through {via})")
    subject = attrs.get("google.subject")
    principal = f"`principal://iam.googleapis.com/projects/{ch.project}/locations/global/workloadIdentityPools/" \
                f"{ch.pool}/subject/{subject if isinstance(subject, str) else ch.subject}`"
    if not isinstance(subject, str):
        principal += " (when the provider maps `google.subject` from `assertion.sub`)"
    if near:
        near.sort(key=lambda t: (t[0], t[1], t[2].src.file, t[3].index, t[5]))
        *_, pol, b, m, j, why = near[0]
        return Hit(f"{head}: {why}; fix this member (e.g. {principal}) or the configuration",
                   pol.loc("bindings", b.index, "members", j),
                   related=(related(url_loc, f"{_config_label(cfg)} impersonates `{gsa}`"),
                            related(cfg.src.loc("audience"), f"{_config_label(cfg)} exchanges at "
                                                             f"`{ch.provider_name}`")))
    files = ", ".join(sorted({pol.src.file for pol, _ in policies}))
    only_gke = (" (only to GKE Workload Identity members, which a token exchanged through a pool never "
                "matches)") if gke else ""
    return Hit(f"{head}: its IAM policy ({files}) grants those roles to no principal of pool `{ch.pool}`{only_gke}; "
               f"add a binding for {principal}, or impersonate the service account meant for this workload", url_loc,
               related=tuple(related(pol.loc("bindings"), f"IAM policy of `{gsa}`"
                                     + (" (matched by its file name)" if how == "filename" else ""))
                             for pol, how in policies),
               sensitive=_sensitive(cfg))


# =========================================================================================================
# GCP008: the provider's issuer is not the issuer of the cluster whose pods use it
# =========================================================================================================


def gcp_issuer_mismatch(p: GcpProvider, ctx: CheckContext) -> Iterator[Hit]:
    """GCP008: pods whose credential configuration names this provider run in a cluster whose issuer is
    known and differs from `oidc.issuerUri` (exact comparison; a slash-only difference is a warning)."""
    uri = p.issuer_uri
    if not p.name or not isinstance(uri, str) or not uri or is_placeholder(uri):
        return
    fed = ctx.federation
    g = fed.graph
    by_issuer: dict = {}
    for e in g.into(f"gcp-provider:{p.name}", "claims"):
        node = g.nodes.get(e.source)
        w = node.resource if node is not None else None
        if not isinstance(w, Workload):
            continue
        issuer, how = fed.issuer_for(w.namespace, w.service_account_name)
        if not issuer:
            continue
        diff = compare_issuers(uri, issuer)
        if diff in ("equal", "whitespace"):  # whitespace in issuerUri is GCP007's finding
            continue
        by_issuer.setdefault(issuer, []).append((w, how, diff, e.evidence))
    for issuer in sorted(by_issuer):
        uses = sorted(by_issuer[issuer], key=lambda t: (t[0].src.file, t[0].identity))
        w, how, diff, _ = uses[0]
        source, rel = _issuer_source(ctx, w, issuer, how)
        labels = [f"{u.label} (service account {u.namespace}/{u.service_account_name})" for u, *_ in uses]
        who = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
        related_locs = []
        seen = set()
        for u, _, _, evidence in uses:
            for loc in evidence:
                if (loc.file, loc.span) not in seen:
                    seen.add((loc.file, loc.span))
                    related_locs.append(related(loc, f"the credential configuration of {u.label} names {p.label} "
                                                     f"in `audience`"))
        if diff == "trailing-slash":
            severity, why = "warning", (f"{_DIFFERENCE[diff]}; whether GCP STS tolerates that is unverified, and "
                                        f"the issuer is otherwise compared byte for byte")
        else:
            severity, why = "error", f"{_DIFFERENCE[diff]}, so GCP STS rejects the tokens of these pods"
        yield Hit(f"`oidc.issuerUri` of {p.label} is `{uri}`, but {who} use{'s' if len(uses) == 1 else ''} it and "
                  f"run{'s' if len(uses) == 1 else ''} in the cluster whose issuer is `{issuer}` ({source}): {why}; "
                  f"set the provider's issuer to the cluster's (one provider per cluster issuer)",
                  p.src.loc("oidc", "issuerUri"), related=tuple(related_locs[:5]) + rel, severity=severity,
                  anchor=issuer_anchor(p, issuer))


# =========================================================================================================
# GCP009: subjects that collide between providers of one pool, or that are too long
# =========================================================================================================

# The prefix every value of a claim carries, per issuer kind: value spaces with different prefixes
# cannot collide.
_SUBJECT_PREFIX = {"token.actions.githubusercontent.com": "repo:", "gitlab.com": "project_path:",
                   "app.terraform.io": "organization:", "app.eu.terraform.io": "organization:"}


class _Space(msgspec.Struct, frozen=True):
    """The values a provider's `google.subject` can take: literal text around one claim."""

    provider: GcpProvider
    expression: str
    claim: tuple
    prefix: str  # literal prefix, followed by what every value of the claim starts with
    suffix: str
    issuer: str


def _subject_space(p: GcpProvider) -> _Space | None:
    attrs = Attributes(p, Partial())
    expr = attrs.expression("google.subject")
    tree = cel_eval.parse(expr)
    if tree is None:
        return None
    parts = cel.flatten(tree, "+")
    claims = [i for i, n in enumerate(parts) if not (isinstance(n, cel.Literal) and n.kind == "string")]
    if len(claims) != 1:
        return None
    i = claims[0]
    path = cel.claim_path(parts[i])
    if not path or path[0] != "assertion" or len(path) < 2:
        return None
    before = "".join(str(n.value) for n in parts[:i])
    after = "".join(str(n.value) for n in parts[i + 1:])
    issuer = str(p.issuer_uri or "")
    space = ""
    if path == ("assertion", "sub"):
        if issuer and is_kubernetes_issuer(issuer):
            space = "system:serviceaccount:"
        else:
            space = _SUBJECT_PREFIX.get(multi_tenant_issuer(issuer) or "", "") if issuer else ""
    elif path == ("assertion", "arn") and p.kind == "aws":
        return None  # an AWS ARN names its account: subjects of two accounts never collide
    return _Space(p, expr, path, before + space, after, issuer)


def _overlap(a: _Space, b: _Space) -> bool:
    if a.issuer and b.issuer and normalise_issuer(a.issuer) == normalise_issuer(b.issuer):
        return False  # the same issuer: the same subject is the same identity
    if a.claim != b.claim:
        return False  # different claims: value spaces not known to overlap
    if not (a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)):
        return False
    return a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)


def _mapping_loc(p: GcpProvider) -> Location:
    if isinstance(p.attribute_mapping, dict) and "google.subject" in p.attribute_mapping:
        return p.src.loc("attributeMapping", "google.subject")
    return p.src.loc()


def _example_subject(s: _Space) -> str:
    if s.prefix.endswith("system:serviceaccount:"):
        return s.prefix + "default:default" + s.suffix
    if s.prefix.endswith("repo:"):
        return s.prefix + "acme/app:ref:refs/heads/main" + s.suffix
    return ""


def gcp_subject_collision(ctx: CheckContext) -> Iterator[Hit]:
    """GCP009: providers of one pool whose `google.subject` value spaces overlap (two issuers, one
    principal), and concrete subjects (bindings, scanned pods) longer than 127 bytes."""
    yield from _collisions(ctx)
    yield from _long_binding_subjects(ctx)
    yield from _long_workload_subjects(ctx)


def _collisions(ctx: CheckContext) -> Iterator[Hit]:
    pools = ctx.inventory.index(GcpProvider, provider_pool)
    for pool in sorted(pools):
        providers = sorted(pools[pool], key=lambda p: (p.src.order, p.identity))
        spaces = [s for s in (_subject_space(p) for p in providers) if s is not None]
        for i, b in enumerate(spaces):
            earlier = [a for a in spaces[:i] if _projects_compatible(a.provider.project, b.provider.project)
                       and _overlap(a, b)]
            if not earlier:
                continue
            a = earlier[0]
            example = _example_subject(b)
            same = f"`{example}` minted by either issuer" if example else "the same value from either issuer"
            yield Hit(f"{b.provider.label} maps `google.subject` from `{b.expression}`, and {a.provider.label} of the "
                      f"same pool `{pool}` maps it from `{a.expression}` for another issuer (`{b.issuer or '?'}` and "
                      f"`{a.issuer or '?'}`): {same} becomes one principal "
                      f"(`principal://.../workloadIdentityPools/{pool}/subject/...`), so a binding meant for one "
                      f"cluster or platform admits the other; use one pool per trust domain, or prefix the subject "
                      f"(e.g. `'{b.provider.label.rsplit(' ', 1)[-1]}::' + {b.expression}`)",
                      _mapping_loc(b.provider),
                      related=tuple(related(_mapping_loc(x.provider), f"`google.subject` mapping of "
                                                                      f"{x.provider.label}") for x in earlier[:5]))


def _long_binding_subjects(ctx: CheckContext) -> Iterator[Hit]:
    members = _pool_members(ctx)
    for pool in sorted(members):
        for pol, b, m, j, pr in members[pool]:
            if pr["type"] != "principal" or not pr["rest"].startswith("subject/"):
                continue
            subject = pr["rest"][len("subject/"):]
            size = len(subject.encode("utf-8"))
            if size > GOOGLE_SUBJECT_MAX_BYTES:
                yield Hit(f"`{m}` names a subject of {size} bytes; `google.subject` is limited to "
                          f"{GOOGLE_SUBJECT_MAX_BYTES} bytes, so no token maps to it and the binding admits nothing; "
                          f"map a shorter subject (e.g. from `assertion['kubernetes.io']['serviceaccount']['uid']`)",
                          pol.loc("bindings", b.index, "members", j))


def _long_workload_subjects(ctx: CheckContext) -> Iterator[Hit]:
    fed = ctx.federation
    seen = set()
    for key, workloads in sorted(_chain_groups(ctx).items(), key=lambda kv: kv[0]):
        w = workloads[0]
        for ch in workload_chains(w, ctx):
            if ch.key != key:
                continue
            found = _find_providers(ctx, ch)
            if not found:
                continue
            p = found[0]
            issuer, _ = fed.issuer_for(ch.namespace, ch.service_account)
            subject = Attributes(p, kubernetes_claims(ch.namespace, ch.service_account, issuer)).get("google.subject")
            if not isinstance(subject, str):
                continue
            size = len(subject.encode("utf-8"))
            if size <= GOOGLE_SUBJECT_MAX_BYTES or (p.identity, subject) in seen:
                continue
            seen.add((p.identity, subject))
            yield Hit(f"{p.label} maps `google.subject` to `{subject}` ({size} bytes) for {w.label} (service account "
                      f"{ch.namespace}/{ch.service_account}); `google.subject` is limited to "
                      f"{GOOGLE_SUBJECT_MAX_BYTES} bytes, so its token exchange fails; map a shorter subject or "
                      f"shorten the namespace and service-account names", _mapping_loc(p),
                      related=(related(ch.config.src.loc("audience"),
                                       f"{_config_label(ch.config)} of {w.label} names {p.label}"),))


# =========================================================================================================
# GCP014: GKE Workload Identity without the workloadIdentityUser binding
# =========================================================================================================


def gke_wi_binding_missing(sa: ServiceAccount, ctx: CheckContext) -> Iterator[Hit]:
    """GCP014: the KSA's `iam.gke.io/gcp-service-account` names a GSA whose IAM policy is scanned and grants
    `roles/iam.workloadIdentityUser` to no member standing for this KSA."""
    gsa = k8s_tokens.annotation(sa, k8s_tokens.GKE_SERVICE_ACCOUNT)
    if not gsa or is_placeholder(gsa) or k8s_tokens.placeholder(gsa):
        return
    fed = ctx.federation
    policies = sa_policies(ctx, gsa)
    if not policies:
        return
    roles = tuple(ctx.param("roles", DEFAULT_IMPERSONATION_ROLES))
    issuer, _ = fed.issuer_for(sa.namespace, sa.name)
    m = _GKE_ISSUER.match(issuer or "")
    cluster_project = m.group("project") if m else None
    other: list = []  # (policy, binding, member, j, why)
    gke = _gke_members(ctx)
    candidates = _own_members(policies) + gke.get(sa.namespace, []) + gke.get("*", [])
    for pol, b, member, j in candidates:
        if _role_kind(b.role, roles) is None:
            continue
        verdict, why = _gke_member_verdict(member, sa, cluster_project)
        if verdict is None or verdict is True:
            return  # admitted, or cannot tell (also a conditional, owner or custom-role grant)
        if why is not None and pol.level == "service-account":
            other.append((pol, b, member, j, why))
    pools = sorted({g["pool"] for *_, member, _, _ in other if (g := gke_identity(member)) is not None})
    project = cluster_project or (pools[0][: -len(".svc.id.goog")] if len(pools) == 1 else "<PROJECT_ID>")
    want = f"serviceAccount:{project}.svc.id.goog[{sa.namespace}/{sa.name}]"
    files = ", ".join(sorted({pol.src.file for pol, _ in policies}))
    matched = ", matched by its file name" if all(how == "filename" for _, how in policies) else ""
    rel = [related(pol.loc("bindings", b.index, "members", j), why) for pol, b, member, j, why in other[:5]]
    if not rel:
        rel = [related(pol.loc("bindings"), f"IAM policy of `{gsa}`" + (" (matched by its file name)"
                                                                          if how == "filename" else ""))
               for pol, how in policies]
    names = "; ".join(why for *_, why in other[:3])
    yield Hit(f"service account {sa.namespace}/{sa.name} is annotated `iam.gke.io/gcp-service-account: {gsa}`, but "
              f"that service account's IAM policy ({files}{matched}) grants `{WORKLOAD_IDENTITY_USER}` to no "
              f"`{want}`" + (f" ({names})" if names else "") + f": pods running as {sa.namespace}/{sa.name} get "
              f"no token for `{gsa}` from the GKE metadata server; add that member with "
              f"`{WORKLOAD_IDENTITY_USER}` on `{gsa}`", k8s_tokens.annotation_loc(sa, k8s_tokens.GKE_SERVICE_ACCOUNT),
              related=tuple(rel))


def _gke_member_verdict(member: str, sa: ServiceAccount, cluster_project: str | None) -> tuple:
    """(True | False | None, why) for whether `member` stands for the KSA under GKE Workload Identity."""
    if is_placeholder(member) or k8s_tokens.placeholder(member):
        return None, None
    g = gke_identity(member)
    if g is None:
        pr = parse_principal(member)
        if pr is not None and pr["pool"].endswith(".svc.id.goog"):
            return (True, None) if pr["rest"] == "*" else (None, None)  # fleet forms not modelled
        return False, None
    project = g["pool"][: -len(".svc.id.goog")]
    if g["ns"] != sa.namespace or (g["ksa"] is not None and g["ksa"] != sa.name):
        who = f"{g['ns']}/{g['ksa']}" if g["ksa"] is not None else f"namespace {g['ns']}"
        return False, f"`{member}` is for {who}"
    if cluster_project and project != cluster_project:
        return False, (f"`{member}` names workload identity pool `{g['pool']}`, but the cluster is in project "
                       f"`{cluster_project}`")
    return True, None


# =========================================================================================================
# GCP018: references to a disabled or deleted provider
# =========================================================================================================


def _produces(q: GcpProvider, pr: dict) -> bool:
    """Can provider `q` yield a token that the principal `pr` (parsed) selects?"""
    rest = pr["rest"]
    if rest.startswith("attribute."):
        key = "attribute." + rest[len("attribute."):].partition("/")[0]
    elif rest.startswith("group/"):
        key = "google.groups"
    else:
        return True
    mapping = Attributes(q, Partial()).mapping
    return mapping is None or key in mapping


def provider_disabled_or_deleted(p: GcpProvider, ctx: CheckContext) -> Iterator[Hit]:
    """GCP018: a disabled or deleted provider that credential configurations or IAM bindings still
    reference. A pool-level binding references it when no other scanned, active provider of the pool can
    produce the principal it names."""
    state = _dead(p)
    if state is None or not p.name:
        return
    refs: list = []
    for cfg in sorted(ctx.inventory.lookup(GcpExternalAccount, config_provider, p.name), key=lambda c: c.identity):
        refs.append(related(cfg.src.loc("audience"), f"{_config_label(cfg)} names it in `audience`"))
    n_configs = len(refs)
    if p.pool:
        pool = _pool_providers(ctx, p.project, p.pool)
        for pol, b, m, j, pr in _pool_members(ctx).get(p.pool, []):
            if not _projects_compatible(pr["project"], p.project) or not _produces(p, pr):
                continue
            if any(q is not p and _dead(q) is None and _produces(q, pr) for q in pool):
                continue
            refs.append(related(pol.loc("bindings", b.index, "members", j),
                                f"`{b.role}` binding for `{m}`, which no active scanned provider of pool "
                                f"`{p.pool}` serves"))
    if not refs:
        return
    where = p.src.loc("state") if state == "deleted" else p.src.loc("disabled")
    parts = []
    if n_configs:
        parts.append(f"{n_configs} credential configuration(s) name it in `audience`")
    if len(refs) > n_configs:
        parts.append(f"{len(refs) - n_configs} IAM binding(s) name principals of pool `{p.pool}` that no other "
                     f"active scanned provider serves")
    what = "disabled (`disabled: true`)" if state == "disabled" else "deleted (`state: DELETED`)"
    back = "re-enabled" if state == "disabled" else "restored (undeleted)"
    yield Hit(f"{p.label} is {what}, but {' and '.join(parts)}: it exchanges no new tokens (tokens already "
              f"exchanged stay valid until they expire), so these references fail, or come back to life if the "
              f"provider is {back}; remove them, or bring the provider back deliberately", where,
              related=tuple(refs[:10]))
