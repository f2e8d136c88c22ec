"""The federation graph: who can become whom.

Nodes are identities and the things that connect them: Kubernetes service accounts and workloads, token
issuers, AWS roles and OIDC providers, Azure managed identities / apps and their federated credentials,
GCP providers and service accounts, and the permissions they hold. Edges say how one leads to another:

    runs-as    workload -> service account
    claims     service account / workload -> cloud identity (an annotation or env var points at it)
    trusts     issuer -> cloud identity (a trust policy, FIC, provider + binding admits a subject pattern)
    federates  service account -> cloud identity (a claim and a trust agree, or a trust admits the subject)
    grants     cloud identity -> permission (attached policy, role assignment, IAM binding)

Weak edges carry the reason (wildcard, prefix match, missing condition, another cloud's audience).
"""

from __future__ import annotations

import msgspec

from xfedlint.model.location import Location

EDGE_KINDS = ("runs-as", "claims", "trusts", "federates", "grants")


class Node(msgspec.Struct, frozen=True):
    id: str  # stable and unique: "<kind>:<natural key>"
    kind: str  # service-account, workload, issuer, aws-role, aws-policy, azure-identity, azure-role, gcp-provider,
    #            gcp-service-account, gcp-role
    label: str
    location: Location | None = None  # where it is defined, when scanned (None: only referenced)
    resource: object = None

    @property
    def scanned(self) -> bool:
        return self.location is not None


class Edge(msgspec.Struct, frozen=True):
    source: str
    target: str
    kind: str
    label: str = ""
    weak: str | None = None  # why the edge admits more than it should, if it does
    evidence: tuple = ()  # Locations that make the edge
    issuer: str = ""  # trusts/federates: the issuer exactly as the trust writes it (scheme, case, slash kept)


class Graph(msgspec.Struct):
    nodes: dict = msgspec.field(default_factory=dict)  # id -> Node
    edges: list = msgspec.field(default_factory=list)
    _out: dict = msgspec.field(default_factory=dict)  # id -> [Edge]
    _in: dict = msgspec.field(default_factory=dict)
    _seen: set = msgspec.field(default_factory=set)

    def add_node(self, node: Node) -> Node:
        """Add a node, or upgrade a referenced-only node once its definition is scanned."""
        old = self.nodes.get(node.id)
        if old is None or (not old.scanned and node.scanned):
            self.nodes[node.id] = node
            return node
        return old

    def add_edge(self, edge: Edge) -> None:
        key = (edge.source, edge.target, edge.kind, edge.label)
        if key in self._seen:
            return
        self._seen.add(key)
        self.edges.append(edge)
        self._out.setdefault(edge.source, []).append(edge)
        self._in.setdefault(edge.target, []).append(edge)

    def out(self, node_id: str, kind: str | None = None) -> list[Edge]:
        return [e for e in self._out.get(node_id, ()) if kind is None or e.kind == kind]

    def into(self, node_id: str, kind: str | None = None) -> list[Edge]:
        return [e for e in self._in.get(node_id, ()) if kind is None or e.kind == kind]

    def of_kind(self, kind: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.kind == kind]

    def sorted(self) -> tuple[list[Node], list[Edge]]:
        """Nodes and edges in a stable order, for output."""
        nodes = sorted(self.nodes.values(), key=lambda n: (n.kind, n.id))
        edges = sorted(self.edges, key=lambda e: (EDGE_KINDS.index(e.kind), e.source, e.target, e.label))
        return nodes, edges
