"""IAM policy statements and conditions, evaluated the way IAM evaluates them.

Normalises what IAM allows to be written many ways (Statement as object or list; string or list values;
Principal/NotPrincipal; Action/NotAction; operators with `ForAnyValue:`/`ForAllValues:` and `IfExists`;
condition keys compared case-insensitively) and answers questions such as: which constraints apply to
`<issuer>:sub`, does a constraint fail closed when the claim is absent, does a value admit a subject.

Semantics (IAM docs, rules.md section 4): operators and keys are ANDed, values of one key ORed (NOR for
negated operators); a missing key makes a positive operator false and a negated one true; `IfExists` and
`ForAllValues` are true when the key is missing; `ForAnyValue` is false.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from xfedlint.model.document import Src
from xfedlint.model.resources import AwsPolicyDocument

_NEGATED = {"StringNotEquals", "StringNotLike", "StringNotEqualsIgnoreCase", "ArnNotEquals", "ArnNotLike",
            "NumericNotEquals", "DateNotEquals", "NotIpAddress"}
_GLOB_OPERATORS = {"StringLike", "StringNotLike", "ArnLike", "ArnNotLike"}
# Operators that make a positive, exact-or-pattern claim about a string value.
STRING_MATCHERS = {"StringEquals", "StringLike", "StringEqualsIgnoreCase"}
_OIDC_PROVIDER = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|[^:]*):oidc-provider/(.+)$")


@dataclass(frozen=True)
class Operator:
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
    def globbing(self) -> bool:
        return self.base in _GLOB_OPERATORS

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


@dataclass(frozen=True)
class Value:
    text: str
    loc_path: tuple  # path of this value relative to the statement's Src


@dataclass(frozen=True)
class Constraint:
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

    def admits(self, value: str | None) -> bool:
        """Does this constraint pass for a request whose key has `value` (None: the key is absent)?"""
        if value is None:
            return self.operator.true_when_missing
        base = self.operator.base.replace("Not", "") if self.operator.negated else self.operator.base
        matched = any(_match(base, v.text, value) for v in self.values)
        return not matched if self.operator.negated else matched


def _match(base: str, pattern: str, value: str) -> bool:
    if base in ("StringLike", "ArnLike"):
        return glob_match(pattern, value)
    if base == "StringEqualsIgnoreCase":
        return pattern.lower() == value.lower()
    return pattern == value


@lru_cache(maxsize=4096)
def _glob_regex(pattern: str) -> re.Pattern:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("".join(out), re.S)


def glob_match(pattern: str, value: str) -> bool:
    """IAM's `StringLike`: `*` matches any run of characters (`:` and `/` included), `?` one character."""
    return _glob_regex(pattern).fullmatch(value) is not None


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


@dataclass(frozen=True)
class FederatedPrincipal:
    arn: str
    account: str | None
    host: str  # what condition keys are prefixed with: the provider's host and path, exactly
    loc_path: tuple


@dataclass(frozen=True)
class Statement:
    src: Src  # the statement object
    effect: str
    federated: tuple  # FederatedPrincipal (OIDC providers only)
    principal_star: bool
    not_principal: bool
    actions: tuple  # lower-cased
    not_action: bool
    constraints: tuple  # Constraint

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

    def loc(self, rel: tuple):
        return self.src.loc(*rel)


def _strings(value, path: tuple) -> list[Value]:
    if isinstance(value, list):
        return [Value(str(v), path + (i,)) for i, v in enumerate(value) if v is not None and not isinstance(v, (dict, list))]
    if value is None or isinstance(value, dict):
        return []
    return [Value(str(value).lower() if isinstance(value, bool) else str(value), path)]


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[A-Za-z_][A-Za-z0-9_ -]*>|%[A-Z_]+%")
_IDENTITY_CLAIMS = ("sub", "aud", "amr")


def is_placeholder(text: str) -> bool:
    """A value left unrendered by a template (`${var}`, `<ACCOUNT_ID>`, `%VAR%`)."""
    return bool(_PLACEHOLDER.search(text))


def _issuer_of_key(key: str) -> str | None:
    """`token.actions.githubusercontent.com:sub` -> `token.actions.githubusercontent.com`."""
    host, sep, claim = key.rpartition(":")
    if sep and claim.lower() in _IDENTITY_CLAIMS and ("." in host or "/" in host) and not is_placeholder(host):
        return host
    return None


def statements(policy: AwsPolicyDocument) -> list[Statement]:
    raw = policy.src.get("Statement")
    items = [(raw, ("Statement",))] if isinstance(raw, dict) else [
        (s, ("Statement", i)) for i, s in enumerate(raw or []) if isinstance(s, dict)]
    return [_statement(policy.src.at(*path), st) for st, path in items]


def _statement(src: Src, st: dict) -> Statement:
    principal = st.get("Principal")
    not_principal = "NotPrincipal" in st
    federated = []
    principal_star = principal == "*"
    if isinstance(principal, dict):
        for ptype, pvalue in principal.items():
            for v in _strings(pvalue, ("Principal", ptype)):
                if ptype == "AWS" and v.text == "*":
                    principal_star = True
                if ptype == "Federated":
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
        for host in sorted({h for c in constraints if (h := _issuer_of_key(c.key))}):
            federated.append(FederatedPrincipal(placeholder_federated[0].text, None, host,
                                                placeholder_federated[0].loc_path))
    return Statement(src=src, effect=str(st.get("Effect", "")), federated=tuple(federated),
                     principal_star=principal_star, not_principal=not_principal, actions=actions,
                     not_action=action_key == "NotAction", constraints=tuple(constraints))


def oidc_trust_statements(policy: AwsPolicyDocument):
    """(statement, federated principal) for every Allow statement that lets an OIDC provider's tokens in."""
    for st in statements(policy):
        if st.allows and st.federated and st.grants_web_identity():
            for fp in st.federated:
                yield st, fp
