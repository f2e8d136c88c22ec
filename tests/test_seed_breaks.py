"""The seed guide's scenarios with one deliberate break each: every break is reported once, at the place
to fix, with the other end as a related location; the unbroken versions report no correlation error or warning.

The fixture folders are the rules' own multi-file cases (tests/fixtures/<ID>/...); here the whole catalog
runs on them, so a second rule reporting the same break would fail the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xfedlint import api
from xfedlint.config import Config, read_config

FIXTURES = Path(__file__).parent / "fixtures"
CORRELATION = {"K8S003", "K8S004", "K8S005", "K8S009", "K8S014", "X001", "X002", "X003", "X004", "AZ009",
               "GCP008", "GCP009", "GCP014", "GCP018"}

BREAKS = [
    # (case, rule, file, line, column, related locations at least)
    ("K8S003/fail-azure-audience-to-aws", "K8S003", "scenario2-2-aks-to-aws.yaml", 39, 25, 1),  # Azure aud to AWS
    ("K8S004/fail-token-path-not-mounted", "K8S004", "scenario3-2-gke-to-aws.yaml", 17, 18, 1),  # no mount covers it
    ("K8S005/fail-one-token-two-clouds", "K8S005", "aks-aws-gcp.yaml", 33, 25, 1),  # one token, two clouds
    ("X001/fail-other-namespace", "X001", "get-role.json", 19, 91, 1),  # the role trusts another namespace
    ("X002/fail-seed-subject-other-namespace", "X002", "aks-federated-credentials.json", 10, 16, 1),  # FIC subject
    ("GCP008/fail-seed-provider-of-other-eks-cluster", "GCP008", "eks-provider.yaml", 11, 14, 1),  # issuer differs
]
UNBROKEN = ["K8S003/pass-seed-aks-to-aws", "K8S004/pass-seed-scenarios", "X002/pass-seed-scenario-2-1",
            "GCP008/pass-seed-scenario-2-3"]


def _scan(case: str, monkeypatch):
    folder = FIXTURES / case
    monkeypatch.chdir(folder)
    cfg = folder / ".xfedlint.yaml"
    return api.scan((".",), config=read_config(cfg) if cfg.exists() else Config(root=str(folder)))


@pytest.mark.parametrize("case,rule,file,line,col,related", BREAKS, ids=[b[0] for b in BREAKS])
def test_each_break_is_reported_once_with_the_other_end(case, rule, file, line, col, related, monkeypatch):
    result = _scan(case, monkeypatch)
    correlated = [f for f in result.findings if f.rule in CORRELATION and f.severity != "note"]
    primary = [f for f in correlated if f.rule == rule and f.location.file == file]
    assert [(f.location.span.line, f.location.span.col) for f in primary] == [(line, col)]
    assert len(primary[0].related) >= related
    # no other correlation rule reports the same break (K8S005 also names the relying party it reaches)
    others = [f for f in correlated if f is not primary[0] and not (rule == "K8S005" and f.rule == "K8S005")]
    assert others == [], [(f.rule, f.location.file, f.message[:80]) for f in others]


@pytest.mark.parametrize("case", UNBROKEN)
def test_unbroken_versions_report_no_correlation_finding(case, monkeypatch):
    result = _scan(case, monkeypatch)
    # (K8S009's note on a pod of the Azure-annotated service account that brings its own token is hygiene)
    assert [f.rule for f in result.findings if f.rule in CORRELATION and f.severity != "note"] == []
