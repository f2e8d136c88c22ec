"""What every family loader shares: the context it loads in and the error for a wrong shape."""

from __future__ import annotations

import msgspec

from xfedlint.model.document import SourceDoc
from xfedlint.model.location import Path


class ShapeError(Exception):
    """A document was recognised (say, as a trust policy) but a field has the wrong shape."""

    def __init__(self, message: str, doc: SourceDoc, path: Path = ()):
        super().__init__(message)
        self.message = message
        self.doc = doc
        self.path = tuple(path)


class LoadContext(msgspec.Struct):
    """The file being loaded: its display name and text (for embedded documents), and run settings."""

    file: str
    text: str
    policy_levels: dict = msgspec.field(default_factory=dict)  # glob -> GCP IAM policy level (config)
    positioned: list | None = None  # the file's documents with spans, once parsed


def as_list(value) -> list:
    """IAM and Kubernetes fields are often 'a string or a list of strings'."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def mapping_at(doc: SourceDoc, path: Path, what: str) -> dict:
    """The mapping at `path` ({} when absent); a ShapeError when something else is there."""
    value = doc.get(path)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ShapeError(f"{what} must be a mapping, found {type_name(value)}", doc, path)
    return value


def type_name(value) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)
