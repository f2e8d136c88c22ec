"""Everything one run loaded: resources by kind, the problems met while loading, and file counts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterator, TypeVar

from xfedlint.model.location import Location
from xfedlint.model.resources import Resource

R = TypeVar("R", bound=Resource)


@dataclass(frozen=True)
class LoadProblem:
    """An input that could not be read or understood (reported as XF001). Bad input is data."""

    location: Location
    message: str
    reason: str  # short machine-readable cause: unreadable, binary, encoding, too-large, syntax, template, ...


@dataclass
class Inventory:
    resources: dict = field(default_factory=lambda: defaultdict(list))  # type -> [Resource]
    problems: list = field(default_factory=list)
    files_seen: int = 0  # files read (or attempted)
    files_relevant: int = 0  # files holding at least one federation resource
    texts: dict = field(default_factory=dict)  # file -> source text, for source excerpts and suppressions

    def add(self, resource: Resource) -> None:
        self.resources[type(resource)].append(resource)

    def of(self, kind: type[R]) -> list[R]:
        """All resources of `kind`, subclasses included."""
        out: list = []
        for k, items in self.resources.items():
            if issubclass(k, kind):
                out.extend(items)
        return out

    def __iter__(self) -> Iterator[Resource]:
        for items in self.resources.values():
            yield from items

    def __len__(self) -> int:
        return sum(len(v) for v in self.resources.values())
