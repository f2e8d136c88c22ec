"""The read-only, retrying HTTP session the REST collectors (GCP, Azure) share.

`read_only(session, allowed)` mounts an adapter on the session that refuses, before sending, every request
`allowed(method, url)` does not admit, and retries 429 and 5xx with backoff, honouring Retry-After (POST
included: GCP's `getIamPolicy` is a POST).
"""

from __future__ import annotations

from typing import Callable

from xfedlint.live import ReadOnlyViolation


def get_only(method: str, url: str) -> bool:
    return method in ("GET", "HEAD")


def retry_policy():
    """429 and 5xx retried with backoff, honouring Retry-After; POST too (GCP's `getIamPolicy` is a POST,
    and writes never get this far)."""
    from urllib3.util.retry import Retry

    return Retry(total=5, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504),
                 allowed_methods={"GET", "HEAD", "POST"}, respect_retry_after_header=True)


def read_only(session, allowed: Callable[[str, str], bool], audit: str):
    from requests.adapters import HTTPAdapter

    class ReadOnlyAdapter(HTTPAdapter):
        def send(self, request, **kwargs):
            if not allowed(request.method, request.url):
                raise ReadOnlyViolation(f"refused {request.method} {request.url.split('?')[0]}: xfedlint's "
                                        f"{audit} audit is read-only")
            return super().send(request, **kwargs)

    adapter = ReadOnlyAdapter(max_retries=retry_policy())
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def fetch(session, method: str, url: str, collected, what: str, permission: str, **kwargs) -> dict | None:
    """One request's JSON, or None after recording in `collected.not_evaluated` why `what` could not be read
    (the permission a 401/403 asks for, another HTTP status, a connection failure)."""
    import requests

    collected.calls += 1
    try:
        resp = session.request(method, url, timeout=30, **kwargs)
    except requests.RequestException as exc:
        collected.not_evaluated.append((what, f"{type(exc).__name__} on {permission}"))
        return None
    if resp.status_code in (401, 403):
        collected.not_evaluated.append((what, f"access denied: the credentials need {permission}"))
        return None
    if resp.status_code >= 400:
        collected.not_evaluated.append((what, f"HTTP {resp.status_code} on {permission}"))
        return None
    try:
        return resp.json()
    except ValueError:
        collected.not_evaluated.append((what, f"a response that is not JSON on {permission}"))
        return None

