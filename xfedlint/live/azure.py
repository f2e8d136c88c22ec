"""Azure: Entra applications and their federated credentials (Graph), user-assigned identities, their
federated credentials, role assignments and role definitions (ARM); read-only, over REST.

Plain REST with an azure-identity token rather than msgraph-sdk and the azure-mgmt clients: xfedlint needs
a handful of GET endpoints, and msgraph-sdk installs 135 MB and spends 1.5-2 s importing models on its first
request (research in the project's live-audit notes). One `requests` session carries a guard that refuses
every method but GET/HEAD before sending and retries 429/5xx honouring Retry-After; Graph's per-application
credential calls run concurrently, eight at a time.

Credentials: `DefaultAzureCredential` (environment, workload identity, managed identity, Azure CLI...), one
token per audience (Graph, ARM). Endpoints: `XFEDLINT_GRAPH_ENDPOINT` (default https://graph.microsoft.com)
and `XFEDLINT_ARM_ENDPOINT` (default https://management.azure.com).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from xfedlint.live import Collected, MissingExtra, NoCredentials, to_json
from xfedlint.live.http import fetch, get_only, read_only

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ARM_SCOPE = "https://management.azure.com/.default"
MSI_API = "2023-01-31"
AUTH_API = "2022-04-01"
CONCURRENCY = 8


def session():
    try:
        import requests
    except ImportError as exc:
        raise MissingExtra("the Azure audit needs requests and azure-identity: pip install 'xfedlint[azure]'") from exc
    return read_only(requests.Session(), get_only, "Azure")


def default_credential(tenant: str | None = None):
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError as exc:
        raise MissingExtra("the Azure audit needs azure-identity: pip install 'xfedlint[azure]'") from exc
    import logging

    # azure-identity logs every credential it tried, many lines, when none works: the one-line message is ours
    logging.getLogger("azure.identity").setLevel(logging.CRITICAL)
    return DefaultAzureCredential(**({"additionally_allowed_tenants": ["*"], "tenant_id": tenant} if tenant else {}))


def collect(subscriptions: list[str] | None = None, tenant: str | None = None, credential=None,
            sess=None) -> Collected:
    """Applications and their credentials; per subscription (all visible ones when none is named or `all`),
    identities, their credentials and the role assignments with their role names."""
    out = Collected("azure")
    sess = sess or session()
    credential = credential or default_credential(tenant)
    graph = os.environ.get("XFEDLINT_GRAPH_ENDPOINT", "https://graph.microsoft.com").rstrip("/")
    arm = os.environ.get("XFEDLINT_ARM_ENDPOINT", "https://management.azure.com").rstrip("/")
    tokens: dict = {}

    def token(scope: str) -> str:
        if scope not in tokens:
            try:
                tokens[scope] = credential.get_token(scope).token
            except Exception as exc:  # azure-identity raises a long multi-line ClientAuthenticationError
                raise NoCredentials("no Azure credentials: looked for the environment (AZURE_CLIENT_ID...), "
                                    "workload identity, managed identity and the Azure CLI login "
                                    f"({type(exc).__name__})") from exc
        return tokens[scope]

    def pages(url: str, scope: str, what: str, permission: str) -> list | None:
        items: list = []
        while url:
            headers = {"Authorization": f"Bearer {token(scope)}"}
            data = fetch(sess, "GET", url, out, what, permission, headers=headers)
            if data is None:
                return None
            items.extend(data.get("value", []))
            url = data.get("@odata.nextLink") or data.get("nextLink")
        return items

    apps = pages(f"{graph}/v1.0/applications?$select=id,appId,displayName&$top=999", GRAPH_SCOPE,
                 "Entra applications", "Application.Read.All")
    if apps:
        def fics(app):
            return app, pages(f"{graph}/v1.0/applications/{app['id']}/federatedIdentityCredentials", GRAPH_SCOPE,
                              f"federated credentials of application {app.get('displayName') or app['id']}",
                              "Application.Read.All")

        token(GRAPH_SCOPE)  # once, before the threads
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            for app, creds in pool.map(fics, apps):
                if creds:
                    out.files[f"azure/applications/{app.get('appId') or app['id']}-federated-credentials.json"] = \
                        to_json({"value": creds})
    subs = subscriptions or ["all"]
    if "all" in subs:
        found = pages(f"{arm}/subscriptions?api-version=2022-12-01", ARM_SCOPE, "subscriptions",
                      "Reader on the subscriptions")
        subs = [s["subscriptionId"] for s in found or []]
    for sub in subs:
        base = f"azure/{sub}"
        identities = pages(f"{arm}/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
                           f"?api-version={MSI_API}", ARM_SCOPE, f"managed identities of {sub}",
                           "Microsoft.ManagedIdentity/userAssignedIdentities/read")
        if identities is not None:
            out.files[f"{base}/identities.json"] = to_json({"value": identities})
        for ident in identities or []:
            creds = pages(f"{arm}{ident['id']}/federatedIdentityCredentials?api-version={MSI_API}", ARM_SCOPE,
                          f"federated credentials of {ident.get('name')}",
                          "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read")
            if creds:
                out.files[f"{base}/identities/{ident.get('name')}-federated-credentials.json"] = to_json({"value": creds})
        definitions = pages(f"{arm}/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions"
                            f"?api-version={AUTH_API}", ARM_SCOPE, f"role definitions of {sub}",
                            "Microsoft.Authorization/roleDefinitions/read")
        names = {d["id"].rsplit("/", 1)[-1].lower(): (d.get("properties") or {}).get("roleName")
                 for d in definitions or []}
        assignments = pages(f"{arm}/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments"
                            f"?api-version={AUTH_API}", ARM_SCOPE, f"role assignments of {sub}",
                            "Microsoft.Authorization/roleAssignments/read")
        for a in assignments or []:
            props = a.setdefault("properties", {})
            name = names.get(str(props.get("roleDefinitionId", "")).rsplit("/", 1)[-1].lower())
            if name:
                props["roleDefinitionName"] = name
        if assignments is not None:
            out.files[f"{base}/role-assignments.json"] = to_json({"value": assignments})
    return out

