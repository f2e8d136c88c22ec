"""The correlated Kubernetes rules (K8S003, K8S004, K8S005, K8S009, K8S014) point at the place to fix and
name the other end(s) as related locations. Each test scans one fixture case folder and checks one finding's
primary and related locations (positions computed from the fixture text, not copied from the tool)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xfedlint import api

FIXTURES = Path(__file__).parent / "fixtures"


def _scan(case: str, rule: str, monkeypatch):
    monkeypatch.chdir(FIXTURES / case)
    return [f for f in api.scan((".",)).findings if f.rule == rule]


def _at(loc) -> tuple:
    return (loc.file, loc.span.line, loc.span.col)


CASES = [
    # rule, case folder, primary (file, line, column), related [(file, line, column, message fragment)]
    ("K8S003", "K8S003/fail-azure-audience-to-aws", ("scenario2-2-aks-to-aws.yaml", 39, 25), [
        ("scenario2-2-aks-to-aws.yaml", 25, 18, "`AWS_WEB_IDENTITY_TOKEN_FILE` in container 'aws-test' reads this token"),
        ("aks-to-aws-role.json", 20, 128, "the trust of role arn:aws:iam::111122223333:role/aks-to-aws-role compares"),
        ("aks-oidc-provider.json", 3, 19, "accepts only `sts.amazonaws.com` (ClientIDList)"),
    ]),
    ("K8S004", "K8S004/fail-token-path-not-mounted", ("scenario3-2-gke-to-aws.yaml", 17, 18), [
        ("scenario3-2-gke-to-aws.yaml", 22, 22, "the nearest mount"),
    ]),
    ("K8S005", "K8S005/fail-one-token-two-clouds", ("aks-aws-gcp.yaml", 33, 25), [
        ("aks-aws-gcp.yaml", 16, 18, "`AWS_WEB_IDENTITY_TOKEN_FILE` (AWS) in container 'app' reads it"),
        ("aks-aws-gcp.yaml", 52, 17, "`credential_source.file` (GCP) in container 'app' reads it"),
    ]),
    ("K8S009", "K8S009/fail-label-on-sa-only", ("scenario2-1-aks-to-azure.yaml", 14, 1), [
        ("scenario2-1-aks-to-azure.yaml", 8, 40, "names the Azure identity"),
        ("scenario2-1-aks-to-azure.yaml", 10, 34, "the webhook reads the pod's labels only"),
    ]),
    ("K8S014", "K8S014/fail-azure-ids-drift", ("orders.yaml", 16, 14), [
        ("orders.yaml", 7, 40, "the service account's `azure.workload.identity/client-id`"),
        ("orders.yaml", 37, 21, "reads `AZURE_CLIENT_ID` from ConfigMap `orders-identity` key `client-id`"),
    ]),
]


@pytest.mark.parametrize("rule,case,primary,related", CASES, ids=[c[0] for c in CASES])
def test_related_locations(rule, case, primary, related, monkeypatch):
    found = [f for f in _scan(case, rule, monkeypatch) if _at(f.location) == primary]
    assert len(found) == 1, [(_at(f.location), f.message) for f in _scan(case, rule, monkeypatch)]
    got = [(r.location.file, r.location.span.line, r.location.span.col, r.message) for r in found[0].related]
    assert [g[:3] for g in got] == [w[:3] for w in related], got
    for g, w in zip(got, related, strict=True):
        assert w[3] in g[3], (w[3], g[3])


def test_k8s005_wins_over_aws012_and_gcp006(monkeypatch):
    """Another cloud's audience in a relying party's list is one finding, K8S005's, not AWS012's or GCP006's."""
    monkeypatch.chdir(FIXTURES / "K8S005" / "fail-aws-client-id-azure-audience")
    rules = [f.rule for f in api.scan((".",)).findings if f.rule in ("K8S005", "AWS012")]
    assert rules == ["K8S005"]
    monkeypatch.chdir(FIXTURES / "K8S005" / "fail-one-token-two-clouds")
    rules = sorted(f.rule for f in api.scan((".",)).findings if f.rule in ("K8S005", "GCP006"))
    assert rules == ["K8S005", "K8S005"]
    # without K8S005 selected, the same entries are AWS012's and GCP006's
    assert [f.rule for f in api.scan((".",), select=("GCP006",)).findings] == ["GCP006"]
