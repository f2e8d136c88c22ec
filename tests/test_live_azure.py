"""`xfedlint audit --cloud azure` against a local server that speaks the Graph and ARM REST shapes:
`@odata.nextLink` / `nextLink` paging, a 429 with Retry-After, role names joined from role definitions.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("requests")

from tests.fakes import FakeServer, rules_by_file  # noqa: E402
from xfedlint.live import ReadOnlyViolation, azure  # noqa: E402

SUB = "00000000-0000-0000-0000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups/rg"
IDENT = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-id"
ISSUER = "https://eastus.oic.prod-aks.azure.com/tenant/guid/"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


class FakeCredential:
    def get_token(self, *scopes):
        return SimpleNamespace(token="fake-token", expires_on=2**31)


def _routes(url: str, assignments_status: int = 200) -> dict:
    throttled = {"n": 0}

    def apps(query, body):
        if "$skiptoken" not in query:  # two pages
            return 200, {"value": [], "@odata.nextLink": f"{url}/v1.0/applications?$skiptoken=2"}, {}
        return 200, {"value": [{"id": "obj-1", "appId": "app-1", "displayName": "ci"}]}, {}

    def app_fics(query, body):
        if throttled["n"] == 0:
            throttled["n"] += 1
            return 429, {"error": {"code": "TooManyRequests"}}, {"Retry-After": "1"}
        return 200, {"value": [{"name": "gh", "issuer": "https://token.actions.githubusercontent.com",
                                "subject": "repo:acme/*", "audiences": ["api://AzureADTokenExchange"]}]}, {}

    def assignments(query, body):
        if assignments_status != 200:
            return assignments_status, {"error": {"code": "AuthorizationFailed"}}, {}
        return 200, {"value": [{"id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments/a1",
                                "name": "a1", "type": "Microsoft.Authorization/roleAssignments", "properties": {
                                    "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                                                        f"roleDefinitions/{OWNER}",
                                    "principalId": "p-1", "principalType": "ServicePrincipal",
                                    "scope": f"/subscriptions/{SUB}"}}]}, {}

    return {
        ("GET", "/v1.0/applications"): apps,
        ("GET", "/v1.0/applications/obj-1/federatedIdentityCredentials"): app_fics,
        ("GET", "/subscriptions"): {"value": [{"subscriptionId": SUB}]},
        ("GET", f"/subscriptions/{SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"): {"value": [{
            "id": IDENT, "name": "app-id", "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "properties": {"clientId": "c-1", "principalId": "p-1", "tenantId": "t"}}]},
        ("GET", f"{IDENT}/federatedIdentityCredentials"): {"value": [{
            "id": f"{IDENT}/federatedIdentityCredentials/k8s", "name": "k8s",
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
            "properties": {"issuer": ISSUER, "subject": "system:serviceaccount:prod:app",
                           "audiences": ["api://AzureADTokenExchange"]}}]},
        ("GET", f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions"): {"value": [{
            "id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
            "properties": {"roleName": "Owner"}}]},
        ("GET", f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments"): assignments,
    }


@pytest.fixture()
def tenant(monkeypatch):
    servers = []

    def start(**kwargs) -> FakeServer:
        server = FakeServer({})
        server.routes.update(_routes(server.url, **kwargs))
        server.__enter__()
        servers.append(server)
        monkeypatch.setenv("XFEDLINT_GRAPH_ENDPOINT", server.url)
        monkeypatch.setenv("XFEDLINT_ARM_ENDPOINT", server.url)
        monkeypatch.setattr(azure, "default_credential", lambda tenant=None: FakeCredential())
        return server

    yield start
    for s in servers:
        s.__exit__(None, None, None)


def test_audit_reads_graph_and_arm(tenant, run_cli, tmp_path):
    server = tenant()
    code, out, err = run_cli("audit", "--cloud", "azure", "--format", "json", "--export", str(tmp_path / "x"),
                             cwd=tmp_path)
    found = rules_by_file(out)
    assert found == {
        ("AZ004", "app-1-federated-credentials.json"),   # a wildcard subject on the app's credential
        ("AZ007", "app-1-federated-credentials.json"),   # ... a name-based GitHub subject
        ("AZ008", "app-1-federated-credentials.json"),   # ... `gh`, a name under 3 characters
        ("AZ007", "app-id-federated-credentials.json"),  # the identity's Kubernetes subject (a note)
        ("AZ010", "role-assignments.json"),  # Owner on the subscription: the name joined from its definition
    }
    assert code == 1, err
    paths = [p for _m, p, _q in server.requests]
    assert paths.count("/v1.0/applications") == 2  # @odata.nextLink followed
    assert paths.count("/v1.0/applications/obj-1/federatedIdentityCredentials") == 2  # the 429 was retried
    assert {m for m, _p, _q in server.requests} == {"GET"}
    code2, out2, _ = run_cli("scan", ".", "--format", "json", cwd=tmp_path / "x")
    assert rules_by_file(out2) == found


def test_writes_are_refused_before_any_request(tenant):
    server = tenant()
    sess = azure.session()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        with pytest.raises(ReadOnlyViolation):
            sess.request(method, f"{server.url}/v1.0/applications/obj-1/federatedIdentityCredentials", json={})
    assert server.requests == []


def test_a_denied_read_is_not_evaluated(tenant, run_cli, tmp_path):
    tenant(assignments_status=403)
    code, out, err = run_cli("audit", "--cloud", "azure", "--format", "json", cwd=tmp_path)
    assert code == 4
    assert (f"azure: not evaluated: role assignments of {SUB} (access denied: the credentials need "
            f"Microsoft.Authorization/roleAssignments/read)") in err
    assert ("AZ004", "app-1-federated-credentials.json") in rules_by_file(out)
