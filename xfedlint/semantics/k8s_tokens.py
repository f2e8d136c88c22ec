"""Which token file a container hands to a cloud SDK, and what that file really is (rules.md section 2).

For each container: the cloud token environment variables (`AWS_WEB_IDENTITY_TOKEN_FILE`,
`AZURE_FEDERATED_TOKEN_FILE`, and `GOOGLE_APPLICATION_CREDENTIALS` -> `external_account` ->
`credential_source.file`), and the volume each path resolves to through the longest matching mount.

Also what the federation annotations and webhooks mean for a pod: which service account it runs as, which
containers the EKS and Azure Workload Identity webhooks mutate, how they parse their annotations, and
where each environment variable of a container comes from (`env_bindings`: a literal, a ConfigMap or a
Secret, with the location of the binding and of the value).
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re

import msgspec

from xfedlint.model.inventory import Inventory
from xfedlint.model.location import Location
from xfedlint.model.resources import (
    ConfigMap,
    GcpExternalAccount,
    GcpServiceAccountKey,
    Secret,
    ServiceAccount,
    Workload,
    holder_object,
    namespaced_name,
    resource_holder,
)
from xfedlint.semantics.issuers import K8S_SA_TOKEN_DIR

TOKEN_ENV = {"AWS_WEB_IDENTITY_TOKEN_FILE": "aws", "AZURE_FEDERATED_TOKEN_FILE": "azure"}
LEGACY_TOKEN_TYPE = "kubernetes.io/service-account-token"
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


class ProjectedToken(msgspec.Struct, frozen=True):
    """A `serviceAccountToken` source of a projected volume."""

    volume: str
    rel: tuple  # path of the source object relative to the workload's Src (() for a webhook's token)
    path: object
    audience: object
    expiration: object
    injected_by: str | None = None  # "eks" or "azure" when the token is the one a webhook would add
    where: Location | None = None  # for an injected token: the annotation or label that causes it


class Target(msgspec.Struct, frozen=True):
    """What a path inside a container resolves to."""

    kind: str  # projected-token, secret, configmap, default-token, other-volume, unmounted, no-such-file
    token: ProjectedToken | None = None
    secret: str | None = None  # secretName / configMap name for secret and configmap volumes
    key: str | None = None  # file name inside that volume
    volume: str | None = None


class TokenUse(msgspec.Struct, frozen=True):
    """A container's cloud SDK reading a token file."""

    cloud: str  # aws, azure, gcp
    variable: str  # the env var (or "credential_source.file")
    path: str
    container: str
    where: Location  # where the path is written: the env entry, a ConfigMap key, the credential file, or
    # for a variable a webhook injects, the annotation or label that makes it do so
    target: Target
    via: GcpExternalAccount | None = None  # for GCP: the credential configuration that names the file
    subject: str = ""  # the token's `sub`: system:serviceaccount:<namespace>:<service account>
    injected_by: str | None = None  # "eks" or "azure" when a webhook sets the variable, not the manifest

    @property
    def token(self) -> ProjectedToken | None:
        return self.target.token

    @property
    def audience(self):
        """The token's audience, when the path reaches a projected token (None: the API server's)."""
        return self.target.token.audience if self.target.token is not None else None


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


def _object(inventory: Inventory, cls: type, namespace: str, name: str):
    found = inventory.lookup(cls, namespaced_name, (namespace, name))
    return found[0] if found else None


def _entries(obj) -> dict[str, tuple[str, Location]]:
    """The readable string entries of a ConfigMap or Secret (see `_all_entries`)."""
    return {k: (v, where) for k, (v, where) in _all_entries(obj).items() if v is not None}


EKS_TOKEN_DIR = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
EKS_TOKEN_PATH = EKS_TOKEN_DIR + "/token"
EKS_AUDIENCE = "eks.amazonaws.com/audience"
AZWI_TOKEN_DIR = "/var/run/secrets/azure/tokens"
AZWI_TOKEN_PATH = AZWI_TOKEN_DIR + "/azure-identity-token"
AZWI_AUDIENCE = "api://AzureADTokenExchange"
AZWI_DEFAULT_TOKEN_EXPIRATION = 3600


def subject_of(w: Workload) -> str:
    return f"system:serviceaccount:{w.namespace}:{w.service_account_name}"


def token_uses(w: Workload, inventory: Inventory) -> list[TokenUse]:
    """Every token file a container of `w` gives to a cloud SDK, resolved to what it really is, including
    the variables and tokens the EKS and Azure Workload Identity webhooks would add (rules.md section 2).
    Computed once per workload and run."""
    return inventory.memo("token_uses", w, lambda: _token_uses(w, inventory))


def _token_uses(w: Workload, inventory: Inventory) -> list[TokenUse]:
    uses: list[TokenUse] = []
    subject = subject_of(w)
    sa = service_account(w, inventory)
    for crel, c in containers(w):
        env = env_bindings(w, c, crel, inventory)
        cname = str(c.get("name", ""))
        for var, cloud in TOKEN_ENV.items():
            b = env.get(var)
            if b is not None and b.value is not None:  # a value the manifest sets wins over the webhook's
                uses.append(TokenUse(cloud, var, b.value, cname, b.value_where or b.where, resolve(w, c, b.value),
                                     subject=subject))
            elif b is None:
                injected = _injected_token(w, crel, c, sa, cloud, inventory)
                if injected is not None:
                    path = EKS_TOKEN_PATH if cloud == "aws" else AZWI_TOKEN_PATH
                    uses.append(TokenUse(cloud, var, path, cname, injected.where,
                                         Target("projected-token", token=injected, volume=injected.volume),
                                         subject=subject, injected_by=injected.injected_by))
        gac = env.get("GOOGLE_APPLICATION_CREDENTIALS")
        if gac is not None and gac.value is not None:
            config = external_account_for(w, c, gac.value, inventory)
            if config is not None:
                source = config.data.get("credential_source")
                if isinstance(source, dict) and isinstance(source.get("file"), str):
                    uses.append(TokenUse("gcp", "credential_source.file", source["file"], cname,
                                         config.src.loc("credential_source", "file"),
                                         resolve(w, c, source["file"]), via=config, subject=subject))
    return uses


def _injected_token(w: Workload, crel: tuple, c: dict, sa, cloud: str, inventory: Inventory) -> ProjectedToken | None:
    """The projected token a webhook would add to this container for `cloud`, or None."""
    if cloud == "aws":
        if irsa_injected(w, crel, c, inventory) is None:
            return None
        audience = annotation(sa, EKS_AUDIENCE) or "sts.amazonaws.com"
        raw = template_annotation(w, EKS_TOKEN_EXPIRATION) or annotation(sa, EKS_TOKEN_EXPIRATION)
        n = go_int(raw) if raw else None
        expiration = EKS_DEFAULT_TOKEN_EXPIRATION if n is None else max(n, EKS_MIN_TOKEN_EXPIRATION)
        return ProjectedToken("aws-iam-token", (), "token", audience, expiration, injected_by="eks",
                              where=annotation_loc(sa, EKS_ROLE_ARN))
    if sa is None or not annotation(sa, AZWI_CLIENT_ID) or not azwi_injected(w, crel, c):
        return None
    raw = template_annotation(w, AZWI_TOKEN_EXPIRATION) or annotation(sa, AZWI_TOKEN_EXPIRATION)
    n = go_int(raw) if raw else None
    return ProjectedToken("azure-identity-token", (), "azure-identity-token", AZWI_AUDIENCE,
                          AZWI_DEFAULT_TOKEN_EXPIRATION if n is None else n, injected_by="azure",
                          where=template_label_loc(w, AZWI_USE))


def external_account_for(w: Workload, container: dict, path: str, inventory: Inventory) -> GcpExternalAccount | None:
    """The `external_account` configuration a GOOGLE_APPLICATION_CREDENTIALS path points at, if scanned."""
    wanted = holder_of(w, container, path)
    found = inventory.lookup(GcpExternalAccount, resource_holder, wanted) if wanted else []
    return found[0] if found else None


def legacy_token_secret(w: Workload, target: Target, inventory: Inventory) -> Secret | None:
    if target.kind != "secret" or not target.secret:
        return None
    s = _object(inventory, Secret, w.namespace, target.secret)
    return s if s is not None and s.type == LEGACY_TOKEN_TYPE else None


# --- Federation annotations and the webhooks that read them (rules.md sections 2 and 8.1) ---------------

EKS_ROLE_ARN = "eks.amazonaws.com/role-arn"
EKS_TOKEN_EXPIRATION = "eks.amazonaws.com/token-expiration"
EKS_SKIP_CONTAINERS = "eks.amazonaws.com/skip-containers"
AZWI_CLIENT_ID = "azure.workload.identity/client-id"
AZWI_TENANT_ID = "azure.workload.identity/tenant-id"
AZWI_TOKEN_EXPIRATION = "azure.workload.identity/service-account-token-expiration"
AZWI_USE = "azure.workload.identity/use"
AZWI_SKIP_CONTAINERS = "azure.workload.identity/skip-containers"
GKE_SERVICE_ACCOUNT = "iam.gke.io/gcp-service-account"
# The service-account annotation that gives pods each cloud's identity, in a stable order.
FEDERATION_ANNOTATIONS = {EKS_ROLE_ARN: "aws", AZWI_CLIENT_ID: "azure", GKE_SERVICE_ACCOUNT: "gcp"}

EKS_MIN_TOKEN_EXPIRATION = 600  # the EKS webhook raises lower values to this (ValidateMinTokenExpiration)
EKS_DEFAULT_TOKEN_EXPIRATION = 86400  # the webhook's --token-expiration default, used for unparsable values
AZWI_MIN_TOKEN_EXPIRATION = 3600  # the Azure webhook rejects pods outside [min, max]
AZWI_MAX_TOKEN_EXPIRATION = 86400
WEBHOOK_CONTAINER_LISTS = ("containers", "initContainers")  # neither webhook mutates ephemeral containers

_GO_INT = re.compile(r"[+-]?[0-9]+\Z")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\$\([A-Za-z_][A-Za-z0-9_]*\)|\{\{.*?\}\}|%[A-Za-z][A-Za-z0-9_]*%"
                          r"|<[A-Za-z][A-Za-z0-9_ .:-]*>|(?i:\byour[_-][a-z0-9_-]+)|\$[A-Za-z_][A-Za-z0-9_]*"
                          r"|(?i:\b(?:replace|change)[_-]?me\b)")


def go_int(value) -> int | None:
    """The annotation as Go's `strconv.ParseInt(value, 10, 64)` reads it (both webhooks parse their
    expiration annotations so): an optional sign and ASCII digits, nothing else; None where Go fails."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)  # an unquoted YAML number
    if not isinstance(value, str) or not _GO_INT.match(value):
        return None
    n = int(value)
    return n if -(2 ** 63) <= n < 2 ** 63 else None


def placeholder(text) -> str | None:
    """The first unrendered template placeholder in `text` (`${x}`, `$(X)`, `{{ .x }}`, `%X%`, `<X>`,
    `$X`, `YOUR_...`, `REPLACE_ME`), or None."""
    if not isinstance(text, str):
        return None
    m = _PLACEHOLDER.search(text)
    return m.group(0) if m else None


def annotation(obj, key: str) -> str | None:
    """A metadata annotation as the webhooks see it: a non-empty string (numbers as written), else None."""
    v = obj.annotations.get(key)
    if isinstance(v, bool) or v is None:
        return None
    v = str(v)
    return v if v != "" else None


def annotation_loc(obj, key: str, *, key_only: bool = False) -> Location:
    """Where `metadata.annotations[key]` (its value, or its key) is written."""
    return obj.src.loc("metadata", "annotations", key, key=key_only)


def template_metadata_path(w: Workload) -> tuple:
    """Path of the pod template's `metadata` relative to the workload's Src (the Pod's own for a Pod)."""
    return w.pod_path[:-1] + ("metadata",)


def template_annotation(w: Workload, key: str) -> str | None:
    v = w.template_annotations.get(key)
    if isinstance(v, bool) or v is None:
        return None
    v = str(v)
    return v if v != "" else None


def template_annotation_loc(w: Workload, key: str, *, key_only: bool = False) -> Location:
    return w.src.loc(*template_metadata_path(w), "annotations", key, key=key_only)


def template_label_loc(w: Workload, key: str) -> Location:
    return w.src.loc(*template_metadata_path(w), "labels", key)


def federation_annotations(sa: ServiceAccount) -> list[tuple[str, str, str]]:
    """(annotation, cloud, value) for each federation annotation with a value, in the order written."""
    return [(key, FEDERATION_ANNOTATIONS[key], v) for key in sa.annotations
            if key in FEDERATION_ANNOTATIONS and (v := annotation(sa, key))]


def service_account(w: Workload, inventory: Inventory) -> ServiceAccount | None:
    """The scanned ServiceAccount the pod runs as. When the inputs hold several with that namespace and name
    (manifests of several clusters scanned together), the one in the same file, else the same folder with the
    longest common file-name prefix, is taken; a tie is ambiguous (None), never guessed."""
    found = inventory.lookup(ServiceAccount, namespaced_name, (w.namespace, w.service_account_name))
    if len(found) <= 1:
        return found[0] if found else None

    def closeness(sa) -> tuple:
        same_dir = posixpath.dirname(sa.src.file) == posixpath.dirname(w.src.file)
        common = posixpath.commonprefix([posixpath.basename(sa.src.file), posixpath.basename(w.src.file)])
        return (sa.src.file == w.src.file, same_dir, len(common) if same_dir else 0)

    ranked = sorted(found, key=closeness, reverse=True)
    return ranked[0] if closeness(ranked[0]) != closeness(ranked[1]) else None


def _container_list(crel: tuple) -> str:
    return next((p for p in reversed(crel) if isinstance(p, str)), "")


def _skipped(w: Workload, key: str, sep: str) -> set[str]:
    raw = template_annotation(w, key) or ""
    return {part.strip() for part in raw.split(sep) if part.strip()}


def irsa_injected(w: Workload, crel: tuple, container: dict, inventory: Inventory) -> ServiceAccount | None:
    """The service account whose `eks.amazonaws.com/role-arn` makes the EKS webhook inject
    `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE` into this container, or None (no scanned annotated
    service account, an ephemeral container, or a container named in `eks.amazonaws.com/skip-containers`)."""
    if _container_list(crel) not in WEBHOOK_CONTAINER_LISTS:
        return None
    if str(container.get("name", "")) in _skipped(w, EKS_SKIP_CONTAINERS, ","):
        return None
    sa = service_account(w, inventory)
    return sa if sa is not None and annotation(sa, EKS_ROLE_ARN) else None


def azwi_injected(w: Workload, crel: tuple, container: dict) -> bool:
    """Whether the Azure Workload Identity webhook mutates this container: the pod template carries the
    label `azure.workload.identity/use: "true"` and the container is not in `.../skip-containers` (`a;b`)."""
    if w.template_labels.get(AZWI_USE) not in ("true", True):
        return False
    if _container_list(crel) not in WEBHOOK_CONTAINER_LISTS:
        return False
    return str(container.get("name", "")) not in _skipped(w, AZWI_SKIP_CONTAINERS, ";")


# --- Where each environment variable of a container comes from ---------------------------------------

_DEPENDENT_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)\Z")


class EnvBinding(msgspec.Struct, frozen=True):
    """One environment variable of a container and where its value comes from."""

    name: str
    origin: str  # literal, configmap, secret, other (fieldRef, resourceFieldRef, malformed)
    where: Location  # the binding in the workload: a literal's value, else the env entry's `name`, or the envFrom ref
    value: str | None = None  # the value, when the manifests tell it (a literal, or an entry of a scanned object)
    value_where: Location | None = None  # where that value is written (the literal, or the ConfigMap/Secret entry)
    source: str | None = None  # the ConfigMap or Secret it is read from
    source_key: str | None = None  # the key inside that object
    env_from: bool = False  # set through `envFrom` (all keys of an object) rather than one `env` entry
    expanded_from: str | None = None  # `value: $(OTHER)`: the variable whose binding this one copies

    @property
    def described(self) -> str:
        """How a message says where the value comes from (never the value itself)."""
        if self.origin == "literal":
            return "a literal value"
        if self.origin in ("configmap", "secret"):
            kind = "ConfigMap" if self.origin == "configmap" else "Secret"
            via = "`envFrom` of " if self.env_from else ""
            key = f" key `{self.source_key}`" if self.source_key and not self.env_from else ""
            return f"{via}{kind} `{self.source}`{key}"
        return "a field reference"


def env_bindings(w: Workload, container: dict, crel: tuple, inventory: Inventory) -> dict[str, EnvBinding]:
    """The container's environment (see `_env_bindings`), computed once per container and run."""
    return inventory.memo("env_bindings", container, lambda: _env_bindings(w, container, crel, inventory))


def _env_bindings(w: Workload, container: dict, crel: tuple, inventory: Inventory) -> dict[str, EnvBinding]:
    """The container's environment by origin: `envFrom` first (a later source winning, `prefix` applied;
    only the keys of scanned objects are known), then `env` in order, a later entry winning. `valueFrom`
    references keep their origin even when the object was not scanned (value unknown). A literal that is
    exactly `$(OTHER)` takes the binding of `OTHER` defined before it, as the kubelet expands it."""
    out: dict[str, EnvBinding] = {}
    for j, src in enumerate(container.get("envFrom") or []):
        if not isinstance(src, dict):
            continue
        prefix = str(src.get("prefix") or "")
        for kind, cls, origin in (("configMapRef", ConfigMap, "configmap"), ("secretRef", Secret, "secret")):
            ref = src.get(kind)
            if not (isinstance(ref, dict) and ref.get("name")):
                continue
            where = w.src.loc(*crel, "envFrom", j, kind, "name")
            obj = _object(inventory, cls, w.namespace, ref["name"])
            for key, (value, value_where) in _all_entries(obj).items():
                out[prefix + key] = EnvBinding(prefix + key, origin, where, value, value_where, str(ref["name"]), key,
                                               env_from=True)
    for i, e in enumerate(container.get("env") or []):
        if not (isinstance(e, dict) and isinstance(e.get("name"), str)):
            continue
        name, erel = e["name"], crel + ("env", i)
        ref = e.get("valueFrom")
        if isinstance(ref, dict) and e.get("value") is None:
            binding = EnvBinding(name, "other", w.src.loc(*erel, "name"))
            for kind, cls, origin in (("configMapKeyRef", ConfigMap, "configmap"), ("secretKeyRef", Secret, "secret")):
                sel = ref.get(kind)
                if isinstance(sel, dict):
                    obj = _object(inventory, cls, w.namespace, sel.get("name")) if sel.get("name") else None
                    key = str(sel.get("key")) if sel.get("key") is not None else None
                    value, value_where = _all_entries(obj).get(key, (None, None)) if key is not None else (None, None)
                    binding = EnvBinding(name, origin, w.src.loc(*erel, "name"), value, value_where,
                                         str(sel.get("name") or "") or None, key)
            out[name] = binding
            continue
        value = e.get("value", "")
        value = "" if value is None else (value if isinstance(value, str) else str(value))
        where = w.src.loc(*erel, "value") if "value" in e else w.src.loc(*erel, "name")
        m = _DEPENDENT_VAR.match(value)
        if m and m.group(1) in out:
            base = out[m.group(1)]
            out[name] = EnvBinding(name, base.origin, where, base.value, base.value_where, base.source,
                                   base.source_key, base.env_from, expanded_from=m.group(1))
        else:
            out[name] = EnvBinding(name, "literal", where, value, where)
    return out


def _all_entries(obj) -> dict[str, tuple[str | None, Location]]:
    """Every key of a ConfigMap (`data`) or Secret (`data`, `stringData`), with its value when readable
    (a Secret's `data` is base64; an undecodable value, e.g. an unrendered placeholder, is None)."""
    out: dict[str, tuple[str | None, Location]] = {}
    if obj is None:
        return out
    for section in ("data", "stringData"):
        entries = obj.src.get(section)
        if not isinstance(entries, dict):
            continue
        for key, value in entries.items():
            decoded = value if isinstance(value, str) else None
            if decoded is not None and isinstance(obj, Secret) and section == "data":
                try:
                    decoded = base64.b64decode(decoded, validate=True).decode("utf-8")
                except (binascii.Error, ValueError):
                    decoded = None
            out[str(key)] = (decoded, obj.src.loc(section, key))
    return out


def holder_of(w: Workload, container: dict, path: str) -> str | None:
    """The `holder` name (as loaders record it) of the ConfigMap or Secret entry mounted at `path`."""
    target = resolve(w, container, path)
    if target.kind not in ("configmap", "secret") or not target.secret:
        return None
    return f"{target.kind} {w.namespace}/{target.secret} key {target.key}"


def credential_file(w: Workload, container: dict, path: str,
                    inventory: Inventory) -> GcpExternalAccount | GcpServiceAccountKey | None:
    """The scanned GCP credential file (an `external_account` configuration or a service-account key) that
    a path such as `GOOGLE_APPLICATION_CREDENTIALS` reaches through the container's mounts."""
    wanted = holder_of(w, container, path)
    if wanted is None:
        return None
    found = inventory.lookup((GcpExternalAccount, GcpServiceAccountKey), resource_holder, wanted)
    return found[0] if found else None


def mounted_objects(w: Workload) -> set[tuple[str, str]]:
    """("configmap" | "secret", name) of every ConfigMap and Secret the pod mounts as a volume."""
    out: set[tuple[str, str]] = set()
    for v in w.pod_spec.get("volumes") or []:
        if not isinstance(v, dict):
            continue
        if isinstance(v.get("configMap"), dict) and v["configMap"].get("name"):
            out.add(("configmap", str(v["configMap"]["name"])))
        if isinstance(v.get("secret"), dict) and v["secret"].get("secretName"):
            out.add(("secret", str(v["secret"]["secretName"])))
        projected = v.get("projected")
        for s in (projected.get("sources") or []) if isinstance(projected, dict) else []:
            for kind, label in (("configMap", "configmap"), ("secret", "secret")):
                if isinstance(s, dict) and isinstance(s.get(kind), dict) and s[kind].get("name"):
                    out.add((label, str(s[kind]["name"])))
    return out


def mounted_external_account(w: Workload, inventory: Inventory) -> GcpExternalAccount | None:
    """An `external_account` configuration held by a ConfigMap or Secret that the pod mounts."""
    for kind, name in sorted(mounted_objects(w)):
        found = inventory.lookup(GcpExternalAccount, holder_object, (kind, w.namespace, name))
        if found:
            return found[0]
    return None
