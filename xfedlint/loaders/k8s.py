"""Kubernetes manifests: service accounts, workloads (pod templates), Secrets and ConfigMaps.

Recognised by `apiVersion` + `kind`. `kind: List` is unpacked. Other kinds are skipped quietly.
ConfigMaps and Secrets whose entries hold an `external_account` JSON file also yield that credential
configuration, with positions mapped back into the manifest.
"""

from __future__ import annotations

import base64
import binascii
from typing import Iterator

from xfedlint.loaders.base import LoadContext, ShapeError, mapping_at, type_name
from xfedlint.loaders.embedded import parse_embedded
from xfedlint.loaders.gcp import is_service_account_key
from xfedlint.model.document import SourceDoc, Src
from xfedlint.model.resources import (
    ConfigMap,
    GcpExternalAccount,
    GcpServiceAccountKey,
    Resource,
    Secret,
    ServiceAccount,
    Workload,
)

# kind -> (path of the pod template's metadata, path of the pod spec)
POD_TEMPLATES = {
    "Pod": (("metadata",), ("spec",)),
    "Deployment": (("spec", "template", "metadata"), ("spec", "template", "spec")),
    "StatefulSet": (("spec", "template", "metadata"), ("spec", "template", "spec")),
    "DaemonSet": (("spec", "template", "metadata"), ("spec", "template", "spec")),
    "ReplicaSet": (("spec", "template", "metadata"), ("spec", "template", "spec")),
    "ReplicationController": (("spec", "template", "metadata"), ("spec", "template", "spec")),
    "Job": (("spec", "template", "metadata"), ("spec", "template", "spec")),
    "CronJob": (("spec", "jobTemplate", "spec", "template", "metadata"),
                ("spec", "jobTemplate", "spec", "template", "spec")),
}


def is_kubernetes(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("kind"), str) and "apiVersion" in data


def from_document(doc: SourceDoc, ctx: LoadContext) -> list[Resource] | None:
    if not is_kubernetes(doc.data):
        return None
    return list(_objects(doc, (), ctx))


def _objects(doc: SourceDoc, base: tuple, ctx: LoadContext) -> Iterator[Resource]:
    obj = doc.get(base)
    kind = obj["kind"]
    if kind == "List" or (kind.endswith("List") and isinstance(obj.get("items"), list)):
        items = obj.get("items")
        if items is None:
            return
        if not isinstance(items, list):
            raise ShapeError(f"`items` of a {kind} must be a list, found {type_name(items)}", doc, base + ("items",))
        for i, item in enumerate(items):
            if is_kubernetes(item):
                yield from _objects(doc, base + ("items", i), ctx)
        return
    if kind not in POD_TEMPLATES and kind not in ("ServiceAccount", "Secret", "ConfigMap"):
        return
    meta = mapping_at(doc, base + ("metadata",), "`metadata`")
    common = dict(
        src=Src(doc, base), kind=kind, name=str(meta.get("name") or ""),
        namespace=str(meta.get("namespace") or "default"),
        annotations=_string_map(doc, base + ("metadata", "annotations")),
        labels=_string_map(doc, base + ("metadata", "labels")),
    )
    if kind == "ServiceAccount":
        yield ServiceAccount(**common)
    elif kind == "Secret":
        secret = Secret(type=str(obj.get("type") or "Opaque"), **common)
        yield secret
        yield from _embedded_credentials(doc, base, ctx, secret, encoded=True)
    elif kind == "ConfigMap":
        cm = ConfigMap(**common)
        yield cm
        yield from _embedded_credentials(doc, base, ctx, cm, encoded=False)
    else:
        meta_path, spec_path = POD_TEMPLATES[kind]
        mapping_at(doc, base + spec_path, "the pod spec")
        tmeta = mapping_at(doc, base + meta_path, "the pod template's `metadata`")
        yield Workload(pod_path=spec_path,
                       template_labels=_string_map(doc, base + meta_path + ("labels",)) if tmeta else {},
                       template_annotations=_string_map(doc, base + meta_path + ("annotations",)) if tmeta else {},
                       **common)


def _string_map(doc: SourceDoc, path: tuple) -> dict:
    m = mapping_at(doc, path, f"`{'.'.join(str(p) for p in path[-2:])}`")
    return {str(k): v for k, v in m.items()}


def _embedded_credentials(doc: SourceDoc, base: tuple, ctx: LoadContext, holder, encoded: bool) -> Iterator[Resource]:
    """`external_account` JSON files carried in a ConfigMap's `data` (or a Secret's `stringData`/`data`)."""
    sections = ("data", "stringData") if not encoded else ("stringData", "data")
    for section in sections:
        entries = doc.get(base + (section,))
        if not isinstance(entries, dict):
            continue
        for key, value in entries.items():
            if not isinstance(value, str):
                continue
            path = base + (section, key)
            text = value
            exact = True
            if encoded and section == "data":
                try:
                    text = base64.b64decode(value, validate=False).decode("utf-8")
                except (binascii.Error, ValueError):
                    continue
                exact = False
            if "external_account" not in text and "private_key" not in text:
                continue
            inner = parse_embedded(doc, path, text, ctx.text, exact=exact)
            if inner is None or not isinstance(inner.data, dict):
                continue
            if inner.data.get("type") == "external_account":
                yield GcpExternalAccount(src=Src(inner), holder=f"{holder.label} key {key}")
            elif is_service_account_key(inner.data):
                yield GcpServiceAccountKey(src=Src(inner), client_email=str(inner.data.get("client_email") or "") or None,
                                           holder=f"{holder.label} key {key}")
