"""YAML and JSON to `SourceDoc`s, keeping (or computing on demand) the line and column of every key and value.

Positions are expensive and most files of a large scan have no finding, so loaders ask for data only
(`lazy=True`): JSON goes through `json` (C, some twenty times faster than libyaml), YAML through libyaml
without recording positions (`_yaml.data_only`); a document's spans are computed the first time one is
asked for, by parsing its text again on the positioned path (`_yaml.positioned_stream`). Anything unusual
takes the positioned path at once, so what is reported never depends on laziness. If libyaml rejects valid
JSON we fall back to `json` with pointer-only positions.
"""

from __future__ import annotations

import json
import re
import sys
import weakref

from xfedlint.model.document import SourceDoc
from xfedlint.model.location import FIRST_CHAR, WHOLE_FILE, Path, Span, source_lines

MAX_DEPTH = 200  # nesting deeper than any real configuration; beyond it the file is reported, not parsed


class ParseError(Exception):
    """A document could not be parsed. `span` is where; `message` says why, in the user's terms."""

    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.message = message
        self.span = span


def parse_yaml_stream(text: str, file: str, line_offset: int = 0, col_offset: int = 0,
                      prefix: Path = (), lazy: bool = False) -> tuple[list[SourceDoc], ParseError | None]:
    """Every document of a YAML (or JSON) stream, and the error that stopped parsing, if any.

    Documents before a syntax error are kept: one broken document does not hide the others.
    `lazy`: build the data only, and record positions the first time a document is asked for one.
    """
    if lazy:
        docs = _data_stream(text, file, line_offset, col_offset, prefix)
        if docs is not None:
            return docs, None
    from xfedlint.loaders import _yaml

    return _yaml.positioned_stream(text, file, line_offset, col_offset, prefix)


class _NeedsPositions(Exception):
    """The fast data-only path met something rare that is reported with a position: take the full path."""


_intern = sys.intern


def _no_duplicates(pairs: list) -> dict:
    # Keys interned: `json` shares equal keys within one document only, and every file repeats them.
    d = {_intern(k): v for k, v in pairs}
    if len(d) != len(pairs):
        raise _NeedsPositions
    return d


def _data_stream(text: str, file: str, line_offset: int, col_offset: int, prefix: Path) -> list[SourceDoc] | None:
    """The documents' data without positions, or None where the positioned path must read this text.

    JSON goes through `json` when its bracket count bounds the nesting under MAX_DEPTH.
    """
    head = text.lstrip()[:1]
    if head in ("{", "[") and text.count("{") + text.count("[") <= MAX_DEPTH:
        try:
            datas = [(0, json.loads(text, object_pairs_hook=_no_duplicates))]
        except (ValueError, _NeedsPositions):  # YAML that only looks like JSON, broken JSON, a duplicate key
            return None
    else:
        from xfedlint.loaders import _yaml

        datas = _yaml.data_only(text)
        if datas is None:
            return None
    docs = [SourceDoc(file=file, data=data, index=index, prefix=prefix) for index, data in datas]
    locate = _StreamPositions(text, line_offset, col_offset, docs)
    for d in docs:
        d.locate = locate
    return docs


class _StreamPositions:
    """Fills the spans of a lazily parsed stream's documents, all at once, when one of them is asked.

    It refers to the documents weakly: a document no loader kept (a Service, say) must not live on through
    its siblings. Picklable (worker processes hand documents back): only the live documents travel.
    """

    def __init__(self, text: str, line_offset: int, col_offset: int, docs: list):
        self.args = (text, line_offset, col_offset)
        self.refs = [weakref.ref(d) for d in docs]

    def __call__(self) -> None:
        # The composed node trees answer the few spans asked for (the findings of one file) directly: no
        # map of every key and value is built. The text was read on the data path, so it composes safely.
        from xfedlint.loaders import _yaml

        text, line_offset, col_offset = self.args
        roots = _yaml.node_roots(text)
        for d in self._docs():
            d.locate = None
            root = roots.get(d.index)
            if root is not None:
                d.finder = _yaml.NodeSpans(root, line_offset, col_offset)
                d.fallback = d.finder.find((), False)

    def release(self) -> None:
        for d in self._docs():
            d.value_spans, d.key_spans, d.fallback, d.finder = {}, {}, WHOLE_FILE, None
            d.locate, d.located_by = self, None

    def _docs(self) -> list[SourceDoc]:
        return [d for d in (ref() for ref in self.refs) if d is not None]

    def __getstate__(self):
        return self.args, self._docs()

    def __setstate__(self, state):
        self.args, docs = state
        self.refs = [weakref.ref(d) for d in docs]


def parse_json_fallback(text: str, file: str) -> SourceDoc | None:
    """`json` for the rare valid JSON that YAML 1.1 cannot read. Positions fall back to the file start."""
    dups: list = []

    def pairs(items):
        d: dict = {}
        for k, v in items:
            if k in d:
                dups.append(((k,), FIRST_CHAR))
            d[k] = v
        return d

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return None
    return SourceDoc(file=file, data=data, duplicate_keys=dups)


_TAG = re.compile(r"![^\s]*[ \t]+")


def embedded_offsets(outer: SourceDoc, path: Path, raw_text: str | None) -> tuple[int, int] | None:
    """Line and column shift that maps positions inside a string value back to the outer file.

    Exact for literal block scalars (`|`), which is how ConfigMaps carry JSON files, for Terraform heredocs
    (`<<EOT`, `<<-EOT`), and for one-line strings written without escapes. None when the mapping cannot be
    exact (folded or escaped text).
    """
    span = outer.exact_span(path)
    value = outer.get(path)
    if span is None or raw_text is None or not isinstance(value, str):
        return None
    lines = source_lines(raw_text)  # cached: a file may hold thousands of embedded documents
    first = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    tag = _TAG.match(first, span.col - 1)
    if tag is not None:  # a tagged scalar (CloudFormation `!Sub |`): its node starts at the tag
        span = Span(span.line, tag.end() + 1, span.end_line, span.end_col)
    head = first[span.col - 1:span.col]
    if head == "|":  # literal block: content starts on the next line, at the block's indentation
        body_lines = value.split("\n")
        for i in range(span.line, min(len(lines), span.line + len(body_lines) + 2)):
            line = lines[i]
            if line.strip():
                indent = len(line) - len(line.lstrip(" "))
                return span.line, indent
        return None
    if first[span.col - 1:span.col + 1] == "<<":  # a Terraform heredoc: the body starts on the next line
        if first[span.col + 1:span.col + 2] != "-":
            return span.line, 0
        body = lines[span.line:span.line + max(1, value.count("\n"))]  # not the closing marker
        indents = [len(line) - len(line.lstrip(" \t")) for line in body if line.strip()]
        return span.line, min(indents) if indents else 0  # `<<-` strips the common indentation
    if span.line == span.end_line:
        inner = first[span.col - 1:span.end_col - 1]
        if inner[:1] in ("'", '"') and inner[1:-1] == value:
            return span.line - 1, span.col  # skip the opening quote
        if inner == value:
            return span.line - 1, span.col - 1
    return None
