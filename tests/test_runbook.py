"""Runbooks (Markdown, shell, text): heredocs, federation-creating CLI commands and fenced manifests."""

from __future__ import annotations

from tests.conftest import FIXTURES
from xfedlint import api
from xfedlint.loaders import load_files
from xfedlint.loaders.files import discover
from xfedlint.model.resources import AwsRole, AzureFederatedCredential, GcpProvider, ServiceAccount

GUIDE = FIXTURES / "runbook" / "guide.md"


def _found(result) -> set:
    return {(f.rule, f.location.span.line, f.location.span.col) for f in result.findings}


def test_guide_findings_at_the_words_that_make_them():
    result = api.scan((str(GUIDE),))
    assert _found(result) == {
        ("AWS002", 13, 5), ("AWS004", 13, 58),   # inside the heredoc that `aws iam create-role` reads
        ("GCP006", 25, 1),                       # `providers create-oidc` without --allowed-audiences
        ("GCP002", 29, 26),                      # inside the quoted --attribute-condition value
        ("GCP019", 30, 117), ("PERM002", 30, 117),  # --role="roles/storage.admin" on the project
        ("AZ010", 31, 72),                       # Owner at --scope "/subscriptions/$SUBSCRIPTION_ID"
        ("AZ004", 33, 37),                       # a wildcard --subject, after a line continuation
    }
    assert result.problems == []


def test_commands_become_resources_and_cleanup_creates_nothing():
    files, _ = discover((str(GUIDE),))
    inv = load_files(files)
    (role,) = inv.of(AwsRole)
    assert role.name == "app-role"  # the heredoc is joined to the command that reads its file
    (provider,) = inv.of(GcpProvider)
    assert provider.attribute_mapping == {"google.subject": "assertion.sub"}
    (fic,) = inv.of(AzureFederatedCredential)
    assert (fic.issuer, fic.subject) == ("${OIDC_ISSUER}", "system:serviceaccount:prod:*")
    (sa,) = inv.of(ServiceAccount)  # from the fenced YAML block
    assert sa.src.loc().span.line == 39  # `apiVersion: v1`, the first line of the fence's body
    assert len(inv) == 6  # the cleanup section's delete/remove commands add nothing


def test_shell_script_with_prompts_quotes_and_continuations(tmp_path):
    script = tmp_path / "setup.sh"
    script.write_text(
        "#!/bin/sh\n"
        "$ gcloud iam service-accounts add-iam-policy-binding app@p.iam.gserviceaccount.com \\\n"
        "    --role=roles/iam.serviceAccountTokenCreator \\\n"
        "    --member='principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/k8s/*'\n"
        "echo done  # gcloud projects add-iam-policy-binding is only mentioned here\n", encoding="utf-8")
    result = api.scan((str(script),))
    # TokenCreator (GCP012) to the whole pool (GCP004), at the --member value after two continuations;
    # the command mentioned in the trailing comment is not read
    assert {(f.rule, f.location.span.line, f.location.span.col) for f in result.findings} == {
        ("GCP012", 4, 14), ("GCP004", 4, 14)}


def test_inline_federated_credential_parameters(tmp_path):
    """`az ad app federated-credential create --parameters '{...}'`: the JSON is read where it is written."""
    script = tmp_path / "fic.sh"
    script.write_text("az ad app federated-credential create --id \"$APP_ID\" --parameters '{\"name\": \"gh-main\", "
                      "\"issuer\": \"https://token.actions.githubusercontent.com\", \"subject\": \"repo:acme/app:*\", "
                      "\"audiences\": [\"api://AzureADTokenExchange\"]}'\n", encoding="utf-8")
    result = api.scan((str(script),))
    assert {(f.rule, f.location.span.line, f.location.span.col) for f in result.findings} == {
        ("AZ004", 1, 156), ("AZ007", 1, 156)}  # the wildcard subject, at its place inside the quoted JSON


def test_heredoc_syntax_in_prose_hides_nothing(tmp_path):
    """`<<EOF` mentioned in a sentence is not a heredoc: the commands after it are still read."""
    guide = tmp_path / "notes.md"
    guide.write_text("Write the file with the <<EOF syntax, then grant the role.\n\n"
                     "gcloud projects add-iam-policy-binding my-proj --member=serviceAccount:a@my-proj.iam."
                     "gserviceaccount.com --role=roles/storage.admin\n", encoding="utf-8")
    result = api.scan((str(guide),))
    assert {f.rule for f in result.findings} >= {"GCP019", "PERM002"}


def test_a_heredoc_joined_to_its_role_keeps_its_duplicate_keys(tmp_path):
    """AWS017 (a key given twice) still sees the heredoc's duplicates once `aws iam create-role` has made the
    heredoc the role's trust."""
    script = tmp_path / "role.sh"
    script.write_text(
        "cat > trust.json <<EOF\n"
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",\n'
        '  "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/A"},\n'
        '  "Action": "sts:AssumeRoleWithWebIdentity",\n'
        '  "Condition": {"StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/A:sub": "system:serviceaccount:a:b"},\n'
        '                "StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/A:aud": "sts.amazonaws.com"}}}]}\n'
        "EOF\n"
        "aws iam create-role --role-name app --assume-role-policy-document file://trust.json\n", encoding="utf-8")
    result = api.scan((str(script),))
    assert ("AWS017", 6) in {(f.rule, f.location.span.line) for f in result.findings}


GH_TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":'
            '"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},'
            '"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":'
            '{"token.actions.githubusercontent.com:sub":"repo:octo-org/*"}}}]}')


def test_inline_create_role_trust_is_read_where_it_is_written(tmp_path):
    """`aws iam create-role --assume-role-policy-document '{...}'`: the trust written in the command is the
    role's, its findings inside the quotes (it was not read at all; only `file://` was)."""
    guide = tmp_path / "role.md"
    line = f"  --assume-role-policy-document '{GH_TRUST}'"
    guide.write_text(f"# Role\n\n```sh\naws iam create-role --role-name ci \\\n{line}\n```\n", encoding="utf-8")
    result = api.scan((str(guide),))
    assert _found(result) == {("AWS002", 5, line.index('"Condition"') + 1),
                              ("AWS004", 5, line.index('"repo:octo-org/*"') + 1)}
    (role,) = _roles(guide)
    assert role.name == "ci" and role.trust is not None  # one role, named, with the inline trust


def test_inline_create_role_trust_with_escapes_points_at_the_flag_value(tmp_path):
    """Double-quoted with escaped quotes, the JSON is not the text as written: findings go to the value."""
    script = tmp_path / "role.sh"
    escaped = GH_TRUST.replace('"', '\\"')
    script.write_text(f'aws iam create-role --role-name ci --assume-role-policy-document "{escaped}"\n',
                      encoding="utf-8")
    result = api.scan((str(script),))
    col = script.read_text().index('"{') + 1
    assert _found(result) == {("AWS002", 1, col), ("AWS004", 1, col)}


def _roles(path) -> list:
    files, _ = discover((str(path),))
    return load_files(files).of(AwsRole)
