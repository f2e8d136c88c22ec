"""Correlation checks on a pod's cloud tokens: does the token file exist, does its audience reach the cloud
that reads it, is one token handed to several clouds, does the Azure webhook mutate the pod, and do the
container's identity variables agree with the service account's annotations (K8S003, K8S004, K8S005,
K8S009, K8S014).

Every workload is judged through `k8s_tokens.token_uses` (rules.md section 2: which file each container's
SDK reads, resolved through its mounts, with the tokens the EKS and Azure webhooks would add) and the
federation graph's indexes (`ctx.federation`): the AWS role by ARN, the Azure identity by client ID and
its federated credentials, the GCP provider by name. Nothing scans all resources per resource.
"""

from __future__ import annotations

import posixpath
from typing import Iterator

import msgspec

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.model.location import Location
from xfedlint.model.resources import (
    AwsOidcProvider,
    ConfigMap,
    GcpProvider,
    Secret,
    Workload,
    namespaced_name,
)
from xfedlint.semantics import aws_policy, azure_fic, k8s_tokens
from xfedlint.semantics.issuers import AWS_STS_AUDIENCES, AZURE_AUDIENCES, audience_cloud, normalise_issuer
from xfedlint.semantics.k8s_tokens import (
    AZWI_CLIENT_ID,
    AZWI_TENANT_ID,
    AZWI_TOKEN_DIR,
    AZWI_TOKEN_PATH,
    AZWI_USE,
    EKS_AUDIENCE,
    EKS_ROLE_ARN,
    EKS_TOKEN_DIR,
    TokenUse,
)

CLOUD_NAMES = {"aws": "AWS", "azure": "Azure", "gcp": "GCP"}
GCP_IAM_PREFIXES = ("//iam.googleapis.com/", "https://iam.googleapis.com/")
GAC = "GOOGLE_APPLICATION_CREDENTIALS"


def _code(value) -> str:
    return f"`{value}`"


def _list(values) -> str:
    values = list(dict.fromkeys(values))
    if not values:
        return "nothing"
    if len(values) == 1:
        return _code(values[0])
    return ", ".join(_code(v) for v in values[:-1]) + f" or {_code(values[-1])}"


# --- The containers of a workload, with their environment ---------------------------------------------


class _Container(msgspec.Struct, frozen=True):
    rel: tuple  # path of the container relative to the workload's Src
    spec: dict
    env: dict  # name -> k8s_tokens.EnvBinding

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))


def _containers(w: Workload, ctx: CheckContext) -> list[_Container]:
    """Each container with its environment by origin; computed once per workload and run."""
    def compute():
        return [_Container(crel, c, k8s_tokens.env_bindings(w, c, crel, ctx.inventory))
                for crel, c in k8s_tokens.containers(w)]

    return ctx.inventory.memo("xfed_k8s.containers", w, compute)


def _container(w: Workload, ctx: CheckContext, name: str) -> _Container | None:
    return next((c for c in _containers(w, ctx) if c.name == name), None)


def _known(binding) -> str | None:
    """The value of an environment binding when the manifests tell it and it is no template placeholder."""
    if binding is None or not isinstance(binding.value, str) or not binding.value.strip():
        return None
    return None if k8s_tokens.placeholder(binding.value) else binding.value.strip()


def _env_loc(binding) -> Location:
    return binding.value_where or binding.where


def _service_account(w: Workload, ctx: CheckContext):
    return k8s_tokens.service_account(w, ctx.inventory)


# --- K8S003: the audience a container's token carries against what its cloud expects ---------------------


class Verdict(msgspec.Struct, frozen=True):
    """What the target cloud makes of a token's audience."""

    accepted: bool
    configured: bool  # judged against a scanned trust / FIC / provider (else against the defaults)
    target: str  # how a message names the relying party
    expected: tuple  # the audiences it accepts, as a message lists them
    related: tuple = ()  # Related: the trust, FIC or provider values compared with


def provider_host(p: AwsOidcProvider) -> str | None:
    """Index key: an IAM OIDC provider by its issuer, compared loosely (scheme, case, slash)."""
    return normalise_issuer(p.host_path) if p.host_path else None


def _aws_provider(ctx: CheckContext, host: str) -> AwsOidcProvider | None:
    found = ctx.inventory.lookup(AwsOidcProvider, provider_host, normalise_issuer(host))
    return found[0] if found else None


def _client_ids_loc(p: AwsOidcProvider) -> Location:
    """Where the provider's `ClientIDList` is written."""
    data = p.src.get()
    key = next((k for k in ("ClientIDList", "ClientIdList", "client_id_list") if isinstance(data, dict) and k in data),
               None)
    return p.src.loc(key) if key else p.src.loc()


def _role_arn(w: Workload, c: _Container, ctx: CheckContext) -> str | None:
    """The role the container's SDK assumes: its AWS_ROLE_ARN (which wins), else the service account's
    annotation that makes the EKS webhook inject it."""
    b = c.env.get("AWS_ROLE_ARN")
    if b is not None:
        return _known(b)
    sa = _service_account(w, ctx)
    return k8s_tokens.annotation(sa, EKS_ROLE_ARN) if sa is not None else None


def _aws_verdict(w: Workload, use: TokenUse, aud: str, c: _Container, ctx: CheckContext) -> Verdict:
    fed = ctx.federation
    defaults = tuple(ctx.param("aws_audiences", list(AWS_STS_AUDIENCES)))
    arn = _role_arn(w, c, ctx)
    role = fed.roles_by_arn.get(arn) if arn else None
    issuer, _how = fed.issuer_for(w.namespace, w.service_account_name)
    if role is not None and role.trust is not None:
        pairs = list(aws_policy.oidc_trust_statements(role.trust))
        if issuer:
            pairs = [(st, fp) for st, fp in pairs if normalise_issuer(fp.host) == normalise_issuer(issuer)]
        configured, expected, rel, providers = False, [], [], []
        for st, fp in pairs:
            cons = st.on_claim(fp.host, "aud")
            provider = _aws_provider(ctx, fp.host)
            trust_ok = all(con.evaluate(aud) for con in cons)
            ids_ok = provider is None or aud in provider.client_ids
            if trust_ok and ids_ok:
                return Verdict(True, True, f"role {arn}", ())
            if cons:
                configured = True
                for con in cons:
                    if not con.operator.negated:
                        expected.extend(v.text for v in con.values)
                    rel.extend(related(st.loc(v.loc_path), f"the trust of role {arn} compares `{con.key}` "
                                                           f"({con.operator.raw}) with this value")
                               for v in con.values)
            if provider is not None and not ids_ok:
                configured = True
                providers.append(provider.host_path)
                if not cons:
                    expected.extend(provider.client_ids)
                rel.append(related(_client_ids_loc(provider),
                                   f"OIDC provider `{provider.host_path}` accepts only "
                                   f"{_list(provider.client_ids)} (ClientIDList)"))
        if configured:
            target = f"role {arn}" if not providers or len(providers) < len(pairs) or any(
                st.on_claim(fp.host, "aud") for st, fp in pairs) else \
                f"OIDC provider `{providers[0]}` (trusted by role {arn})"
            return Verdict(False, True, target, tuple(expected), tuple(rel))
        if not pairs:
            # No statement of the role lets this cluster's tokens in: X001 reports the broken chain.
            return Verdict(True, False, f"role {arn}", ())
    elif issuer:
        provider = _aws_provider(ctx, issuer)
        if provider is not None:
            ok = aud in provider.client_ids
            return Verdict(ok, True, f"OIDC provider `{provider.host_path}`", tuple(provider.client_ids),
                           () if ok else (related(_client_ids_loc(provider), "the audiences this provider accepts "
                                                                             "(ClientIDList)"),))
    return Verdict(aud in defaults, False, "AWS STS", defaults)


def _client_id(w: Workload, c: _Container, ctx: CheckContext) -> str | None:
    b = c.env.get("AZURE_CLIENT_ID")
    if b is not None:
        return _known(b)
    sa = _service_account(w, ctx)
    return k8s_tokens.annotation(sa, AZWI_CLIENT_ID) if sa is not None else None


def _fic_admits_subject(fic, subject: str) -> bool:
    if isinstance(fic.subject, str):
        return fic.subject == subject
    expr = fic.expression.get("value") if isinstance(fic.expression, dict) else None
    if not isinstance(expr, str):
        return False
    try:
        return azure_fic.evaluate(azure_fic.parse(expr), {"sub": subject})
    except azure_fic.FflSyntaxError:
        return False


def _azure_verdict(w: Workload, use: TokenUse, aud: str, c: _Container, ctx: CheckContext) -> Verdict:
    fed = ctx.federation
    defaults = tuple(ctx.param("azure_audiences", list(AZURE_AUDIENCES)))
    client_id = _client_id(w, c, ctx)
    ident = fed.identities_by_client_id.get(client_id.lower()) if client_id else None
    fics = fed.fics_by_parent.get(ident.resource_id.lower(), []) if ident is not None and ident.resource_id else []
    if fics:
        name = ident.name or client_id
        candidates = [f for f in fics if _fic_admits_subject(f, use.subject)]
        issuer, _how = fed.issuer_for(w.namespace, w.service_account_name)
        if issuer:
            candidates = [f for f in candidates if isinstance(f.issuer, str)
                          and normalise_issuer(f.issuer) == normalise_issuer(issuer)]
        if not candidates:  # no credential for this subject: X002 reports the broken chain
            return Verdict(True, False, f"managed identity {name}", ())
        expected, rel = [], []
        for f in candidates:
            auds = f.audiences if isinstance(f.audiences, list) else []
            if auds and auds[0] == aud:
                return Verdict(True, True, f"managed identity {name}", ())
            if auds:
                expected.append(str(auds[0]))
                rel.append(related(f.loc("audiences", 0), f"{f.label} of managed identity {name} accepts only "
                                                          f"this audience"))
        if rel:
            return Verdict(False, True, f"{candidates[0].label} of managed identity {name}", tuple(expected),
                           tuple(rel))
    return Verdict(aud in defaults, False, "Microsoft Entra ID", defaults[:1] if defaults else ())


def _provider_name(audience) -> str | None:
    if not isinstance(audience, str):
        return None
    for prefix in GCP_IAM_PREFIXES:
        if audience.startswith(prefix):
            return audience[len(prefix):]
    return None


def _gcp_verdict(w: Workload, use: TokenUse, aud: str, c: _Container, ctx: CheckContext) -> Verdict:
    fed = ctx.federation
    name = _provider_name(use.via.data.get("audience")) if use.via is not None else None
    p: GcpProvider | None = fed.providers_by_name.get(name) if name else None
    if p is not None and p.kind == "oidc":
        auds = p.allowed_audiences
        if isinstance(auds, list) and auds:
            ok = aud in auds
            where = p.src.loc("oidc", "allowedAudiences")
            return Verdict(ok, True, p.label, tuple(str(a) for a in auds),
                           () if ok else (related(where, f"`allowedAudiences` of {p.label}"),))
        own = tuple(prefix + p.name for prefix in GCP_IAM_PREFIXES)
        ok = aud in own
        return Verdict(ok, True, p.label, own[:1],
                       () if ok else (related(p.src.loc("name"), f"{p.label} has no `allowedAudiences`, so it "
                                                                 f"accepts only its own full resource name"),))
    ok = audience_cloud(aud) == "gcp" and "/providers/" in aud
    return Verdict(ok, False, "GCP STS", ("//iam.googleapis.com/projects/<number>/locations/global/"
                                          "workloadIdentityPools/<pool>/providers/<provider>",))


_VERDICTS = {"aws": _aws_verdict, "azure": _azure_verdict, "gcp": _gcp_verdict}


def verdict(w: Workload, use: TokenUse, ctx: CheckContext) -> Verdict | None:
    """The target cloud's verdict on the audience of the token `use` reads; None when there is no audience
    to judge (not a projected token, or no `audience`: K8S002's finding)."""
    aud = use.audience
    if use.target.kind != "projected-token" or not isinstance(aud, str) or not aud.strip():
        return None
    if k8s_tokens.placeholder(aud):
        return None  # an unrendered template value is unknown, not wrong
    c = _container(w, ctx, use.container)
    if c is None:
        return None
    return _VERDICTS[use.cloud](w, use, aud, c, ctx)


def audience_anchor(w: Workload, container: str, cloud: str) -> str:
    """The anchor of "the audience this container presents to this cloud": a generic chain rule (X002) that
    finds only this audience wrong puts it on its hit, and K8S003 is reported instead (rules.md 0.1)."""
    return f"{w.identity}|{container}|{cloud}|aud"


def _token_loc(w: Workload, use: TokenUse, ctx: CheckContext) -> Location:
    """The projected token's `audience` value, or for a webhook's token, what sets its audience."""
    t = use.token
    if t.injected_by is None:
        return w.src.loc(*t.rel, "audience")
    if t.injected_by == "eks":
        sa = _service_account(w, ctx)
        if sa is not None and k8s_tokens.annotation(sa, EKS_AUDIENCE):
            return k8s_tokens.annotation_loc(sa, EKS_AUDIENCE)
    return t.where or w.src.loc()


def _via(use: TokenUse) -> str:
    t = use.token
    if t.injected_by == "eks":
        return f"`{use.variable}` -> the token the EKS webhook injects"
    if t.injected_by == "azure":
        return f"`{use.variable}` -> the token the Azure Workload Identity webhook injects"
    return f"`{use.variable}` -> volume {t.volume!r}"


def token_audience_mismatch(w: Workload, ctx: CheckContext) -> Iterator[Hit]:
    """K8S003: the token's audience is not one the target accepts (rules.md 1.1)."""
    uses = k8s_tokens.token_uses(w, ctx.inventory)
    for use in uses:
        v = verdict(w, use, ctx)
        if v is None or v.accepted:
            continue
        aud = use.audience
        cloud = CLOUD_NAMES[use.cloud]
        other = audience_cloud(aud)
        why = f" ({CLOUD_NAMES[other]}'s token-exchange audience)" if other and other != use.cloud else ""
        msg = (f"{w.label} presents audience `{aud}`{why} to {cloud} (container {use.container!r}: {_via(use)}); "
               f"{v.target} accepts only {_list(v.expected)}")
        if not v.configured:
            msg += (f" (the {cloud} side is not among the inputs: compared with the default; scan the "
                    f"{_TARGET_INPUT[use.cloud]} to judge it exactly)")
        else:
            msg += f", so {cloud} rejects the token"
        shared = sorted({CLOUD_NAMES[u.cloud] for u in uses if u.cloud != use.cloud and u.audience == aud
                         and u.target.kind == "projected-token"})
        if shared:
            msg += f"; the same audience is also given to {', '.join(shared)}: give each cloud its own projected token"
        rel = [related(use.where, f"`{use.variable}` in container {use.container!r} reads this token"
                       if use.injected_by is None else f"this makes the webhook set `{use.variable}` in container "
                                                       f"{use.container!r} and inject the token")]
        rel.extend(v.related)
        yield Hit(msg, _token_loc(w, use, ctx), related=tuple(rel), severity="error" if v.configured else "warning",
                  anchor=audience_anchor(w, use.container, use.cloud))


_TARGET_INPUT = {"aws": "role (`aws iam get-role`) and its OIDC provider",
                 "azure": "managed identity (`az identity show`) and its federated credentials",
                 "gcp": "workload identity provider (`gcloud iam workload-identity-pools providers describe`)"}


# --- K8S004: the token file (or credential file) is not there ----------------------------------------------


def _covering_mount(c: dict, path: str) -> tuple[int, dict] | None:
    """(index, mount) of the container's volumeMount that is the longest prefix of `path` (rules.md 2.4)."""
    path = posixpath.normpath(path)
    best = None
    for i, m in enumerate(c.get("volumeMounts") or []):
        if not isinstance(m, dict) or not isinstance(m.get("mountPath"), str):
            continue
        mp = posixpath.normpath(m["mountPath"])
        if path == mp or path.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) > len(posixpath.normpath(best[1]["mountPath"])):
                best = (i, m)
    return best


def _holds(v: dict | None, wants: str) -> bool:
    """Does the volume hold what the SDK wants: a projected service-account token, or a config file?"""
    if not isinstance(v, dict):
        return False
    sources = (v.get("projected") or {}).get("sources") if isinstance(v.get("projected"), dict) else None
    kinds = {k for s in sources or [] if isinstance(s, dict) for k in s}
    if wants == "token":
        return "serviceAccountToken" in kinds
    return bool(kinds & {"configMap", "secret"}) or isinstance(v.get("configMap"), dict) or \
        isinstance(v.get("secret"), dict)


def _near_miss(w: Workload, c: dict, path: str, wants: str) -> tuple[int, dict] | None:
    """A mount of the container, of a volume holding what the SDK wants, whose directory holds the path:
    `/var/run/secrets/token` for the path `/var/run/secrets/tokens/aws` (a one-segment slip)."""
    path = posixpath.normpath(path)
    best = None
    for i, m in enumerate(c.get("volumeMounts") or []):
        if not isinstance(m, dict) or not isinstance(m.get("mountPath"), str):
            continue
        vol = _volume(w, m.get("name"))
        if vol is None or not _holds(vol[1], wants):
            continue
        parent = posixpath.dirname(posixpath.normpath(m["mountPath"]))
        if parent in ("/", "") or not path.startswith(parent.rstrip("/") + "/"):
            continue
        if best is None or len(m["mountPath"]) > len(best[1]["mountPath"]):
            best = (i, m)
    return best


def _volume(w: Workload, name) -> tuple[int, dict] | None:
    for i, v in enumerate(w.pod_spec.get("volumes") or []):
        if isinstance(v, dict) and v.get("name") == name:
            return i, v
    return None


_VOLUME_TYPES = ("emptyDir", "hostPath", "csi", "persistentVolumeClaim", "ephemeral", "nfs", "downwardAPI",
                 "gitRepo", "image")


def _unmounted_volume(w: Workload, c: _Container, wants: str, ctx: CheckContext) -> tuple[int, dict] | None:
    """A volume of the pod that holds what the SDK wants but that no container mounts."""
    mounted = {m.get("name") for o in _containers(w, ctx) for m in o.spec.get("volumeMounts") or []
               if isinstance(m, dict)}
    for i, v in enumerate(w.pod_spec.get("volumes") or []):
        if isinstance(v, dict) and v.get("name") not in mounted and _holds(v, wants):
            return i, v
    return None


def _volume_type(v: dict) -> str:
    return next((t for t in _VOLUME_TYPES if t in v), next((k for k in v if k != "name"), "unknown"))


def _webhook_provides(w: Workload, c: _Container, path: str, ctx: CheckContext) -> bool:
    """The EKS or Azure webhook mounts its token directory into this container, so the path exists."""
    p = posixpath.normpath(path)
    if p.startswith(EKS_TOKEN_DIR + "/") and k8s_tokens.irsa_injected(w, c.rel, c.spec, ctx.inventory) is not None:
        return True
    if p.startswith(AZWI_TOKEN_DIR + "/"):
        sa = _service_account(w, ctx)
        return sa is not None and bool(k8s_tokens.annotation(sa, AZWI_CLIENT_ID)) and \
            k8s_tokens.azwi_injected(w, c.rel, c.spec)
    return False


def _label_would_provide(w: Workload, path: str, ctx: CheckContext) -> bool:
    """The path is the Azure webhook's token and the service account is set up for it, but the pod lacks the
    label that makes the webhook mount it: one problem, K8S009's finding."""
    if not posixpath.normpath(path).startswith(AZWI_TOKEN_DIR + "/"):
        return False
    sa = _service_account(w, ctx)
    return sa is not None and bool(k8s_tokens.annotation(sa, AZWI_CLIENT_ID)) and \
        w.template_labels.get(AZWI_USE) not in ("true", True)


def _missing_key(w: Workload, ctx: CheckContext, kind: str, obj_name, key: str | None,
                 volume: dict | None) -> str | None:
    """Why a ConfigMap or Secret volume holds no file named `key`, or None (the file is there, or unknown)."""
    src = volume.get("configMap" if kind == "configmap" else "secret") if volume else None
    items = src.get("items") if isinstance(src, dict) else None
    label = "ConfigMap" if kind == "configmap" else "Secret"
    if isinstance(items, list) and not any(isinstance(i, dict) and i.get("key") == key for i in items):
        return f"the volume's `items` project no file at that path from {label} `{obj_name}`"
    if not obj_name or key is None:
        return None
    cls = ConfigMap if kind == "configmap" else Secret
    objs = ctx.inventory.lookup(cls, namespaced_name, (w.namespace, str(obj_name)))
    if not objs or (isinstance(objs[0], Secret) and objs[0].type == k8s_tokens.LEGACY_TOKEN_TYPE):
        return None  # not scanned, or filled by the token controller: its keys are unknown
    if not any(isinstance(objs[0].src.get(s), dict) for s in ("data", "stringData", "binaryData")):
        return None  # a stub whose content something else provides (a controller, an external secret store)
    keys: set = set()
    for section in ("data", "stringData", "binaryData"):
        entries = objs[0].src.get(section)
        if isinstance(entries, dict):
            keys |= {str(k) for k in entries}
    return None if key in keys else f"{label} {w.namespace}/{obj_name} has no key `{key}`"


def _unresolved(w: Workload, c: _Container, variable: str, path: str, ctx: CheckContext,
                wants: str) -> tuple[str, str, tuple] | None:
    """(severity, why, related) when `path` is not a file the SDK can read in container `c`, else None.
    `wants` is "token" (a projected token) or "config" (a credential configuration file)."""
    if not isinstance(path, str) or not path.strip() or k8s_tokens.placeholder(path):
        return None
    if not posixpath.isabs(path):
        return ("error", f"`{path}` is a relative path: the SDK resolves it against the process's working "
                         f"directory, where no volume is mounted", ())
    cover = _covering_mount(c.spec, path)
    if cover is not None and cover[1].get("subPathExpr"):
        i, m = cover
        return ("note", f"the mount at `{m['mountPath']}` uses `subPathExpr: {m['subPathExpr']}`, which is expanded "
                        f"at run time, so the file cannot be resolved statically",
                (related(w.src.loc(*c.rel, "volumeMounts", i, "subPathExpr"), "expanded at run time"),))
    target = k8s_tokens.resolve(w, c.spec, path)
    if target.kind == "unmounted":
        if wants == "token" and (_webhook_provides(w, c, path, ctx) or _label_would_provide(w, path, ctx)):
            return None
        rel = []
        others = [o for o in _containers(w, ctx) if o is not c and _covering_mount(o.spec, path) is not None]
        if others:
            o = others[0]
            j, m = _covering_mount(o.spec, path)
            why = (f"no volumeMount of container {c.name!r} covers it (container {o.name!r} mounts "
                   f"`{m['mountPath']}`, but mounts are per container)")
            rel.append(related(w.src.loc(*o.rel, "volumeMounts", j, "mountPath"), f"mounted in container "
                                                                                  f"{o.name!r} only"))
        else:
            why = f"no volumeMount of container {c.name!r} covers it"
            near = _near_miss(w, c.spec, path, wants)
            idle = _unmounted_volume(w, c, wants, ctx) if near is None else None
            if near is not None:
                j, m = near
                why += f" (the nearest is `{m['mountPath']}`, volume {m.get('name')!r})"
                rel.append(related(w.src.loc(*c.rel, "volumeMounts", j, "mountPath"), "the nearest mount"))
            elif idle is not None:
                j, v = idle
                what = "a projected token" if wants == "token" else "a configuration"
                why += f" (volume {v.get('name')!r}, {what}, is defined but not mounted in this container)"
                rel.append(related(w.src.loc(*w.pod_path, "volumes", j, "name"), "defined but not mounted here"))
        return "error", why + ", so the file does not exist", tuple(rel)
    i, m = cover if cover is not None else (None, {})
    mount_rel = (related(w.src.loc(*c.rel, "volumeMounts", i, "mountPath"), f"volume {m.get('name')!r} is mounted "
                                                                             f"here"),) if cover else ()
    if target.kind == "no-such-file":
        vol = _volume(w, target.volume)
        if vol is None:
            return ("error", f"the mount at `{m.get('mountPath')}` names volume {target.volume!r}, which the pod does "
                             f"not define", mount_rel)
        j, v = vol
        rel_path = _relative(path, m)
        kind = "serviceAccountToken or ConfigMap/Secret item" if wants == "token" else "ConfigMap or Secret item"
        paths = [s["serviceAccountToken"].get("path") for s in (v.get("projected") or {}).get("sources") or []
                 if isinstance(s, dict) and isinstance(s.get("serviceAccountToken"), dict)]
        have = f" (its token paths: {_list(p for p in paths if p)})" if any(paths) else ""
        return ("error", f"projected volume {target.volume!r} mounted at `{m.get('mountPath')}` has no {kind} with "
                         f"`path: {rel_path}`{have}",
                mount_rel + (related(w.src.loc(*w.pod_path, "volumes", j, "projected", "sources", key=True),
                                     f"the sources of volume {target.volume!r}"),))
    if target.kind == "other-volume":
        vol = _volume(w, target.volume)
        vtype = _volume_type(vol[1]) if vol else "unknown"
        what = "token" if wants == "token" else "credential configuration"
        article = "an" if vtype[:1].lower() in "aeiou" else "a"
        rel = mount_rel + ((related(w.src.loc(*w.pod_path, "volumes", vol[0], vtype, key=True),
                                    f"volume {target.volume!r} is {article} `{vtype}`"),) if vol else ())
        return ("error", f"it lands on volume {target.volume!r}, {article} `{vtype}` volume, which holds no {what} the "
                         f"pod spec provides (only something written at run time)", rel)
    if target.kind in ("configmap", "secret"):
        vol = _volume(w, target.volume)
        missing = _missing_key(w, ctx, target.kind, target.secret, target.key, vol[1] if vol else None)
        if missing:
            return "error", f"it lands on volume {target.volume!r}, but {missing}", mount_rel
        return None
    if wants == "config" and target.kind == "projected-token":
        return ("error", f"it is the projected token `{target.token.path}` of volume {target.volume!r}, not a "
                         f"credential configuration file", mount_rel)
    if wants == "config" and target.kind == "default-token":
        return ("error", "it points into the auto-mounted service-account token directory, which holds no "
                         "credential configuration", ())
    return None


def _relative(path: str, mount: dict) -> str:
    mp = posixpath.normpath(str(mount.get("mountPath", "")))
    rel = posixpath.normpath(path)[len(mp):].lstrip("/")
    if mount.get("subPath"):
        rel = posixpath.join(str(mount["subPath"]), rel) if rel else str(mount["subPath"])
    return rel


def token_file_unresolved(w: Workload, ctx: CheckContext) -> Iterator[Hit]:
    """K8S004: the file a cloud SDK is told to read does not exist in the container."""
    for use in k8s_tokens.token_uses(w, ctx.inventory):
        if use.injected_by is not None or use.target.kind == "default-token":
            continue  # the webhook provides it; the auto-mounted token is K8S016's
        c = _container(w, ctx, use.container)
        if c is None:
            continue
        found = _unresolved(w, c, use.variable, use.path, ctx, "token")
        if found is None:
            continue
        severity, why, rel = found
        if use.via is not None:
            gac = c.env.get(GAC)
            what = (f"`credential_source.file` `{use.path}` of the credential configuration that `{GAC}` names in "
                    f"container {use.container!r} of {w.label}")
            rel = ((related(_env_loc(gac), f"`{GAC}` names the configuration"),) if gac else ()) + rel
        else:
            what = f"`{use.variable}={use.path}` in container {use.container!r} of {w.label}"
        after = f"the {CLOUD_NAMES[use.cloud]} SDK cannot read its token" if severity == "error" else \
            "make sure the token is there at run time"
        yield Hit(f"{what}: {why}; {after}", use.where, related=rel, severity=severity)
    for c in _containers(w, ctx):
        b = c.env.get(GAC)
        path = _known(b)
        if path is None:
            continue
        found = _unresolved(w, c, GAC, path, ctx, "config")
        if found is None:
            continue
        severity, why, rel = found
        after = "Application Default Credentials cannot load it" if severity == "error" else \
            "make sure the configuration is there at run time"
        yield Hit(f"`{GAC}={path}` in container {c.name!r} of {w.label}: {why}; {after}", _env_loc(b), related=rel,
                  severity=severity,
                  sensitive=b.origin == "secret")


# --- K8S005: one audience serving several clouds -----------------------------------------------------------


def audience_value_anchor(resource, value: str) -> str:
    """The anchor of "this relying party accepts that audience" (K8S005 supersedes AWS012 and GCP006 on it)."""
    return f"{resource.identity}|aud:{value}"


def _other_cloud_audiences(values, own: str) -> list[tuple[int, str, str]]:
    """(index, value, cloud) of the entries that are another cloud's token-exchange audience."""
    out = []
    for i, v in enumerate(values if isinstance(values, (list, tuple)) else []):
        if isinstance(v, str) and (cloud := audience_cloud(v)) and cloud != own:
            out.append((i, v, cloud))
    return out


def token_reused_across_clouds(res, ctx: CheckContext) -> Iterator[Hit]:
    """K8S005: (a) one token audience read by the SDKs of two or more clouds in a pod; (b) a relying party
    that accepts another cloud's token-exchange audience."""
    if isinstance(res, Workload):
        yield from _shared_token(res, ctx)
    elif isinstance(res, GcpProvider):
        if res.kind != "oidc":
            return
        for i, v, cloud in _other_cloud_audiences(res.allowed_audiences, "gcp"):
            yield Hit(f"`allowedAudiences` of {res.label} contains `{v}`, {CLOUD_NAMES[cloud]}'s token-exchange "
                      f"audience: a token minted for {CLOUD_NAMES[cloud]} (and presented there) is also accepted by "
                      f"GCP STS, so one stolen token works at both clouds; accept a GCP-only audience (the "
                      f"provider's own name, with `allowedAudiences` empty)",
                      res.src.loc("oidc", "allowedAudiences", i), anchor=audience_value_anchor(res, v))
    elif isinstance(res, AwsOidcProvider):
        data = res.src.get()
        key = next((k for k in ("ClientIDList", "ClientIdList", "client_id_list")
                    if isinstance(data, dict) and k in data), None)
        values = res.src.get(key) if key else None
        for i, v, cloud in _other_cloud_audiences(values, "aws"):
            yield Hit(f"`{key}` of OIDC provider `{res.host_path}` contains `{v}`, {CLOUD_NAMES[cloud]}'s "
                      f"token-exchange audience: a token minted for {CLOUD_NAMES[cloud]} (and presented there) is "
                      f"also accepted by AWS STS, so one stolen token works at both clouds; give AWS its own "
                      f"audience (`sts.amazonaws.com`)", res.src.loc(key, i), anchor=audience_value_anchor(res, v))


def _shared_token(w: Workload, ctx: CheckContext) -> Iterator[Hit]:
    by_audience: dict = {}
    for use in k8s_tokens.token_uses(w, ctx.inventory):
        aud = use.audience
        if use.target.kind != "projected-token" or not isinstance(aud, str) or not aud.strip():
            continue
        by_audience.setdefault(aud, []).append(use)
    for aud, uses in by_audience.items():
        # A cloud that rejects the audience gets no usable token (K8S003 says so): it shares nothing.
        readers = [u for u in uses if (v := verdict(w, u, ctx)) is None or v.accepted]
        clouds = list(dict.fromkeys(u.cloud for u in readers))
        if len(clouds) < 2:
            continue
        first = readers[0]
        names = " and ".join(CLOUD_NAMES[c] for c in clouds)
        how = ", ".join(f"`{u.variable}` in container {u.container!r}" for u in readers)
        tokens = list(dict.fromkeys((u.token.volume, u.token.rel) for u in readers))
        which = f"projected token of volume {first.token.volume!r}" if len(tokens) == 1 else \
            f"{len(tokens)} projected tokens with the same audience"
        rel = [related(u.where, f"`{u.variable}` ({CLOUD_NAMES[u.cloud]}) in container {u.container!r} reads it")
               for u in readers]
        rel.extend(related(_token_loc(w, u, ctx), "another token with the same audience")
                   for u in readers if (u.token.volume, u.token.rel) != tokens[0])
        yield Hit(f"{w.label} hands one audience, `{aud}`, to {names} ({which}, read by {how}): a token stolen from "
                  f"this pod, or minted for one cloud, is accepted by the other too; give each cloud its own "
                  f"projected `serviceAccountToken` with that cloud's audience",
                  _token_loc(w, first, ctx), related=tuple(rel))


# --- K8S009: the Azure Workload Identity webhook does not mutate the pod -----------------------------------


def _uses_azure(w: Workload, ctx: CheckContext) -> str | None:
    """Why the pod evidently uses Azure, or None."""
    for c in _containers(w, ctx):
        names = sorted(n for n in c.env if n.startswith("AZURE_"))
        if names:
            return f"container {c.name!r} sets `{names[0]}`"
        for b in c.env.values():
            value = _known(b)
            if value and posixpath.normpath(value).startswith(AZWI_TOKEN_DIR + "/") and \
                    _covering_mount(c.spec, value) is None:
                return f"container {c.name!r} reads `{value}`, the token the webhook would mount"
    for use in k8s_tokens.token_uses(w, ctx.inventory):
        if posixpath.normpath(use.path) == AZWI_TOKEN_PATH and use.target.kind == "unmounted":
            return f"container {use.container!r} reads `{use.path}`, the token the webhook would mount"
    sa = _service_account(w, ctx)
    clouds = {cloud for _key, cloud, _v in k8s_tokens.federation_annotations(sa)} if sa is not None else set()
    if clouds == {"azure"}:
        # The service account exists for Azure; a pod that brings another cloud's token of its own is
        # evidently about that cloud, not Azure.
        if any(u.injected_by is None and u.cloud != "azure" for u in k8s_tokens.token_uses(w, ctx.inventory)):
            return None
        return f"Azure is the only federation annotation of service account {sa.namespace}/{sa.name}"
    return None


def azwi_pod_label_missing(w: Workload, ctx: CheckContext) -> Iterator[Hit]:
    """K8S009: the service account has `azure.workload.identity/client-id`, but the pod template lacks the
    label `azure.workload.identity/use: "true"`, so the webhook injects nothing."""
    sa = _service_account(w, ctx)
    if sa is None or not k8s_tokens.annotation(sa, AZWI_CLIENT_ID):
        return
    value = w.template_labels.get(AZWI_USE)
    if value == "true" or k8s_tokens.placeholder(value):
        return  # labelled, or an unrendered template value (unknown, not wrong)
    if value is not True and any(u.cloud == "azure" and u.injected_by is None and u.target.kind == "projected-token"
                                 for u in k8s_tokens.token_uses(w, ctx.inventory)):
        return  # the pod mounts its own Azure token and sets the variables: it does not need the webhook
    meta = k8s_tokens.template_metadata_path(w)
    template = w.label if w.kind == "Pod" else f"the pod template of {w.label}"
    evidence = _uses_azure(w, ctx)
    if value is False or (isinstance(value, str) and value.strip().lower() in ("false", "no", "off", "0")):
        if evidence is None:
            return  # an explicit opt-out on a pod that does not use Azure
    severity = "error" if evidence else "note"
    rel = [related(k8s_tokens.annotation_loc(sa, AZWI_CLIENT_ID),
                   f"service account {sa.namespace}/{sa.name} names the Azure identity")]
    if value is True:
        yield Hit(f"the label `{AZWI_USE}` on {template} is the boolean `true`, not the string `\"true\"`: "
                  f"Kubernetes label values are strings, so kubectl and the API server reject the manifest "
                  f"(\"cannot unmarshal bool into ... labels of type string\"); quote it: `{AZWI_USE}: \"true\"`",
                  k8s_tokens.template_label_loc(w, AZWI_USE), related=tuple(rel), severity="error")
        return
    if value is not None:
        where = k8s_tokens.template_label_loc(w, AZWI_USE)
        what = (f"the label `{AZWI_USE}: \"{value}\"` on {template} is not `\"true\"`: the Azure "
                f"Workload Identity webhook selects pods whose label is exactly the string `\"true\"`")
    else:
        labels = w.src.get(*meta, "labels")
        where = w.src.loc(*meta, "labels", key=True) if isinstance(labels, dict) else w.src.loc(*meta, key=True)
        what = f"{template} has no label `{AZWI_USE}: \"true\"`"
        misplaced = []
        if AZWI_USE in sa.labels:
            misplaced.append((sa.src.loc("metadata", "labels", AZWI_USE), f"the label is on service account "
                                                                           f"{sa.namespace}/{sa.name}"))
        if w.kind != "Pod" and AZWI_USE in w.labels:
            misplaced.append((w.src.loc("metadata", "labels", AZWI_USE), f"the label is on the {w.kind}'s own "
                                                                         f"metadata"))
        if AZWI_USE in w.template_annotations:
            misplaced.append((k8s_tokens.template_annotation_loc(w, AZWI_USE), "set as an annotation, not a label"))
        if misplaced:
            what += " (" + "; ".join(m for _, m in misplaced) + ", where the webhook does not look)"
            rel.extend(related(loc, m + "; the webhook reads the pod's labels only") for loc, m in misplaced)
    consequence = ("the webhook injects no `AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE` "
                   "or token")
    if evidence:
        msg = f"{what}, yet the pod uses Azure ({evidence}): {consequence}, so Azure authentication fails"
    else:
        msg = (f"{what} although service account {sa.namespace}/{sa.name} carries `{AZWI_CLIENT_ID}`: "
               f"{consequence}; add the label if this pod is meant to use Azure")
    yield Hit(msg, where, related=tuple(rel), severity=severity)


# --- K8S014: container identity variables that disagree with the service account -------------------------

_DRIFT = (("AWS_ROLE_ARN", EKS_ROLE_ARN, "AWS", False),
          ("AZURE_CLIENT_ID", AZWI_CLIENT_ID, "Azure", True),
          ("AZURE_TENANT_ID", AZWI_TENANT_ID, "Azure", True))


def env_annotation_drift(w: Workload, ctx: CheckContext) -> Iterator[Hit]:
    """K8S014: a container's AWS_ROLE_ARN / AZURE_CLIENT_ID / AZURE_TENANT_ID differs from the annotation on
    the service account it runs as."""
    sa = _service_account(w, ctx)
    if sa is None:
        return
    for c in _containers(w, ctx):
        for var, key, cloud, guid in _DRIFT:
            b = c.env.get(var)
            env_value, ann = _known(b), k8s_tokens.annotation(sa, key)
            if env_value is None or ann is None or k8s_tokens.placeholder(ann):
                continue
            same = env_value.lower() == ann.strip().lower() if guid else env_value == ann.strip()
            if same:
                continue
            secret = b.origin == "secret"
            shown = f"`{var}` ({b.described})" if secret else f"`{var}={env_value}`"
            where = "" if b.origin == "literal" else f" (from {b.described})"
            rel = (related(k8s_tokens.annotation_loc(sa, key), f"the service account's `{key}`"),)
            if b.value_where is not None and b.value_where != b.where:
                rel += (related(b.where, f"container {c.name!r} reads `{var}` from {b.described}"),)
            yield Hit(f"{shown}{where if not secret else ''} in container {c.name!r} of {w.label} differs from "
                      f"`{key}: {ann}` on service account {sa.namespace}/{sa.name}: the {cloud} SDK uses the "
                      f"container's value, so the annotation (and whatever trust was set up for it) is not what "
                      f"this container authenticates as; keep one source of truth and let the webhook inject the "
                      f"variable", _env_loc(b), related=rel, sensitive=secret)
