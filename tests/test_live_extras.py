"""Without a cloud's SDK installed, `audit` names the extra to install: one line, no traceback."""

from __future__ import annotations

import sys

import pytest


@pytest.mark.parametrize("cloud,modules,extra", [
    ("aws", ("boto3", "botocore"), "xfedlint[aws]"),
    ("gcp", ("google.auth",), "xfedlint[gcp]"),
    ("azure", ("azure.identity",), "xfedlint[azure]"),
    ("k8s", ("kubernetes",), "xfedlint[k8s]"),
])
def test_missing_sdk_names_the_extra(run_cli, tmp_path, monkeypatch, cloud, modules, extra):
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    args = ["audit", "--cloud", cloud] + (["--gcp-project", "p"] if cloud == "gcp" else [])
    code, out, err = run_cli(*args, cwd=tmp_path)
    assert code == 2 and extra in err and "Traceback" not in err, err
