"""Kubernetes checks: projected tokens, the files the cloud SDKs are told to read, and the federation
annotations the EKS, Azure Workload Identity and GKE webhooks act on."""

from __future__ import annotations

import json
import re
from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.model.resources import GcpExternalAccount, Secret, ServiceAccount, Workload
from xfedlint.semantics import k8s_tokens
from xfedlint.semantics.issuers import K8S_SA_TOKEN_DIR
from xfedlint.semantics.k8s_tokens import (
    AZWI_CLIENT_ID,
    AZWI_MAX_TOKEN_EXPIRATION,
    AZWI_MIN_TOKEN_EXPIRATION,
    AZWI_TENANT_ID,
    AZWI_TOKEN_EXPIRATION,
    EKS_DEFAULT_TOKEN_EXPIRATION,
    EKS_MIN_TOKEN_EXPIRATION,
    EKS_ROLE_ARN,
    EKS_TOKEN_EXPIRATION,
    GKE_SERVICE_ACCOUNT,
)

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


def _secret_readers(inventory) -> dict:
    """(namespace, secret name) -> [(workload, token use)] for every cloud token read from a Secret volume;
    computed once per run so that judging each Secret stays linear."""
    def compute():
        out: dict = {}
        for w in inventory.of(Workload):
            for u in k8s_tokens.token_uses(w, inventory):
                if u.target.kind == "secret" and u.target.secret:
                    out.setdefault((w.namespace, u.target.secret), []).append((w, u))
        return out

    return inventory.memo("secret-readers", inventory, compute)


def legacy_sa_token_secret(s: Secret, ctx: CheckContext) -> Iterator[Hit]:
    """K8S015: a non-expiring token Secret; an error when a cloud token variable reads it."""
    if s.type != k8s_tokens.LEGACY_TOKEN_TYPE:
        return
    readers = _secret_readers(ctx.inventory).get((s.namespace, s.name), [])
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


# --- Token lifetimes and the webhooks' expiration annotations (K8S006, K8S007, K8S008) -----------------


def _duration(seconds: int) -> str:
    """`604800` -> `7 days`: how long a token lives, said the way people think of it."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"


def _scalar(raw) -> str:
    """An annotation value as YAML would show it: strings quoted, numbers and booleans as written."""
    return json.dumps(raw) if isinstance(raw, (str, bool, int, float)) or raw is None else str(raw)


def _raw_annotation(annotations: dict, key: str) -> tuple[bool, object]:
    """(present, value): the EKS webhook tests presence, so an empty value still counts as set."""
    return (key in annotations), annotations.get(key)


def _annotation_sites(res: ServiceAccount | Workload):
    """(annotations, location of a key's value, what a message calls the object) for a service account's
    own annotations or a workload's pod-template annotations."""
    if isinstance(res, Workload):
        owner = res.label if res.kind == "Pod" else f"the pod template of {res.label}"
        return res.template_annotations, lambda key: k8s_tokens.template_annotation_loc(res, key), owner
    owner = f"service account {res.namespace}/{res.name}"
    return res.annotations, lambda key: k8s_tokens.annotation_loc(res, key), owner


def token_long_lived(res: Workload | ServiceAccount, ctx: CheckContext) -> Iterator[Hit]:
    """K8S006: a projected token, or the EKS webhook's token, that lives longer than a day."""
    limit = int(ctx.param("max_expiration_seconds", 86400))
    if isinstance(res, Workload):
        for t in k8s_tokens.projected_tokens(res):
            exp = t.expiration
            if isinstance(exp, int) and not isinstance(exp, bool) and limit < exp <= MAX_EXPIRATION:
                yield Hit(f"`expirationSeconds: {exp}` in volume {t.volume!r} of {res.label} makes the token live "
                          f"{_duration(exp)}, more than {limit} seconds ({_duration(limit)}): a leaked token can be "
                          f"replayed that long; the kubelet refreshes tokens anyway, so 3600 costs nothing",
                          res.src.loc(*t.rel, "expirationSeconds"))
    annotations, loc, owner = _annotation_sites(res)
    n = k8s_tokens.go_int(annotations.get(EKS_TOKEN_EXPIRATION))
    if n is not None and n > limit:
        yield Hit(f"`{EKS_TOKEN_EXPIRATION}: {_scalar(annotations[EKS_TOKEN_EXPIRATION])}` on {owner} makes the EKS "
                  f"webhook mint tokens that live {_duration(n)}, more than {limit} seconds ({_duration(limit)}): "
                  f"a leaked token can be replayed that long", loc(EKS_TOKEN_EXPIRATION))


def eks_token_expiration_annotation(res: ServiceAccount | Workload, ctx: CheckContext) -> Iterator[Hit]:
    """K8S007: the EKS webhook ignores a non-integer `token-expiration` and raises values below 600."""
    annotations, loc, owner = _annotation_sites(res)
    present, raw = _raw_annotation(annotations, EKS_TOKEN_EXPIRATION)
    if not present:
        return
    if k8s_tokens.placeholder(raw):
        return  # an unrendered template value is unknown, not wrong: the rendered file is judged
    n = k8s_tokens.go_int(raw)
    fallback = ("the service account's value, else " if isinstance(res, Workload) else "") + \
        f"the webhook's `--token-expiration` ({EKS_DEFAULT_TOKEN_EXPIRATION} by default)"
    if n is None:
        what = "is not a whole number of seconds (Go `strconv.ParseInt` base 10: digits only, no units or spaces)"
        yield Hit(f"`{EKS_TOKEN_EXPIRATION}: {_scalar(raw)}` on {owner} {what}: the EKS webhook silently ignores "
                  f"it and uses {fallback}", loc(EKS_TOKEN_EXPIRATION))
    elif n < EKS_MIN_TOKEN_EXPIRATION:
        yield Hit(f"`{EKS_TOKEN_EXPIRATION}: {_scalar(raw)}` on {owner} is below {EKS_MIN_TOKEN_EXPIRATION}: the EKS "
                  f"webhook silently raises it to {EKS_MIN_TOKEN_EXPIRATION} seconds, so the tokens do not live as "
                  f"long as written", loc(EKS_TOKEN_EXPIRATION))


def azwi_expiration_out_of_range(res: ServiceAccount | Workload, ctx: CheckContext) -> Iterator[Hit]:
    """K8S008: the Azure Workload Identity webhook rejects pods whose token expiration is not an integer in
    3600-86400 (the pod template's annotation wins over the service account's)."""
    annotations, loc, owner = _annotation_sites(res)
    raw = annotations.get(AZWI_TOKEN_EXPIRATION)
    if raw is None or raw == "" or k8s_tokens.placeholder(raw):  # empty: unset; a template value: unknown
        return
    n = k8s_tokens.go_int(raw)
    pods = "the pods it creates" if isinstance(res, Workload) else "every labelled pod of this service account " \
                                                                    "that does not override it"
    if n is None:
        what = "is not a whole number of seconds (Go `strconv.ParseInt` base 10: digits only, no units or spaces)"
    elif n < AZWI_MIN_TOKEN_EXPIRATION:
        what = f"is below the minimum of {AZWI_MIN_TOKEN_EXPIRATION} ({_duration(AZWI_MIN_TOKEN_EXPIRATION)})"
    elif n > AZWI_MAX_TOKEN_EXPIRATION:
        what = f"is above the maximum of {AZWI_MAX_TOKEN_EXPIRATION} ({_duration(AZWI_MAX_TOKEN_EXPIRATION)})"
    else:
        return
    yield Hit(f"`{AZWI_TOKEN_EXPIRATION}: {_scalar(raw)}` on {owner} {what}: the Azure Workload Identity webhook "
              f"accepts {AZWI_MIN_TOKEN_EXPIRATION}-{AZWI_MAX_TOKEN_EXPIRATION} and denies admission to {pods}",
              loc(AZWI_TOKEN_EXPIRATION))


# --- Identity annotations on service accounts (K8S010, K8S011, K8S012) --------------------------------

_ROLE_ARN = re.compile(r"arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):"
                       r"(?P<resource>.*)\Z", re.S)
_ROLE_PATH_NAME = re.compile(r"[\w+=,.@/-]+\Z", re.ASCII)
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_GSA = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com\Z")
_GSA_OTHER_LOCAL = re.compile(r"[a-z0-9][a-z0-9._-]*\Z")
CLOUD_ANNOTATION = {EKS_ROLE_ARN: "AWS", AZWI_CLIENT_ID: "Azure", GKE_SERVICE_ACCOUNT: "GCP"}


def _role_arn_problem(value: str, partitions: tuple) -> str | None:
    """Why `value` is not an IAM role ARN the EKS webhook can hand to STS, or None."""
    m = _ROLE_ARN.match(value)
    if m is None:
        if _ROLE_PATH_NAME.match(value) and not value.startswith("arn"):
            return "is a bare name, not a role ARN (`arn:aws:iam::<12-digit account>:role/<name>`)"
        return "is not an ARN (`arn:aws:iam::<12-digit account>:role/<name>`)"
    if m["partition"] not in partitions:
        return f"has partition `{m['partition']}`, not one of {', '.join(f'`{p}`' for p in partitions)}"
    if m["service"] != "iam":
        kind = " (an STS session, not a role)" if m["service"] == "sts" else ""
        return f"names service `{m['service']}`{kind}; a role ARN has `iam`"
    if m["region"]:
        return f"has region `{m['region']}`; IAM ARNs leave the region empty (`iam::`)"
    if not re.fullmatch(r"\d{12}", m["account"], re.ASCII):
        return f"has account `{m['account']}`, which is not 12 digits"
    resource = m["resource"]
    if not resource.startswith("role/"):
        kind = resource.split("/", 1)[0] if "/" in resource else resource
        return f"names a `{kind}`, not a `role/`" if kind else "has no resource part (`role/<name>`)"
    name = resource[len("role/"):]
    if not name or name.endswith("/"):
        return "has no role name after `role/`"
    if not _ROLE_PATH_NAME.match(name):
        bad = next(c for c in name if not _ROLE_PATH_NAME.match(c))
        return f"contains {bad!r}, which IAM role names and paths do not allow (letters, digits, `+=,.@_/-`)"
    return None


def _guid_problem(value: str) -> str | None:
    if _GUID.match(value):
        return None
    if value.startswith("/subscriptions/"):
        return "is an Azure resource ID; the annotation takes the identity's client ID, a GUID"
    if value.startswith("{") and _GUID.match(value.strip("{}")):
        return "is a GUID in braces; write it without them"
    return "is not a GUID (8-4-4-4-12 hexadecimal digits)"


def _gsa_problem(value: str, extra_domains: tuple) -> str | None:
    if _GSA.match(value):
        return None
    local, at, domain = value.rpartition("@")
    if at and any(domain == d or domain.endswith("." + d) for d in extra_domains) and _GSA_OTHER_LOCAL.match(local):
        return None
    if not at:
        return "is not an e-mail address; the annotation takes `<name>@<project>.iam.gserviceaccount.com`"
    if value != value.lower():
        return "has upper-case letters; service-account e-mails are lower case"
    if domain.endswith(".iam.gserviceaccount.com") and not 6 <= len(local) <= 30:
        return f"has a {len(local)}-character name; service-account names are 6-30 characters"
    return "is not a service-account e-mail (`<name>@<project>.iam.gserviceaccount.com`)"


def identity_annotation_malformed(sa: ServiceAccount, ctx: CheckContext) -> Iterator[Hit]:
    """K8S010: an identity annotation the webhook (or GKE) cannot use as written."""
    partitions = tuple(ctx.param("aws_partitions", ["aws", "aws-cn", "aws-us-gov"]))
    domains = tuple(ctx.param("extra_service_account_domains", []))
    judges = ((EKS_ROLE_ARN, lambda v: _role_arn_problem(v, partitions), "the EKS webhook injects it as `AWS_ROLE_ARN` "
               "and STS rejects it"),
              (AZWI_CLIENT_ID, _guid_problem, "the Azure webhook injects it as `AZURE_CLIENT_ID` and Entra ID rejects "
               "the token exchange"),
              (AZWI_TENANT_ID, _guid_problem, "the Azure webhook injects it as `AZURE_TENANT_ID` and Entra ID rejects "
               "the token exchange"),
              (GKE_SERVICE_ACCOUNT, lambda v: _gsa_problem(v, domains),
               "the GKE metadata server cannot impersonate it"))
    for key, judge, consequence in judges:
        if key not in sa.annotations:
            continue
        raw = sa.annotations[key]
        value = "" if raw is None else str(raw)
        if not value:
            continue  # an empty annotation is no annotation to the webhooks
        if k8s_tokens.placeholder(value):
            continue  # an unrendered template value is unknown, not malformed: the rendered file is judged
        problem = judge(value) if value.strip() else "is blank"
        if problem is None:
            continue
        yield Hit(f"`{key}: {value}` on service account {sa.namespace}/{sa.name} {problem}; {consequence}",
                  k8s_tokens.annotation_loc(sa, key))


def _other_annotations(sa: ServiceAccount, rest: list) -> tuple:
    """Related locations: the service account's other federation annotations."""
    return tuple(related(k8s_tokens.annotation_loc(sa, k, key_only=True), f"{CLOUD_ANNOTATION[k]} identity")
                 for k, _, _ in rest)


def default_sa_federated(sa: ServiceAccount, ctx: CheckContext) -> Iterator[Hit]:
    """K8S011: a cloud identity on the namespace's `default` service account."""
    if sa.name != "default":
        return
    found = k8s_tokens.federation_annotations(sa)
    if not found:
        return
    (key, _, _), rest = found[0], found[1:]
    clouds = " and ".join(f"`{k}` ({CLOUD_ANNOTATION[k]})" for k, _, _ in found)
    yield Hit(f"service account {sa.namespace}/default carries {clouds}: every pod in namespace {sa.namespace!r} "
              f"that sets no `serviceAccountName` gets this cloud identity; give the workload a dedicated service "
              f"account", k8s_tokens.annotation_loc(sa, key, key_only=True),
              related=_other_annotations(sa, rest))


def multi_cloud_sa(sa: ServiceAccount, ctx: CheckContext) -> Iterator[Hit]:
    """K8S012: one service account federated into two or more clouds."""
    found = k8s_tokens.federation_annotations(sa)
    if len({cloud for _, cloud, _ in found}) < 2:
        return
    (key, _, _), rest = found[0], found[1:]
    clouds = ", ".join(f"`{k}` ({CLOUD_ANNOTATION[k]})" for k, _, _ in found)
    yield Hit(f"service account {sa.namespace}/{sa.name} is federated into {len(found)} clouds ({clouds}): one "
              f"Kubernetes identity, and every pod running as it, unlocks all of them; confirm this is intended or "
              f"use one service account per cloud", k8s_tokens.annotation_loc(sa, key, key_only=True),
              related=_other_annotations(sa, rest))
