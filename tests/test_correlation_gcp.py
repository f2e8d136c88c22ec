"""GCP correlation rules (X003, GCP008, GCP009, GCP014, GCP018): the related locations of each finding (the
fixture runner asserts the primary one), supersession, configured cluster issuers, one finding per chain,
and the three-valued CEL evaluation the chain relies on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from xfedlint import api
from xfedlint.checks.xfed_gcp import UNKNOWN, Partial, evaluate_text, kubernetes_claims
from xfedlint.config import Cluster, Config

FIXTURES = Path(__file__).parent / "fixtures"
EKS_EAST = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
EKS_WEST = "https://oidc.eks.us-west-2.amazonaws.com/id/0A1B2C3D4E5F60718293A4B5C6D7E8F9"


def _scan(case: Path, monkeypatch, select: tuple, config: Config | None = None):
    monkeypatch.chdir(case)
    return [f for f in api.scan((".",), select=select, config=config).findings if f.rule in select]


def _related(finding) -> list:
    return [(r.location.file, r.location.span.line, r.location.span.col) for r in finding.related]


# (rule, case, related locations (file, line, column), in order; computed from the fixture text)
RELATED = [
    ("X003", "fail-seed-binding-other-namespace",
     [("scenario2-3-aks-to-gcp.yaml", 58, 44), ("scenario2-3-aks-to-gcp.yaml", 55, 19)]),
    ("X003", "fail-seed-provider-typo", [("eks-provider.yaml", 7, 7)]),
    ("X003", "fail-pool-typo", [("eks-provider.yaml", 7, 7)]),
    ("X003", "fail-binding-attribute-not-mapped",
     [("scenario1-3-eks-to-gcp.yaml", 62, 44), ("scenario1-3-eks-to-gcp.yaml", 59, 19)]),
    ("X003", "fail-condition-rejects-namespace", [("scenario1-3-eks-to-gcp.yaml", 59, 19)]),
    ("X003", "fail-no-binding-for-pool", [("eks-gcp-sa-iam-policy.json", 2, 15)]),
    ("X003", "fail-provider-not-scanned-subject",
     [("scenario1-3-eks-to-gcp.yaml", 62, 44), ("scenario1-3-eks-to-gcp.yaml", 59, 19)]),
    ("GCP008", "fail-seed-provider-of-other-eks-cluster",
     [("scenario1-3-eks-to-gcp.yaml", 59, 19), ("eks-cross-cloud-role.json", 11, 9)]),
    ("GCP008", "fail-aks-issuer-without-trailing-slash",
     [("scenario2-3-aks-to-gcp.yaml", 55, 19), ("aks-federated-credentials.json", 2, 3)]),
    ("GCP009", "fail-two-eks-clusters-one-pool", [("eks-a.json", 7, 23)]),
    ("GCP009", "fail-pod-subject-too-long", [("loader.yaml", 43, 18)]),
    ("GCP009", "fail-binding-subject-too-long", []),
    ("GCP014", "fail-seed-binding-for-other-ksa", [("gke-cross-cloud-sa-iam-policy.json", 5, 9)]),
    ("GCP014", "fail-no-workload-identity-user", [("gke-cross-cloud-sa-iam-policy.json", 2, 15)]),
    ("GCP018", "fail-disabled-provider-still-configured",
     [("scenario1-3-eks-to-gcp.yaml", 59, 19), ("eks-gcp-sa-iam-policy.json", 5, 9)]),
    ("GCP018", "fail-deleted-only-provider-of-bound-pool", [("exporter-sa-iam-policy.json", 6, 9)]),
]


@pytest.mark.parametrize("rule,case,want", RELATED, ids=[f"{r}/{c}" for r, c, _ in RELATED])
def test_related_locations(rule, case, want, monkeypatch):
    got = _scan(FIXTURES / rule / case, monkeypatch, (rule,))
    assert len(got) == 1, [f.message for f in got]
    assert _related(got[0]) == want


def test_x003_reports_the_issuer_break_when_gcp008_is_not_selected(monkeypatch):
    """GCP008 supersedes X003 (the fixture proves it); alone, X003 names the issuer break at the audience."""
    got = _scan(FIXTURES / "GCP008" / "fail-seed-provider-of-other-eks-cluster", monkeypatch, ("X003",))
    assert [(f.location.file, f.location.span.line, f.location.span.col) for f in got] == \
        [("scenario1-3-eks-to-gcp.yaml", 59, 19)]
    assert f"trusts issuer `{EKS_WEST}` and the pod's cluster issuer is `{EKS_EAST}`" in got[0].message
    assert _related(got[0]) == [("eks-provider.yaml", 11, 14), ("eks-cross-cloud-role.json", 11, 9)]


def test_configured_cluster_issuer(monkeypatch):
    """Without an annotation to infer it from, the issuer comes from the configuration's `clusters`."""
    case = FIXTURES / "GCP008" / "pass-cluster-issuer-unknown"
    assert _scan(case, monkeypatch, ("GCP008",)) == []
    config = Config(clusters=(Cluster("eks-east", EKS_EAST, ("*",)),))
    got = _scan(case, monkeypatch, ("GCP008", "X003"), config)
    assert [(f.rule, f.location.file, f.location.span.line, f.location.span.col, f.severity) for f in got] == \
        [("GCP008", "eks-provider.yaml", 11, 14, "error")]
    assert "the configuration's cluster `eks-east`" in got[0].message
    assert _related(got[0]) == [("scenario1-3-eks-to-gcp.yaml", 59, 19)]


def test_a_chain_shared_by_several_workloads_is_reported_once(tmp_path, monkeypatch):
    case = tmp_path / "case"
    shutil.copytree(FIXTURES / "X003" / "fail-seed-binding-other-namespace", case)
    pod = (case / "scenario2-3-aks-to-gcp.yaml").read_text()
    second = pod.split("---", 1)[0].replace("name: aks-gcp-test", "name: aks-gcp-test-2")
    (case / "second-pod.yaml").write_text(second)
    got = _scan(case, monkeypatch, ("X003",))
    assert len(got) == 1
    assert "and 1 other workload(s) running as it (pod default/aks-gcp-test-2)" in got[0].message


def test_gke_binding_in_another_project_than_the_cluster(monkeypatch):
    """With a known GKE cluster issuer, the workload pool's project must be the cluster's."""
    case = FIXTURES / "GCP014" / "pass-seed-scenario-3-1"
    issuer = "https://container.googleapis.com/v1/projects/other-project/locations/us-central1/clusters/c1"
    got = _scan(case, monkeypatch, ("GCP014",), Config(clusters=(Cluster("gke", issuer, ("*",)),)))
    assert len(got) == 1
    assert "to no `serviceAccount:other-project.svc.id.goog[default/gke-cross-cloud-sa]`" in got[0].message
    assert "names workload identity pool `my-project.svc.id.goog`, but the cluster is in project " \
           "`other-project`" in got[0].message
    assert _related(got[0]) == [("gke-cross-cloud-sa-iam-policy.json", 5, 9)]


# ---- the evaluator ------------------------------------------------------------------------------------

CLAIMS = kubernetes_claims("prod", "app")


@pytest.mark.parametrize("expr,want", [
    ("assertion.sub == 'system:serviceaccount:prod:app'", True),
    ("assertion.sub.startsWith('system:serviceaccount:stage:')", False),
    ("assertion['kubernetes.io']['namespace'] in ['prod', 'qa']", True),
    ("assertion['kubernetes.io'].serviceaccount.name == 'web'", False),
    ("assertion['kubernetes.io']['pod']['name'] == 'x'", UNKNOWN),  # a claim the manifests do not show
    ("assertion['kubernetes.io']['pod']['name'] == 'x' && assertion.sub == 'nope'", False),  # false absorbs
    ("assertion['kubernetes.io']['pod']['name'] == 'x' || assertion.sub.endsWith(':app')", True),
    ("has(assertion.sub) && !has(assertion.email)", UNKNOWN),
    ("assertion.sub.matches('^system:serviceaccount:prod:[a-z]+$')", True),
    ("'x::' + assertion.sub", "x::system:serviceaccount:prod:app"),
    ("assertion.sub.split(':')[2]", "prod"),
    ("size(assertion.sub) > 127", False),
    ("assertion.sub == 1", False),
    ("assertion.missing.deeper == 'a'", UNKNOWN),
    ("assertion.sub ==", UNKNOWN),  # not valid CEL
    ("[1, 2].exists(x, x == 1)", UNKNOWN),  # macros are not modelled
    ("assertion.sub.matches('^(s+)+$')", UNKNOWN),  # nested quantifiers: not run through a backtracking engine
    ("assertion.sub.matches('\\z')", UNKNOWN),  # RE2 syntax Python lacks
])
def test_evaluate(expr, want):
    assert evaluate_text(expr, {"assertion": CLAIMS}) == want if want is not UNKNOWN else \
        evaluate_text(expr, {"assertion": CLAIMS}) is UNKNOWN


def test_partial_maps_are_unknown_beyond_what_is_known():
    env = {"assertion": Partial({"sub": "s"})}
    assert evaluate_text("assertion.iss == 'https://x'", env) is UNKNOWN
    assert evaluate_text("{'a': 1}.b == 1", env) is UNKNOWN
    assert evaluate_text("'a' in {'a': 1}", env) is UNKNOWN  # map literals are not modelled
