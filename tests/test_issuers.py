"""Issuers, audiences and subjects: exact comparison, multi-tenant recognition, subject forms."""

from __future__ import annotations

import pytest

from xfedlint.semantics import issuers


@pytest.mark.parametrize("configured,actual,verdict", [
    ("https://token.actions.githubusercontent.com", "https://token.actions.githubusercontent.com", "equal"),
    ("https://token.actions.githubusercontent.com/", "https://token.actions.githubusercontent.com", "trailing-slash"),
    (" https://gitlab.com", "https://gitlab.com", "whitespace"),
    ("http://oidc.eks.us-east-1.amazonaws.com/id/ABC", "https://oidc.eks.us-east-1.amazonaws.com/id/ABC", "scheme"),
    ("https://oidc.eks.us-east-1.amazonaws.com/id/abc", "https://oidc.eks.us-east-1.amazonaws.com/id/ABC", "case"),
    ("https://eastus.oic.prod-aks.azure.com/t/a/", "https://eastus.oic.prod-aks.azure.com/t/b/", "different"),
])
def test_issuer_comparison_is_exact_and_explains_differences(configured, actual, verdict):
    assert issuers.compare_issuers(configured, actual) == verdict


@pytest.mark.parametrize("issuer,owner", [
    ("https://token.actions.githubusercontent.com", "token.actions.githubusercontent.com"),
    ("token.actions.githubusercontent.com/", "token.actions.githubusercontent.com"),
    ("https://token.actions.githubusercontent.com/acme", "token.actions.githubusercontent.com"),  # enterprise slug
    ("https://gitlab.com", "gitlab.com"),
    ("https://app.eu.terraform.io", "app.eu.terraform.io"),
    ("https://accounts.google.com", "accounts.google.com"),
    ("cognito-identity.amazonaws.com", "cognito-identity.amazonaws.com"),
    ("https://oidc.eks.us-east-1.amazonaws.com/id/ABC", None),
    ("https://gitlab.example.com", None),  # self-managed GitLab is single-tenant
])
def test_multi_tenant_issuers(issuer, owner):
    assert issuers.multi_tenant_issuer(issuer) == owner
    assert issuers.is_multi_tenant(issuer) == (owner is not None)
    if owner:
        assert issuers.MULTI_TENANT_OWNER_CLAIMS[owner]


@pytest.mark.parametrize("subject,ok", [
    ("system:serviceaccount:prod:app", True),
    ("system:serviceaccount:prod:app.v2", True),
    ("system:serviceaccounts:prod:app", False),
    ("system:serviceaccount: prod:app", False),
    ("system:serviceaccount:Prod:app", False),
    ("system:serviceaccount:prod:${SA}", False),
    ("system:serviceaccount:prod-:app", False),
])
def test_kubernetes_subjects(subject, ok):
    assert issuers.is_kubernetes_subject(subject) is ok


def test_github_subject_forms():
    assert issuers.parse_github_subject("repo:acme/api:ref:refs/heads/main") == {
        "owner": "acme", "owner_id": None, "repo": "api", "repo_id": None, "context": "ref:refs/heads/main"}
    immutable = issuers.parse_github_subject("repo:acme@1342004/api@260064828:environment:prod")
    assert immutable["owner_id"] == "1342004" and immutable["repo_id"] == "260064828"
    assert issuers.parse_github_subject("system:serviceaccount:a:b") is None


@pytest.mark.parametrize("aud,cloud", [
    ("sts.amazonaws.com", "aws"), ("api://AzureADTokenExchange", "azure"), ("api://AzureADTokenExchangeUSGov", "azure"),
    ("//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q", "gcp"),
    ("https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q", "gcp"),
    ("https://kubernetes.default.svc", None),
])
def test_audience_cloud(aud, cloud):
    assert issuers.audience_cloud(aud) == cloud
