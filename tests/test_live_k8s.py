"""`xfedlint audit --cloud k8s` against a local server speaking the Kubernetes list API (paging with
`continue`), reached through a kubeconfig as a user would point it at a cluster; the real kubernetes client.
"""

from __future__ import annotations

import base64
import json

import pytest

pytest.importorskip("kubernetes")

from tests.fakes import FakeServer, rules_by_file  # noqa: E402
from xfedlint.live import ReadOnlyViolation, k8s  # noqa: E402

KEY_ID = base64.b64encode(b"AKIAIOSFODNN7EXAMPLE").decode()


def _list(items: list, cont: str | None = None) -> dict:
    return {"kind": "List", "metadata": {"continue": cont} if cont else {}, "items": items}


def _routes(secrets_status: int = 200) -> dict:
    def service_accounts(query, body):  # two pages
        if query.get("continue") != "p2":
            return 200, _list([{"metadata": {"name": "default", "namespace": "prod"}}], "p2"), {}
        return 200, _list([{"metadata": {"name": "app", "namespace": "prod", "annotations": {
            "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/app"}}}]), {}

    def secrets(query, body):
        if secrets_status != 200:
            return secrets_status, {"kind": "Status", "code": secrets_status}, {}
        return 200, _list([
            {"metadata": {"name": "app-token", "namespace": "prod",
                          "annotations": {"kubernetes.io/service-account.name": "app"}},
             "type": "kubernetes.io/service-account-token", "data": {"token": "c2VjcmV0"}},
            {"metadata": {"name": "aws", "namespace": "prod"}, "type": "Opaque",
             "data": {"AWS_ACCESS_KEY_ID": KEY_ID}}]), {}

    deployment = {"metadata": {"name": "app", "namespace": "prod"}, "spec": {"template": {
        "metadata": {"labels": {"app": "app"}},
        "spec": {"serviceAccountName": "app", "containers": [{"name": "app", "image": "python:3.12", "env": [
            {"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}]}]}}}}
    owned_pod = {"metadata": {"name": "app-1", "namespace": "prod",
                              "ownerReferences": [{"kind": "ReplicaSet", "name": "app-x"}]},
                 "spec": deployment["spec"]["template"]["spec"]}
    return {
        ("GET", "/api/v1/serviceaccounts"): service_accounts,
        ("GET", "/api/v1/configmaps"): _list([]),
        ("GET", "/api/v1/secrets"): secrets,
        ("GET", "/api/v1/pods"): _list([owned_pod]),
        ("GET", "/apis/apps/v1/deployments"): _list([deployment]),
        ("GET", "/apis/apps/v1/statefulsets"): _list([]),
        ("GET", "/apis/apps/v1/daemonsets"): _list([]),
        ("GET", "/apis/batch/v1/jobs"): _list([]),
        ("GET", "/apis/batch/v1/cronjobs"): _list([]),
    }


@pytest.fixture()
def cluster(tmp_path, monkeypatch):
    servers = []

    def start(**kwargs) -> FakeServer:
        server = FakeServer(_routes(**kwargs)).__enter__()
        servers.append(server)
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "test",
            "clusters": [{"name": "test", "cluster": {"server": server.url}}],
            "users": [{"name": "u", "user": {"token": "fake"}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "u"}}]}))
        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        return server

    yield start
    for s in servers:
        s.__exit__(None, None, None)


def test_audit_reads_the_cluster(cluster, run_cli, tmp_path):
    server = cluster()
    code, out, err = run_cli("audit", "--cloud", "k8s", "--format", "json", "--export", str(tmp_path / "x"),
                             cwd=tmp_path)
    found = rules_by_file(out)
    assert ("CRED001", "deployments.json") in found   # a literal AWS secret key in the workload
    assert ("K8S015", "secrets.json") in found        # a legacy service-account token Secret
    assert not [f for f in found if f[1] == "pods.json"]  # the owned pod is read through its Deployment
    assert not [f for f in found if f[0] == "CRED001" and f[1] == "secrets.json"]  # values were not read
    assert code == 1, err
    paths = [p for _m, p, _q in server.requests]
    assert paths.count("/api/v1/serviceaccounts") == 2  # paged with `continue`
    export = json.loads((tmp_path / "x" / "k8s" / "current-context" / "secrets.json").read_text())
    assert all(v == "" for item in export["items"] for v in item["data"].values())  # no secret value exported
    code2, out2, _ = run_cli("scan", ".", "--format", "json", cwd=tmp_path / "x")
    assert rules_by_file(out2) == found


def test_secret_values_only_when_asked(cluster, run_cli, tmp_path):
    cluster()
    code, out, _err = run_cli("audit", "--cloud", "k8s", "--include-secret-values", "--format", "json",
                              cwd=tmp_path)
    assert ("CRED001", "secrets.json") in rules_by_file(out)  # the AWS key ID in the Secret


def test_writes_are_refused_before_any_request(cluster):
    server = cluster()
    api = k8s.api_client()
    for method in ("DELETE", "POST", "PATCH", "PUT"):
        _m, url, headers, _b, _p = api.param_serialize(method, "/api/v1/namespaces/prod/serviceaccounts/app",
                                                       auth_settings=["BearerToken"])
        with pytest.raises(ReadOnlyViolation):
            api.call_api(method, url, header_params=headers, body={})
    assert server.requests == []


def test_a_denied_list_is_not_evaluated(cluster, run_cli, tmp_path):
    cluster(secrets_status=403)
    code, out, err = run_cli("audit", "--cloud", "k8s", "--format", "json", cwd=tmp_path)
    assert code == 4
    assert "k8s: not evaluated: Secret objects (access denied: the credentials need list secrets)" in err
    assert ("CRED001", "deployments.json") in rules_by_file(out)
