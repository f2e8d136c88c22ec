"""IAM policy statements and conditions, evaluated the way IAM evaluates them.

Normalises what IAM allows to be written many ways (Statement as object or list; string or list values;
Principal/NotPrincipal; Action/NotAction; operators with `ForAnyValue:`/`ForAllValues:` and `IfExists`;
condition keys compared case-insensitively) and answers questions such as: which constraints apply to
`<issuer>:sub`, does a constraint fail closed when the claim is absent, does a statement admit a token with
subject S and audience A from issuer I (`Statement.admits_token`).

Semantics (IAM docs [R5][R6][R7], rules.md section 4):
- the operators of a Condition, and the keys of one operator, are ANDed; the values of one key are ORed
  (NOR for negated operators: `StringNotEquals` passes only if the value differs from every listed value);
- a missing key makes a positive operator false and a negated one true;
- `...IfExists` is true when the key is missing, else it is the operator without the suffix;
- `ForAllValues:` is true when the key is missing (or has no values), else every request value must match;
- `ForAnyValue:` is false when the key is missing, else at least one request value must match;
- `Null` is true when the key's absence equals the listed `true`/`false`;
- condition-key names compare case-insensitively; values compare case-sensitively, except under
  `...IgnoreCase` operators and `Bool`;
- `StringLike`/`ArnLike` (and `ArnEquals`) treat `*` as any run of characters (`:` and `/` included) and `?`
  as exactly one character; `StringEquals` compares `*` and `?` literally. `${*}`, `${?}` and `${$}` are IAM's
  escapes for a literal `*`, `?` and `$`.
"""

from __future__ import annotations

import re
import string
import weakref
from functools import lru_cache
from typing import Mapping

import msgspec

from xfedlint.model.document import Src
from xfedlint.model.resources import AwsPolicyDocument

_NEGATED = {"StringNotEquals", "StringNotLike", "StringNotEqualsIgnoreCase", "ArnNotEquals", "ArnNotLike",
            "NumericNotEquals", "DateNotEquals", "NotIpAddress"}
_GLOB_OPERATORS = {"StringLike", "StringNotLike", "ArnLike", "ArnNotLike"}
# Positive operator bases that treat `*` and `?` as wildcards when evaluated (IAM: ArnEquals behaves as ArnLike).
_GLOB_MATCHING = {"StringLike", "ArnLike", "ArnEquals"}
# Operators that make a positive, exact-or-pattern claim about a string value.
STRING_MATCHERS = {"StringEquals", "StringLike", "StringEqualsIgnoreCase"}
# String operators that compare `*` and `?` literally.
LITERAL_STRING_OPERATORS = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"}
_STRING_OPERATORS = LITERAL_STRING_OPERATORS | {"StringLike", "StringNotLike"}
_OIDC_PROVIDER = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|[^:]*):oidc-provider/(.+)$")

# Claims every token of an OIDC provider carries when STS accepts it (STS validates `aud`; `sub` is required).
ALWAYS_PRESENT_CLAIMS = frozenset({"sub", "aud"})
# Claims a GitHub Actions token always carries; others (`environment`, `enterprise`, `enterprise_id`, ...)
# are absent from some tokens (a job without an environment, a repository outside an enterprise).
GITHUB_ALWAYS_PRESENT_CLAIMS = frozenset({
    "sub", "aud", "repository", "repository_id", "repository_owner", "repository_owner_id", "repository_visibility",
    "actor", "actor_id", "workflow", "workflow_ref", "workflow_sha", "job_workflow_ref", "job_workflow_sha",
    "ref", "ref_type", "sha", "event_name", "run_id", "run_number", "run_attempt", "runner_environment"})
GITHUB = "token.actions.githubusercontent.com"
# Claims that are lists in a token, so set operators are right for them (Cognito's `amr`).
MULTI_VALUED_CLAIMS = frozenset({"amr"})


class Operator(msgspec.Struct, frozen=True):
    raw: str
    base: str  # StringLike, StringEquals, ...
    set_op: str | None  # ForAnyValue, ForAllValues or None
    if_exists: bool

    @staticmethod
    def parse(raw: str) -> "Operator":
        set_op = None
        rest = raw
        if ":" in raw:
            prefix, rest = raw.split(":", 1)
            if prefix.lower() == "forallvalues":
                set_op = "ForAllValues"
            elif prefix.lower() == "foranyvalue":
                set_op = "ForAnyValue"
        if_exists = rest.endswith("IfExists") and rest != "IfExists"
        base = rest[: -len("IfExists")] if if_exists else rest
        return Operator(raw, base, set_op, if_exists)

    @property
    def negated(self) -> bool:
        return self.base in _NEGATED

    @property
    def unknown(self) -> bool:
        """Left to a template (Terraform `test = var.x`): what it tests cannot be judged statically."""
        return is_placeholder(self.raw)

    @property
    def positive_base(self) -> str:
        """The operator's test without its negation: `StringNotLike` -> `StringLike`."""
        if self.base == "NotIpAddress":
            return "IpAddress"
        return self.base.replace("Not", "", 1) if self.negated else self.base

    @property
    def globbing(self) -> bool:
        return self.base in _GLOB_OPERATORS

    @property
    def literal_string(self) -> bool:
        """A string operator that compares `*` and `?` literally (`StringEquals`, `StringNotEqualsIgnoreCase`...)."""
        return self.base in LITERAL_STRING_OPERATORS

    @property
    def string(self) -> bool:
        return self.base in _STRING_OPERATORS

    @property
    def true_when_missing(self) -> bool:
        """What the operator evaluates to when the request has no such key."""
        if self.base == "Null":
            return False  # judged by its value; treated as not constraining the claim's content
        if self.if_exists or self.set_op == "ForAllValues":
            return True
        if self.set_op == "ForAnyValue":
            return False
        return self.negated

    @property
    def fail_closed(self) -> bool:
        """A positive string match that denies when the claim is absent: a real constraint."""
        return self.base in STRING_MATCHERS and not self.true_when_missing


class Value(msgspec.Struct, frozen=True):
    text: str
    loc_path: tuple  # path of this value relative to the statement's Src


class Constraint(msgspec.Struct, frozen=True):
    """One operator applied to one condition key, with its values (ORed)."""

    operator: Operator
    key: str
    values: tuple  # Value
    key_path: tuple  # path of the key relative to the statement's Src

    def claim_of(self, host: str) -> str | None:
        """The claim name if the key is `<host>:<claim>` (keys compare case-insensitively)."""
        prefix = host.lower() + ":"
        k = self.key.lower()
        return self.key[len(prefix):] if k.startswith(prefix) else None

    @property
    def claim_key(self) -> tuple[str, str] | None:
        """(issuer prefix, claim) when the key names an OIDC claim (`<host/path>:<claim>`), else None."""
        return split_claim_key(self.key)

    def admits(self, value) -> bool:
        """Does this constraint pass for a request whose key has `value` (None: the key is absent)?"""
        return self.evaluate(value)

    def evaluate(self, value) -> bool:
        """IAM's verdict for this constraint when the request's key holds `value`: a string, a list (a
        multi-valued key), or None when the request has no such key."""
        op = self.operator
        values = _request_values(value)
        if op.base == "Null":
            absent = not values
            return any((v.text.lower() == "true") == absent for v in self.values)
        if not values:
            return op.true_when_missing
        base = op.positive_base

        def one(x: str) -> bool:
            matched = any(_match(base, v.text, x) for v in self.values)
            return not matched if op.negated else matched

        if op.set_op == "ForAllValues":
            return all(one(x) for x in values)
        return any(one(x) for x in values)


def _request_values(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_as_text(v) for v in value if v is not None]
    return [_as_text(value)]


def _as_text(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def _match(base: str, pattern: str, value: str) -> bool:
    if base in _GLOB_MATCHING:
        return glob_match(pattern, value)
    if base == "StringEqualsIgnoreCase":
        return pattern.casefold() == value.casefold()
    if base == "Bool":
        return pattern.lower() == value.lower()
    if base.startswith("Numeric"):
        try:
            a, b = float(value), float(pattern)
        except ValueError:
            return False
        return {"NumericEquals": a == b, "NumericLessThan": a < b, "NumericLessThanEquals": a <= b,
                "NumericGreaterThan": a > b, "NumericGreaterThanEquals": a >= b}.get(base, False)
    return pattern == value  # StringEquals, and Date/IP operators compared as text


# IAM's escapes inside a pattern: `${*}` is a literal `*`, `${?}` a literal `?`, `${$}` a literal `$`.
_IAM_ESCAPE = re.compile(r"\$\{([*?$])\}")
_STAR, _ONE = object(), object()


def _glob_tokens(pattern: str, placeholders_as_star: bool = False) -> list:
    """A pattern as a list of literal characters, `_STAR` and `_ONE`."""
    out: list = []
    i = 0
    while i < len(pattern):
        m = _IAM_ESCAPE.match(pattern, i)
        if m:
            out.append(m.group(1))
            i = m.end()
            continue
        if placeholders_as_star:
            m = _PLACEHOLDER.match(pattern, i)
            if m:
                out.append(_STAR)
                i = m.end()
                continue
        ch = pattern[i]
        out.append(_STAR if ch == "*" else _ONE if ch == "?" else ch)
        i += 1
    return out


@lru_cache(maxsize=4096)
def _glob_regex(pattern: str) -> re.Pattern:
    out = []
    for t in _glob_tokens(pattern):
        out.append(".*" if t is _STAR else "." if t is _ONE else re.escape(t))
    return re.compile("".join(out), re.S)


def glob_match(pattern: str, value: str) -> bool:
    """IAM's `StringLike`: `*` matches any run of characters (`:` and `/` included), `?` one character."""
    return _glob_regex(pattern).fullmatch(value) is not None


def has_wildcard(text: str) -> bool:
    """Does `text` hold a `*` or `?` that `StringLike` would treat as a wildcard (IAM escapes excepted)?"""
    if "$" in text:
        text = _IAM_ESCAPE.sub("", text)
    return "*" in text or "?" in text


def literal_prefix(text: str) -> str:
    """The part of a `StringLike` pattern before its first wildcard."""
    out = []
    for t in _glob_tokens(text):
        if t is _STAR or t is _ONE:
            break
        out.append(t)
    return "".join(out)


# --- condition keys -------------------------------------------------------------------------------------

_CLAIM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@lru_cache(maxsize=4096)
def split_claim_key(key: str) -> tuple[str, str] | None:
    """`<host/path>:<claim>` -> (prefix, claim) for an OIDC provider's claim key; None for global keys such as
    `aws:SourceAccount`, `sts:RoleSessionName` or `saml:sub`. The prefix is kept exactly as written, so a
    scheme (`https://...:sub`) or a trailing slash stays visible. Cached: every check asks of every key."""
    prefix, sep, claim = key.rpartition(":")
    if not sep or not prefix or not _CLAIM_NAME.match(claim):
        return None
    if is_placeholder(prefix):
        return prefix, claim
    bare = prefix.split("://", 1)[1] if "://" in prefix else prefix
    if not bare or ":" in bare or bare.split() != [bare]:  # whitespace anywhere
        return None
    if "." not in bare.split("/", 1)[0]:
        return None
    return prefix, claim


def claim_may_be_absent(host: str, claim: str) -> bool:
    """Can a token this provider issues lack `claim`? Conservative: only claims known to be in every token
    (`sub`, `aud`, and GitHub's always-present claims) are assumed present."""
    c = claim.lower()
    if c in ALWAYS_PRESENT_CLAIMS:
        return False
    if host.lower().rstrip("/").split("/", 1)[0] == GITHUB:
        return c not in GITHUB_ALWAYS_PRESENT_CLAIMS
    return True


class FederatedPrincipal(msgspec.Struct, frozen=True):
    arn: str
    account: str | None
    host: str  # what condition keys are prefixed with: the provider's host and path, exactly
    loc_path: tuple
    inferred: bool = False  # the principal is a template placeholder: `host` was read from the condition keys


class Statement(msgspec.Struct, frozen=True):
    src: Src  # the statement object
    effect: str
    federated: tuple  # FederatedPrincipal (OIDC providers only)
    principal_star: bool
    not_principal: bool
    actions: tuple  # lower-cased
    not_action: bool
    constraints: tuple  # Constraint
    templated: bool = False  # a Principal.Federated value is an unrendered template placeholder

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def grants_web_identity(self) -> bool:
        """Does the Action cover sts:AssumeRoleWithWebIdentity (explicitly or by wildcard)?"""
        if self.not_action:
            return "sts:assumerolewithwebidentity" not in self.actions
        return any(glob_match(a, "sts:assumerolewithwebidentity") for a in self.actions)

    def on_claim(self, host: str, claim: str) -> list[Constraint]:
        return [c for c in self.constraints if (c.claim_of(host) or "").lower() == claim.lower()]

    def provider_for(self, prefix: str) -> FederatedPrincipal | None:
        """The federated principal whose keys start with `prefix` (case-insensitively, as IAM compares keys)."""
        p = prefix.lower()
        return next((fp for fp in self.federated if fp.host.lower() == p), None)

    def loc(self, rel: tuple):
        return self.src.loc(*rel)

    def evaluate(self, context: Mapping[str, object]) -> bool:
        """Does the Condition pass for a request with these context keys (names case-insensitive; a value is a
        string, a list for a multi-valued key; a key not in `context` is absent)? Principal and Action are not
        judged here."""
        ctx = {str(k).lower(): v for k, v in context.items()}
        return all(c.evaluate(ctx.get(c.key.lower())) for c in self.constraints)

    def admits_token(self, issuer: str, claims: Mapping[str, object]) -> bool:
        """Does this statement let a web-identity token from `issuer` (URL or host/path) with these claims
        (`{"sub": ..., "aud": ..., "repository": ...}`) assume the role? The statement must be an Allow that
        grants `sts:AssumeRoleWithWebIdentity` to the provider whose URL is exactly the issuer's, and its
        Condition must pass with the claims as `<host/path>:<claim>` keys (other keys absent)."""
        host = issuer.split("://", 1)[1] if "://" in issuer else issuer
        if not (self.allows and self.grants_web_identity()):
            return False
        fp = next((f for f in self.federated if f.host == host), None)
        if fp is None:
            return False
        return self.evaluate({f"{fp.host}:{k}": v for k, v in claims.items()})


def _strings(value, path: tuple) -> list[Value]:
    if isinstance(value, list):
        return [Value(_as_text(v), path + (i,)) for i, v in enumerate(value)
                if v is not None and not isinstance(v, (dict, list))]
    if value is None or isinstance(value, dict):
        return []
    return [Value(_as_text(value), path)]


# `${var}` (Terraform, CloudFormation, shell), `{{ .Values.x }}` (Helm, Go templates), `<ACCOUNT_ID>`, `%VAR%`
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\{\{.*?\}\}|<[A-Za-z_][A-Za-z0-9_ -]*>|%[A-Z_]+%")
_IDENTITY_CLAIMS = ("sub", "aud", "amr")


def is_placeholder(text: str) -> bool:
    """A value left unrendered by a template (`${var}`, `<ACCOUNT_ID>`, `%VAR%`); IAM's `${*}`-style escapes
    are not placeholders."""
    if "$" in text:
        text = _IAM_ESCAPE.sub("", text)
    return bool(_PLACEHOLDER.search(text))


def placeholders(text: str) -> list[str]:
    return [m.group(0) for m in _PLACEHOLDER.finditer(_IAM_ESCAPE.sub("", text))]


def _issuer_of_key(key: str) -> str | None:
    """`token.actions.githubusercontent.com:sub` -> `token.actions.githubusercontent.com`; a templated prefix
    (`${oidc_host}:sub`) is kept as written."""
    split = split_claim_key(key)
    if split and split[1].lower() in _IDENTITY_CLAIMS:
        return split[0]
    return None


_statements_of: "weakref.WeakKeyDictionary[AwsPolicyDocument, tuple]" = weakref.WeakKeyDictionary()


def statements(policy: AwsPolicyDocument) -> tuple[Statement, ...]:
    """The policy's statements, normalised; computed once per policy (every AWS check reads them)."""
    found = _statements_of.get(policy)
    if found is None:
        raw = policy.src.get("Statement")
        items = [(raw, ("Statement",))] if isinstance(raw, dict) else [
            (s, ("Statement", i)) for i, s in enumerate(raw or []) if isinstance(s, dict)]
        found = _statements_of[policy] = tuple(_statement(policy.src.at(*path), st) for st, path in items)
    return found


def _statement(src: Src, st: dict) -> Statement:
    principal = st.get("Principal")
    not_principal = "NotPrincipal" in st
    federated = []
    principal_star = principal == "*"
    templated = False
    if isinstance(principal, dict):
        for ptype, pvalue in principal.items():
            for v in _strings(pvalue, ("Principal", ptype)):
                if ptype == "AWS" and v.text == "*":
                    principal_star = True
                if ptype == "Federated":
                    templated = templated or is_placeholder(v.text)
                    m = _OIDC_PROVIDER.match(v.text)
                    if m:
                        federated.append(FederatedPrincipal(v.text, m.group(1) or None, m.group(2), v.loc_path))
    placeholder_federated = [v for v in _strings((principal or {}).get("Federated") if isinstance(principal, dict)
                                                 else None, ("Principal", "Federated"))
                             if is_placeholder(v.text) and not _OIDC_PROVIDER.match(v.text)]
    action_key = "NotAction" if "NotAction" in st else "Action"
    actions = tuple(v.text.lower() for v in _strings(st.get(action_key), (action_key,)))
    constraints = []
    cond = st.get("Condition")
    if isinstance(cond, dict):
        for op, block in cond.items():
            if not isinstance(block, dict):
                continue
            operator = Operator.parse(str(op))
            for key, value in block.items():
                path = ("Condition", op, key)
                constraints.append(Constraint(operator, str(key), tuple(_strings(value, path)), path))
    if placeholder_federated:
        # `"Federated": "${provider_arn}"` in a template: the condition keys still name the issuer.
        known = {fp.host.lower() for fp in federated}
        hosts = {}
        for c in constraints:
            h = _issuer_of_key(c.key)
            if h and h.lower() not in known:
                hosts.setdefault(h.lower(), h)
        for h in sorted(hosts.values()):
            federated.append(FederatedPrincipal(placeholder_federated[0].text, None, h,
                                                placeholder_federated[0].loc_path, inferred=True))
    return Statement(src=src, effect=str(st.get("Effect", "")), federated=tuple(federated),
                     principal_star=principal_star, not_principal=not_principal, actions=actions,
                     not_action=action_key == "NotAction", constraints=tuple(constraints), templated=templated)


def oidc_trust_statements(policy: AwsPolicyDocument):
    """(statement, federated principal) for every Allow statement that lets an OIDC provider's tokens in."""
    for st in statements(policy):
        if st.allows and st.federated and st.grants_web_identity():
            for fp in st.federated:
                yield st, fp


# --- Kubernetes subjects under IAM patterns -------------------------------------------------------------

_SA_PREFIX = "system:serviceaccount:"
_DNS_CHARS = frozenset(string.ascii_lowercase + string.digits)
# One representative per character class the subject grammar distinguishes, plus the prefix's letters.
_K8S_ALPHABET = tuple(sorted(set(_SA_PREFIX) | {"a", "0", "-", ".", ":", "A"}))


def _k8s_next(state, ch: str):
    """The DFA of issuers.K8S_SUBJECT: `system:serviceaccount:<dns-label>:<dns-subdomain-ish>`."""
    if isinstance(state, int):
        if ch != _SA_PREFIX[state]:
            return None
        return state + 1 if state + 1 < len(_SA_PREFIX) else "ns0"
    alnum = ch in _DNS_CHARS
    if state == "ns0":
        return "ns" if alnum else None
    if state in ("ns", "ns-"):
        if alnum:
            return "ns"
        if ch == "-":
            return "ns-"
        return "name0" if ch == ":" and state == "ns" else None
    if state == "name0":
        return "name" if alnum else None
    if state in ("name", "name-"):
        if alnum:
            return "name"
        return "name-" if ch in "-." else None
    return None


def _literal_tokens(value: str, placeholders_as_star: bool) -> list:
    """A `StringEquals` value as tokens: every character literal, placeholders optionally any text."""
    if not placeholders_as_star:
        return list(value)
    out: list = []
    i = 0
    while i < len(value):
        m = _PLACEHOLDER.match(value, i)
        if m:
            out.append(_STAR)
            i = m.end()
        else:
            out.append(value[i])
            i += 1
    return out


@lru_cache(maxsize=4096)
def k8s_pattern_can_match(value: str, glob: bool, ignore_case: bool = False,
                          placeholders_as_star: bool = False) -> bool:
    """Can `value` (an IAM pattern when `glob`) match any well-formed Kubernetes subject?

    Exact: the pattern's language is intersected with the subject grammar, so `*` may stand for `:` or `/`
    and a pattern is accepted whenever one valid subject matches it. Cached: several rules ask of each."""
    tokens = _glob_tokens(value, placeholders_as_star) if glob else _literal_tokens(value, placeholders_as_star)
    if ignore_case:
        tokens = [t.lower() if isinstance(t, str) else t for t in tokens]
    start = (0, 0)
    seen = {start}
    stack = [start]
    n = len(tokens)
    while stack:
        i, state = stack.pop()
        if i == n:
            if state == "name":
                return True
            continue
        t = tokens[i]
        nxt = []
        if t is _STAR:
            nxt.append((i + 1, state))
            nxt.extend((i, s) for ch in _K8S_ALPHABET if (s := _k8s_next(state, ch)) is not None)
        elif t is _ONE:
            nxt.extend((i + 1, s) for ch in _K8S_ALPHABET if (s := _k8s_next(state, ch)) is not None)
        else:
            s = _k8s_next(state, t)
            if s is not None:
                nxt.append((i + 1, s))
        for item in nxt:
            if item not in seen:
                seen.add(item)
                stack.append(item)
    return False


def k8s_subject_problem(value: str, glob: bool, ignore_case: bool = False, templated: bool = False) -> str | None:
    """Why `value` can never equal a Kubernetes subject `system:serviceaccount:<namespace>:<name>`, or None.

    `glob`: the value is a `StringLike` pattern. `templated`: the document is an unrendered template, so
    placeholders (`${ns}`) stand for any text; otherwise a placeholder is itself the problem."""
    if k8s_pattern_can_match(value, glob, ignore_case, placeholders_as_star=templated):
        return None
    text = value.lower() if ignore_case else value
    if not templated and is_placeholder(value):
        return f"it holds the unrendered template placeholder `{placeholders(value)[0]}`"
    if any(ch.isspace() for ch in value):
        return "it contains whitespace"
    low = text.lower()
    if low.startswith("system:serviceaccounts:") or low.startswith("system:serviceaccounts"):
        return "`system:serviceaccounts:` (plural) begins a group name, never a token subject"
    if text != low and k8s_pattern_can_match(low, glob, placeholders_as_star=templated):
        return "it contains uppercase letters; namespace and service-account names are lowercase"
    if not low.startswith(_SA_PREFIX):
        if not (glob and has_wildcard(low)):
            return f"it does not start with `{_SA_PREFIX}`"
        return f"no subject `{_SA_PREFIX}<namespace>:<name>` matches it"
    rest = low[len(_SA_PREFIX):]
    if rest.count(":") != 1 and not (glob and has_wildcard(rest)):
        return f"`<namespace>:<name>` is expected after `{_SA_PREFIX}`, found `{rest}`"
    if not glob:
        ns, _, name = rest.partition(":")
        if not _DNS_LABEL.match(ns):
            return f"the namespace `{ns}` is not a DNS-1123 label (lowercase letters, digits and `-`)"
        if not _DNS_NAME.match(name):
            return (f"the service-account name `{name}` is not a DNS-1123 name (lowercase letters, digits, `-` "
                    f"and `.`)")
    return "the namespace or the name is not a DNS-1123 name (lowercase letters, digits, `-`, and `.` in names)"


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_NAME = re.compile(r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")


# --- owner scoping for multi-tenant issuers -------------------------------------------------------------

# Subject segments that name the owner, per multi-tenant issuer: (claim prefix, delimiter ending the owner).
# GitHub's default subject is `repo:<owner>/<repo>:...` (or `repo:<owner>@<id>/<repo>@<id>:...`); customised
# subject templates may start with another owner claim.
OWNER_SUBJECT_SEGMENTS = {
    GITHUB: (("repo:", "/"), ("repository:", "/"), ("repository_owner:", ":"), ("repository_owner_id:", ":"),
             ("repository_id:", ":"), ("enterprise:", ":"), ("enterprise_id:", ":"), ("job_workflow_ref:", "/")),
    "gitlab.com": (("project_path:", "/"),),
    "app.terraform.io": (("organization:", ":"),),
    "app.eu.terraform.io": (("organization:", ":"),),
}


def _owner_scope_literal(segments, text: str, glob: bool) -> str:
    wildcard = glob and has_wildcard(text)
    lit = literal_prefix(text) if glob else text
    if segments is None:  # no owner segment known: only an exact subject names one principal
        return "unpinned" if wildcard else "pinned"
    low = lit.lower()
    for prefix, delim in segments:
        if low.startswith(prefix):
            rest = lit[len(prefix):]
            if delim in rest or not wildcard:
                return "pinned"
            return "prefix" if rest else "unpinned"
    return "unpinned"


def subject_owner_scope(issuer: str, value: str, glob: bool) -> str:
    """How a `sub` value of a multi-tenant issuer (`issuer` as listed, e.g. GitHub's host) scopes the owner:

    - "pinned": the owner is named in full (`repo:acme/...`), or the value is an exact subject of an issuer
      without an owner segment;
    - "prefix": a literal owner prefix is followed by a wildcard (`repo:acme*`): other owners that share the
      prefix match (AWS004 reports that);
    - "unpinned": no owner is named (`repo:*`, `*`, `environment:prod`);
    - "unknown": an unrendered template placeholder stands where the owner would be.
    """
    segments = OWNER_SUBJECT_SEGMENTS.get(issuer)
    if not is_placeholder(value):
        return _owner_scope_literal(segments, value, glob)
    verdict = _owner_scope_literal(segments, _PLACEHOLDER.sub("X", value), glob)
    if verdict != "unpinned":
        return verdict  # a placeholder in the owner's place counts as a literal owner
    first = _PLACEHOLDER.search(value)
    before = value[:first.start()] if first else value
    if glob and has_wildcard(before):
        return "unpinned"
    if segments is None:
        return "unknown"
    low = before.lower()
    if any(p.startswith(low) or low.startswith(p) for p, _ in segments):
        return "unknown"
    return "unpinned"


def claim_value_pins_owner(value: str, glob: bool) -> bool:
    """Does an owner claim's value (`repository`, `repository_id`, `project_path`, ...) name one owner?
    Exact values do; a pattern does when its owner part ends before the first wildcard (`acme/*`)."""
    text = _PLACEHOLDER.sub("X", value)
    if not glob or not has_wildcard(text):
        return bool(text)
    owner, sep, _ = literal_prefix(text).partition("/")
    return bool(owner and sep)
