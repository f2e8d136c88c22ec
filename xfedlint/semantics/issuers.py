"""Issuers and audiences: which token audience each cloud expects, and which issuers are multi-tenant."""

from __future__ import annotations

import re

K8S_SA_TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount/"

AWS_STS_AUDIENCES = ("sts.amazonaws.com", "sts.amazonaws.com.cn")
AZURE_AUDIENCES = ("api://AzureADTokenExchange", "api://AzureADTokenExchangeUSGov", "api://AzureADTokenExchangeChina")
_GCP_PROVIDER_AUDIENCE = re.compile(r"^(https:)?//iam\.googleapis\.com/projects/[^/]+/locations/global/"
                                    r"workloadIdentityPools/[^/]+/providers/[^/]+$")

# One issuer shared by many unrelated owners: the subject must pin the owner (rules.md section 1.2).
# Each maps to the claims that pin an owner (beyond `sub`, whose owner-scoped forms are issuer-specific).
# Rule params (`multi_tenant_issuers`) may add more; this is the default list.
MULTI_TENANT_OWNER_CLAIMS = {
    "token.actions.githubusercontent.com": ("repository", "repository_id", "repository_owner",
                                            "repository_owner_id", "enterprise_id", "enterprise",
                                            "job_workflow_ref", "workflow_ref"),
    "gitlab.com": ("project_id", "project_path", "namespace_id", "namespace_path", "ci_config_ref_uri"),
    "app.terraform.io": ("terraform_organization_id", "terraform_organization_name", "terraform_workspace_id"),
    "app.eu.terraform.io": ("terraform_organization_id", "terraform_organization_name", "terraform_workspace_id"),
    "accounts.google.com": ("azp", "email", "hd"),
    "cognito-identity.amazonaws.com": ("aud",),  # the identity pool ID is carried in `aud`
}
MULTI_TENANT_ISSUERS = tuple(MULTI_TENANT_OWNER_CLAIMS)
# The subject prefix each multi-tenant issuer uses before the owner's name.
OWNER_SUBJECT_PREFIX = {"token.actions.githubusercontent.com": "repo:", "gitlab.com": "project_path:",
                        "app.terraform.io": "organization:", "app.eu.terraform.io": "organization:"}


def normalise_issuer(issuer: str) -> str:
    """For comparing issuers loosely (scheme, case, trailing slash dropped). Use only to *recognise* an
    issuer; trust matching is exact, and a difference this hides is itself worth reporting."""
    return host_path(issuer.strip()).rstrip("/").lower()


def multi_tenant_issuer(issuer: str, extra: tuple = ()) -> str | None:
    """The multi-tenant issuer `issuer` belongs to (its host and path as listed), or None."""
    hp = normalise_issuer(issuer)
    for m in MULTI_TENANT_ISSUERS + tuple(extra):
        if hp == m or hp.startswith(m + "/"):
            return m
    return None


def host_path(issuer: str) -> str:
    """An issuer URL as IAM condition keys spell it: without the scheme."""
    return issuer.split("://", 1)[1] if "://" in issuer else issuer


def is_multi_tenant(issuer: str, extra: tuple = ()) -> bool:
    return multi_tenant_issuer(issuer, extra) is not None


K8S_SUBJECT = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")


def is_kubernetes_subject(subject: str) -> bool:
    """`system:serviceaccount:<namespace>:<name>` with DNS-1123 names (rules.md AWS018)."""
    return K8S_SUBJECT.match(subject) is not None


def is_kubernetes_issuer(issuer: str) -> bool:
    """EKS, AKS and GKE issuers are recognisable by host; self-managed clusters are not."""
    hp = host_path(issuer).lower()
    return (hp.startswith("oidc.eks.") or ".oic.prod-aks.azure.com/" in hp
            or hp.startswith("container.googleapis.com/v1/projects/"))


def audience_cloud(aud: str) -> str | None:
    """Which cloud's token exchange an audience belongs to: aws, azure, gcp, or None."""
    if aud in AWS_STS_AUDIENCES:
        return "aws"
    if aud.startswith("api://AzureADTokenExchange"):
        return "azure"
    if _GCP_PROVIDER_AUDIENCE.match(aud) or aud.startswith(("//iam.googleapis.com/", "https://iam.googleapis.com/")):
        return "gcp"
    return None


def compare_issuers(configured: str, actual: str) -> str:
    """How a configured issuer relates to the `iss` a token carries. Clouds compare byte for byte.

    Returns "equal", or the first difference that explains a mismatch: "whitespace", "scheme",
    "trailing-slash", "case", or "different".
    """
    if configured == actual:
        return "equal"
    if configured.strip() == actual.strip():
        return "whitespace"
    c, a = configured.strip(), actual.strip()
    if host_path(c) == host_path(a):
        return "scheme"
    if c.rstrip("/") == a.rstrip("/"):
        return "trailing-slash"
    if c.lower() == a.lower() or c.rstrip("/").lower() == a.rstrip("/").lower():
        return "case"
    return "different"


_GITHUB_SUBJECT = re.compile(r"^repo:(?P<owner>[^/@:]+)(?:@(?P<owner_id>\d+))?/(?P<repo>[^/@:]+)(?:@(?P<repo_id>\d+))?"
                             r"(?::(?P<context>.*))?$")


def parse_github_subject(subject: str) -> dict | None:
    """`repo:owner/repo:ref:refs/heads/main` or the immutable `repo:owner@123/repo@456:...` into parts."""
    m = _GITHUB_SUBJECT.match(subject)
    return m.groupdict() if m else None
