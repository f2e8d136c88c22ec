"""X001, X004 and X005 beyond their fixtures: related locations, a configured cluster issuer, and the
escalator's contract (it changes only the findings it escalates, and `--ignore X005` turns it off)."""

from __future__ import annotations

import json
from pathlib import Path

from msgspec.structs import replace

from xfedlint import api, engine, registry
from xfedlint.checks.base import CheckContext
from xfedlint.checks.xfed_aws import weak_trust_privileged_target
from xfedlint.findings import Finding
from xfedlint.loaders import load_files
from xfedlint.loaders.files import discover
from xfedlint.model.location import Location, Span

FIXTURES = Path(__file__).parent / "fixtures"


def _related(f: Finding) -> list[tuple[str, int, int, str]]:
    return [(r.location.file, r.location.span.line, r.location.span.col, r.message) for r in f.related]


def _only(result, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule == rule]


class _Clusters:
    """What the engine reads from a configuration: the issuer of the cluster a manifest belongs to."""

    def __init__(self, issuer: str):
        self.issuer = issuer

    def cluster_issuer(self, file: str) -> str | None:
        return self.issuer if file.endswith(".yaml") else None


def _run(folder: Path, monkeypatch, rule_ids: tuple, config=None):
    monkeypatch.chdir(folder)
    files, _missing = discover((".",))
    rules = registry.select(registry.load_rules(), rule_ids, ())
    return engine.run(load_files(files), rules, config=config)


# ---- X001 ----------------------------------------------------------------------------------------------


def test_x001_points_at_the_trust_and_relates_the_annotation_and_the_pod(monkeypatch):
    monkeypatch.chdir(FIXTURES / "X001" / "fail-other-namespace")
    [f] = _only(api.scan((".",), select=("X001",)), "X001")
    assert (f.location.file, f.location.span.line, f.location.span.col) == ("get-role.json", 19, 91)
    assert _related(f) == [
        ("scenario.yaml", 8, 33, "service account default/eks-cross-cloud-sa names the role "
                                 "(`eks.amazonaws.com/role-arn`)"),
        ("scenario.yaml", 10, 1, "pod default/eks-aws-test runs as this service account"),
    ]


def test_x001_for_a_pods_own_role_arn_relates_the_env_value_and_the_service_account(monkeypatch):
    monkeypatch.chdir(FIXTURES / "X001" / "fail-pod-role-for-other-cluster")
    [f] = _only(api.scan((".",), select=("X001",)), "X001")
    assert _related(f) == [
        ("scenario.yaml", 25, 18, "pod default/aks-aws-test sets `AWS_ROLE_ARN` to this role"),
        ("scenario.yaml", 3, 1, "service account default/aks-cross-cloud-sa, which the pod runs as"),
    ]


def test_x001_with_a_configured_issuer_names_a_trailing_slash_near_miss(monkeypatch, tmp_path):
    """The cluster's issuer comes from the configuration; the role trusts the same AKS issuer without its
    trailing slash, which IAM treats as another provider."""
    case = FIXTURES / "X001" / "pass-pod-role-for-this-cluster"
    for name in ("scenario.yaml", "get-role.json"):
        (tmp_path / name).write_text((case / name).read_text())
    role = tmp_path / "get-role.json"
    role.write_text(role.read_text().replace("8c1e5a3f-2b7d-4c9e-a6f0-1d3b5e7c9a24/", "8c1e5a3f-2b7d-4c9e-a6f0-1d3b5e7c9a24"))
    issuer = "https://eastus2.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/8c1e5a3f-2b7d-4c9e-a6f0-1d3b5e7c9a24/"
    result = _run(tmp_path, monkeypatch, ("X001",), _Clusters(issuer))
    [f] = _only(result, "X001")
    assert f.location.file == "get-role.json" and f.location.span.line == 14
    assert f"for the cluster's issuer `{issuer}` (from the configuration)" in f.message
    assert "only by the trailing slash" in f.message
    # the same inputs without the configuration: the issuer is unknown, the subject still matches
    assert _only(_run(tmp_path, monkeypatch, ("X001",)), "X001") == []


def test_x001_with_a_configured_issuer_judges_only_that_issuers_statements(monkeypatch, tmp_path):
    """Two statements, one per cluster: only the configured cluster's statement decides the subject."""
    case = FIXTURES / "X001" / "fail-other-namespace"
    (tmp_path / "scenario.yaml").write_text((case / "scenario.yaml").read_text())
    doc = json.loads((case / "get-role.json").read_text())
    stmt = doc["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    other = json.loads(json.dumps(stmt).replace("EXAMPLED539D4633E53DE1B71EXAMPLE", "0THERC1USTER")
                       .replace("staging", "default"))
    doc["Role"]["AssumeRolePolicyDocument"]["Statement"].append(other)
    (tmp_path / "get-role.json").write_text(json.dumps(doc, indent=2))
    # unknown issuer: the second statement admits the subject, so nothing is reported
    assert _only(_run(tmp_path, monkeypatch, ("X001",)), "X001") == []
    issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    [f] = _only(_run(tmp_path, monkeypatch, ("X001",), _Clusters(issuer)), "X001")
    assert "system:serviceaccount:staging:eks-cross-cloud-sa" in f.message
    assert "not known" not in f.message


# ---- X004 ----------------------------------------------------------------------------------------------


def test_x004_relates_every_other_admitted_service_account(monkeypatch):
    monkeypatch.chdir(FIXTURES / "X004" / "fail-aws-namespace-pattern")
    [f] = _only(api.scan((".",), select=("X004",)), "X004")
    assert (f.location.file, f.location.span.line, f.location.span.col) == ("get-role.json", 19, 91)
    assert _related(f) == [
        ("manifests.yaml", 10, 1, "service account prod/debug is admitted too"),
        ("manifests.yaml", 16, 1, "service account prod/worker (deployment prod/worker runs as it) is admitted too"),
    ]
    assert "stage/api" not in f.message  # another namespace: not admitted


def test_x004_gcp_relates_the_other_service_accounts_of_the_namespace(monkeypatch):
    monkeypatch.chdir(FIXTURES / "X004" / "fail-gcp-namespace-attribute")
    [f] = _only(api.scan((".",), select=("X004",)), "X004")
    assert _related(f) == [("scenario.yaml", 84, 1, "service account default/nightly-batch is admitted too")]
    assert "analytics/reporting" not in f.message  # the provider admits `analytics`, the binding does not


def test_x004_skips_service_accounts_of_another_known_cluster(monkeypatch, tmp_path):
    case = FIXTURES / "X004" / "fail-aws-namespace-pattern"
    for name in ("manifests.yaml", "get-role.json"):
        (tmp_path / name).write_text((case / name).read_text())
    result = _run(tmp_path, monkeypatch, ("X004",), _Clusters("https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER"))
    assert _only(result, "X004") == []


# ---- X005 ----------------------------------------------------------------------------------------------


def test_x005_escalates_in_place_and_leaves_other_findings_untouched(monkeypatch):
    case = FIXTURES / "X005" / "fail-aws-admin-behind-namespace-pattern"
    monkeypatch.chdir(case)
    with_x005 = api.scan((".",), select=("AWS004", "PERM001", "X005"))
    without = api.scan((".",), select=("AWS004", "PERM001"))
    assert [f.rule for f in with_x005.findings] == [f.rule for f in without.findings]  # nothing added
    assert not _only(with_x005, "X005")
    changed = [(a, b) for a, b in zip(without.findings, with_x005.findings, strict=True) if a != b]
    [(before, after)] = changed
    assert (before.rule, before.severity, after.severity) == ("AWS004", "warning", "error")
    assert after.message == before.message + (" [X005: role arn:aws:iam::111122223333:role/app also has "
                                              "`AdministratorAccess` attached]")
    assert after.fingerprint == before.fingerprint and after.location == before.location
    assert _related(after)[-1] == ("authorization-details.json", 36, 34, "PERM001: `AdministratorAccess` attached "
                                                                         "(X005 raised this finding to error)")


def test_ignoring_x005_disables_escalation(monkeypatch, run_cli):
    case = FIXTURES / "X005" / "fail-aws-admin-behind-namespace-pattern"
    monkeypatch.chdir(case)
    result = api.scan((".",), ignore=("X005",))
    assert {(f.rule, f.severity) for f in result.findings if f.rule == "AWS004"} == {("AWS004", "warning")}
    assert not any("X005" in f.message for f in result.findings)
    _code, out, _err = run_cli("scan", ".", "--format", "json", "--fail-on", "never", "--ignore", "X005", cwd=case)
    aws004 = [f for f in json.loads(out)["findings"] if f["rule"] == "AWS004"]
    assert [f["severity"] for f in aws004] == ["warning", "warning"]
    _code, out, _err = run_cli("scan", ".", "--format", "json", "--fail-on", "never", cwd=case)
    aws004 = [f for f in json.loads(out)["findings"] if f["rule"] == "AWS004"]
    assert [f["severity"] for f in aws004] == ["error", "warning"]


def test_weak_trust_without_admin_stays_a_warning(monkeypatch):
    monkeypatch.chdir(FIXTURES / "X005" / "pass-aws-weak-trust-without-admin")
    [f] = _only(api.scan((".",)), "AWS004")
    assert f.severity == "warning" and "X005" not in f.message


def _aws003_role(tmp_path: Path, operator: str) -> Path:
    """A role with AdministratorAccess whose `:sub` key names another cluster under `operator`."""
    src = FIXTURES / "X005" / "fail-aws-admin-behind-namespace-pattern" / "authorization-details.json"
    doc = json.loads(src.read_text())
    doc["RoleDetailList"] = doc["RoleDetailList"][:1]
    cond = doc["RoleDetailList"][0]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    cond.pop("StringLike")
    cond[operator] = {"oidc.eks.us-east-1.amazonaws.com/id/ANOTHERCLUSTER:sub": "system:serviceaccount:prod:app"}
    (tmp_path / "authorization-details.json").write_text(json.dumps(doc, indent=2))
    return tmp_path


def test_x005_escalates_a_key_mismatch_that_fails_open(monkeypatch, tmp_path):
    monkeypatch.chdir(_aws003_role(tmp_path, "StringLikeIfExists"))
    [f] = _only(api.scan((".",), select=("AWS003", "PERM001", "X005")), "AWS003")
    assert f.severity == "error" and "(fails open)" in f.message and "[X005: role " in f.message


def test_x005_does_not_escalate_a_key_mismatch_that_makes_the_role_unusable(monkeypatch, tmp_path):
    monkeypatch.chdir(_aws003_role(tmp_path, "StringEquals"))
    [f] = _only(api.scan((".",), select=("AWS003", "PERM001", "X005")), "AWS003")
    assert "(unusable)" in f.message and "X005" not in f.message


def test_x005_post_check_on_unrelated_findings_returns_them_unchanged(monkeypatch):
    monkeypatch.chdir(FIXTURES / "X005" / "fail-aws-admin-behind-namespace-pattern")
    files, _ = discover((".",))
    ctx = CheckContext(load_files(files), registry.load_rules()["X005"].params)
    loc = Location("elsewhere.json", Span(1, 1, 1, 2))
    admin = "arn:aws:iam::111122223333:role/admin"
    findings = [Finding("AWS004", "aws-oidc-sub-overbroad-pattern", "warning", "m", loc, resource="arn:aws:iam::1:role/x"),
                Finding("AWS004", "aws-oidc-sub-overbroad-pattern", "note", "m", loc, resource=admin),
                Finding("AWS002", "aws-oidc-trust-no-aud", "warning", "m", loc, resource=admin),
                Finding("K8S006", "k8s-token-long-lived", "note", "n", loc, resource="Pod/a/b"),
                Finding("PERM001", "perm-aws-admin-equivalent", "error", "p", loc, resource=admin)]
    # another role's weak trust, a note, and a rule X005 does not escalate all stay as they are
    assert weak_trust_privileged_target(list(findings), ctx) == findings
    escalated = weak_trust_privileged_target(findings + [replace(findings[0], resource=admin)], ctx)
    assert escalated[:5] == findings and escalated[5].severity == "error"


def test_x001_never_judges_an_unrendered_subject(monkeypatch, tmp_path):
    case = FIXTURES / "X001" / "fail-other-namespace"
    (tmp_path / "scenario.yaml").write_text((case / "scenario.yaml").read_text())
    role = (case / "get-role.json").read_text().replace("system:serviceaccount:staging:", "system:serviceaccount:${namespace}:")
    (tmp_path / "get-role.json").write_text(role)
    assert _only(_run(tmp_path, monkeypatch, ("X001",)), "X001") == []


def test_x004_lists_at_most_max_listed_pairs(monkeypatch):
    monkeypatch.chdir(FIXTURES / "X004" / "fail-aws-namespace-pattern")
    [f] = _only(api.scan((".",), select=("X004",), params={"X004": {"max_listed": 1}}), "X004")
    assert "prod/api (uses this role), prod/debug and 1 more;" in f.message
    assert "any pod running as prod/debug and 1 more can assume it" in f.message
    assert len(f.related) == 1
