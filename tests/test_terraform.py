"""Terraform files are read into the same resources as CLI outputs, with positions in the `.tf` file."""

from __future__ import annotations

from tests.conftest import FIXTURES, found_in
from xfedlint import api
from xfedlint.loaders import load_files
from xfedlint.loaders.files import discover
from xfedlint.model.resources import (
    AwsOidcProvider,
    AwsRole,
    AzureFederatedCredential,
    AzureManagedIdentity,
    AzureRoleAssignment,
    GcpIamPolicy,
    GcpProvider,
    ServiceAccount,
)

TF = FIXTURES / "terraform"


def test_aws_roles_from_jsonencode_data_sources_and_heredocs():
    result = api.scan((str(TF / "aws.tf"),))
    assert found_in(result, "aws.tf") == {
        ("AWS004", 12, 70),   # jsonencode: at the pattern inside the HCL object
        ("PERM001", 19, 1),   # AdministratorAccess attached to role `app` by aws_iam_role_policy_attachment
        ("AWS004", 34, 19),   # data.aws_iam_policy_document: at the condition's value
        ("AWS001", 65, 5),    # heredoc JSON: at `"Condition"` inside the heredoc (no `sub` constraint)
        ("AWS017", 86, 18),   # two condition blocks on one test+variable: the earlier is dropped
    }


def test_unknown_values_are_not_judged():
    """`values = [var.audience]` and a computed thumbprint are plan-time values: no AWS020, no AWS013."""
    result = api.scan((str(TF / "aws.tf"),))
    assert not [f for f in result.findings if f.rule in ("AWS020", "AWS013")]


def test_gcp_azure_and_kubernetes_resources():
    result = api.scan((str(TF / "gcp-azure-k8s.tf"),))
    assert found_in(result, "gcp-azure-k8s.tf") == {
        ("GCP002", 7, 26),    # `startsWith` without a delimiter, at its offset inside the HCL string
        ("GCP006", 8, 3),
        ("GCP019", 15, 13), ("PERM002", 15, 13),  # roles/storage.admin on the project
        ("GCP005", 16, 13), ("GCP010", 16, 13),
        ("AZ004", 25, 25),    # a wildcard subject in azurerm_federated_identity_credential
        ("AZ010", 29, 26),    # Owner at subscription scope
        ("PERM002", 55, 15), ("GCP004", 56, 16),  # google_project_iam_policy from data "google_iam_policy"
    }
    (note,) = result.notices
    assert (note.level, note.location.span.line, note.location.span.col) == ("note", 44, 1)
    assert "module `iam` (source `./modules/iam`) is not inspected" in note.message


def test_resource_shapes():
    files, _ = discover((str(TF / "aws.tf"), str(TF / "gcp-azure-k8s.tf")))
    inv = load_files(files)
    roles = {r.name: r for r in inv.of(AwsRole)}
    assert set(roles) == {"ci-deploy", "app", "legacy", None}  # `collapsed` is used by no role: judged alone
    assert roles["app"].attached_policy_arns == ("arn:aws:iam::aws:policy/AdministratorAccess",)
    (provider,) = inv.of(AwsOidcProvider)
    assert provider.url == "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"
    (wif,) = inv.of(GcpProvider)
    assert wif.issuer_uri == "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"
    policies = inv.of(GcpIamPolicy)
    assert [(p.level, p.level_source) for p in policies] == [("project", "input")] * 2
    (fic,) = inv.of(AzureFederatedCredential)
    assert fic.subject == "system:serviceaccount:prod:*" and fic.issuer.startswith("${")
    (assignment,) = inv.of(AzureRoleAssignment)
    assert assignment.scope == "/subscriptions/00000000-0000-0000-0000-000000000000"
    (sa,) = inv.of(ServiceAccount)
    assert (sa.namespace, sa.name) == ("prod", "app")
    (identity,) = inv.of(AzureManagedIdentity)  # its IDs are the references other resources use for it
    assert (identity.name, identity.principal_id) == (
        "app-identity", "${azurerm_user_assigned_identity.app.principal_id}")


def test_hcl_syntax_error_is_reported_at_its_position(tmp_path):
    bad = tmp_path / "broken.tf"
    bad.write_text('resource "aws_iam_role" "x" {\n  name = "x"\n  assume_role_policy = \n}\n', encoding="utf-8")
    result = api.scan((str(bad),))
    (f,) = result.findings
    assert (f.rule, f.location.span.line, f.location.span.col) == ("XF001", 3, 24)  # the value that is missing
    assert f.message == "HCL syntax error: unexpected end of line"


def test_files_without_federation_resources_are_quiet(tmp_path):
    tf = tmp_path / "vpc.tf"
    tf.write_text('resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n', encoding="utf-8")
    result = api.scan((str(tf),))
    assert result.findings == [] and result.files_seen == 1 and result.resources == 0


def test_heredoc_conditions_and_computed_provider_fields():
    """A CEL condition in a `<<-` heredoc is placed exactly; a condition, mapping or audience list a variable
    supplies is not judged (no GCP001, GCP003 or GCP006 for them)."""
    result = api.scan((str(TF / "heredoc-condition.tf"),))
    assert found_in(result, "heredoc-condition.tf") == {
        ("GCP002", 9, 5), ("GCP010", 9, 5),  # `startsWith('acme')`, after the 4 spaces `<<-` strips
        ("GCP006", 23, 3),                   # `computed` sets no allowed_audiences at all
    }


def test_kubernetes_deployment_blocks_become_the_api_object():
    """Repeated blocks (`container`, `env`, `volume`) become lists, snake_case becomes camelCase: the
    Kubernetes checks see the pod template, and place findings in the `.tf` file."""
    result = api.scan((str(TF / "k8s-deployment.tf"),))
    assert found_in(result, "k8s-deployment.tf") == {
        ("CRED001", 26, 21),  # a literal AWS secret key in an `env` block (masked in every report)
        ("K8S002", 37, 15),   # the projected token given to AWS has no audience
    }
    (cred,) = [f for f in result.findings if f.rule == "CRED001"]
    assert cred.sensitive


def test_terraform_show_json_plan():
    """Planned values, child modules included; a policy held in a JSON string is placed at that string."""
    result = api.scan((str(TF / "plan.json"),))
    assert found_in(result, "plan.json") == {
        ("AWS002", 14, 35), ("AWS004", 14, 35),  # inside `assume_role_policy`, an escaped JSON string
        ("GCP001", 32, 41),                      # `attribute_condition: ""` for GitHub's multi-tenant issuer
        ("GCP006", 32, 109),                     # an empty `allowed_audiences`
    }


def test_kubernetes_secrets_and_config_maps():
    """The provider's `data` is plain text: a Secret's `data` is read as `stringData`."""
    result = api.scan((str(TF / "k8s-secrets.tf"),))
    assert found_in(result, "k8s-secrets.tf") == {
        ("K8S015", 9, 10),    # a legacy service-account token Secret
        ("CRED001", 18, 25),  # a long-term AWS key ID in a ConfigMap
    }


def test_a_trust_computed_elsewhere_is_a_note(tmp_path):
    """A role whose trust comes from a data source in another file cannot be judged here: a note says so,
    at the attribute, instead of silence or a guess."""
    tf = tmp_path / "role.tf"
    tf.write_text('resource "aws_iam_role" "app" {\n  name               = "app"\n'
                  '  assume_role_policy = data.aws_iam_policy_document.trust.json\n}\n', encoding="utf-8")
    result = api.scan((str(tf),))
    assert result.findings == []
    (note,) = result.notices
    assert (note.level, note.location.span.line, note.location.span.col) == ("note", 3, 24)
    assert "`data.aws_iam_policy_document.trust.json` is not in this file" in note.message


def test_heredoc_values_are_plain_strings(tmp_path):
    """A heredoc is a string like any other (one once carried extra attributes, and libyaml, reading an
    embedded document from it, refused it: the whole scan stopped)."""
    tf = tmp_path / "cm.tf"
    tf.write_text('resource "kubernetes_config_map_v1" "gcp" {\n  metadata {\n    name = "gcp"\n'
                  '    namespace = "prod"\n  }\n  data = {\n    "credentials.yaml" = <<EOF\n'
                  'type: external_account\naudience: //iam.googleapis.com/projects/1/locations/global/'
                  'workloadIdentityPools/k8s/providers/eks\ncredential_source:\n  file: /var/run/t\nEOF\n'
                  '  }\n}\n', encoding="utf-8")
    result = api.scan((str(tf),))
    assert result.problems == [] and result.resources == 2  # the ConfigMap and its external_account file
