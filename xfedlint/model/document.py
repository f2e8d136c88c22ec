"""A parsed document: plain data plus the source span of every key and value.

Loaders turn text into `SourceDoc`s; resources point into them with `Src` (document + base path), so a
check can ask for the exact line and column of any key or value it judges. Positions are often computed
lazily: a loader may hand over a document whose spans are filled by `locate` on first use, so the files
without findings never pay for them.
"""

from __future__ import annotations

from typing import Any, Callable

import msgspec

from xfedlint.model.location import WHOLE_FILE, Location, Path, Span


class SourceDoc(msgspec.Struct, eq=False, weakref=True):
    """One YAML/JSON document (or an embedded one, its spans already mapped to the outer file)."""

    file: str
    data: Any
    value_spans: dict = msgspec.field(default_factory=dict)  # Path -> Span of the value
    key_spans: dict = msgspec.field(default_factory=dict)  # Path -> Span of the mapping key holding the value
    index: int = 0  # position of the document in a multi-document stream
    tags: list = msgspec.field(default_factory=list)  # (Path, tag, Span) for non-standard YAML tags
    duplicate_keys: list = msgspec.field(default_factory=list)  # (Path, Span) of a key repeated in one mapping
    fallback: Span = WHOLE_FILE  # where anything without a recorded span is placed
    prefix: Path = ()  # for an embedded document: the outer path of the string that held it
    locate: Callable | None = None  # fills value_spans, key_spans and fallback on first use (lazy positions)
    located_by: Any = None  # the `locate` that filled them, to release them again
    finder: Any = None  # instead of the maps: .find(path, key) and .exact(path)

    def span(self, path: Path, key: bool = False) -> Span:
        """The span of the value (or of its key) at `path`, else of the nearest ancestor that has one."""
        self._fill()
        if self.finder is not None:
            return self.finder.find(tuple(path), key)
        p = tuple(path)
        if key and p in self.key_spans:
            return self.key_spans[p]
        while True:
            s = self.value_spans.get(p)
            if s is not None:
                return s
            s = self.key_spans.get(p)
            if s is not None:
                return s
            if not p:
                return self.fallback
            p = p[:-1]

    def exact_span(self, path: Path) -> Span | None:
        """The span recorded for the value at `path` itself, None when it has none."""
        self._fill()
        if self.finder is not None:
            return self.finder.exact(tuple(path))
        return self.value_spans.get(tuple(path))

    def _fill(self) -> None:
        if self.locate is not None:
            locate, self.locate = self.locate, None
            self.located_by = locate
            locate()

    def release_positions(self) -> None:
        """Forgets lazily computed spans (of this document's whole stream), which are computed again if
        asked: a large scan holds positions only while it places a file's findings."""
        release = getattr(self.located_by, "release", None)
        if release is not None:
            release()

    def get(self, path: Path, default: Any = None) -> Any:
        node = self.data
        for p in path:
            try:
                node = node[p]
            except (KeyError, IndexError, TypeError):
                return default
        return node


class Src(msgspec.Struct, frozen=True):
    """Where a resource sits: a document and the path of the resource's root inside it."""

    doc: SourceDoc
    base: Path = ()

    @property
    def file(self) -> str:
        return self.doc.file

    def get(self, *rel: Any, default: Any = None) -> Any:
        return self.doc.get(self.base + rel, default)

    def loc(self, *rel: Any, key: bool = False) -> Location:
        return Location.in_doc(self.doc, self.base + rel, key)

    @property
    def order(self) -> tuple:
        """Sorts resources as they appear: by file, document, then path (without computing positions)."""
        return (self.doc.file, self.doc.index, tuple((type(p) is int, p) for p in self.doc.prefix + self.base))

    def at(self, *rel: Any) -> "Src":
        return Src(self.doc, self.base + rel)
