"""The federation graph as text: a tree for the terminal, Mermaid and DOT for docs and reviews, JSON for
machines. Pure: a `Federation` (or its `Graph`) in, a string out; every order comes from `Graph.sorted()`,
so the same inputs give byte-identical output. rich is imported only for the terminal tree.

Weak edges (wildcards, prefix matches, missing conditions, another cloud's audience: `Edge.weak`) are marked
in every format: `⚠ reason` in the tree, dotted red arrows in Mermaid, dashed red edges in DOT, `"weak"` in
JSON. Nodes that are only referenced (not defined in a scanned file) are drawn with a dashed border.
"""

from __future__ import annotations

import json

import msgspec

from xfedlint.graph.model import Edge, Graph, Node

FORMATS = ("tree", "mermaid", "dot", "json")
JSON_VERSION = 1

KUBERNETES_KINDS = ("service-account", "workload")
ISSUER_KINDS = ("issuer",)
PERMISSION_KINDS = ("aws-policy", "azure-role", "gcp-role")

# (subgraph/cluster id, title, node kinds), in drawing order; a kind not listed goes to "other"
GROUPS = (
    ("kubernetes", "Kubernetes", KUBERNETES_KINDS),
    ("aws", "AWS", ("aws-role", "aws-policy")),
    ("azure", "Azure", ("azure-identity", "azure-role")),
    ("gcp", "GCP", ("gcp-provider", "gcp-service-account", "gcp-role")),
    ("issuers", "Issuers", ISSUER_KINDS),
)
OTHER_GROUP = ("other", "Other")

KIND_NAMES = {
    "service-account": "service account",
    "workload": "workload",
    "issuer": "issuer",
    "aws-role": "AWS role",
    "aws-policy": "AWS policy",
    "azure-identity": "Azure identity",
    "azure-role": "Azure role",
    "gcp-provider": "GCP provider",
    "gcp-service-account": "GCP service account",
    "gcp-role": "GCP role",
}


def render(federation, fmt: str, *, rich: bool = False, width: int | None = None) -> str:
    """`federation` is a Federation or a Graph; `fmt` one of FORMATS. `rich` (tree only): styled terminal
    output of the given width instead of plain text."""
    graph = _graph(federation)
    if fmt == "tree":
        return tree(graph, rich=rich, width=width)
    if fmt == "mermaid":
        return mermaid(graph)
    if fmt == "dot":
        return dot(graph)
    if fmt == "json":
        return json_text(graph)
    raise ValueError(f"unknown graph format {fmt!r}; expected one of {', '.join(FORMATS)}")


_CONTROL = {c: " " for c in [*range(0, 32), *range(127, 160)]}


def clean(text) -> str:
    """One line without control characters (a label from a scanned file must not move the terminal's cursor)."""
    return str(text).translate(_CONTROL)


def _graph(obj) -> Graph:
    return getattr(obj, "graph", obj)


def _group(kind: str) -> tuple[str, str]:
    for gid, title, kinds in GROUPS:
        if kind in kinds:
            return gid, title
    return OTHER_GROUP


def _is_identity(node: Node) -> bool:
    return node.kind not in KUBERNETES_KINDS + ISSUER_KINDS + PERMISSION_KINDS


def _where(node: Node) -> str:
    loc = node.location
    return f"{loc.file}:{loc.span.line}" if loc is not None else ""


def _display_labels(nodes: list[Node]) -> dict:
    """node id -> label; a label several nodes share gets the defining file (or the node ID) added."""
    count: dict = {}
    for n in nodes:
        count[n.label] = count.get(n.label, 0) + 1
    out = {}
    for n in nodes:
        if count[n.label] > 1:
            out[n.id] = (n.label, _where(n) or n.id.split(":", 1)[-1])
        else:
            out[n.id] = (n.label, "")
    return out


def _edge_text(e: Edge) -> str:
    base = {"runs-as": "runs as", "federates": "federates", "grants": "grants"}.get(e.kind, e.label or e.kind)
    return f"{base}: {e.weak}" if e.weak else base


# ---- JSON ----------------------------------------------------------------------------------------------


def _pos(loc) -> dict:
    return {"file": loc.file, "line": loc.span.line, "column": loc.span.col}


def to_dict(graph) -> dict:
    nodes, edges = _graph(graph).sorted()
    return {
        "version": JSON_VERSION,
        "nodes": [{"id": n.id, "kind": n.kind, "label": n.label,
                   **(_pos(n.location) if n.location is not None else {"file": None, "line": None, "column": None})}
                  for n in nodes],
        "edges": [{"source": e.source, "target": e.target, "kind": e.kind, "label": e.label, "weak": e.weak,
                   "evidence": [_pos(loc) for loc in e.evidence if loc is not None]}
                  for e in edges],
    }


def json_text(graph) -> str:
    return json.dumps(to_dict(graph), indent=2, ensure_ascii=False) + "\n"


# ---- Mermaid -------------------------------------------------------------------------------------------

_MERMAID_ESCAPES = {"#": "#35;", '"': "#quot;", "[": "#91;", "]": "#93;", "{": "#123;", "}": "#125;",
                    "|": "#124;", "<": "#lt;", ">": "#gt;", "`": "#96;", "&": "#38;"}

_MERMAID_SHAPES = {  # kind -> (open, close); the label goes quoted in between
    "service-account": ("([", "])"),
    "workload": ("[", "]"),
    "issuer": ("{{", "}}"),
    "aws-policy": ("[/", "/]"),
    "azure-role": ("[/", "/]"),
    "gcp-role": ("[/", "/]"),
}
_MERMAID_IDENTITY_SHAPE = ("[[", "]]")


def mermaid_escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label: quotes, brackets, braces, pipes, angle brackets, `#`,
    backticks and `&` as Mermaid entity codes; line breaks as spaces."""
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in clean(text))


def _mermaid_label(parts: tuple[str, str]) -> str:
    label, extra = parts
    return '"' + mermaid_escape(label) + ("<br/>" + mermaid_escape(extra) if extra else "") + '"'


def mermaid(graph) -> str:
    nodes, edges = _graph(graph).sorted()
    ids = {n.id: f"n{i}" for i, n in enumerate(nodes, 1)}
    labels = _display_labels(nodes)
    lines = ["flowchart LR"]
    for gid, title, members in _grouped(nodes):
        lines.append(f'  subgraph {gid}["{mermaid_escape(title)}"]')
        for n in members:
            o, c = _MERMAID_SHAPES.get(n.kind, _MERMAID_IDENTITY_SHAPE if _is_identity(n) else ("[", "]"))
            lines.append(f"    {ids[n.id]}{o}{_mermaid_label(labels[n.id])}{c}")
        lines.append("  end")
    weak_links = []
    for i, e in enumerate(e for e in edges if e.source in ids and e.target in ids):
        text = '"' + mermaid_escape(_edge_text(e)) + '"'
        if e.weak:
            arrow = f"-. {text} .->"
            weak_links.append(str(i))
        elif e.kind == "federates":
            arrow = f"== {text} ==>"
        else:
            arrow = f"-- {text} -->"
        lines.append(f"  {ids[e.source]} {arrow} {ids[e.target]}")
    referenced = [ids[n.id] for n in nodes if not n.scanned]
    lines.append("  classDef referenced stroke-dasharray: 4 3")
    if referenced:
        lines.append(f"  class {','.join(referenced)} referenced")
    if weak_links:
        lines.append(f"  linkStyle {','.join(weak_links)} stroke:#d62728,color:#d62728")
    return "\n".join(lines) + "\n"


def _grouped(nodes: list[Node]) -> list[tuple[str, str, list[Node]]]:
    by: dict = {}
    for n in nodes:
        by.setdefault(_group(n.kind), []).append(n)
    order = [(gid, title) for gid, title, _ in GROUPS] + [OTHER_GROUP]
    return [(gid, title, by[(gid, title)]) for gid, title in order if (gid, title) in by]


# ---- DOT -----------------------------------------------------------------------------------------------

_DOT_SHAPES = {
    "service-account": "ellipse",
    "workload": "box",
    "issuer": "hexagon",
    "aws-policy": "parallelogram",
    "azure-role": "parallelogram",
    "gcp-role": "parallelogram",
}


def dot_quote(*lines: str) -> str:
    """A DOT double-quoted string of one or more lines: backslashes and quotes escaped, control characters
    as spaces, the lines joined with `\\n`."""
    return '"' + "\\n".join(clean(t).replace("\\", "\\\\").replace('"', '\\"') for t in lines if t) + '"'


def dot(graph) -> str:
    nodes, edges = _graph(graph).sorted()
    labels = _display_labels(nodes)
    lines = ["digraph federation {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for gid, title, members in _grouped(nodes):
        lines.append(f"  subgraph cluster_{gid} {{")
        lines.append(f"    label={dot_quote(title)};")
        for n in members:
            label, extra = labels[n.id]
            attrs = [f"label={dot_quote(label, extra)}",
                     f"shape={_DOT_SHAPES.get(n.kind, 'box3d' if _is_identity(n) else 'box')}"]
            if not n.scanned:
                attrs.append("style=dashed")
            lines.append(f"    {dot_quote(n.id)} [{', '.join(attrs)}];")
        lines.append("  }")
    known = {n.id for n in nodes}
    for e in edges:
        if e.source not in known or e.target not in known:
            continue
        attrs = [f"label={dot_quote(_edge_text(e))}"]
        if e.weak:
            attrs += ["style=dashed", "color=red", "fontcolor=red"]
        elif e.kind == "federates":
            attrs.append("penwidth=2")
        lines.append(f"  {dot_quote(e.source)} -> {dot_quote(e.target)} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---- tree ----------------------------------------------------------------------------------------------


class _Line(msgspec.Struct):
    parts: list  # [(text, style)]; style is a rich style name or ""
    children: list = msgspec.field(default_factory=list)

    def add(self, *parts) -> "_Line":
        child = _Line(list(parts))
        self.children.append(child)
        return child

    @property
    def text(self) -> str:
        return "".join(clean(t) for t, _ in self.parts)


def _weak(e: Edge) -> list:
    return [("  ⚠ " + e.weak, "bold red")] if e.weak else []


def _evidence(e: Edge) -> str:
    loc = next((loc for loc in e.evidence if loc is not None), None)
    return f"{loc.file}:{loc.span.line}" if loc is not None else ""


def _loc(node: Node) -> list:
    where = _where(node)
    return [("  " + where, "dim")] if where else []


def _name(node: Node) -> list:
    return [(KIND_NAMES.get(node.kind, node.kind) + " ", "dim"), (node.label, "bold")]


class _TreeBuilder:
    def __init__(self, graph: Graph):
        self.g = graph
        nodes, edges = graph.sorted()
        self.nodes = nodes
        self.rank = {e: i for i, e in enumerate(edges)}

    def node(self, node_id: str) -> Node:
        n = self.g.nodes.get(node_id)
        return n if n is not None else Node(node_id, node_id.split(":", 1)[0], node_id.split(":", 1)[-1])

    def out(self, node_id: str, kind: str) -> list[Edge]:
        return sorted(self.g.out(node_id, kind), key=self.rank.__getitem__)

    def into(self, node_id: str, kind: str) -> list[Edge]:
        return sorted(self.g.into(node_id, kind), key=self.rank.__getitem__)

    def identity_details(self, parent: _Line, node_id: str, seen: frozenset, trusts: bool) -> None:
        """Under a cloud identity: who it trusts (when asked), whom it admits in turn, its permissions."""
        if trusts:
            for e in self.into(node_id, "trusts"):
                src = self.node(e.source)
                parent.add(("trusts ", ""), *_name(src), (f": {e.label}" if e.label else "", ""), *_weak(e))
        for e in self.out(node_id, "trusts"):
            if e.target in seen:
                continue
            target = self.node(e.target)
            line = parent.add(("admits ", ""), *_name(target), *_loc(target), (f"  ({e.label})", "dim"), *_weak(e))
            self.identity_details(line, e.target, seen | {e.target}, trusts=False)
        for e in self.out(node_id, "grants"):
            perm = self.node(e.target)
            where = _evidence(e) or _where(perm)  # the binding itself: one role node may gather several files
            parent.add(("grants ", "green"), (perm.label, "green"), *([("  " + where, "dim")] if where else []),
                       *_weak(e))

    def service_account(self, sa: Node) -> _Line:
        root = _Line([*_name(sa), *_loc(sa)])
        for e in self.into(sa.id, "runs-as"):
            w = self.node(e.source)
            line = root.add(("runs as it: ", ""), (w.label, "cyan"), *_loc(w), *_weak(e))
            for c in self.out(w.id, "claims"):
                self._claim(line, c)
        federated = set()
        for e in self.out(sa.id, "federates"):
            federated.add(e.target)
            target = self.node(e.target)
            line = root.add(("can become ", "bold"), *_name(target), *_loc(target),
                            (f"  via {e.issuer or e.label}", "dim"), *_weak(e))
            self.identity_details(line, e.target, frozenset({sa.id, e.target}), trusts=False)
        for e in self.out(sa.id, "claims"):
            if e.target not in federated:
                self._claim(root, e)
        return root

    def _claim(self, parent: _Line, e: Edge) -> None:
        target = self.node(e.target)
        line = parent.add(("claims ", "yellow"), *_name(target), *_loc(target), (f"  ({e.label})", "dim"),
                          *_weak(e))
        if not self.into(e.target, "federates"):
            line.add(("no federation to it in the inputs", "yellow"))
        self.identity_details(line, e.target, frozenset({e.source, e.target}), trusts=True)

    def sections(self) -> list[_Line]:
        g = self.g
        accounts = _Line([("Kubernetes service accounts", "bold underline")])
        for n in self.nodes:
            if n.kind == "service-account":
                accounts.children.append(self.service_account(n))
        if not accounts.children:
            accounts.add(("(none in the inputs)", "dim"))
        out = [accounts]
        unreached = _Line([("Cloud identities whose trust no scanned service account reaches", "bold underline")])
        others = _Line([("Other cloud identities holding permissions", "bold underline")])
        for n in self.nodes:
            if not _is_identity(n) or g.into(n.id, "federates") or g.into(n.id, "claims"):
                continue
            if g.into(n.id, "trusts"):
                line = _Line([*_name(n), *_loc(n)])
                self.identity_details(line, n.id, frozenset({n.id}), trusts=True)
                unreached.children.append(line)
            elif g.out(n.id, "grants"):
                line = _Line([*_name(n), *_loc(n)])
                self.identity_details(line, n.id, frozenset({n.id}), trusts=False)
                others.children.append(line)
        out += [s for s in (unreached, others) if s.children]
        return out


def _plain(line: _Line, out: list, prefix: str = "", last: bool = True, top: bool = True) -> None:
    if top:
        out.append(line.text)
        child_prefix = ""
    else:
        out.append(prefix + ("└── " if last else "├── ") + line.text)
        child_prefix = prefix + ("    " if last else "│   ")
    for i, child in enumerate(line.children):
        _plain(child, out, child_prefix, i == len(line.children) - 1, top=False)


def tree(graph, *, rich: bool = False, width: int | None = None) -> str:
    sections = _TreeBuilder(_graph(graph)).sections()
    if not rich:
        out: list = []
        for i, s in enumerate(sections):
            if i:
                out.append("")
            _plain(s, out)
        return "\n".join(out) + "\n"
    import io
    import shutil

    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    def build(line: _Line, t=None):
        label = Text.assemble(*[(clean(text), style) if style else clean(text) for text, style in line.parts])
        node = Tree(label, guide_style="dim") if t is None else t.add(label)
        for child in line.children:
            build(child, node)
        return node

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=width or shutil.get_terminal_size((100, 24)).columns,
                      highlight=False, soft_wrap=False)
    for i, s in enumerate(sections):
        if i:
            console.print()
        console.print(build(s))
    return buf.getvalue()
