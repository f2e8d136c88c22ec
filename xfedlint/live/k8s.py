"""Kubernetes: service accounts, workloads, bare pods, config maps and secrets (types and key names), read-only.

The official client reads the cluster of a kubeconfig context (`--kube-context`; in a pod, the in-cluster
configuration). Lists are paged (`limit` + `continue`) and kept as the API's JSON, written as `kind: List`
files the Kubernetes loader reads. Secret values are not read into the export unless
`--include-secret-values` is given: the key names and the type (a legacy token Secret) are what most rules
need. Pods owned by a controller are left out (their workload is read), so nothing is reported twice.

Read-only by construction: the API client's REST layer refuses every method but GET and HEAD before a
request is sent.
"""

from __future__ import annotations

import json
import os

from xfedlint.live import Collected, MissingExtra, NoCredentials, ReadOnlyViolation, to_json
from xfedlint.live.http import get_only, retry_policy

# (API path, kind, apiVersion) of each list read, all namespaces at once
LISTS = (
    ("/api/v1/serviceaccounts", "ServiceAccount", "v1"),
    ("/api/v1/configmaps", "ConfigMap", "v1"),
    ("/api/v1/secrets", "Secret", "v1"),
    ("/api/v1/pods", "Pod", "v1"),
    ("/apis/apps/v1/deployments", "Deployment", "apps/v1"),
    ("/apis/apps/v1/statefulsets", "StatefulSet", "apps/v1"),
    ("/apis/apps/v1/daemonsets", "DaemonSet", "apps/v1"),
    ("/apis/batch/v1/jobs", "Job", "batch/v1"),
    ("/apis/batch/v1/cronjobs", "CronJob", "batch/v1"),
)


def api_client(context: str | None = None):
    """An ApiClient for the kubeconfig context (or the in-cluster configuration) that only reads."""
    try:
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException
    except ImportError as exc:
        raise MissingExtra("the Kubernetes audit needs the kubernetes client: pip install 'xfedlint[k8s]'") from exc
    cfg = client.Configuration()
    # KUBECONFIG as it is now (the client reads the variable once, when it is imported)
    path = os.environ.get("KUBECONFIG")
    try:
        config.load_kube_config(config_file=path if path and os.pathsep not in path else None, context=context,
                                client_configuration=cfg)
    except (ConfigException, OSError, TypeError) as exc:
        try:
            config.load_incluster_config(client_configuration=cfg)
        except ConfigException:
            raise NoCredentials(f"no Kubernetes configuration: looked for KUBECONFIG / ~/.kube/config"
                                f"{' context ' + context if context else ''} and an in-cluster service account "
                                f"({exc})") from exc
    cfg.retries = retry_policy()  # throttling and unavailable API servers (off by default in the client)
    api = client.ApiClient(cfg)
    request = api.rest_client.request

    def read_only(method, url, *args, **kwargs):
        if not get_only(method, url):
            raise ReadOnlyViolation(f"refused {method} {url.split('?')[0]}: xfedlint's Kubernetes audit is read-only")
        return request(method, url, *args, **kwargs)

    api.rest_client.request = read_only
    return api


def _get(api, path: str, query: list) -> dict:
    """One GET of the API as its JSON (no model objects: the files keep the API's own shapes)."""
    from kubernetes.client.exceptions import ApiException

    method, url, headers, _body, _post = api.param_serialize("GET", path, query_params=query,
                                                             auth_settings=["BearerToken"])
    resp = api.call_api(method, url, header_params=headers)
    data = resp.read()
    if resp.status >= 400:
        raise ApiException(status=resp.status, reason=getattr(resp, "reason", ""))
    return json.loads(data)


def collect(context: str | None = None, include_secret_values: bool = False, api=None) -> Collected:
    api = api or api_client(context)  # first: without the client it says which extra to install
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    out = Collected("k8s")
    name = context or "current-context"
    for path, kind, api_version in LISTS:
        items: list = []
        token = None
        resource = path.rsplit("/", 1)[-1]
        try:
            while True:
                query = [("limit", 500)] + ([("continue", token)] if token else [])
                out.calls += 1
                page = _get(api, path, query)
                items.extend(page.get("items") or [])
                token = (page.get("metadata") or {}).get("continue")
                if not token:
                    break
        except ApiException as exc:
            why = (f"access denied: the credentials need list {resource}" if exc.status in (401, 403)
                   else f"HTTP {exc.status} on list {resource}")
            out.not_evaluated.append((f"{kind} objects", why))
            continue
        except (HTTPError, ValueError) as exc:
            out.not_evaluated.append((f"{kind} objects", f"{type(exc).__name__} on list {resource}"))
            continue
        kept = []
        for item in items:
            if kind == "Pod" and (item.get("metadata") or {}).get("ownerReferences"):
                continue  # read through its workload
            if kind == "Secret" and not include_secret_values:
                item = {**item, "data": {k: "" for k in (item.get("data") or {})}}
            kept.append({"apiVersion": api_version, "kind": kind, **item})
        if kept:
            out.files[f"k8s/{name}/{kind.lower()}s.json"] = to_json({"apiVersion": "v1", "kind": "List", "items": kept})
    return out
