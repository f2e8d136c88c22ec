"""`xfedlint scan` never pays for a cloud SDK, and heavy modules load only for the output that needs them."""

from __future__ import annotations

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
