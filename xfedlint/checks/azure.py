"""Azure checks: federated identity credentials and role assignments."""

from __future__ import annotations

import json
import re
from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.model.resources import AzureFederatedCredential, AzureRoleAssignment
from xfedlint.semantics import azure_fic
from xfedlint.semantics.aws_policy import is_placeholder
from xfedlint.semantics.azure_fic import (
    K8S_PREFIX,
    PLATFORM_NAMES,
    flexible_platform,
    github_subject_problem,
    gitlab_subject_kind,
    has_wildcard,
    issuer_platform,
    k8s_subject_problem,
    looks_kubernetes,
    parse_issuer,
)
from xfedlint.semantics.azure_scope import (
    describe_status,
    federation_status,
    restricts_assignable_roles,
    scope_level,
)
from xfedlint.semantics.issuers import (
    AZURE_AUDIENCES,
    K8S_SUBJECT,
    is_kubernetes_issuer,
    parse_github_subject,
)


def fic_audience(fic: AzureFederatedCredential, ctx: CheckContext) -> Iterator[Hit]:
    """AZ001: exactly one audience, and it should be the cloud's token-exchange audience."""
    expected = tuple(ctx.param("expected_audiences", AZURE_AUDIENCES))
    aud = fic.audiences
    if aud is None:
        if fic.flavor == "arm":
            return  # `az identity federated-credential` fills in the default audience
        yield Hit(f"{fic.label} has no `audiences`; Entra requires exactly one (`{expected[0]}`)",
                  fic.loc(), severity="error")
        return
    if len(aud) != 1:
        yield Hit(f"{fic.label} has {len(aud)} audiences {aud}; Entra requires exactly one "
                  f"(\"Federated identity credentials must have exactly one audience\")",
                  fic.loc("audiences"), severity="error")
        return
    value = aud[0]
    if isinstance(value, str) and is_placeholder(value):
        return  # supplied by a template (Terraform `var.audience`): cannot be judged statically
    if value not in expected:
        yield Hit(f"{fic.label} accepts audience `{value}`, not the token-exchange audience `{expected[0]}`: the "
                  f"workload must mint its token for this custom audience", fic.loc("audiences", 0), severity="warning")


def _privileged(a: AzureRoleAssignment, ctx: CheckContext) -> str | None:
    names = {n.lower(): n for n in ctx.param("privileged_roles", {})}
    guids = {g.lower(): n for n, g in ctx.param("privileged_roles", {}).items()}
    if a.role_name and a.role_name.lower() in names:
        return names[a.role_name.lower()]
    suffix = (a.role_definition_id or "").rsplit("/", 1)[-1].lower()
    return guids.get(suffix)


def _scope_loc(a: AzureRoleAssignment):
    return a.loc("scope")


def privileged_role_broad_scope(a: AzureRoleAssignment, ctx: CheckContext) -> Iterator[Hit]:
    """AZ010: Owner, Contributor, User Access Administrator or RBAC Administrator on a federated principal,
    at root, management-group or subscription scope (error) or resource-group scope (warning)."""
    role = _privileged(a, ctx)
    level = scope_level(a.scope)
    if role is None or level not in ("root", "management-group", "subscription", "resource-group"):
        return
    status = federation_status(a, ctx.inventory)
    if status == "not-federated" or (status == "unknown" and level == "resource-group"):
        return
    severity = "error" if status == "federated" and level != "resource-group" else "warning"
    yield Hit(f"`{role}` is assigned to {describe_status(status)} (principal {a.principal_id}) at "
              f"{level} scope `{a.scope}`: whoever can present a matching token controls everything there",
              _scope_loc(a), severity=severity, anchor=a.identity)


def role_broad_scope(a: AzureRoleAssignment, ctx: CheckContext) -> Iterator[Hit]:
    """AZ012: any role at root, management-group or whole-subscription scope for a federated principal."""
    level = scope_level(a.scope)
    if level not in ("root", "management-group", "subscription"):
        return
    status = federation_status(a, ctx.inventory)
    if status == "not-federated":
        return
    yield Hit(f"`{a.role_label}` is assigned to {describe_status(status)} (principal {a.principal_id}) at "
              f"{level} scope `{a.scope}`: scope it to the resource it needs (e.g. the storage account's ID)",
              _scope_loc(a), anchor=a.identity)


# --- federated identity credentials: issuer, subject, flexible expression (AZ002-AZ008) -------------------


def issuer_anchor(fic: AzureFederatedCredential) -> str:
    """AZ003's anchor. rules.md 0.1: AZ003 is reported instead of X002 when the chain breaks on this
    credential's issuer spelling, so X002 anchors such a near miss with this same string."""
    return f"{fic.identity}#issuer"


def _subject_anchor(fic: AzureFederatedCredential) -> str:
    """AZ004 and AZ005 both judge the subject; AZ004 (wildcards) supersedes AZ005 on the same anchor."""
    return f"{fic.identity}#subject"


def _show(value: str) -> str:
    """A value for a message: as-is, or quoted when surrounding whitespace would be invisible."""
    return f"`{value}`" if value == value.strip() else repr(value)


def fic_issuer_not_https(fic: AzureFederatedCredential, ctx: CheckContext) -> Iterator[Hit]:
    """AZ002: the issuer must be an https URL with no query or fragment (OIDC discovery)."""
    value = fic.issuer
    if value is None:
        return
    loc = fic.loc("issuer")
    if not isinstance(value, str):
        yield Hit(f"{fic.label} has `issuer` {_json(value)}, not a string: it must be an https URL", loc)
        return
    text = value.strip()
    if not text:
        yield Hit(f"{fic.label} has an empty `issuer`: it must be the https URL of the token's issuer", loc)
        return
    scheme, sep, rest = text.partition("://")
    if not sep:
        if is_placeholder(text):
            return  # an unrendered template value
        yield Hit(f"{fic.label} has `issuer` `{text}` without the `https://` scheme: Entra compares it byte for byte "
                  f"with the token's `iss`, which is an https URL, and fetches OpenID discovery from it", loc)
        return
    if is_placeholder(scheme):
        return
    issuer = parse_issuer(value)
    problems = []
    if scheme.lower() != "https":
        problems.append(f"uses `{scheme}://`: Entra fetches the issuer's OpenID discovery document and keys over "
                        f"HTTPS only, so the exchange fails")
    if issuer is not None and issuer.query:
        problems.append(f"has a query (`?{issuer.query}`), which an OpenID issuer identifier must not have")
    if issuer is not None and issuer.fragment:
        problems.append(f"has a fragment (`#{issuer.fragment}`), which an OpenID issuer identifier must not have")
    if issuer is not None and not issuer.host and not problems:
        problems.append("has no host")
    if problems:
        yield Hit(f"{fic.label} has `issuer` `{text}` that " + "; and ".join(problems), loc)


_NO_SLASH_PLATFORMS = ("github", "eks", "gke", "gitlab", "terraform")


def fic_issuer_exact_match(fic: AzureFederatedCredential, ctx: CheckContext) -> Iterator[Hit]:
    """AZ003: issuer spellings that can never equal the token's `iss` byte for byte."""
    value = fic.issuer
    if not isinstance(value, str) or not value.strip():
        return
    problems = []
    if value != value.strip():
        problems.append("has leading or trailing whitespace, so the token exchange is blocked")
    issuer = parse_issuer(value)
    if issuer is not None and not is_placeholder(issuer.host):
        platform = issuer.platform
        name = PLATFORM_NAMES.get(platform or "", "")
        if issuer.scheme != issuer.scheme.lower():
            problems.append(f"writes the scheme as `{issuer.scheme}://`; tokens carry `https://`")
        if platform and issuer.host != issuer.host.lower():
            problems.append(f"writes the {name} host as `{issuer.host}`; the token's `iss` has `{issuer.host.lower()}` "
                            f"and matching is case-sensitive")
        text = issuer.text
        if platform == "github" and text.endswith("/"):
            problems.append(f"ends with `/`, but GitHub's `iss` is `{issuer.canonical.rstrip('/')}` without it: the exchange "
                            f"fails with AADSTS70021 (no matching federated identity record)")
        elif platform == "aks" and not text.endswith("/"):
            problems.append(f"lacks the trailing `/` of an AKS issuer: the cluster's tokens carry `iss` = "
                            f"`{issuer.canonical}/`, "
                            f"and Entra no longer matches the credential without it")
        elif platform in _NO_SLASH_PLATFORMS and text.endswith("/"):
            problems.append(f"ends with `/`, but the {name} issuer `{issuer.canonical.rstrip('/')}` has no trailing "
                            f"slash")
    if problems:
        yield Hit(f"{fic.label} has `issuer` {_show(value)} that " + "; and ".join(problems), fic.loc("issuer"),
                  anchor=issuer_anchor(fic))


def _flexible_hint(fic: AzureFederatedCredential) -> str:
    platform = flexible_platform(fic.issuer)
    if platform:
        return (f"use exact subjects, or a flexible credential (`claimsMatchingExpression` with `matches`), which "
                f"{PLATFORM_NAMES[platform]} tokens support")
    if isinstance(fic.issuer, str) and is_kubernetes_issuer(fic.issuer) or (
            isinstance(fic.subject, str) and looks_kubernetes(fic.subject)):
        return ("create one credential per service account (`system:serviceaccount:<namespace>:<name>`); flexible "
                "credentials do not support Kubernetes issuers")
    return "create one credential per exact subject"


def fic_wildcard_in_subject(fic: AzureFederatedCredential, ctx: CheckContext) -> Iterator[Hit]:
    """AZ004: `*` or `?` in `subject` is compared literally, so the credential never matches."""
    subject = fic.subject
    if not isinstance(subject, str) or not has_wildcard(subject):
        return
    chars = " and ".join(f"`{c}`" for c in "*?" if c in subject)
    yield Hit(f"{fic.label} has `subject` `{subject}` containing {chars}: Entra does not support wildcards in a "
              f"federated credential, so the value is compared literally and no token ever matches; "
              f"{_flexible_hint(fic)}", fic.loc("subject"), anchor=_subject_anchor(fic))


def fic_subject_case_or_format(fic: AzureFederatedCredential, ctx: CheckContext) -> Iterator[Hit]:
    """AZ005: a subject that the issuer can never put in `sub` (Kubernetes format and case; GitHub spelling)."""
    subject = fic.subject
    if not isinstance(subject, str) or not subject or is_placeholder(subject):
        return
    issuer = fic.issuer if isinstance(fic.issuer, str) else ""
    platform = issuer_platform(issuer)
    problem = None
    kind = ""
    if is_kubernetes_issuer(issuer) or (platform != "github" and looks_kubernetes(subject)):
        problem, kind = k8s_subject_problem(subject), "Kubernetes"
    elif platform == "github":
        problem, kind = github_subject_problem(subject), "GitHub Actions"
    if problem:
        yield Hit(f"{fic.label} has {kind} `subject` {_show(subject)} that {problem}", fic.loc("subject"),
                  anchor=_subject_anchor(fic))


def _json(value) -> str:
    """A value as the input wrote it (JSON spelling), for messages."""
    return json.dumps(value, ensure_ascii=False)


def _expression_rel(fic: AzureFederatedCredential) -> tuple:
    return fic.rel + ("claimsMatchingExpression",)


def fic_flexible_expression(fic: AzureFederatedCredential, ctx: CheckContext) -> Iterator[Hit]:
    """AZ006: the flexible-FIC `claimsMatchingExpression`: exclusivity, language version, issuer support,
    syntax, and what each `matches` pattern admits."""
    expr = fic.expression
    if expr is None:
        return
    key_loc = fic.src.loc(*_expression_rel(fic), key=True)
    if fic.subject is not None:
        yield Hit(f"{fic.label} sets both `subject` and `claimsMatchingExpression`; they are mutually exclusive "
                  f"(set `subject` to null for a flexible credential)", fic.loc("subject"), severity="error")
    if fic.flavor == "arm":
        yield Hit(f"{fic.label} is a user-assigned managed identity credential with `claimsMatchingExpression`: "
                  f"flexible credentials on managed identities need a recent ARM API version (introduced in "
                  f"2025-01-31-preview); verify the API version your tooling uses", key_loc, severity="note")
    if not isinstance(expr, dict):
        yield Hit(f"{fic.label} has `claimsMatchingExpression` {_json(expr)}, not an object: it must be "
                  f"`{{\"value\": \"<expression>\", \"languageVersion\": 1}}`", fic.loc("claimsMatchingExpression"),
                  severity="error")
        return
    version = expr.get("languageVersion")
    version_ok = not isinstance(version, bool) and (version == 1 or version == "1")
    if not version_ok:
        where = fic.loc("claimsMatchingExpression", "languageVersion") if "languageVersion" in expr else key_loc
        shown = "is missing" if "languageVersion" not in expr else f"is `{_json(version)}`"
        yield Hit(f"{fic.label}: `claimsMatchingExpression.languageVersion` {shown}; the only language version is "
                  f"`1`", where, severity="error")
    issuer = fic.issuer
    platform = flexible_platform(issuer)
    if platform is None and isinstance(issuer, str) and issuer.strip() and not is_placeholder(issuer):
        why = ("Kubernetes issuers are not supported" if is_kubernetes_issuer(issuer)
               else "only GitHub Actions, GitLab and HCP Terraform issuers are")
        yield Hit(f"{fic.label} has a `claimsMatchingExpression` for issuer {_show(issuer)}, which Entra does not "
                  f"support for flexible credentials ({why}: `https://token.actions.githubusercontent.com`, "
                  f"`https://gitlab.com` or `https://gitlab.<name>.com|.ca`, `https://app.terraform.io`, "
                  f"`https://app.eu.terraform.io`)", fic.loc("issuer"), severity="error")
    value = expr.get("value")
    value_rel = _expression_rel(fic) + ("value",)
    if not isinstance(value, str) or not value.strip():
        where = fic.loc("claimsMatchingExpression", "value") if "value" in expr else key_loc
        yield Hit(f"{fic.label}: `claimsMatchingExpression.value` is empty or missing: it must be an expression such "
                  f"as `claims['sub'] eq '<subject>'`", where, severity="error")
        return
    try:
        parsed = azure_fic.parse(value)
    except azure_fic.FflSyntaxError as e:
        yield Hit(f"{fic.label}: `claimsMatchingExpression.value` `{value}` does not parse: {e.message} (offset "
                  f"{e.start}); the language is `claims['<name>'] matches|eq '<comparand>'` joined by `and`",
                  ctx.substring(fic.src, value_rel, e.start, e.end), severity="error")
        return
    if platform is None:
        return
    for issue in azure_fic.expression_issues(parsed, platform):
        yield Hit(f"{fic.label}: {issue.message}", ctx.substring(fic.src, value_rel, issue.start, issue.end),
                  severity=issue.severity)


def _mutable_github(subject: str) -> str | None:
    """The name-based parts of a GitHub `repo:<owner>/<repo>:...` subject (or pattern), or None when both the
    owner and the repository carry their immutable `@<id>`."""
    parts = parse_github_subject(subject)
    if parts is None:
        return None
    mutable = []
    if parts["owner_id"] is None:
        mutable.append(f"owner `{parts['owner']}`")
    if parts["repo_id"] is None and not has_wildcard(parts["repo"]):
        mutable.append(f"repository `{parts['repo']}`")
    return " or ".join(mutable) or None


def fic_mutable_subject(fic: AzureFederatedCredential, ctx: CheckContext) -> Iterator[Hit]:
    """AZ007: subjects built from names that can be renamed, deleted and claimed again."""
    issuer = fic.issuer if isinstance(fic.issuer, str) else ""
    platform = issuer_platform(issuer)
    subject = fic.subject
    if isinstance(subject, str) and subject:
        if platform == "github" and not is_placeholder(subject):
            mutable = _mutable_github(subject)
            if mutable:
                yield Hit(f"{fic.label} trusts the name-based GitHub subject `{subject}`: if {mutable} is renamed, "
                          f"transferred or deleted, whoever takes the name gets tokens with this subject; use the "
                          f"immutable form `repo:<owner>@<ownerId>/<repo>@<repoId>:...`", fic.loc("subject"),
                          severity="warning")
        elif platform == "gitlab" and gitlab_subject_kind(subject) == "project_path" and not is_placeholder(subject):
            yield Hit(f"{fic.label} trusts the GitLab subject `{subject}`, which leads with the mutable "
                      f"`project_path`: a renamed or recreated group or project can reproduce it; have the project "
                      f"lead its subject with `project_id` (`ci_id_token_sub_claim_components`) and trust "
                      f"`project_id:<id>:...`", fic.loc("subject"), severity="warning")
        elif ctx.param("kubernetes_note", True) and subject.startswith(K8S_PREFIX) and (
                K8S_SUBJECT.match(subject) or is_placeholder(subject)):
            yield Hit(f"{fic.label} trusts the Kubernetes subject `{subject}`: namespace and service-account names "
                      f"are recyclable (deleting and recreating them reproduces the subject); delete the credential "
                      f"when the service account goes away", fic.loc("subject"), severity="note")
    expr = fic.expression
    if platform not in ("github", "gitlab") or not isinstance(expr, dict) or not isinstance(expr.get("value"), str):
        return
    try:
        parsed = azure_fic.parse(expr["value"])
    except azure_fic.FflSyntaxError:
        return  # AZ006 reports it
    value_rel = _expression_rel(fic) + ("value",)
    for c in parsed.comparisons:
        if c.claim != "sub" or is_placeholder(c.value):
            continue
        shown = parsed.text[c.start:c.end]
        where = ctx.substring(fic.src, value_rel, c.start, c.end)
        if platform == "github":
            mutable = _mutable_github(c.value)
            if mutable:
                yield Hit(f"{fic.label}: `{shown}` matches name-based GitHub subjects: if {mutable} is renamed, "
                          f"transferred or deleted, whoever takes the name gets matching tokens; match the immutable "
                          f"form `repo:<owner>@<ownerId>/<repo>@<repoId>:...`", where, severity="warning")
        elif gitlab_subject_kind(c.value) == "project_path":
            yield Hit(f"{fic.label}: `{shown}` matches GitLab subjects that lead with the mutable `project_path`; "
                      f"match `project_id:<id>:...` instead", where, severity="warning")


def _parent_key(fic: AzureFederatedCredential) -> tuple:
    """Which app or managed identity a credential belongs to. The parent's resource ID when the input has it;
    else the document: one `list` output (or one `--parameters` file) holds one parent's credentials."""
    if fic.parent:
        return ("parent", fic.parent.lower())
    return ("document", fic.src.file, fic.src.doc.index)


def _parent_label(fic: AzureFederatedCredential) -> str:
    if fic.parent:
        return f"`{fic.parent.rsplit('/', 1)[-1]}` ({fic.parent})"
    return f"the application or identity whose credentials `{fic.src.file}` lists"


_FIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")


def _name_loc(fic: AzureFederatedCredential):
    return fic.src.loc("name") if fic.src.get("name") is not None else fic.loc()


def _position(fic: AzureFederatedCredential) -> tuple:
    return fic.src.order  # as written, without computing positions

def fic_limits(ctx: CheckContext) -> Iterator[Hit]:
    """AZ008: Entra's hard limits on federated credentials: 20 per app or managed identity, unique
    (issuer, subject) per parent, `name` format, `issuer`/`subject` length."""
    limit = int(ctx.param("max_per_parent", 20))
    max_len = int(ctx.param("max_length", 600))
    fics = sorted(ctx.inventory.of(AzureFederatedCredential), key=_position)
    groups: dict[tuple, list] = {}
    for fic in fics:
        group = groups.setdefault(_parent_key(fic), [])
        same = (fic.name, fic.issuer, fic.subject, repr(fic.expression))
        if any((g.name, g.issuer, g.subject, repr(g.expression)) == same and g.src.file != fic.src.file
               for g in group):
            continue  # the same credential exported twice
        group.append(fic)
    for members in groups.values():
        if len(members) > limit:
            extra = members[limit]
            yield Hit(f"{_parent_label(extra)} has {len(members)} federated identity credentials; Entra allows at "
                      f"most {limit} per application or user-assigned managed identity, so {extra.label} (number "
                      f"{limit + 1}) cannot be added; consolidate (one identity per workload, or a flexible "
                      f"credential where the issuer supports it)", _name_loc(extra),
                      related=(related(members[0].loc(), "the first credential of this parent"),))
        seen: dict[tuple, AzureFederatedCredential] = {}
        for fic in members:
            if not isinstance(fic.issuer, str) or not isinstance(fic.subject, str):
                continue
            pair = (fic.issuer, fic.subject)
            if pair in seen:
                first = seen[pair]
                yield Hit(f"{fic.label} repeats the (`issuer`, `subject`) pair of {first.label} on the same parent "
                          f"(`{fic.issuer}`, `{fic.subject}`): Entra requires the pair to be unique per application "
                          f"or managed identity", fic.loc("subject"),
                          related=(related(first.loc("subject"), f"{first.label} has the same pair"),))
            else:
                seen[pair] = fic
    for fic in fics:
        name = fic.name
        if name is None:
            if fic.flavor == "params":
                yield Hit(f"{fic.label} has no `name`; Entra requires one (3-120 characters, letters, digits, `-`, "
                          f"`_`)", fic.loc())
        elif not is_placeholder(name) and not _FIC_NAME.match(name):
            yield Hit(f"{fic.label} has `name` `{name}` that {_name_problem(name)}: Entra requires 3-120 characters "
                      f"from `A-Z a-z 0-9 - _`, the first one alphanumeric", _name_loc(fic))
        for key in ("issuer", "subject"):
            value = getattr(fic, key)
            if isinstance(value, str) and len(value) > max_len:
                yield Hit(f"{fic.label} has `{key}` of {len(value)} characters; Entra allows at most {max_len}",
                          fic.loc(key))


def _name_problem(name: str) -> str:
    if len(name) < 3:
        return f"is {len(name)} character{'s' if len(name) != 1 else ''} long"
    if len(name) > 120:
        return f"is {len(name)} characters long"
    bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "-_"))})
    if bad:
        return "contains " + ", ".join(f"`{c}`" for c in bad)
    return f"starts with `{name[0]}`"


# --- role assignments (AZ011) -------------------------------------------------------------------------------


def _admin_role(a: AzureRoleAssignment, ctx: CheckContext) -> str | None:
    roles = ctx.param("admin_roles", {})
    names = {n.lower(): n for n in roles}
    guids = {str(g).lower(): n for n, g in roles.items()}
    if a.role_name and a.role_name.lower() in names:
        return names[a.role_name.lower()]
    return guids.get((a.role_definition_id or "").rsplit("/", 1)[-1].lower())


def _condition_loc(a: AzureRoleAssignment):
    """The `condition` value when the input has the key; else the role the assignment names."""
    fields = a.src.get(*a.rel)
    if isinstance(fields, dict) and "condition" in fields:
        return a.loc("condition")
    for rel in (("roleDefinitionName",), a.rel + ("roleDefinitionName",), a.rel + ("roleDefinitionId",)):
        if a.src.get(*rel) is not None:
            return a.src.loc(*rel)
    return a.src.loc()


def rbac_admin_without_condition(a: AzureRoleAssignment, ctx: CheckContext) -> Iterator[Hit]:
    """AZ011: User Access Administrator / RBAC Administrator on a federated principal without a condition
    that limits which roles it may assign."""
    role = _admin_role(a, ctx)
    if role is None:
        return
    status = federation_status(a, ctx.inventory)
    if status == "not-federated":
        return
    condition = a.condition
    if isinstance(condition, str) and condition.strip():
        if restricts_assignable_roles(condition):
            return
        what = ("has a `condition` that does not test "
                "`@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId]`, so it does not limit which "
                "roles can be assigned")
    else:
        what = "has no `condition`"
    yield Hit(f"`{role}` is assigned to {describe_status(status)} (principal {a.principal_id}) at `{a.scope}` and "
              f"{what}: whoever presents a matching token can grant any role, Owner included, to any principal; add "
              f"a delegation condition that constrains the assignable roles (and principals)", _condition_loc(a))
