"""The check table: every check key a rule file may name, bound explicitly (no registration by import).

Functions are named as "module:function" and imported on first use (see `Check`).
"""

from xfedlint.checks.base import Check
from xfedlint.model.resources import (AwsRole, AzureFederatedCredential, AzureRoleAssignment, GcpExternalAccount,
                                      GcpIamPolicy, GcpProvider, Secret, Workload)

CHECKS: dict[str, Check] = {
    "k8s.projected_token_expiry_invalid": Check("xfedlint.checks.k8s:projected_token_expiry_invalid", Workload),
    "k8s.projected_token_no_audience": Check("xfedlint.checks.k8s:projected_token_no_audience", Workload),
    "k8s.legacy_sa_token_secret": Check("xfedlint.checks.k8s:legacy_sa_token_secret", Secret),
    "k8s.token_file_is_default_sa_token": Check("xfedlint.checks.k8s:token_file_is_default_sa_token", (Workload, GcpExternalAccount)),
    "aws.trust_no_sub": Check("xfedlint.checks.aws:trust_no_sub", AwsRole),
    "aws.trust_no_aud": Check("xfedlint.checks.aws:trust_no_aud", AwsRole),
    "aws.sub_overbroad_pattern": Check("xfedlint.checks.aws:sub_overbroad_pattern", AwsRole),
    "aws.aud_wildcard": Check("xfedlint.checks.aws:aud_wildcard", AwsRole),
    "aws.aud_wrong_target": Check("xfedlint.checks.aws:aud_wrong_target", AwsRole),
    "azure.fic_audience": Check("xfedlint.checks.azure:fic_audience", AzureFederatedCredential),
    "azure.privileged_role_broad_scope": Check("xfedlint.checks.azure:privileged_role_broad_scope", AzureRoleAssignment),
    "azure.role_broad_scope": Check("xfedlint.checks.azure:role_broad_scope", AzureRoleAssignment),
    "gcp.provider_no_attribute_condition": Check("xfedlint.checks.gcp:provider_no_attribute_condition", GcpProvider),
    "gcp.cel_weak_match": Check("xfedlint.checks.gcp:cel_weak_match", GcpProvider),
    "gcp.token_creator_for_federated": Check("xfedlint.checks.gcp:token_creator_for_federated", GcpIamPolicy),
    "gcp.project_level_resource_role": Check("xfedlint.checks.gcp:project_level_resource_role", GcpIamPolicy),
    "gcp.binding_attribute_not_unique": Check("xfedlint.checks.gcp:binding_attribute_not_unique", GcpIamPolicy),
    "perm.gcp_basic_or_admin": Check("xfedlint.checks.perm:gcp_basic_or_admin", GcpIamPolicy),
}
