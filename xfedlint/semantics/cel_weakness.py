"""What a GCP attribute condition really admits: weak matches on identity claims, found in the CEL tree.

CEL string functions are not anchored the way people read them: `startsWith('prod')` admits `prod-evil`,
`endsWith`/`contains` admit any owner, and `matches` is an unanchored RE2 partial match (the conformance
suite has `'hubba'.matches('ubb') == true`).
"""

from __future__ import annotations

from dataclasses import dataclass

from xfedlint.semantics import cel

K8S_SUBJECT = "system:serviceaccount:"
DELIMITERS = ("/", ":")


@dataclass(frozen=True)
class Weakness:
    severity: str
    start: int  # offsets into the expression text
    end: int
    message: str


def is_identity_claim(path: tuple | None) -> bool:
    return bool(path) and path[0] in ("assertion", "attribute", "google") and len(path) > 1


def _text(expr: str, node: cel.Node) -> str:
    return expr[node.start:node.end]


def weaknesses(expr: str, tree: cel.Node) -> list[Weakness]:
    out: list[Weakness] = []
    for node in cel.walk(tree):
        if not (isinstance(node, cel.Call) and node.target is not None and len(node.args) == 1):
            continue
        claim = cel.claim_path(node.target)
        arg = node.args[0]
        if not is_identity_claim(claim) or not (isinstance(arg, cel.Literal) and arg.kind == "string"):
            continue
        lit = str(arg.value)
        subject = _text(expr, node.target)
        call = _text(expr, node)
        fn = node.function
        if fn == "startsWith":
            out.extend(_starts_with(subject, call, lit, node))
        elif fn in ("endsWith", "contains"):
            out.append(Weakness("error", node.start, node.end,
                                f"`{call}` admits any value that {'ends with' if fn == 'endsWith' else 'contains'} "
                                f"`{lit}`, from any owner (e.g. `evil{lit}`); compare `{subject}` with `==`"))
        elif fn == "matches" and not (lit.startswith("^") and lit.endswith("$")):
            out.append(Weakness("error", node.start, node.end,
                                f"`{call}` is an unanchored partial match: it admits any value containing a match "
                                f"(e.g. `evil-{lit.strip('^$.*')}`); anchor it with `^...$` or use `==`"))
    return out


def _starts_with(subject: str, call: str, prefix: str, node: cel.Call) -> list[Weakness]:
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


def is_trivially_true(tree: cel.Node) -> bool:
    """`true`, `1 == 1`, `'a' == 'a'`, `has(assertion.sub)`: conditions that admit every token."""
    if isinstance(tree, cel.Literal):
        return tree.value is True
    if isinstance(tree, cel.Binary) and tree.op == "==" and isinstance(tree.left, cel.Literal) \
            and isinstance(tree.right, cel.Literal):
        return tree.left.value == tree.right.value
    if isinstance(tree, cel.Call) and tree.function == "has" and tree.target is None:
        return True
    if isinstance(tree, cel.Binary) and tree.op == "||":
        return is_trivially_true(tree.left) or is_trivially_true(tree.right)
    if isinstance(tree, cel.Binary) and tree.op == "&&":
        return is_trivially_true(tree.left) and is_trivially_true(tree.right)
    return False
