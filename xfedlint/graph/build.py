"""Building the federation graph from an Inventory. Pure: no I/O, and linear in the inventory.

Every join goes through an index (by ARN, client ID, principal ID, e-mail, pool, namespace/name): no
pairwise scan of all resources. The only per-pattern work is matching a wildcard trust against the
service accounts of the namespaces it can admit.
"""

from __future__ import annotations

import re
from typing import Callable

import msgspec

from xfedlint.graph.model import Edge, Graph, Node
from xfedlint.model.inventory import Inventory
from xfedlint.model.location import Location
from xfedlint.model.resources import (
    AwsOidcProvider,
    AwsRole,
    AzureFederatedCredential,
    AzureManagedIdentity,
    AzureRoleAssignment,
    GcpIamPolicy,
    GcpProvider,
    ServiceAccount,
    Workload,
)
from xfedlint.semantics import aws_policy, k8s_tokens
from xfedlint.semantics.gcp_iam import GKE_MEMBER, is_federated, parse_principal, providers_of_pool
from xfedlint.semantics.issuers import host_path, is_kubernetes_issuer, normalise_issuer

_IMPERSONATION_URL = re.compile(r"/serviceAccounts/([^/:]+@[^/:]+):generateAccessToken$")
IMPERSONATION_ROLES = ("roles/iam.workloadIdentityUser", "roles/iam.serviceAccountTokenCreator")


def sa_id(namespace: str, name: str) -> str:
    return f"service-account:{namespace}/{name}"


def workload_id(w: Workload) -> str:
    return f"workload:{w.kind.lower()}/{w.namespace}/{w.name}"


def aws_role_id(arn: str) -> str:
    return f"aws-role:{arn}"


def azure_identity_id(key: str) -> str:
    return f"azure-identity:{key.lower()}"


def gcp_sa_id(email: str) -> str:
    return f"gcp-service-account:{email.lower()}"


def issuer_id(issuer: str) -> str:
    return f"issuer:{normalise_issuer(issuer)}"


def gsa_of_impersonation_url(url) -> str | None:
    m = _IMPERSONATION_URL.search(url) if isinstance(url, str) else None
    return m.group(1) if m else None


class Federation(msgspec.Struct):
    """The graph plus the joins the correlation rules need, all keyed for constant-time lookup."""

    graph: Graph
    cluster_issuer: dict = msgspec.field(default_factory=dict)  # (namespace, sa) -> (issuer, how: config|inferred)
    roles_by_arn: dict = msgspec.field(default_factory=dict)
    identities_by_client_id: dict = msgspec.field(default_factory=dict)
    identities_by_principal_id: dict = msgspec.field(default_factory=dict)
    fics_by_parent: dict = msgspec.field(default_factory=dict)  # lower-cased identity resource ID -> [FIC]
    providers_by_name: dict = msgspec.field(default_factory=dict)  # "projects/N/.../providers/P" -> provider
    providers_by_pool: dict = msgspec.field(default_factory=dict)  # pool ID -> [provider]
    sa_policies: dict = msgspec.field(default_factory=dict)  # GSA e-mail (lower) -> [(policy, how matched)]
    service_accounts: dict = msgspec.field(default_factory=dict)  # (namespace, name) -> ServiceAccount
    namespaces: dict = msgspec.field(default_factory=dict)  # namespace -> {sa names seen (SAs and workloads)}

    def issuer_for(self, namespace: str, name: str) -> tuple[str, str] | tuple[None, None]:
        return self.cluster_issuer.get((namespace, name), (None, None))


def build(inventory: Inventory, cluster_issuer: Callable[[str], str | None] | None = None) -> Federation:
    """The federation graph. `cluster_issuer(file)` gives the issuer of the cluster a manifest belongs to
    (from the configuration's `clusters`); without it, issuers are inferred where the inputs allow."""
    g = Graph()
    fed = Federation(graph=g)
    _index_cloud_side(inventory, fed)
    _kubernetes(inventory, fed, cluster_issuer)
    aws_trusts = _aws(inventory, fed)
    _azure(inventory, fed)
    _gcp(inventory, fed)
    _infer_issuers(fed)
    _gcp_federates(fed)
    for role, rid, st, fp, weak in aws_trusts:  # after inference: a known cluster issuer prunes the matches
        _aws_federates(fed, role, rid, st, fp, weak)
    return fed


# ---- indexes -------------------------------------------------------------------------------------------


def _index_cloud_side(inv: Inventory, fed: Federation) -> None:
    for r in inv.of(AwsRole):
        if r.arn:
            fed.roles_by_arn[r.arn] = r
    for i in inv.of(AzureManagedIdentity):
        if i.client_id:
            fed.identities_by_client_id[i.client_id.lower()] = i
        if i.principal_id:
            fed.identities_by_principal_id[i.principal_id.lower()] = i
    for f in inv.of(AzureFederatedCredential):
        if f.parent:
            fed.fics_by_parent.setdefault(f.parent.lower(), []).append(f)
    for p in inv.of(GcpProvider):
        if p.name:
            fed.providers_by_name[p.name] = p
        if p.pool:
            fed.providers_by_pool.setdefault(p.pool, []).append(p)


# ---- Kubernetes ----------------------------------------------------------------------------------------


def _kubernetes(inv: Inventory, fed: Federation, cluster_issuer) -> None:
    g = fed.graph
    for sa in inv.of(ServiceAccount):
        fed.service_accounts[(sa.namespace, sa.name)] = sa
        fed.namespaces.setdefault(sa.namespace, set()).add(sa.name)
        g.add_node(Node(sa_id(sa.namespace, sa.name), "service-account", f"{sa.namespace}/{sa.name}",
                        sa.src.loc(), sa))
        if cluster_issuer is not None and (issuer := cluster_issuer(sa.src.file)):
            fed.cluster_issuer[(sa.namespace, sa.name)] = (issuer, "config")
        for key, cloud, value in k8s_tokens.federation_annotations(sa):
            target = _claimed_node(g, cloud, value)
            g.add_edge(Edge(sa_id(sa.namespace, sa.name), target, "claims", key,
                            evidence=(k8s_tokens.annotation_loc(sa, key),)))
    for w in inv.of(Workload):
        sa_name = w.service_account_name
        fed.namespaces.setdefault(w.namespace, set()).add(sa_name)
        s_id = sa_id(w.namespace, sa_name)
        g.add_node(Node(s_id, "service-account", f"{w.namespace}/{sa_name}"))
        wid = workload_id(w)
        g.add_node(Node(wid, "workload", f"{w.kind.lower()} {w.namespace}/{w.name}", w.src.loc(), w))
        g.add_edge(Edge(wid, s_id, "runs-as", sa_name))
        if cluster_issuer is not None and (issuer := cluster_issuer(w.src.file)):
            fed.cluster_issuer.setdefault((w.namespace, sa_name), (issuer, "config"))
        for use in k8s_tokens.token_uses(w, inv):
            if use.via is not None:
                aud = use.via.data.get("audience")
                provider = str(aud).split("//iam.googleapis.com/", 1)[-1] if isinstance(aud, str) else None
                if provider:
                    g.add_edge(Edge(wid, f"gcp-provider:{provider}", "claims", "external_account audience",
                                    evidence=(use.via.src.loc("audience"),)))
                    g.add_node(Node(f"gcp-provider:{provider}", "gcp-provider", provider.rsplit("/", 1)[-1]))
                gsa = gsa_of_impersonation_url(use.via.data.get("service_account_impersonation_url"))
                if gsa:
                    _claimed_node(g, "gcp", gsa)
                    g.add_edge(Edge(wid, gcp_sa_id(gsa), "claims", "service_account_impersonation_url",
                                    evidence=(use.via.src.loc("service_account_impersonation_url"),)))


def _claimed_node(g: Graph, cloud: str, value: str) -> str:
    if cloud == "aws":
        node = Node(aws_role_id(value), "aws-role", value.rsplit("/", 1)[-1])
    elif cloud == "azure":
        node = Node(azure_identity_id(value), "azure-identity", value)
    else:
        node = Node(gcp_sa_id(value), "gcp-service-account", value)
    return g.add_node(node).id


# ---- AWS -----------------------------------------------------------------------------------------------


def _aws(inv: Inventory, fed: Federation) -> list:
    """Roles, their trusts and grants; returns the OIDC trust statements, matched to service accounts later."""
    g = fed.graph
    trusts = []
    for p in inv.of(AwsOidcProvider):
        g.add_node(Node(issuer_id(p.host_path), "issuer", p.host_path, p.src.loc(), p))
    for role in inv.of(AwsRole):
        rid = aws_role_id(role.arn) if role.arn else f"aws-role:{role.identity}"
        label = role.name or (role.arn.rsplit("/", 1)[-1] if role.arn else role.src.file.rsplit("/", 1)[-1])
        g.add_node(Node(rid, "aws-role", label, role.src.loc(), role))
        if role.trust is not None:
            for st, fp in aws_policy.oidc_trust_statements(role.trust):
                subs = [v.text for c in st.on_claim(fp.host, "sub") for v in c.values]
                weak = _aws_weakness(st, fp)
                iss = issuer_id(fp.host)
                g.add_node(Node(iss, "issuer", fp.host))
                g.add_edge(Edge(iss, rid, "trusts", "sub " + (", ".join(subs) if subs else "(any)"), weak,
                                (st.src.loc(),), issuer="https://" + fp.host))
                trusts.append((role, rid, st, fp, weak))
        for arn in role.attached_policy_arns:
            pid = f"aws-policy:{arn}"
            g.add_node(Node(pid, "aws-policy", arn.rsplit("/", 1)[-1]))
            g.add_edge(Edge(rid, pid, "grants", "attached"))
    return trusts


def _aws_weakness(st, fp) -> str | None:
    cons = st.on_claim(fp.host, "sub")
    if not any(c.operator.fail_closed for c in cons):
        return "no subject condition"
    if any(c.operator.globbing and aws_policy.has_wildcard(v.text) for c in cons for v in c.values):
        return "wildcard subject"
    auds = [v.text for c in st.on_claim(fp.host, "aud") for v in c.values]
    if any(aws_policy.has_wildcard(a) for a in auds):
        return "wildcard audience"
    if any(a.startswith("api://AzureADTokenExchange") or "iam.googleapis.com/" in a for a in auds):
        return "another cloud's audience"
    return None


def _aws_federates(fed: Federation, role: AwsRole, rid: str, st, fp, weak: str | None) -> None:
    """Service accounts this trust statement admits: those claiming the role, and for a subject pattern,
    every scanned service account of the namespaces the pattern can name."""
    candidates: set = set()
    for e in fed.graph.into(rid, "claims"):
        if e.source.startswith("service-account:"):
            ns, _, name = e.source.split(":", 1)[1].partition("/")
            candidates.add((ns, name))
    for c in st.on_claim(fp.host, "sub"):
        for v in c.values:
            candidates |= _namespace_candidates(fed, v.text)
    for ns, name in sorted(candidates):
        subject = f"system:serviceaccount:{ns}:{name}"
        issuer, _ = fed.issuer_for(ns, name)
        if issuer and normalise_issuer(issuer) != normalise_issuer(fp.host):
            continue
        if _statement_admits_subject(st, fp, subject):
            fed.graph.add_edge(Edge(sa_id(ns, name), rid, "federates", fp.host, weak, (st.src.loc(),),
                                    issuer="https://" + fp.host))


def _statement_admits_subject(st, fp, subject: str) -> bool:
    """Does the statement admit this subject with some audience? (The audience is judged separately.)"""
    context = {f"{fp.host}:sub": subject}
    for c in st.on_claim(fp.host, "aud"):
        for v in c.values:
            if not aws_policy.has_wildcard(v.text):
                context[f"{fp.host}:aud"] = v.text
                break
    return st.evaluate(context)


def _namespace_candidates(fed: Federation, pattern: str) -> set:
    """(namespace, name) of scanned service accounts a `sub` pattern may name, without scanning them all:
    a literal namespace selects one bucket; a wildcard in the namespace selects every bucket."""
    prefix = "system:serviceaccount:"
    if not pattern.startswith(prefix) and not prefix.startswith(aws_policy.literal_prefix(pattern)):
        return set()
    rest = pattern[len(prefix):] if pattern.startswith(prefix) else "*"
    ns, _, name = rest.partition(":")
    if not aws_policy.has_wildcard(rest):  # a literal subject names one service account
        return {(ns, name)} if name in fed.namespaces.get(ns, ()) else set()
    if aws_policy.has_wildcard(ns) or not ns:
        return {(n, s) for n, names in fed.namespaces.items() for s in names}
    return {(ns, s) for s in fed.namespaces.get(ns, ())}


# ---- Azure ---------------------------------------------------------------------------------------------


def _azure(inv: Inventory, fed: Federation) -> None:
    g = fed.graph
    by_resource = {}
    for ident in inv.of(AzureManagedIdentity):
        key = ident.client_id or ident.resource_id or ident.name or "?"
        node = g.add_node(Node(azure_identity_id(key), "azure-identity", ident.name or key, ident.src.loc(), ident))
        if ident.resource_id:
            by_resource[ident.resource_id.lower()] = node.id
    for fic in inv.of(AzureFederatedCredential):
        parent = by_resource.get((fic.parent or "").lower())
        if parent is None:  # an app registration or an identity not in the inputs
            parent = g.add_node(Node(f"azure-app:{fic.parent or fic.src.file}", "azure-identity",
                                     (fic.parent or "").rsplit("/", 1)[-1] or
                                     f"app of {fic.src.file.rsplit('/', 1)[-1]}")).id
        issuer = str(fic.issuer or "")
        iss = issuer_id(issuer)
        g.add_node(Node(iss, "issuer", host_path(issuer.strip()).rstrip("/")))
        subject = fic.subject if isinstance(fic.subject, str) else "(claims expression)"
        g.add_edge(Edge(iss, parent, "trusts", f"sub {subject}", "wildcard in subject" if "*" in subject else None,
                        (fic.loc(),), issuer=issuer))
        if isinstance(fic.subject, str) and fic.subject.startswith("system:serviceaccount:"):
            parts = fic.subject.split(":")
            if len(parts) == 4:
                ns, name = parts[2], parts[3]
                if (ns, name) in fed.service_accounts or name in fed.namespaces.get(ns, ()):
                    g.add_edge(Edge(sa_id(ns, name), parent, "federates", issuer, None, (fic.loc("subject"),),
                                    issuer=issuer))
    for a in inv.of(AzureRoleAssignment):
        ident = fed.identities_by_principal_id.get((a.principal_id or "").lower())
        source = azure_identity_id(ident.client_id or ident.resource_id or ident.name) if ident else \
            g.add_node(Node(f"azure-principal:{a.principal_id}", "azure-identity", a.principal_name or
                            str(a.principal_id))).id
        rid = f"azure-role:{a.role_label}@{a.scope}"
        g.add_node(Node(rid, "azure-role", f"{a.role_label} @ {a.scope}", a.src.loc(), a))
        g.add_edge(Edge(source, rid, "grants", a.role_label, evidence=(a.loc("scope"),)))


# ---- GCP -----------------------------------------------------------------------------------------------


def _gcp(inv: Inventory, fed: Federation) -> None:
    g = fed.graph
    referenced: dict = {}  # local part of each referenced service account -> e-mail
    for n in g.of_kind("gcp-service-account"):
        email = n.id.split(":", 1)[1]
        referenced.setdefault(email.split("@", 1)[0], email)
    for p in inv.of(GcpProvider):
        pid = f"gcp-provider:{p.name}" if p.name else f"gcp-provider:{p.identity}"
        g.add_node(Node(pid, "gcp-provider", p.label.replace("provider ", ""), p.src.loc(), p))
        if isinstance(p.issuer_uri, str) and p.issuer_uri:
            iss = issuer_id(p.issuer_uri)
            g.add_node(Node(iss, "issuer", host_path(p.issuer_uri).rstrip("/")))
            cond = p.attribute_condition if isinstance(p.attribute_condition, str) and p.attribute_condition else None
            if "attribute_condition" in p.unknown:  # computed at plan time: neither weak nor strong as far as known
                label, weak = "(condition computed at plan time)", None
            else:
                label, weak = cond or "(no condition)", _condition_weakness(p, cond)
            g.add_edge(Edge(iss, pid, "trusts", label, weak, (p.src.loc("oidc", "issuerUri"),), issuer=p.issuer_uri))
    for policy in inv.of(GcpIamPolicy):
        gsa = _policy_owner(policy, referenced)
        if gsa is not None:
            fed.sa_policies.setdefault(gsa[0].lower(), []).append((policy, gsa[1]))
        for b in policy.bindings:
            for m, j in b.members:
                loc = policy.loc("bindings", b.index, "members", j)
                if gsa is not None and b.role in IMPERSONATION_ROLES and is_federated(m):
                    _gcp_impersonation_edge(fed, gsa[0], m, b.role, loc)
                elif policy.level in ("project", "folder", "organization") and m.startswith("serviceAccount:"):
                    email = m.split(":", 1)[1]
                    if "svc.id.goog[" in email:
                        continue
                    g.add_node(Node(gcp_sa_id(email), "gcp-service-account", email))
                    where = policy.resource_name or f"{policy.level} ({policy.src.file.rsplit('/', 1)[-1]})"
                    rid = f"gcp-role:{b.role}@{policy.resource_name or policy.src.file}"
                    g.add_node(Node(rid, "gcp-role", f"{b.role} @ {where}", policy.loc("bindings", b.index, "role"),
                                    policy))
                    g.add_edge(Edge(gcp_sa_id(email), rid, "grants", b.role, evidence=(loc,)))


def _gcp_federates(fed: Federation) -> None:
    """service account -> Google service account, where a pod of it holds an `external_account` config
    naming a provider whose principals are bound on that service account. Whether the binding and condition
    admit this very subject is X003's judgement; the edge carries the weakest link's reason."""
    g = fed.graph
    for wl in g.of_kind("workload"):
        claims = g.out(wl.id, "claims")
        providers = [e.target for e in claims if e.target.startswith("gcp-provider:")]
        gsas = {e.target for e in claims if e.target.startswith("gcp-service-account:")}
        runs_as = g.out(wl.id, "runs-as")
        if not (providers and gsas and runs_as):
            continue
        for pid in providers:
            condition = next((e for e in g.into(pid, "trusts")), None)
            for trust in g.out(pid, "trusts"):
                if trust.target in gsas:
                    weak = trust.weak or (condition.weak if condition is not None else None)
                    g.add_edge(Edge(runs_as[0].target, trust.target, "federates",
                                    f"via {g.nodes[pid].label}", weak, trust.evidence,
                                    issuer=condition.issuer if condition is not None else ""))


def _condition_weakness(p: GcpProvider, cond: str | None) -> str | None:
    """Why a provider's attribute condition admits more than it seems to (GCP001/GCP002's reasons), or None."""
    if cond is None:
        return "no attribute condition"
    from xfedlint.semantics import cel
    from xfedlint.semantics.cel_weakness import is_trivially_true, weaknesses

    try:
        tree = cel.parse(cond)
    except cel.CelSyntaxError:
        return "invalid condition"
    if is_trivially_true(tree):
        return "always-true condition"
    found = [w for w in weaknesses(cond, tree, p.attribute_mapping if isinstance(p.attribute_mapping, dict) else None)
             if w.severity == "error"]
    if not found:
        return None
    weak = cond[found[0].start:found[0].end]  # the weak part of the condition, as written
    for call, reason in ((".startsWith(", "prefix match"), (".endsWith(", "suffix match"),
                         (".contains(", "substring match"), (".matches(", "unanchored pattern")):
        if call in weak:
            return reason
    return "weak condition"


def _policy_owner(policy: GcpIamPolicy, referenced: dict) -> tuple[str, str] | None:
    """The service account whose IAM policy this is: named by the input, or by its file name containing
    the local part of a service account the inputs refer to (`eks-gcp-sa-iam-policy.json`)."""
    if policy.level != "service-account":
        return None
    if policy.resource_name and "/serviceAccounts/" in policy.resource_name:
        return policy.resource_name.rsplit("/serviceAccounts/", 1)[1], "input"
    stem = policy.src.file.rsplit("/", 1)[-1].lower()
    # whole words of the file name: `app` names `app-iam-policy.json`, not `myapp-sa-iam-policy.json`; each run
    # of consecutive words is looked up, the longest match winning (a name has few words: this stays linear)
    words = [m.span() for m in re.finditer(r"[a-z0-9]+", stem)]
    best = None
    for i in range(len(words)):
        for j in range(len(words) - 1, i - 1, -1):
            local = stem[words[i][0]:words[j][1]]
            if local in referenced and (best is None or len(local) > len(best[0])):
                best = (local, referenced[local])
                break
    return (best[1], "filename") if best else None


def _gcp_impersonation_edge(fed: Federation, gsa: str, member: str, role: str, loc: Location) -> None:
    g = fed.graph
    target = g.add_node(Node(gcp_sa_id(gsa), "gcp-service-account", gsa)).id
    gke = GKE_MEMBER.match(member)
    if gke:
        s_id = sa_id(gke.group("ns"), gke.group("ksa"))
        g.add_node(Node(s_id, "service-account", f"{gke.group('ns')}/{gke.group('ksa')}"))
        g.add_edge(Edge(s_id, target, "federates", f"GKE {gke.group('pool')}", None, (loc,)))
        return
    pr = parse_principal(member)
    if pr is None:
        return
    weak = "whole pool" if pr["rest"] == "*" else ("attribute set" if pr["type"] == "principalSet" else None)
    for p in providers_of_pool(fed.providers_by_pool.get(pr["pool"], []), pr) or [None]:
        source = f"gcp-provider:{p.name}" if p is not None and p.name else \
            g.add_node(Node(f"gcp-pool:{pr['project']}/{pr['pool']}", "gcp-provider", f"pool {pr['pool']}")).id
        g.add_edge(Edge(source, target, "trusts", f"{role.rsplit('.', 1)[-1]}: {pr['rest']}", weak, (loc,)))


# ---- which cluster a service account belongs to --------------------------------------------------------


def _infer_issuers(fed: Federation) -> None:
    """Without configuration, a service account's cluster issuer is inferred when the cloud identity its
    annotation points at trusts exactly one Kubernetes issuer (rules.md section 0.1); never guessed."""
    g = fed.graph
    for (ns, name) in fed.service_accounts:
        if (ns, name) in fed.cluster_issuer:
            continue
        issuers = set()
        for claim in g.out(sa_id(ns, name), "claims"):
            for trust in g.into(claim.target, "trusts"):
                if trust.issuer and is_kubernetes_issuer(trust.issuer):
                    issuers.add(trust.issuer)
        if len(issuers) == 1:
            fed.cluster_issuer[(ns, name)] = (issuers.pop(), "inferred")
