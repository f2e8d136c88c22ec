"""GCP: workload identity pools and providers, service accounts and their IAM policies, the project IAM
policy; read-only, over REST with google-auth's `AuthorizedSession`.

google-cloud-iam has no Workload Identity Pool API, and its service-account client is gRPC-only, so every
read is plain REST on one session: one transport, one guard, one fake in tests. Read-only cannot come from
OAuth scopes (every IAM method takes `cloud-platform`) and `getIamPolicy` is a POST, so the session's
adapter refuses every request but GET/HEAD and `POST ...:getIamPolicy` before it is sent. It retries 429
and 5xx with backoff, honouring Retry-After (POST included, for getIamPolicy).

Endpoints: `XFEDLINT_GCP_IAM_ENDPOINT` (default https://iam.googleapis.com) and `XFEDLINT_GCP_CRM_ENDPOINT`
(default https://cloudresourcemanager.googleapis.com), for tests and sovereign clouds.
"""

from __future__ import annotations

import os

from xfedlint.live import Collected, MissingExtra, NoCredentials, to_json
from xfedlint.live.http import fetch, read_only

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def allowed(method: str, url: str) -> bool:
    """GET and HEAD, and the one read that is a POST."""
    return method in ("GET", "HEAD") or (method == "POST" and url.split("?")[0].endswith(":getIamPolicy"))


def session(credentials=None):
    """An AuthorizedSession whose adapter refuses writes before sending and retries throttling."""
    try:
        import google.auth
        import google.auth.exceptions
        from google.auth.transport.requests import AuthorizedSession
    except ImportError as exc:
        raise MissingExtra("the GCP audit needs google-auth and requests: pip install 'xfedlint[gcp]'") from exc
    if credentials is None:
        try:
            credentials, _project = google.auth.default(scopes=[CLOUD_PLATFORM])
        except google.auth.exceptions.DefaultCredentialsError as exc:
            raise NoCredentials("no GCP credentials: looked for GOOGLE_APPLICATION_CREDENTIALS, gcloud's "
                                "application-default login and the metadata server") from exc
    return read_only(AuthorizedSession(credentials), allowed, "GCP")


def collect(projects: list[str], sess=None) -> Collected:
    """Providers, service-account policies and the project policy of each project."""
    out = Collected("gcp")
    sess = sess or session()
    iam = os.environ.get("XFEDLINT_GCP_IAM_ENDPOINT", "https://iam.googleapis.com").rstrip("/")
    crm = os.environ.get("XFEDLINT_GCP_CRM_ENDPOINT", "https://cloudresourcemanager.googleapis.com").rstrip("/")

    def call(method: str, url: str, what: str, permission: str, **kwargs):
        return fetch(sess, method, url, out, what, permission, **kwargs)

    def pages(url: str, key: str, what: str, permission: str) -> list | None:
        items: list = []
        token = None
        while True:
            params = {"pageSize": 1000, **({"pageToken": token} if token else {})}
            data = call("GET", url, what, permission, params=params)
            if data is None:
                return None
            items.extend(data.get(key, []))
            token = data.get("nextPageToken")
            if not token:
                return items

    for project in projects:
        base = f"gcp/{project}"
        pools = pages(f"{iam}/v1/projects/{project}/locations/global/workloadIdentityPools",
                      "workloadIdentityPools", f"workload identity pools of {project}",
                      "iam.workloadIdentityPools.list")
        providers: list = []
        for pool in pools or []:
            found = pages(f"{iam}/v1/{pool['name']}/providers", "workloadIdentityPoolProviders",
                          f"providers of {pool['name']}", "iam.workloadIdentityPoolProviders.list")
            providers.extend(found or [])
        if pools is not None:
            out.files[f"{base}/workload-identity-providers.json"] = to_json({"workloadIdentityPoolProviders": providers})
        accounts = pages(f"{iam}/v1/projects/{project}/serviceAccounts", "accounts",
                         f"service accounts of {project}", "iam.serviceAccounts.list")
        for sa in accounts or []:
            policy = call("POST", f"{iam}/v1/{sa['name']}:getIamPolicy", f"IAM policy of {sa['email']}",
                          "iam.serviceAccounts.getIamPolicy", json={"options": {"requestedPolicyVersion": 3}})
            if policy is not None:
                local = sa["email"].split("@", 1)[0]
                out.files[f"{base}/service-accounts/{local}-iam-policy.json"] = to_json(
                    {"resource": sa["name"], "policy": policy})
        policy = call("POST", f"{crm}/v3/projects/{project}:getIamPolicy", f"IAM policy of project {project}",
                      "resourcemanager.projects.getIamPolicy", json={"options": {"requestedPolicyVersion": 3}})
        if policy is not None:
            out.files[f"{base}/project-iam-policy.json"] = to_json({"resource": f"projects/{project}", "policy": policy})
    return out

