"""X002 and AZ009 across files: related locations (the other end of each correlated finding), the cases that
need the configuration (`clusters`, `kubernetes-inventory-complete`), supersession by AZ003, and AZ009's
silence without the completeness declaration.

Every expected line and column is computed from the fixture text (`_pos`), never copied from the tool.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xfedlint import api
from xfedlint.config import Config, read_config

FIXTURES = Path(__file__).parent / "fixtures"
X002 = FIXTURES / "X002"
AZ009 = FIXTURES / "AZ009"


def _pos(path: Path, needle: str, nth: int = 1) -> tuple[int, int]:
    """(line, column) of the `nth` occurrence of `needle` in the file."""
    text = path.read_text()
    i = -1
    for _ in range(nth):
        i = text.index(needle, i + 1)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


def _scan(case: Path, monkeypatch, select: tuple, config: Config | None = None):
    monkeypatch.chdir(case)
    if config is None:
        cfg_file = case / ".xfedlint.yaml"
        config = read_config(cfg_file) if cfg_file.is_file() else Config()
    return [f for f in api.scan((".",), config=config, select=select).findings if f.rule in select]


def _at(f) -> tuple:
    return f.location.file, f.location.span.line, f.location.span.col


def _related(f) -> set:
    return {(r.location.file, r.location.span.line, r.location.span.col) for r in f.related}


# --- related locations ---------------------------------------------------------------------------------------


def test_seed_break_points_at_the_credential_subject_and_relates_the_annotation_and_the_pod(monkeypatch):
    case = X002 / "fail-seed-subject-other-namespace"
    [f] = _scan(case, monkeypatch, ("X002",))
    assert _at(f) == ("aks-federated-credentials.json",
                      *_pos(case / "aks-federated-credentials.json", '"system:serviceaccount:staging'))
    manifest = case / "scenario2-1-aks-to-azure.yaml"
    annotation = _pos(manifest, '"5e8f2c1a')
    pod_label = _pos(manifest, '"true"', 2)  # the Pod's `azure.workload.identity/use` (the first is the SA's)
    assert _related(f) == {("scenario2-1-aks-to-azure.yaml", *annotation), ("scenario2-1-aks-to-azure.yaml", *pod_label)}
    assert "names the identity's client ID" in f.related[0].message
    assert "the Azure Workload Identity webhook's token" in f.related[1].message


def test_another_clouds_audience_points_at_the_pod_token_and_relates_the_credential(monkeypatch):
    case = X002 / "fail-aws-audience-token-reported-by-k8s003"
    [f] = _scan(case, monkeypatch, ("X002",))
    assert _at(f) == ("payments.yaml", *_pos(case / "payments.yaml", "sts.amazonaws.com"))
    assert _related(f) == {
        ("federated-credentials.json", *_pos(case / "federated-credentials.json", '"api://AzureADTokenExchange"')),
        ("payments.yaml", *_pos(case / "payments.yaml", '"9d3c1b7a')),
    }


def test_shared_identity_points_at_the_annotation_and_relates_the_other_service_accounts_credential(monkeypatch):
    case = X002 / "fail-shared-identity-second-sa"
    [f] = _scan(case, monkeypatch, ("X002",))
    assert _at(f) == ("orders.yaml", *_pos(case / "orders.yaml", "0c4e8a2f", 2))
    subject = _pos(case / "orders-id-fics.json", '"system:serviceaccount:orders:orders-api"')
    worker_label = _pos(case / "orders.yaml", '"true"')
    assert _related(f) == {("orders-id-fics.json", *subject), ("orders.yaml", *worker_label)}
    assert "trusts another service account" in f.related[0].message


def test_several_differences_point_at_the_annotation_and_relate_the_closest_credential(monkeypatch):
    case = X002 / "fail-subject-and-audience-unknown-issuer"
    [f] = _scan(case, monkeypatch, ("X002",))
    assert _at(f) == ("billing.yaml", *_pos(case / "billing.yaml", "2f6a0c4e"))
    assert ("invoicer-fics.json", *_pos(case / "invoicer-fics.json", "{")) in _related(f)
    assert "names namespace `finance` instead of `billing`" in f.message
    assert "accepts only `api://billing-exchange`" in f.message


# --- the configuration: cluster issuers, inventory completeness ------------------------------------------------


def _cases_with_config():
    for rule in (X002, AZ009):
        for case in sorted(rule.iterdir()):
            if (case / ".xfedlint.yaml").is_file():
                yield pytest.param(rule.name, case, id=f"{rule.name}/{case.name}")


@pytest.mark.parametrize("rule_id,case", list(_cases_with_config()))
def test_fixture_cases_that_need_the_configuration(rule_id, case, monkeypatch):
    """The cases whose `.xfedlint.yaml` matters, run with it (as the CLI does from the case folder)."""
    expected = json.loads((case / "expected.json").read_text())
    rules = tuple(expected.get("rules", [rule_id]))
    got = sorted(_scan(case, monkeypatch, rules), key=lambda f: (_at(f), f.rule))
    want = sorted(expected["findings"], key=lambda w: (w["file"], w["line"], w["column"], w["rule"]))
    assert [(f.rule, *_at(f), f.severity) for f in got] == \
        [(w["rule"], w["file"], w["line"], w["column"], w["severity"]) for w in want]
    for f, w in zip(got, want, strict=True):
        assert w["message"] in f.message


def test_issuer_near_miss_is_anchored_for_az003(monkeypatch):
    """X002 does report the slash difference on its own; with AZ003 in the run, AZ003's finding replaces it."""
    case = X002 / "fail-aks-issuer-slash-reported-by-az003"
    issuer = _pos(case / "aks-federated-credentials.json", '"https://')
    [alone] = _scan(case, monkeypatch, ("X002",))
    assert _at(alone) == ("aks-federated-credentials.json", *issuer)
    assert "they differ in the trailing slash" in alone.message
    both = _scan(case, monkeypatch, ("X002", "AZ003"))
    assert [(f.rule, *_at(f)) for f in both] == [("AZ003", "aks-federated-credentials.json", *issuer)]


def test_audience_only_difference_is_anchored_for_k8s003(monkeypatch):
    """X002 reports the credential's audience on its own; K8S003, judging the pod's token, replaces it."""
    case = X002 / "fail-custom-audience-reported-by-k8s003"
    [alone] = _scan(case, monkeypatch, ("X002",))
    assert _at(alone) == ("aks-federated-credentials.json",
                          *_pos(case / "aks-federated-credentials.json", '"api://contoso-aks-exchange"'))
    both = _scan(case, monkeypatch, ("X002", "K8S003"))
    assert [(f.rule, *_at(f)) for f in both] == [
        ("K8S003", "scenario2-1-aks-to-azure.yaml", *_pos(case / "scenario2-1-aks-to-azure.yaml", '"true"', 2))]


def test_other_cluster_issuer_relates_the_annotation(monkeypatch):
    case = X002 / "fail-issuer-other-cluster"
    [f] = _scan(case, monkeypatch, ("X002",))
    assert ("scenario2-1-aks-to-azure.yaml", *_pos(case / "scenario2-1-aks-to-azure.yaml", '"5e8f2c1a')) in _related(f)


def test_without_the_configuration_the_issuer_is_inferred_and_equal(monkeypatch):
    """Inferred from the identity's only Kubernetes credential, the issuer can never differ from it."""
    assert _scan(X002 / "fail-issuer-other-cluster", monkeypatch, ("X002",), Config()) == []


def test_az009_is_silent_without_the_completeness_declaration(monkeypatch):
    case = AZ009 / "fail-namespace-gone"
    assert _scan(case, monkeypatch, ("AZ009",), Config()) == []
    assert len(_scan(case, monkeypatch, ("AZ009",), Config(kubernetes_inventory_complete=True))) == 2


def test_az009_knows_configured_cluster_issuers(tmp_path, monkeypatch):
    """No service account claims the identity, so nothing is inferred: the issuer is known from `clusters`."""
    issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/7C1E5A3F2B7D4C9EA6F01D3B5E7C9A24"
    (tmp_path / ".xfedlint.yaml").write_text(
        f"kubernetes-inventory-complete: true\nclusters:\n  - name: eks\n    issuer: {issuer}\n"
        f"    paths: [manifests]\n")
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "sa.yaml").write_text(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: shop\n")
    fics = tmp_path / "fics.json"
    fics.write_text(json.dumps([
        {"name": "shop-api", "issuer": issuer, "subject": "system:serviceaccount:shop:api",
         "audiences": ["api://AzureADTokenExchange"]},
        {"name": "shop-cart", "issuer": issuer, "subject": "system:serviceaccount:shop:cart",
         "audiences": ["api://AzureADTokenExchange"]},
        {"name": "other-cluster", "issuer": "https://oidc.eks.eu-west-1.amazonaws.com/id/AAAA",
         "subject": "system:serviceaccount:gone:api", "audiences": ["api://AzureADTokenExchange"]},
    ], indent=2))
    [f] = _scan(tmp_path, monkeypatch, ("AZ009",))
    assert _at(f) == ("fics.json", *_pos(fics, '"system:serviceaccount:shop:cart"'))
    assert "namespace `shop` has no service account `cart`" in f.message
