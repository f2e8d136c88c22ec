"""A deterministic corpus of federation files for benchmarks: `python bench/generate.py --files 10000 --out DIR`.

The corpus looks like a platform team's repository of clusters and cloud accounts: applications in team
namespaces of EKS, AKS and GKE clusters, each federated to one cloud (sometimes a second one), with

- Kubernetes multi-document manifests: a ServiceAccount with the federation annotations, a Deployment (with
  projected service-account tokens and the SDK environment where no webhook adds them), a Service, and for
  GCP from outside GKE a ConfigMap holding the `external_account` credential configuration;
- AWS: `aws iam get-role` outputs (the ARN is the one the service account's annotation names, so the
  graph joins them) or bare trust policies, and `get-open-id-connect-provider` per cluster;
- Azure: `az identity show`, `az identity federated-credential list` and `az role assignment list`;
- GCP: `gcloud iam workload-identity-pools providers describe` per cluster, `get-iam-policy` of each Google
  service account in a file named after it (`<gsa-local-part>-iam-policy.json`), project and bucket policies;

files of 0.3 to 9 KB (median 2 KB; single-resource CLI outputs are the small ones). One application in ten
has an anti-pattern of the catalog: a wildcard subject or audience, another cloud's audience, no subject
condition, static keys next to federation, a legacy token Secret, a subscription-wide role, a whole-pool
principalSet, TokenCreator instead of workloadIdentityUser, `roles/storage.admin` on the project; and about a
tenth of the GCP providers have a `startsWith` or no attribute condition. The same `--files` and `--seed` give
byte-identical files. Every file parses (no XF001). Only the standard library is used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import uuid
from dataclasses import dataclass, field

ANTI_PATTERN_RATE = 0.10
SHARED_NAMESPACE_RATE = 0.2
SHARED_NAMESPACES = ("shared-services", "platform-apps")
APPS_PER_TEAM = 25
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WORDS = ("payments", "checkout", "orders", "billing", "search", "catalog", "ledger", "reports", "ingest",
         "notify", "profile", "pricing", "invoices", "fraud", "shipping", "audit", "export", "media",
         "identity", "metrics", "gateway", "scheduler", "inventory", "recommend", "etl", "backup")
SUFFIXES = ("api", "worker", "sync", "job", "web", "svc", "consumer", "indexer")
TEAMS = ("core", "growth", "data", "platform", "risk", "fin", "ops", "ml", "edge", "web", "mobile", "infra")
ENVS = ("prod", "staging", "dev")
IMAGES = ("python:3.12-slim", "gcr.io/distroless/java21", "node:20-alpine", "golang:1.22", "eclipse-temurin:21")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


@dataclass
class Cluster:
    name: str
    kind: str  # eks, aks, gke
    issuer: str  # exactly as the cluster's tokens carry it
    region: str
    project: str = ""  # GKE


@dataclass
class Corpus:
    rng: random.Random
    clusters: list
    files: list = field(default_factory=list)  # (relative path, text)
    shared_done: set = field(default_factory=set)
    project_bindings: dict = field(default_factory=dict)  # project -> [(role, member)]
    providers: dict = field(default_factory=dict)  # name -> (file index, describe, broad?, namespaces)

    def add(self, path: str, text: str) -> None:
        self.files.append((path, text))


def _clusters(rng: random.Random) -> list[Cluster]:
    out = []
    for i, region in enumerate(("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")):
        out.append(Cluster(f"eks-{ENVS[i % 3]}-{i}", "eks",
                           f"https://oidc.eks.{region}.amazonaws.com/id/{_hex(rng, 32).upper()}", region))
    for i, region in enumerate(("eastus2", "westeurope", "centralus")):
        out.append(Cluster(f"aks-{ENVS[i % 3]}-{i}", "aks",
                           f"https://{region}.oic.prod-aks.azure.com/{TENANT}/{_uuid(rng)}/", region))
    for i, loc in enumerate(("us-central1", "europe-west1", "asia-east1")):
        project = f"acme-{ENVS[i % 3]}-{i}"
        name = f"gke-{ENVS[i % 3]}-{i}"
        out.append(Cluster(name, "gke", f"https://container.googleapis.com/v1/projects/{project}/locations/{loc}/"
                                        f"clusters/{name}", loc, project))
    return out


AWS_ACCOUNTS = ("111122223333", "444455556666", "777788889999")
GCP_PROJECTS = (("acme-prod-0", "123456789012"), ("acme-staging-1", "210987654321"), ("acme-dev-2", "345678901234"))
AZURE_SUBSCRIPTIONS = ("0b1f6471-1bf0-4dda-aec3-111122223333", "5c2e8a10-7d4b-4f9e-b1a3-444455556666")


def _system_data(rng: random.Random) -> dict:
    when = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:" \
           f"{rng.randint(0, 59):02d}:00Z"
    who = rng.choice(("platform-pipeline@acme.example", "8f3c2a1e-0d4b-4c6e-9a7f-1b2c3d4e5f60"))
    kind = "User" if "@" in who else "Application"
    return {"createdAt": when, "createdBy": who, "createdByType": kind, "lastModifiedAt": when,
            "lastModifiedBy": who, "lastModifiedByType": kind}


def _host(issuer: str) -> str:
    return issuer.split("://", 1)[1].rstrip("/")


def _j(data) -> str:
    return json.dumps(data, indent=2) + "\n"


# ---- Kubernetes ----------------------------------------------------------------------------------------


def _env_block(rng: random.Random, extra: list[tuple[str, str]]) -> list[str]:
    env = [("LOG_LEVEL", rng.choice(("info", "debug", "warn"))), ("PORT", str(rng.choice((8080, 8443, 9000)))),
           ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel-collector.observability:4317"),
           ("OTEL_SERVICE_NAME", "app")]
    for i in range(rng.randint(4, 40)):
        env.append((f"FEATURE_{rng.choice(WORDS).upper()}_{i}", rng.choice(("true", "false", "25", "enabled"))))
    env += extra
    lines = ["        env:"]
    for k, v in env:
        lines += [f"        - name: {k}", f"          value: {json.dumps(v)}"]
    return lines


def _manifest(rng: random.Random, c: Cluster, ns: str, app: str, sa: str, annotations: dict, env: list,
              mounts: list, volumes: list, pod_labels: dict, extra_docs: list, anti: str | None) -> str:
    replicas = rng.randint(1, 6)
    lines = [f"# {app}: rendered manifests for cluster {c.name}", "apiVersion: v1", "kind: ServiceAccount",
             "metadata:", f"  name: {sa}", f"  namespace: {ns}", "  labels:", f"    app.kubernetes.io/name: {app}",
             f"    app.kubernetes.io/part-of: {ns.split('-')[0]}"]
    if annotations:
        lines.append("  annotations:")
        lines += [f"    {k}: {json.dumps(v)}" for k, v in annotations.items()]
    if anti == "legacy-token":
        lines += ["---", "apiVersion: v1", "kind: Secret", "type: kubernetes.io/service-account-token", "metadata:",
                  f"  name: {sa}-token", f"  namespace: {ns}", "  annotations:",
                  f"    kubernetes.io/service-account.name: {sa}"]
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": f"{app}-{c.name}", **pod_labels}
    lines += ["---", "apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {app}", f"  namespace: {ns}",
              "  labels:", f"    app.kubernetes.io/name: {app}", "spec:", f"  replicas: {replicas}",
              "  revisionHistoryLimit: 5", "  selector:", "    matchLabels:", f"      app.kubernetes.io/name: {app}",
              "  strategy:", "    type: RollingUpdate", "    rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}",
              "  template:", "    metadata:", "      labels:"]
    lines += [f"        {k}: {json.dumps(v)}" for k, v in labels.items()]
    lines += ["      annotations:", '        prometheus.io/scrape: "true"', '        prometheus.io/port: "9090"',
              "    spec:", f"      serviceAccountName: {sa}", "      securityContext:", "        runAsNonRoot: true",
              "        fsGroup: 65534", "      containers:", f"      - name: {app.split('-')[-1]}",
              f"        image: registry.example.com/{ns}/{app}:{rng.randint(1, 40)}.{rng.randint(0, 20)}."
              f"{rng.randint(0, 9)}", "        imagePullPolicy: IfNotPresent", "        ports:",
              "        - {name: http, containerPort: 8080}", "        - {name: metrics, containerPort: 9090}"]
    lines += _env_block(rng, env)
    lines += ["        resources:", f"          requests: {{cpu: {rng.choice(('100m', '250m', '500m'))}, "
              f"memory: {rng.choice(('128Mi', '256Mi', '512Mi'))}}}", "          limits: {memory: 1Gi}",
              "        readinessProbe:", "          httpGet: {path: /healthz, port: http}",
              "          periodSeconds: 10", "        livenessProbe:", "          httpGet: {path: /livez, port: http}",
              "          initialDelaySeconds: 15"]
    mounts = mounts + [("tmp", "/tmp")]
    lines.append("        volumeMounts:")
    for name, path in mounts:
        lines += [f"        - name: {name}", f"          mountPath: {path}"] + \
                 (["          readOnly: true"] if name != "tmp" else [])
    if rng.random() < 0.3:  # a log shipping sidecar
        lines += ["      - name: log-shipper", "        image: fluent/fluent-bit:3.0", "        resources:",
                  "          requests: {cpu: 50m, memory: 64Mi}", "        volumeMounts:",
                  "        - {name: tmp, mountPath: /tmp, readOnly: true}"]
    lines += ["      volumes:", "      - name: tmp", "        emptyDir: {}"] + volumes
    lines += ["---", "apiVersion: v1", "kind: Service", "metadata:", f"  name: {app}", f"  namespace: {ns}", "spec:",
              "  selector:", f"    app.kubernetes.io/name: {app}", "  ports:",
              "  - {name: http, port: 80, targetPort: http}"]
    if rng.random() < 0.5:
        lines += ["---", "apiVersion: policy/v1", "kind: PodDisruptionBudget", "metadata:", f"  name: {app}",
                  f"  namespace: {ns}", "spec:", "  maxUnavailable: 1", "  selector:", "    matchLabels:",
                  f"      app.kubernetes.io/name: {app}"]
    if rng.random() < 0.5:
        lines += ["---", "apiVersion: autoscaling/v2", "kind: HorizontalPodAutoscaler", "metadata:", f"  name: {app}",
                  f"  namespace: {ns}", "spec:", "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, "
                  f"name: {app}}}", f"  minReplicas: {replicas}", f"  maxReplicas: {replicas * 4}", "  metrics:",
                  "  - type: Resource", "    resource:", "      name: cpu",
                  "      target: {type: Utilization, averageUtilization: 70}"]
    if rng.random() < 0.4:  # the application's own configuration
        lines += ["---", "apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {app}-config",
                  f"  namespace: {ns}", "data:", "  application.yaml: |"]
        for k in range(rng.randint(10, 80)):
            lines.append(f"    {rng.choice(WORDS)}.{rng.choice(SUFFIXES)}.setting{k}: {rng.randint(0, 10000)}")
    for doc in extra_docs:
        lines += ["---"] + doc
    return "\n".join(lines) + "\n"


def _projected(name: str, path: str, audience: str, expiration: int = 3600) -> list[str]:
    return [f"      - name: {name}", "        projected:", "          sources:", "          - serviceAccountToken:",
            f"              path: {path}", f"              expirationSeconds: {expiration}",
            f"              audience: {json.dumps(audience)}"]


# ---- the applications ----------------------------------------------------------------------------------


@dataclass
class App:
    index: int
    cluster: Cluster
    ns: str
    name: str
    sa: str
    targets: tuple
    anti: str | None


ANTI = {
    "aws": ("aws-wildcard-sub", "aws-wildcard-aud", "aws-azure-aud", "aws-no-sub", "static-keys"),
    "azure": ("azure-subscription-scope", "legacy-token"),
    "gcp": ("gcp-whole-pool", "gcp-storage-admin", "gcp-token-creator", "legacy-token"),
}


def _namespace(rng: random.Random, i: int) -> str:
    """Teams grow with the estate (about 25 applications per team, in three environments); one application in
    five lives in a shared namespace that grows without bound."""
    if rng.random() < SHARED_NAMESPACE_RATE:
        return rng.choice(SHARED_NAMESPACES)
    team = rng.randrange(len(TEAMS) + i // APPS_PER_TEAM)
    name = TEAMS[team % len(TEAMS)] + (str(team // len(TEAMS)) if team >= len(TEAMS) else "")
    return f"{name}-{rng.choice(ENVS)}"


def _apps(rng: random.Random, clusters: list[Cluster]):
    """An endless, seeded stream of applications."""
    i = 0
    while True:
        c = clusters[i % len(clusters)] if rng.random() < 0.5 else rng.choice(clusters)
        ns = _namespace(rng, i)
        name = f"{rng.choice(WORDS)}-{rng.choice(SUFFIXES)}"
        own = {"eks": "aws", "aks": "azure", "gke": "gcp"}[c.kind]
        other = rng.choice([t for t in ("aws", "azure", "gcp") if t != own])
        roll = rng.random()
        targets = (own,) if roll < 0.6 else (other,) if roll < 0.85 else (own, other)
        anti = rng.choice(ANTI[targets[0]]) if i % round(1 / ANTI_PATTERN_RATE) == 7 else None
        yield App(i, c, ns, name, f"{name}-sa-{i:05d}"[:63], targets, anti)
        i += 1


def _aws_files(corpus: Corpus, app: App, k8s: dict) -> None:
    rng, c = corpus.rng, app.cluster
    account = AWS_ACCOUNTS[app.index % len(AWS_ACCOUNTS)]
    role = f"{app.ns}-{app.name}-{app.index:05d}"[:64]
    arn = f"arn:aws:iam::{account}:role/{role}"
    host = _host(c.issuer)
    provider_arn = f"arn:aws:iam::{account}:oidc-provider/{host}"
    sub = f"system:serviceaccount:{app.ns}:{app.sa}"
    cond = {"StringEquals": {f"{host}:sub": sub, f"{host}:aud": "sts.amazonaws.com"}}
    if app.anti == "aws-wildcard-sub":
        cond = {"StringEquals": {f"{host}:aud": "sts.amazonaws.com"},
                "StringLike": {f"{host}:sub": f"system:serviceaccount:{app.ns}:*" if rng.random() < 0.8
                               else "system:serviceaccount:*"}}
    elif app.anti == "aws-wildcard-aud":
        cond = {"StringEquals": {f"{host}:sub": sub}, "StringLike": {f"{host}:aud": "*"}}
    elif app.anti == "aws-azure-aud":
        cond = {"StringEquals": {f"{host}:sub": sub, f"{host}:aud": "api://AzureADTokenExchange"}}
    elif app.anti == "aws-no-sub":
        cond = {"StringEquals": {f"{host}:aud": "sts.amazonaws.com"}}
    trust = {"Version": "2012-10-17", "Statement": [{
        "Sid": f"{c.name.replace('-', '').title()}ServiceAccount", "Effect": "Allow",
        "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": cond}]}
    if rng.random() < 0.5:  # another cluster of the same kind may assume the role too (a DR or staging twin)
        twin = _host(rng.choice([o for o in corpus.clusters if o.kind == c.kind]).issuer)
        trust["Statement"].append({"Sid": "TwinCluster", "Effect": "Allow",
                                   "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{twin}"},
                                   "Action": "sts:AssumeRoleWithWebIdentity",
                                   "Condition": {"StringEquals": {f"{twin}:sub": sub,
                                                                  f"{twin}:aud": "sts.amazonaws.com"}}})
    folder = f"aws/{account}/iam"
    if rng.random() < 0.75:
        doc = {"Role": {"Path": "/", "RoleName": role, "RoleId": "AROA" + _hex(rng, 17).upper(), "Arn": arn,
                        "CreateDate": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00+00:00",
                        "AssumeRolePolicyDocument": trust, "Description": f"{app.name} in {app.ns} ({c.name})",
                        "MaxSessionDuration": 3600, "RoleLastUsed": {},
                        "Tags": [{"Key": "team", "Value": app.ns.split("-")[0]},
                                 {"Key": "cluster", "Value": c.name},
                                 {"Key": "cost-center", "Value": str(rng.randint(1000, 9999))}]}}
        corpus.add(f"{folder}/{role}.get-role.json", _j(doc))
    else:
        corpus.add(f"{folder}/{role}-trust-policy.json", _j(trust))
    if f"oidc:{account}:{host}" not in corpus.shared_done:
        corpus.shared_done.add(f"oidc:{account}:{host}")
        corpus.add(f"aws/{account}/oidc-providers/{c.name}.json", _j({
            "Url": host, "ClientIDList": ["sts.amazonaws.com"], "ThumbprintList": [_hex(rng, 40)],
            "CreateDate": "2025-01-15T09:00:00+00:00", "Tags": [{"Key": "cluster", "Value": c.name}]}))
    k8s["annotations"]["eks.amazonaws.com/role-arn"] = arn
    if app.anti == "static-keys":  # AWS's documentation example key, left next to the federation
        k8s["env"] += [("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
                       ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")]
    if c.kind == "eks" and rng.random() < 0.7:
        return  # the EKS pod identity webhook adds the token and the environment
    k8s["env"] += [("AWS_ROLE_ARN", arn), ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/aws/token"),
                   ("AWS_REGION", "us-east-1"), ("AWS_STS_REGIONAL_ENDPOINTS", "regional")]
    k8s["mounts"].append(("aws-token", "/var/run/secrets/aws"))
    k8s["volumes"] += _projected("aws-token", "token", "sts.amazonaws.com", rng.choice((3600, 86400)))


def _azure_files(corpus: Corpus, app: App, k8s: dict) -> None:
    rng, c = corpus.rng, app.cluster
    sub_id = AZURE_SUBSCRIPTIONS[app.index % len(AZURE_SUBSCRIPTIONS)]
    rg = f"rg-{app.ns}"
    name = f"id-{app.name}-{app.index:05d}"
    client_id, principal_id = _uuid(rng), _uuid(rng)
    rid = f"/subscriptions/{sub_id}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/" \
          f"userAssignedIdentities/{name}"
    folder = f"azure/{sub_id[:8]}/{rg}"
    corpus.add(f"{folder}/{name}.identity.json", _j({
        "clientId": client_id, "id": rid, "location": c.region if c.kind == "aks" else "eastus2", "name": name,
        "principalId": principal_id, "resourceGroup": rg, "systemData": _system_data(rng),
        "tags": {"team": app.ns.split("-")[0], "app": app.name, "environment": app.ns.split("-")[-1],
                 "cluster": c.name, "cost-center": str(rng.randint(1000, 9999)), "managed-by": "terraform",
                 "repository": f"github.com/acme/{app.ns.split('-')[0]}-infra",
                 "owner": f"{app.ns.split('-')[0]}-oncall@example.com", "data-classification":
                 rng.choice(("internal", "confidential", "public")), "created-by": "platform-pipeline"},
        "tenantId": TENANT,
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities"}))
    fics = []
    others = [o.issuer for o in corpus.clusters if o is not c]  # the app's twins in other clusters (DR, staging)
    for j, (issuer, ns) in enumerate([(c.issuer, app.ns)] + [(i, app.ns) for i in
                                                            rng.sample(others, rng.randint(0, 3))]):
        fic_name = f"{app.name}-{'primary' if j == 0 else f'dr-{j}'}"
        fics.append({"audiences": ["api://AzureADTokenExchange"],
                     "id": f"{rid}/federatedIdentityCredentials/{fic_name}",
                     "issuer": issuer, "name": fic_name, "resourceGroup": rg,
                     "subject": f"system:serviceaccount:{ns}:{app.sa}", "systemData": _system_data(rng),
                     "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"})
    corpus.add(f"{folder}/{name}.federated-credentials.json", _j(fics))
    assignments = []
    storage = f"/subscriptions/{sub_id}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/" \
              f"st{app.name.replace('-', '')[:14]}{app.index:05d}"
    scopes = [(storage, "Storage Blob Data Reader", "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")]
    for _ in range(rng.randint(0, 3)):
        scopes.append((f"/subscriptions/{sub_id}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/"
                       f"kv-{app.ns}-{rng.randint(1, 9)}", "Key Vault Secrets User",
                       "4633458b-17de-408a-b874-0445c86b69e6"))
    if app.anti == "azure-subscription-scope":
        scopes.append((f"/subscriptions/{sub_id}", rng.choice(("Contributor", "Storage Blob Data Owner")),
                       "b24988ac-6180-42a0-ab88-20f7382dd24c"))
    for scope, role, role_id in scopes:
        aid = _uuid(rng)
        assignments.append({
            "condition": None, "conditionVersion": None, "createdOn": "2025-06-01T12:00:00.000000+00:00",
            "description": None, "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{aid}", "name": aid,
            "principalId": principal_id, "principalName": client_id, "principalType": "ServicePrincipal",
            "roleDefinitionId": f"/subscriptions/{sub_id}/providers/Microsoft.Authorization/roleDefinitions/{role_id}",
            "roleDefinitionName": role, "scope": scope, "type": "Microsoft.Authorization/roleAssignments"})
    corpus.add(f"{folder}/{name}.role-assignments.json", _j(assignments))
    if c.kind == "aks":  # the Azure Workload Identity webhook adds the token and the environment
        k8s["annotations"]["azure.workload.identity/client-id"] = client_id
        k8s["annotations"]["azure.workload.identity/tenant-id"] = TENANT
        k8s["pod_labels"]["azure.workload.identity/use"] = "true"
        return
    # elsewhere no webhook: the pod sets the environment and mounts its own token (the seed guide's scenario 1.2)
    k8s["env"] += [("AZURE_CLIENT_ID", client_id), ("AZURE_TENANT_ID", TENANT),
                   ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token"),
                   ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/")]
    k8s["mounts"].append(("azure-token", "/var/run/secrets/azure/tokens"))
    k8s["volumes"] += _projected("azure-token", "azure-identity-token", "api://AzureADTokenExchange")


def _gcp_files(corpus: Corpus, app: App, k8s: dict) -> None:
    rng, c = corpus.rng, app.cluster
    project, number = GCP_PROJECTS[app.index % len(GCP_PROJECTS)]
    gsa_local = f"{app.name[:14]}-{app.index:05d}-sa"
    gsa = f"{gsa_local}@{project}.iam.gserviceaccount.com"
    folder = f"gcp/{project}"
    role = "roles/iam.serviceAccountTokenCreator" if app.anti == "gcp-token-creator" else \
        "roles/iam.workloadIdentityUser"
    if c.kind == "gke":
        members = [f"serviceAccount:{c.project}.svc.id.goog[{app.ns}/{app.sa}]"]
        k8s["annotations"]["iam.gke.io/gcp-service-account"] = gsa
    else:
        pool = f"{c.name}-pool"  # one pool per cluster: subjects of two clusters never collide
        provider = c.name
        pname = f"projects/{number}/locations/global/workloadIdentityPools/{pool}/providers/{provider}"
        if pname not in corpus.providers:
            broad = rng.random() < ANTI_PATTERN_RATE
            desc = {"attributeMapping": {"google.subject": "assertion.sub",
                                         "attribute.pod": "assertion['kubernetes.io']['pod']['name']",
                                         "attribute.cluster": f"'{c.name}'",
                                         "attribute.namespace": "assertion['kubernetes.io']['namespace']",
                                         "attribute.service_account": "assertion['kubernetes.io']['serviceaccount']"
                                                                      "['name']"},
                    "description": f"Kubernetes cluster {c.name} ({c.kind.upper()}, {c.region}); managed by "
                                   "terraform in github.com/acme/platform-infra",
                    "disabled": False, "displayName": provider, "name": pname,
                    "oidc": {"allowedAudiences": [f"//iam.googleapis.com/{pname}"], "issuerUri": c.issuer},
                    "state": "ACTIVE"}
            if broad:
                desc["attributeCondition"] = rng.choice(("assertion.sub.startsWith('system:serviceaccount:')", ""))
            # the namespaces the condition admits are those of the applications using it: written at the end
            corpus.providers[pname] = (len(corpus.files), desc, broad, set())
            corpus.add(f"{folder}/workload-identity/{pool}-{provider}.provider.json", "")
        corpus.providers[pname][3].add(app.ns)
        pool_ref = f"//iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/{pool}"
        members = [f"principal:{pool_ref}/subject/system:serviceaccount:{app.ns}:{app.sa}"]
        if app.anti == "gcp-whole-pool":
            members = [f"principalSet:{pool_ref}/*"]
        ext = {"universe_domain": "googleapis.com", "type": "external_account",
               "audience": f"//iam.googleapis.com/{pname}",
               "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
               "token_url": "https://sts.googleapis.com/v1/token",
               "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/"
                                                    f"serviceAccounts/{gsa}:generateAccessToken",
               "service_account_impersonation": {"token_lifetime_seconds": 3600},
               "credential_source": {"file": "/var/run/secrets/gcp/token", "format": {"type": "text"}}}
        body = json.dumps(ext, indent=2).replace("\n", "\n    ")
        k8s["extra_docs"].append(["apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {app.name}-gcp-wif",
                                  f"  namespace: {app.ns}", "data:", "  credential-configuration.json: |",
                                  "    " + body])
        k8s["env"] += [("GOOGLE_APPLICATION_CREDENTIALS", "/etc/workload-identity/credential-configuration.json"),
                       ("GOOGLE_CLOUD_PROJECT", project)]
        k8s["mounts"] += [("gcp-wif", "/etc/workload-identity"), ("gcp-token", "/var/run/secrets/gcp")]
        k8s["volumes"] += ["      - name: gcp-wif", "        configMap:", f"          name: {app.name}-gcp-wif"]
        k8s["volumes"] += _projected("gcp-token", "token", f"//iam.googleapis.com/{pname}")
    policy = {"bindings": [{"members": members, "role": role}], "etag": "BwY" + _hex(rng, 9), "version": 1}
    if rng.random() < 0.8:  # the team's CI deploys as the same service account (GitHub Actions)
        policy["bindings"][0]["members"].append(
            f"principalSet://iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/github/"
            f"attribute.repository/acme/{app.ns.split('-')[0]}-{app.name}")
    policy["bindings"].append({"members": [f"group:{app.ns}-admins@example.com",
                                           f"serviceAccount:deployer@{project}.iam.gserviceaccount.com"],
                               "role": "roles/iam.serviceAccountUser"})
    if rng.random() < 0.5:
        policy["bindings"].append({
            "condition": {"title": "business-hours", "description": "break-glass access during business hours",
                          "expression": "request.time.getHours('Europe/Berlin') >= 8 && "
                                        "request.time.getHours('Europe/Berlin') <= 18"},
            "members": [f"group:{app.ns.split('-')[0]}-sre@example.com"], "role": "roles/iam.serviceAccountKeyAdmin"})
    corpus.add(f"{folder}/service-accounts/{gsa_local}-iam-policy.json", _j(policy))
    # permissions: a bucket policy, and a line in the project's policy
    if rng.random() < 0.5:
        bucket = f"{project}-{app.name}-{app.index:05d}"
        corpus.add(f"{folder}/buckets/bucket-{app.name}-{app.index:05d}-iam-policy.json", _j({
            "bindings": [{"members": [f"projectEditor:{project}", f"projectOwner:{project}"],
                          "role": "roles/storage.legacyBucketOwner"},
                         {"members": [f"projectViewer:{project}"], "role": "roles/storage.legacyBucketReader"},
                         {"members": [f"projectEditor:{project}", f"projectOwner:{project}"],
                          "role": "roles/storage.legacyObjectOwner"},
                         {"members": [f"projectViewer:{project}"], "role": "roles/storage.legacyObjectReader"},
                         {"members": [f"serviceAccount:{gsa}"], "role": "roles/storage.objectViewer"}],
            "etag": "CAE=", "resourceId": f"projects/_/buckets/{bucket}", "version": 1}))
    project_role = "roles/storage.admin" if app.anti == "gcp-storage-admin" else \
        rng.choice(("roles/logging.logWriter", "roles/cloudsql.client", "roles/monitoring.metricWriter",
                    "roles/cloudtrace.agent"))  # project-wide by nature (resource-scoped roles go on the bucket)
    pending = corpus.project_bindings.setdefault(project, [])
    pending.append((project_role, f"serviceAccount:{gsa}"))
    if len(pending) >= 10:
        _flush_project_policy(corpus, project)


def _flush_project_policy(corpus: Corpus, project: str) -> None:
    pending = corpus.project_bindings.pop(project, [])
    if not pending:
        return
    roles: dict = {}
    for role, member in pending:
        roles.setdefault(role, []).append(member)
    n = sum(1 for p, _ in corpus.files if p.startswith(f"gcp/{project}/project-iam-policy-"))
    corpus.add(f"gcp/{project}/project-iam-policy-{n:04d}.json", _j({
        "bindings": [{"members": sorted(m), "role": r} for r, m in sorted(roles.items())],
        "etag": "BwY" + _hex(corpus.rng, 9), "version": 1}))


def generate(count: int, seed: int = 1) -> list[tuple[str, str]]:
    """`count` files (relative path, text), deterministic for a seed."""
    rng = random.Random(seed)
    clusters = _clusters(rng)
    corpus = Corpus(rng, clusters)
    for app in _apps(rng, clusters):
        if len(corpus.files) >= count:
            break
        k8s = {"annotations": {}, "env": [], "mounts": [], "volumes": [], "pod_labels": {}, "extra_docs": []}
        for target in app.targets:
            {"aws": _aws_files, "azure": _azure_files, "gcp": _gcp_files}[target](corpus, app, k8s)
        corpus.add(f"k8s/{app.cluster.name}/{app.ns}/{app.name}-{app.index:05d}.yaml",
                   _manifest(rng, app.cluster, app.ns, app.name, app.sa, k8s["annotations"], k8s["env"],
                             k8s["mounts"], k8s["volumes"], k8s["pod_labels"], k8s["extra_docs"], app.anti))
    for project, _ in GCP_PROJECTS:
        if len(corpus.files) < count:
            _flush_project_policy(corpus, project)
    for index, desc, broad, namespaces in corpus.providers.values():
        if not broad:
            desc["attributeCondition"] = "assertion['kubernetes.io']['namespace'] in [" + \
                ", ".join(f"'{n}'" for n in sorted(namespaces)) + "]"
        desc = {k: desc[k] for k in sorted(desc) if desc[k] != ""}
        corpus.files[index] = (corpus.files[index][0], _j(desc))
    return corpus.files[:count]


def _hcl(value, indent: int = 0) -> str:
    """A JSON value as an HCL expression (for `jsonencode(...)`)."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f'{pad}  {json.dumps(k)} = {_hcl(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v, indent + 1) for v in value) + "]"
    return json.dumps(value)


def with_terraform(files: list[tuple[str, str]], share: float, seed: int) -> list[tuple[str, str]]:
    """A share of the `get-role` outputs written as the Terraform that declares them (`aws_iam_role` with a
    `jsonencode` trust): what a repository that keeps its IAM in Terraform holds. Deterministic for a seed."""
    rng = random.Random(seed * 7919 + 1)
    out = []
    for path, text in files:
        if path.endswith(".get-role.json") and rng.random() < share:
            role = json.loads(text)["Role"]
            name = role["RoleName"]
            label = "".join(c if c.isalnum() else "_" for c in name)
            out.append((path[:-len(".get-role.json")] + ".tf",
                        f'resource "aws_iam_role" "{label}" {{\n  name = {json.dumps(name)}\n'
                        f'  assume_role_policy = jsonencode({_hcl(role["AssumeRolePolicyDocument"], 1)})\n'
                        f'  tags = {_hcl(role.get("Tags") and {t["Key"]: t["Value"] for t in role["Tags"]} or {}, 1)}\n}}\n'))
        else:
            out.append((path, text))
    return out


def write(files: list[tuple[str, str]], out: str) -> None:
    if os.path.exists(out):
        shutil.rmtree(out)
    for rel, text in files:
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, required=True, help="number of files to write (e.g. 100, 1000, 10000)")
    parser.add_argument("--out", required=True, help="folder to write (replaced if it exists)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--terraform-share", type=float, default=0.0, metavar="F",
                        help="write this share of the AWS roles as Terraform `.tf` files (default 0)")
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error("--files must be at least 1")
    files = generate(args.files, args.seed)
    if args.terraform_share > 0:
        files = with_terraform(files, args.terraform_share, args.seed)
    write(files, args.out)
    size = sum(len(t.encode("utf-8")) for _, t in files)
    print(f"{len(files)} files, {size / 1024:.0f} KB, in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
