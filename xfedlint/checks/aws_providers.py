"""IAM OIDC identity providers: the issuer URL, the audiences (ClientIDList) and the thumbprints.

IAM stores the provider `Url` without its scheme (`get-open-id-connect-provider` prints
`oidc.eks.us-east-1.amazonaws.com/id/ABC`); CloudFormation and Terraform write it with `https://`.
Both forms are accepted; what STS compares with the token's `iss` is `https://` plus the stored value.
"""

from __future__ import annotations

import re
from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit
from xfedlint.model.resources import AwsOidcProvider
from xfedlint.semantics.aws_policy import is_placeholder
from xfedlint.semantics.issuers import AWS_STS_AUDIENCES, audience_cloud

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")
MAX_THUMBPRINTS = 5  # IAM CreateOpenIDConnectProvider / UpdateOpenIDConnectProviderThumbprint
# Client IDs that IdPs issue to applications (Entra application IDs, Google OAuth clients, Okta, Auth0,
# Cognito user-pool app clients): a token for such an audience is an ID token for that application.
DEFAULT_APP_CLIENT_ID_PATTERNS = (
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    r"^\d+-[0-9a-z]+\.apps\.googleusercontent\.com$",
    r"^0oa[0-9A-Za-z]{17}$",
    r"^[0-9A-Za-z]{32}$",
    r"^[0-9a-z]{26}$",
)


def _key(p: AwsOidcProvider, *names: str) -> str | None:
    """The spelling of a field in this input (`ClientIDList` in the CLI, `ClientIdList` in CloudFormation...)."""
    data = p.src.get()
    if isinstance(data, dict):
        for n in names:
            if n in data:
                return n
    return None


def _entries(p: AwsOidcProvider, key: str | None) -> list[tuple[str, int]]:
    values = p.src.get(key) if key else None
    if not isinstance(values, list):
        return []
    return [(str(v), i) for i, v in enumerate(values) if v is not None and not isinstance(v, (dict, list))]


def _name(p: AwsOidcProvider) -> str:
    return f"OIDC provider `{p.host_path}`" if p.host_path else "this OIDC provider"


# --- AWS011 ---------------------------------------------------------------------------------------------


def oidc_provider_url_invalid(p: AwsOidcProvider, ctx: CheckContext) -> Iterator[Hit]:
    """AWS011: the provider URL has a scheme other than https, a query or fragment, or a port."""
    key = _key(p, "Url", "url")
    url = p.src.get(key) if key else None
    if not isinstance(url, str):
        return
    if not url.strip():
        yield Hit("the OIDC provider's `Url` is empty: it must be the issuer URL that tokens carry in `iss`",
                  p.src.loc(key))
        return
    rel = (key,)
    m = _SCHEME.match(url)
    start = 0
    if m:
        start = m.end()
        if m.group(1).lower() != "https":
            yield Hit(f"the OIDC provider's `Url` `{url}` uses the scheme `{m.group(1)}`: IAM accepts only "
                      f"`https://` issuers, and STS fetches the issuer's discovery document over HTTPS",
                      ctx.substring(p.src, rel, 0, m.end()))
    rest = url[start:]
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    host = rest[:cut]
    port_at = host.find(":", host.find("]") + 1)  # after an IPv6 literal's brackets
    if port_at >= 0:
        colon = start + port_at
        yield Hit(f"the OIDC provider's `Url` `{url}` has a port (`{host[port_at:]}`): IAM rejects a port "
                  f"in the provider URL; the issuer must be served on the default HTTPS port",
                  ctx.substring(p.src, rel, colon, start + cut))
    q, f = url.find("?", start), url.find("#", start)
    if q >= 0:
        end = f if f > q else len(url)
        yield Hit(f"the OIDC provider's `Url` `{url}` has a query (`{url[q:end]}`): IAM rejects it, and the "
                  f"issuer URL must equal the token's `iss` exactly", ctx.substring(p.src, rel, q, end))
    if f >= 0:
        yield Hit(f"the OIDC provider's `Url` `{url}` has a fragment (`{url[f:]}`): an issuer URL has none, so no "
                  f"token's `iss` can match it", ctx.substring(p.src, rel, f, len(url)))


# --- AWS012 ---------------------------------------------------------------------------------------------


def _suspicious(cid: str, patterns: list[re.Pattern]) -> str | None:
    cloud = audience_cloud(cid)
    if cloud == "azure":
        return "Azure's token-exchange audience"
    if cloud == "gcp":
        return "a GCP workload identity provider audience"
    if any(rx.match(cid) for rx in patterns):
        return "what looks like an identity provider's application client ID"
    return None


def oidc_provider_multiple_audiences(p: AwsOidcProvider, ctx: CheckContext) -> Iterator[Hit]:
    """AWS012: several audiences, or another cloud's audience / an app client ID, in ClientIDList."""
    expected = tuple(ctx.param("expected_audiences", AWS_STS_AUDIENCES))
    patterns = [re.compile(x) for x in ctx.param("app_client_id_patterns", DEFAULT_APP_CLIENT_ID_PATTERNS)]
    key = _key(p, "ClientIDList", "ClientIdList", "client_id_list")
    ids = _entries(p, key)
    odd = [(cid, i, why) for cid, i in ids if (why := _suspicious(cid, patterns))]
    if len(ids) > 1:
        # Point at the entry that does not belong: a suspicious one, else a non-STS one, else the second.
        i = odd[0][1] if odd else next((i for cid, i in ids if cid not in expected), ids[1][1])
        detail = "".join(f"; `{cid}` is {why}" for cid, _i, why in odd)
        yield Hit(f"{_name(p)} accepts {len(ids)} audiences ({', '.join(f'`{c}`' for c, _ in ids)}): STS takes a "
                  f"token minted for any of them, so every role trusting this provider must pin `:aud` "
                  f"(AWS002){detail}", p.src.loc(key, i), anchor=_other_cloud_anchor(p, next(c for c, j in ids if j == i)))
    elif odd:
        cid, i, why = odd[0]
        yield Hit(f"{_name(p)} accepts the audience `{cid}`, {why}: tokens minted for that relying party "
                  f"also work at AWS STS; give AWS its own audience (`{expected[0]}`)", p.src.loc(key, i),
                  anchor=_other_cloud_anchor(p, cid))


def _other_cloud_anchor(p: AwsOidcProvider, cid: str) -> str | None:
    """When the entry at fault is another cloud's token-exchange audience, K8S005 reports it instead."""
    return f"{p.identity}|aud:{cid}" if audience_cloud(cid) not in (None, "aws") else None


# --- AWS013 ---------------------------------------------------------------------------------------------


def oidc_provider_thumbprint(p: AwsOidcProvider, ctx: CheckContext) -> Iterator[Hit]:
    """AWS013: ThumbprintList empty, malformed, or longer than IAM allows (information only)."""
    key = _key(p, "ThumbprintList", "thumbprint_list")
    if key is None or not isinstance(p.src.get(key), list):
        return
    prints = _entries(p, key)
    if not prints:
        yield Hit(f"{_name(p)} has an empty `{key}`: fine when the issuer's JWKS host has a certificate from a CA "
                  f"in AWS's trusted library; otherwise STS cannot verify the host and federation fails",
                  p.src.loc(key))
        return
    for tp, i in prints:
        if is_placeholder(tp):
            continue  # computed at plan time (Terraform `data.tls_certificate...`): cannot be judged statically
        if not _THUMBPRINT.match(tp):
            yield Hit(f"thumbprint `{tp}` of {_name(p)} is not a 40-hex-digit SHA-1 fingerprint: IAM rejects it, "
                      f"and it can match no certificate", p.src.loc(key, i))
    if len(prints) > MAX_THUMBPRINTS:
        yield Hit(f"{_name(p)} lists {len(prints)} thumbprints; IAM allows at most {MAX_THUMBPRINTS}",
                  p.src.loc(key, prints[MAX_THUMBPRINTS][1]))
