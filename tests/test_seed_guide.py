"""The first acceptance test: the seed guide's own configurations (examples/seed-guide).

Every anti-pattern the guide names is reported at its exact line and column, and no error or warning is
reported on the scenarios the guide gets right or on its "GOOD" variants (only the catalog's hygiene notes).
"""

from __future__ import annotations

from pathlib import Path

from xfedlint import api

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed-guide"

EXPECTED = {
    # scenario 1.3: startsWith without a delimiter; SA-name-only attribute mapping bound by name;
    # roles/storage.admin at project level
    ("1-eks/eks-provider.yaml", 2, 21, "GCP002", "error"),
    ("1-eks/eks-gcp-sa-iam-policy.json", 5, 9, "GCP020", "error"),
    ("1-eks/project-iam-policy.json", 7, 15, "GCP019", "warning"),
    ("1-eks/project-iam-policy.json", 7, 15, "PERM002", "warning"),
    # hygiene notes: Kubernetes subjects in federated credentials are recyclable names (AZ007, note)
    ("1-eks/federated-credential.json", 4, 14, "AZ007", "note"),
    # scenario 2.1: Storage Blob Data Reader on the whole subscription (a federated managed identity)
    ("2-aks/role-assignments.json", 14, 14, "AZ012", "warning"),
    ("2-aks/aks-federated-credentials.json", 10, 16, "AZ007", "note"),
    # pods of the Azure-annotated service account without the webhook label: no Azure token is injected
    # (they bring their own AWS / GCP token, so a note, per the catalog's K8S009)
    ("2-aks/scenario2-2-aks-to-aws.yaml", 4, 1, "K8S009", "note"),
    ("2-aks/scenario2-3-aks-to-gcp.yaml", 4, 1, "K8S009", "note"),
    # scenario 2.3: startsWith without a delimiter; TokenCreator to a principalSet; storage.admin
    ("2-aks/aks-provider.json", 2, 26, "GCP002", "error"),
    ("2-aks/aks-gcp-sa-iam-policy.json", 5, 9, "GCP012", "warning"),
    ("2-aks/project-iam-policy.json", 7, 15, "GCP019", "warning"),
    ("2-aks/project-iam-policy.json", 7, 15, "PERM002", "warning"),
    # scenario 3.1: storage.admin at project level; scenario 3.3: subscription-wide role
    ("3-gke/project-iam-policy.json", 7, 15, "GCP019", "warning"),
    ("3-gke/project-iam-policy.json", 7, 15, "PERM002", "warning"),
    ("3-gke/role-assignments.json", 14, 14, "AZ012", "warning"),
    ("3-gke/gke-federated-credential.json", 4, 14, "AZ007", "note"),
    # GKE identity sameness: [default/...] is the same identity in every cluster of the project
    ("3-gke/gke-cross-cloud-sa-iam-policy.json", 5, 9, "GCP015", "warning"),
    # best practices: each "avoid" example
    ("best-practices/bad/aws-trust-azure-audience.json", 13, 87, "AWS020", "error"),
    ("best-practices/bad/aws-trust-wildcard-audience.json", 15, 87, "AWS019", "error"),
    ("best-practices/bad/legacy-token-pod.yaml", 17, 18, "K8S016", "error"),
    ("best-practices/bad/legacy-token-pod.yaml", 22, 18, "K8S016", "error"),
    ("best-practices/bad/legacy-token-pod.yaml", 34, 7, "K8S015", "error"),
    ("best-practices/bad/project-iam-policy.json", 7, 15, "GCP019", "warning"),
    ("best-practices/bad/project-iam-policy.json", 7, 15, "PERM002", "warning"),
    ("best-practices/bad/provider-broad-condition.yaml", 2, 21, "GCP002", "error"),
    ("best-practices/bad/role-assignments.json", 12, 14, "AZ012", "warning"),
    ("best-practices/good/federated-credential.json", 4, 14, "AZ007", "note"),
}


def test_seed_guide_findings_are_exactly_the_guides_anti_patterns(monkeypatch):
    monkeypatch.chdir(SEED)
    result = api.scan((".",))
    got = {(f.location.file, f.location.span.line, f.location.span.col, f.rule, f.severity) for f in result.findings}
    assert got == EXPECTED
    assert result.problems == []
    # every shipped configuration file is understood; README.md is read as a runbook too and holds none
    assert result.files_seen == result.files_relevant + 1


def test_good_variants_are_clean(monkeypatch):
    """No error or warning; the one note is hygiene the catalog asks for on every Kubernetes FIC subject."""
    monkeypatch.chdir(SEED / "best-practices" / "good")
    result = api.scan((".",))
    assert result.files_seen == 5
    assert [(f.rule, f.severity) for f in result.findings] == [("AZ007", "note")]
