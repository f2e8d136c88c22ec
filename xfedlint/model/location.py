"""Where a thing is: a span in a source file, addressed both by position and by JSON pointer."""

from __future__ import annotations

from functools import lru_cache

import msgspec

Path = tuple  # a JSON-pointer-like path: keys (str) and list indexes (int)


class Span(msgspec.Struct, frozen=True):
    """A region of a file. Lines and columns are 1-based; the end is exclusive (SARIF's convention)."""

    line: int
    col: int
    end_line: int
    end_col: int

    @staticmethod
    def point(line: int, col: int) -> "Span":
        return Span(line, col, line, col + 1)


WHOLE_FILE = Span(1, 1, 1, 1)
FIRST_CHAR = Span(1, 1, 1, 2)  # where a problem of the whole file is reported: its first character


class Location:
    """A span in a named file, plus the JSON pointer of the value (stable across unrelated edits).

    Checks ask for many more locations than they report (every environment variable of every container,
    say), so a location taken in a document (`Location.in_doc`) resolves its span and pointer only when read:
    positions of a file are then computed only for the files that have findings (see SourceDoc.span).
    """

    __slots__ = ("file", "_span", "_pointer", "_doc", "_path", "_key")

    def __init__(self, file: str, span: Span, pointer: str = ""):
        self.file = file
        self._span = span
        self._pointer = pointer
        self._doc = None

    @classmethod
    def in_doc(cls, doc, path: Path, key: bool = False) -> "Location":
        """The location of the value (or its key) at `path` of SourceDoc `doc`, resolved when first read."""
        loc = cls.__new__(cls)
        loc.file = doc.file
        loc._doc, loc._path, loc._key = doc, path, key
        return loc

    def _resolve(self) -> None:
        doc = self._doc
        self._span = doc.span(self._path, key=self._key)
        self._pointer = pointer(doc.prefix + self._path)
        self._doc = self._path = None

    @property
    def pending_doc(self):
        """The SourceDoc this location still has to be resolved in (None once resolved)."""
        return self._doc

    @property
    def span(self) -> Span:
        if self._doc is not None:
            self._resolve()
        return self._span

    @property
    def pointer(self) -> str:
        if self._doc is not None:
            self._resolve()
        return self._pointer

    def _key_tuple(self) -> tuple:
        return (self.file, self.span, self.pointer)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Location):
            return NotImplemented
        return self._key_tuple() == other._key_tuple()

    def __hash__(self) -> int:
        return hash(self._key_tuple())

    def __repr__(self) -> str:
        return f"Location(file={self.file!r}, span={self.span!r}, pointer={self.pointer!r})"

    def __reduce__(self):  # pickled resolved: a worker's findings travel without their documents
        return (Location, self._key_tuple())


def pointer(path: Path) -> str:
    """RFC 6901 JSON pointer for a path tuple."""
    if not path:
        return ""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


@lru_cache(maxsize=16)
def source_lines(text: str) -> list[str]:
    """The lines of a source text, split once however many findings quote it (a str caches its own hash).
    Shared by fingerprints and excerpts: the same file is then split once per run."""
    return text.splitlines()

