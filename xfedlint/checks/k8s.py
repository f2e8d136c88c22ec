"""Kubernetes checks: projected tokens and the files the cloud SDKs are told to read."""

from __future__ import annotations

from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.model.resources import GcpExternalAccount, Secret, Workload
from xfedlint.semantics import k8s_tokens
from xfedlint.semantics.issuers import K8S_SA_TOKEN_DIR

CLOUD_NAMES = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}
MIN_EXPIRATION = 600
MAX_EXPIRATION = 2 ** 32


def projected_token_expiry_invalid(w: Workload, ctx: CheckContext) -> Iterator[Hit]:
    """K8S001: the API server rejects expirationSeconds < 600 or > 2^32, and a missing `path`."""
    for t in k8s_tokens.projected_tokens(w):
        exp = t.expiration
        if exp is not None:
            if isinstance(exp, bool) or not isinstance(exp, int):
                yield Hit(f"`expirationSeconds: {exp}` in volume {t.volume!r} is not a whole number of seconds; "
                          f"the API server rejects {w.label}", w.src.loc(*t.rel, "expirationSeconds"))
            elif exp < MIN_EXPIRATION:
                yield Hit(f"`expirationSeconds: {exp}` in volume {t.volume!r} is below the minimum of 600 "
                          f"(10 minutes); the API server rejects {w.label}", w.src.loc(*t.rel, "expirationSeconds"))
            elif exp > MAX_EXPIRATION:
                yield Hit(f"`expirationSeconds: {exp}` in volume {t.volume!r} is above the maximum of 2^32 "
                          f"seconds; the API server rejects {w.label}", w.src.loc(*t.rel, "expirationSeconds"))
        if not isinstance(t.path, str) or not t.path.strip():
            where = w.src.loc(*t.rel, "path") if "path" in (w.src.get(*t.rel) or {}) else w.src.loc(*t.rel, key=True)
            yield Hit(f"serviceAccountToken in volume {t.volume!r} has no `path`; the API server rejects {w.label}",
                      where)


def projected_token_no_audience(w: Workload, ctx: CheckContext) -> Iterator[Hit]:
    """K8S002: without `audience` the token is minted for the API server, not for a cloud."""
    uses = k8s_tokens.token_uses(w, ctx.inventory)
    for t in k8s_tokens.projected_tokens(w):
        if isinstance(t.audience, str) and t.audience.strip():
            continue
        readers = [u for u in uses if u.target.token == t]
        where = w.src.loc(*t.rel, key=True)
        if readers:
            u = readers[0]
            yield Hit(f"serviceAccountToken in volume {t.volume!r} has no `audience`, so its `aud` is the API "
                      f"server; container {u.container!r} gives it to {CLOUD_NAMES[u.cloud]} through `{u.variable}` "
                      f"({u.path}), where it will be rejected, and the file is a token kube-apiserver accepts",
                      where, related=tuple(related(u.where, f"{u.variable} reads this token") for u in readers),
                      severity="error")
        else:
            yield Hit(f"serviceAccountToken in volume {t.volume!r} has no `audience`: the token is minted for the "
                      f"API server; set the audience of the service that will receive it", where, severity="note")


def legacy_sa_token_secret(s: Secret, ctx: CheckContext) -> Iterator[Hit]:
    """K8S015: a non-expiring token Secret; an error when a cloud token variable reads it."""
    if s.type != k8s_tokens.LEGACY_TOKEN_TYPE:
        return
    readers = []
    for w in ctx.inventory.of(Workload):
        if w.namespace != s.namespace:
            continue
        for u in k8s_tokens.token_uses(w, ctx.inventory):
            if u.target.kind == "secret" and u.target.secret == s.name:
                readers.append((w, u))
    sa = s.annotations.get("kubernetes.io/service-account.name")
    who = f" for service account {sa!r}" if sa else ""
    if readers:
        w, u = readers[0]
        yield Hit(f"secret {s.namespace}/{s.name} is a legacy `{s.type}`{who}: a non-expiring token whose audience "
                  f"is the API server, and {w.label} gives it to {CLOUD_NAMES[u.cloud]} through `{u.variable}`; "
                  f"federation cannot use it", s.src.loc("type"),
                  related=tuple(related(u2.where, f"{u2.variable} in {w2.label} reads this secret")
                                for w2, u2 in readers), severity="error")
    else:
        yield Hit(f"secret {s.namespace}/{s.name} is a legacy `{s.type}`{who}: a non-expiring token credential; "
                  f"use the TokenRequest API or a projected serviceAccountToken", s.src.loc("type"), severity="warning")


def token_file_is_default_sa_token(res: Workload | GcpExternalAccount, ctx: CheckContext) -> Iterator[Hit]:
    """K8S016: the SDK reads the auto-mounted API-server token (or a legacy token Secret)."""
    if isinstance(res, GcpExternalAccount):
        yield from _external_account_default_token(res)
        return
    w = res
    for u in k8s_tokens.token_uses(w, ctx.inventory):
        if u.target.kind == "default-token" and w.pod_spec.get("automountServiceAccountToken") is not False:
            if u.via is not None:
                continue  # judged on the credential configuration itself, wherever it is used
            yield Hit(f"`{u.variable}={u.path}` in container {u.container!r} of {w.label} points at the auto-mounted "
                      f"service-account token, whose audience is the API server: federation rejects it, and a cloud "
                      f"set up to accept it would accept every pod's default token", u.where)
        else:
            secret = k8s_tokens.legacy_token_secret(w, u.target, ctx.inventory)
            if secret is not None:
                yield Hit(f"`{u.variable}={u.path}` in container {u.container!r} of {w.label} reads the legacy token "
                          f"secret {secret.namespace}/{secret.name} (`{secret.type}`): a non-expiring API-server token "
                          f"that federation cannot use", u.where,
                          related=(related(secret.src.loc("type"), "the legacy token secret"),))


def _external_account_default_token(cfg: GcpExternalAccount) -> Iterator[Hit]:
    """K8S016 on an `external_account` file whose credential_source.file is the auto-mounted token."""
    source = cfg.data.get("credential_source")
    path = source.get("file") if isinstance(source, dict) else None
    if isinstance(path, str) and path.startswith(K8S_SA_TOKEN_DIR):
        yield Hit(f"`credential_source.file` is `{path}`, the auto-mounted service-account token whose audience is "
                  f"the API server: GCP STS rejects it unless the provider accepts the API-server audience, which "
                  f"would admit every pod's default token", cfg.src.loc("credential_source", "file"))
