"""Entra federated identity credentials (FICs): issuer forms, subject formats, and the flexible-FIC language.

Entra compares a FIC's `issuer` and `subject` with the token's `iss` and `sub` byte for byte (case-sensitive
since 2024/2025, whitespace and trailing slash included). A flexible FIC replaces `subject` with a
`claimsMatchingExpression` written in the flexible federated identity credential language (FFL, language
version 1): comparisons `claims['<name>'] <op> '<comparand>'` joined by `and`, where `<op>` is `eq` (exact)
or `matches` (a whole-value wildcard match: `*` any run of characters, `?` exactly one). This module parses
that language with character offsets, evaluates it, and judges what a pattern admits for each issuer.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import msgspec

from xfedlint.semantics.issuers import K8S_SUBJECT

# --- issuers ----------------------------------------------------------------------------------------------

GITHUB_HOST = "token.actions.githubusercontent.com"
# Issuers whose tokens Entra can match with a flexible expression, and the claims each one supports
# (Entra docs, "Issuer URLs, supported claims, and operators by platform"). Self-managed GitLab hosts are
# supported when named `gitlab.<anything>.com` or `.ca`; that is `_GITLAB_HOST` below.
FLEXIBLE_CLAIMS = {"github": ("sub", "job_workflow_ref"), "gitlab": ("sub",), "terraform": ("sub",)}
_GITLAB_HOST = re.compile(r"^gitlab\.com$|^gitlab\..+\.(com|ca)$")
_TERRAFORM_HOSTS = ("app.terraform.io", "app.eu.terraform.io")
PLATFORM_NAMES = {"github": "GitHub Actions", "gitlab": "GitLab", "terraform": "HCP Terraform",
                  "aks": "AKS", "eks": "EKS", "gke": "GKE"}


class Issuer(msgspec.Struct, frozen=True):
    """An issuer URL taken apart. `text` is the value with surrounding whitespace removed."""

    text: str
    scheme: str
    host: str  # as written (case kept)
    path: str
    query: str
    fragment: str

    @property
    def canonical(self) -> str:
        """The spelling tokens use: lowercase scheme and host, path as written."""
        return f"{self.scheme.lower()}://{self.host.lower()}{self.path}"

    @property
    def platform(self) -> str | None:
        """github, gitlab, terraform, aks, eks, gke, or None (self-managed or unknown)."""
        host = self.host.lower()
        if host == GITHUB_HOST:
            return "github"
        if _GITLAB_HOST.match(host):
            return "gitlab"
        if host in _TERRAFORM_HOSTS:
            return "terraform"
        if host.endswith(".oic.prod-aks.azure.com"):
            return "aks"
        if host.startswith("oidc.eks.") and (host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn")):
            return "eks"
        if host == "container.googleapis.com" and self.path.startswith("/v1/projects/"):
            return "gke"
        return None


def parse_issuer(value) -> Issuer | None:
    """The parts of an issuer URL, or None when the value is not a string with a `scheme://`."""
    if not isinstance(value, str) or "://" not in value:
        return None
    text = value.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = text.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit("@", 1)[-1]
    scheme = text.split("://", 1)[0]  # as written: urlsplit lowercases it
    return Issuer(text, scheme, host, parts.path, parts.query, parts.fragment)


def issuer_platform(value) -> str | None:
    i = parse_issuer(value)
    return i.platform if i else None


def flexible_platform(value) -> str | None:
    """The platform of an issuer Entra supports for flexible FICs (github, gitlab, terraform), else None.

    Judged on the value without surrounding whitespace or a trailing slash (those are AZ003's findings).
    GitHub is recognised by its host, so an enterprise issuer (`.../<enterprise-slug>`) counts as GitHub.
    """
    i = parse_issuer(value)
    if i is None or i.scheme.lower() != "https" or i.query or i.fragment:
        return None
    platform = i.platform
    if platform == "github":
        return platform
    if platform in ("gitlab", "terraform") and i.path.strip("/") == "":
        return platform
    return None


# --- subjects ---------------------------------------------------------------------------------------------

K8S_PREFIX = "system:serviceaccount:"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")


def looks_kubernetes(subject: str) -> bool:
    return subject.strip().lower().startswith("system:serviceaccount")


def k8s_subject_problem(subject: str) -> str | None:
    """Why `subject` is not a Kubernetes service-account subject (AWS018's regex), or None when it is."""
    if K8S_SUBJECT.match(subject):
        return None
    if subject != subject.strip():
        return "has leading or trailing whitespace, which no token's `sub` has"
    if any(c.isspace() for c in subject):
        return "contains whitespace, which no Kubernetes name can hold"
    lower = subject.lower()
    if K8S_SUBJECT.match(lower):
        upper = ", ".join(f"`{c}`" for c in dict.fromkeys(c for c in subject if c.isupper()))
        return (f"contains uppercase {upper}: Kubernetes namespace and service-account names are lowercase and "
                f"FIC matching is case-sensitive, so it never matches; write `{lower}`")
    if lower.startswith("system:serviceaccounts:"):
        return ("uses `system:serviceaccounts:` (plural), the group of every service account in a namespace, not a "
                "subject: a token's `sub` is always `system:serviceaccount:<namespace>:<name>`")
    if not lower.startswith(K8S_PREFIX):
        return "is not of the form `system:serviceaccount:<namespace>:<name>`, the only `sub` a Kubernetes token carries"
    if not subject.startswith(K8S_PREFIX):
        return f"writes the prefix as `{subject[:len(K8S_PREFIX)]}`: the token's `sub` starts with `{K8S_PREFIX}`"
    rest = subject[len(K8S_PREFIX):].split(":")
    if len(rest) != 2:
        return (f"has {len(rest)} part(s) after `{K8S_PREFIX}` instead of two (`<namespace>:<name>`); names never "
                f"contain `:`")
    ns, name = rest
    if not _DNS_LABEL.match(ns):
        return f"has namespace `{ns}`, which is not a valid Kubernetes namespace name (a lowercase DNS-1123 label)"
    if not _DNS_SUBDOMAIN.match(name):
        return f"has service-account name `{name}`, which is not a valid Kubernetes name (a lowercase DNS-1123 name)"
    return "is not a valid `system:serviceaccount:<namespace>:<name>` subject"


_GH_NAME = re.compile(r"^([A-Za-z0-9._-]+)(?:@(\d+))?$")


# Claim names GitHub may place after `repo:<owner>/<repo>:` (default contexts and customised templates).
_GITHUB_CONTEXT_KEYS = ("ref", "environment", "pull_request", "job_workflow_ref", "context", "ref_type",
                        "workflow", "workflow_ref", "actor", "actor_id", "event_name", "repository_owner",
                        "repository_owner_id", "repository_id", "repository_visibility", "runner_environment",
                        "head_ref", "base_ref", "job_workflow_sha", "enterprise", "enterprise_id")


def github_subject_problem(subject: str) -> str | None:
    """What makes `subject` impossible for a GitHub Actions token, judged from the value alone."""
    if subject != subject.strip():
        return "has leading or trailing whitespace, which no GitHub `sub` has"
    if subject.lower().startswith("repo:") and not subject.startswith("repo:"):
        return f"starts with `{subject[:5]}`: GitHub writes the claim name in lowercase (`repo:`)"
    if not subject.startswith("repo:"):
        return None  # a customised subject template; its format is the repository's choice
    head, _, context = subject[len("repo:"):].partition(":")
    owner, slash, repo = head.partition("/")
    if not slash:
        return f"has `repo:{head}` without `/`: GitHub's `repo` value is always `<owner>/<repository>`"
    for what, part in (("owner", owner), ("repository", repo)):
        if not _GH_NAME.match(part):
            return (f"has {what} `{part}`: GitHub {what} names hold only letters, digits, `-`, `_` and `.` (with "
                    f"`@<numeric id>` in the immutable form)")
    key, _, after = context.partition(":")
    if key.lower() in _GITHUB_CONTEXT_KEYS and key != key.lower():
        return f"writes `{key}` after the repository: GitHub writes it in lowercase (`{key.lower()}`)"
    if key == "ref" and after.lower().startswith("refs/"):
        kind = after[5:].split("/", 1)[0]
        if kind.lower() in ("heads", "tags", "pull") and not after.startswith(f"refs/{kind.lower()}/"):
            return f"writes `{after.split('/', 2)[0]}/{kind}/`: Git ref prefixes are lowercase (`refs/{kind.lower()}/`)"
    return None


def gitlab_subject_kind(subject: str) -> str | None:
    """`project_path` or `project_id`: what a GitLab `sub` leads with."""
    for kind in ("project_path", "project_id"):
        if subject.startswith(kind + ":"):
            return kind
    return None


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


# --- the flexible FIC expression language (FFL) -------------------------------------------------------------

OPERATORS = ("matches", "eq")


class FflSyntaxError(ValueError):
    def __init__(self, message: str, start: int, end: int):
        super().__init__(f"{message} at offset {start}")
        self.message = message
        self.start = start
        self.end = end


class Comparison(msgspec.Struct, frozen=True):
    claim: str
    op: str  # matches | eq
    value: str  # the comparand, unquoted
    start: int  # offsets into the expression: the whole `claims['x'] op 'y'`
    end: int
    claim_start: int  # the claim-name literal, quotes included
    claim_end: int
    value_start: int  # the comparand literal, quotes included
    value_end: int


class Expression(msgspec.Struct, frozen=True):
    text: str
    comparisons: tuple  # of Comparison, all joined by `and`


class _Tok(msgspec.Struct, frozen=True):
    kind: str  # word, string, lbrack, rbrack, eof
    value: str
    start: int
    end: int


_TYPOGRAPHIC = "\u2018\u2019\u201c\u201d"  # ‘ ’ “ ”


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "[":
            out.append(_Tok("lbrack", c, i, i + 1))
            i += 1
        elif c == "]":
            out.append(_Tok("rbrack", c, i, i + 1))
            i += 1
        elif c == "'":
            j, chars = i + 1, []
            while True:
                if j >= n:
                    raise FflSyntaxError("unterminated string (a comparand must end with `'`)", i, n)
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":  # a doubled quote stands for one quote
                        chars.append("'")
                        j += 2
                        continue
                    break
                chars.append(text[j])
                j += 1
            out.append(_Tok("string", "".join(chars), i, j + 1))
            i = j + 1
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            out.append(_Tok("word", text[i:j], i, j))
            i = j
        elif c in _TYPOGRAPHIC:
            raise FflSyntaxError(f"typographic quote `{c}` (copied from formatted text): strings are delimited by "
                                 f"the ASCII single quote `'`", i, i + 1)
        elif c == '"':
            raise FflSyntaxError("double quote: strings are delimited by single quotes `'`", i, i + 1)
        else:
            raise FflSyntaxError(f"unexpected character `{c}`", i, i + 1)
    out.append(_Tok("eof", "", n, n))
    return out


def parse(text: str) -> Expression:
    """Parse a claimsMatchingExpression value. Raises FflSyntaxError with the offsets of the fault."""
    toks = _tokens(text)
    pos = 0

    def peek() -> _Tok:
        return toks[pos]

    def take(kind: str, what: str, value: str | None = None) -> _Tok:
        nonlocal pos
        t = toks[pos]
        if t.kind != kind or (value is not None and t.value != value):
            found = "the end of the expression" if t.kind == "eof" else f"`{text[t.start:t.end]}`"
            raise FflSyntaxError(f"expected {what}, found {found}", t.start, max(t.end, t.start + 1))
        pos += 1
        return t

    comparisons = []
    while True:
        first = take("word", "`claims['<name>']`", "claims")
        take("lbrack", "`[` after `claims`")
        name = take("string", "a quoted claim name, as in `claims['sub']`")
        take("rbrack", "`]` after the claim name")
        op = peek()
        if op.kind != "word" or op.value not in OPERATORS:
            found = "the end of the expression" if op.kind == "eof" else f"`{text[op.start:op.end]}`"
            raise FflSyntaxError(f"expected an operator (`matches` or `eq`), found {found}", op.start,
                                 max(op.end, op.start + 1))
        pos += 1
        comparand = take("string", f"a single-quoted comparand after `{op.value}`")
        comparisons.append(Comparison(name.value, op.value, comparand.value, first.start, comparand.end,
                                      name.start, name.end, comparand.start, comparand.end))
        t = peek()
        if t.kind == "eof":
            break
        if t.kind == "word" and t.value == "and":
            pos += 1
            continue
        if t.kind == "word" and t.value.lower() in ("or", "not"):
            raise FflSyntaxError(f"unsupported operator `{t.value}`: the language joins comparisons with `and` only",
                                 t.start, t.end)
        raise FflSyntaxError(f"expected `and` or the end of the expression, found `{text[t.start:t.end]}`",
                             t.start, t.end)
    return Expression(text, tuple(comparisons))


def glob_match(pattern: str, value: str) -> bool:
    """`matches`: the whole value against `*` (any run, empty included) and `?` (exactly one character)."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.DOTALL) is not None


def evaluate(expr: Expression, claims: dict) -> bool:
    """Whether a token with `claims` satisfies the expression (a missing or non-string claim fails)."""
    for c in expr.comparisons:
        v = claims.get(c.claim)
        if not isinstance(v, str):
            return False
        if c.op == "eq" and v != c.value:
            return False
        if c.op == "matches" and not glob_match(c.value, v):
            return False
    return True


# --- what an expression admits ------------------------------------------------------------------------------


class Issue(msgspec.Struct, frozen=True):
    severity: str
    start: int  # offsets into the expression text
    end: int
    message: str


def _literal_prefix(pattern: str) -> str:
    i = min([p for p in (pattern.find("*"), pattern.find("?")) if p >= 0], default=len(pattern))
    return pattern[:i]


def _pattern_risk(platform: str, claim: str, pattern: str) -> tuple[str, str] | None:
    """(severity, what it admits) for a `matches` pattern on a supported claim, None when narrow enough."""
    if not has_wildcard(pattern):
        return None
    who = {"github": "every repository on GitHub", "gitlab": "every project on this GitLab instance",
           "terraform": "every workspace of every HCP Terraform organization"}[platform]
    if pattern.strip("*?") == "":
        return "error", f"any `{claim}` at all: {who}"
    if pattern[0] in "*?":
        return "error", f"values that merely end the same way, from any owner ({who})"
    literal = _literal_prefix(pattern)
    if platform == "github" and claim == "sub":
        return _github_sub_risk(pattern, literal)
    if platform == "github" and claim == "job_workflow_ref":
        return _workflow_ref_risk(literal)
    if platform == "gitlab" and claim == "sub":
        return _gitlab_sub_risk(literal)
    if platform == "terraform" and claim == "sub":
        return _terraform_sub_risk(literal)
    return None


def _evil(literal: str) -> str:
    """An example of a foreign value the wildcard admits: the literal part followed by `-evil`."""
    return f"{literal}-evil"


def _github_sub_risk(pattern: str, literal: str) -> tuple[str, str] | None:
    if not pattern.startswith("repo:"):
        return None  # a customised subject template: its owner-scoping is not judged here
    owner, slash, rest = literal[len("repo:"):].partition("/")
    if not slash:
        if owner == "":
            return "error", "every repository of every owner on GitHub"
        return "error", (f"repositories of other owners: `repo:{owner}` followed by anything (e.g. "
                         f"`{_evil('repo:' + owner)}/app`), because the wildcard comes before the `/` that ends the "
                         f"owner")
    repo, colon, context = rest.partition(":")
    if not colon:
        if repo == "":
            return "warning", f"every repository of `{owner}`, including ones created later"
        return "warning", f"every repository of `{owner}` whose name starts with `{repo}`, including ones created later"
    if context == "" and pattern[len(literal):].strip("*") == "":
        return "warning", (f"every branch, tag, pull request and environment of `{owner}/{repo}`: environment "
                           f"protection rules no longer gate this credential")
    return None


def _workflow_ref_risk(literal: str) -> tuple[str, str] | None:
    """`job_workflow_ref` is `<owner>/<repo>/<path>@<ref>`; judged only when no `sub` comparison scopes the owner."""
    owner, slash, rest = literal.partition("/")
    if not slash:
        return "error", (f"reusable workflows of other owners: `{owner}` followed by anything (e.g. "
                         f"`{_evil(owner)}/repo/...`), and no `sub` comparison limits the owner")
    if "/" not in rest:
        return "warning", (f"workflows of every repository of `{owner}`"
                           + (f" whose name starts with `{rest}`" if rest else "") + ", including ones created later")
    return None


def _gitlab_sub_risk(literal: str) -> tuple[str, str] | None:
    if literal.startswith("project_path:"):
        path = literal[len("project_path:"):]
        if "/" not in path:
            if path == "":
                return "error", "every project of every group on this GitLab instance"
            return "error", (f"projects of other groups: `project_path:{path}` followed by anything (e.g. "
                             f"`{_evil('project_path:' + path)}/app`), because the wildcard comes before the `/` "
                             f"that ends the group")
        if ":" not in path:
            group, _, start = path.rpartition("/")
            return "warning", (f"every project under `{group}`" + (f" whose name starts with `{start}`" if start else "")
                               + ", subgroups and projects created later included")
        return None
    if literal.startswith("project_id:"):
        pid = literal[len("project_id:"):]
        if ":" not in pid:
            if pid == "":
                return "error", "every project on this GitLab instance"
            return "error", (f"other projects whose ID merely starts with `{pid}` (e.g. `{pid}0`): the wildcard is not "
                             f"preceded by `:`")
    return None


def _terraform_sub_risk(literal: str) -> tuple[str, str] | None:
    """`organization:<org>:project:<project>:workspace:<workspace>:run_phase:<phase>`."""
    if not literal.startswith("organization:"):
        return None
    parts = literal[len("organization:"):].split(":")
    k = len(parts) - 1  # the segment the wildcard sits in
    if k == 0:
        if parts[0] == "":
            return "error", "every HCP Terraform organization"
        return "error", (f"organizations whose name merely starts with `{parts[0]}` (e.g. `{_evil(parts[0])}`): the "
                         f"wildcard is not preceded by `:`")
    if k <= 2:
        return "warning", f"every project and workspace of organization `{parts[0]}`"
    if k <= 4:
        return "warning", f"every workspace of project `{parts[2]}` in organization `{parts[0]}`"
    return None


def expression_issues(expr: Expression, platform: str) -> list[Issue]:
    """Findings on each comparison of a parsed expression for a supported flexible issuer."""
    out: list[Issue] = []
    supported = FLEXIBLE_CLAIMS[platform]
    name = PLATFORM_NAMES[platform]
    has_sub_owner = any(c.claim == "sub" for c in expr.comparisons)
    for c in expr.comparisons:
        shown = expr.text[c.start:c.end]
        if c.claim not in supported:
            out.append(Issue("error", c.start, c.end,
                             f"`{shown}` compares claim `{c.claim}`, which Entra does not support for {name} "
                             f"tokens (supported: {', '.join(f'`{s}`' for s in supported)}); the credential is "
                             f"rejected or never matches"))
            continue
        if c.op == "eq":
            if has_wildcard(c.value):
                out.append(Issue("error", c.start, c.end,
                                 f"`{shown}` uses `eq`, which compares literally: the `*`/`?` in `{c.value}` is not a "
                                 f"wildcard there, so no token matches; use `matches` for a pattern"))
            continue
        if c.claim == "job_workflow_ref" and has_sub_owner:
            continue  # the `sub` comparison decides which owners are admitted
        risk = _pattern_risk(platform, c.claim, c.value)
        if risk:
            severity, what = risk
            out.append(Issue(severity, c.start, c.end, f"`{shown}` admits {what}"))
    return out
