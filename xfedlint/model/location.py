"""Where a thing is: a span in a source file, addressed both by position and by JSON pointer."""

from __future__ import annotations

from dataclasses import dataclass

Path = tuple  # a JSON-pointer-like path: keys (str) and list indexes (int)


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a file. Lines and columns are 1-based; the end is exclusive (SARIF's convention)."""

    line: int
    col: int
    end_line: int
    end_col: int

    @staticmethod
    def point(line: int, col: int) -> "Span":
        return Span(line, col, line, col + 1)


WHOLE_FILE = Span(1, 1, 1, 1)


@dataclass(frozen=True, slots=True)
class Location:
    """A span in a named file, plus the JSON pointer of the value (stable across unrelated edits)."""

    file: str
    span: Span
    pointer: str = ""


def pointer(path: Path) -> str:
    """RFC 6901 JSON pointer for a path tuple."""
    if not path:
        return ""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
