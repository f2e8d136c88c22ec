"""Correlation across files: AWS roles and the workloads that name them (X001), trusts that admit more
service accounts than the workload they were written for (X004), and weak trusts in front of privileged
identities (X005, an escalator that runs after every other rule).

Joins go through the federation graph (`ctx.federation`) and the Inventory's indexes, never through a
pairwise scan of two resource lists. Which cluster issuer a manifest belongs to follows rules.md 0.1: from the
configuration, else inferred, else unknown; an unknown issuer is never guessed, and the message then says
that the comparison was on namespace and service account only.
"""

from __future__ import annotations

from typing import Iterator

from msgspec.structs import replace

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.graph.build import IMPERSONATION_ROLES, aws_role_id, gcp_sa_id, sa_id
from xfedlint.model.location import Location, source_lines
from xfedlint.model.resources import (
    AwsRole,
    AzureFederatedCredential,
    AzureManagedIdentity,
    AzureRoleAssignment,
    GcpIamPolicy,
    GcpProvider,
    ServiceAccount,
    Workload,
)
from xfedlint.semantics import aws_policy, azure_fic, cel, cel_eval
from xfedlint.semantics.aws_policy import Statement
from xfedlint.semantics.cel_eval import UNKNOWN
from xfedlint.semantics.gcp_iam import gke_identity, is_federated, parse_principal, providers_of_pool
from xfedlint.semantics.issuers import compare_issuers, host_path, normalise_issuer
from xfedlint.semantics.k8s_tokens import EKS_ROLE_ARN, annotation, annotation_loc, containers, env_bindings

ROLE_ARN_ENV = "AWS_ROLE_ARN"


def _subject(ns: str, name: str) -> str:
    return f"system:serviceaccount:{ns}:{name}"


def _pair(ns: str, name: str) -> str:
    return f"{ns}/{name}"


# ---- who names which role ------------------------------------------------------------------------------


def _pod_role_arns(w: Workload, inventory) -> list[tuple[str, Location]]:
    """(ARN, where it is written) for each distinct `AWS_ROLE_ARN` the pod's containers set themselves
    (a literal, or an entry of a scanned ConfigMap or Secret), in container order."""
    out: list[tuple[str, Location]] = []
    seen: set = set()
    for crel, c in containers(w):
        b = env_bindings(w, c, crel, inventory).get(ROLE_ARN_ENV)
        if b is None or not isinstance(b.value, str) or not b.value.strip():
            continue
        arn = b.value.strip()
        if arn not in seen:
            seen.add(arn)
            out.append((arn, b.value_where or b.where))
    return out


def _role_users(ctx: CheckContext) -> dict:
    """ARN -> {(namespace, service account): (where the ARN is named, how)} for every service account whose
    `eks.amazonaws.com/role-arn` names it and every pod that sets `AWS_ROLE_ARN` itself. Once per run."""
    inv = ctx.inventory

    def compute() -> dict:
        users: dict = {}
        for sa in inv.of(ServiceAccount):
            arn = annotation(sa, EKS_ROLE_ARN)
            if arn:
                users.setdefault(arn.strip(), {}).setdefault(
                    (sa.namespace, sa.name), (annotation_loc(sa, EKS_ROLE_ARN), f"{sa.label} names it"))
        for w in inv.of(Workload):
            for arn, where in _pod_role_arns(w, inv):
                users.setdefault(arn, {}).setdefault(
                    (w.namespace, w.service_account_name), (where, f"{w.label} sets `{ROLE_ARN_ENV}` to it"))
        return users

    return inv.memo("xfed_aws.role_users", inv, compute)


def _definition(fed, ns: str, name: str) -> tuple[Location, str] | None:
    """Where a service account is defined (its manifest), else a workload that runs as it."""
    sa = fed.service_accounts.get((ns, name))
    if sa is not None:
        return sa.src.loc(), f"service account {ns}/{name}"
    for e in fed.graph.into(sa_id(ns, name), "runs-as"):
        node = fed.graph.nodes.get(e.source)
        if node is not None and node.location is not None:
            return node.location, f"service account {ns}/{name} ({node.label} runs as it)"
    return None


def _pods_of(fed, ns: str, name: str, limit: int = 5) -> list:
    out = []
    for e in sorted(fed.graph.into(sa_id(ns, name), "runs-as"), key=lambda e: e.source)[:limit]:
        node = fed.graph.nodes.get(e.source)
        if node is not None and node.location is not None:
            out.append(related(node.location, f"{node.label} runs as this service account"))
    return out


# ---- X001 ----------------------------------------------------------------------------------------------


def aws_role_not_trusting_workload(resource, ctx: CheckContext) -> Iterator[Hit]:
    """X001: the role a service account (or a pod's own `AWS_ROLE_ARN`) names is scanned, and its trust does
    not let this cluster's tokens for `system:serviceaccount:<ns>:<sa>` in (no provider for the cluster's
    issuer, or `:sub` values that never match). A wrong audience is K8S003's finding."""
    fed = ctx.federation
    if isinstance(resource, ServiceAccount):
        arn = annotation(resource, EKS_ROLE_ARN)
        if not arn:
            return
        role = fed.roles_by_arn.get(arn.strip())
        if role is None:
            return
        ns, name = resource.namespace, resource.name
        rel = [related(annotation_loc(resource, EKS_ROLE_ARN),
                       f"service account {ns}/{name} names the role (`{EKS_ROLE_ARN}`)")]
        rel += _pods_of(fed, ns, name)
        yield from _judge_role(role, ns, name, f"service account {ns}/{name}", fed, tuple(rel))
        return
    w = resource
    sa = fed.service_accounts.get((w.namespace, w.service_account_name))
    sa_arn = (annotation(sa, EKS_ROLE_ARN) or "").strip() if sa is not None else ""
    for arn, where in _pod_role_arns(w, ctx.inventory):
        if arn == sa_arn:
            continue  # the service account's own finding covers it
        role = fed.roles_by_arn.get(arn)
        if role is None:
            continue
        ns, name = w.namespace, w.service_account_name
        rel = [related(where, f"{w.label} sets `{ROLE_ARN_ENV}` to this role")]
        if sa is not None:
            rel.append(related(sa.src.loc(), f"service account {ns}/{name}, which the pod runs as"))
        yield from _judge_role(role, ns, name, f"{w.label} (service account {ns}/{name})", fed, tuple(rel))


def _sub_admits(st: Statement, host: str, subject: str) -> bool:
    """Do the statement's constraints on `<host>:sub` let this subject in (IAM semantics; other claims are
    judged by their own rules: a wrong audience is K8S003, a key naming another provider AWS003)? A value
    holding an unrendered template placeholder (`${namespace}`) may stand for anything: admitted."""
    cons = st.on_claim(host, "sub")
    if any(aws_policy.is_placeholder(v.text) for c in cons for v in c.values):
        return True
    return all(c.evaluate(subject) for c in cons)


def _values_text(c) -> str:
    vals = [f"`{v.text}`" for v in c.values]
    if not vals:
        return "no value"
    return vals[0] if len(vals) == 1 else "any of " + ", ".join(vals)


def _judge_role(role: AwsRole, ns: str, name: str, who: str, fed, rel: tuple) -> Iterator[Hit]:
    if role.trust is None:
        return
    subject = _subject(ns, name)
    issuer, how = fed.issuer_for(ns, name)
    pairs = list(aws_policy.oidc_trust_statements(role.trust))
    if not pairs:
        stmts = aws_policy.statements(role.trust)
        if any(st.federated for st in stmts):
            return  # an OIDC principal without sts:AssumeRoleWithWebIdentity: AWS010's finding
        allow = [st for st in stmts if st.allows and st.src.get("Principal") is not None]
        where = allow[0].src.loc("Principal") if allow else role.trust.src.loc("Statement")
        yield Hit(f"{who} names {role.label}, whose trust lets no OIDC provider's tokens in (no Allow statement "
                  f"with a `Principal.Federated` oidc-provider and `sts:AssumeRoleWithWebIdentity`): the pod "
                  f"cannot assume it with its service-account token", where, related=rel)
        return
    if any(aws_policy.is_placeholder(fp.host) or st.templated for st, fp in pairs):
        return  # an unrendered template: which provider it names is unknown, never a mismatch
    if issuer:
        host = host_path(issuer.strip())
        mine = [(st, fp) for st, fp in pairs if fp.host == host]
        source = "from the configuration" if how == "config" else "inferred from the identities the service account is federated to"
        if not mine:
            near = [(st, fp) for st, fp in pairs if normalise_issuer(fp.host) == normalise_issuer(issuer)]
            st, fp = (near or pairs)[0]
            trusted = ", ".join(f"`{h}`" for h in dict.fromkeys(f.host for _, f in pairs))
            diff = compare_issuers("https://" + fp.host, issuer.strip()) if near else ""
            why = {"trailing-slash": "it differs from the issuer only by the trailing slash, and IAM compares the "
                                     "provider URL with the token's `iss` exactly",
                   "case": "it differs from the issuer only by letter case, and the provider URL must equal the "
                           "token's `iss` exactly"}.get(diff, "")
            yield Hit(f"{who} names {role.label}, whose trust has no `Principal.Federated` provider for the "
                      f"cluster's issuer `{issuer}` ({source}); it trusts {trusted}"
                      f"{': ' + why if why else ''}. Tokens of this cluster are rejected; trust "
                      f"`oidc-provider/{host}` with `{host}:sub` = `{subject}`",
                      st.loc(fp.loc_path), related=rel)
            return
        candidates, scope = mine, f" for issuer `{issuer}` ({source})"
        note = ""
    else:
        candidates, scope = pairs, ""
        note = (f"; the cluster issuer of {_pair(ns, name)} is not known (no `clusters` configuration, and it "
                f"could not be inferred), so this compared namespace and service account only, against every OIDC "
                f"provider the trust names")
    if any(_sub_admits(st, fp.host, subject) for st, fp in candidates):
        return
    st, fp = candidates[0]
    failing = [c for c in st.on_claim(fp.host, "sub") if not c.evaluate(subject)]
    c = failing[0]
    where = st.loc(c.values[0].loc_path) if len(c.values) == 1 else st.src.loc(*c.key_path, key=True)
    others = len(candidates) - 1
    also = f" (nor does any of the {others} other statement(s){scope})" if others else ""
    yield Hit(f"{who} cannot assume {role.label}: its token's subject `{subject}` does not pass `{c.operator.raw}` "
              f"on `{c.key}`, which admits {_values_text(c)}{also}; the trust names another workload. Write "
              f"`{subject}` there (or point the annotation at the role meant for it){note}",
              where, related=rel)


# ---- X004 ----------------------------------------------------------------------------------------------


def subject_covers_more_than_workload(ctx: CheckContext) -> Iterator[Hit]:
    """X004: a trust a workload uses (an AWS `:sub` pattern, a GCP principalSet or GKE namespace binding)
    also admits other scanned service accounts. Reported once per pattern, listing every admitted pair."""
    yield from _aws_over_broad(ctx)
    yield from _gcp_over_broad(ctx)


DEFAULT_MAX_LISTED = 20


def _more(items: list, limit: int) -> str:
    return f" and {len(items) - limit} more" if len(items) > limit else ""


def _names(pairs: list, limit: int) -> str:
    return ", ".join(_pair(*p) for p in pairs[:limit]) + _more(pairs, limit)


def _listing(pairs: list, users, user_what: str, limit: int) -> str:
    """The admitted pairs, users first (marked), then the others, at most `limit` of each."""
    mine = [p for p in pairs if p in users]
    rest = [p for p in pairs if p not in users]
    shown = [f"{_pair(*p)} ({user_what})" for p in mine[:limit]] + [_pair(*p) for p in rest[:limit]]
    return ", ".join(shown) + _more(mine, limit) + _more(rest, limit)


def _others_related(fed, others: list, limit: int) -> tuple:
    out = []
    for ns, name in others[:limit]:
        d = _definition(fed, ns, name)
        if d is not None:
            out.append(related(d[0], f"{d[1]} is admitted too"))
    return tuple(out)


def _unknown_issuer_note(fed, pairs: list, limit: int) -> str:
    unknown = [p for p in pairs if fed.issuer_for(*p)[0] is None]
    if not unknown:
        return ""
    shown = "these" if unknown == pairs else _names(unknown, limit)
    return f" (the cluster issuer of {shown} is not known: matched on namespace and service account only)"


def _aws_statement_admits(st: Statement, host: str, subject: str) -> bool:
    """The graph's test (graph.build): the Condition passes for this subject with an audience it accepts."""
    context = {f"{host}:sub": subject}
    for c in st.on_claim(host, "aud"):
        for v in c.values:
            if not aws_policy.has_wildcard(v.text):
                context[f"{host}:aud"] = v.text
                break
    return st.evaluate(context)


def _aws_over_broad(ctx: CheckContext) -> Iterator[Hit]:
    fed = ctx.federation
    limit = int(ctx.param("max_listed", DEFAULT_MAX_LISTED))
    users_by_arn = _role_users(ctx)
    for role in ctx.inventory.of(AwsRole):
        if role.trust is None or not role.arn or role.arn not in users_by_arn:
            continue
        users = users_by_arn[role.arn]
        rid = aws_role_id(role.arn)
        admitted = sorted({tuple(e.source.split(":", 1)[1].split("/", 1)) for e in fed.graph.into(rid, "federates")
                           if e.source.startswith("service-account:")})
        if not admitted:
            continue
        for st, fp in aws_policy.oidc_trust_statements(role.trust):
            mine = []
            for ns, name in admitted:
                issuer, _ = fed.issuer_for(ns, name)
                if issuer and normalise_issuer(issuer) != normalise_issuer(fp.host):
                    continue
                if _aws_statement_admits(st, fp.host, _subject(ns, name)):
                    mine.append((ns, name))
            for c in st.on_claim(fp.host, "sub"):
                if not c.operator.globbing or c.operator.negated:
                    continue
                for v in c.values:
                    if not aws_policy.has_wildcard(v.text):
                        continue
                    pairs = [p for p in mine if aws_policy.glob_match(v.text, _subject(*p))]
                    others = [p for p in pairs if p not in users]
                    if not others:
                        continue
                    using = sorted(p for p in users if p in pairs) or sorted(users)
                    yield Hit(f"`{c.operator.raw}` on `{c.key}` admits `{v.text}`, which matches {len(pairs)} "
                              f"scanned service account(s): {_listing(pairs, users, 'uses this role', limit)}; "
                              f"{role.label} is meant for {_names(using, limit)}, yet any pod running as "
                              f"{_names(others, limit)} can assume it{_unknown_issuer_note(fed, others, limit)}; "
                              f"trust each workload's exact subject with `StringEquals` (e.g. "
                              f"`{_subject(*using[0])}`)", st.loc(v.loc_path),
                              related=_others_related(fed, others, limit))


# GCP: a principalSet binding on a service account that a workload impersonates.

def _invalid_cel(expression) -> bool:
    """A non-blank CEL string that does not parse: GCP rejects the provider (GCP002 reports it)."""
    return isinstance(expression, str) and bool(expression.strip()) and cel_eval.parse(expression) is None


class _ProviderLogic:
    """A provider's condition, parsed once per run; its mapping is evaluated per token (`cel_eval.Attributes`)."""

    def __init__(self, p: GcpProvider):
        self.provider = p
        cond = p.attribute_condition
        self.invalid = _invalid_cel(cond)
        self.condition = cel_eval.parse(cond) if isinstance(cond, str) and cond.strip() else None
        self.issuer = normalise_issuer(p.issuer_uri) if isinstance(p.issuer_uri, str) and p.issuer_uri else None

    def claim_of(self, attribute: str) -> tuple | None:
        """The one claim path `attribute.<name>` is mapped from, when its expression is a plain claim path."""
        tree = cel_eval.parse(cel_eval.Attributes(self.provider, cel_eval.Partial()).expression(f"attribute.{attribute}"))
        return cel.claim_path(tree) if tree is not None else None

    def admits(self, ns: str, name: str, issuer: str | None, attribute: tuple | None):
        """Does this provider turn the token of ns/name into a principal of the member (True, False, or
        UNKNOWN)? `attribute` is (name, value) for `principalSet://.../attribute.NAME/VALUE`, None for the
        whole pool. An attribute the provider does not map counts as unknown."""
        if issuer and self.issuer and normalise_issuer(issuer) != self.issuer:
            return False
        if self.invalid:
            return False  # invalid CEL: GCP rejects the provider (GCP002 reports it)
        attrs = cel_eval.Attributes(self.provider, cel_eval.kubernetes_claims(ns, name, issuer))
        if attribute is not None:
            value = attrs.get(f"attribute.{attribute[0]}")
            if value is UNKNOWN or value is cel_eval.MISSING or \
                    isinstance(value, list) and any(v is UNKNOWN for v in value):
                return UNKNOWN
            if value != attribute[1]:
                return False
        if self.condition is None:
            return True
        verdict = cel_eval.evaluate(self.condition, attrs.env())
        return verdict if isinstance(verdict, bool) else UNKNOWN


def _gsa_users(fed, email: str) -> set:
    """(namespace, service account) of the workloads that impersonate this GSA (`external_account`) and of the
    service accounts whose GKE annotation names it."""
    out = set()
    for e in fed.graph.into(gcp_sa_id(email), "claims"):
        node = fed.graph.nodes.get(e.source)
        if node is None:
            continue
        if node.kind == "workload" and isinstance(node.resource, Workload):
            out.add((node.resource.namespace, node.resource.service_account_name))
        elif node.kind == "service-account":
            ns, _, name = e.source.split(":", 1)[1].partition("/")
            out.add((ns, name))
    return out


_K8S_SUB = ("assertion", "sub")
_K8S_NAMESPACE = ("assertion", "kubernetes.io", "namespace")
_K8S_SA_NAME = ("assertion", "kubernetes.io", "serviceaccount", "name")


class _GcpAdmissions:
    """What each principalSet member admits among the scanned service accounts, computed once per member.

    Candidates come from an index where the attribute is mapped from one claim (a namespace bucket, the
    service accounts of one name, one subject); only a whole pool, or an attribute mapped from an expression,
    is evaluated against every scanned service account."""

    def __init__(self, fed):
        self.fed = fed
        self.logic: dict = {}  # id(provider) -> _ProviderLogic
        self.memo: dict = {}  # member -> result
        self._pairs = None
        self._by_name = None

    def _all(self) -> list:
        if self._pairs is None:
            self._pairs = sorted((ns, n) for ns, names in self.fed.namespaces.items() for n in names)
        return self._pairs

    def _named(self, name: str) -> list:
        if self._by_name is None:
            self._by_name = {}
            for ns, n in self._all():
                self._by_name.setdefault(n, []).append((ns, n))
        return self._by_name.get(name, [])

    def _candidates(self, logics: list, attribute: tuple | None) -> list:
        if attribute is None:
            return self._all()
        claims = {lg.claim_of(attribute[0]) for lg in logics}
        if len(claims) != 1:
            return self._all()
        claim, value = claims.pop(), attribute[1]
        if claim == _K8S_NAMESPACE:
            return sorted((value, n) for n in self.fed.namespaces.get(value, ()))
        if claim == _K8S_SA_NAME:
            return self._named(value)
        if claim == _K8S_SUB:
            parts = value.split(":")
            if len(parts) == 4 and value.startswith("system:serviceaccount:") \
                    and parts[3] in self.fed.namespaces.get(parts[2], ()):
                return [(parts[2], parts[3])]
            return []
        return self._all()

    def of(self, member: str) -> tuple[list, str] | None:
        if member not in self.memo:
            self.memo[member] = self._compute(member)
        return self.memo[member]

    def _compute(self, member: str) -> tuple[list, str] | None:
        """(admitted scanned service accounts, what the member is) for a principalSet or GKE namespace member;
        None when the member names one principal or when what it admits cannot be told from the inputs."""
        fed = self.fed
        gke = gke_identity(member)
        if gke is not None:
            if gke["ksa"] is not None:
                return None
            return sorted((gke["ns"], n) for n in fed.namespaces.get(gke["ns"], ())), f"namespace `{gke['ns']}`"
        pr = parse_principal(member)
        if pr is None or pr["type"] != "principalSet":
            return None
        providers = providers_of_pool(fed.providers_by_pool.get(pr["pool"], []), pr)
        if not providers:
            return None
        if pr["rest"] == "*":
            attribute, what = None, f"every identity of pool `{pr['pool']}`"
        elif pr["rest"].startswith("attribute."):
            name, _, value = pr["rest"][len("attribute."):].partition("/")
            attribute, what = (name, value), f"`attribute.{name}` = `{value}` in pool `{pr['pool']}`"
        else:
            return None
        providers = [p for p in providers if "attribute_condition" not in p.unknown]  # not judged statically
        logics = [self.logic.setdefault(id(p), _ProviderLogic(p)) for p in providers]
        admitted = []
        for ns, name in self._candidates(logics, attribute):
            issuer, _ = fed.issuer_for(ns, name)
            verdicts = [lg.admits(ns, name, issuer, attribute) for lg in logics]
            if any(v is True for v in verdicts):
                admitted.append((ns, name))
            elif any(v is UNKNOWN for v in verdicts):
                return None  # a condition or mapping this evaluator cannot judge: say nothing
        return admitted, what


def _gcp_over_broad(ctx: CheckContext) -> Iterator[Hit]:
    fed = ctx.federation
    admissions = _GcpAdmissions(fed)
    limit = int(ctx.param("max_listed", DEFAULT_MAX_LISTED))
    for email in sorted(fed.sa_policies):
        users = _gsa_users(fed, email)
        if not users:
            continue
        for policy, _how in fed.sa_policies[email]:
            for b in policy.bindings:
                if b.role not in IMPERSONATION_ROLES:
                    continue
                for m, j in b.members:
                    if not is_federated(m):
                        continue
                    found = admissions.of(m)
                    if found is None:
                        continue
                    pairs, what = found
                    others = [p for p in pairs if p not in users]
                    if not others:
                        continue
                    using = sorted(users)
                    gke = gke_identity(m)
                    if gke is not None:  # one identity in every cluster of the project: no issuer to compare
                        note, exact = "", f"serviceAccount:{gke['pool']}[{using[0][0]}/{using[0][1]}]"
                    else:
                        note = _unknown_issuer_note(fed, others, limit)
                        exact = f"principal://.../subject/{_subject(*using[0])}"
                    yield Hit(f"`{m}` ({what}) holds `{b.role}` on `{email}`, and admits {len(pairs)} scanned "
                              f"service account(s): {_listing(pairs, users, 'uses this service account', limit)}; "
                              f"it is meant for {_names(using, limit)}, yet pods running as {_names(others, limit)} "
                              f"can impersonate it too{note}; bind `{exact}` instead",
                              policy.loc("bindings", b.index, "members", j),
                              related=_others_related(fed, others, limit))


# ---- X005 ----------------------------------------------------------------------------------------------

DEFAULT_WEAK_TRUST_RULES = ("AWS001", "AWS003", "AWS004", "AWS006", "AWS007", "AWS008", "AWS014", "AZ006",
                            "GCP001", "GCP002", "GCP004", "GCP005")
DEFAULT_PRIVILEGE_RULES = ("PERM001", "PERM002", "AZ010", "AZ012")
DEFAULT_PRIVILEGED_AZURE_ROLES = {
    "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
}


def _identity(r) -> str:
    return r.identity


def _resource_id(r) -> str | None:
    return r.resource_id.lower() if getattr(r, "resource_id", None) else None


def _located_text(ctx: CheckContext, loc: Location) -> str:
    """The source text at a location (one line), without the quotes of a JSON or YAML string."""
    text = ctx.inventory.texts.get(loc.file)
    s = loc.span
    if text is None or s.line != s.end_line:
        return ""
    lines = source_lines(text)
    if not 0 < s.line <= len(lines):
        return ""
    return lines[s.line - 1][s.col - 1:s.end_col - 1].strip().strip("\"'")


class _Privileges:
    """The privileged identities the other rules found, keyed the way weak-trust findings are joined."""

    def __init__(self, findings: list, ctx: CheckContext, rules: set):
        inv = ctx.inventory
        self.roles: dict = {}  # AWS role identity -> [(finding, what)]
        self.gsas: dict = {}  # GSA e-mail (lower) -> [(finding, what)]
        self.members: dict = {}  # federated member -> [(finding, what)]
        self.principals: dict = {}  # Azure principal ID (lower) -> [(finding, what)]
        self._bindings: set = set()  # PERM002 reports each member of a binding at the binding's role: once each
        names = {str(n).lower() for n in ctx.param("privileged_azure_roles", DEFAULT_PRIVILEGED_AZURE_ROLES)}
        guids = {str(g).lower() for g in ctx.param("privileged_azure_roles", DEFAULT_PRIVILEGED_AZURE_ROLES).values()}
        for f in findings:
            if f.rule not in rules or f.suppressed or f.severity == "note":
                continue
            if f.rule == "PERM001":
                self.roles.setdefault(f.resource, []).append((f, self._aws_what(ctx, f)))
            elif f.rule == "PERM002":
                self._gcp(inv, f)
            elif f.rule in ("AZ010", "AZ012"):
                for a in inv.lookup(AzureRoleAssignment, _identity, f.resource):
                    privileged = (a.role_name or "").lower() in names or \
                        (a.role_definition_id or "").rsplit("/", 1)[-1].lower() in guids
                    if a.principal_id and (f.rule == "AZ010" or privileged):
                        self.principals.setdefault(a.principal_id.lower(), []).append(
                            (f, f"`{a.role_label}` at `{a.scope}`"))

    @staticmethod
    def _aws_what(ctx: CheckContext, f) -> str:
        text = _located_text(ctx, f.location)
        if text.startswith("!"):  # a YAML tag before the value (CloudFormation `!Sub arn:...`)
            text = text.split(None, 1)[-1]
        if text.startswith("arn:") and ":policy/" in text:
            return f"`{text.rsplit('/', 1)[-1]}` attached"
        if text:
            return f"a policy allowing `{text}` on Resource `*`"
        return "administrator-equivalent permissions"

    def _gcp(self, inv, f) -> None:
        if (f.resource, f.location) in self._bindings:
            return
        self._bindings.add((f.resource, f.location))
        for policy in inv.lookup(GcpIamPolicy, _identity, f.resource):
            for b in policy.bindings:
                if policy.loc("bindings", b.index, "role") != f.location:
                    continue
                where = policy.resource_name or f"the {policy.level}"
                what = f"`{b.role}` on {where}"
                for m, _j in b.members:
                    if m.startswith("serviceAccount:") and gke_identity(m) is None:
                        self.gsas.setdefault(m.split(":", 1)[1].lower(), []).append((f, what))
                    elif is_federated(m):
                        self.members.setdefault(m, []).append((f, what))


def weak_trust_privileged_target(findings: list, ctx: CheckContext) -> list:
    """X005 (post): a weak-trust finding on an identity that also has an admin-level permission finding is
    raised to error, its message naming X005 and the permission; no finding of its own is added."""
    weak = set(ctx.param("weak_trust_rules", DEFAULT_WEAK_TRUST_RULES))
    priv = _Privileges(findings, ctx, set(ctx.param("privilege_rules", DEFAULT_PRIVILEGE_RULES)))
    if not (priv.roles or priv.gsas or priv.members or priv.principals):
        return findings
    out = []
    for f in findings:
        if f.rule in weak and not f.suppressed and f.severity != "note":
            found = _escalation(f, ctx, priv)
            if found is not None:
                why, evidence = found
                rel = tuple(related(p.location, f"{p.rule}: {what} (X005 raised this finding to error)")
                            for p, what in evidence)
                f = replace(f, severity="error", message=f"{f.message} [X005: {why}]", related=f.related + rel)
        out.append(f)
    return out


def _escalation(f, ctx: CheckContext, priv: _Privileges):
    if f.rule.startswith("AWS"):
        return _aws_escalation(f, ctx, priv)
    if f.rule.startswith("GCP"):
        return _gcp_escalation(f, ctx, priv)
    if f.rule.startswith("AZ"):
        return _azure_escalation(f, ctx, priv)
    return None


def _aws_escalation(f, ctx: CheckContext, priv: _Privileges):
    hits = priv.roles.get(f.resource)
    if not hits:
        return None
    if f.rule in ("AWS003", "AWS006") and not _fails_open(f, ctx):
        return None  # a key that makes the statement unusable, or a set operator that behaves as the plain one
    role = f.resource
    whats = "; ".join(dict.fromkeys(w for _, w in hits))
    return f"role {role} also has {whats}", hits


def _fails_open(f, ctx: CheckContext) -> bool:
    """For AWS003/AWS006: the constraint at the finding passes when its key is absent from the token."""
    if f.rule == "AWS006" and f.severity != "error":
        return False
    for role in ctx.inventory.lookup(AwsRole, _identity, f.resource):
        if role.trust is None:
            continue
        for st in aws_policy.statements(role.trust):
            for c in st.constraints:
                if st.src.loc(*c.key_path, key=True) == f.location:
                    return bool(c.evaluate(None))
    return False


def _gcp_escalation(f, ctx: CheckContext, priv: _Privileges):
    fed = ctx.federation
    inv = ctx.inventory
    if f.rule in ("GCP001", "GCP002"):
        for p in inv.lookup(GcpProvider, _identity, f.resource):
            if f.rule == "GCP002" and _invalid_cel(p.attribute_condition):
                return None  # invalid CEL: the provider is rejected, not weak
            found = []
            if p.name:
                for e in fed.graph.out(f"gcp-provider:{p.name}", "trusts"):
                    if e.weak is None or not e.target.startswith("gcp-service-account:"):
                        continue  # one exact principal: a weak provider condition does not widen it
                    email = e.target.split(":", 1)[1]
                    for pf, what in priv.gsas.get(email.lower(), ()):
                        found.append((f"pool `{p.pool}` can impersonate `{email}`, which has {what}",
                                      (pf, f"`{email}` has {what}")))
            for m, entries in priv.members.items():
                pr = parse_principal(m)
                if pr and pr["type"] == "principalSet" and providers_of_pool([p], pr):
                    for pf, what in entries:
                        found.append((f"`{m}` of pool `{p.pool}` has {what}", (pf, f"`{m}` has {what}")))
            if found:
                return _joined(found)
        return None
    owners = {id(pol): email for email, entries in fed.sa_policies.items() for pol, _ in entries}
    for policy in inv.lookup(GcpIamPolicy, _identity, f.resource):
        for b in policy.bindings:
            for m, j in b.members:
                if policy.loc("bindings", b.index, "members", j) != f.location:
                    continue
                found = []
                owner = owners.get(id(policy))
                if owner is not None and b.role in IMPERSONATION_ROLES:
                    for pf, what in priv.gsas.get(owner.lower(), ()):
                        found.append((f"it can impersonate `{owner}`, which has {what}", (pf, f"`{owner}` has {what}")))
                for pf, what in priv.members.get(m, ()):
                    found.append((f"`{m}` has {what}", (pf, f"`{m}` has {what}")))
                if found:
                    return _joined(found)
    return None


def _joined(found: list) -> tuple[str, list]:
    """(the reasons, one each, joined; the evidence: (permission finding, what it grants), one each)."""
    return "; ".join(dict.fromkeys(w for w, _ in found)), list(dict.fromkeys(ev for _, ev in found))


def _azure_escalation(f, ctx: CheckContext, priv: _Privileges):
    inv = ctx.inventory
    for fic in inv.lookup(AzureFederatedCredential, _identity, f.resource):
        if not _weak_expression_at(fic, f.location, ctx):
            continue
        for ident in inv.lookup(AzureManagedIdentity, _resource_id, (fic.parent or "").lower()):
            hits = priv.principals.get((ident.principal_id or "").lower())
            if hits:
                whats = "; ".join(dict.fromkeys(w for _, w in hits))
                return f"managed identity `{ident.name or ident.resource_id}` also has {whats}", hits
    return None


def _weak_expression_at(fic: AzureFederatedCredential, loc: Location, ctx: CheckContext) -> bool:
    """Is the AZ006 finding at `loc` about a `matches` pattern (what the credential admits), rather than the
    credential's shape (language version, issuer support, syntax)?"""
    expr = fic.expression
    if not isinstance(expr, dict) or not isinstance(expr.get("value"), str):
        return False
    try:
        parsed = azure_fic.parse(expr["value"])
    except azure_fic.FflSyntaxError:
        return False
    platform = azure_fic.flexible_platform(fic.issuer)
    if platform is None:
        return False
    supported = azure_fic.FLEXIBLE_CLAIMS[platform]
    rel = fic.rel + ("claimsMatchingExpression", "value")
    for c in parsed.comparisons:
        if c.op == "matches" and c.claim in supported and azure_fic.has_wildcard(c.value) \
                and ctx.substring(fic.src, rel, c.start, c.end) == loc:
            return True
    return False
