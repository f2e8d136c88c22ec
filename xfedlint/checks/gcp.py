"""GCP checks: workload identity pool providers (attribute conditions as CEL) and IAM bindings."""

from __future__ import annotations

import fnmatch
from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.model.resources import GcpExternalAccount, GcpIamPolicy, GcpProvider
from xfedlint.semantics import cel
from xfedlint.semantics.cel_weakness import (
    K8S_NAMESPACE,
    K8S_SA_NAME,
    alternatives,
    is_trivially_true,
    mapping_claims,
    pins_everywhere,
    pins_owner,
    resolve,
    weaknesses,
)
from xfedlint.semantics.gcp_iam import (
    DEFAULT_GROUP_LIKE_ATTRIBUTES,
    DEFAULT_RESOURCE_SCOPED_ROLES,
    DEFAULT_SERVICE_AGENTS,
    IMPERSONATION_ROLES,
    MUTABLE_ATTRIBUTE_NAMES,
    MUTABLE_CLAIMS,
    attribute_set,
    gke_identity,
    group_set,
    is_federated,
    is_placeholder,
    is_whole_pool,
    parse_principal,
    providers_of_pool,
    reachable_grants,
    role_matches,
)
from xfedlint.semantics.issuers import (
    AWS_STS_AUDIENCES,
    AZURE_AUDIENCES,
    audience_cloud,
    is_kubernetes_issuer,
    is_multi_tenant,
    multi_tenant_issuer,
)

TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"
PROJECT_LEVELS = ("project", "folder", "organization")


def _condition_tree(p: GcpProvider):
    if not isinstance(p.attribute_condition, str) or not p.attribute_condition.strip():
        return None
    try:
        return cel.parse(p.attribute_condition)
    except cel.CelSyntaxError:
        return None


def _multi_tenant(p: GcpProvider, ctx: CheckContext) -> str | None:
    issuer = p.issuer_uri
    if not isinstance(issuer, str) or not issuer:
        return None
    return multi_tenant_issuer(issuer, tuple(ctx.param("multi_tenant_issuers", ())))


def _lacks_condition(p: GcpProvider) -> bool:
    """No effective attribute condition: absent, empty or always true (GCP001's test)."""
    cond = p.attribute_condition
    if not isinstance(cond, str) or not cond.strip():
        return True
    tree = _condition_tree(p)
    return tree is not None and is_trivially_true(tree)


def _owner_pinned(p: GcpProvider, ctx: CheckContext) -> bool:
    """Does the provider's condition pin an owner of its multi-tenant issuer in every alternative?"""
    issuer_key = _multi_tenant(p, ctx)
    tree = _condition_tree(p)
    if issuer_key is None:
        return True
    if tree is None:
        return False
    mapping = mapping_claims(p.attribute_mapping)
    return pins_everywhere(tree, lambda a: pins_owner(a, issuer_key, mapping))


def _pool_bound_whole(p: GcpProvider, ctx: CheckContext) -> bool:
    for policy in ctx.inventory.of(GcpIamPolicy):
        for b in policy.bindings:
            for m, _ in b.members:
                pr = parse_principal(m)
                if pr and pr["type"] == "principalSet" and pr["pool"] == p.pool and pr["rest"] == "*":
                    return True
    return False


def provider_no_attribute_condition(p: GcpProvider, ctx: CheckContext) -> Iterator[Hit]:
    """GCP001: a provider that admits every token its issuer mints."""
    if "attribute_condition" in p.unknown:
        return  # computed at plan time: cannot be judged statically
    cond = p.attribute_condition
    if isinstance(cond, str) and cond.strip():
        tree = _condition_tree(p)
        if tree is None or not is_trivially_true(tree):
            return
        where, what = p.src.loc("attributeCondition"), f"`attributeCondition: {cond}` is always true"
    else:
        where = p.src.loc("oidc", "issuerUri") if p.issuer_uri else p.src.loc()
        what = "has no `attributeCondition`"
    issuer = str(p.issuer_uri or "")
    if issuer and is_multi_tenant(issuer):
        yield Hit(f"{p.label} for multi-tenant issuer `{issuer}` {what}: every repository or project on that "
                  f"platform can exchange tokens (GCP now rejects such providers)", where, severity="error")
    elif _pool_bound_whole(p, ctx):
        yield Hit(f"{p.label} {what}, and pool `{p.pool}` is bound as a whole (`principalSet://.../*`): every "
                  f"identity of issuer `{issuer}` gets those roles", where, severity="error")
    else:
        who = "any service account in the cluster" if is_kubernetes_issuer(issuer) else "any identity of the issuer"
        yield Hit(f"{p.label} {what}: {who} can federate into pool `{p.pool or '?'}`; restrict it, e.g. "
                  f"`assertion.sub == 'system:serviceaccount:<ns>:<sa>'`", where, severity="warning")


def cel_weak_match(p: GcpProvider, ctx: CheckContext) -> Iterator[Hit]:
    """GCP002: `startsWith` without a delimiter, `contains`, `endsWith`, unanchored `matches`, deny-lists,
    always-true `||` branches, owner-less alternatives for multi-tenant issuers, and invalid CEL."""
    cond = p.attribute_condition
    if not isinstance(cond, str) or not cond.strip():
        return
    try:
        tree = cel.parse(cond)
    except cel.CelLimitError:
        return  # too deep for this analyser: not proof of invalid CEL
    except cel.CelSyntaxError as e:
        at = max(0, min(e.offset, len(cond) - 1))
        yield Hit(f"`attributeCondition` is not valid CEL: {e.message} (character {e.offset + 1}); GCP rejects it, "
                  f"so the provider cannot be created or updated with it",
                  ctx.substring(p.src, ("attributeCondition",), at, at + 1), severity="error")
        return
    mapping = mapping_claims(p.attribute_mapping)
    for w in weaknesses(cond, tree, mapping, _multi_tenant(p, ctx)):
        yield Hit(w.message, ctx.substring(p.src, ("attributeCondition",), w.start, w.end), severity=w.severity)


# attribute keys GCP defines under `google.` (REST attributeMapping); custom ones are `attribute.<name>`
GOOGLE_ATTRIBUTES = ("google.subject", "google.groups", "google.display_name", "google.profile_photo",
                     "google.posix_username")
# what a provider without `attributeMapping` gets (REST: AWS and X.509 have default mappings; OIDC and SAML
# require one)
DEFAULT_MAPPING_KEYS = {"aws": ("google.subject", "attribute.aws_role"), "x509": ("google.subject",)}
CONDITION_NAMES = ("assertion", "google", "attribute")
CEL_TYPE_NAMES = ("int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn")
_MACROS = ("all", "exists", "exists_one", "map", "filter")


def cel_references_unmapped_attribute(p: GcpProvider, ctx: CheckContext) -> Iterator[Hit]:
    """GCP003: the condition reads an attribute the mapping does not define; the mapping lacks
    `google.subject` or is not valid CEL."""
    mapping = p.attribute_mapping
    if "attribute_mapping" in p.unknown:
        return  # computed at plan time: what the condition may read cannot be judged statically
    if not mapping:
        if p.kind not in DEFAULT_MAPPING_KEYS:
            where = p.src.loc("attributeMapping") if mapping is not None else p.src.loc()
            yield Hit(f"{p.label} has no `attributeMapping`: an {p.kind.upper()} provider needs one, with "
                      f"`google.subject` (e.g. `google.subject: assertion.sub`); GCP rejects the provider without it",
                      where)
            return
        keys = set(DEFAULT_MAPPING_KEYS[p.kind])
    else:
        keys = {str(k) for k in mapping}
        if "google.subject" not in keys:
            yield Hit(f"`attributeMapping` of {p.label} has no `google.subject`: GCP requires it (it names the "
                      f"principal, `principal://.../subject/<google.subject>`); add e.g. "
                      f"`google.subject: assertion.sub`", p.src.loc("attributeMapping", key=True))
        for key, value in mapping.items():
            if not isinstance(value, str):
                yield Hit(f"`attributeMapping.{key}` must be a CEL expression (a string), found {value!r}",
                          p.src.loc("attributeMapping", key))
                continue
            try:
                cel.parse(value)
            except cel.CelLimitError:
                continue
            except cel.CelSyntaxError as e:
                at = max(0, min(e.offset, len(value) - 1))
                yield Hit(f"`attributeMapping.{key}` is not valid CEL: {e.message} (character {e.offset + 1}); GCP "
                          f"rejects the mapping", ctx.substring(p.src, ("attributeMapping", key), at, at + 1))
    tree = _condition_tree(p)
    if tree is None:
        return
    bound = {n.args[0].name for n in cel.walk(tree)
             if isinstance(n, cel.Call) and n.function in _MACROS and n.args and isinstance(n.args[0], cel.Ident)}
    seen = set()
    for node in cel.walk(tree):
        path = cel.claim_path(node)
        if isinstance(node, cel.Ident):
            name = node.name
            if name in CONDITION_NAMES or name in bound or name in CEL_TYPE_NAMES or name in seen:
                continue
            seen.add(name)
            yield Hit(f"`attributeCondition` reads `{name}`, which is not defined: a condition sees only "
                      f"`assertion`, `google` and `attribute`, so evaluating it fails and every token is rejected",
                      ctx.substring(p.src, ("attributeCondition",), node.start, node.end))
            continue
        if not path or len(path) != 2 or path[0] not in ("attribute", "google"):
            continue
        key = f"{path[0]}.{path[1]}"
        if key in keys or key in seen or (key == "google.subject" and "google.subject" not in keys and mapping):
            continue
        seen.add(key)
        if path[0] == "google" and key not in GOOGLE_ATTRIBUTES:
            what = f"`{key}` is not an attribute GCP defines ({', '.join(GOOGLE_ATTRIBUTES)})"
        else:
            what = f"`{key}` is not defined in `attributeMapping`"
        yield Hit(f"`attributeCondition` reads {what}: evaluating it fails, so every token is rejected; map it "
                  f"(e.g. `{key}: assertion.{path[1]}`) or read the claim as `assertion.{path[1]}`",
                  ctx.substring(p.src, ("attributeCondition",), node.start, node.end))


def _provider_related(p: GcpProvider, what: str):
    where = p.src.loc("attributeCondition") if isinstance(p.attribute_condition, str) else \
        (p.src.loc("oidc", "issuerUri") if p.issuer_uri else p.src.loc())
    return related(where, f"{p.label}: {what}")


def binding_whole_pool(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """GCP004: `principalSet://.../workloadIdentityPools/<pool>/*`, every identity of every provider."""
    providers = ctx.inventory.of(GcpProvider)
    for b in policy.bindings:
        for m, j in b.members:
            if not is_whole_pool(m):
                continue
            pr = parse_principal(m)
            pool = pr["pool"]
            ps = providers_of_pool(providers, pr)
            bad = []
            for p in ps:
                mt = _multi_tenant(p, ctx)
                if mt:
                    bad.append((p, f"multi-tenant issuer `{mt}`"))
                elif _lacks_condition(p):
                    bad.append((p, "no effective `attributeCondition`"))
            where = policy.loc("bindings", b.index, "members", j)
            role = f"`{b.role}`" if b.role else "the role"
            if bad:
                names = "; ".join(f"{p.label} has {why}" for p, why in bad)
                yield Hit(f"`{m}` grants {role} to every identity of pool `{pool}`, and {names}: any token "
                          f"that provider accepts gets it; bind `principal://.../subject/<subject>` or "
                          f"`principalSet://.../attribute.<name>/<value>` instead", where, severity="error",
                          related=tuple(_provider_related(p, why) for p, why in bad))
            else:
                seen = f"{len(ps)} scanned provider(s) of the pool" if ps else \
                    "the pool's providers are not among the inputs"
                yield Hit(f"`{m}` grants {role} to every identity of pool `{pool}` ({seen}): every workload any "
                          f"provider of the pool admits, including providers added later; bind "
                          f"`principal://.../subject/<subject>` or `principalSet://.../attribute.<name>/<value>`",
                          where, severity="warning")


def _group_like_claims(names) -> set:
    return {("assertion", n) for n in names} | {K8S_NAMESPACE}


def binding_attribute_set_broad(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """GCP005: a principalSet on an attribute that groups many workloads (owner, namespace, audience, group)."""
    names = tuple(ctx.param("group_like_attributes", DEFAULT_GROUP_LIKE_ATTRIBUTES))
    group_claims = _group_like_claims(names)
    providers = ctx.inventory.of(GcpProvider)
    for b in policy.bindings:
        for m, j in b.members:
            attr = attribute_set(m)
            group = group_set(m)
            if attr is None and group is None:
                continue
            pr = parse_principal(m)
            key = f"attribute.{attr[0]}" if attr else "google.groups"
            value = attr[1] if attr else group
            ps = [p for p in providers_of_pool(providers, pr)
                  if not isinstance(p.attribute_mapping, dict) or key in p.attribute_mapping]
            claims = set()
            for p in ps:
                claims |= resolve(tuple(key.split(".", 1)), mapping_claims(p.attribute_mapping))
            if attr is not None:
                if claims:
                    if not claims <= group_claims:
                        continue
                elif attr[0] not in names:
                    continue
            what = _group_description(key, claims)
            where = policy.loc("bindings", b.index, "members", j)
            open_to_all = [p for p in ps if _multi_tenant(p, ctx) and not _owner_pinned(p, ctx)]
            if open_to_all:
                issuers = ", ".join(sorted({str(_multi_tenant(p, ctx)) for p in open_to_all}))
                yield Hit(f"`{m}` grants `{b.role}` to every token whose `{key}` is `{value}` ({what}), and "
                          f"{', '.join(p.label for p in open_to_all)} for multi-tenant issuer {issuers} pins no "
                          f"owner in its condition: anyone on that platform who can present that value gets the "
                          f"role; pin the owner in the condition and bind one workload (e.g. "
                          f"`attribute.repository_id/<id>`)", where, severity="error",
                          related=tuple(_provider_related(p, "condition without an owner") for p in open_to_all))
            else:
                yield Hit(f"`{m}` grants `{b.role}` to every workload whose `{key}` is `{value}` ({what}), "
                          f"including ones created later; bind one workload instead (e.g. "
                          f"`principalSet://.../attribute.repository_id/<id>` or `principal://.../subject/<subject>`)",
                          where, severity="warning")


def _group_description(key: str, claims: set) -> str:
    if K8S_NAMESPACE in claims or key == "attribute.namespace" and not claims:
        return "every service account of a Kubernetes namespace"
    if key == "google.groups":
        return "every member of the group"
    names = {c[1] for c in claims if len(c) == 2} or {key.split(".", 1)[1]}
    if names & {"aud"}:
        return "every token minted for that audience, which the workload chooses"
    if names & {"repository_owner", "repository_owner_id"}:
        return "every repository of that owner"
    if names & {"namespace_path", "namespace_id"}:
        return "every project of that group"
    return "a group of workloads"


FOREIGN_AUDIENCES = tuple(AWS_STS_AUDIENCES) + tuple(AZURE_AUDIENCES) + (
    "https://kubernetes.default.svc", "https://kubernetes.default.svc.cluster.local", "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local")


def allowed_audiences(p: GcpProvider, ctx: CheckContext) -> Iterator[Hit]:
    """GCP006: `oidc.allowedAudiences` over the limits, with several entries or another relying party's."""
    if p.kind != "oidc" or not isinstance(p.src.get("oidc"), dict) or "allowed_audiences" in p.unknown:
        return
    auds = p.allowed_audiences
    own = f"`//iam.googleapis.com/{p.name}`" if p.name else "its full resource name"
    if not auds:
        where = p.src.loc("oidc", "allowedAudiences") if auds is not None else p.src.loc("oidc", key=True)
        which = "an empty" if auds is not None else "no"
        yield Hit(f"{p.label} has {which} `allowedAudiences`: it accepts only tokens whose `aud` is {own} (or the same "
                  f"with `https:` in front); mint the workload's token for that audience", where, severity="note")
        return
    limit, length = int(ctx.param("max_audiences", 10)), int(ctx.param("max_audience_length", 256))
    foreign = tuple(ctx.param("foreign_audiences", FOREIGN_AUDIENCES))
    issuer = p.issuer_uri if isinstance(p.issuer_uri, str) else None
    specific = False
    if len(auds) > limit:
        specific = True
        yield Hit(f"`allowedAudiences` of {p.label} has {len(auds)} entries: GCP allows at most {limit}",
                  p.src.loc("oidc", "allowedAudiences"), severity="error")
    for i, a in enumerate(auds):
        where = p.src.loc("oidc", "allowedAudiences", i)
        if not isinstance(a, str):
            continue
        if len(a) > length:
            specific = True
            yield Hit(f"`allowedAudiences` entry {i + 1} is {len(a)} characters long: GCP allows at most {length}",
                      where, severity="error")
        elif any(fnmatch.fnmatchcase(a, f) for f in foreign):
            specific = True
            yield Hit(f"`allowedAudiences` contains `{a}`, the audience of another relying party: a token minted "
                      f"for it (and presented there) is also accepted here, so one stolen token works at both; use "
                      f"a dedicated audience, e.g. {own}", where, severity="warning",
                      anchor=f"{p.identity}|aud:{a}" if audience_cloud(a) in ("aws", "azure") else None)
        elif issuer and a.rstrip("/") == issuer.rstrip("/"):
            specific = True
            yield Hit(f"`allowedAudiences` contains `{a}`, the issuer itself: that is the Kubernetes API server's "
                      f"default audience (`--api-audiences` defaults to the issuer), so every default service "
                      f"account token of the cluster is accepted here; use a dedicated audience, e.g. {own}",
                      where, severity="warning")
    if len(auds) > 1 and not specific:
        yield Hit(f"`allowedAudiences` of {p.label} has {len(auds)} entries: each is another audience a token "
                  f"accepted here may have been minted for; one dedicated value is enough",
                  p.src.loc("oidc", "allowedAudiences"), severity="warning")


def issuer_invalid(p: GcpProvider, ctx: CheckContext) -> Iterator[Hit]:
    """GCP007: `oidc.issuerUri` not https, with a query or fragment, or missing."""
    if p.kind != "oidc" or not isinstance(p.src.get("oidc"), dict):
        return
    uri = p.issuer_uri
    if uri is None or uri == "":
        yield Hit(f"{p.label} has no `oidc.issuerUri`: an OIDC provider needs its issuer's HTTPS URL",
                  p.src.loc("oidc", key=True))
        return
    where = p.src.loc("oidc", "issuerUri")
    if not isinstance(uri, str):
        yield Hit(f"`oidc.issuerUri` must be a string URL, found {uri!r}", where)
        return
    if is_placeholder(uri):
        return
    from urllib.parse import urlsplit

    problems = []
    if uri != uri.strip():
        problems.append("has leading or trailing whitespace (the token's `iss` never matches it)")
    try:
        u = urlsplit(uri.strip())
        scheme, host, query, fragment = u.scheme.lower(), u.hostname, u.query, u.fragment
    except ValueError:
        scheme, host, query, fragment = "", None, "", ""
    if scheme != "https":
        problems.append(f"is not HTTPS (scheme `{scheme or 'none'}`), which GCP requires")
    elif not host:
        problems.append("has no host")
    if query or "?" in uri:
        problems.append("has a query string")
    if fragment or "#" in uri:
        problems.append("has a fragment")
    if problems:
        yield Hit(f"`oidc.issuerUri` `{uri.strip()}` " + "; ".join(problems) + ". It must be the exact HTTPS URL "
                  "the tokens carry in `iss`, without query or fragment", where)


def _federated_members(b):
    return [(m, j) for m, j in b.members if is_federated(m)]


def token_creator_for_federated(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """GCP012: TokenCreator to a federated principal on a service account, where workloadIdentityUser suffices."""
    if policy.level in PROJECT_LEVELS:
        return  # a project-wide grant is GCP011's finding
    for b in policy.bindings:
        if b.role != TOKEN_CREATOR:
            continue
        for m, j in _federated_members(b):
            yield Hit(f"`{TOKEN_CREATOR}` is granted to federated `{m}`: it also allows signJwt, signBlob and "
                      f"getOpenIdToken; `roles/iam.workloadIdentityUser` is all federation needs",
                      policy.loc("bindings", b.index, "members", j))


def _level_note(policy: GcpIamPolicy) -> str:
    if policy.level_source == "assumed":
        return " (level assumed: a `get-iam-policy` output that does not say whose policy it is; set " \
               "`gcp.policy-levels` in the config if it is not a project's)"
    return ""


def project_level_resource_role(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """GCP019: a resource-scoped role (storage, secrets, ...) granted on a whole project, folder or org."""
    if policy.level not in PROJECT_LEVELS:
        return
    roles = tuple(ctx.param("resource_scoped_roles", DEFAULT_RESOURCE_SCOPED_ROLES))
    for b, _m, _j, who in reachable_grants(policy, lambda role: role_matches(role, roles)):
        yield Hit(f"`{b.role}` is granted at {policy.level} level to {who}: it covers every bucket, secret or "
                  f"topic of the {policy.level}; grant it on the one resource instead (bucket-level IAM)"
                  f"{_level_note(policy)}", policy.loc("bindings", b.index, "role"))


def _unique_mapping(expr: str) -> bool | None:
    """Does an attribute mapping identify one Kubernetes workload? None when it is not about Kubernetes."""
    try:
        tree = cel.parse(expr)
    except cel.CelSyntaxError:
        return None
    paths = {cel.claim_path(n) for n in cel.walk(tree)} - {None}
    if ("assertion", "sub") in paths or ("assertion", "kubernetes.io", "serviceaccount", "uid") in paths:
        return True
    has_name = ("assertion", "kubernetes.io", "serviceaccount", "name") in paths
    has_ns = ("assertion", "kubernetes.io", "namespace") in paths
    if has_name and has_ns:
        return True
    if has_name:
        return False
    return None


def _attribute_members(policy: GcpIamPolicy):
    """(binding, member, member index, attribute name, value, parsed principal) for every
    `principalSet://.../attribute.NAME/VALUE` member of the policy."""
    for b in policy.bindings:
        for m, j in b.members:
            attr = attribute_set(m)
            if attr is not None:
                yield b, m, j, attr[0], attr[1], parse_principal(m)


def binding_attribute_not_unique(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """GCP020: a principalSet on an attribute that names a service account but not its namespace."""
    providers = ctx.inventory.of(GcpProvider)
    for b, m, j, name, value, pr in _attribute_members(policy):
        for p in providers_of_pool(providers, pr):
            if not isinstance(p.attribute_mapping, dict):
                continue
            expr = p.attribute_mapping.get(f"attribute.{name}")
            if isinstance(expr, str) and _unique_mapping(expr) is False:
                yield Hit(f"`{m}` selects `attribute.{name}` = `{value}`, which {p.label} maps from "
                          f"`{expr}`, the service-account name alone: a service account named `{value}` in "
                          f"any namespace of the cluster can impersonate; bind "
                          f"`principal://.../subject/system:serviceaccount:<ns>:{value}` or map the attribute "
                          f"from `assertion.sub`", policy.loc("bindings", b.index, "members", j),
                          related=(related(p.src.loc("attributeMapping", f"attribute.{name}"),
                                           f"attribute.{name} mapping in {p.label}"),))
                break


# ---- GCP010: names where immutable IDs exist -------------------------------------------------------------


def _claim_text(path: tuple) -> str:
    """`assertion.sub`, `assertion['kubernetes.io']['namespace']` (brackets from the first non-name on)."""
    out, bracket = path[0], False
    for p in path[1:]:
        bracket = bracket or not p.isidentifier()
        out += f"['{p}']" if bracket else f".{p}"
    return out


def _why_mutable(claim: tuple) -> str:
    if claim == K8S_NAMESPACE:
        return ("a namespace name, which is recycled when the namespace is deleted and created again (or created "
                "in another cluster with the same issuer)")
    return "a name that can be renamed, or deleted and registered again by someone else"


def _immutable_text(claim: tuple) -> str:
    return " or ".join(f"`{_claim_text(c)}`" for c in MUTABLE_CLAIMS[claim])


def mutable_attribute(res: GcpProvider | GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """GCP010: a condition or binding keyed on a renamable or recyclable name where an immutable ID exists."""
    if isinstance(res, GcpProvider):
        yield from _mutable_in_condition(res, ctx)
    else:
        yield from _mutable_in_bindings(res, ctx)


def _mutable_in_condition(p: GcpProvider, ctx: CheckContext) -> Iterator[Hit]:
    tree = _condition_tree(p)
    if tree is None:
        return
    alts = alternatives(tree)
    if alts is None:
        return
    mapping = mapping_claims(p.attribute_mapping)
    atoms = {id(a.node): a for alt in alts for a in alt
             if a.claim and a.claim[0] in ("assertion", "attribute", "google") and a.kind in ("eq", "pattern")}
    read = set().union(*(resolve(a.claim, mapping) for a in atoms.values())) if atoms else set()
    reported = set()
    for a in sorted(atoms.values(), key=lambda a: a.node.start):
        if not a.positive:
            continue  # a negative comparison is a deny-list: GCP002's finding
        for claim in sorted(resolve(a.claim, mapping) & set(MUTABLE_CLAIMS)):
            if claim in reported or any(i in read for i in MUTABLE_CLAIMS[claim]) or _whole_subject(claim, read):
                continue
            reported.add(claim)
            via = "" if a.claim[0] == "assertion" else f" (through `{_claim_text(a.claim)}`, mapped from it)"
            text = p.attribute_condition[a.node.start:a.node.end]
            yield Hit(f"`{text}` keys on `{_claim_text(claim)}`{via}, {_why_mutable(claim)}; pin the immutable "
                      f"{_immutable_text(claim)} instead (or as well)",
                      ctx.substring(p.src, ("attributeCondition",), a.node.start, a.node.end))


def _whole_subject(claim: tuple, read: set) -> bool:
    """A namespace read together with the service-account name (or `sub`) is the Kubernetes subject, which is
    the standard trust and not reported."""
    return claim == K8S_NAMESPACE and bool(read & {K8S_SA_NAME, ("assertion", "sub")})


def _mutable_in_bindings(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    providers = ctx.inventory.of(GcpProvider)
    for b, m, j, name, value, pr in _attribute_members(policy):
        claims = set()
        for p in providers_of_pool(providers, pr):
            claims |= resolve(("attribute", name), mapping_claims(p.attribute_mapping))
        where = policy.loc("bindings", b.index, "members", j)
        if claims:
            mutable = sorted(c for c in claims if c in MUTABLE_CLAIMS and not _whole_subject(c, claims))
            if not mutable or any(i in claims for c in mutable for i in MUTABLE_CLAIMS[c]):
                continue
            yield Hit(f"`{m}` selects `attribute.{name}` = `{value}`, mapped from `{_claim_text(mutable[0])}`, "
                      f"{_why_mutable(mutable[0])}; bind an attribute mapped from the immutable "
                      f"{_immutable_text(mutable[0])} instead", where)
        elif name in MUTABLE_ATTRIBUTE_NAMES:
            yield Hit(f"`{m}` selects `attribute.{name}` = `{value}`, by its name a renamable or recyclable "
                      f"name (its provider is not among the inputs); bind an attribute mapped from the immutable "
                      f"`{MUTABLE_ATTRIBUTE_NAMES[name]}` instead", where)


# ---- GCP011: impersonation roles on a whole project, folder or organization ----------------------------


def _limited_to_resources(condition) -> bool:
    """An IAM condition that pins `resource.name` (e.g. to one service account) in every alternative."""
    expr = condition.get("expression") if isinstance(condition, dict) else None
    if not isinstance(expr, str):
        return False
    try:
        tree = cel.parse(expr)
    except cel.CelSyntaxError:
        return False
    return pins_everywhere(tree, lambda a: a.positive and a.kind in ("eq", "pattern")
                           and a.claim == ("resource", "name") and a.function not in ("endsWith", "contains"))


def impersonation_role_project_level(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """GCP011: workloadIdentityUser, serviceAccountTokenCreator or serviceAccountUser granted on a project,
    folder or organization: every service account there can be impersonated."""
    if policy.level not in PROJECT_LEVELS:
        return
    roles = tuple(ctx.param("impersonation_roles", IMPERSONATION_ROLES))
    agents = tuple(ctx.param("service_agents", DEFAULT_SERVICE_AGENTS))
    for b in policy.bindings:
        if b.role not in roles or _limited_to_resources(b.condition):
            continue
        for m, j in b.members:
            if any(fnmatch.fnmatchcase(m, a) for a in agents):
                continue
            scope = f"every service account of the {policy.level}, including ones created later"
            if is_federated(m):
                msg = (f"`{b.role}` is granted at {policy.level} level to federated `{m}`: whoever holds that "
                       f"external identity can impersonate {scope}, so one federated token becomes any service "
                       f"account's credentials; grant the role on the one service account instead")
            else:
                msg = (f"`{b.role}` is granted at {policy.level} level to `{m}`: it can impersonate {scope} (CIS GCP "
                       f"1.6); grant the role on the one service account instead")
            yield Hit(msg + _level_note(policy), policy.loc("bindings", b.index, "members", j))


# ---- GCP013: project IDs where a project number is required --------------------------------------------


def principal_uses_project_id(res: GcpIamPolicy | GcpExternalAccount, ctx: CheckContext) -> Iterator[Hit]:
    """GCP013: `principal://`/`principalSet://` members and `external_account.audience` naming a pool under a
    project ID instead of the project number."""
    if isinstance(res, GcpExternalAccount):
        yield from _audience_project_id(res)
        return
    for b in res.bindings:
        for m, j in b.members:
            pr = parse_principal(m)
            if pr is None or pr["project"].isdigit() or is_placeholder(pr["project"]):
                continue
            yield Hit(f"`{m}` names the pool under `projects/{pr['project']}`: principal identifiers need the project "
                      f"NUMBER (e.g. `projects/123456789012/...`); with a project ID the binding matches no token",
                      res.loc("bindings", b.index, "members", j))


def _audience_project_id(cfg: GcpExternalAccount) -> Iterator[Hit]:
    import re

    aud = cfg.data.get("audience")
    if not isinstance(aud, str) or is_placeholder(aud):
        return
    m = re.match(r"^//iam\.[^/]+/projects/(?P<project>[^/]+)/locations/[^/]+/workloadIdentityPools/", aud)
    if m is None or m.group("project").isdigit():
        return
    yield Hit(f"`audience` names the pool under `projects/{m.group('project')}`: the STS audience needs the project "
              f"NUMBER (`//iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/"
              f"providers/<provider>`); with a project ID the token exchange fails", cfg.src.loc("audience"),
              anchor=f"{cfg.identity}#audience", sensitive=(cfg.holder or "").startswith("secret"))


# ---- GCP015: GKE identity sameness ---------------------------------------------------------------------

SHARED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
SHARED_SERVICE_ACCOUNTS = ("default",)


def gke_identity_sameness(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """GCP015: GKE workload identity bindings for a namespace or KSA name that exists in every cluster."""
    namespaces = tuple(ctx.param("shared_namespaces", SHARED_NAMESPACES))
    ksas = tuple(ctx.param("shared_service_accounts", SHARED_SERVICE_ACCOUNTS))
    for b in policy.bindings:
        for m, j in b.members:
            g = gke_identity(m)
            if g is None:
                continue
            if g["ns"] in namespaces:
                what = f"namespace `{g['ns']}`, which exists in every cluster"
            elif g["ksa"] in ksas:
                what = f"service account `{g['ksa']}`, which every namespace has"
            else:
                continue
            role = f"`{b.role}`" if b.role else "this role"
            yield Hit(f"`{m}` grants {role} through {what}: in workload identity pool `{g['pool']}` the same "
                      f"namespace and service-account names in any cluster of the project (or fleet) are the same "
                      f"identity; use a dedicated namespace and service account",
                      policy.loc("bindings", b.index, "members", j))
