"""A parser for CEL (Common Expression Language) expressions, with character offsets on every node.

GCP attribute conditions and mappings are CEL. We parse them into a syntax tree instead of matching
strings. Why not a PyPI parser: cel-python costs about 190 ms per process (pendulum and lark imports plus
building its grammar), which alone would exceed the pre-commit budget; cel-expr-python exposes no syntax
tree. CEL's expression grammar is small and fixed (cel-spec `doc/langdef.md`), so it is parsed here in full:

- literals: strings in all quote forms (`'`, `"`, `'''`, `\"\"\"`), raw (`r`) and bytes (`b`) prefixes, every
  escape of the lexis (`\\x`, `\\u` with surrogate pairs, `\\U`, octal `\\000`-`\\377`); ints (decimal, hex,
  range-checked to int64), uints (`u` suffix, uint64), doubles; `true`, `false`, `null`;
- lists and maps (a trailing comma is accepted, as cel-go does), message construction `pkg.Msg{f: e}`;
- member selection (also backtick-quoted field names), indexing, global and receiver calls;
- unary `!`/`-`, arithmetic, relations, `in`, `&&`, `||` and the conditional operator `?:` (right-associative);
- the parse-time rules of macros: `has()` takes one field selection; `all`, `exists`, `exists_one`, `map` and
  `filter` take a simple name as the iteration variable;
- identifiers are ASCII, reserved words (`in`, `if`, `for`, `let`, ...) are rejected; comments `// ...`.

Errors are `CelSyntaxError` with the offset of the offending character. An expression nested deeper than
`MAX_DEPTH` raises `CelLimitError` (a subclass): that is a limit of this analyser, not proof of invalid CEL.
Every later pass over a tree is iterative (or bounded by `MAX_DEPTH`), so no input can exhaust the stack.
"""

from __future__ import annotations

from typing import NamedTuple


class CelSyntaxError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(f"{message} at offset {offset}")
        self.message = message
        self.offset = offset


class CelLimitError(CelSyntaxError):
    """The expression exceeds what this parser analyses (nesting depth); it may still be valid CEL."""


class Node:
    """A syntax-tree node: `start`/`end` are offsets into the expression text. Nodes compare by identity (a
    structural `==` or hash of a deep tree would recurse). Plain slotted classes, not dataclasses: a dozen
    dataclasses cost several milliseconds at import, which every run that reads a GCP file would pay."""

    __slots__ = ("start", "end")
    _fields: tuple = ("start", "end")
    _defaults: tuple = ()

    def __init__(self, *args):
        fields = self._fields
        if len(args) < len(fields):
            args = args + self._defaults[len(args) - len(fields):]
        for name, value in zip(fields, args, strict=True):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields) + ")"


class Ident(Node):
    __slots__ = ("name",)
    _fields = ("start", "end", "name")
    name: str


class Literal(Node):
    __slots__ = ("value", "kind")
    _fields = ("start", "end", "value", "kind")  # kind: string, bytes, int, uint, double, bool, null
    value: object
    kind: str


class Select(Node):
    __slots__ = ("operand", "field", "field_start")
    _fields = ("start", "end", "operand", "field", "field_start")
    _defaults = (0,)
    operand: Node
    field: str
    field_start: int


class Index(Node):
    __slots__ = ("operand", "index")
    _fields = ("start", "end", "operand", "index")
    operand: Node
    index: Node


class Call(Node):
    __slots__ = ("target", "function", "args", "name_start")
    _fields = ("start", "end", "target", "function", "args", "name_start")
    _defaults = (0,)
    target: Node | None
    function: str
    args: tuple
    name_start: int


class Unary(Node):
    __slots__ = ("op", "operand")
    _fields = ("start", "end", "op", "operand")
    op: str
    operand: Node


class Binary(Node):
    __slots__ = ("op", "left", "right", "op_start")
    _fields = ("start", "end", "op", "left", "right", "op_start")
    _defaults = (0,)
    op: str
    left: Node
    right: Node
    op_start: int


class Conditional(Node):
    __slots__ = ("cond", "then", "otherwise")
    _fields = ("start", "end", "cond", "then", "otherwise")
    cond: Node
    then: Node
    otherwise: Node


class ListLit(Node):
    __slots__ = ("items",)
    _fields = ("start", "end", "items")
    items: tuple


class MapLit(Node):
    __slots__ = ("entries",)
    _fields = ("start", "end", "entries")  # (key, value) pairs
    _defaults = ((),)
    entries: tuple


class Message(Node):
    """`google.protobuf.Duration{seconds: 10}`: a message construction."""

    __slots__ = ("type_name", "fields")
    _fields = ("start", "end", "type_name", "fields")  # fields: (name, value) pairs
    _defaults = ((),)
    type_name: str
    fields: tuple


# ---- tokens --------------------------------------------------------------------------------------------

_PUNCT = ("||", "&&", "==", "!=", "<=", ">=", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",",
          "[", "]", "(", ")", "{", "}")
_LITERAL_WORDS = {"true", "false", "null"}
# cel-spec RESERVED: the language keywords (literal words and `in`), which no name may be, and words kept
# free for host languages, which may not name a variable or global function but may follow a '.' (a field
# or receiver function) or name a message field (the conformance suite's `selectors` cases)
KEYWORDS = _LITERAL_WORDS | {"in"}
RESERVED = KEYWORDS | {"as", "break", "const", "continue", "else", "for", "function", "if", "import",
                       "let", "loop", "package", "namespace", "return", "var", "void", "while"}
INT64_MAX = 2 ** 63 - 1
UINT64_MAX = 2 ** 64 - 1
_IDENT_START = frozenset("_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_IDENT_CHARS = _IDENT_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_OCTAL = frozenset("01234567")


class Token(NamedTuple):
    kind: str  # ident, qident (`backticked`), int, uint, double, string, bytes, punct, eof
    text: str
    value: object
    start: int
    end: int


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'",
            '"': '"', "`": "`", "?": "?"}


def _tokenize(src: str) -> list[Token]:
    toks: list[Token] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in " \t\r\n\f":
            i += 1
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        start = i
        # string and bytes literals, with optional r/b prefixes (r'..', b'..', rb'..', br'..')
        prefix = 0
        if c in "rRbB":
            if i + 1 < n and src[i + 1] in "'\"":
                prefix = 1
            elif i + 2 < n and src[i + 1] in "rRbB" and src[i + 1].lower() != c.lower() and src[i + 2] in "'\"":
                prefix = 2
        if c in "'\"" or prefix:
            letters = src[i:i + prefix].lower()
            is_bytes = "b" in letters
            value, end = _string(src, i + prefix, "r" in letters, is_bytes)
            toks.append(Token("bytes" if is_bytes else "string", src[start:end], value, start, end))
            i = end
            continue
        if c in _IDENT_START:
            j = i + 1
            while j < n and src[j] in _IDENT_CHARS:
                j += 1
            toks.append(Token("ident", src[i:j], src[i:j], i, j))
            i = j
            continue
        if c in _DIGITS or (c == "." and i + 1 < n and src[i + 1] in _DIGITS):
            tok = _number(src, i)
            toks.append(tok)
            i = tok.end
            continue
        if c == "`":
            j = src.find("`", i + 1)
            name = src[i + 1:j] if j > i else ""
            if j < 0 or not name or any(ch not in _IDENT_CHARS and ch not in "./- " for ch in name):
                raise CelSyntaxError("unterminated or invalid quoted field name", i)
            toks.append(Token("qident", src[i:j + 1], name, i, j + 1))
            i = j + 1
            continue
        for p in _PUNCT:
            if src.startswith(p, i):
                toks.append(Token("punct", p, p, i, i + len(p)))
                i += len(p)
                break
        else:
            raise CelSyntaxError(f"unexpected character {c!r}", i)
    toks.append(Token("eof", "", None, n, n))
    return toks


def _string(src: str, i: int, raw: bool, is_bytes: bool) -> tuple[object, int]:
    """The value of the string literal whose opening quote is at `i` (`bytes` for a bytes literal: its
    characters UTF-8 encoded, its `\\x`/octal escapes taken as octets), and the offset after the closing quote."""
    q = src[i]
    triple = src.startswith(q * 3, i)
    delim = q * 3 if triple else q
    j = i + len(delim)
    out = bytearray() if is_bytes else []
    n = len(src)

    def add(text: str) -> None:
        if is_bytes:
            out.extend(text.encode("utf-8", "surrogatepass"))
        else:
            out.append(text)

    while True:
        if j >= n:
            raise CelSyntaxError("unterminated string", i)
        if src.startswith(delim, j):
            return (bytes(out) if is_bytes else "".join(out)), j + len(delim)
        ch = src[j]
        if ch in "\r\n" and not triple:
            raise CelSyntaxError("newline in a string (use a triple-quoted string)", j)
        if ch == "\\" and not raw:
            if j + 1 >= n:
                raise CelSyntaxError("unterminated escape", j)
            e = src[j + 1]
            if e in _ESCAPES:
                add(_ESCAPES[e])
                j += 2
            elif e in "xX" or e in "0123":
                if e in "xX":
                    code = int(_hex(src, j + 2, 2, j), 16)
                else:
                    digits = src[j + 1:j + 4]
                    if len(digits) != 3 or any(d not in _OCTAL for d in digits):
                        raise CelSyntaxError("bad octal escape (\\000 to \\377)", j)
                    code = int(digits, 8)
                if is_bytes:
                    out.append(code)
                else:
                    out.append(chr(code))
                j += 4
            elif e in "uU":
                if is_bytes:
                    raise CelSyntaxError(f"\\{e} escapes are not allowed in bytes literals", j)
                width = 4 if e == "u" else 8
                code = int(_hex(src, j + 2, width, j), 16)
                at = j
                j += 2 + width
                if 0xD800 <= code <= 0xDBFF and e == "u" and src.startswith("\\u", j):
                    low = int(_hex(src, j + 2, 4, j), 16)
                    if 0xDC00 <= low <= 0xDFFF:
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        j += 6
                if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                    raise CelSyntaxError("escape is not a valid Unicode code point", at)
                out.append(chr(code))
            else:
                raise CelSyntaxError(f"unknown escape \\{e}", j)
            continue
        add(ch)
        j += 1


def _hex(src: str, i: int, count: int, escape_at: int) -> str:
    digits = src[i:i + count]
    if len(digits) != count or any(d not in _HEX for d in digits):
        raise CelSyntaxError("bad hex escape", escape_at)
    return digits


def _number(src: str, i: int) -> Token:
    n = len(src)
    j = i
    if src.startswith(("0x", "0X"), i):
        j = i + 2
        while j < n and src[j] in _HEX:
            j += 1
        if j == i + 2:
            raise CelSyntaxError("hex literal without digits", i)
        value = int(src[i + 2:j], 16)
        if j < n and src[j] in "uU":
            return _checked(Token("uint", src[i:j + 1], value, i, j + 1))
        return Token("int", src[i:j], value, i, j)
    while j < n and src[j] in _DIGITS:
        j += 1
    is_float = False
    if j < n and src[j] == "." and j + 1 < n and src[j + 1] in _DIGITS:
        is_float = True
        j += 1
        while j < n and src[j] in _DIGITS:
            j += 1
    if j < n and src[j] in "eE":
        k = j + 1
        if k < n and src[k] in "+-":
            k += 1
        if k < n and src[k] in _DIGITS:
            is_float = True
            j = k
            while j < n and src[j] in _DIGITS:
                j += 1
    text = src[i:j]
    if is_float:
        return Token("double", text, float(text), i, j)
    if j < n and src[j] in "uU":
        return _checked(Token("uint", src[i:j + 1], int(text), i, j + 1))
    return Token("int", text, int(text), i, j)


def _checked(tok: Token) -> Token:
    if tok.value > UINT64_MAX:
        raise CelSyntaxError("uint literal out of range", tok.start)
    return tok


# ---- parser (precedence climbing) ----------------------------------------------------------------------

_RELATIONS = ("==", "!=", "<", "<=", ">", ">=", "in")
_PRECEDENCE = {"||": 1, "&&": 2, **{op: 3 for op in _RELATIONS}, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5}
MAX_DEPTH = 100  # nesting levels (cel-spec requires at least 32); keeps the parser far from Python's stack limit
_MACROS = {"all": (2,), "exists": (2,), "exists_one": (2,), "map": (2, 3), "filter": (2,)}


class _Parser:
    def __init__(self, src: str):
        self.toks = _tokenize(src)
        self.pos = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def _is(self, text: str) -> bool:
        t = self.tok
        return t.kind in ("punct", "ident") and t.text == text

    def _take(self, text: str) -> Token:
        if not self._is(text):
            raise CelSyntaxError(f"expected {text!r}, found {self.tok.text or 'end of expression'!r}", self.tok.start)
        t = self.tok
        self.pos += 1
        return t

    def parse(self) -> Node:
        node = self.expr()
        if self.tok.kind != "eof":
            raise CelSyntaxError(f"unexpected {self.tok.text!r}", self.tok.start)
        return node

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise CelLimitError(f"expression nested more than {MAX_DEPTH} levels deep", self.tok.start)
        cond = self.binary(1)
        if self._is("?"):
            self.pos += 1
            then = self.binary(1)
            self._take(":")
            other = self.expr()
            cond = Conditional(cond.start, other.end, cond, then, other)
        self.depth -= 1
        return cond

    def binary(self, min_prec: int) -> Node:
        left = self.unary()
        while True:
            t = self.tok
            prec = _PRECEDENCE.get(t.text) if t.kind in ("punct", "ident") else None
            if prec is None or prec < min_prec:
                return left
            self.pos += 1
            right = self.binary(prec + 1)  # left-associative
            left = Binary(left.start, right.end, t.text, left, right, t.start)

    def unary(self) -> Node:
        ops = []
        while self._is("!") or self._is("-"):
            ops.append(self.tok)
            self.pos += 1
        if ops and ops[-1].text == "-" and self.tok.kind == "int" and self.tok.value == INT64_MAX + 1:
            t = self.tok  # -9223372036854775808 is the one literal that needs its minus sign
            self.pos += 1
            node: Node = Literal(ops[-1].start, t.end, -t.value, "int")
            ops.pop()
            node = self.postfix(node)
        else:
            node = self.member()
        for op in reversed(ops):
            node = Unary(op.start, node.end, op.text, node)
        return node

    def member(self) -> Node:
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            if self._is("."):
                self.pos += 1
                name = self.tok
                if name.kind == "qident":
                    self.pos += 1
                    node = Select(node.start, name.end, node, str(name.value), name.start)
                    continue
                if name.kind != "ident":
                    raise CelSyntaxError("expected a field name after '.'", name.start)
                if name.text in KEYWORDS:
                    raise CelSyntaxError(f"keyword {name.text!r} used as a field name", name.start)
                self.pos += 1
                if self._is("("):
                    args, end = self.args()
                    node = Call(node.start, end, node, name.text, args, name.start)
                    self._check_macro(node)
                else:
                    node = Select(node.start, name.end, node, name.text, name.start)
            elif self._is("["):
                self.pos += 1
                index = self.expr()
                end = self._take("]").end
                node = Index(node.start, end, node, index)
            elif self._is("{") and _qualified_name(node) is not None:
                node = self.message(node)
            else:
                return node

    def args(self) -> tuple[tuple, int]:
        """Call arguments: `(` [Expr {, Expr}] `)`, no trailing comma (cel-spec ExprList)."""
        self._take("(")
        items = []
        if not self._is(")"):
            items.append(self.expr())
            while self._is(","):
                self.pos += 1
                items.append(self.expr())
        end = self._take(")").end
        return tuple(items), end

    def _check_macro(self, call: Call) -> None:
        if call.target is None and call.function == "has":
            if len(call.args) != 1 or not isinstance(call.args[0], Select):
                where = call.args[0].start if call.args else call.end - 1
                raise CelSyntaxError("invalid argument to has(): it takes one field selection, e.g. "
                                     "has(assertion.email)", where)
        elif call.target is not None and len(call.args) in _MACROS.get(call.function, ()):
            var = call.args[0]
            if not isinstance(var, Ident) or var.start != var.end - len(var.name):
                raise CelSyntaxError(f"the first argument of {call.function}() must be a simple name", var.start)

    def message(self, type_node: Node) -> Message:
        self._take("{")
        fields = []
        if not self._is("}"):
            while True:
                name = self.tok
                if name.kind not in ("ident", "qident") or name.text in KEYWORDS:
                    raise CelSyntaxError("expected a field name in a message construction", name.start)
                self.pos += 1
                self._take(":")
                fields.append((str(name.value), self.expr()))
                if not self._is(","):
                    break
                self.pos += 1
                if self._is("}"):
                    break
        end = self._take("}").end
        return Message(type_node.start, end, _qualified_name(type_node) or "", tuple(fields))

    def items(self, close: str) -> tuple[tuple, int]:
        """List elements: trailing comma accepted."""
        items = []
        if not self._is(close):
            while True:
                items.append(self.expr())
                if not self._is(","):
                    break
                self.pos += 1
                if self._is(close):
                    break
        end = self._take(close).end
        return tuple(items), end

    def primary(self) -> Node:
        t = self.tok
        if t.kind in ("string", "bytes", "int", "uint", "double"):
            if t.kind == "int" and t.value > INT64_MAX:
                raise CelSyntaxError("int literal out of range", t.start)
            self.pos += 1
            return Literal(t.start, t.end, t.value, t.kind)
        if t.kind == "ident":
            self.pos += 1
            if t.text in ("true", "false"):
                return Literal(t.start, t.end, t.text == "true", "bool")
            if t.text == "null":
                return Literal(t.start, t.end, None, "null")
            if t.text in RESERVED:
                raise CelSyntaxError(f"reserved word {t.text!r} used as a name", t.start)
            if self._is("("):
                args, end = self.args()
                call = Call(t.start, end, None, t.text, args, t.start)
                self._check_macro(call)
                return call
            return Ident(t.start, t.end, t.text)
        if self._is("."):  # a leading dot names the root scope: .a.b
            self.pos += 1
            name = self.tok
            if name.kind != "ident" or name.text in RESERVED:
                raise CelSyntaxError("expected a name after '.'", name.start)
            self.pos += 1
            if self._is("("):
                args, end = self.args()
                return Call(t.start, end, None, name.text, args, name.start)
            return Ident(t.start, name.end, name.text)
        if self._is("("):
            self.pos += 1
            inner = self.expr()
            self._take(")")
            return inner
        if self._is("["):
            self.pos += 1
            self.depth += 1
            items, end = self.items("]")
            self.depth -= 1
            return ListLit(t.start, end, items)
        if self._is("{"):
            self.pos += 1
            entries = []
            if not self._is("}"):
                while True:
                    k = self.expr()
                    self._take(":")
                    v = self.expr()
                    entries.append((k, v))
                    if not self._is(","):
                        break
                    self.pos += 1
                    if self._is("}"):
                        break
            end = self._take("}").end
            return MapLit(t.start, end, tuple(entries))
        if t.kind == "qident":
            raise CelSyntaxError("a quoted name is only allowed after '.'", t.start)
        raise CelSyntaxError(f"unexpected {t.text or 'end of expression'!r}", t.start)


def _qualified_name(node: Node) -> str | None:
    """`a.b.c` (names only) as a string, else None."""
    parts = []
    while isinstance(node, Select):
        parts.append(node.field)
        node = node.operand
    if not isinstance(node, Ident):
        return None
    parts.append(node.name)
    return ".".join(reversed(parts))


def parse(expression: str) -> Node:
    """The syntax tree of a CEL expression; CelSyntaxError (with an offset) when it is not valid CEL."""
    try:
        return _Parser(expression).parse()
    except RecursionError:  # a safety net: MAX_DEPTH keeps well below the interpreter's limit
        raise CelLimitError("expression too deeply nested to analyse", 0) from None


def children(n: Node) -> tuple:
    """The direct sub-expressions of a node, in source order."""
    if isinstance(n, Select):
        return (n.operand,)
    if isinstance(n, Index):
        return (n.operand, n.index)
    if isinstance(n, Call):
        return ((n.target,) if n.target is not None else ()) + n.args
    if isinstance(n, Unary):
        return (n.operand,)
    if isinstance(n, Binary):
        return (n.left, n.right)
    if isinstance(n, Conditional):
        return (n.cond, n.then, n.otherwise)
    if isinstance(n, ListLit):
        return n.items
    if isinstance(n, MapLit):
        return tuple(x for kv in n.entries for x in kv)
    if isinstance(n, Message):
        return tuple(v for _, v in n.fields)
    return ()


def walk(node: Node):
    """Every node of the tree, parents before children, in source order (iterative: any depth)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


def parents(tree: Node) -> dict:
    """id(node) -> parent node, for every node below the root."""
    out = {}
    for n in walk(tree):
        for c in children(n):
            out[id(c)] = n
    return out


def flatten(node: Node, op: str) -> list:
    """The operands of a chain of one associative operator: `a || b || (c || d)` -> [a, b, c, d]."""
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Binary) and n.op == op:
            stack.extend((n.right, n.left))
        else:
            out.append(n)
    return out


def claim_path(node: Node) -> tuple | None:
    """`assertion.sub` -> ("assertion", "sub"); `assertion['kubernetes.io']['namespace']` likewise.

    None when the node is not a plain path of field selections and constant string indexes from a name.
    """
    parts: list[str] = []
    while True:
        if isinstance(node, Select):
            parts.append(node.field)
            node = node.operand
        elif isinstance(node, Index) and isinstance(node.index, Literal) and node.index.kind == "string":
            parts.append(str(node.index.value))
            node = node.operand
        elif isinstance(node, Ident):
            parts.append(node.name)
            return tuple(reversed(parts))
        else:
            return None
