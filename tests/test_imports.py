"""`xfedlint scan` never pays for a cloud SDK, and heavy modules load only for the output that needs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TRUST = ROOT / "examples" / "seed-guide" / "1-eks" / "trust-policy.json"
CLOUD_SDKS = ("boto3", "botocore", "azure", "msgraph", "kiota_abstractions", "google", "kubernetes")


def _imported(*args: str) -> set:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "xfedlint", *args], capture_output=True,
                          text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert names, proc.stderr[-2000:]
    return names


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_scan_path_imports_no_cloud_sdk(fmt):
    names = _imported("scan", str(TRUST), "--format", fmt)
    assert not names & set(CLOUD_SDKS), names & set(CLOUD_SDKS)
    assert "jsonschema" not in names  # rule files are validated by the test suite, not on every run
    assert "sarif_om" not in names


def test_plain_text_output_does_not_import_rich():
    assert "rich" not in _imported("scan", str(TRUST))


_LIST_MODULES = """
import json, sys
from xfedlint import cli
try:
    cli.cli(sys.argv[1:], prog_name="xfedlint", standalone_mode=False)
finally:
    sys.stdout.flush()
    sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def _imported_modules(*args: str) -> set:
    """Every module loaded by the time the CLI is done (-X importtime misses some imported on demand)."""
    proc = subprocess.run([sys.executable, "-c", _LIST_MODULES, *args], capture_output=True, text=True, cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    marker = proc.stderr.rfind("MODULES ")
    assert marker >= 0, proc.stderr[-2000:]
    return set(json.loads(proc.stderr[marker + len("MODULES "):]))


def test_a_trust_policy_loads_only_the_aws_checks():
    """Check modules load when their rules have targets: one trust policy pays for neither the Kubernetes,
    Azure and GCP checks nor the correlation graph, and a one-file scan never starts worker processes."""
    names = _imported_modules("scan", str(TRUST))
    assert "xfedlint.checks.aws" in names
    loaded = {n for n in names if n.startswith(("xfedlint.checks.", "xfedlint.graph"))}
    assert not loaded & {"xfedlint.checks.k8s", "xfedlint.checks.azure", "xfedlint.checks.gcp",
                         "xfedlint.checks.xfed_k8s", "xfedlint.checks.xfed_gcp", "xfedlint.graph.build"}, loaded
    assert "multiprocessing" not in names and "xfedlint.parallel" not in names


def test_a_lone_manifest_loads_no_cloud_correlation_module():
    """A manifest with no cloud resource beside it (the pre-commit case) pays for the Kubernetes checks and
    the federation graph its token checks judge against, not for the AWS, Azure or GCP correlation checks
    (they need a scanned role, identity, provider or policy) nor the CEL parser."""
    manifest = ROOT / "examples" / "seed-guide" / "1-eks" / "scenario1-1-eks-to-aws.yaml"
    names = _imported_modules("scan", str(manifest))
    assert {"xfedlint.checks.k8s", "xfedlint.checks.xfed_k8s"} <= names
    assert not names & {"xfedlint.checks.xfed_aws", "xfedlint.checks.xfed_azure", "xfedlint.checks.xfed_gcp",
                        "xfedlint.semantics.cel", "xfedlint.semantics.cel_eval"}, names


def test_a_clean_json_file_does_not_load_pyyaml(tmp_path):
    """JSON is read with `json`; libyaml is needed only to place a finding (or to read YAML)."""
    clean = tmp_path / "role.json"
    clean.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
                     '"Resource": "*"}]}', encoding="utf-8")
    names = _imported_modules("scan", str(clean))
    assert "yaml" not in names and "xfedlint.loaders._yaml" not in names
    assert "hashlib" not in names  # fingerprints are computed for findings only
