"""Which token file a container hands to a cloud SDK, and what that file really is (rules.md section 2).

For each container: the cloud token environment variables (`AWS_WEB_IDENTITY_TOKEN_FILE`,
`AZURE_FEDERATED_TOKEN_FILE`, and `GOOGLE_APPLICATION_CREDENTIALS` -> `external_account` ->
`credential_source.file`), and the volume each path resolves to through the longest matching mount.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from dataclasses import dataclass

from xfedlint.model.inventory import Inventory
from xfedlint.model.location import Location
from xfedlint.model.resources import ConfigMap, GcpExternalAccount, Secret, Workload
from xfedlint.semantics.issuers import K8S_SA_TOKEN_DIR

TOKEN_ENV = {"AWS_WEB_IDENTITY_TOKEN_FILE": "aws", "AZURE_FEDERATED_TOKEN_FILE": "azure"}
LEGACY_TOKEN_TYPE = "kubernetes.io/service-account-token"
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


@dataclass(frozen=True)
class ProjectedToken:
    """A `serviceAccountToken` source of a projected volume."""

    volume: str
    rel: tuple  # path of the source object relative to the workload's Src
    path: object
    audience: object
    expiration: object


@dataclass(frozen=True)
class Target:
    """What a path inside a container resolves to."""

    kind: str  # projected-token, secret, configmap, default-token, other-volume, unmounted, no-such-file
    token: ProjectedToken | None = None
    secret: str | None = None  # secretName / configMap name for secret and configmap volumes
    key: str | None = None  # file name inside that volume
    volume: str | None = None


@dataclass(frozen=True)
class TokenUse:
    """A container's cloud SDK reading a token file."""

    cloud: str  # aws, azure, gcp
    variable: str  # the env var (or "credential_source.file")
    path: str
    container: str
    where: Location  # where the path is written: the env entry, a ConfigMap key, or the credential file
    target: Target
    via: GcpExternalAccount | None = None  # for GCP: the credential configuration that names the file


def containers(w: Workload):
    """(relative path, container) for every container, init container and ephemeral container."""
    spec = w.pod_spec
    for group in CONTAINER_LISTS:
        items = spec.get(group)
        if isinstance(items, list):
            for i, c in enumerate(items):
                if isinstance(c, dict):
                    yield w.pod_path + (group, i), c


def projected_tokens(w: Workload):
    """Every `serviceAccountToken` projection in the pod's volumes."""
    volumes = w.pod_spec.get("volumes")
    if not isinstance(volumes, list):
        return
    for i, v in enumerate(volumes):
        sources = ((v.get("projected") or {}).get("sources") if isinstance(v, dict) and isinstance(v.get("projected"), dict) else None)
        if not isinstance(sources, list):
            continue
        for j, s in enumerate(sources):
            if isinstance(s, dict) and isinstance(s.get("serviceAccountToken"), dict):
                t = s["serviceAccountToken"]
                yield ProjectedToken(str(v.get("name", "")), w.pod_path + ("volumes", i, "projected", "sources", j,
                                                                         "serviceAccountToken"),
                                     t.get("path"), t.get("audience"), t.get("expirationSeconds"))


def resolve(w: Workload, container: dict, path: str) -> Target:
    """The volume behind `path` in `container`: the mount that is the longest prefix at a segment boundary."""
    path = posixpath.normpath(path)
    best = None
    for m in container.get("volumeMounts") or []:
        if not isinstance(m, dict) or not isinstance(m.get("mountPath"), str):
            continue
        mp = posixpath.normpath(m["mountPath"])
        if path == mp or path.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) > len(best[0]):
                best = (mp, m)
    if best is None:
        if path.startswith(K8S_SA_TOKEN_DIR) or path + "/" == K8S_SA_TOKEN_DIR:
            return Target("default-token")
        return Target("unmounted")
    mp, mount = best
    rel = path[len(mp):].lstrip("/")
    if mount.get("subPath"):
        rel = posixpath.join(str(mount["subPath"]), rel) if rel else str(mount["subPath"])
    name = mount.get("name")
    volumes = w.pod_spec.get("volumes") or []
    volume = next((v for v in volumes if isinstance(v, dict) and v.get("name") == name), None)
    if volume is None:
        return Target("no-such-file", volume=str(name))
    if isinstance(volume.get("projected"), dict):
        for t in projected_tokens(w):
            if t.volume == name and isinstance(t.path, str) and posixpath.normpath(t.path) == rel:
                return Target("projected-token", token=t, volume=str(name))
        for s in volume["projected"].get("sources") or []:
            for kind in ("secret", "configMap"):
                if isinstance(s, dict) and isinstance(s.get(kind), dict):
                    obj = s[kind]
                    if _holds(obj, rel):
                        return Target("secret" if kind == "secret" else "configmap", secret=obj.get("name"),
                                      key=_key_for(obj, rel), volume=str(name))
        return Target("no-such-file", volume=str(name))
    if isinstance(volume.get("secret"), dict):
        sec = volume["secret"]
        return Target("secret", secret=sec.get("secretName"), key=_key_for(sec, rel), volume=str(name))
    if isinstance(volume.get("configMap"), dict):
        cm = volume["configMap"]
        return Target("configmap", secret=cm.get("name"), key=_key_for(cm, rel), volume=str(name))
    return Target("other-volume", volume=str(name))


def _holds(obj: dict, rel: str) -> bool:
    items = obj.get("items")
    if isinstance(items, list):
        return any(isinstance(i, dict) and i.get("path") == rel for i in items)
    return True  # every key of the object becomes a file; the key set is not known without the object


def _key_for(obj: dict, rel: str) -> str:
    for item in obj.get("items") or []:
        if isinstance(item, dict) and item.get("path") == rel:
            return str(item.get("key"))
    return rel


def environment(w: Workload, container: dict, crel: tuple, inventory: Inventory) -> dict[str, tuple[str, Location]]:
    """The container's environment as far as the manifests tell: name -> (value, where it is written).

    `envFrom` (ConfigMaps and Secrets, with `prefix`) first, then `env` in order, a later entry winning;
    `valueFrom` ConfigMap and Secret keys are read from the scanned objects of the same namespace.
    """
    values: dict[str, tuple[str, Location]] = {}
    for src in container.get("envFrom") or []:
        if not isinstance(src, dict):
            continue
        prefix = str(src.get("prefix") or "")
        for kind in ("configMapRef", "secretRef"):
            ref = src.get(kind)
            if isinstance(ref, dict) and ref.get("name"):
                obj = _object(inventory, ConfigMap if kind == "configMapRef" else Secret, w.namespace, ref["name"])
                for key, (value, where) in _entries(obj).items():
                    values[prefix + key] = (value, where)
    for i, e in enumerate(container.get("env") or []):
        if not (isinstance(e, dict) and isinstance(e.get("name"), str)):
            continue
        if isinstance(e.get("value"), str):
            values[e["name"]] = (e["value"], w.src.loc(*crel, "env", i, "value"))
            continue
        ref = e.get("valueFrom") if isinstance(e.get("valueFrom"), dict) else {}
        for kind, cls in (("configMapKeyRef", ConfigMap), ("secretKeyRef", Secret)):
            sel = ref.get(kind)
            if isinstance(sel, dict) and sel.get("name") and sel.get("key"):
                entry = _entries(_object(inventory, cls, w.namespace, sel["name"])).get(str(sel["key"]))
                if entry is not None:
                    values[e["name"]] = entry
                else:
                    values.pop(e["name"], None)  # set from an object not scanned: value unknown
    return values


def _object(inventory: Inventory, cls: type, namespace: str, name: str):
    return next((o for o in inventory.of(cls) if o.namespace == namespace and o.name == name), None)


def _entries(obj) -> dict[str, tuple[str, Location]]:
    """The string entries of a ConfigMap (`data`) or Secret (`stringData`, base64 `data`)."""
    out: dict[str, tuple[str, Location]] = {}
    if obj is None:
        return out
    for section in ("data", "stringData"):
        entries = obj.src.get(section)
        if not isinstance(entries, dict):
            continue
        for key, value in entries.items():
            if not isinstance(value, str):
                continue
            if isinstance(obj, Secret) and section == "data":
                try:
                    value = base64.b64decode(value, validate=True).decode("utf-8")
                except (binascii.Error, ValueError):
                    continue
            out[str(key)] = (value, obj.src.loc(section, key))
    return out


def token_uses(w: Workload, inventory: Inventory) -> list[TokenUse]:
    """Every token file a container of `w` gives to a cloud SDK, resolved to what it really is."""
    uses: list[TokenUse] = []
    for crel, c in containers(w):
        values = environment(w, c, crel, inventory)
        cname = str(c.get("name", ""))
        for var, cloud in TOKEN_ENV.items():
            if var in values:
                path, where = values[var]
                uses.append(TokenUse(cloud, var, path, cname, where, resolve(w, c, path)))
        if "GOOGLE_APPLICATION_CREDENTIALS" in values:
            cfg_path, _ = values["GOOGLE_APPLICATION_CREDENTIALS"]
            config = external_account_for(w, c, cfg_path, inventory)
            if config is not None:
                source = config.data.get("credential_source")
                if isinstance(source, dict) and isinstance(source.get("file"), str):
                    uses.append(TokenUse("gcp", "credential_source.file", source["file"], cname,
                                         config.src.loc("credential_source", "file"),
                                         resolve(w, c, source["file"]), via=config))
    return uses


def external_account_for(w: Workload, container: dict, path: str, inventory: Inventory) -> GcpExternalAccount | None:
    """The `external_account` configuration a GOOGLE_APPLICATION_CREDENTIALS path points at, if scanned."""
    target = resolve(w, container, path)
    if target.kind not in ("configmap", "secret") or not target.secret:
        return None
    holder_kind = "configmap" if target.kind == "configmap" else "secret"
    wanted = f"{holder_kind} {w.namespace}/{target.secret} key {target.key}"
    for cfg in inventory.of(GcpExternalAccount):
        if cfg.holder == wanted:
            return cfg
    return None


def legacy_token_secret(w: Workload, target: Target, inventory: Inventory) -> Secret | None:
    if target.kind != "secret" or not target.secret:
        return None
    for s in inventory.of(Secret):
        if s.name == target.secret and s.namespace == w.namespace and s.type == LEGACY_TOKEN_TYPE:
            return s
    return None

