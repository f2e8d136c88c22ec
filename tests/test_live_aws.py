"""`xfedlint audit --cloud aws` against moto's server on loopback: real boto3 over HTTP, no internet.

The server is seeded with the seed guide's OIDC provider and roles (a good one, and bad ones: a wildcard
subject, a missing `sub`, AdministratorAccess on a federated role) through the same boto3 API a person
would use; the audit must report exactly the expected findings, `--export` then `scan` the same ones, the
read-only guard must refuse writes before any request leaves, and the number of calls must not grow with
the number of roles.
"""

from __future__ import annotations

import json
import logging
import urllib.request

import pytest

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

from xfedlint.live import ReadOnlyViolation, aws  # noqa: E402

EKS = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"


@pytest.fixture()
def moto(monkeypatch):
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its accounts in the process: start each test from an empty one
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()
    for key, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield endpoint
    server.stop()


def _trust(sub_op: str, sub: str | None, account: str) -> str:
    cond = {"StringEquals": {f"{EKS}:aud": "sts.amazonaws.com"}}
    if sub is not None:
        cond.setdefault(sub_op, {})[f"{EKS}:sub"] = sub
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{EKS}"},
        "Action": "sts:AssumeRoleWithWebIdentity", "Condition": cond}]})


def _seed(roles: int = 0) -> str:
    """The seed guide's estate, plus `roles` more good roles; returns the account ID."""
    sess = boto3.Session(region_name="us-east-1")
    iam = sess.client("iam")
    account = sess.client("sts").get_caller_identity()["Account"]
    iam.create_open_id_connect_provider(Url=f"https://{EKS}", ClientIDList=["sts.amazonaws.com"],
                                        ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])
    iam.create_role(RoleName="eks-cross-cloud-role",
                    AssumeRolePolicyDocument=_trust("StringEquals", "system:serviceaccount:default:app", account))
    iam.create_role(RoleName="wildcard-role",
                    AssumeRolePolicyDocument=_trust("StringLike", "system:serviceaccount:*", account))
    iam.create_role(RoleName="no-sub-role", AssumeRolePolicyDocument=_trust("StringEquals", None, account))
    admin = iam.create_policy(PolicyName="Admin", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    iam.attach_role_policy(RoleName="wildcard-role", PolicyArn=admin["Policy"]["Arn"])
    for i in range(roles):
        iam.create_role(RoleName=f"app-{i:04d}",
                        AssumeRolePolicyDocument=_trust("StringEquals", f"system:serviceaccount:ns:app-{i}", account))
    return account


def _rules(out: str) -> list:
    return sorted((f["rule"], f["file"], f["line"]) for f in json.loads(out)["findings"])


def test_audit_reports_the_seeded_anti_patterns(moto, run_cli, tmp_path):
    account = _seed()
    code, out, err = run_cli("audit", "--cloud", "aws", "--format", "json", "--export", str(tmp_path / "x"),
                             cwd=tmp_path)
    details = f"aws/{account}/account-authorization-details.json"
    assert _rules(out) == [  # at their lines in the exported file (JSON written with sorted keys)
        ("AWS001", details, 105),   # no-sub-role: no `sub` condition
        ("AWS004", details, 73),    # wildcard-role: `system:serviceaccount:*`
        ("PERM001", details, 86),   # wildcard-role: a policy allowing `*` on `*` attached
    ]
    assert code == 1, err
    assert "API calls" in err
    # the export is what scan reads: the same findings again
    code2, out2, _err2 = run_cli("scan", ".", "--format", "json", cwd=tmp_path / "x")
    assert _rules(out2) == _rules(out) and code2 == 1


def test_calls_do_not_grow_with_the_roles(moto):
    _seed(roles=120)
    collected = aws.collect()
    assert collected.not_evaluated == []
    assert len(json.loads(next(iter(v for k, v in collected.files.items()
                                    if k.endswith("account-authorization-details.json"))))["RoleDetailList"]) == 123
    # one STS call, the paginated bulk read (100 roles a page), one list and one get per OIDC provider
    assert collected.calls <= 1 + 3 + 2


def test_writes_are_refused_before_any_request(moto):
    sess = aws.session()
    sent = []
    sess.events.register("before-send", lambda **kw: sent.append(kw["request"].url))
    iam = sess.client("iam")
    for attempt in (lambda: iam.create_role(RoleName="x", AssumeRolePolicyDocument="{}"),
                    lambda: iam.update_assume_role_policy(RoleName="x", PolicyDocument="{}"),
                    lambda: iam.delete_role(RoleName="x"),
                    lambda: sess.client("sts").get_session_token()):
        with pytest.raises(ReadOnlyViolation):
            attempt()
    assert sent == []  # nothing reached the server
    iam.list_open_id_connect_providers()  # an allowed read goes through
    assert len(sent) == 1


def test_a_denied_read_is_not_evaluated_and_the_run_goes_on(moto, run_cli, tmp_path, monkeypatch):
    _seed()
    real = aws.collect

    def denied(*args, **kwargs):
        out = real(*args, **kwargs)
        out.files = {k: v for k, v in out.files.items() if "oidc-providers" not in k}
        out.not_evaluated.append(("IAM OIDC providers", "access denied: the credentials need "
                                                        "iam:ListOpenIDConnectProviders"))
        return out

    monkeypatch.setattr(aws, "collect", denied)
    code, out, err = run_cli("audit", "--cloud", "aws", "--format", "json", cwd=tmp_path)
    assert code == 4  # something was not evaluated
    assert "not evaluated: IAM OIDC providers (access denied: the credentials need iam:ListOpenIDConnectProviders)" \
        in err
    assert {r for r, _f, _l in _rules(out)} >= {"AWS001", "AWS004"}  # the roles are still judged


def test_no_credentials_is_one_line(run_cli, tmp_path, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never contacted
    code, out, err = run_cli("audit", "--cloud", "aws", cwd=tmp_path)
    assert code == 2 and err.startswith("xfedlint: no AWS credentials") and "Traceback" not in err


def test_sarif_names_the_roles_by_arn(moto, run_cli, tmp_path):
    account = _seed()
    code, out, _err = run_cli("audit", "--cloud", "aws", "--format", "sarif", cwd=tmp_path)
    names = {loc["fullyQualifiedName"] for r in json.loads(out)["runs"][0]["results"]
             for loc in r["locations"][0].get("logicalLocations", [])}
    assert names == {f"arn:aws:iam::{account}:role/wildcard-role", f"arn:aws:iam::{account}:role/no-sub-role"}
