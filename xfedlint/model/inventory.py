"""Everything one run loaded: resources by kind, the problems met while loading, and file counts."""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Hashable, Iterator, TypeVar

import msgspec

from xfedlint.model.location import Location
from xfedlint.model.resources import Resource

R = TypeVar("R", bound=Resource)


class LoadProblem(msgspec.Struct, frozen=True):
    """An input that could not be read or understood (reported as XF001). Bad input is data."""

    location: Location
    message: str
    reason: str  # short machine-readable cause: unreadable, not-regular, binary, encoding, too-large, syntax, template, ...


class Inventory(msgspec.Struct):
    resources: dict = msgspec.field(default_factory=lambda: defaultdict(list))  # type -> [Resource]
    problems: list = msgspec.field(default_factory=list)
    notes: list = msgspec.field(default_factory=list)  # LoadProblems reported as notes (a Terraform module not inspected)
    files_seen: int = 0  # files read (or attempted)
    files_relevant: int = 0  # files holding at least one federation resource
    texts: dict = msgspec.field(default_factory=dict)  # file -> source text, for source excerpts and suppressions

    _indexes: dict = msgspec.field(default_factory=dict)  # (kind, key function) -> {key: [resources]}

    def add(self, resource: Resource) -> None:
        self.resources[type(resource)].append(resource)
        self._indexes.clear()

    def of(self, kind: type[R] | tuple) -> list[R]:
        """All resources of `kind` (a type or a tuple of types), subclasses included."""
        out: list = []
        for k, items in self.resources.items():
            if issubclass(k, kind):
                out.extend(items)
        return out

    def index(self, kind: type[R] | tuple, key: Callable[[R], Hashable]) -> dict:
        """Resources of `kind` grouped by `key(resource)`, built once per run: joins across files stay linear.

        Pass a module-level function as `key` (its identity names the index); None keys are left out.
        """
        cache_key = (kind, key)
        idx = self._indexes.get(cache_key)
        if idx is None:
            idx = {}
            for r in self.of(kind):
                k = key(r)
                if k is not None:
                    idx.setdefault(k, []).append(r)
            self._indexes[cache_key] = idx
        return idx

    def memo(self, name: str, obj, compute: Callable):
        """A value derived from one resource (say, its token uses), computed once per run."""
        key = (name, id(obj))
        if key not in self._indexes:
            self._indexes[key] = compute()
        return self._indexes[key]

    def lookup(self, kind: type[R] | tuple, key: Callable[[R], Hashable], value: Hashable) -> list[R]:
        return self.index(kind, key).get(value, [])

    def __iter__(self) -> Iterator[Resource]:
        for items in self.resources.values():
            yield from items

    def __len__(self) -> int:
        return sum(len(v) for v in self.resources.values())
