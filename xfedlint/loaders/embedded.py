"""Documents held inside string values: a ConfigMap's JSON file, a URL-encoded IAM policy, ..."""

from __future__ import annotations

from xfedlint.loaders import _positions
from xfedlint.model.document import SourceDoc
from xfedlint.model.location import WHOLE_FILE


def parse_embedded(outer: SourceDoc, path: tuple, text: str, source_text: str, exact: bool = True) -> SourceDoc | None:
    """A document held in a string value, its positions mapped into the outer file where exact.

    Positions are computed when first asked for (the outer document's too), as for any lazily loaded file.
    """
    docs, err = _positions.parse_yaml_stream(text, outer.file, prefix=path, lazy=True)
    if err is None and len(docs) == 1 and docs[0].locate is not None:
        inner = docs[0]
        inner.locate = _EmbeddedPositions(inner, outer, path, text, source_text, exact)
        return inner
    return _parse_positioned(outer, path, text, source_text, exact)


class _EmbeddedPositions:
    """Fills a lazily parsed embedded document's spans (mapped into the outer file) when first asked.
    A class rather than a closure so that documents can be pickled (see xfedlint.parallel)."""

    def __init__(self, inner: SourceDoc, outer: SourceDoc, path: tuple, text: str, source_text: str, exact: bool):
        self.inner, self.args = inner, (outer, path, text, source_text, exact)

    def __call__(self) -> None:
        positioned = _parse_positioned(*self.args)
        if positioned is not None:
            self.inner.value_spans, self.inner.key_spans = positioned.value_spans, positioned.key_spans
            self.inner.fallback = positioned.fallback

    def release(self) -> None:
        self.inner.value_spans, self.inner.key_spans, self.inner.fallback = {}, {}, WHOLE_FILE
        self.inner.locate, self.inner.located_by = self, None
        self.args[0].release_positions()  # the outer document, filled to map positions into the file


def _parse_positioned(outer: SourceDoc, path: tuple, text: str, source_text: str, exact: bool) -> SourceDoc | None:
    offsets = _positions.embedded_offsets(outer, path, source_text) if exact else None
    where = outer.span(path)
    # Offsets only shift spans: one parse tells whether the text is one document, exactly placed or not
    docs, err = _positions.parse_yaml_stream(text, outer.file, *(offsets or (0, 0)), prefix=path)
    if offsets is not None and err is None and len(docs) == 1:
        return docs[0]
    if err is not None or len(docs) != 1:
        fallback = _positions.parse_json_fallback(text, outer.file)
        if fallback is None:
            return None
        docs = [fallback]
    inner = docs[0]
    # Positions inside cannot be mapped exactly: everything points at the string that holds the document.
    return SourceDoc(file=outer.file, data=inner.data, fallback=where, prefix=path,
                     duplicate_keys=[(p, where) for p, _ in inner.duplicate_keys])
