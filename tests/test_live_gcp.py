"""`xfedlint audit --cloud gcp` against a local server that speaks the IAM and Resource Manager REST shapes:
paging (`nextPageToken`), a 429 with Retry-After, POST `:getIamPolicy`; the real google-auth session.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("google.auth")
pytest.importorskip("requests")

from google.auth.credentials import AnonymousCredentials  # noqa: E402

from tests.fakes import FakeServer  # noqa: E402
from xfedlint.live import ReadOnlyViolation, gcp  # noqa: E402

P = "proj-1"
POOL = f"projects/{P}/locations/global/workloadIdentityPools/k8s"
SA = f"projects/{P}/serviceAccounts/app@{P}.iam.gserviceaccount.com"


def _routes(project_policy_status: int = 200) -> dict:
    throttled = {"n": 0}

    def providers(query, body):
        if throttled["n"] == 0:  # the first call is throttled: the session must wait and retry
            throttled["n"] += 1
            return 429, {"error": {"code": 429}}, {"Retry-After": "1"}
        return 200, {"workloadIdentityPoolProviders": [{
            "name": f"{POOL}/providers/eks", "state": "ACTIVE",
            "attributeMapping": {"google.subject": "assertion.sub"},
            "attributeCondition": "assertion.sub.startsWith('system:serviceaccount:prod')",
            "oidc": {"issuerUri": "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"}}]}, {}

    def pools(query, body):
        if query.get("pageToken") != "2":  # two pages
            return 200, {"workloadIdentityPools": [], "nextPageToken": "2"}, {}
        return 200, {"workloadIdentityPools": [{"name": POOL, "state": "ACTIVE"}]}, {}

    def project_policy(query, body):
        if project_policy_status != 200:
            return project_policy_status, {"error": {"code": project_policy_status}}, {}
        return 200, {"version": 3, "etag": "BwXmqn4OAaA=", "bindings": [
            {"role": "roles/storage.admin", "members": [f"serviceAccount:app@{P}.iam.gserviceaccount.com"]}]}, {}

    return {
        ("GET", f"/v1/projects/{P}/locations/global/workloadIdentityPools"): pools,
        ("GET", f"/v1/{POOL}/providers"): providers,
        ("GET", f"/v1/projects/{P}/serviceAccounts"): {"accounts": [
            {"name": SA, "email": f"app@{P}.iam.gserviceaccount.com"}]},
        ("POST", f"/v1/{SA}:getIamPolicy"): {"version": 3, "etag": "BwXmqn4OAaA=", "bindings": [
            {"role": "roles/iam.workloadIdentityUser", "members": [f"principalSet://iam.googleapis.com/{POOL}/*"]}]},
        ("POST", f"/v3/projects/{P}:getIamPolicy"): project_policy,
    }


@pytest.fixture()
def fake(monkeypatch):
    def start(**kwargs):
        server = FakeServer(_routes(**kwargs)).__enter__()
        monkeypatch.setenv("XFEDLINT_GCP_IAM_ENDPOINT", server.url)
        monkeypatch.setenv("XFEDLINT_GCP_CRM_ENDPOINT", server.url)
        real = gcp.session
        monkeypatch.setattr(gcp, "session", lambda credentials=None: real(AnonymousCredentials()))
        started.append(server)
        return server

    started: list = []
    yield start
    for server in started:
        server.__exit__(None, None, None)


def _found(out: str) -> set:
    return {(f["rule"], f["file"], f["line"]) for f in json.loads(out)["findings"]}


def test_audit_reads_providers_and_policies(fake, run_cli, tmp_path):
    server = fake()
    code, out, err = run_cli("audit", "--cloud", "gcp", "--gcp-project", P, "--format", "json",
                             "--export", str(tmp_path / "x"), cwd=tmp_path)
    rules = {r for r, _f, _l in _found(out)}
    assert {"GCP002", "GCP004", "GCP019", "PERM002"} <= rules, (rules, err)
    assert code == 1
    # the 429 was retried (the providers list was asked twice), and pages were followed
    calls = [(m, p) for m, p, _q in server.requests]
    assert calls.count(("GET", f"/v1/{POOL}/providers")) == 2
    assert calls.count(("GET", f"/v1/projects/{P}/locations/global/workloadIdentityPools")) == 2
    assert {m for m, _p in calls} == {"GET", "POST"}
    code2, out2, _ = run_cli("scan", ".", "--format", "json", cwd=tmp_path / "x")
    assert _found(out2) == _found(out)


def test_writes_are_refused_before_any_request(fake):
    server = fake()
    sess = gcp.session()
    for method, path in (("PATCH", f"/v1/{POOL}/providers/eks"), ("DELETE", f"/v1/{POOL}"),
                         ("POST", f"/v1/{SA}:setIamPolicy"), ("POST", f"/v3/projects/{P}:setIamPolicy")):
        with pytest.raises(ReadOnlyViolation):
            sess.request(method, server.url + path, json={})
    assert server.requests == []  # nothing reached the server
    assert sess.post(server.url + f"/v1/{SA}:getIamPolicy", json={}).status_code == 200


def test_a_denied_read_is_not_evaluated(fake, run_cli, tmp_path):
    fake(project_policy_status=403)
    code, out, err = run_cli("audit", "--cloud", "gcp", "--gcp-project", P, "--format", "json", cwd=tmp_path)
    assert code == 4
    assert (f"gcp: not evaluated: IAM policy of project {P} (access denied: the credentials need "
            f"resourcemanager.projects.getIamPolicy)") in err
    assert {"GCP002", "GCP004"} <= {r for r, _f, _l in _found(out)}  # the rest is still judged


def test_one_cloud_denied_while_the_other_reports(fake, run_cli, tmp_path, monkeypatch):
    """AWS has no credentials here; GCP still reports, and the run says what was not evaluated."""
    fake()
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, out, err = run_cli("audit", "--cloud", "aws", "--cloud", "gcp", "--gcp-project", P, "--format", "json",
                             cwd=tmp_path)
    assert code == 4
    assert "aws: not evaluated: everything (no AWS credentials" in err
    assert {"GCP002", "GCP004"} <= {r for r, _f, _l in _found(out)}
