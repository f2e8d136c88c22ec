"""Building documents from other documents: the shapes of CLI outputs, made from Terraform or CloudFormation.

A synthesized document keeps, for every value it copies, the spans the value had in its source (re-rooted
at its new path), so the family loaders and the checks place their findings in the original file.
"""

from __future__ import annotations

from xfedlint.model.document import SourceDoc


class SpanMap(dict):
    """{path: (value span, key span or None)} of a whole source document, which answers `under(prefix)` from
    an index built on first use: a template of thousands of resources is grafted from thousands of times,
    and scanning every span each time was quadratic (2,000 CloudFormation roles: 6.8 s). Not to be changed
    once asked."""

    _index: dict | None = None

    def under(self, prefix: tuple) -> list:
        """(path, spans) of every path that starts with `prefix`, `prefix` itself included."""
        if self._index is None:
            index: dict = {}
            for p, pair in self.items():
                for k in range(len(p) + 1):
                    index.setdefault(p[:k], []).append((p, pair))
            self._index = index
        return self._index.get(prefix, [])


def spans_of(doc: SourceDoc) -> SpanMap:
    """A positioned document's spans as {path: (value span, key span or None)}."""
    return SpanMap({p: (v, doc.key_spans.get(p)) for p, v in doc.value_spans.items()})


def graft(doc: SourceDoc, dst: tuple, spans: dict, src: tuple, value, duplicates: list = ()) -> None:
    """Puts `value` (read at `src` of the source) at `dst` of `doc`, with the spans under `src` re-rooted,
    and the source's duplicate keys (`SourceDoc.duplicate_keys`) under `src` too: AWS017 reports them."""
    set_path(doc.data, dst, value)
    n = len(src)
    found = spans.under(src) if isinstance(spans, SpanMap) else [(p, s) for p, s in spans.items() if p[:n] == src]
    for p, (vspan, kspan) in found:
        doc.value_spans[dst + p[n:]] = vspan
        if kspan is not None:
            doc.key_spans[dst + p[n:]] = kspan
    doc.duplicate_keys.extend((dst + tuple(p)[n:], span) for p, span in duplicates if tuple(p)[:n] == src)


def set_path(data, path: tuple, value) -> None:
    """data[path] = value, making the mappings (and list items) on the way."""
    if not path:
        if isinstance(data, dict) and isinstance(value, dict):
            data.clear()
            data.update(value)
        return
    node = data
    for p in path[:-1]:
        if isinstance(node, list):
            while len(node) <= p:
                node.append({})
            node = node[p]
        else:
            node = node.setdefault(p, {})
    if isinstance(node, list):
        while len(node) <= path[-1]:
            node.append(None)
    node[path[-1]] = value
