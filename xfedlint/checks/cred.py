"""Static credentials instead of, or next to, federation (CRED001-CRED004): AWS access keys, Azure client
secrets, GCP service-account keys, and key material kept in ConfigMaps.

A secret value never appears in a message. A hit located on a secret value is `sensitive`, so reports mask
the excerpt. Where each environment variable of a container comes from is `k8s_tokens.env_bindings`.

One problem, one finding: for key material in a ConfigMap, the cloud-specific rule (CRED001 for AWS access
keys, CRED003 for GCP service-account keys) supersedes the generic CRED004 through the anchor
`configmap:<ns>/<name>:<kind of material>`; CRED004 reports what they do not (AWS secret access keys without
an access key ID, Azure client secrets, PEM private keys), and everything when they are not selected.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import Iterator

import msgspec

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.model.location import Location
from xfedlint.model.resources import ConfigMap, GcpServiceAccountKey, Secret, Workload, resource_holder
from xfedlint.semantics import k8s_tokens
from xfedlint.semantics.k8s_tokens import EnvBinding

# --- What key material looks like --------------------------------------------------------------------

AWS_KEY_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")  # the secret first: it is what a hit points at
IRSA_VARS = ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN")
GAC = "GOOGLE_APPLICATION_CREDENTIALS"

_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_AWS_SECRET_NAME = re.compile(r"(?:aws[_-]?)?secret[_-]?access[_-]?key", re.I)
_AWS_SECRET_VALUE = re.compile(r"[A-Za-z0-9/+=]{40}\Z")
_AWS_SECRET_ASSIGNED = re.compile(r"(?<![A-Za-z0-9_-])(?P<name>(?:aws[_-]?)?secret[_-]?access[_-]?key)[\"']?"
                                  r"[ \t]*[:=][ \t]*[\"']?(?P<value>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])", re.I)
_AZURE_SECRET_NAME = re.compile(r"(?:AZURE|ARM)_CLIENT_SECRET", re.I)
_AZURE_SECRET_ASSIGNED = re.compile(r"(?<![A-Za-z0-9_])(?P<name>(?:AZURE|ARM)_CLIENT_SECRET)[\"']?[ \t]*[:=][ \t]*"
                                    r"[\"']?(?P<value>[^\s\"',}]{8,})", re.I)
_ENTRA_SECRET = re.compile(r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])")
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----")
_PEM_END = re.compile(r"-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----")
_PEM_LINE_BREAK = re.compile(r"\\n|\r?\n")  # a real line break, or an escaped one (inside JSON)
_BASE64_LINE = re.compile(r"[A-Za-z0-9+/=]{16,}")
_SA_KEY_TYPE = re.compile(r"\"type\"\s*:\s*\"service_account\"")
_SA_PRIVATE_KEY = re.compile(r"\"private_key\"\s*:\s*\"((?:[^\"\\]|\\.)*)\"?")


class Material(msgspec.Struct, frozen=True):
    """Key material found in a text: which kind, how to name it, and where (character offsets)."""

    kind: str  # aws, azure, gcp-sa-key, pem
    what: str
    start: int
    end: int


def _aws_key_id_kind(key_id: str) -> str:
    return "an AWS access key ID (`AKIA`: a long-term IAM user key)" if key_id.startswith("AKIA") else \
        "an AWS access key ID (`ASIA`: temporary session credentials)"


@lru_cache(maxsize=4096)
def key_material(name: str, text: str) -> tuple[Material, ...]:
    """Every piece of key material in `text`, the value of an entry called `name`, in order of position.
    A GCP service-account key counts once (its embedded PEM key is part of it). Cached: manifests repeat
    the same environment entries across workloads, and several checks ask about each."""
    found: list[Material] = []
    stripped = text.strip()
    low = text.lower() if text.isascii() else None
    if _may_match("AKIA", text, low) or _may_match("ASIA", text, low):
        for m in _AWS_KEY_ID.finditer(text):
            found.append(Material("aws", _aws_key_id_kind(m.group(0)), m.start(), m.end()))
    if _AWS_SECRET_NAME.fullmatch(name) and _AWS_SECRET_VALUE.match(stripped):
        start = text.index(stripped)
        found.append(Material("aws", "an AWS secret access key", start, start + len(stripped)))
    elif _may_match("secret", text, low, ignore_case=True):
        for m in _AWS_SECRET_ASSIGNED.finditer(text):
            found.append(Material("aws", f"an AWS secret access key (`{m['name']}`)", m.start("value"), m.end("value")))
    if _AZURE_SECRET_NAME.fullmatch(name) and len(stripped) >= 8 and not k8s_tokens.placeholder(stripped):
        start = text.index(stripped)
        found.append(Material("azure", "an Azure client secret", start, start + len(stripped)))
    elif _may_match("client_secret", text, low, ignore_case=True):
        for m in _AZURE_SECRET_ASSIGNED.finditer(text):
            if not k8s_tokens.placeholder(m["value"]):
                found.append(Material("azure", f"an Azure client secret (`{m['name']}`)", m.start("value"),
                                      m.end("value")))
    if _may_match("Q~", text, low):
        for m in _ENTRA_SECRET.finditer(text):
            if not any(f.kind == "azure" and f.start <= m.start() < f.end for f in found):
                found.append(Material("azure", "an Azure client secret (an Entra ID `…Q~…` secret value)",
                                      m.start(), m.end()))
    sa_key = _may_match("service_account", text, low) and _SA_KEY_TYPE.search(text) and _SA_PRIVATE_KEY.search(text)
    if sa_key:
        found.append(Material("gcp-sa-key", "a GCP service-account key (`\"type\": \"service_account\"` with a "
                                            "`private_key`)", sa_key.start(1), sa_key.end(1)))
    elif _may_match("-----BEGIN ", text, low):
        for start, end, label in _pem_keys(text):
            found.append(Material("pem", f"a PEM private key (`-----BEGIN {label}-----`)", start, end))
    return tuple(sorted(found, key=lambda f: (f.start, f.kind)))


def _may_match(word: str, text: str, low: str | None, ignore_case: bool = False) -> bool:
    """Can a pattern that cannot match without `word` match `text`? A plain `in` before each pattern: most
    values are short settings that hold no key material, and a large scan asks about tens of thousands.
    `low` is the lowered text when it is ASCII, else None: under re.I a non-ASCII `ſ` matches `s`, so a
    case-insensitive pattern is then always tried."""
    if ignore_case:
        return low is None or word in low
    return word in text


def _pem_keys(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, label) of each PEM private key block: the BEGIN line must be followed (after optional
    `Name: value` header lines) by a line of base64, so a sentence that merely names the header is not a key.
    The block ends at its END line, or where the base64 lines stop (a truncated key)."""
    for m in _PEM_BEGIN.finditer(text):
        end_m = _PEM_END.search(text, m.end())
        body_end = end_m.start() if end_m else len(text)
        first = None
        for piece in _PEM_LINE_BREAK.split(text[m.end():body_end]):
            line = piece.strip()
            if not line or ":" in line:
                continue
            first = line.split()[0]  # a key flattened onto one line with spaces: its first chunk
            break
        if first is None or not _BASE64_LINE.fullmatch(first):
            continue
        if end_m is not None:
            yield m.start(), end_m.end(), m.group(1)
            continue
        pos = text.index(first, m.end()) + len(first)
        while True:  # truncated: extend over the following base64 lines
            nxt = re.match(r"(?:\\n|\r?\n)[ \t]*([A-Za-z0-9+/=]+)", text[pos:])
            if not nxt:
                break
            pos += nxt.end()
        yield m.start(), pos, m.group(1)


class Entry(msgspec.Struct, frozen=True):
    """One entry of a ConfigMap or Secret with its text (decoded when base64)."""

    section: str
    key: str
    text: str
    exact: bool  # offsets inside `text` map to the file (False for base64 values)


def _entries(obj: ConfigMap | Secret) -> Iterator[Entry]:
    plain, encoded = (("data",), ("binaryData",)) if isinstance(obj, ConfigMap) else (("stringData",), ("data",))
    for section in plain + encoded:
        values = obj.src.get(section)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if not isinstance(value, str):
                continue
            if section in encoded:
                try:
                    value = base64.b64decode(value, validate=True).decode("utf-8")
                except (binascii.Error, ValueError):
                    continue
            yield Entry(section, str(key), value, section in plain)


def _material_loc(obj, entry: Entry, m: Material, ctx: CheckContext) -> Location:
    """The material's own characters where the value maps exactly to the file; else the whole value (a
    base64 value, or a one-line value that is all material: then the location starts at its quote, if any)."""
    whole_line = not (entry.text[:m.start].strip() or entry.text[m.end:].strip()) and "\n" not in entry.text.strip()
    if entry.exact and not whole_line:
        return ctx.substring(obj.src, (entry.section, entry.key), m.start, m.end)
    return obj.src.loc(entry.section, entry.key)


def _sa_key_resource(obj, key: str, ctx: CheckContext) -> GcpServiceAccountKey | None:
    found = ctx.inventory.lookup(GcpServiceAccountKey, resource_holder, f"{obj.label} key {key}")
    return found[0] if found else None


def _configmap_anchor(namespace: str, name: str, kind: str) -> str:
    """What CRED001/CRED003 and CRED004 share for one kind of key material in one ConfigMap."""
    return f"configmap:{namespace}/{name}:{kind}"


def _found_in(obj, kinds: tuple, ctx: CheckContext) -> list[tuple[Entry, Material, Location]]:
    """(entry, material, location) of each material of `kinds` in the object, in entry order."""
    out = []
    for entry in _entries(obj):
        for m in key_material(entry.key, entry.text):
            if m.kind not in kinds:
                continue
            loc = _material_loc(obj, entry, m, ctx)
            if m.kind == "gcp-sa-key":
                key = _sa_key_resource(obj, entry.key, ctx)
                if key is not None and isinstance(key.src.get(), dict) and "private_key" in key.src.get():
                    loc = key.src.loc("private_key")
            out.append((entry, m, loc))
    return out


def _object_label(obj) -> str:
    return f"{'ConfigMap' if isinstance(obj, ConfigMap) else 'Secret'} {obj.namespace}/{obj.name}"


def _others(found: list, first) -> tuple:
    return tuple(related(loc, f"also {m.what} (key `{e.key}`)") for e, m, loc in found if (e, m, loc) != first)


# --- Environment variables ------------------------------------------------------------------------------


def _set(b: EnvBinding | None) -> bool:
    """Whether the binding gives the variable a (possibly unknown) non-empty value."""
    if b is None or b.origin == "other":
        return False
    if b.origin == "literal":
        return bool(b.value and b.value.strip())
    return b.value is None or bool(b.value.strip())


_ORIGIN_RANK = {"literal": 0, "configmap": 1, "secret": 2}


def _primary(bindings: list[EnvBinding]) -> EnvBinding:
    return min(bindings, key=lambda b: _ORIGIN_RANK.get(b.origin, 3))


def _binding_hit_site(b: EnvBinding, secret: bool = True) -> tuple[Location, bool]:
    """Where a hit about this binding points, and whether that is a secret value: a literal secret is
    located on its value (masked), anything else on the env entry."""
    if b.origin == "literal" and secret:
        return (b.value_where or b.where), True
    return b.where, False


def _said(b: EnvBinding) -> str:
    text = f"`{b.name}` from {b.described}"
    if b.expanded_from:
        text += f" (through `$({b.expanded_from})`)"
    if b.origin == "literal" and k8s_tokens.placeholder(b.value):
        text += " (an unrendered template placeholder: the rendered manifest will hold the value in plaintext)"
    return text


def _value_related(bindings: list[EnvBinding]) -> tuple:
    out = []
    for b in bindings:
        if b.origin in ("configmap", "secret") and b.value_where is not None:
            out.append(related(b.value_where, f"`{b.name}` is stored here"))
    return tuple(out)


def _containers(w: Workload, ctx: CheckContext):
    for crel, c in k8s_tokens.containers(w):
        yield crel, c, str(c.get("name", "")), k8s_tokens.env_bindings(w, c, crel, ctx.inventory)


# --- CRED001 --------------------------------------------------------------------------------------------


def aws_static_keys(res: Workload | ConfigMap | Secret, ctx: CheckContext) -> Iterator[Hit]:
    """CRED001: long-lived AWS access keys in a pod's environment, a ConfigMap or a Secret."""
    if isinstance(res, Workload):
        yield from _aws_keys_in_workload(res, ctx)
    elif isinstance(res, ConfigMap):
        yield from _aws_keys_in_configmap(res, ctx)
    else:
        yield from _aws_keys_in_secret(res, ctx)


def _aws_keys_in_workload(w: Workload, ctx: CheckContext) -> Iterator[Hit]:
    dummies = {str(v).lower() for v in ctx.param("dummy_values", [])}
    for crel, c, cname, env in _containers(w, ctx):
        keys = [env[n] for n in AWS_KEY_VARS if _set(env.get(n))]
        if not keys:
            continue
        dummy = all(b.origin == "literal" and (b.value or "").strip().lower() in dummies for b in keys)
        primary = _primary(keys)
        where, sensitive = _binding_hit_site(primary)
        irsa_var = next((env[n] for n in IRSA_VARS if _set(env.get(n))), None)
        sa = None if irsa_var else k8s_tokens.irsa_injected(w, crel, c, ctx.inventory)
        reasons, rel = [], list(_value_related(keys))
        rel += [related(b.where, f"`{b.name}` is set here") for b in keys
                if b is not primary and b.where != primary.where]
        if primary.origin == "literal":
            reasons.append("a long-lived AWS key written in plaintext in the manifest")
        elif primary.origin == "configmap":
            reasons.append("a long-lived AWS key kept in a ConfigMap, which is not a secret")
        if irsa_var is not None:
            reasons.append(f"the container also sets `{irsa_var.name}` for IRSA, and the AWS SDKs read environment "
                           f"keys before the web-identity token, so federation is silently bypassed")
            rel.append(related(irsa_var.where, f"`{irsa_var.name}` is set here"))
        elif sa is not None:
            reasons.append(f"service account {sa.namespace}/{sa.name} is annotated `{k8s_tokens.EKS_ROLE_ARN}`, so the "
                           f"EKS webhook injects IRSA into this container, and the AWS SDKs read environment keys "
                           f"before the web-identity token: federation is silently bypassed")
            rel.append(related(k8s_tokens.annotation_loc(sa, k8s_tokens.EKS_ROLE_ARN), "the IRSA role annotation"))
        if dummy:
            if not (irsa_var or sa):
                continue  # `test`/`test` for LocalStack and the like: not a key
            reasons[0] = "the literal values are dummies (`dummy_values`), not keys"
        severity = "error" if reasons else "warning"
        if not reasons:
            reasons.append("long-lived AWS keys where federation would need none")
        said = " and ".join(_said(b) for b in sorted(keys, key=lambda b: AWS_KEY_VARS.index(b.name)))
        fix = "remove the keys (the webhook's IRSA then applies)" if (irsa_var or sa) else \
            "delete the access key and use IRSA or EKS Pod Identity"
        yield Hit(f"container {cname!r} of {w.label} sets {said}: {'; '.join(reasons)}; {fix}", where,
                  related=tuple(rel), severity=severity, sensitive=sensitive)


def _aws_keys_in_configmap(cm: ConfigMap, ctx: CheckContext) -> Iterator[Hit]:
    found = _found_in(cm, ("aws",), ctx)
    ids = [f for f in found if f[1].what.startswith("an AWS access key ID")]
    if not ids:
        return  # a secret access key alone is CRED004's (the catalog's CRED001 pattern is the key ID)
    entry, m, loc = ids[0]
    more = " and a secret access key" if any(not f[1].what.startswith("an AWS access key ID") for f in found) else ""
    yield Hit(f"{_object_label(cm)} key `{entry.key}` holds {m.what}{more}: AWS keys in plaintext, and a ConfigMap is "
              f"not a secret (anyone who can read it, or the repository, has the key); deactivate the key and use "
              f"IRSA or EKS Pod Identity", loc, related=_others(found, ids[0]), severity="error",
              anchor=_configmap_anchor(cm.namespace, cm.name, "aws"), sensitive=True)


def _aws_keys_in_secret(s: Secret, ctx: CheckContext) -> Iterator[Hit]:
    found = _found_in(s, ("aws",), ctx)
    if not found:
        return
    entry, m, loc = found[0]
    yield Hit(f"{_object_label(s)} key `{entry.key}` holds {m.what}: a long-lived AWS key (migration item); use IRSA "
              f"or EKS Pod Identity and delete the key", loc, related=_others(found, found[0]), severity="warning",
              sensitive=True)


# --- CRED002 --------------------------------------------------------------------------------------------


def azure_client_secret(w: Workload, ctx: CheckContext) -> Iterator[Hit]:
    """CRED002: an Azure client secret in a pod, above all next to Workload Identity."""
    secret_vars = tuple(ctx.param("client_secret_variables", ["AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET"]))
    for crel, c, cname, env in _containers(w, ctx):
        env_cred = [env[n] for n in ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH") if _set(env.get(n))]
        if _set(env.get("AZURE_USERNAME")) and _set(env.get("AZURE_PASSWORD")):
            env_cred += [env["AZURE_PASSWORD"], env["AZURE_USERNAME"]]
        wi_var = env.get("AZURE_FEDERATED_TOKEN_FILE") if _set(env.get("AZURE_FEDERATED_TOKEN_FILE")) else None
        labelled = wi_var is None and k8s_tokens.azwi_injected(w, crel, c)
        if env_cred and (wi_var is not None or labelled):
            primary = env_cred[0]
            where, sensitive = _binding_hit_site(primary, secret=primary.name != "AZURE_CLIENT_CERTIFICATE_PATH")
            if wi_var is not None:
                wi = "sets `AZURE_FEDERATED_TOKEN_FILE` for Workload Identity"
                wi_rel = related(wi_var.where, "`AZURE_FEDERATED_TOKEN_FILE` is set here")
            else:
                wi = (f"is mutated by the Azure Workload Identity webhook (pod label `{k8s_tokens.AZWI_USE}: "
                      f"\"true\"`)")
                wi_rel = related(k8s_tokens.template_label_loc(w, k8s_tokens.AZWI_USE), "the Workload Identity label")
            said = " and ".join(_said(b) for b in env_cred)
            rel = (wi_rel,) + _value_related(env_cred) + tuple(related(b.where, f"`{b.name}` is set here")
                                                               for b in env_cred
                                                               if b is not primary and b.where != primary.where)
            yield Hit(f"container {cname!r} of {w.label} sets {said} and also {wi}: DefaultAzureCredential tries "
                      f"EnvironmentCredential before WorkloadIdentityCredential, so the static credential is used and "
                      f"federation is silently bypassed; remove it", where, related=rel, severity="error",
                      sensitive=sensitive)
            continue
        secrets = [env[n] for n in secret_vars if _set(env.get(n))]
        if not secrets:
            continue
        primary = _primary(secrets)
        where, sensitive = _binding_hit_site(primary)
        if primary.origin == "literal":
            severity, why = "error", "a client secret written in plaintext in the manifest"
        elif primary.origin == "configmap":
            severity, why = "error", "a client secret kept in a ConfigMap, which is not a secret"
        else:
            severity, why = "warning", "a long-lived client secret (migration item)"
        said = " and ".join(_said(b) for b in secrets)
        yield Hit(f"container {cname!r} of {w.label} sets {said}: {why}; use Azure Workload Identity (a federated "
                  f"credential on the app or managed identity) and delete the secret", where,
                  related=_value_related(secrets), severity=severity, sensitive=sensitive)


# --- CRED003 --------------------------------------------------------------------------------------------


def _holder_parts(holder: str | None) -> tuple[str, str, str, str] | None:
    """("configmap" | "secret", namespace, name, key) from a loader's `holder` string."""
    m = re.match(r"(configmap|secret) ([^/\s]+)/(\S+) key (.+)\Z", holder or "", re.S)
    return (m[1], m[2], m[3], m[4]) if m else None


def _sa_key_loc(key: GcpServiceAccountKey) -> Location:
    return key.src.loc("private_key")


def gcp_sa_key(res, ctx: CheckContext) -> Iterator[Hit]:
    """CRED003: a GCP service-account key in the repository, a ConfigMap, a Secret or an env value, and a
    key that overrides federation through GOOGLE_APPLICATION_CREDENTIALS."""
    if isinstance(res, GcpServiceAccountKey):
        yield from _sa_key_file(res)
    elif isinstance(res, Workload):
        yield from _sa_key_in_workload(res, ctx)
    else:
        yield from _sa_key_unparsed(res, ctx)


def _whose(key: GcpServiceAccountKey) -> str:
    return f" of `{key.client_email}`" if key.client_email else ""


def _sa_key_file(key: GcpServiceAccountKey) -> Iterator[Hit]:
    parts = _holder_parts(key.holder)
    if parts is None:
        yield Hit(f"this file is a GCP service-account key{_whose(key)} (`\"type\": \"service_account\"` with a "
                  f"`private_key`) in the repository: a credential that works until the key is deleted, for anyone "
                  f"who can read the repository; delete the key in IAM and use Workload Identity Federation",
                  _sa_key_loc(key), severity="error", sensitive=True)
    elif parts[0] == "configmap":
        yield Hit(f"ConfigMap {parts[1]}/{parts[2]} key `{parts[3]}` holds a GCP service-account key{_whose(key)}: a "
                  f"long-lived credential in plaintext, and a ConfigMap is not a secret; delete the key in IAM and use "
                  f"GKE Workload Identity or an `external_account` configuration", _sa_key_loc(key), severity="error",
                  anchor=_configmap_anchor(parts[1], parts[2], "gcp-sa-key"), sensitive=True)
    else:
        yield Hit(f"Secret {parts[1]}/{parts[2]} key `{parts[3]}` holds a GCP service-account key{_whose(key)}: a "
                  f"long-lived credential (migration item); use GKE Workload Identity or an `external_account` "
                  f"configuration and delete the key", _sa_key_loc(key), severity="warning", sensitive=True)


def _sa_key_unparsed(obj: ConfigMap | Secret, ctx: CheckContext) -> Iterator[Hit]:
    """Service-account keys the loader could not read as a key file (binaryData, broken JSON)."""
    for entry, m, loc in _found_in(obj, ("gcp-sa-key",), ctx):
        if _sa_key_resource(obj, entry.key, ctx) is not None:
            continue  # judged on the key itself
        if isinstance(obj, ConfigMap):
            yield Hit(f"{_object_label(obj)} key `{entry.key}` holds {m.what}: a long-lived credential in plaintext, "
                      f"and a ConfigMap is not a secret; delete the key in IAM and use GKE Workload Identity or an "
                      f"`external_account` configuration", loc, severity="error",
                      anchor=_configmap_anchor(obj.namespace, obj.name, "gcp-sa-key"), sensitive=True)
        else:
            yield Hit(f"{_object_label(obj)} key `{entry.key}` holds {m.what}: a long-lived credential (migration "
                      f"item); use GKE Workload Identity or an `external_account` configuration", loc,
                      severity="warning", sensitive=True)


def _wif_evidence(w: Workload, ctx: CheckContext) -> tuple[str, Location] | None:
    """How the pod otherwise uses federation: GKE Workload Identity, or an `external_account` file."""
    sa = k8s_tokens.service_account(w, ctx.inventory)
    if sa is not None and k8s_tokens.annotation(sa, k8s_tokens.GKE_SERVICE_ACCOUNT):
        return (f"GKE Workload Identity (service account {sa.namespace}/{sa.name} is annotated "
                f"`{k8s_tokens.GKE_SERVICE_ACCOUNT}`)",
                k8s_tokens.annotation_loc(sa, k8s_tokens.GKE_SERVICE_ACCOUNT))
    cfg = k8s_tokens.mounted_external_account(w, ctx.inventory)
    if cfg is not None:
        return f"an `external_account` configuration ({cfg.holder})", cfg.src.loc("type")
    return None


def _sa_key_in_workload(w: Workload, ctx: CheckContext) -> Iterator[Hit]:
    evidence = None
    for _crel, c, cname, env in _containers(w, ctx):
        for b in env.values():
            if b.origin != "literal" or b.expanded_from or not b.value:
                continue
            m = next((m for m in key_material(b.name, b.value) if m.kind == "gcp-sa-key"), None)
            if m is not None:
                yield Hit(f"container {cname!r} of {w.label} sets `{b.name}` to a literal GCP service-account key "
                          f"(`\"type\": \"service_account\"` with a `private_key`): a long-lived credential in "
                          f"plaintext in the manifest; delete the key in IAM and use Workload Identity Federation",
                          b.value_where or b.where, severity="error", sensitive=True)
        gac = env.get(GAC)
        if gac is None or not gac.value:
            continue
        key = k8s_tokens.credential_file(w, c, gac.value, ctx.inventory)
        if not isinstance(key, GcpServiceAccountKey):
            continue
        if evidence is None:
            evidence = _wif_evidence(w, ctx) or ("", None)
        how, evidence_loc = evidence
        if evidence_loc is None:
            continue
        yield Hit(f"`{GAC}={gac.value}` in container {cname!r} of {w.label} points at a service-account "
                  f"key{_whose(key)} ({key.holder}) while the pod also uses {how}: Application Default Credentials "
                  f"read `{GAC}` first, so the long-lived key is used and federation is bypassed; remove the variable "
                  f"and the key", gac.where, severity="error",
                  related=(related(_sa_key_loc(key), "the service-account key"),
                           related(evidence_loc, "the federation this key overrides")))


# --- CRED004 --------------------------------------------------------------------------------------------


def in_configmap(cm: ConfigMap, ctx: CheckContext) -> Iterator[Hit]:
    """CRED004: key material of any kind in a ConfigMap, one finding per kind (the cloud-specific CRED001
    and CRED003 supersede it for AWS access key IDs and GCP service-account keys)."""
    found = _found_in(cm, ("aws", "azure", "gcp-sa-key", "pem"), ctx)
    for kind in ("aws", "azure", "gcp-sa-key", "pem"):
        of_kind = [f for f in found if f[1].kind == kind]
        if not of_kind:
            continue
        entry, m, loc = of_kind[0]
        more = f" (and {len(of_kind) - 1} more)" if len(of_kind) > 1 else ""
        yield Hit(f"{_object_label(cm)} key `{entry.key}` holds {m.what}{more}: ConfigMaps are not secrets (no "
                  f"encryption at rest by default, readable by every role that reads configuration, and usually "
                  f"committed); delete or rotate the credential and prefer federation, or at least a Secret", loc,
                  related=_others(of_kind, of_kind[0]), anchor=_configmap_anchor(cm.namespace, cm.name, kind),
                  sensitive=True)
