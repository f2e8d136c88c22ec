"""Three-valued evaluation of the CEL a GCP workload identity provider runs on a token: its attribute mapping
(`google.subject: assertion.sub`) and its attribute condition, over the claims the token is known to carry.

An expression evaluates to a value (a condition to True or False) or to UNKNOWN: a claim the inputs do not
show (`Partial` maps: a token carries more claims than the manifests tell), a function or macro not modelled,
or an operation CEL would reject at run time. `&&` and `||` are commutative as in CEL: a definite False
(True) settles them even beside an unknown or failing operand. Checks report only a definite answer; an
unknown one is never a finding, because the token may pass or fail on what the inputs do not show, and a
guess would be a false positive.
"""

from __future__ import annotations

import re
from functools import lru_cache

from xfedlint.model.resources import GcpProvider
from xfedlint.semantics import cel

_NESTED_QUANTIFIER = re.compile(r"\([^()]*[*+}][^()]*\)\s*[*+{]")


class _Unknown:
    """A value the inputs do not tell (a claim not shown, a function not modelled)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()  # the provider's mapping has no such attribute (it is known not to be mapped)


class Partial(dict):
    """A map of which only some keys are known: a missing key is unknown, not absent (a token carries
    claims the manifests do not show)."""


class _EvalError(Exception):
    """CEL would raise an evaluation error; for our purposes the result is unknown."""


class _Scope:
    """`attribute` or `google` in a condition: each field is the provider's mapping evaluated lazily."""

    __slots__ = ("attrs", "prefix")

    def __init__(self, attrs: Attributes, prefix: str):
        self.attrs, self.prefix = attrs, prefix

    def get(self, name: str):
        v = self.attrs.get(f"{self.prefix}.{name}")
        return UNKNOWN if v is MISSING else v


@lru_cache(maxsize=4096)
def _parse(expression: str) -> cel.Node | None:
    try:
        return cel.parse(expression)
    except cel.CelSyntaxError:
        return None


def parse(expression) -> cel.Node | None:
    """The syntax tree of a CEL string (parsed once per distinct text); None when `expression` is not a
    string or not valid CEL."""
    return _parse(expression) if isinstance(expression, str) else None


def evaluate(tree: cel.Node, env: dict):
    """The value of a parsed CEL expression in `env` (names -> values, `Partial` maps, `_Scope`s), or
    UNKNOWN when it depends on something unknown or CEL would raise an error."""
    try:
        return _ev(tree, env)
    except (_EvalError, RecursionError, TypeError, ValueError, OverflowError, ZeroDivisionError):
        return UNKNOWN


def evaluate_text(expression, env: dict):
    """`evaluate` for an expression given as text; UNKNOWN for anything that is not valid CEL."""
    tree = parse(expression)
    return UNKNOWN if tree is None else evaluate(tree, env)


def _field(o, name):
    if o is UNKNOWN:
        return UNKNOWN
    if isinstance(o, _Scope):
        return o.get(name)
    if isinstance(o, dict):
        if name in o:
            return o[name]
        if isinstance(o, Partial):
            return UNKNOWN
        raise _EvalError(f"no such key {name!r}")
    raise _EvalError("field selection on a non-map")


def _bool(v):
    if v is UNKNOWN or isinstance(v, bool):
        return v
    raise _EvalError("not a bool")


def _logic(nodes: list, env: dict, absorbing: bool):
    """`&&` (absorbing False) or `||` (absorbing True), commutative as CEL's: an error or unknown operand is
    absorbed by a definite absorbing one."""
    unknown = False
    for n in nodes:
        try:
            v = _bool(_ev(n, env))
        except _EvalError:
            v = UNKNOWN
        if v is UNKNOWN:
            unknown = True
        elif v is absorbing:
            return absorbing
    return UNKNOWN if unknown else (not absorbing)


def _string_call(fn: str, target, args: list):
    if fn in ("startsWith", "endsWith", "contains", "matches") and len(args) == 1:
        if not (isinstance(target, str) and isinstance(args[0], str)):
            raise _EvalError(f"{fn} on non-strings")
        a = args[0]
        if fn == "startsWith":
            return target.startswith(a)
        if fn == "endsWith":
            return target.endswith(a)
        if fn == "contains":
            return a in target
        if _NESTED_QUANTIFIER.search(a):
            return UNKNOWN  # RE2 is linear; Python's backtracking could explode on such a pattern
        try:  # RE2 partial match; Python's syntax is a superset for the patterns RE2 accepts
            return re.search(a, target) is not None
        except re.error:
            return UNKNOWN
    if fn == "size" and not args and isinstance(target, (str, list, dict)):
        return len(target)
    if fn in ("lowerAscii", "upperAscii") and not args and isinstance(target, str):
        table = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
        if fn == "upperAscii":
            table = {v: k for k, v in table.items()}
        return target.translate(table)
    if fn == "split" and len(args) == 1 and isinstance(target, str) and isinstance(args[0], str) and args[0]:
        return target.split(args[0])
    if fn == "trim" and not args and isinstance(target, str):
        return target.strip()
    return UNKNOWN


def _ev(n: cel.Node, env: dict):  # noqa: C901 - one case per node kind
    if isinstance(n, cel.Literal):
        return n.value if n.kind in ("string", "int", "uint", "double", "bool", "null") else UNKNOWN
    if isinstance(n, cel.Ident):
        return env.get(n.name, UNKNOWN)
    if isinstance(n, cel.Select):
        return _field(_ev(n.operand, env), n.field)
    if isinstance(n, cel.Index):
        o, i = _ev(n.operand, env), _ev(n.index, env)
        if o is UNKNOWN or i is UNKNOWN:
            return UNKNOWN
        if isinstance(o, (dict, _Scope)) and isinstance(i, str):
            return _field(o, i)
        if isinstance(o, list) and isinstance(i, int) and not isinstance(i, bool):
            if 0 <= i < len(o):
                return o[i]
            raise _EvalError("index out of range")
        raise _EvalError("bad index")
    if isinstance(n, cel.Call):
        if n.target is None and n.function == "has" and len(n.args) == 1 and isinstance(n.args[0], cel.Select):
            o = _ev(n.args[0].operand, env)
            if o is UNKNOWN or isinstance(o, _Scope):
                return UNKNOWN
            if isinstance(o, dict):
                return True if n.args[0].field in o else (UNKNOWN if isinstance(o, Partial) else False)
            raise _EvalError("has() on a non-map")
        if n.function in ("all", "exists", "exists_one", "map", "filter"):
            return UNKNOWN  # macros: not modelled
        args = [_ev(a, env) for a in n.args]
        if n.target is None:
            if n.function in ("size", "string") and len(args) == 1:
                target, args = args[0], []
            elif n.function in ("matches", "startsWith", "endsWith", "contains") and len(args) == 2:
                target, args = args[0], args[1:]
            else:
                return UNKNOWN
            fn = n.function
            if fn == "string":
                return target if isinstance(target, str) else UNKNOWN
        else:
            target, fn = _ev(n.target, env), n.function
        if target is UNKNOWN or any(a is UNKNOWN for a in args):
            return UNKNOWN
        return _string_call(fn, target, args)
    if isinstance(n, cel.Unary):
        v = _ev(n.operand, env)
        if v is UNKNOWN:
            return UNKNOWN
        if n.op == "!":
            return not _bool(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return -v
        raise _EvalError("bad operand")
    if isinstance(n, cel.Binary):
        if n.op in ("&&", "||"):
            return _logic(cel.flatten(n, n.op), env, n.op == "||")
        left, right = _ev(n.left, env), _ev(n.right, env)
        if n.op == "in":
            if left is UNKNOWN or right is UNKNOWN:
                return UNKNOWN
            if isinstance(right, list):
                if left in [x for x in right if x is not UNKNOWN]:
                    return True
                return UNKNOWN if any(x is UNKNOWN for x in right) else False
            if isinstance(right, dict):
                return True if left in right else (UNKNOWN if isinstance(right, Partial) else False)
            if isinstance(right, _Scope) and isinstance(left, str):  # `'x' in attribute`: is it mapped?
                v = right.attrs.get(f"{right.prefix}.{left}")
                return False if v is MISSING else (UNKNOWN if v is UNKNOWN else True)
            raise _EvalError("`in` on a non-container")
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if isinstance(left, list) and any(x is UNKNOWN for x in left) or \
                isinstance(right, list) and any(x is UNKNOWN for x in right):
            return UNKNOWN
        if n.op == "==":
            return left == right and type(left) is type(right) or _numeric_eq(left, right)
        if n.op == "!=":
            return not (left == right and type(left) is type(right) or _numeric_eq(left, right))
        if n.op == "+":
            if type(left) is type(right) and isinstance(left, (str, int, float, list)) and not isinstance(left, bool):
                return left + right
            raise _EvalError("bad operands to +")
        if n.op in ("<", "<=", ">", ">="):
            if type(left) is type(right) and isinstance(left, (str, int, float)) and not isinstance(left, bool):
                return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[n.op]
            raise _EvalError("bad operands to a relation")
        return UNKNOWN
    if isinstance(n, cel.Conditional):
        c = _bool(_ev(n.cond, env))
        if c is UNKNOWN:
            return UNKNOWN
        return _ev(n.then if c else n.otherwise, env)
    if isinstance(n, cel.ListLit):
        return [_ev(i, env) for i in n.items]
    return UNKNOWN  # maps and messages: not modelled


def _numeric_eq(a, b) -> bool:
    return (isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool)
            and not isinstance(b, bool) and a == b)


class Attributes:
    """The attributes a provider maps from a token's claims, evaluated on demand. `get` returns the value,
    UNKNOWN, or MISSING when the provider is known and does not map that attribute."""

    def __init__(self, provider: GcpProvider | None, claims: Partial):
        self.provider = provider
        self.claims = claims
        self._cache: dict = {}

    @property
    def mapping(self) -> dict | None:
        p = self.provider
        if p is None:
            return None
        if isinstance(p.attribute_mapping, dict):
            return p.attribute_mapping
        if p.attribute_mapping is None and p.kind == "aws":
            return {"google.subject": "assertion.arn", "attribute.aws_role": "assertion.arn"}
        return None

    def expression(self, key: str):
        m = self.mapping
        return m.get(key) if m is not None else None

    def get(self, key: str):
        if key in self._cache:
            return self._cache[key]
        m = self.mapping
        if m is None:
            v = UNKNOWN
        elif key not in m:
            v = MISSING
        else:
            v = evaluate_text(m[key], {"assertion": self.claims})
        self._cache[key] = v
        return v

    def env(self) -> dict:
        """The names a condition sees: `assertion` (the claims), `attribute` and `google` (the mapping)."""
        return {"assertion": self.claims, "attribute": _Scope(self, "attribute"), "google": _Scope(self, "google")}


def kubernetes_claims(namespace: str, name: str, issuer: str | None = None) -> Partial:
    """The claims every Kubernetes service-account token of `namespace/name` carries (as far as we know)."""
    claims = Partial({"sub": f"system:serviceaccount:{namespace}:{name}",
                      "kubernetes.io": Partial({"namespace": namespace, "serviceaccount": Partial({"name": name})})})
    if issuer:
        claims["iss"] = issuer
    return claims
