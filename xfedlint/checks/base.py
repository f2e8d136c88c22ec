"""The contract between the engine and the checks.

A check is a small pure function. It never restates its rule's ID, severity or docs: it yields `Hit`s
(message, location, related locations) and the engine attaches the rule's metadata from rules/<ID>.yaml.
Several rules may share one check with different params.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import msgspec

from xfedlint.findings import Related
from xfedlint.loaders._positions import embedded_offsets
from xfedlint.model.document import Src
from xfedlint.model.inventory import Inventory
from xfedlint.model.location import Location, Span


class Hit(msgspec.Struct, frozen=True):
    message: str
    location: Location
    related: tuple = ()  # Related
    severity: str | None = None  # only where the rule's YAML lists several severities
    anchor: str | None = None  # what the hit is about, so a more specific rule can supersede it
    sensitive: bool = False  # the value at the location is a secret: reports must never show it


class Check:
    """`fn(resource, ctx)` for each resource of `kind`; `fn(ctx)` once when `kind` is None.

    `fn` may be given as "module:function" so a check's module (and what it imports, such as the CEL
    parser) loads only when a run has resources for it: a one-file pre-commit run pays for one family.
    """

    __slots__ = ("_fn", "kind", "post", "needs")

    def __init__(self, fn: Callable[..., Iterable[Hit]] | str, kind: type | tuple | None = None,
                 post: bool = False, needs: tuple = ()) -> None:
        self._fn = fn
        self.kind = kind
        self.post = post  # runs after every other rule: fn(findings, ctx) -> findings (escalators such as X005)
        # Groups of resource kinds that must each be present for the check to find anything (for a check over
        # the whole inventory, or one that judges a resource against another); when one is absent the check
        # (and its module) is skipped.
        self.needs = needs

    def applies(self, inventory) -> bool:
        return all(inventory.of(group) for group in self.needs)

    @property
    def correlates(self) -> bool:
        """A correlation check (an `xfed_*` module): it reads the federation graph (`ctx.federation`), which
        the parallel scheduler builds in one process only."""
        name = self._fn if isinstance(self._fn, str) else getattr(self._fn, "__module__", "")
        return name.startswith("xfedlint.checks.xfed_")

    @property
    def fn(self) -> Callable[..., Iterable[Hit]]:
        if isinstance(self._fn, str):
            import importlib

            module, _, name = self._fn.partition(":")
            self._fn = getattr(importlib.import_module(module), name)
        return self._fn


class CheckContext(msgspec.Struct):
    inventory: Inventory
    params: dict = msgspec.field(default_factory=dict)
    config: Any = None  # xfedlint.config.Config, when the run has one (clusters, inventory completeness)

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    @property
    def federation(self):
        """The federation graph and its joins (xfedlint.graph.build.Federation), built once per run."""
        def build():
            from xfedlint.graph.build import build as build_graph

            issuer_of = getattr(self.config, "cluster_issuer", None)
            return build_graph(self.inventory, issuer_of)

        return self.inventory.memo("federation", self.inventory, build)

    def substring(self, src: Src, rel: tuple, start: int, end: int) -> Location:
        """The location of characters [start, end) of the string value at `rel`: exact where the string
        sits on one line or in a literal block; else the whole value."""
        path = src.base + rel
        loc = src.loc(*rel)
        text = self.inventory.texts.get(src.file)
        offsets = embedded_offsets(src.doc, path, text)
        value = src.doc.get(path)
        if offsets is None or not isinstance(value, str):
            return loc
        lo, co = offsets

        def at(offset: int) -> tuple[int, int]:
            line = value.count("\n", 0, offset)
            col = offset - (value.rfind("\n", 0, offset) + 1)
            return line + 1 + lo, col + 1 + co

        (l1, c1), (l2, c2) = at(start), at(end)
        return Location(loc.file, Span(l1, c1, l2, c2), loc.pointer)


def related(location: Location, message: str) -> Related:
    return Related(location, message)
