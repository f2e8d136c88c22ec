"""The YAML side of `_positions`: libyaml with a lean resolver, a positioned builder and a data-only one.

Imported on first need: a scan of JSON files without findings never loads PyYAML (about 15 ms of start-up).
libyaml (PyYAML's C binding) composes the node graph with marks; we then build plain Python data from the
nodes ourselves, which is both safe (no object construction) and the only place positions can be kept.
"""

from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from xfedlint.loaders._positions import MAX_DEPTH, ParseError, _intern, _NeedsPositions
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


_MERGE = "tag:yaml.org,2002:merge"
_STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"
_constructor = yaml.constructor.SafeConstructor()
_SCALARS = {
    "tag:yaml.org,2002:null": lambda n: None,
    "tag:yaml.org,2002:bool": _constructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": _constructor.construct_yaml_int,
    "tag:yaml.org,2002:float": _constructor.construct_yaml_float,
}


def node_span(node, line_offset: int, col_offset: int) -> Span:
    """A composed node's span; an embedded document (a block scalar, a heredoc) is indented as a whole, so
    every column shifts alike."""
    s, e = node.start_mark, node.end_mark
    return Span(s.line + 1 + line_offset, s.column + 1 + col_offset, e.line + 1 + line_offset,
                e.column + 1 + col_offset)


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
        return node_span(node, self.line_offset, self.col_offset)

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


def _mark_span(mark, line_offset: int, col_offset: int) -> Span:
    """The character at a libyaml mark (of an error or an event), shifted as the document is."""
    if mark is None:
        return Span(1 + line_offset, 1 + col_offset, 1 + line_offset, 2 + col_offset)
    return Span.point(mark.line + 1 + line_offset, mark.column + 1 + col_offset)


def _yaml_error(exc: yaml.YAMLError, line_offset: int = 0, col_offset: int = 0) -> ParseError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    span = _mark_span(mark, line_offset, col_offset)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    msg = f"{context}: {problem}" if context else str(problem)
    return ParseError(f"YAML syntax error: {msg}", span)


def positioned_stream(text: str, file: str, line_offset: int = 0, col_offset: int = 0,
                      prefix: Path = ()) -> tuple[list[SourceDoc], ParseError | None]:
    """Every document with the span of every key and value, and the error that stopped parsing, if any."""
    too_deep = _too_deep(text, line_offset, col_offset) if _may_nest_deeply(text) else None
    if too_deep is not None:  # compose only the documents before the one nested too deeply
        text = text[:too_deep[0]]
    docs, err = _compose_stream(text, file, line_offset, col_offset, prefix)
    if too_deep is not None and err is None:
        err = too_deep[1]
    return docs, err


def node_roots(text: str) -> dict:
    """Each document's composed root node by index; {} when libyaml cannot compose the text (valid JSON that
    YAML 1.1 rejects, say: positions then fall back to the start of the file)."""
    try:
        return {i: node for i, node in enumerate(yaml.compose_all(text, Loader=_Loader)) if node is not None}
    except (yaml.YAMLError, RecursionError):
        return {}


class NodeSpans:
    """Spans read off a composed node tree, exactly as `_Builder`'s maps would give them for a document
    without anchors, merge keys or duplicate keys (the only ones read lazily)."""

    __slots__ = ("root", "line_offset", "col_offset")

    def __init__(self, root, line_offset: int, col_offset: int):
        self.root, self.line_offset, self.col_offset = root, line_offset, col_offset

    def _walk(self, path: tuple):
        """(deepest node reached, its key node or None, whether the whole path was found)."""
        node, key_node = self.root, None
        for p in path:
            cls = node.__class__
            if cls is MappingNode:
                for k, v in node.value:
                    if k.value == p:
                        node, key_node = v, k
                        break
                else:
                    return node, key_node, False
            elif cls is SequenceNode and type(p) is int and 0 <= p < len(node.value):
                node, key_node = node.value[p], None
            else:
                return node, key_node, False
        return node, key_node, True

    def _span(self, node) -> Span:
        return node_span(node, self.line_offset, self.col_offset)

    def find(self, path: tuple, key: bool) -> Span:
        node, key_node, whole = self._walk(path)
        if key and whole and key_node is not None:
            return self._span(key_node)
        return self._span(node)

    def exact(self, path: tuple) -> Span | None:
        node, _key_node, whole = self._walk(path)
        return self._span(node) if whole else None


def data_only(text: str) -> list[tuple[int, object]] | None:
    """(document index, data) of every document, or None where the positioned path must read this text:
    a syntax error, a tag, a duplicate or merge key, an anchor (the positioned builder shares aliased values
    instead of expanding them), or nesting too deep. A text that might nest deeply (many collection
    indicators) is first read as events, as on the positioned path; if no document is too deep, its data is
    built here too (a 10 MB file of tiny nodes would otherwise cost a span per node: gigabytes)."""
    if "&" in text or (_may_nest_deeply(text) and _too_deep(text, 0, 0) is not None):
        return None
    try:
        return [(index, _data(node, 0)) for index, node in enumerate(yaml.compose_all(text, Loader=_Loader))
                if node is not None]
    except (_NeedsPositions, yaml.YAMLError, RecursionError):
        return None


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


MAX_NODES = 1_000_000  # per document; a 10 MB `kubectl get -o yaml` dump has about 400,000

_last_prepass: list = [None, None]  # (text, result): the data path and then the positioned path ask alike


def _too_deep(text: str, line_offset: int, col_offset: int) -> tuple[int, ParseError] | None:
    key = (text, line_offset, col_offset)
    if _last_prepass[0] is not None and _last_prepass[0][0] is text and _last_prepass[0][1:] == key[1:]:
        return _last_prepass[1]
    result = _prepass(text, line_offset, col_offset)
    _last_prepass[:] = [key, result]
    return result


def _prepass(text: str, line_offset: int, col_offset: int) -> tuple[int, ParseError] | None:
    """Where the first document nested deeper than MAX_DEPTH (or made of more than MAX_NODES nodes) starts,
    and the error naming the place. Beyond MAX_NODES a document costs seconds and hundreds of megabytes to
    compose (a file of tiny nodes such as `- 1` lines) and is not a configuration anyone writes."""
    depth = nodes = 0
    doc_start = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            cls = event.__class__
            if cls is yaml.DocumentStartEvent:
                doc_start = event.start_mark.index
                nodes = 0
            elif cls is yaml.ScalarEvent or cls is yaml.AliasEvent:
                nodes += 1
            elif cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
                depth += 1
                nodes += 1
                if depth > MAX_DEPTH:
                    return doc_start, ParseError(f"nesting deeper than {MAX_DEPTH} levels",
                                                 _mark_span(event.start_mark, line_offset, col_offset))
            elif cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
                depth -= 1
            if nodes > MAX_NODES:
                return doc_start, ParseError(f"more than {MAX_NODES:,} nodes in one document: too large to analyse",
                                             _mark_span(event.start_mark, line_offset, col_offset))
    except yaml.YAMLError:
        return None  # composing stops at the same error, and nothing before it was too deep
    return None


def _data(node, depth: int):
    """Plain data from a composed node, as `_Builder.build` makes it, without recording any position."""
    if depth > MAX_DEPTH:
        raise _NeedsPositions
    cls = node.__class__
    tag = node.tag
    if cls is ScalarNode:
        if tag == _STR:
            value = node.value
            # Short values repeat across manifests (`true`, `IfNotPresent`, environment names): one copy each.
            return _intern(value) if len(value) <= 24 else value
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


