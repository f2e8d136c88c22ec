"""What a GCP attribute condition really admits: weak matches on identity claims, found in the CEL tree.

CEL string functions are not anchored the way people read them: `startsWith('prod')` admits `prod-evil`,
`endsWith`/`contains` admit any owner, and `matches` is an unanchored RE2 partial match (the conformance
suite has `'hubba'.matches('ubb') == true`).

Beyond single calls, a condition is read as a disjunction of alternatives (its disjunctive normal form,
`!` pushed down to the comparisons): an alternative made only of `!=`/`!` comparisons is a deny-list, one
without any comparison admits every token, and for a multi-tenant issuer one that pins no owner claim
admits every repository or project on the platform that meets it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from xfedlint.semantics import cel

K8S_SUBJECT = "system:serviceaccount:"
DELIMITERS = ("/", ":")
K8S_NAMESPACE = ("assertion", "kubernetes.io", "namespace")
K8S_SA_NAME = ("assertion", "kubernetes.io", "serviceaccount", "name")
K8S_SA_UID = ("assertion", "kubernetes.io", "serviceaccount", "uid")
ROOTS = ("assertion", "attribute", "google")

# Claims that name who a token is for (rules.md GCP002: "comparisons on identity claims"). Claims that
# describe an event inside one owner's repository (`ref`, `event_name`, `environment`, ...) are not judged
# by the pattern rules; they still count for the deny-list and owner analyses.
IDENTITY_CLAIMS = frozenset({
    "sub", "aud", "azp", "email", "hd", "arn", "account",
    "repository", "repository_id", "repository_owner", "repository_owner_id", "enterprise", "enterprise_id",
    "job_workflow_ref", "workflow_ref", "actor", "actor_id",
    "namespace_path", "namespace_id", "project_path", "project_id", "user_login", "user_id", "ci_config_ref_uri",
    "terraform_organization_id", "terraform_organization_name", "terraform_workspace_id",
    "terraform_workspace_name", "terraform_project_id", "terraform_project_name",
})
DNF_LIMIT = 256  # alternatives; beyond this a condition is not analysed as a whole


class Weakness(NamedTuple):
    severity: str
    start: int  # offsets into the expression text
    end: int
    message: str


# ---- attribute mappings ----------------------------------------------------------------------------------


def mapping_claims(attribute_mapping) -> dict:
    """`attribute.X` / `google.Y` -> the `assertion` claim paths its mapping expression reads (empty when the
    expression reads no claim or is not valid CEL: unknown)."""
    out: dict = {}
    if not isinstance(attribute_mapping, dict):
        return out
    for key, expr in attribute_mapping.items():
        if not isinstance(expr, str):
            continue
        try:
            tree = cel.parse(expr)
        except cel.CelSyntaxError:
            out[str(key)] = frozenset()
            continue
        paths = {p for p in (cel.claim_path(n) for n in cel.walk(tree)) if p and p[0] == "assertion" and len(p) > 1}
        # keep whole paths: `assertion['kubernetes.io']['namespace']`, not also its prefix `assertion['kubernetes.io']`
        out[str(key)] = frozenset(p for p in paths if not any(q[:len(p)] == p and q != p for q in paths))
    return out


def resolve(path: tuple, mapping: dict) -> frozenset:
    """The `assertion` claims a condition path stands for: itself, or what its attribute is mapped from."""
    if path[0] == "assertion":
        return frozenset({path})
    return mapping.get(".".join(path[:2]), frozenset())


def is_identity_path(path: tuple | None, mapping: dict | None = None) -> bool:
    if not path or path[0] not in ROOTS or len(path) < 2:
        return False
    if path[0] == "assertion":
        return path[1] in IDENTITY_CLAIMS or path[1] == "kubernetes.io"
    claims = resolve(path, mapping or {})
    return not claims or any(is_identity_path(c) for c in claims)  # unknown mapping: assume identity


def is_identity_claim(path: tuple | None) -> bool:
    """Any claim-like path (`assertion.*`, `attribute.*`, `google.*`)."""
    return bool(path) and path[0] in ROOTS and len(path) > 1


def _text(expr: str, node: cel.Node) -> str:
    return expr[node.start:node.end]


# ---- alternatives (disjunctive normal form) ------------------------------------------------------------


class Atom(NamedTuple):
    """One comparison, with the polarity it has in its alternative (`!=` is a negative equality)."""

    node: cel.Node
    positive: bool
    kind: str  # eq (==, in), pattern (startsWith, endsWith, contains, matches), presence (has), other
    claim: tuple | None = None  # the claim path compared
    values: tuple = ()  # the literal strings compared with (eq) or the pattern argument
    function: str | None = None


def _string_literals(node: cel.Node) -> tuple | None:
    if isinstance(node, cel.Literal) and node.kind in ("string", "int", "uint"):
        return (str(node.value),)
    if isinstance(node, cel.ListLit) and all(isinstance(i, cel.Literal) for i in node.items):
        return tuple(str(i.value) for i in node.items)
    return None


def call_parts(node: cel.Node) -> tuple | None:
    """(target, function, argument) of `x.f(arg)` or `matches(x, arg)`."""
    if not isinstance(node, cel.Call):
        return None
    if node.target is not None and len(node.args) == 1:
        return node.target, node.function, node.args[0]
    if node.target is None and node.function == "matches" and len(node.args) == 2:
        return node.args[0], node.function, node.args[1]
    return None


def _atom(node: cel.Node, positive: bool) -> Atom:
    if isinstance(node, cel.Binary) and node.op in ("==", "!=", "in"):
        for side, other in ((node.left, node.right), (node.right, node.left)):
            path = cel.claim_path(side)
            if path and len(path) > 1:
                values = _string_literals(other) or ()
                return Atom(node, positive if node.op != "!=" else not positive, "eq", path, values)
    parts = call_parts(node)
    if parts and parts[1] in ("startsWith", "endsWith", "contains", "matches"):
        path = cel.claim_path(parts[0])
        if path and len(path) > 1:
            lit = parts[2]
            values = (str(lit.value),) if isinstance(lit, cel.Literal) and lit.kind == "string" else ()
            return Atom(node, positive, "pattern", path, values, parts[1])
    if isinstance(node, cel.Call) and node.function == "has" and node.target is None:
        return Atom(node, positive, "presence", cel.claim_path(node.args[0]) if node.args else None)
    return Atom(node, positive, "other")


def _constant(node: cel.Node) -> bool | None:
    if isinstance(node, cel.Literal) and node.kind == "bool":
        return bool(node.value)
    if isinstance(node, cel.Binary) and node.op in ("==", "!=") and isinstance(node.left, cel.Literal) \
            and isinstance(node.right, cel.Literal):
        same = node.left.kind == node.right.kind and node.left.value == node.right.value
        return same if node.op == "==" else not same
    return None


class _TooLarge(Exception):
    pass


def _product(parts: list) -> list:
    out: list = [[]]
    for alternatives in parts:
        out = [a + b for a in out for b in alternatives]
        if len(out) > DNF_LIMIT:
            raise _TooLarge
    return out


def _dnf(node: cel.Node, positive: bool) -> list:
    while isinstance(node, cel.Unary) and node.op == "!":  # iterative: `!!!!x` chains can be long
        positive = not positive
        node = node.operand
    if isinstance(node, cel.Binary) and node.op in ("&&", "||"):
        parts = [_dnf(o, positive) for o in cel.flatten(node, node.op)]
        if (node.op == "&&") == positive:
            return _product(parts)
        out = [alt for p in parts for alt in p]
        if len(out) > DNF_LIMIT:
            raise _TooLarge
        return out
    if isinstance(node, cel.Conditional):
        # c ? t : e  ==  (c && t) || (!c && e); negated: (c && !t) || (!c && !e)
        out = _product([_dnf(node.cond, True), _dnf(node.then, positive)]) + \
            _product([_dnf(node.cond, False), _dnf(node.otherwise, positive)])
        if len(out) > DNF_LIMIT:
            raise _TooLarge
        return out
    const = _constant(node)
    if const is not None:
        return [[]] if const == positive else []
    return [[_atom(node, positive)]]


def alternatives(tree: cel.Node) -> list | None:
    """The condition as a list of alternatives, each a list of Atoms that must all hold; None when too large."""
    try:
        return _dnf(tree, True)
    except (_TooLarge, RecursionError):
        return None


def significant(alternative: list) -> list:
    """The atoms that constrain a token (a bare `has(...)` does not)."""
    return [a for a in alternative if a.kind != "presence"]


def is_trivially_true(tree: cel.Node) -> bool:
    """`true`, `1 == 1`, `'a' == 'a'`, `has(assertion.sub)`, `x || true`, `!false`: conditions that admit
    every token (one alternative constrains nothing)."""
    alts = alternatives(tree)
    return alts is not None and any(not significant(a) for a in alts)


def pins_everywhere(tree: cel.Node, pins) -> bool:
    """Does every alternative of the condition hold an atom that `pins(atom)` accepts?"""
    alts = alternatives(tree)
    return alts is not None and all(any(pins(a) for a in alt) for alt in alts)


# ---- owners of multi-tenant issuers ------------------------------------------------------------------


def owner_claims_for(issuer_key: str) -> tuple:
    from xfedlint.semantics.issuers import MULTI_TENANT_OWNER_CLAIMS

    return tuple(MULTI_TENANT_OWNER_CLAIMS.get(issuer_key, ()))


def _owner_in_subject(value: str, prefix: str | None, pattern: bool, regex: bool = False) -> bool:
    """Does a `sub` value (or a pattern's literal start) name an owner after the issuer's subject prefix?
    A pattern needs only a non-empty owner (a missing delimiter is the pattern rules' finding)."""
    if prefix is None:  # the issuer's subject is one account (accounts.google.com, Cognito): it pins
        return True
    if not value.startswith(prefix):
        return False
    rest = value[len(prefix):]
    if regex:  # stop at the pattern's metacharacters, `.` included
        rest = re.split(r"[.*?\[\]()|\\^$+{}]", rest, maxsplit=1)[0]
    owner = re.match(r"[^/:*?\[\]()|\\^$+{}]+([/:])?", rest)
    return owner is not None and (pattern or owner.group(1) is not None)


def pins_owner(atom: Atom, issuer_key: str, mapping: dict) -> bool:
    """A positive comparison on one of the issuer's owner claims (or an owner-scoped subject)."""
    from xfedlint.semantics.issuers import OWNER_SUBJECT_PREFIX

    if not atom.positive or atom.kind not in ("eq", "pattern") or atom.claim is None or atom.claim[0] not in ROOTS:
        return False
    claims = resolve(atom.claim, mapping)
    if not claims:
        return True  # an attribute whose mapping is unknown: give it the benefit of the doubt
    owners = owner_claims_for(issuer_key)
    prefix = OWNER_SUBJECT_PREFIX.get(issuer_key)
    for c in claims:
        if len(c) == 2 and c[1] in owners:
            return True
        if c == ("assertion", "sub") and atom.values:
            if atom.kind == "pattern" and atom.function in ("endsWith", "contains"):
                continue
            values = [v.lstrip("^") for v in atom.values] if atom.function == "matches" else atom.values
            regex = atom.function == "matches"
            if all(_owner_in_subject(v, prefix, atom.kind == "pattern", regex) for v in values):
                return True
    return False


# ---- the findings ------------------------------------------------------------------------------------


def _describe(atoms: list, alts: list, render) -> tuple[int, int, str, str]:
    """Span, text (`a` && `b` && ...) and name ("The condition" / "The alternative") of one alternative."""
    start, end = min(a.node.start for a in atoms), max(a.node.end for a in atoms)
    text = " && ".join(f"`{render(a)}`" for a in atoms[:3]) + (" && ..." if len(atoms) > 3 else "")
    return start, end, text, "The condition" if len(alts) == 1 else "The alternative"


def weaknesses(expr: str, tree: cel.Node, mapping: dict | None = None, multi_tenant: str | None = None) -> list:
    """Every weak spot of an attribute condition. `mapping` comes from `mapping_claims`; `multi_tenant` is
    the multi-tenant issuer (as listed in issuers.py) the provider trusts, if any."""
    mapping = mapping or {}
    out: list[Weakness] = []
    for node in _positive_nodes(tree):
        parts = call_parts(node)
        if parts is None:
            continue
        target, fn, arg = parts
        claim = cel.claim_path(target)
        if not is_identity_path(claim, mapping) or not (isinstance(arg, cel.Literal) and arg.kind == "string"):
            continue
        lit = str(arg.value)
        subject = _text(expr, target)
        call = _text(expr, node)
        if fn == "startsWith":
            out.extend(_starts_with(subject, call, lit, node))
        elif fn in ("endsWith", "contains"):
            out.append(Weakness("error", node.start, node.end,
                                f"`{call}` admits any value that {'ends with' if fn == 'endsWith' else 'contains'} "
                                f"`{lit}`, from any owner (e.g. `evil{lit}`); compare `{subject}` with `==`"))
        elif fn == "matches":
            out.extend(_matches(subject, call, lit, node))
    alts = alternatives(tree)
    if alts is None:
        return out
    whole_true = any(not significant(a) for a in alts)
    if not whole_true:  # an always-true condition is GCP001's finding
        out.extend(_always_true_branches(expr, tree))
    deny = []
    for alt in alts:
        s = significant(alt)
        if s and all(not a.positive for a in s) and any(a.claim for a in s):
            deny.append(s)
    reported = set()
    for s in deny:
        key = tuple(sorted(id(a.node) for a in s))
        if key in reported:
            continue
        reported.add(key)
        start, end, what, scope = _describe(s, alts, lambda a: _negated_text(expr, a))
        out.append(Weakness("error", start, end,
                            f"{scope} {what} is a deny-list: it admits every token except the ones it names; "
                            f"list what is allowed with `==` instead"))
    if multi_tenant and not whole_true:
        ownerless = _ownerless(expr, alts, deny, mapping, multi_tenant)
        spans = {(w.start, w.end) for w in ownerless}
        # one problem, one finding: `sub.startsWith('repo:')` is reported as owner-less, not also as owner-wide
        out = [w for w in out if (w.start, w.end) not in spans] + ownerless
    return out


def _positive_nodes(tree: cel.Node):
    """The nodes not under a `!`: a negated `startsWith` narrows a condition (it is a deny-list, reported as
    such), it does not widen it."""
    stack = [(tree, False)]
    while stack:
        n, negated = stack.pop()
        if not negated:
            yield n
        flip = isinstance(n, cel.Unary) and n.op == "!"
        stack.extend((c, negated != flip) for c in reversed(cel.children(n)))


def _negated_text(expr: str, atom: Atom) -> str:
    """How a negative atom reads: `a != 'x'` for a negated `==`, `!a.startsWith('x')`, `!(a in [...])`."""
    node, text = atom.node, _text(expr, atom.node)
    if atom.positive:
        return text
    if isinstance(node, cel.Binary) and node.op == "!=":
        return text
    if isinstance(node, cel.Binary) and node.op == "==":
        return f"{_text(expr, node.left)} != {_text(expr, node.right)}"
    return f"!{text}" if isinstance(node, cel.Call) else f"!({text})"


def _ownerless(expr: str, alts: list, deny: list, mapping: dict, issuer_key: str) -> list:
    out = []
    denied = {tuple(sorted(id(a.node) for a in s)) for s in deny}
    seen = set()
    owners = ", ".join(f"`{c}`" for c in owner_claims_for(issuer_key))
    for alt in alts:
        s = significant(alt)
        key = tuple(sorted(id(a.node) for a in s))
        if not s or key in denied or key in seen or any(pins_owner(a, issuer_key, mapping) for a in s):
            continue
        seen.add(key)
        start, end, text, scope = _describe(s, alts, lambda a: _text(expr, a.node))
        out.append(Weakness("error", start, end,
                            f"{scope} {text} pins no owner of multi-tenant issuer `{issuer_key}` (none of {owners}, "
                            f"nor an owner-scoped `sub`): a token from any repository or project on that platform "
                            f"that meets it is accepted; add e.g. `assertion.repository_owner_id == '<id>'`"))
    return out


def _always_true_branches(expr: str, tree: cel.Node) -> list:
    """`||` operands that are always true inside a condition that is not: they defeat their siblings."""
    out = []
    par = cel.parents(tree)
    for node in _positive_nodes(tree):
        if not (isinstance(node, cel.Binary) and node.op == "||"):
            continue
        parent = par.get(id(node))
        if isinstance(parent, cel.Binary) and parent.op == "||":
            continue  # handled from the top of the chain
        operands = cel.flatten(node, "||")
        for o in operands:
            alts = alternatives(o)
            if alts is None or not any(not significant(a) for a in alts):
                continue
            others = " || ".join(f"`{_text(expr, x)}`" for x in operands if x is not o)
            what = "only checks that a claim is present" if any(alt and not significant(alt) for alt in alts) \
                and not any(not alt for alt in alts) else "is always true"
            out.append(Weakness("error", o.start, o.end,
                                f"`{_text(expr, o)}` {what}, so the `||` it belongs to admits every token: "
                                f"{others} is not enforced; remove this branch"))
    return out


def _starts_with(subject: str, call: str, prefix: str, node: cel.Node) -> list:
    if K8S_SUBJECT.startswith(prefix) or prefix == K8S_SUBJECT:
        return [Weakness("error", node.start, node.end,
                         f"`{call}` admits every service account in every namespace of the cluster; compare "
                         f"`{subject}` with `==` to one `system:serviceaccount:<namespace>:<name>`")]
    if not prefix.endswith(DELIMITERS):
        return [Weakness("error", node.start, node.end,
                         f"`{call}` has no delimiter after `{prefix}`: it also admits `{prefix}-evil` and anything "
                         f"else that merely starts the same way; use `{subject} == '{prefix}'`")]
    scope = "namespace" if prefix.startswith(K8S_SUBJECT) else "owner"
    return [Weakness("warning", node.start, node.end,
                     f"`{call}` admits every identity under `{prefix}` ({scope}-wide), including ones created "
                     f"later; prefer an exact `==` match")]


# ---- regular expressions (RE2 syntax) ------------------------------------------------------------------


def _regex_scan(pattern: str):
    """(index, char, in_class, escaped) for each character of a regular expression."""
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            yield i, pattern[i + 1], in_class, True
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            yield i, c, True, False
            i += 1
            continue
        if c == "[":
            yield i, c, False, False
            in_class = True
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":  # a leading `]` is a literal member
                i += 1
            continue
        yield i, c, False, False
        i += 1


def is_anchored(pattern: str) -> bool:
    """`^...$` (or `\\A...\\z`) with no top-level `|` that would detach an anchor from the other branch."""
    starts = pattern.startswith("^") or pattern.startswith("\\A")
    depth, last = 0, None
    for i, c, in_class, escaped in _regex_scan(pattern):
        last = (i, c, escaped)
        if in_class or escaped:
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return False
    if last is None:
        return False
    ends = (last[1] == "$" and not last[2]) or (last[1] == "z" and last[2])
    return starts and ends


def bare_dots(pattern: str) -> list:
    """Offsets of unescaped `.` outside classes that are not followed by a quantifier: meant literally (a
    domain, a version), they match any character."""
    out = []
    for i, c, in_class, escaped in _regex_scan(pattern):
        if c == "." and not in_class and not escaped:
            nxt = pattern[i + 1:i + 2]
            if nxt not in ("*", "+", "?", "{"):
                out.append(i)
    return out


_LITERAL_REGEX_CHARS = re.compile(r"[A-Za-z0-9_:/@\-=,;'\"<>~!%&#` ]")


def literal_prefix(pattern: str) -> tuple[str, str]:
    """The literal text an anchored pattern starts with (`^repo:acme/.*$` -> `repo:acme/`) and the rest."""
    body = pattern[1:] if pattern.startswith("^") else pattern
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and not body[i + 1].isalnum():
            out.append(body[i + 1])
            i += 2
            continue
        if _LITERAL_REGEX_CHARS.match(c) and body[i + 1:i + 2] not in ("*", "+", "?", "{"):
            out.append(c)
            i += 1
            continue
        break
    return "".join(out), body[i:]


def _matches(subject: str, call: str, pattern: str, node: cel.Node) -> list:
    dots = bare_dots(pattern)
    dot_note = ""
    if dots:
        sample = pattern[:dots[0]] + "X" + pattern[dots[0] + 1:]
        dot_note = (f"its unescaped `.` matches any character (`{sample.strip('^$')}` matches too): write `\\\\.` "
                    f"for a literal dot")
    if not is_anchored(pattern) and pattern.startswith("^") and pattern.endswith("$"):
        return [Weakness("error", node.start, node.end,
                         f"`{call}` is only partly anchored: a top-level `|` splits the anchors (`^a|b$` means "
                         f"`(^a)|(b$)`), so one branch is an unanchored partial match; group the alternatives: "
                         f"`^(...|...)$`" + (f"; also, {dot_note}" if dot_note else ""))]
    if not is_anchored(pattern):
        return [Weakness("error", node.start, node.end,
                         f"`{call}` is an unanchored partial match: it admits any value containing a match "
                         f"(e.g. `evil-{pattern.strip('^$.*')}`); anchor it with `^...$` or use `==`"
                         + (f"; also, {dot_note}" if dot_note else ""))]
    out = []
    prefix, rest = literal_prefix(pattern)
    if rest in (".*$", ".+$", ".*\\z", ".+\\z"):  # `^p.*$` is `startsWith('p')`
        out.extend(_starts_with(subject, call, prefix, node))
    if dot_note:
        if out and out[0].severity == "error":
            out[0] = Weakness("error", node.start, node.end, f"{out[0].message}; also, {dot_note}")
        else:
            out.append(Weakness("error", node.start, node.end, f"`{call}`: {dot_note}"))
    return out
