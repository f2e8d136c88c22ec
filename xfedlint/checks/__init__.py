"""The check table: every check key a rule file may name, bound explicitly (no registration by import)."""

from xfedlint.checks import aws, azure, gcp, k8s, perm
from xfedlint.checks.base import Check
from xfedlint.model.resources import (
                                      AwsRole,
                                      AzureFederatedCredential,
                                      AzureRoleAssignment,
                                      GcpExternalAccount,
                                      GcpIamPolicy,
                                      GcpProvider,
                                      Secret,
                                      Workload,
)

CHECKS: dict[str, Check] = {
    "k8s.projected_token_expiry_invalid": Check(k8s.projected_token_expiry_invalid, Workload),
    "k8s.projected_token_no_audience": Check(k8s.projected_token_no_audience, Workload),
    "k8s.legacy_sa_token_secret": Check(k8s.legacy_sa_token_secret, Secret),
    "k8s.token_file_is_default_sa_token": Check(k8s.token_file_is_default_sa_token, (Workload, GcpExternalAccount)),
    "aws.trust_no_sub": Check(aws.trust_no_sub, AwsRole),
    "aws.trust_no_aud": Check(aws.trust_no_aud, AwsRole),
    "aws.sub_overbroad_pattern": Check(aws.sub_overbroad_pattern, AwsRole),
    "aws.aud_wildcard": Check(aws.aud_wildcard, AwsRole),
    "aws.aud_wrong_target": Check(aws.aud_wrong_target, AwsRole),
    "azure.fic_audience": Check(azure.fic_audience, AzureFederatedCredential),
    "azure.privileged_role_broad_scope": Check(azure.privileged_role_broad_scope, AzureRoleAssignment),
    "azure.role_broad_scope": Check(azure.role_broad_scope, AzureRoleAssignment),
    "gcp.provider_no_attribute_condition": Check(gcp.provider_no_attribute_condition, GcpProvider),
    "gcp.cel_weak_match": Check(gcp.cel_weak_match, GcpProvider),
    "gcp.token_creator_for_federated": Check(gcp.token_creator_for_federated, GcpIamPolicy),
    "gcp.project_level_resource_role": Check(gcp.project_level_resource_role, GcpIamPolicy),
    "gcp.binding_attribute_not_unique": Check(gcp.binding_attribute_not_unique, GcpIamPolicy),
    "perm.gcp_basic_or_admin": Check(perm.gcp_basic_or_admin, GcpIamPolicy),
}
