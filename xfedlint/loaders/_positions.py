"""YAML and JSON to `SourceDoc`s, keeping the line and column of every key and value.

libyaml (PyYAML's C binding) composes the node graph with marks; we then build plain Python data from the
nodes ourselves, which is both safe (no object construction) and the only place positions can be kept.
JSON goes through the same path (YAML reads JSON); if libyaml rejects valid JSON we fall back to `json`
with pointer-only positions.
"""

from __future__ import annotations

import json
import sys
import weakref

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from xfedlint.model.document import SourceDoc
from xfedlint.model.location import Path, Span

try:  # libyaml when available: about ten times faster than the pure-Python parser
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _Loader(_BaseLoader):
    """The safe loader with PyYAML's tag resolution made lean: libyaml's composer calls back into Python for
    every node (resolve, descend, ascend), and those calls cost as much as the C parsing itself. Same tags:
    path resolvers are never registered here, so only the implicit (first-character) resolvers matter."""

    _implicit = {first: tuple(rs) + tuple(_BaseLoader.yaml_implicit_resolvers.get(None, ()))
                 for first, rs in _BaseLoader.yaml_implicit_resolvers.items() if first is not None}

    _plain_tags: dict = {}  # plain scalar -> its tag: keys and common values repeat across every manifest

    def resolve(self, kind, value, implicit):
        if kind is ScalarNode:
            if implicit[0]:
                tag = self._plain_tags.get(value)
                if tag is None:
                    tag = _STR
                    for t, regexp in self._implicit.get(value[:1], ()):
                        if regexp.match(value):
                            tag = t
                            break
                    if len(value) <= 40 and len(self._plain_tags) < 20_000:
                        self._plain_tags[value] = tag
                return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    # libyaml's composer calls these around every node for path resolvers, which are never registered here.
    # Builtins as class attributes do not bind `self`, and calling one costs a fraction of a Python no-op.
    descend_resolver = slice  # called as (parent, index): makes a throwaway slice
    ascend_resolver = tuple  # called with no argument: returns the empty tuple


MAX_DEPTH = 200  # nesting deeper than any real configuration; beyond it the file is reported, not parsed

_MERGE = "tag:yaml.org,2002:merge"
_STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"
_constructor = yaml.constructor.SafeConstructor()
_SCALARS = {
    "tag:yaml.org,2002:null": lambda n: None,
    "tag:yaml.org,2002:bool": _constructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": _constructor.construct_yaml_int,
    "tag:yaml.org,2002:float": _constructor.construct_yaml_float,
}


class ParseError(Exception):
    """A document could not be parsed. `span` is where; `message` says why, in the user's terms."""

    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.message = message
        self.span = span


class _Builder:
    """Turns one composed node graph into data, recording spans by path."""

    __slots__ = ("value_spans", "key_spans", "tags", "duplicates", "seen", "line_offset", "col_offset")

    def __init__(self, line_offset: int = 0, col_offset: int = 0):
        self.value_spans: dict = {}
        self.key_spans: dict = {}
        self.tags: list = []
        self.duplicates: list = []
        self.seen: dict = {}  # id(node) -> built value: aliases share, never re-expand (no alias bombs)
        self.line_offset = line_offset
        self.col_offset = col_offset

    def span(self, node) -> Span:
        s, e = node.start_mark, node.end_mark
        lo, co = self.line_offset, self.col_offset
        # An embedded document (a block scalar) is indented as a whole, so every column shifts alike.
        return Span(s.line + 1 + lo, s.column + 1 + co, e.line + 1 + lo, e.column + 1 + co)

    def build(self, node, path: Path, depth: int):
        if depth > MAX_DEPTH:
            raise ParseError(f"nesting deeper than {MAX_DEPTH} levels", self.span(node))
        cls = node.__class__
        if cls is ScalarNode:
            self.value_spans[path] = self.span(node)
            return self.scalar(node, path)
        key = id(node)
        if key in self.seen:  # an alias: reuse the anchor's value; its spans stay at the anchor
            return self.seen[key]
        self.value_spans[path] = self.span(node)
        if not node.tag.startswith(_STANDARD_TAG_PREFIX):
            self.tags.append((path, node.tag, self.span(node)))
        if cls is SequenceNode:
            out: list = []
            self.seen[key] = out
            for i, child in enumerate(node.value):
                out.append(self.build(child, path + (i,), depth + 1))
            return out
        if cls is MappingNode:
            d: dict = {}
            self.seen[key] = d
            merges = []
            for knode, vnode in node.value:
                if knode.tag == _MERGE:
                    merges.append(vnode)
                    continue
                k = knode.value if knode.__class__ is ScalarNode else str(self.build(knode, path, depth + 1))
                p = path + (k,)
                if k in d:
                    self.duplicates.append((p, self.span(knode)))
                self.key_spans[p] = self.span(knode)
                d[k] = self.build(vnode, p, depth + 1)
            for m in merges:  # YAML merge keys: explicit keys win over merged ones
                sources = m.value if m.__class__ is SequenceNode else [m]
                for src in sources:
                    merged = self.build(src, path, depth + 1)
                    if isinstance(merged, dict):
                        for k, v in merged.items():
                            d.setdefault(k, v)
            return d
        raise ParseError(f"unexpected YAML node {cls.__name__}", self.span(node))  # pragma: no cover

    def scalar(self, node, path: Path):
        tag = node.tag
        if tag == _STR:
            return node.value
        conv = _SCALARS.get(tag)
        if conv is not None:
            try:
                return conv(node)
            except (ValueError, yaml.YAMLError):
                return node.value
        if not tag.startswith(_STANDARD_TAG_PREFIX):
            self.tags.append((path, tag, self.span(node)))
        return node.value  # timestamps, binary and unknown tags stay text: nothing is constructed


def _mark_span(mark) -> Span:
    if mark is None:
        return Span(1, 1, 1, 2)
    return Span.point(mark.line + 1, mark.column + 1)


def _yaml_error(exc: yaml.YAMLError, line_offset: int = 0, col_offset: int = 0) -> ParseError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    span = _mark_span(mark)
    if line_offset or col_offset:
        span = Span(span.line + line_offset, span.col + col_offset, span.end_line + line_offset,
                    span.end_col + col_offset)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    msg = f"{context}: {problem}" if context else str(problem)
    return ParseError(f"YAML syntax error: {msg}", span)


def parse_yaml_stream(text: str, file: str, line_offset: int = 0, col_offset: int = 0,
                      prefix: Path = (), lazy: bool = False) -> tuple[list[SourceDoc], ParseError | None]:
    """Every document of a YAML (or JSON) stream, and the error that stopped parsing, if any.

    Documents before a syntax error are kept: one broken document does not hide the others.
    `lazy`: build the data only, and record positions the first time a document is asked for one (most
    files of a large scan have no finding). Anything unusual (a syntax error, a tag, a duplicate key, an
    anchor, deep nesting) takes the positioned path at once, so what is reported never depends on laziness.
    """
    if lazy:
        docs = _data_stream(text, file, line_offset, col_offset, prefix)
        if docs is not None:
            return docs, None
    too_deep = _too_deep(text, line_offset, col_offset) if _may_nest_deeply(text) else None
    if too_deep is not None:  # compose only the documents before the one nested too deeply
        text = text[:too_deep[0]]
    docs, err = _compose_stream(text, file, line_offset, col_offset, prefix)
    if too_deep is not None and err is None:
        err = too_deep[1]
    return docs, err


# libyaml's composer (PyYAML's C binding) recurses on the C stack once per nesting level and crashes the
# interpreter (SIGSEGV, no exception) somewhere past 20,000 levels: `[` * 100000 kills the process. Its
# parser is iterative, so a file that might nest that deep is first read as events, which is safe.
# Every collection starts with one of these indicators, so their count bounds the nesting depth.
_COMPOSE_SAFE_DEPTH = 2000  # well under the crash depth, even with a thread's smaller stack


def _may_nest_deeply(text: str) -> bool:
    bound = 0
    for ch in "[{-:?":
        bound += text.count(ch)
        if bound > _COMPOSE_SAFE_DEPTH:
            return True
    return False


def _too_deep(text: str, line_offset: int, col_offset: int) -> tuple[int, ParseError] | None:
    """Where the first document nested deeper than MAX_DEPTH starts, and the error naming the place."""
    depth = 0
    doc_start = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            cls = event.__class__
            if cls is yaml.DocumentStartEvent:
                doc_start = event.start_mark.index
            elif cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
                depth += 1
                if depth > MAX_DEPTH:
                    m = event.start_mark
                    span = Span.point(m.line + 1 + line_offset, m.column + 1 + col_offset)
                    return doc_start, ParseError(f"nesting deeper than {MAX_DEPTH} levels", span)
            elif cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
                depth -= 1
    except yaml.YAMLError:
        return None  # composing stops at the same error, and nothing before it was too deep
    return None


class _NeedsPositions(Exception):
    """The fast data-only path met something rare that is reported with a position: take the full path."""


def _no_duplicates(pairs: list) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise _NeedsPositions
    return d


def _data_stream(text: str, file: str, line_offset: int, col_offset: int, prefix: Path) -> list[SourceDoc] | None:
    """The documents' data without positions, or None where the positioned path must read this text.

    JSON goes through `json` (C, some twenty times faster than libyaml) when its bracket count bounds the
    nesting under MAX_DEPTH; YAML through libyaml's composer and a builder that records no paths.
    Anchors (`&`) take the positioned path, whose builder shares aliased values instead of expanding them.
    """
    head = text.lstrip()[:1]
    try:
        if head in ("{", "[") and text.count("{") + text.count("[") <= MAX_DEPTH:
            try:
                data = json.loads(text, object_pairs_hook=_no_duplicates)
            except ValueError:  # YAML that only looks like JSON, or broken JSON: the positioned path says where
                return None
            datas = [(0, data)]
        elif "&" in text or _may_nest_deeply(text):
            return None
        else:
            datas = [(index, _data(node, 0)) for index, node in enumerate(yaml.compose_all(text, Loader=_Loader))
                     if node is not None]
    except (_NeedsPositions, yaml.YAMLError, RecursionError):
        return None
    docs = [SourceDoc(file=file, data=data, index=index, prefix=prefix) for index, data in datas]

    # Weak references: a document no loader kept (a Service, say) must not live on through its siblings.
    refs = [weakref.ref(d) for d in docs]

    def locate() -> None:
        positioned, _err = _compose_stream(text, file, line_offset, col_offset, prefix)
        by_index = {d.index: d for d in positioned}
        for ref in refs:
            d = ref()
            if d is None:
                continue
            d.locate = None
            p = by_index.get(d.index)
            if p is not None:
                d.value_spans, d.key_spans, d.fallback = p.value_spans, p.key_spans, p.fallback

    for d in docs:
        d.locate = locate
    return docs


_intern = sys.intern


def _data(node, depth: int):
    """Plain data from a composed node, as `_Builder.build` makes it, without recording any position."""
    if depth > MAX_DEPTH:
        raise _NeedsPositions
    cls = node.__class__
    tag = node.tag
    if cls is ScalarNode:
        if tag == _STR:
            return node.value
        conv = _SCALARS.get(tag)
        if conv is None:
            if not tag.startswith(_STANDARD_TAG_PREFIX):
                raise _NeedsPositions
            return node.value
        try:
            return conv(node)
        except (ValueError, yaml.YAMLError):
            return node.value
    if not tag.startswith(_STANDARD_TAG_PREFIX):
        raise _NeedsPositions
    depth += 1
    if cls is SequenceNode:
        return [_data(child, depth) for child in node.value]
    d: dict = {}
    for knode, vnode in node.value:
        if knode.__class__ is not ScalarNode or knode.tag == _MERGE:
            raise _NeedsPositions
        k = _intern(knode.value)  # one copy of `name`, `metadata`, ... for the whole run
        if k in d:
            raise _NeedsPositions
        d[k] = _data(vnode, depth)
    return d


def _compose_stream(text: str, file: str, line_offset: int, col_offset: int,
                    prefix: Path) -> tuple[list[SourceDoc], ParseError | None]:
    docs: list[SourceDoc] = []
    try:
        for index, node in enumerate(yaml.compose_all(text, Loader=_Loader)):
            if node is None:
                continue
            b = _Builder(line_offset, col_offset)
            data = b.build(node, (), 0)
            docs.append(SourceDoc(file=file, data=data, value_spans=b.value_spans, key_spans=b.key_spans,
                                  index=index, tags=b.tags, duplicate_keys=b.duplicates,
                                  fallback=b.span(node), prefix=prefix))
    except yaml.YAMLError as exc:
        return docs, _yaml_error(exc, line_offset, col_offset)
    except ParseError as exc:
        return docs, exc
    except RecursionError:
        return docs, ParseError(f"nesting deeper than {MAX_DEPTH} levels", Span(1 + line_offset, 1, 1 + line_offset, 2))
    return docs, None


def parse_json_fallback(text: str, file: str) -> SourceDoc | None:
    """`json` for the rare valid JSON that YAML 1.1 cannot read. Positions fall back to the file start."""
    dups: list = []

    def pairs(items):
        d: dict = {}
        for k, v in items:
            if k in d:
                dups.append(((k,), Span(1, 1, 1, 2)))
            d[k] = v
        return d

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return None
    return SourceDoc(file=file, data=data, duplicate_keys=dups)


def embedded_offsets(outer: SourceDoc, path: Path, raw_text: str | None) -> tuple[int, int] | None:
    """Line and column shift that maps positions inside a string value back to the outer file.

    Exact for literal block scalars (`|`), which is how ConfigMaps carry JSON files, and for one-line
    strings written without escapes. None when the mapping cannot be exact (folded or escaped text).
    """
    span = outer.exact_span(path)
    value = outer.get(path)
    if span is None or raw_text is None or not isinstance(value, str):
        return None
    lines = raw_text.splitlines()
    first = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    head = first[span.col - 1:span.col]
    if head == "|":  # literal block: content starts on the next line, at the block's indentation
        body_lines = value.split("\n")
        for i in range(span.line, min(len(lines), span.line + len(body_lines) + 2)):
            line = lines[i]
            if line.strip():
                indent = len(line) - len(line.lstrip(" "))
                return span.line, indent
        return None
    if span.line == span.end_line:
        inner = first[span.col - 1:span.end_col - 1]
        if inner[:1] in ("'", '"') and inner[1:-1] == value:
            return span.line - 1, span.col  # skip the opening quote
        if inner == value:
            return span.line - 1, span.col - 1
    return None
