"""GCP `external_account` credential configurations: where the client library sends tokens, and for how long
the service-account token it obtains lives."""

from __future__ import annotations

import re
from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit
from xfedlint.model.resources import GcpExternalAccount
from xfedlint.semantics.gcp_iam import is_placeholder

REQUIRED_FIELDS = ("audience", "subject_token_type", "token_url", "credential_source")
AWS_METADATA_HOSTS = ("169.254.169.254", "fd00:ec2::254")
_SEGMENT = r"[^.\s/\\]+"


def _google_host(host: str, service: str, universe: str) -> bool:
    """Is `host` one of Google's endpoints for `service` (sts, iamcredentials) in `universe`? The regional and
    private forms are those golang/oauth2 accepted when it validated these URLs; the Private Service Connect
    form (`sts-<x>.p.googleapis.com`) is accepted too, unverified, to avoid false alarms."""
    u, s = re.escape(universe.lower()), re.escape(service)
    patterns = (rf"{s}\.{u}", rf"{_SEGMENT}\.{s}\.{u}", rf"{s}\.{_SEGMENT}\.{u}", rf"{_SEGMENT}-{s}\.{u}",
                rf"{s}-{_SEGMENT}\.p\.{u}")
    return any(re.fullmatch(p, host.lower()) for p in patterns)


def _audience_ok(aud: str, universe: str) -> bool:
    u = re.escape(universe)
    return bool(re.fullmatch(rf"//iam\.{u}/projects/\d+/locations/global/workloadIdentityPools/[^/]+/providers/[^/]+",
                             aud)
                or re.fullmatch(rf"//iam\.{u}/locations/[^/]+/workforcePools/[^/]+/providers/[^/]+", aud))


def _split(url: str):
    from urllib.parse import urlsplit

    try:
        u = urlsplit(url.strip())
        return u.scheme.lower(), (u.hostname or "")
    except ValueError:
        return "", ""


def _local_host(host: str) -> bool:
    import ipaddress

    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_link_local


def external_account_untrusted_endpoints(cfg: GcpExternalAccount, ctx: CheckContext) -> Iterator[Hit]:
    """GCP016: an external_account configuration whose URLs are not Google's (or not local), whose audience
    is not a provider name, that lacks required fields, or that runs an executable."""
    d = cfg.data
    sensitive = (cfg.holder or "").startswith("secret")
    what = f"`external_account` configuration ({cfg.holder})" if cfg.holder else "`external_account` configuration"

    def show(value: str) -> str:
        return "" if sensitive else f" `{value}`"

    def hit(message: str, *path, severity: str | None = None, anchor: str | None = None, key: bool = False) -> Hit:
        return Hit(message, cfg.src.loc(*path, key=key), severity=severity, anchor=anchor, sensitive=sensitive)

    if d.get("type") != "external_account":
        yield hit(f"`type` of this credential configuration is{show(str(d.get('type')))}, not `external_account`",
                  "type", severity="error")
    missing = [f for f in REQUIRED_FIELDS if d.get(f) in (None, "", {}, [])]
    if missing:
        yield hit(f"{what} lacks {', '.join(f'`{f}`' for f in missing)}: client libraries refuse a configuration "
                  f"without {'it' if len(missing) == 1 else 'them'}", severity="error")
    universe = d.get("universe_domain") if isinstance(d.get("universe_domain"), str) and d.get("universe_domain") \
        else str(ctx.param("universe_domain", "googleapis.com"))

    for field, service, why in (
            ("token_url", "sts", "the workload's own token (the subject token) is sent there, and whoever answers "
                                 "chooses the credentials the workload then uses"),
            ("token_info_url", "sts", "client credentials are sent there"),
            ("service_account_impersonation_url", "iamcredentials", "the federated access token is sent there, "
                                                                    "and the answer becomes the workload's "
                                                                    "credentials")):
        url = d.get(field)
        if not isinstance(url, str) or not url or is_placeholder(url):
            continue
        scheme, host = _split(url)
        if scheme != "https" or not _google_host(host, service, universe):
            yield hit(f"`{field}`{show(url)} is not Google's `https://{service}.{universe}` endpoint: {why}; use "
                      f"`https://{service}.{universe}/...`", field, severity="error")

    aud = d.get("audience")
    if isinstance(aud, str) and aud and not is_placeholder(aud) and not _audience_ok(aud, universe):
        yield hit(f"`audience`{show(aud)} is not a workload identity pool provider name "
                  f"(`//iam.{universe}/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/"
                  f"<provider>`): the STS exchange fails, or trades the token with a provider you did not intend",
                  "audience", severity="error", anchor=f"{cfg.identity}#audience")

    source = d.get("credential_source")
    if not isinstance(source, dict):
        return
    if str(source.get("environment_id") or "").lower().startswith("aws"):
        for field in ("url", "region_url", "imdsv2_session_token_url"):
            url = source.get(field)
            if not isinstance(url, str) or not url:
                continue
            _, host = _split(url)
            if is_placeholder(host) or host in AWS_METADATA_HOSTS:
                continue
            yield hit(f"`credential_source.{field}`{show(url)} is not the EC2 instance metadata endpoint "
                      f"(`169.254.169.254` or `[fd00:ec2::254]`): AWS credentials and the region would be taken "
                      f"from `{host or url}`, which then decides which AWS identity is presented",
                      "credential_source", field, severity="error")
    elif isinstance(source.get("url"), str) and source.get("url"):
        url = source["url"]
        _, host = _split(url)
        if not is_placeholder(host) and not _local_host(host):
            yield hit(f"`credential_source.url`{show(url)} is neither loopback nor link-local: the subject token "
                      f"would be fetched over the network from `{host or url}`, which then decides which identity "
                      f"the workload presents", "credential_source", "url", severity="error")
    if "executable" in source:
        command = source.get("executable", {}).get("command") if isinstance(source.get("executable"), dict) else None
        run = f" `{command}`" if isinstance(command, str) and not sensitive else ""
        yield hit(f"{what} runs an executable{run} to obtain the subject token (client libraries do so only with "
                  f"`GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1`): a configuration from an untrusted source "
                  f"then runs its command; make sure this file comes from you", "credential_source", "executable",
                  severity="warning", key=True)


def external_account_token_lifetime(cfg: GcpExternalAccount, ctx: CheckContext) -> Iterator[Hit]:
    """GCP017: `service_account_impersonation.token_lifetime_seconds` outside 600-43200 (error) or above 3600
    (warning: needs the org-policy exception)."""
    sai = cfg.data.get("service_account_impersonation")
    if not isinstance(sai, dict) or "token_lifetime_seconds" not in sai:
        return
    value = sai["token_lifetime_seconds"]
    lo, hi = int(ctx.param("min_seconds", 600)), int(ctx.param("max_seconds", 43200))
    default_max = int(ctx.param("default_max_seconds", 3600))
    where = cfg.src.loc("service_account_impersonation", "token_lifetime_seconds")
    sensitive = (cfg.holder or "").startswith("secret")
    if isinstance(value, bool) or not isinstance(value, int):
        yield Hit(f"`service_account_impersonation.token_lifetime_seconds` must be an integer number of seconds "
                  f"({lo}-{hi}), found {value!r}", where, severity="error", sensitive=sensitive)
    elif value < lo or value > hi:
        yield Hit(f"`service_account_impersonation.token_lifetime_seconds` is {value}: the allowed range is "
                  f"{lo}-{hi} seconds, so the token request fails", where, severity="error", sensitive=sensitive)
    elif value > default_max:
        yield Hit(f"`service_account_impersonation.token_lifetime_seconds` is {value} ({value / 3600:g} h): above "
                  f"{default_max} s the request fails unless the organization policy "
                  f"`constraints/iam.allowServiceAccountCredentialLifetimeExtension` lists the service account, and "
                  f"a stolen token stays valid that long; keep {default_max} or less",
                  where, severity="warning", sensitive=sensitive)
