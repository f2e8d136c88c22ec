"""`xfedlint graph`: the federation graph as a tree, Mermaid, DOT and JSON.

The seed guide's graph is snapshot-tested in the four formats (tests/snapshots/), byte for byte, through the
renderers and through the real CLI. After an intended change, regenerate the snapshots (and the README's
Mermaid block) with:

    XFEDLINT_UPDATE_SNAPSHOTS=1 python -m pytest -q tests/test_graph.py

and review the diff.
"""

from __future__ import annotations

import difflib
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xfedlint.graph import render
from xfedlint.graph.build import build
from xfedlint.graph.model import Edge, Graph, Node
from xfedlint.loaders import load_files
from xfedlint.loaders.files import discover
from xfedlint.model.location import Location, Span

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "snapshots"
SEED = "examples/seed-guide"  # relative to ROOT: the file names in the output are relative to the working folder
SNAPSHOT_FILES = {"tree": "seed-guide.tree.txt", "mermaid": "seed-guide.mmd", "dot": "seed-guide.dot",
                  "json": "seed-guide.json"}
UPDATE = os.environ.get("XFEDLINT_UPDATE_SNAPSHOTS") == "1"
README_BLOCK = re.compile(r"(## Federation graph\n.*?```mermaid\n)(.*?)(```\n)", re.S)


def _seed_federation(monkeypatch):
    monkeypatch.chdir(ROOT)
    files, missing = discover((SEED,))
    assert files and not missing
    return build(load_files(files))


def _compare(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"{path} missing: run with XFEDLINT_UPDATE_SNAPSHOTS=1 to create it"
    expected = path.read_bytes()
    if expected != text.encode("utf-8"):
        diff = "".join(difflib.unified_diff(expected.decode("utf-8").splitlines(True), text.splitlines(True),
                                            str(path.relative_to(ROOT)), "now", n=2))
        pytest.fail(f"output differs from {path.relative_to(ROOT)} (XFEDLINT_UPDATE_SNAPSHOTS=1 regenerates it):\n"
                    + diff[:6000])


@pytest.mark.parametrize("fmt", render.FORMATS)
def test_seed_guide_snapshot(fmt, monkeypatch):
    _compare(SNAPSHOTS / SNAPSHOT_FILES[fmt], render.render(_seed_federation(monkeypatch), fmt))


@pytest.mark.parametrize("fmt", render.FORMATS)
def test_cli_prints_the_snapshot(fmt, run_cli, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    code, out, err = run_cli("graph", SEED, "--format", fmt, cwd=ROOT)
    assert code == 0, err
    assert err == ""
    if not UPDATE:
        assert out == (SNAPSHOTS / SNAPSHOT_FILES[fmt]).read_text(encoding="utf-8")


def test_readme_shows_the_seed_guide_mermaid_graph(monkeypatch):
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    m = README_BLOCK.search(text)
    assert m, "README.md needs a '## Federation graph' section with a ```mermaid block"
    graph = render.mermaid(_seed_federation(monkeypatch))
    if UPDATE:
        readme.write_text(text[:m.start(2)] + graph + text[m.end(2):], encoding="utf-8")
        return
    assert m.group(2) == graph, "README's Mermaid graph is stale: XFEDLINT_UPDATE_SNAPSHOTS=1 regenerates it"


def test_seed_guide_graph_marks_weak_edges_and_permissions(monkeypatch):
    fed = _seed_federation(monkeypatch)
    tree = render.tree(fed)
    # a wildcard audience and another cloud's audience on the guide's "avoid" trust policies
    assert "sub system:serviceaccount:production:app-sa  ⚠ wildcard audience" in tree
    assert "⚠ another cloud's audience" in tree
    # GKE's KSA -> GSA binding, with the GSA's project-wide role under it
    assert re.search(r"can become GCP service account gke-cross-cloud-sa@my-project\.iam\.gserviceaccount\.com"
                     r"  via GKE my-project\.svc\.id\.goog\n\s+└── grants roles/storage\.admin @ project \(project-iam-policy\.json\)  "
                     r"examples/seed-guide/3-gke/project-iam-policy\.json:5", tree)
    # the Azure managed identity federated to the AKS service account, with its subscription-wide role
    assert re.search(r"can become Azure identity aks-cross-cloud-identity .*\n.*grants Storage Blob Data Reader @ "
                     r"/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333  examples/seed-guide/2-aks/"
                     r"role-assignments\.json:", tree)
    sections = [line for line in tree.splitlines() if line and not line[0] in " │├└"]
    assert sections == ["Kubernetes service accounts", "Cloud identities whose trust no scanned service account "
                        "reaches", "Other cloud identities holding permissions"]


# ---- the renderers on small graphs -----------------------------------------------------------------------

NASTY = 'a "q" [b] {c} |p| <x> #1 & `t` end\nnext\x1b[31m'


def _loc(file: str, line: int) -> Location:
    return Location(file, Span(line, 3, line, 9))


def _small_graph(order: int = 0) -> Graph:
    nodes = [
        Node("service-account:prod/api", "service-account", "prod/api", _loc("k8s/sa.yaml", 2)),
        Node("workload:deployment/prod/api", "workload", "deployment prod/api", _loc("k8s/deploy.yaml", 1)),
        Node("issuer:oidc.example.com/id/1", "issuer", "oidc.example.com/id/1"),
        Node("aws-role:arn:aws:iam::1:role/api", "aws-role", "api", _loc("aws/role.json", 1)),
        Node("aws-policy:arn:aws:iam::aws:policy/ReadOnly", "aws-policy", "ReadOnly"),
        Node("aws-role:arn:aws:iam::1:role/other", "aws-role", NASTY, _loc("aws/other.json", 4)),
    ]
    edges = [
        Edge("workload:deployment/prod/api", "service-account:prod/api", "runs-as", "api"),
        Edge("service-account:prod/api", "aws-role:arn:aws:iam::1:role/api", "claims", "eks.amazonaws.com/role-arn",
             evidence=(_loc("k8s/sa.yaml", 5),)),
        Edge("issuer:oidc.example.com/id/1", "aws-role:arn:aws:iam::1:role/api", "trusts",
             "sub system:serviceaccount:prod:*", "wildcard subject", (_loc("aws/role.json", 12),),
             issuer="https://oidc.example.com/id/1"),
        Edge("service-account:prod/api", "aws-role:arn:aws:iam::1:role/api", "federates", "oidc.example.com/id/1",
             "wildcard subject", (_loc("aws/role.json", 12),), issuer="https://oidc.example.com/id/1"),
        Edge("aws-role:arn:aws:iam::1:role/api", "aws-policy:arn:aws:iam::aws:policy/ReadOnly", "grants", "attached"),
        Edge("issuer:oidc.example.com/id/1", "aws-role:arn:aws:iam::1:role/other", "trusts", NASTY, None,
             (_loc("aws/other.json", 9),), issuer="https://oidc.example.com/id/1"),
    ]
    rng = random.Random(order)
    if order:
        rng.shuffle(nodes)
        rng.shuffle(edges)
    g = Graph()
    for n in nodes:
        g.add_node(n)
    for e in edges:
        g.add_edge(e)
    return g


@pytest.mark.parametrize("fmt", render.FORMATS)
def test_output_does_not_depend_on_insertion_order(fmt):
    first = render.render(_small_graph(), fmt)
    for seed in (1, 2, 3):
        assert render.render(_small_graph(seed), fmt) == first


def test_mermaid_syntax():
    out = render.mermaid(_small_graph())
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    # safe IDs n1..n6 in Graph.sorted() order (kind, then ID)
    nodes, _ = _small_graph().sorted()
    ids = {n.id: f"n{i}" for i, n in enumerate(nodes, 1)}
    assert ids["aws-policy:arn:aws:iam::aws:policy/ReadOnly"] == "n1"
    assert [s for s in lines if s.startswith("  subgraph ")] == [
        '  subgraph kubernetes["Kubernetes"]', '  subgraph aws["AWS"]', '  subgraph issuers["Issuers"]']
    sa, role, wl = ids["service-account:prod/api"], ids["aws-role:arn:aws:iam::1:role/api"], \
        ids["workload:deployment/prod/api"]
    assert f'    {sa}(["prod/api"])' in lines
    assert f'    {ids["aws-policy:arn:aws:iam::aws:policy/ReadOnly"]}[/"ReadOnly"/]' in lines
    assert f'  {wl} -- "runs as" --> {sa}' in lines
    # a weak edge: dotted, "label: reason", red through linkStyle; the federates edge would otherwise be thick
    assert f'  {sa} -. "federates: wildcard subject" .-> {role}' in lines
    assert f'  {role} -- "grants" --> {ids["aws-policy:arn:aws:iam::aws:policy/ReadOnly"]}' in lines
    edge_lines = [s for s in lines if re.match(r"  n\d+ ", s)]
    weak = [str(i) for i, s in enumerate(edge_lines) if " -. " in s]
    assert f"  linkStyle {','.join(weak)} stroke:#d62728,color:#d62728" in lines
    # referenced-only nodes (no location) get the dashed class
    referenced = sorted(ids[n.id] for n in nodes if n.location is None)
    assert any(s.startswith("  class ") and sorted(s.split()[1].split(",")) == referenced for s in lines)


def test_mermaid_escapes_labels():
    escaped = render.mermaid_escape(NASTY)
    for raw in '"[]{}|<>`\n\x1b':
        assert raw not in escaped
    assert escaped == ("a #quot;q#quot; #91;b#93; #123;c#125; #124;p#124; #lt;x#gt; #35;1 #38; #96;t#96; end next "
                       "#91;31m")
    out = render.mermaid(_small_graph())
    # every label is one quoted string: no raw quote inside
    for line in out.splitlines():
        for label in re.findall(r'"(.*?)"', line):
            assert '"' not in label and "\n" not in label


def test_mermaid_federates_edge_is_thick():
    g = Graph()
    g.add_node(Node("service-account:a/b", "service-account", "a/b"))
    g.add_node(Node("gcp-service-account:x@p.iam.gserviceaccount.com", "gcp-service-account", "x@p"))
    g.add_edge(Edge("service-account:a/b", "gcp-service-account:x@p.iam.gserviceaccount.com", "federates", "GKE p"))
    out = render.mermaid(g)
    assert '  n2 == "federates" ==> n1' in out.splitlines()
    assert "linkStyle" not in out
    assert '  subgraph gcp["GCP"]' in out


def test_dot_syntax_and_escaping():
    out = render.dot(_small_graph())
    assert out.startswith("digraph federation {\n  rankdir=LR;\n")
    assert out.endswith("}\n")
    for cluster in ("cluster_kubernetes", "cluster_aws", "cluster_issuers"):
        assert f"  subgraph {cluster} {{" in out
    assert ('  "service-account:prod/api" -> "aws-role:arn:aws:iam::1:role/api" '
            '[label="federates: wildcard subject", style=dashed, color=red, fontcolor=red];') in out
    assert '"aws-role:arn:aws:iam::1:role/api" -> "aws-policy:arn:aws:iam::aws:policy/ReadOnly" [label="grants"];' in out
    assert render.dot_quote('say "hi" \\ there\nnow') == '"say \\"hi\\" \\\\ there now"'
    assert render.dot_quote("one", "two") == '"one\\ntwo"'
    assert '[label="ReadOnly", shape=parallelogram, style=dashed];' in out  # referenced only


def test_json_shape():
    doc = json.loads(render.json_text(_small_graph()))
    assert doc["version"] == 1
    assert all(set(n) == {"id", "kind", "label", "file", "line", "column"} for n in doc["nodes"])
    assert all(set(e) == {"source", "target", "kind", "label", "weak", "evidence"} for e in doc["edges"])
    sa = next(n for n in doc["nodes"] if n["id"] == "service-account:prod/api")
    assert (sa["file"], sa["line"], sa["column"]) == ("k8s/sa.yaml", 2, 3)
    issuer = next(n for n in doc["nodes"] if n["kind"] == "issuer")
    assert (issuer["file"], issuer["line"], issuer["column"]) == (None, None, None)
    fed = next(e for e in doc["edges"] if e["kind"] == "federates")
    assert fed["weak"] == "wildcard subject"
    assert fed["evidence"] == [{"file": "aws/role.json", "line": 12, "column": 3}]
    assert [e["kind"] for e in doc["edges"]] == ["runs-as", "claims", "trusts", "trusts", "federates", "grants"]


def test_tree_plain():
    out = render.tree(_small_graph())
    assert out == (
        "Kubernetes service accounts\n"
        "└── service account prod/api  k8s/sa.yaml:2\n"
        "    ├── runs as it: deployment prod/api  k8s/deploy.yaml:1\n"
        "    └── can become AWS role api  aws/role.json:1  via https://oidc.example.com/id/1  ⚠ wildcard subject\n"
        "        └── grants ReadOnly\n"
        "\n"
        "Cloud identities whose trust no scanned service account reaches\n"
        "└── AWS role a \"q\" [b] {c} |p| <x> #1 & `t` end next [31m  aws/other.json:4\n"
        "    └── trusts issuer oidc.example.com/id/1: a \"q\" [b] {c} |p| <x> #1 & `t` end next [31m\n")


def test_tree_claim_without_federation():
    g = Graph()
    g.add_node(Node("service-account:a/b", "service-account", "a/b", _loc("sa.yaml", 1)))
    g.add_node(Node("aws-role:arn:aws:iam::1:role/r", "aws-role", "r"))
    g.add_node(Node("issuer:i.example", "issuer", "i.example"))
    g.add_edge(Edge("service-account:a/b", "aws-role:arn:aws:iam::1:role/r", "claims", "eks.amazonaws.com/role-arn"))
    g.add_edge(Edge("issuer:i.example", "aws-role:arn:aws:iam::1:role/r", "trusts", "sub system:serviceaccount:a:c"))
    assert render.tree(g) == (
        "Kubernetes service accounts\n"
        "└── service account a/b  sa.yaml:1\n"
        "    └── claims AWS role r  (eks.amazonaws.com/role-arn)\n"
        "        ├── no federation to it in the inputs\n"
        "        └── trusts issuer i.example: sub system:serviceaccount:a:c\n")


def test_tree_rich_is_styled_and_keeps_the_text():
    out = render.tree(_small_graph(), rich=True, width=200)
    assert "\x1b[" in out
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "can become AWS role api  aws/role.json:1  via https://oidc.example.com/id/1  ⚠ wildcard subject" in plain
    assert "\x1b[31m" not in plain  # the label's own escape sequence was neutralised
    assert render.tree(Graph()) == "Kubernetes service accounts\n└── (none in the inputs)\n"


def test_unknown_format():
    with pytest.raises(ValueError):
        render.render(Graph(), "png")


# ---- the command ----------------------------------------------------------------------------------------


def test_cli_exit_3_without_input(run_cli, tmp_path):
    code, out, err = run_cli("graph", str(tmp_path))
    assert code == 3 and out == "" and "no input files" in err


def test_cli_load_problems_on_stderr_do_not_fail(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    (tmp_path / "broken.yaml").write_text("a: [1, 2\n")
    (tmp_path / "sa.yaml").write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n"
                                      "  namespace: prod\n")
    code, out, err = run_cli("graph", ".", "--format", "json", cwd=tmp_path)
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("broken.yaml:2:1: XF001 ")
    assert [n["id"] for n in json.loads(out)["nodes"]] == ["service-account:prod/api"]


def test_cli_usage_error_and_output_file(run_cli, tmp_path):
    assert run_cli("graph", "--format", "png")[0] == 2
    target = tmp_path / "graph.mmd"
    code, out, _ = run_cli("graph", SEED, "--format", "mermaid", "-o", str(target), cwd=ROOT)
    assert code == 0 and out == ""
    assert target.read_text(encoding="utf-8").startswith("flowchart LR\n")


def test_plain_tree_does_not_import_rich():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "xfedlint", "graph", SEED], capture_output=True,
                          text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in proc.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    assert names and "rich" not in names
