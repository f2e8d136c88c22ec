"""CloudFormation templates: IAM roles and OIDC providers read with their intrinsic functions understood."""

from __future__ import annotations

from tests.conftest import FIXTURES, found_in
from xfedlint import api
from xfedlint.loaders import load_files
from xfedlint.loaders.files import discover
from xfedlint.model.resources import AwsOidcProvider, AwsRole

CFN = FIXTURES / "cloudformation"


def test_short_form_intrinsics_are_understood_not_xf001():
    result = api.scan((str(CFN / "roles.yaml"),))
    assert found_in(result, "roles.yaml") == {
        ("AWS004", 22, 58),   # `repo:acme/*` in the object document (raised by X005: the role is admin)
        ("PERM001", 24, 11),  # `!Sub arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess`
        ("AWS002", 37, 13),   # inside the `!Sub |` JSON string: no `aud` condition
        ("AWS004", 37, 61),   # ... and `system:serviceaccount:*`, placed inside the string
    }
    assert result.problems == []


def test_long_form_intrinsics():
    result = api.scan((str(CFN / "long-form.json"),))
    assert found_in(result, "long-form.json") == {("AWS001", 13, 13)}  # no `sub` condition


def test_template_shapes():
    files, _ = discover((str(CFN),))
    inv = load_files(files)
    roles = {r.name: r for r in inv.of(AwsRole)}
    assert set(roles) == {"ci-deploy", "AppRole", "${AWS::StackName}-irsa"}
    assert roles["ci-deploy"].attached_policy_arns == ("arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess",)
    (provider,) = inv.of(AwsOidcProvider)
    assert provider.url == "https://${OidcHost}" and provider.thumbprints == ("${Thumbprint}",)
