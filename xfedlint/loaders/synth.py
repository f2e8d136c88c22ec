"""Building documents from other documents: the shapes of CLI outputs, made from Terraform or CloudFormation.

A synthesized document keeps, for every value it copies, the spans the value had in its source (re-rooted
at its new path), so the family loaders and the checks place their findings in the original file.
"""

from __future__ import annotations

from xfedlint.model.document import SourceDoc


def spans_of(doc: SourceDoc) -> dict:
    """A positioned document's spans as {path: (value span, key span or None)}."""
    return {p: (v, doc.key_spans.get(p)) for p, v in doc.value_spans.items()}


def graft(doc: SourceDoc, dst: tuple, spans: dict, src: tuple, value, duplicates: list = ()) -> None:
    """Puts `value` (read at `src` of the source) at `dst` of `doc`, with the spans under `src` re-rooted,
    and the source's duplicate keys (`SourceDoc.duplicate_keys`) under `src` too: AWS017 reports them."""
    set_path(doc.data, dst, value)
    n = len(src)
    for p, (vspan, kspan) in spans.items():
        if p[:n] == src:
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
