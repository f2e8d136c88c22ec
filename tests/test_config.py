"""The configuration (.xfedlint.yaml / [tool.xfedlint]): discovery, every section applied through the real CLI,
validation errors that name the key and its line, `xfedlint init`, and the command line overriding the file.

Expected lines and columns are computed from the config text itself (`_pos`), never copied from the tool.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from samples import BAD_TRUST

from xfedlint import registry
from xfedlint.checks import CHECKS
from xfedlint.checks.base import Check
from xfedlint.config import STARTER, Cluster, Config, find_config, load_config, path_matches, read_config
from xfedlint.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent


# AWS020 (warning): a custom audience instead of sts.amazonaws.com; nothing else fires.
CUSTOM_AUD_TRUST = """{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "custom-aud",
                                   "oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:prod:app"}}
  }
}
"""

# GCP019 (warning) at project level; at bucket level the grant is resource-scoped and GCP019 is silent.
STORAGE_POLICY = """{
  "bindings": [
    {"role": "roles/storage.admin",
     "members": ["principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p/attribute.repository/org/repo"]}
  ],
  "etag": "BwX1",
  "version": 1
}
"""


def _pos(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based line and column of the nth occurrence of `needle` in `text`."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _findings(out: str) -> list[tuple[str, str, str]]:
    """The active findings (per-path ignores suppress them: tests/test_suppressions.py covers how)."""
    return sorted((f["rule"], f["file"], f["severity"]) for f in json.loads(out)["findings"] if not f["suppressed"])


def _write(folder: Path, files: dict) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def _error(run_cli, cwd: Path, *args: str) -> str:
    code, out, err = run_cli("scan", "--format", "json", *args, cwd=cwd)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # one line, no traceback
    return lines[0]


# --- discovery ----------------------------------------------------------------------------------------------


def test_no_config_gives_the_defaults(tmp_path):
    cfg = load_config(None, tmp_path)
    assert cfg.source is None and cfg == Config(root=str(tmp_path))
    assert cfg.fail_on == "warning" and cfg.size_cap == 10 * 1024 * 1024 and not cfg.kubernetes_inventory_complete


def test_discovery_order(tmp_path):
    top = _write(tmp_path, {".xfedlint.yaml": "fail-on: error\n", "a/b/c/.keep": ""})
    deep = top / "a" / "b" / "c"
    assert load_config(None, deep).source == str(top / ".xfedlint.yaml")  # the nearest parent
    # a pyproject.toml without [tool.xfedlint] is passed over; with it, the nearer folder wins
    _write(top, {"a/pyproject.toml": '[project]\nname = "xfedlint-user"\n[project.scripts]\nxfedlint = "x:y"\n'})
    assert load_config(None, deep).source == str(top / ".xfedlint.yaml")
    (top / "a" / "pyproject.toml").write_text('[project]\nname = "p"\n\n[tool.xfedlint]\nfail-on = "note"\n')
    cfg = load_config(None, deep)
    assert cfg.source == str(top / "a" / "pyproject.toml") and cfg.fail_on == "note"
    # in one folder, .xfedlint.yaml comes before .xfedlint.yml and pyproject.toml
    _write(top, {"a/.xfedlint.yml": "fail-on: never\n"})
    assert load_config(None, deep).fail_on == "never"
    _write(top, {"a/.xfedlint.yaml": "fail-on: warning\n"})
    assert load_config(None, deep).source == str(top / "a" / ".xfedlint.yaml")
    # --config wins over everything found
    _write(tmp_path, {"elsewhere/custom.yaml": "fail-on: error\n"})
    cfg = load_config(str(tmp_path / "elsewhere" / "custom.yaml"), deep)
    assert cfg.source == str(tmp_path / "elsewhere" / "custom.yaml") and cfg.root == str(tmp_path / "elsewhere")
    assert find_config(tmp_path / "elsewhere") == top / ".xfedlint.yaml"


def test_missing_explicit_config_is_a_usage_error(run_cli, tmp_path):
    _write(tmp_path, {"trust.json": BAD_TRUST})
    line = _error(run_cli, tmp_path, "--config", "nope.yaml")
    assert line == "xfedlint: nope.yaml: configuration file not found"


def test_empty_config_file_is_the_defaults(tmp_path):
    _write(tmp_path, {".xfedlint.yaml": "# nothing yet\n"})
    cfg = load_config(None, tmp_path)
    assert cfg.source == str(tmp_path / ".xfedlint.yaml") and cfg.select == () and cfg.fail_on == "warning"


def test_config_found_in_a_parent_applies_from_a_subfolder(run_cli, tmp_path):
    _write(tmp_path, {".xfedlint.yaml": "ignore: [AWS019]\nper-path-ignores:\n  'k8s/*.json': [AWS001]\n",
                      "k8s/trust.json": BAD_TRUST, "sub/.keep": ""})
    code, out, _ = run_cli("scan", "..", "--format", "json", cwd=tmp_path / "sub")
    assert _findings(out) == [] and code == 0  # globs are relative to the config's folder, not the working one
    code, out, _ = run_cli("scan", "..", "--format", "json", "--ignore", "AWS001", cwd=tmp_path / "sub")
    assert _findings(out) == [("AWS019", "../k8s/trust.json", "error")]


def test_pyproject_tool_table(run_cli, tmp_path):
    _write(tmp_path, {"pyproject.toml": '[project]\nname = "p"\n\n[tool.xfedlint]\nselect = ["AWS019"]\n'
                                        'fail-on = "never"\n\n[tool.xfedlint.severity]\nAWS019 = "note"\n',
                      "trust.json": BAD_TRUST})
    code, out, _ = run_cli("scan", "--format", "json", cwd=tmp_path)
    assert code == 0 and _findings(out) == [("AWS019", "trust.json", "note")]


def test_the_config_file_is_not_an_input(run_cli, tmp_path):
    _write(tmp_path, {".xfedlint.yaml": "fail-on: error\n", "config.yaml": "fail-on: error\n"})
    code, out, _ = run_cli("scan", ".", "--format", "json", "--config", "config.yaml", cwd=tmp_path)
    assert json.loads(out)["summary"]["files_read"] == 1  # .xfedlint.yaml is read as input; config.yaml is not
    code, out, err = run_cli("scan", "--format", "json", cwd=tmp_path)
    assert json.loads(out)["summary"]["files_read"] == 1


# --- every section, end to end through the CLI ----------------------------------------------------------------


def test_select_and_ignore(run_cli, tmp_path):
    _write(tmp_path, {"trust.json": BAD_TRUST, ".xfedlint.yaml": "select: [aws019]\n"})
    assert _findings(run_cli("scan", "--format", "json", cwd=tmp_path)[1]) == [("AWS019", "trust.json", "error")]
    (tmp_path / ".xfedlint.yaml").write_text("select: [AWS]\nignore: [AWS019]\n")
    got = _findings(run_cli("scan", "--format", "json", cwd=tmp_path)[1])
    assert ("AWS001", "trust.json", "error") in got and not [g for g in got if g[0] == "AWS019"]


def test_per_path_ignores(run_cli, tmp_path):
    _write(tmp_path, {"legacy/trust.json": BAD_TRUST, "current/trust.json": BAD_TRUST, ".xfedlint.yaml":
                      'select: [AWS001, AWS019]\nper-path-ignores:\n  "legacy/*.json": [AWS019]\n  vendor: [AWS]\n'})
    code, out, _ = run_cli("scan", "--format", "json", cwd=tmp_path)
    assert _findings(out) == [("AWS001", "current/trust.json", "error"), ("AWS001", "legacy/trust.json", "error"),
                              ("AWS019", "current/trust.json", "error")]


def test_per_path_ignore_of_xf001_suppresses_it_and_drops_the_load_problem(run_cli, tmp_path):
    _write(tmp_path, {"broken/a.yaml": "a: [1, 2\n", "trust.json": CUSTOM_AUD_TRUST,
                      ".xfedlint.yaml": "per-path-ignores:\n  broken: [XF001]\n"})
    code, out, _ = run_cli("scan", "--format", "json", "--strict", "--fail-on", "error", cwd=tmp_path)
    doc = json.loads(out)
    assert code == 0 and doc["problems"] == [] and ("AWS020", "trust.json", "warning") in _findings(out)
    assert [(f["file"], f["suppressed"]) for f in doc["findings"] if f["rule"] == "XF001"] == [("broken/a.yaml", True)]


def test_severity_overrides_change_the_exit_code(run_cli, tmp_path):
    _write(tmp_path, {"trust.json": BAD_TRUST, ".xfedlint.yaml": "severity:\n  AWS001: note\n  aws019: warning\n"})
    code, out, _ = run_cli("scan", "--format", "json", "--select", "AWS001,AWS019", "--fail-on", "error",
                           cwd=tmp_path)
    assert code == 0
    assert _findings(out) == [("AWS001", "trust.json", "note"), ("AWS019", "trust.json", "warning")]


def test_params_replace_the_rule_defaults(run_cli, tmp_path):
    _write(tmp_path, {"trust.json": CUSTOM_AUD_TRUST})
    code, out, _ = run_cli("scan", "--format", "json", "--select", "AWS020", cwd=tmp_path)
    assert code == 1 and _findings(out) == [("AWS020", "trust.json", "warning")]
    _write(tmp_path, {".xfedlint.yaml": "params:\n  AWS020:\n    expected_audiences: [sts.amazonaws.com, custom-aud]\n"})
    code, out, _ = run_cli("scan", "--format", "json", "--select", "AWS020", cwd=tmp_path)
    assert code == 0 and _findings(out) == []


def test_policy_levels(run_cli, tmp_path):
    _write(tmp_path, {"iam/policy.json": STORAGE_POLICY})
    assert _findings(run_cli("scan", "--format", "json", "--select", "GCP019", cwd=tmp_path)[1]) == [
        ("GCP019", "iam/policy.json", "warning")]
    _write(tmp_path, {".xfedlint.yaml": 'gcp:\n  policy-levels:\n    "iam/*.json": bucket\n'})
    assert _findings(run_cli("scan", "--format", "json", "--select", "GCP019", cwd=tmp_path)[1]) == []
    # relative to the config's folder, also when the scan runs from elsewhere
    _write(tmp_path, {"elsewhere/.keep": ""})
    assert _findings(run_cli("scan", "../iam", "--format", "json", "--select", "GCP019", "--config",
                             "../.xfedlint.yaml", cwd=tmp_path / "elsewhere")[1]) == []


@pytest.fixture
def spy(monkeypatch):
    """Replace AWS020's check with one that records the config each run hands to the checks."""
    seen: list = []
    key = registry.load_rules()["AWS020"].check

    def record(ctx):
        seen.append(ctx.config)
        return iter(())

    monkeypatch.setitem(CHECKS, key, Check(record, None))
    return seen


def test_clusters_and_inventory_completeness_reach_the_checks(run_cli, tmp_path, spy):
    _write(tmp_path, {"k8s/prod/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\n",
                      "k8s/dev/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\n",
                      ".xfedlint.yaml": "clusters:\n"
                                        "  - name: prod\n    issuer: https://oidc.example/prod/\n"
                                        "    paths: [k8s/prod]\n"
                                        "  - name: all\n    issuer: https://oidc.example/all\n    paths: ['*.yaml']\n"
                                        "kubernetes-inventory-complete: true\n"})
    code, _, _ = run_cli("scan", "--select", "AWS020", cwd=tmp_path)
    assert code == 0 and len(spy) == 1
    cfg = spy[0]
    assert cfg.kubernetes_inventory_complete is True
    assert cfg.clusters == (Cluster("prod", "https://oidc.example/prod/", ("k8s/prod",)),
                            Cluster("all", "https://oidc.example/all", ("*.yaml",)))
    assert cfg.cluster_issuer("k8s/prod/sa.yaml") == "https://oidc.example/prod/"
    assert cfg.cluster_issuer("k8s/dev/sa.yaml") == "https://oidc.example/all"  # the first match wins
    assert cfg.cluster_for("k8s/dev/sa.yaml").name == "all"
    assert cfg.cluster_issuer("trust.json") is None and cfg.cluster_issuer("<stdin>") is None


def test_cluster_issuer_is_relative_to_the_config_folder(tmp_path, monkeypatch):
    _write(tmp_path, {".xfedlint.yaml": "clusters:\n  - {name: a, issuer: 'https://a', paths: ['k8s/**']}\n",
                      "k8s/x/sa.yaml": "", "tools/.keep": ""})
    cfg = load_config(None, tmp_path)
    monkeypatch.chdir(tmp_path / "tools")
    assert cfg.cluster_issuer("../k8s/x/sa.yaml") == "https://a"  # a display path from another working folder
    assert cfg.cluster_issuer("k8s/x/sa.yaml") is None  # that would be tools/k8s/x/sa.yaml


def test_fail_on_from_the_config_and_from_the_command_line(run_cli, tmp_path):
    _write(tmp_path, {"trust.json": CUSTOM_AUD_TRUST, ".xfedlint.yaml": "fail-on: error\n"})
    assert run_cli("scan", "--select", "AWS020", cwd=tmp_path)[0] == 0  # a warning, below `error`
    assert run_cli("scan", "--select", "AWS020", "--fail-on", "warning", cwd=tmp_path)[0] == 1


def test_exclude_is_added_to_the_command_line_excludes(run_cli, tmp_path):
    _write(tmp_path, {"vendor/trust.json": BAD_TRUST, "legacy/trust.json": BAD_TRUST, "live/trust.json": BAD_TRUST,
                      ".xfedlint.yaml": "exclude: [vendor]\n"})
    code, out, _ = run_cli("scan", "--format", "json", "--select", "AWS019", cwd=tmp_path)
    assert [f[1] for f in _findings(out)] == ["legacy/trust.json", "live/trust.json"]
    code, out, _ = run_cli("scan", "--format", "json", "--select", "AWS019", "--exclude", "legacy", cwd=tmp_path)
    assert [f[1] for f in _findings(out)] == ["live/trust.json"]
    # from a subfolder, the config's globs still mean paths below the config's folder
    code, out, _ = run_cli("scan", "..", "--format", "json", "--select", "AWS019", cwd=tmp_path / "live")
    assert [f[1] for f in _findings(out)] == ["../legacy/trust.json", "trust.json"]


def test_size_cap(run_cli, tmp_path):
    _write(tmp_path, {"trust.json": BAD_TRUST, ".xfedlint.yaml": "size-cap: 100\n"})
    code, out, _ = run_cli("scan", "--format", "json", cwd=tmp_path)
    doc = json.loads(out)
    assert [f["rule"] for f in doc["findings"]] == ["XF001"] and "size cap" in doc["findings"][0]["message"]


def test_command_line_select_and_ignore_replace_the_config(run_cli, tmp_path):
    _write(tmp_path, {"trust.json": BAD_TRUST, ".xfedlint.yaml": "select: [AWS019]\n"})
    assert _findings(run_cli("scan", "--format", "json", "--select", "AWS001", cwd=tmp_path)[1]) == [
        ("AWS001", "trust.json", "error")]
    (tmp_path / ".xfedlint.yaml").write_text("select: [AWS001, AWS019]\nignore: [AWS019]\n")
    got = run_cli("scan", "--format", "json", "--ignore", "AWS001", cwd=tmp_path)[1]
    assert _findings(got) == [("AWS019", "trust.json", "error")]


# --- errors: one line, the file, the line and column, the key ----------------------------------------------------


@pytest.mark.parametrize("text,needle,nth,message", [
    ("select: [AWS]\nclusters:\n  - name: prod\n    paths: [k8s]\n    issuer: http://oidc.example\n",
     "http://oidc.example", 0, "clusters[0].issuer must be an https:// URL"),
    ("fail-on: warn\n", "warn", 0, "fail-on must be one of error, warning, note, never, not 'warn'; did you mean "
                                   "`warning`?"),
    ("select: AWS\n", "AWS", 0, "select must be a list, not a string"),
    ("gcp:\n  policy-levels:\n    'a/*.json': projekt\n", "projekt", 0,
     'gcp.policy-levels."a/*.json" must be one of organization, folder, project, service-account, bucket'),
    ("size-cap: 0\n", "0", 0, "size-cap must be at least 1, not 0"),
    ("kubernetes-inventory-complete: 'yes'\n", "'yes'", 0, "kubernetes-inventory-complete must be true or false"),
    ("clusters:\n  - name: a\n    issuer: https://a\n", "name", 0, "clusters[0] needs `paths`"),
    ("clusters:\n  - {name: a, issuer: 'https://a', paths: []}\n", "[]", 0, "clusters[0].paths must not be empty"),
    ("clusters:\n  - {name: a, issuer: 'https://a', paths: [x]}\n  - {name: a, issuer: 'https://b', paths: [y]}\n",
     "a, issuer: 'https://b'", 0, "clusters[1].name: `a` is already the name of clusters[0]"),
    ("select: [AWS]\nselect: [GCP]\n", "select", 1, "select is given twice"),
    ("per-path-ignores:\n  legacy: [AWS-1]\n", "AWS-1", 0, "per-path-ignores.legacy[0] must be a rule ID or prefix"),
    ("severity:\n  AWS01: note\n", "AWS01", 0, "severity key `AWS01` must be a rule ID such as AWS001"),
    ("- select\n", "- select", 0, "the configuration must be a mapping, not a list"),
    ("select: [AWS\n", "", 0, "YAML syntax error"),
])
def test_errors_name_the_key_and_its_line(run_cli, tmp_path, text, needle, nth, message):
    _write(tmp_path, {".xfedlint.yaml": text, "trust.json": BAD_TRUST})
    line = _error(run_cli, tmp_path)
    if needle:
        ln, col = _pos(text, needle, nth)
        assert line.startswith(f"xfedlint: .xfedlint.yaml:{ln}:{col}: "), line
    else:
        assert re.match(r"xfedlint: \.xfedlint\.yaml:\d+:\d+: ", line), line
    assert message in line, line


@pytest.mark.parametrize("text,needle,message", [
    ("sevrity:\n  AWS001: note\n", "sevrity", "unknown key `sevrity`; did you mean `severity`?"),
    ("clusters:\n  - name: a\n    issuer: https://a\n    pths: [k8s]\n", "pths",
     "unknown key `clusters[0].pths`; did you mean `paths`?"),
    ("gcp:\n  policy_levels: {}\n", "policy_levels", "unknown key `gcp.policy_levels`; did you mean `policy-levels`?"),
    ("fail_on: error\n", "fail_on", "unknown key `fail_on`; did you mean `fail-on`?"),
    ("colour: true\n", "colour", "unknown key `colour` (known keys here: `select`, `ignore`"),
])
def test_unknown_keys_suggest_the_known_one(run_cli, tmp_path, text, needle, message):
    _write(tmp_path, {".xfedlint.yaml": text, "trust.json": BAD_TRUST})
    ln, col = _pos(text, needle)
    line = _error(run_cli, tmp_path)
    assert line.startswith(f"xfedlint: .xfedlint.yaml:{ln}:{col}: ") and message in line, line


@pytest.mark.parametrize("text,needle,message", [
    ("select: [AWS, AWX001]\n", "AWX001", "select[1]: `AWX001` is not a rule ID or prefix; did you mean `AWS001`?"),
    ("ignore: [GCPP]\n", "GCPP", "ignore[0]: `GCPP` is not a rule ID or prefix; did you mean `GCP`?"),
    ("per-path-ignores:\n  legacy: [AWS999]\n", "AWS999", "per-path-ignores.legacy[0]: `AWS999` is not a rule ID"),
    ("severity:\n  AWS900: note\n", "AWS900", "severity: `AWS900` is not a rule ID; did you mean `"),
    ("params:\n  AWS020:\n    expected_audience: [x]\n", "expected_audience",
     "params.AWS020: AWS020 has no param `expected_audience`; did you mean `expected_audiences`?"),
    ("params:\n  AWS020:\n    expected_audiences: sts.amazonaws.com\n", "sts.amazonaws.com",
     "params.AWS020.expected_audiences: must be a list, like the default of AWS020, not a string"),
])
def test_rule_ids_and_params_are_checked_against_the_rules(run_cli, tmp_path, text, needle, message):
    _write(tmp_path, {".xfedlint.yaml": text, "trust.json": BAD_TRUST})
    ln, col = _pos(text, needle)
    line = _error(run_cli, tmp_path)
    assert line.startswith(f"xfedlint: .xfedlint.yaml:{ln}:{col}: ") and message in line, line


def test_pyproject_errors_name_the_tool_key_and_its_line(run_cli, tmp_path):
    text = ('[project]\nname = "p"\n\n[tool.xfedlint]\nselect = ["AWS"]\n\n[[tool.xfedlint.clusters]]\n'
            'name = "a"\nissuer = "https://a"\npaths = ["k8s"]\n\n[[tool.xfedlint.clusters]]\nname = "b"\n'
            'issuer = "http://b"\npaths = ["b"]\n')
    _write(tmp_path, {"pyproject.toml": text, "trust.json": BAD_TRUST})
    ln, col = _pos(text, 'issuer = "http://b"')
    line = _error(run_cli, tmp_path)
    assert line.startswith(f"xfedlint: pyproject.toml:{ln}:{col}: tool.xfedlint.clusters[1].issuer must be an "
                           "https:// URL"), line
    (tmp_path / "pyproject.toml").write_text(text.replace('select = ["AWS"]', 'selct = ["AWS"]')
                                             .replace("http://b", "https://b"))
    ln, col = _pos(text, 'select = ["AWS"]')
    line = _error(run_cli, tmp_path)
    assert line == (f"xfedlint: pyproject.toml:{ln}:{col}: unknown key `tool.xfedlint.selct`; "
                    "did you mean `select`?"), line
    (tmp_path / "pyproject.toml").write_text("[tool.xfedlint]\nselect = [\n")
    assert _error(run_cli, tmp_path).startswith("xfedlint: pyproject.toml: invalid TOML: ")


def test_a_broken_unrelated_pyproject_is_not_our_business(tmp_path):
    _write(tmp_path, {"pyproject.toml": "[project\nname = 1\n"})
    assert load_config(None, tmp_path).source is None


# --- xfedlint init ---------------------------------------------------------------------------------------------


def test_init_writes_a_valid_starter_and_refuses_to_overwrite(run_cli, tmp_path):
    code, out, _ = run_cli("init", cwd=tmp_path)
    written = tmp_path / ".xfedlint.yaml"
    assert code == 0 and written.read_text() == STARTER
    cfg = read_config(written)
    assert cfg.fail_on == "warning" and cfg.size_cap == 10 * 1024 * 1024 and cfg.clusters == ()
    written.write_text("fail-on: error\n")
    code, _, err = run_cli("init", cwd=tmp_path)
    assert code == 2 and "already exists" in err and written.read_text() == "fail-on: error\n"
    assert run_cli("init", "--force", cwd=tmp_path)[0] == 0 and written.read_text() == STARTER
    _write(tmp_path, {"trust.json": CUSTOM_AUD_TRUST})
    assert run_cli("scan", cwd=tmp_path)[0] == 1  # the starter config runs (AWS020 is a warning)


def test_init_examples_are_valid_once_uncommented(tmp_path):
    # indented comments are examples: uncommenting them all must still give a valid configuration
    text = re.sub(r"^([ \t]+)# ", r"\1", STARTER, flags=re.M)
    assert text != STARTER
    path = _write(tmp_path, {".xfedlint.yaml": text}) / ".xfedlint.yaml"
    cfg = read_config(path)
    cfg.check_rules(registry.load_rules())
    assert [c.name for c in cfg.clusters] == ["prod-eks", "prod-aks"] and cfg.severity == {"K8S011": "note"}
    assert cfg.per_path_ignores == {"legacy/**": ("AWS019",), "**/*-sandbox.json": ("GCP",)}
    assert cfg.policy_levels == {"iam/org-*.json": "organization", "iam/buckets/**": "bucket"}


def test_the_readme_example_is_valid(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    cfg = read_config(_write(tmp_path, {".xfedlint.yaml": example}) / ".xfedlint.yaml")
    cfg.check_rules(registry.load_rules())
    assert cfg.clusters[0].name == "prod" and cfg.exclude == ("vendor", "**/testdata/**")


# --- globs and cost --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rel,glob,hit", [
    ("k8s/prod/sa.yaml", "k8s/prod", True),  # a folder covers what is below it
    ("k8s/prod/sa.yaml", "k8s/prod/", True),
    ("k8s/prod/sa.yaml", "k8s/*.yaml", True),  # `*` crosses `/`
    ("k8s/prod/sa.yaml", "*.json", False),
    ("k8s/prod/sa.yaml", "prod", True),  # a glob without `/` matches a name at any depth
    ("k8s/prod/sa.yaml", "/prod", False),  # ... unless anchored with a leading `/`
    ("prod/sa.yaml", "/prod", True),
    ("sa.yaml", "**/sa.yaml", True),  # a leading `**/` also matches at the top
    ("a/b/sa.yaml", "**/b/*.yaml", True),
    ("a/b/sa.yaml", "./a", True),
    ("a/b/sa.yaml", "a/c", False),
])
def test_path_matches(rel, glob, hit):
    assert path_matches(rel, glob) is hit


def test_no_config_costs_no_schema_import(tmp_path):
    _write(tmp_path, {"trust.json": CUSTOM_AUD_TRUST})
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "xfedlint", "scan", "trust.json"],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1, proc.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert names and not names & {"fastjsonschema", "jsonschema", "tomllib", "tomli"}


def test_api_rejects_a_config_with_an_unknown_rule(tmp_path):
    from xfedlint import api

    with pytest.raises(UsageError, match=r"^configuration: severity: `AWS999` is not a rule ID"):
        api.scan((str(tmp_path),), config=Config(severity={"AWS999": "note"}))
