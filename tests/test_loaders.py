"""Loaders: shapes recognised by content, exact positions, bad input as data."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from xfedlint.loaders import load_files
from xfedlint.loaders.files import discover
from xfedlint.model.resources import (
    AwsOidcProvider,
    AwsPolicyDocument,
    AwsRole,
    AzureFederatedCredential,
    AzureManagedIdentity,
    AzureRoleAssignment,
    ConfigMap,
    GcpExternalAccount,
    GcpIamPolicy,
    GcpProvider,
    Secret,
    ServiceAccount,
    Workload,
)

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
    "Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},
    "Action": "sts:AssumeRoleWithWebIdentity"}]}


def _load(tmp_path, name: str, text: str):
    (tmp_path / name).write_text(text)
    files, _ = discover((str(tmp_path),))
    return load_files(files)


def _kinds(inv) -> dict:
    out: dict = {}
    for r in inv:
        out[type(r).__name__] = out.get(type(r).__name__, 0) + 1
    return out


@pytest.mark.parametrize("name,text,kinds", [
    ("bare.json", json.dumps(TRUST), {"AwsRole": 1}),
    ("object-statement.json", json.dumps({**TRUST, "Statement": TRUST["Statement"][0]}), {"AwsRole": 1}),
    ("perms.json", json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                                        "Resource": "*"}]}), {"AwsPolicyDocument": 1}),
    ("get-role.json", json.dumps({"Role": {"RoleName": "app", "Arn": "arn:aws:iam::111122223333:role/app",
                                           "AssumeRolePolicyDocument": TRUST}}), {"AwsRole": 1}),
    ("list-roles.json", json.dumps({"Roles": [{"RoleName": "a", "AssumeRolePolicyDocument": TRUST},
                                              {"RoleName": "b", "AssumeRolePolicyDocument": TRUST}]}), {"AwsRole": 2}),
    ("authz.json", json.dumps({"RoleDetailList": [{"RoleName": "a", "Arn": "arn:aws:iam::111122223333:role/a",
                                                   "AssumeRolePolicyDocument": urllib.parse.quote(json.dumps(TRUST)),
                                                   "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]}]}),
     {"AwsRole": 1}),
    ("oidc.json", json.dumps({"Url": "oidc.eks.us-east-1.amazonaws.com/id/ABC", "ClientIDList": ["sts.amazonaws.com"],
                              "ThumbprintList": []}), {"AwsOidcProvider": 1}),
    ("fic-list.json", json.dumps([{"name": "a", "issuer": "https://x", "subject": "s", "audiences": ["api://AzureADTokenExchange"]}]),
     {"AzureFederatedCredential": 1}),
    ("fic-page.json", json.dumps({"value": [{"id": "1", "name": "a", "issuer": "https://x", "subject": "s", "audiences": []}]}),
     {"AzureFederatedCredential": 1}),
    ("fic-arm.json", json.dumps({"name": "a", "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
                                 "properties": {"issuer": "https://x", "subject": "s", "audiences": ["api://AzureADTokenExchange"]}}),
     {"AzureFederatedCredential": 1}),
    ("ra-rest.json", json.dumps({"value": [{"id": "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/1",
                                            "properties": {"principalId": "p", "scope": "/subscriptions/s",
                                                           "roleDefinitionId": "/x/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"}}]}),
     {"AzureRoleAssignment": 1}),
    ("identity.json", json.dumps({"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "clientId": "c",
                                  "principalId": "p", "id": "/subscriptions/s/x", "name": "n"}), {"AzureManagedIdentity": 1}),
    ("provider.yaml", "name: projects/1/locations/global/workloadIdentityPools/p/providers/q\noidc: {issuerUri: https://x}\n",
     {"GcpProvider": 1}),
    ("providers.json", json.dumps({"workloadIdentityPoolProviders": [
        {"name": "projects/1/locations/global/workloadIdentityPools/p/providers/q", "oidc": {}}]}), {"GcpProvider": 1}),
    ("policy.json", json.dumps({"bindings": [{"role": "roles/viewer", "members": ["user:a@b.c"]}], "etag": "x"}),
     {"GcpIamPolicy": 1}),
    ("cred.json", json.dumps({"type": "external_account", "audience": "//iam.googleapis.com/x"}), {"GcpExternalAccount": 1}),
    ("k8s.yaml", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ServiceAccount, metadata: {name: a}}\n"
                 "- {apiVersion: batch/v1, kind: CronJob, metadata: {name: c}, spec: {jobTemplate: {spec: {template: "
                 "{spec: {containers: []}}}}}}\n- {apiVersion: v1, kind: Service, metadata: {name: s}}\n",
     {"ServiceAccount": 1, "Workload": 1}),
    ("unrelated.yaml", "services:\n  web:\n    image: nginx\n", {}),
])
def test_shapes_are_recognised_by_content(tmp_path, name, text, kinds):
    inv = _load(tmp_path, name, text)
    assert inv.problems == []
    assert _kinds(inv) == kinds


def test_positions_of_keys_and_values(tmp_path):
    inv = _load(tmp_path, "sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n"
                                     "  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::1:role/x\n")
    sa = inv.of(ServiceAccount)[0]
    loc = sa.src.loc("metadata", "annotations", "eks.amazonaws.com/role-arn")
    assert (loc.span.line, loc.span.col, loc.span.end_col) == (6, 33, 54)
    assert loc.pointer == "/metadata/annotations/eks.amazonaws.com~1role-arn"
    key = sa.src.loc("metadata", "annotations", "eks.amazonaws.com/role-arn", key=True)
    assert (key.span.line, key.span.col) == (6, 5)


def test_configmap_external_account_positions_map_into_the_manifest(tmp_path):
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: prod}\ndata:\n  config.json: |\n"
            "    {\n      \"type\": \"external_account\",\n      \"credential_source\": {\"file\": \"/t\"}\n    }\n")
    inv = _load(tmp_path, "cm.yaml", text)
    cfg = inv.of(GcpExternalAccount)[0]
    assert cfg.holder == "configmap prod/cfg key config.json"
    loc = cfg.src.loc("credential_source", "file")
    assert (loc.span.line, loc.span.col) == (8, 37)
    assert loc.pointer == "/data/config.json/credential_source/file"
    assert inv.of(ConfigMap)


def test_url_encoded_policy_points_at_the_string(tmp_path):
    doc = {"RoleDetailList": [{"RoleName": "a", "AssumeRolePolicyDocument": urllib.parse.quote(json.dumps(TRUST))}]}
    inv = _load(tmp_path, "authz.json", json.dumps(doc, indent=1))
    role = inv.of(AwsRole)[0]
    loc = role.trust.src.loc("Statement", 0, "Principal")
    assert loc.span.line == 5  # the line holding the encoded string


@pytest.mark.parametrize("content,reason,line", [
    (b"a: [1, 2\n", "syntax", 2),
    (b"\x00\x01binary", "binary", 1),
    (b"name: caf\xe9\n", "encoding", 1),
    (b"spec:\n{{- if .Values.x }}\n  a: 1\n{{- end }}\n", "template", 2),
    (b"etag: %ETAG%\n", "template", 1),
    (b"Resources:\n  R:\n    Properties: {Name: !Ref X}\n", "unknown-tag", 3),
    (b'{"Version": "2012-10-17", "Statement": "nope"}', "shape", 1),
    (b"apiVersion: v1\nkind: ServiceAccount\nmetadata: [1]\n", "shape", 3),
])
def test_bad_input_becomes_a_positioned_problem(tmp_path, content, reason, line):
    (tmp_path / "f.yaml").write_bytes(content)
    files, _ = discover((str(tmp_path),))
    inv = load_files(files)
    assert [p.reason for p in inv.problems] == [reason]
    assert inv.problems[0].location.span.line == line


def test_size_cap(tmp_path):
    (tmp_path / "big.json").write_text("[" + "1," * 100 + "1]")
    files, _ = discover((str(tmp_path),))
    inv = load_files(files, size_cap=50)
    assert [p.reason for p in inv.problems] == ["too-large"]


def test_alias_expansion_is_shared_not_copied(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 30):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    files, _ = discover((str(tmp_path),))
    inv = load_files(files)  # would never finish if aliases were expanded
    assert inv.problems == []


def test_one_broken_document_does_not_hide_the_others(tmp_path):
    inv = _load(tmp_path, "multi.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n---\n"
                                        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: [}\n")
    assert [s.name for s in inv.of(ServiceAccount)] == ["a"]
    assert [p.reason for p in inv.problems] == ["syntax"]


def test_unused_imports_are_real_types():
    assert all(isinstance(t, type) for t in (AwsOidcProvider, AwsPolicyDocument, AzureFederatedCredential,
                                              AzureManagedIdentity, AzureRoleAssignment, GcpIamPolicy, GcpProvider,
                                              Secret, Workload))


def test_valid_json_that_yaml_cannot_read_falls_back_to_json(tmp_path):
    # libyaml limits implicit keys to 1024 characters; JSON has no such limit
    key = "k" * 1100
    inv = _load(tmp_path, "long.json", json.dumps({"Version": "2012-10-17", key: 1, "Statement": TRUST["Statement"]}))
    assert inv.problems == []
    assert len(inv.of(AwsRole)) == 1
    loc = inv.of(AwsRole)[0].trust.src.loc("Statement", 0)
    assert loc.pointer == "/Statement/0" and loc.span.line == 1  # pointer-only: the position is the file start


def test_standard_input(tmp_path, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(TRUST).encode())))
    files, missing = discover(("-",))
    inv = load_files(files)
    assert [f.display for f in files] == ["<stdin>"] and not missing
    assert len(inv.of(AwsRole)) == 1


def test_utf16_with_byte_order_mark_is_read(tmp_path):
    # `az ... > file.json` in Windows PowerShell 5 writes UTF-16LE with a BOM
    (tmp_path / "ps.json").write_bytes(json.dumps(TRUST, indent=2).encode("utf-16"))
    files, _ = discover((str(tmp_path),))
    inv = load_files(files)
    assert inv.problems == [] and len(inv.of(AwsRole)) == 1
    assert inv.of(AwsRole)[0].trust.src.loc("Statement", 0, "Action").span.line == 9
