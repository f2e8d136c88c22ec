"""GCP: workload identity pool providers (gcloud describe/list, REST), IAM policies (`get-iam-policy` of a
project, folder, organization, service account or bucket) and `external_account` credential files.
"""

from __future__ import annotations

import fnmatch
import re

from xfedlint.loaders.base import LoadContext, ShapeError, type_name
from xfedlint.model.document import SourceDoc, Src
from xfedlint.model.resources import (
    GcpBinding,
    GcpExternalAccount,
    GcpIamPolicy,
    GcpProvider,
    GcpServiceAccountKey,
    Resource,
)

_PROVIDER_KINDS = ("oidc", "aws", "saml", "x509")


def _is_provider(d) -> bool:
    if not isinstance(d, dict):
        return False
    name = str(d.get("name", ""))
    if "/workloadIdentityPools/" in name and "/providers/" in name:
        return True
    return "attributeMapping" in d and any(k in d for k in _PROVIDER_KINDS)


def _is_policy(d) -> bool:
    return isinstance(d, dict) and isinstance(d.get("bindings"), list) and (
        "etag" in d or "version" in d or all(isinstance(b, dict) and "role" in b for b in d["bindings"]))


def from_document(doc: SourceDoc, ctx: LoadContext) -> list[Resource] | None:
    data = doc.data
    if isinstance(data, dict) and data.get("type") == "external_account":
        return [GcpExternalAccount(src=Src(doc))]
    if is_service_account_key(data):
        return [GcpServiceAccountKey(src=Src(doc), client_email=_opt(data.get("client_email")))]
    if _is_provider(data):
        return [_provider(doc, ())]
    if isinstance(data, dict) and isinstance(data.get("workloadIdentityPoolProviders"), list):
        return [_provider(doc, ("workloadIdentityPoolProviders", i))
                for i, p in enumerate(data["workloadIdentityPoolProviders"]) if _is_provider(p)]
    if isinstance(data, list) and data and all(_is_provider(p) for p in data):
        return [_provider(doc, (i,)) for i in range(len(data))]
    if _is_policy(data):
        return [_policy(doc, (), None, ctx)]
    if isinstance(data, dict) and _is_policy(data.get("policy")):
        return [_policy(doc, ("policy",), str(data.get("resource") or "") or None, ctx)]
    return None


def is_service_account_key(data) -> bool:
    return isinstance(data, dict) and data.get("type") == "service_account" and "private_key" in data


def _opt(v) -> str | None:
    return str(v) if v is not None else None


def _provider(doc: SourceDoc, path: tuple) -> GcpProvider:
    d = doc.get(path)
    oidc = d.get("oidc") if isinstance(d.get("oidc"), dict) else {}
    unknown = frozenset(name for name, value in (("attribute_mapping", d.get("attributeMapping")),
                                                 ("attribute_condition", d.get("attributeCondition")),
                                                 ("allowed_audiences", oidc.get("allowedAudiences")))
                        if _computed(value))
    mapping = None if "attribute_mapping" in unknown else d.get("attributeMapping")
    if mapping is not None and not isinstance(mapping, dict):
        raise ShapeError(f"`attributeMapping` must be a mapping, found {type_name(mapping)}", doc,
                         path + ("attributeMapping",))
    kind = next((k for k in _PROVIDER_KINDS if k in d), "oidc")
    aud = None if "allowed_audiences" in unknown else oidc.get("allowedAudiences")
    if aud is not None and not isinstance(aud, list):
        raise ShapeError(f"`allowedAudiences` must be a list, found {type_name(aud)}", doc,
                         path + ("oidc", "allowedAudiences"))
    return GcpProvider(src=Src(doc, path), name=str(d["name"]) if d.get("name") else None,
                       attribute_mapping=mapping,
                       attribute_condition=None if "attribute_condition" in unknown else d.get("attributeCondition"),
                       issuer_uri=oidc.get("issuerUri"), allowed_audiences=aud,
                       disabled=d.get("disabled") is True, state=d.get("state"), kind=kind, unknown=unknown)


def _computed(value) -> bool:
    """A whole value left to a template (`${var.attribute_condition}`), not text that merely contains one."""
    return isinstance(value, str) and value.startswith("${") and value.endswith("}") and value.count("${") == 1


# ---- IAM policies --------------------------------------------------------------------------------------

_LEVEL_BY_RESOURCE = (
    (re.compile(r"^(//cloudresourcemanager\.googleapis\.com/)?organizations/"), "organization"),
    (re.compile(r"^(//cloudresourcemanager\.googleapis\.com/)?folders/"), "folder"),
    (re.compile(r"^(//iam\.googleapis\.com/)?projects/[^/]+/serviceAccounts/"), "service-account"),
    (re.compile(r"^(//storage\.googleapis\.com/|gs://|b/)"), "bucket"),
    (re.compile(r"^(//cloudresourcemanager\.googleapis\.com/)?projects/[^/]+$"), "project"),
)
# file-name words that say which level a get-iam-policy output belongs to (rules.md section 0.1)
_LEVEL_WORDS = (
    ({"sa", "gsa", "serviceaccount", "serviceaccounts", "service-account"}, "service-account"),
    ({"bucket", "gcs"}, "bucket"),
    ({"org", "organization", "organisation"}, "organization"),
    ({"folder"}, "folder"),
    ({"project", "projects"}, "project"),
)


def policy_level(resource: str | None, file: str, levels: dict) -> tuple[str, str]:
    """(level, how it was decided): from the input itself, the file name, the config, else assumed."""
    if resource:
        for rx, level in _LEVEL_BY_RESOURCE:
            if rx.search(resource):
                return level, "input"
    name = file.rsplit("/", 1)[-1].lower()
    words = set(re.split(r"[^a-z0-9]+", name))
    joined = re.sub(r"[^a-z]", "", name)
    for vocab, level in _LEVEL_WORDS:
        if words & vocab or (level == "service-account" and "serviceaccount" in joined):
            return level, "filename"
    for glob, level in levels.items():
        if fnmatch.fnmatch(file, glob):
            return level, "config"
    return "project", "assumed"


def _policy(doc: SourceDoc, rel: tuple, resource: str | None, ctx: LoadContext) -> GcpIamPolicy:
    policy = doc.get(rel)
    bindings = []
    for i, b in enumerate(policy["bindings"]):
        bpath = rel + ("bindings", i)
        if not isinstance(b, dict):
            raise ShapeError(f"each binding must be a mapping, found {type_name(b)}", doc, bpath)
        members = b.get("members")
        if members is None:
            members = []
        if not isinstance(members, list):
            raise ShapeError(f"`members` must be a list, found {type_name(members)}", doc, bpath + ("members",))
        bindings.append(GcpBinding(role=str(b.get("role") or ""),
                                   members=tuple((str(m), j) for j, m in enumerate(members)),
                                   condition=b.get("condition"), index=i))
    level, how = policy_level(resource, ctx.file, ctx.policy_levels)
    return GcpIamPolicy(src=Src(doc), level=level, level_source=how, resource_name=resource,
                        bindings=tuple(bindings), rel=rel)
