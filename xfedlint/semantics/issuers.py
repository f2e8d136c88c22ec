"""Issuers and audiences: which token audience each cloud expects, and which issuers are multi-tenant."""

from __future__ import annotations

import re

K8S_SA_TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount/"

AWS_STS_AUDIENCES = ("sts.amazonaws.com", "sts.amazonaws.com.cn")
AZURE_AUDIENCES = ("api://AzureADTokenExchange", "api://AzureADTokenExchangeUSGov", "api://AzureADTokenExchangeChina")
_GCP_PROVIDER_AUDIENCE = re.compile(r"^(https:)?//iam\.googleapis\.com/projects/[^/]+/locations/global/"
                                    r"workloadIdentityPools/[^/]+/providers/[^/]+$")

# One issuer shared by many unrelated owners: the subject must pin the owner (rules.md section 1.2).
MULTI_TENANT_ISSUERS = ("token.actions.githubusercontent.com", "gitlab.com", "app.terraform.io",
                        "app.eu.terraform.io", "accounts.google.com", "cognito-identity.amazonaws.com")


def host_path(issuer: str) -> str:
    """An issuer URL as IAM condition keys spell it: without the scheme."""
    return issuer.split("://", 1)[1] if "://" in issuer else issuer


def is_multi_tenant(issuer: str, extra: tuple = ()) -> bool:
    hp = host_path(issuer.strip()).rstrip("/").lower()
    return any(hp == m or hp.startswith(m + "/") for m in MULTI_TENANT_ISSUERS + tuple(extra))


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
