"""One frozen record (`msgspec.Struct`) per kind of federation resource. Equality is identity: two resources
with the same fields in two files are still two resources (memos and indexes key on them).

Every resource keeps `src` (document + path) so checks can point at the exact key or value they judge.
Fields hold what the checks read, already normalised across input shapes (CLI output, REST, Terraform...).
`identity` names the resource stably (used in messages and in fingerprints); it never contains a line number.
"""

from __future__ import annotations

from typing import Any

import msgspec

from xfedlint.model.document import Src


class Resource(msgspec.Struct, frozen=True, eq=False, weakref=True):
    src: Src

    @property
    def identity(self) -> str:  # overridden by every kind
        return self.src.file

    @property
    def label(self) -> str:
        """How a message names the resource."""
        return self.identity


# --- Index keys (module-level, so each names one index of the Inventory) -------------------------------


def namespaced_name(r) -> tuple:
    """(namespace, name) of a Kubernetes object."""
    return (r.namespace, r.name)


def resource_holder(r) -> str | None:
    """The ConfigMap or Secret entry a credential file was found in ("configmap ns/name key k")."""
    return r.holder


def holder_object(r) -> tuple | None:
    """("configmap" | "secret", namespace, name) of the object holding a credential file."""
    if not r.holder:
        return None
    kind, _, rest = r.holder.partition(" ")
    ns, _, name = rest.split(" key ", 1)[0].partition("/")
    return (kind, ns, name)


# --- Kubernetes ---------------------------------------------------------------------------------------


class K8sObject(Resource):
    kind: str = ""
    name: str = ""
    namespace: str = "default"
    annotations: dict = msgspec.field(default_factory=dict)
    labels: dict = msgspec.field(default_factory=dict)

    @property
    def identity(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    @property
    def label(self) -> str:
        return f"{self.kind.lower()} {self.namespace}/{self.name}"


class ServiceAccount(K8sObject):
    pass


class Workload(K8sObject):
    """Anything with a pod spec: Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob."""

    pod_path: tuple = ()  # path of the pod spec relative to `src` (e.g. ("spec", "template", "spec"))
    template_labels: dict = msgspec.field(default_factory=dict)
    template_annotations: dict = msgspec.field(default_factory=dict)

    @property
    def pod_spec(self) -> dict:
        spec = self.src.get(*self.pod_path)
        return spec if isinstance(spec, dict) else {}

    @property
    def service_account_name(self) -> str:
        spec = self.pod_spec
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        return str(name)


class Secret(K8sObject):
    type: str = "Opaque"


class ConfigMap(K8sObject):
    pass


# --- AWS ------------------------------------------------------------------------------------------------


class AwsPolicyDocument(Resource):
    """An IAM policy document (trust or permissions). `src` points at the document object itself."""

    @property
    def identity(self) -> str:
        return f"policy:{self.src.file}#{self.src.doc.index}"


class AwsRole(Resource):
    """A role with its trust policy. A bare trust-policy file is a role whose name and ARN are unknown."""

    name: str | None = None
    arn: str | None = None
    trust: AwsPolicyDocument | None = None
    attached_policy_arns: tuple = ()
    inline_policies: tuple = ()  # AwsPolicyDocument

    @property
    def identity(self) -> str:
        return self.arn or (f"role/{self.name}" if self.name else f"trust-policy:{self.src.file}#{self.src.doc.index}")

    @property
    def label(self) -> str:
        return f"role {self.arn or self.name}" if (self.arn or self.name) else "this trust policy"

    @property
    def account(self) -> str | None:
        if self.arn and self.arn.count(":") >= 5:
            return self.arn.split(":")[4] or None
        return None


class AwsOidcProvider(Resource):
    url: str = ""
    client_ids: tuple = ()
    thumbprints: tuple = ()
    arn: str | None = None

    @property
    def host_path(self) -> str:
        """The provider as IAM keys name it: the URL without its scheme."""
        u = self.url
        return u.split("://", 1)[1] if "://" in u else u

    @property
    def identity(self) -> str:
        return self.arn or f"oidc-provider/{self.host_path}"


# --- Azure ----------------------------------------------------------------------------------------------


class AzureFederatedCredential(Resource):
    name: str | None = None
    issuer: Any = None
    subject: Any = None
    audiences: Any = None  # a list when well-formed; kept raw so checks can judge malformed values
    expression: Any = None  # claimsMatchingExpression
    parent: str | None = None  # the app or managed identity it belongs to, when the input says
    flavor: str = "graph"  # graph (app registration), arm (user-assigned managed identity), params
    rel: tuple = ()  # path of the fields relative to src (ARM nests them under "properties")

    @property
    def identity(self) -> str:
        return f"fic:{self.parent or ''}/{self.name or self.subject}"

    @property
    def label(self) -> str:
        return f"federated credential {self.name!r}" if self.name else "federated credential"

    def loc(self, *field_path: Any, key: bool = False):
        return self.src.loc(*self.rel, *field_path, key=key)


class AzureRoleAssignment(Resource):
    principal_id: str | None = None
    principal_type: str | None = None
    principal_name: str | None = None
    role_name: str | None = None
    role_definition_id: str | None = None
    scope: Any = None
    condition: Any = None
    assignment_id: str | None = None
    rel: tuple = ()

    @property
    def identity(self) -> str:
        return self.assignment_id or f"role-assignment:{self.principal_id}:{self.role_name or self.role_definition_id}:{self.scope}"

    @property
    def role_label(self) -> str:
        return self.role_name or (self.role_definition_id or "").rsplit("/", 1)[-1] or "?"

    def loc(self, *field_path: Any, key: bool = False):
        return self.src.loc(*self.rel, *field_path, key=key)


class AzureManagedIdentity(Resource):
    resource_id: str | None = None
    name: str | None = None
    client_id: str | None = None
    principal_id: str | None = None

    @property
    def identity(self) -> str:
        return self.resource_id or f"identity/{self.name}"


# --- GCP ------------------------------------------------------------------------------------------------


class GcpProvider(Resource):
    """A workload identity pool provider. `name` is the full resource name when the input has it."""

    name: str | None = None
    attribute_mapping: Any = None
    attribute_condition: Any = None
    issuer_uri: Any = None
    allowed_audiences: Any = None
    disabled: bool = False
    state: str | None = None
    kind: str = "oidc"  # oidc, aws, saml, x509
    unknown: frozenset = frozenset()  # fields a template computes (Terraform `var.x`): None here, never judged

    @property
    def pool(self) -> str | None:
        parts = (self.name or "").split("/")
        if "workloadIdentityPools" in parts:
            i = parts.index("workloadIdentityPools")
            return parts[i + 1] if i + 1 < len(parts) else None
        return None

    @property
    def project(self) -> str | None:
        parts = (self.name or "").split("/")
        return parts[1] if len(parts) > 1 and parts[0] == "projects" else None

    @property
    def identity(self) -> str:
        return self.name or f"provider:{self.src.file}#{self.src.doc.index}"

    @property
    def label(self) -> str:
        return f"provider {self.name.rsplit('/', 1)[-1]}" if self.name else "this provider"


class GcpBinding(msgspec.Struct, frozen=True, eq=False):
    role: str
    members: tuple  # (member, index) pairs keep each member's position
    condition: Any
    index: int  # position in the policy's bindings list


class GcpIamPolicy(Resource):
    """An IAM policy. `level` is organization, folder, project, service-account or bucket."""

    level: str = "project"
    level_source: str = "assumed"  # input, filename, config or assumed
    resource_name: str | None = None
    bindings: tuple = ()
    rel: tuple = ()  # path of the policy object relative to src (a wrapper may nest it under "policy")

    @property
    def identity(self) -> str:
        return f"iam-policy:{self.resource_name or self.src.file}#{self.src.doc.index}"

    @property
    def label(self) -> str:
        return f"{self.level} IAM policy" + (f" of {self.resource_name}" if self.resource_name else "")

    def loc(self, *field_path: Any, key: bool = False):
        return self.src.loc(*self.rel, *field_path, key=key)


class GcpServiceAccountKey(Resource):
    """A downloaded service-account key (`"type": "service_account"` with a `private_key`). Its values are
    secrets: checks locate it, they never print it."""

    client_email: str | None = None
    holder: str | None = None  # set when the key sits inside a ConfigMap or Secret

    @property
    def identity(self) -> str:
        return f"sa-key:{self.client_email or ''}:{self.holder or self.src.file}"


class GcpExternalAccount(Resource):
    """An `external_account` credential configuration (a file, or a ConfigMap/Secret entry)."""

    holder: str | None = None  # e.g. "configmap default/gcp-config key config.json" when embedded

    @property
    def data(self) -> dict:
        d = self.src.get()
        return d if isinstance(d, dict) else {}

    @property
    def identity(self) -> str:
        return f"external-account:{self.holder or self.src.file}"
