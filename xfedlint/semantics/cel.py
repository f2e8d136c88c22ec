"""A parser for CEL (Common Expression Language) expressions, with character offsets on every node.

GCP attribute conditions and mappings are CEL. We parse them into a syntax tree instead of matching
strings. Why not a PyPI parser: cel-python costs about 190 ms per process (pendulum and lark imports plus
building its grammar), which alone would exceed the pre-commit budget; cel-expr-python exposes no syntax
tree. CEL's expression grammar is small and fixed (cel-spec `doc/langdef.md`), so it is parsed here in full:
literals (strings with all quote forms, raw and bytes prefixes, escapes; ints, uints, floats; bool; null),
lists, maps, member selection, indexing, calls, unary `!`/`-`, arithmetic, relations, `in`, `&&`, `||` and
the conditional operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class CelSyntaxError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(f"{message} at offset {offset}")
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Node:
    start: int
    end: int


@dataclass(frozen=True)
class Ident(Node):
    name: str


@dataclass(frozen=True)
class Literal(Node):
    value: object
    kind: str  # string, bytes, int, uint, double, bool, null


@dataclass(frozen=True)
class Select(Node):
    operand: Node
    field: str
    field_start: int = 0


@dataclass(frozen=True)
class Index(Node):
    operand: Node
    index: Node


@dataclass(frozen=True)
class Call(Node):
    target: Node | None
    function: str
    args: tuple
    name_start: int = 0


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node
    op_start: int = 0


@dataclass(frozen=True)
class Conditional(Node):
    cond: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple


@dataclass(frozen=True)
class MapLit(Node):
    entries: tuple = field(default=())  # (key, value) pairs


# ---- tokens --------------------------------------------------------------------------------------------

_PUNCT = ("||", "&&", "==", "!=", "<=", ">=", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",",
          "[", "]", "(", ")", "{", "}")
_RESERVED = {"in", "true", "false", "null"}


@dataclass(frozen=True)
class Token:
    kind: str  # ident, int, uint, double, string, bytes, punct, eof
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
            value, end = _string(src, i + prefix, "r" in letters)
            toks.append(Token("bytes" if "b" in letters else "string", src[start:end], value, start, end))
            i = end
            continue
        if c.isalpha() or c == "_":
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            toks.append(Token("ident", src[i:j], src[i:j], i, j))
            i = j
            continue
        if c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            tok = _number(src, i)
            toks.append(tok)
            i = tok.end
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


def _string(src: str, i: int, raw: bool) -> tuple[str, int]:
    q = src[i]
    triple = src.startswith(q * 3, i)
    delim = q * 3 if triple else q
    j = i + len(delim)
    out: list[str] = []
    n = len(src)
    while True:
        if j >= n:
            raise CelSyntaxError("unterminated string", i)
        if src.startswith(delim, j):
            return "".join(out), j + len(delim)
        ch = src[j]
        if ch == "\n" and not triple:
            raise CelSyntaxError("newline in string", j)
        if ch == "\\" and not raw:
            if j + 1 >= n:
                raise CelSyntaxError("unterminated escape", j)
            e = src[j + 1]
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                j += 2
            elif e in "xX" and j + 3 < n + 1:
                out.append(chr(int(_hex(src, j + 2, 2), 16)))
                j += 4
            elif e == "u":
                out.append(chr(int(_hex(src, j + 2, 4), 16)))
                j += 6
            elif e == "U":
                out.append(chr(int(_hex(src, j + 2, 8), 16)))
                j += 10
            elif e in "01234567":
                digits = src[j + 1:j + 4]
                if len(digits) != 3 or any(d not in "01234567" for d in digits):
                    raise CelSyntaxError("bad octal escape", j)
                out.append(chr(int(digits, 8)))
                j += 4
            else:
                raise CelSyntaxError(f"unknown escape \\{e}", j)
            continue
        out.append(ch)
        j += 1


def _hex(src: str, i: int, count: int) -> str:
    digits = src[i:i + count]
    if len(digits) != count or any(d not in "0123456789abcdefABCDEF" for d in digits):
        raise CelSyntaxError("bad hex escape", i)
    return digits


def _number(src: str, i: int) -> Token:
    n = len(src)
    j = i
    if src.startswith(("0x", "0X"), i):
        j = i + 2
        while j < n and src[j] in "0123456789abcdefABCDEF":
            j += 1
        value = int(src[i + 2:j], 16)
        if j < n and src[j] in "uU":
            return Token("uint", src[i:j + 1], value, i, j + 1)
        return Token("int", src[i:j], value, i, j)
    while j < n and src[j].isdigit():
        j += 1
    is_float = False
    if j < n and src[j] == "." and j + 1 < n and src[j + 1].isdigit():
        is_float = True
        j += 1
        while j < n and src[j].isdigit():
            j += 1
    if j < n and src[j] in "eE":
        k = j + 1
        if k < n and src[k] in "+-":
            k += 1
        if k < n and src[k].isdigit():
            is_float = True
            j = k
            while j < n and src[j].isdigit():
                j += 1
    text = src[i:j]
    if is_float:
        return Token("double", text, float(text), i, j)
    if j < n and src[j] in "uU":
        return Token("uint", src[i:j + 1], int(text), i, j + 1)
    return Token("int", text, int(text), i, j)


# ---- parser (precedence climbing) ----------------------------------------------------------------------

_RELATIONS = {"==", "!=", "<", "<=", ">", ">=", "in"}
MAX_DEPTH = 250


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
        return (t.kind == "punct" or t.kind == "ident") and t.text == text

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
            raise CelSyntaxError("expression nested too deeply", self.tok.start)
        cond = self.binary(0)
        if self._is("?"):
            self.pos += 1
            then = self.binary(0)
            self._take(":")
            other = self.expr()
            cond = Conditional(cond.start, other.end, cond, then, other)
        self.depth -= 1
        return cond

    _LEVELS = (("||",), ("&&",), tuple(_RELATIONS), ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        ops = self._LEVELS[level]
        while self.tok.kind in ("punct", "ident") and self.tok.text in ops:
            op = self.tok
            self.pos += 1
            right = self.binary(level + 1)
            left = Binary(left.start, right.end, op.text, left, right, op.start)
        return left

    def unary(self) -> Node:
        if self._is("!") or self._is("-"):
            op = self.tok
            self.pos += 1
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise CelSyntaxError("expression nested too deeply", op.start)
            operand = self.unary()
            self.depth -= 1
            return Unary(op.start, operand.end, op.text, operand)
        return self.member()

    def member(self) -> Node:
        node = self.primary()
        while True:
            if self._is("."):
                self.pos += 1
                name = self.tok
                if name.kind != "ident":
                    raise CelSyntaxError("expected a field name after '.'", name.start)
                self.pos += 1
                if self._is("("):
                    args, end = self.args(")")
                    node = Call(node.start, end, node, name.text, args, name.start)
                else:
                    node = Select(node.start, name.end, node, name.text, name.start)
            elif self._is("["):
                self.pos += 1
                index = self.expr()
                end = self._take("]").end
                node = Index(node.start, end, node, index)
            else:
                return node

    def args(self, close: str) -> tuple[tuple, int]:
        self._take("(" if close == ")" else "[")
        items = []
        if not self._is(close):
            items.append(self.expr())
            while self._is(","):
                self.pos += 1
                if self._is(close):
                    break
                items.append(self.expr())
        end = self._take(close).end
        return tuple(items), end

    def primary(self) -> Node:
        t = self.tok
        if t.kind in ("string", "bytes", "int", "uint", "double"):
            self.pos += 1
            return Literal(t.start, t.end, t.value, t.kind)
        if t.kind == "ident":
            self.pos += 1
            if t.text in ("true", "false"):
                return Literal(t.start, t.end, t.text == "true", "bool")
            if t.text == "null":
                return Literal(t.start, t.end, None, "null")
            if t.text in _RESERVED:
                raise CelSyntaxError(f"unexpected keyword {t.text!r}", t.start)
            if self._is("("):
                args, end = self.args(")")
                return Call(t.start, end, None, t.text, args, t.start)
            return Ident(t.start, t.end, t.text)
        if self._is("."):  # a leading dot names the root scope: .a.b
            self.pos += 1
            name = self.tok
            if name.kind != "ident":
                raise CelSyntaxError("expected a name after '.'", name.start)
            self.pos += 1
            return Ident(t.start, name.end, name.text)
        if self._is("("):
            self.pos += 1
            inner = self.expr()
            self._take(")")
            return inner
        if self._is("["):
            items, end = self.args("]")
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
        raise CelSyntaxError(f"unexpected {t.text or 'end of expression'!r}", t.start)


def parse(expression: str) -> Node:
    """The syntax tree of a CEL expression; CelSyntaxError (with an offset) when it is not valid CEL."""
    return _Parser(expression).parse()


def walk(node: Node):
    """Every node of the tree, parents before children."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, Select):
            stack.append(n.operand)
        elif isinstance(n, Index):
            stack.extend((n.index, n.operand))
        elif isinstance(n, Call):
            stack.extend(reversed(n.args))
            if n.target is not None:
                stack.append(n.target)
        elif isinstance(n, Unary):
            stack.append(n.operand)
        elif isinstance(n, Binary):
            stack.extend((n.right, n.left))
        elif isinstance(n, Conditional):
            stack.extend((n.otherwise, n.then, n.cond))
        elif isinstance(n, ListLit):
            stack.extend(reversed(n.items))
        elif isinstance(n, MapLit):
            for k, v in reversed(n.entries):
                stack.extend((v, k))


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
